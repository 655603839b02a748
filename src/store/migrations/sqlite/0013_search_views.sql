-- Full-text search (FTS5), saved views per agent, per-agent notification preferences.
--
-- messages_fts holds its own copy of each message's text with its conversation id, keyed by the
-- message's rowid: a search reads only this table (no join back to messages). contacts_fts holds
-- one document per contact: the name and every channel identity except the web one (a hash of
-- the visitor token, nothing a person would type). Both are kept current by the triggers below,
-- so every writer (hub, importer, tests) is covered. The tokenizer splits on anything that is not
-- a letter or digit, like the PostgreSQL side: "SO-2026-0042" is the phrase "so 2026 0042" and
-- an address "amina@example.com" the phrase "amina example com".
-- Rowids of tables without an integer primary key can change on VACUUM: after one, rebuild
-- with `delete from messages_fts; insert into messages_fts (rowid, body, conversation_id)
-- select rowid, body, conversation_id from messages;` (and the same for contacts_fts).

create virtual table messages_fts using fts5 (
    body,
    conversation_id unindexed,
    tokenize = 'unicode61 remove_diacritics 2'
);

create trigger messages_fts_insert after insert on messages begin
    insert into messages_fts (rowid, body, conversation_id) values (new.rowid, new.body, new.conversation_id);
end;
create trigger messages_fts_delete after delete on messages begin
    delete from messages_fts where rowid = old.rowid;
end;
create trigger messages_fts_update after update of body on messages begin
    delete from messages_fts where rowid = old.rowid;
    insert into messages_fts (rowid, body, conversation_id) values (new.rowid, new.body, new.conversation_id);
end;

insert into messages_fts (rowid, body, conversation_id) select rowid, body, conversation_id from messages;

create virtual table contacts_fts using fts5 (
    doc,
    contact_id unindexed,
    tokenize = 'unicode61 remove_diacritics 2'
);

-- The document of one contact (used by every trigger below through the same select).
create view contact_search_docs as
select c.rowid as contact_rowid, c.contact_id,
       trim(coalesce(c.name, '') || ' ' || coalesce((select group_concat(i.value, ' ') from contact_identities i
                                                      where i.contact_id = c.contact_id and i.kind <> 'web'), '')) as doc
  from contacts c;

create trigger contacts_fts_insert after insert on contacts begin
    insert into contacts_fts (rowid, doc, contact_id)
    select contact_rowid, doc, contact_id from contact_search_docs where contact_id = new.contact_id;
end;
create trigger contacts_fts_name after update of name on contacts begin
    delete from contacts_fts where rowid = new.rowid;
    insert into contacts_fts (rowid, doc, contact_id)
    select contact_rowid, doc, contact_id from contact_search_docs where contact_id = new.contact_id;
end;
create trigger contacts_fts_delete after delete on contacts begin
    delete from contacts_fts where rowid = old.rowid;
end;
create trigger identities_fts_insert after insert on contact_identities when new.kind <> 'web' begin
    delete from contacts_fts where rowid = (select rowid from contacts where contact_id = new.contact_id);
    insert into contacts_fts (rowid, doc, contact_id)
    select contact_rowid, doc, contact_id from contact_search_docs where contact_id = new.contact_id;
end;
create trigger identities_fts_delete after delete on contact_identities when old.kind <> 'web' begin
    delete from contacts_fts where rowid = (select rowid from contacts where contact_id = old.contact_id);
    insert into contacts_fts (rowid, doc, contact_id)
    select contact_rowid, doc, contact_id from contact_search_docs where contact_id = old.contact_id;
end;
create trigger identities_fts_update after update on contact_identities begin
    delete from contacts_fts where rowid in (select rowid from contacts where contact_id in (old.contact_id, new.contact_id));
    insert into contacts_fts (rowid, doc, contact_id)
    select contact_rowid, doc, contact_id from contact_search_docs where contact_id in (old.contact_id, new.contact_id);
end;

insert into contacts_fts (rowid, doc, contact_id) select contact_rowid, doc, contact_id from contact_search_docs;

-- A saved view: a name, the search text and the filters (a JSON object of the list's query
-- parameters), private to the agent who saved it.
create table saved_views (
    view_id text primary key,
    agent_id text not null references agents (agent_id) on delete cascade,
    name text not null,
    query text not null default '',
    filters text not null default '{}',
    created_at bigint not null,
    unique (agent_id, name)
);

-- What the console notifies an agent of (flags 0/1); no row = the defaults.
create table notification_prefs (
    agent_id text primary key references agents (agent_id) on delete cascade,
    assigned_to_me integer not null,
    customer_message integer not null,
    new_in_queue integer not null,
    sound integer not null,
    updated_at bigint not null,
    created_at bigint not null
);
