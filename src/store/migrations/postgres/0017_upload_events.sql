-- Widget uploads, one row per upload and limit key ("visitor:<conversation>", "ip:<address>"),
-- counted in a sliding window so the upload limit holds on every node and after a restart.
-- Rows older than the window are pruned as new ones come.
create table upload_events (
    upload_event_id text primary key,
    limit_key text not null,
    uploaded_at bigint not null,
    created_at bigint not null
);
create index upload_events_key_time on upload_events (limit_key, uploaded_at);
create index upload_events_time on upload_events (uploaded_at);
