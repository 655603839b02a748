//! Bulk loading of conversation history: contacts with an email identity, their conversations
//! and messages, one multi-row insert per table and chunk, all in one transaction per call.
//! Used by `kituo-bench search` to build 10 k – 1 M message databases in minutes; the search
//! indexes fill through the same triggers (SQLite) and generated columns (PostgreSQL) as every
//! other write, so what is measured is what the hub's writes produce.

use super::{Placeholders, Result, Store, value_tuples};
use crate::domain::{Millis, new_id, new_ordered_id};

/// One conversation to load, with its contact and messages (oldest first).
#[derive(Debug, Clone)]
pub struct BulkConversation {
    pub contact_name: String,
    pub email: String,
    pub channel: &'static str,
    /// `bot`, `queued`, `assigned` (no assignee) or `resolved`.
    pub status: &'static str,
    pub created_at: Millis,
    /// (author, text) pairs; author is `customer`, `bot` or `agent`. One second apart.
    pub messages: Vec<(&'static str, String)>,
}

/// Rows per multi-row insert: far under both backends' placeholder limits.
const CHUNK: usize = 1000;

impl Store {
    /// Loads `batch` in one transaction; returns the new conversation ids in order.
    pub async fn bulk_load(&self, batch: &[BulkConversation]) -> Result<Vec<String>> {
        let mut tx = self.begin_write().await?;
        let ids: Vec<(String, String)> = batch.iter().map(|_| (new_id(), new_id())).collect();
        for (chunk, chunk_ids) in batch.chunks(CHUNK).zip(ids.chunks(CHUNK)) {
            let sql = format!(
                "insert into contacts (contact_id, name, created_at) values {}",
                value_tuples(Placeholders::Numbered, chunk.len(), 3)
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for (c, (contact, _)) in chunk.iter().zip(chunk_ids) {
                q = q.bind(contact.as_str()).bind(c.contact_name.as_str()).bind(c.created_at);
            }
            q.execute(&mut *tx).await?;

            let sql = format!(
                "insert into contact_identities (contact_id, kind, value, verification, created_at) values {}",
                value_tuples(Placeholders::Numbered, chunk.len(), 5)
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for (c, (contact, _)) in chunk.iter().zip(chunk_ids) {
                q = q
                    .bind(contact.as_str())
                    .bind("email")
                    .bind(c.email.as_str())
                    .bind("email_channel")
                    .bind(c.created_at);
            }
            q.execute(&mut *tx).await?;

            let sql = format!(
                "insert into conversations (conversation_id, contact_id, channel, status, locale, last_seq,
                                            queued_at, resolved_at, created_at, updated_at) values {}",
                value_tuples(Placeholders::Numbered, chunk.len(), 10)
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for (c, (contact, conversation)) in chunk.iter().zip(chunk_ids) {
                let last = c.created_at + c.messages.len() as i64 * 1000;
                q = q
                    .bind(conversation.as_str())
                    .bind(contact.as_str())
                    .bind(c.channel)
                    .bind(c.status)
                    .bind("en")
                    .bind(c.messages.len() as i64)
                    .bind((c.status == "queued").then_some(last))
                    .bind((c.status == "resolved").then_some(last))
                    .bind(c.created_at)
                    .bind(last);
            }
            q.execute(&mut *tx).await?;
        }
        let rows: Vec<(&str, i64, &str, &str, Millis)> = batch
            .iter()
            .zip(&ids)
            .flat_map(|(c, (_, conversation))| {
                c.messages.iter().enumerate().map(move |(i, (author, text))| {
                    (conversation.as_str(), i as i64 + 1, *author, text.as_str(), c.created_at + i as i64 * 1000)
                })
            })
            .collect();
        for chunk in rows.chunks(CHUNK) {
            let sql = format!(
                "insert into messages (message_id, conversation_id, seq, author, author_name, body, private, created_at)
                 values {}",
                value_tuples(Placeholders::Numbered, chunk.len(), 8)
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for (conversation, seq, author, text, at) in chunk {
                q = q
                    .bind(new_ordered_id())
                    .bind(*conversation)
                    .bind(*seq)
                    .bind(*author)
                    .bind(*author)
                    .bind(*text)
                    .bind(0_i64)
                    .bind(*at);
            }
            q.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(ids.into_iter().map(|(_, conversation)| conversation).collect())
    }

    /// Refreshes the query planner's statistics, as a database in service has them (PostgreSQL's
    /// autovacuum, SQLite's `analyze`): a freshly bulk-loaded database has none. (No SQLite
    /// `vacuum`: it may renumber the rowids the FTS tables follow.)
    pub async fn analyze(&self) -> Result<()> {
        let sql = match self.backend {
            super::Backend::Sqlite => "analyze",
            super::Backend::Postgres => "vacuum analyze",
        };
        sqlx::query(sql).execute(self.writer()).await?;
        Ok(())
    }
}
