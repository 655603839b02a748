-- PostgreSQL adds an index on messages (created_at) for search. SQLite's search reads its FTS
-- index newest first (by rowid) and needs none; this migration only keeps the numbers aligned.
select 1;
