-- Proof attempts limited across conversations, nodes and restarts (issue #11, items 1 and 2).

-- One row per failed proof and per key it is counted under: scope 'address' (client address or
-- channel identity), 'email' (the claimed email) or 'record' ('order:1001', 'invoice:INV-1').
-- A row is written before the check (so concurrent guesses see each other) and deleted again when
-- the proof succeeds or is refused unchecked; what remains are failures. Rows older than the
-- window are pruned.
create table proof_failures (
    attempt_id text not null,
    scope text not null,
    subject text not null,
    created_at bigint not null,
    primary key (attempt_id, scope)
);
create index proof_failures_subject on proof_failures (scope, subject, created_at);
create index proof_failures_created on proof_failures (created_at);

-- One-time codes sent to the email on a record. Only an HMAC of the code is kept.
create table proof_codes (
    proof_code_id text primary key,
    conversation_id text not null references conversations (conversation_id),
    email text not null,
    record text not null,
    code_hash text not null,
    expires_at bigint not null,
    tries bigint not null default 0,
    -- The attempt that used the code (a recomputed turn may read it again).
    used_by text,
    created_at bigint not null
);
create index proof_codes_conversation on proof_codes (conversation_id, created_at);
create index proof_codes_email on proof_codes (email, created_at);

-- A mail that is not a conversation reply (the code mail): JSON {to, subject, body}, cleared once
-- the mail is sent or given up.
alter table outbox add column payload text;
