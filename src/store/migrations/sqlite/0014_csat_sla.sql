-- Customer satisfaction (one request per resolution, rated once) and SLA targets and breaches.

-- One row per resolution. The rating link in the resolution mail carries csat_id signed with the
-- key in signing_keys; agent_id, team and channel are copied at resolution time for the reports.
create table csat_requests (
    csat_id text primary key,
    conversation_id text not null references conversations (conversation_id),
    message_id text not null,
    channel text not null,
    agent_id text,
    team text,
    rating bigint,
    comment text,
    created_at bigint not null,
    rated_at bigint
);
create index csat_requests_conversation on csat_requests (conversation_id, created_at);
create index csat_requests_created on csat_requests (created_at);

-- Server-side secrets that sign links (name 'csat'); never shown in any API.
create table signing_keys (
    name text primary key,
    secret text not null,
    created_at bigint not null
);

-- team '' is the default for every team without its own target; priority is low|normal|high|urgent.
create table sla_targets (
    team text not null,
    priority text not null,
    first_response_secs bigint,
    resolution_secs bigint,
    created_at bigint not null,
    primary key (team, priority)
);

alter table conversations add column sla_first_response_breached_at bigint;
alter table conversations add column sla_resolution_breached_at bigint;
