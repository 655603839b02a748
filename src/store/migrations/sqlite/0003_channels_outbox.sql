-- Channels beyond the web widget: external message ids (dedupe), per-conversation channel
-- data for replies and threading, and the durable outbox replies are delivered from.

alter table messages add column external_id text;
create unique index messages_external on messages (external_id);

-- thread_key: how the channel finds an open conversation again (e.g. "dm:<discord user id>").
alter table conversations add column thread_key text;
-- channel_meta: JSON the channel adapter keeps for replies (subject, references, thread ids).
alter table conversations add column channel_meta text not null default '{}';
create index conversations_thread on conversations (channel, thread_key);

create table outbox (
    outbox_id text primary key,
    message_id text not null references messages (message_id),
    conversation_id text not null references conversations (conversation_id),
    channel text not null,
    status text not null,
    attempts bigint not null default 0,
    next_attempt_at bigint not null,
    last_error text,
    created_at bigint not null,
    sent_at bigint
);
create index outbox_due on outbox (channel, status, next_attempt_at);
create index outbox_message on outbox (message_id);
