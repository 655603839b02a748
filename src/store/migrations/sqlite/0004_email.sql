-- The email channel: where each IMAP mailbox was read up to, mail that could not be taken in
-- (kept for agents and admins), and the original of every stored customer mail with its
-- attachments (what the console shows is stripped of quotes and signatures).

create table email_mailboxes (
    mailbox text primary key,
    uid_validity bigint not null,
    last_uid bigint not null,
    created_at bigint not null,
    updated_at bigint not null
);

create table email_quarantine (
    quarantine_id text primary key,
    mailbox text not null,
    uid_validity bigint not null,
    uid bigint not null,
    reason text not null,
    sender text,
    subject text,
    rfc_message_id text,
    size bigint not null,
    raw blob not null,
    created_at bigint not null
);
create unique index email_quarantine_uid on email_quarantine (mailbox, uid_validity, uid);
create index email_quarantine_created on email_quarantine (created_at);

create table email_originals (
    message_id text primary key references messages (message_id),
    rfc_message_id text not null,
    sender text not null,
    subject text not null,
    body text not null,
    from_html bigint not null,
    created_at bigint not null
);

create table email_attachments (
    attachment_id text primary key,
    message_id text not null references messages (message_id),
    position bigint not null,
    name text not null,
    content_type text not null,
    size bigint not null,
    content blob,
    created_at bigint not null
);
create unique index email_attachments_position on email_attachments (message_id, position);
