-- Failed staff logins, one row per failure and throttle key ("pair:<account>|<address>",
-- "ip:<address>", "acct:<account>"), counted in sliding windows so the login throttle holds on
-- every node and after a restart. Rows older than the longest window are pruned as new ones come.
create table login_failures (
    login_failure_id text primary key,
    throttle_key text not null,
    failed_at bigint not null,
    created_at bigint not null
);
create index login_failures_key_time on login_failures (throttle_key, failed_at);
create index login_failures_time on login_failures (failed_at);
