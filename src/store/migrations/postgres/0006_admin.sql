-- Admin: versioned rule sets, intent hit counts, messages the bot did not understand,
-- settings edited in the browser, and the audit log.

create table rule_versions (
    version bigint primary key,
    author text not null,
    note text not null,
    bundle text not null,
    created_at bigint not null
);

create table intent_hits (
    intent text primary key,
    hits bigint not null default 0
);

create table bot_misses (
    miss_id text primary key,
    text_key text not null unique,
    sample text not null,
    count bigint not null default 0,
    dismissed integer not null default 0,
    last_at bigint not null
);

create table settings (
    key text primary key,
    value text not null,
    updated_at bigint not null
);

create table audit_log (
    audit_id text primary key,
    at bigint not null,
    actor text not null,
    action text not null,
    target text not null,
    details text not null default '{}'
);
create index audit_log_at on audit_log (at);
create index audit_log_action on audit_log (action, at);
