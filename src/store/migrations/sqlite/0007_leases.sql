-- Leases: work that must run on one node at a time (a mailbox reader, the Discord gateway).
create table leases (
    name text primary key,
    holder text not null,
    expires_at bigint not null
);
