-- Agents, sessions, API tokens, teams, canned responses; queue fields on conversations.

create table agents (
    agent_id text primary key,
    email text not null unique,
    name text not null,
    role text not null,
    password_hash text not null,
    capacity bigint not null default 5,
    presence text not null default 'offline',
    presence_changed_at bigint not null,
    active integer not null default 1,
    last_assigned_at bigint not null default 0,
    created_at bigint not null
);

create table teams (
    name text primary key,
    created_at bigint not null
);

create table team_members (
    team text not null references teams (name),
    agent_id text not null references agents (agent_id),
    created_at bigint not null,
    primary key (team, agent_id)
);

-- session_hash = sha256 of the cookie value; the cookie itself is never stored.
create table sessions (
    session_hash text primary key,
    agent_id text not null references agents (agent_id),
    csrf_token text not null,
    expires_at bigint not null,
    created_at bigint not null
);

create table api_tokens (
    token_id text primary key,
    token_hash text not null unique,
    name text not null,
    role text not null,
    agent_id text not null references agents (agent_id),
    created_at bigint not null,
    revoked_at bigint
);

create table canned_responses (
    shortcut text primary key,
    body text not null,
    created_at bigint not null
);

alter table conversations add column assignee_id text;
alter table conversations add column team text;
alter table conversations add column priority bigint not null default 0;
alter table conversations add column queued_at bigint;
alter table conversations add column summary text;
alter table conversations add column handoff text;
alter table conversations add column agent_replied integer not null default 0;
alter table conversations add column first_response_at bigint;
alter table conversations add column resolved_at bigint;
alter table conversations add column unread bigint not null default 0;
alter table conversations add column customer_messages bigint not null default 0;

create index conversations_queue on conversations (status, priority, queued_at);
create index conversations_assignee on conversations (assignee_id, status);
create index conversations_created on conversations (created_at);
