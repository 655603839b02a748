-- Messages are indexed for search beside the writer, not inside each customer's commit (issue
-- 16). The FTS5 insert was about a sixth of the server's CPU per message and a third of the pages
-- each commit wrote: FTS5 writes a new segment for every transaction that touches it. Now a new
-- message only notes its row number in search_pending (a right-edge insert into a small table);
-- `Store::index_pending` moves what is pending into messages_fts in larger transactions: every
-- ~100 ms while turns are written, and before every search, so a search still finds every
-- stored message. Deletes stay immediate (an erased message must leave the index at once).
--
-- search_pending has no created_at: it is a queue of row numbers, emptied within a second.
create table search_pending (
    message_rowid integer primary key
);

drop trigger messages_fts_insert;
create trigger messages_search_pending after insert on messages begin
    insert or ignore into search_pending (message_rowid) values (new.rowid);
end;

-- A changed body leaves the index at once and is indexed again with the next batch.
drop trigger messages_fts_update;
create trigger messages_fts_update after update of body on messages begin
    delete from messages_fts where rowid = old.rowid;
    insert or ignore into search_pending (message_rowid) values (new.rowid);
end;
