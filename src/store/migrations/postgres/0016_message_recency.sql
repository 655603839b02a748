-- Messages newest first: a search for a common word walks this index and stops after the
-- newest matches it ranks, instead of reading every match from the GIN index and sorting them
-- (see store/search_pg.rs).
create index messages_created on messages (created_at);
