-- SQLite indexes messages for search beside the writer (search_pending); PostgreSQL's search
-- column is generated with the row. This migration only keeps the numbers aligned.
select 1;
