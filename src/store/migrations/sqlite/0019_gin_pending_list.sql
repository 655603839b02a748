-- PostgreSQL moves its GIN index's updates beside the writer (fastupdate on, cleaned in bulk);
-- SQLite did the same for FTS5 in 0018. This migration only keeps the numbers aligned.
select 1;
