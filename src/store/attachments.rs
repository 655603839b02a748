//! SQL for attachments: the metadata row of each stored file (the bytes are on disk, see
//! `hub::channel_files`), its link to the message that carries it, and the lookups that put
//! attachments on messages (uploads and files kept from inbound mail) and decide who may read one.

use super::{Result, Store};
use crate::domain::{AttachmentRef, MessageView, now_ms};
use sqlx::Row;
use std::collections::HashMap;

/// A file to record, after its bytes were checked and written.
#[derive(Debug, Clone)]
pub struct NewStoredFile {
    pub attachment_id: String,
    pub conversation_id: String,
    pub content_type: String,
    pub size: i64,
    pub name: String,
    pub sha256: String,
    /// `"visitor"` or the uploading agent's id.
    pub uploaded_by: String,
}

/// A stored file's row: what serving it needs.
#[derive(Debug, Clone)]
pub struct StoredFile {
    pub attachment: AttachmentRef,
    pub conversation_id: String,
    pub message_id: Option<String>,
    pub uploaded_by: String,
    pub sha256: String,
}

impl Store {
    /// Records an uploaded file, not yet carried by any message.
    pub async fn insert_attachment(&self, f: &NewStoredFile) -> Result<()> {
        sqlx::query(
            "insert into attachments (attachment_id, conversation_id, message_id, content_type, size, name, sha256,
                                      uploaded_by, created_at)
             values ($1, $2, null, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&f.attachment_id)
        .bind(&f.conversation_id)
        .bind(&f.content_type)
        .bind(f.size)
        .bind(&f.name)
        .bind(&f.sha256)
        .bind(&f.uploaded_by)
        .bind(now_ms())
        .execute(self.writer())
        .await?;
        Ok(())
    }

    /// Gives the not-yet-sent files `ids` of `conversation_id` to `message_id`; returns the ones
    /// linked (files of another conversation, or already sent, are left alone).
    pub async fn link_attachments(
        &self,
        conversation_id: &str,
        message_id: &str,
        ids: &[String],
    ) -> Result<Vec<AttachmentRef>> {
        let mut tx = self.begin_write().await?;
        let linked = link_in(&mut tx, conversation_id, message_id, ids).await?;
        tx.commit().await?;
        Ok(linked)
    }

    /// One stored file, or `None`.
    pub async fn attachment(&self, attachment_id: &str) -> Result<Option<StoredFile>> {
        let row = sqlx::query(
            "select attachment_id, name, content_type, size, conversation_id, message_id, uploaded_by, sha256
               from attachments where attachment_id = $1",
        )
        .bind(attachment_id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            Ok(StoredFile {
                attachment: attachment_ref(&r)?,
                conversation_id: r.try_get("conversation_id")?,
                message_id: r.try_get("message_id")?,
                uploaded_by: r.try_get("uploaded_by")?,
                sha256: r.try_get("sha256")?,
            })
        })
        .transpose()
    }

    /// Puts each message's stored files on it (history reads; live messages carry them already).
    pub async fn fill_attachments(&self, messages: Vec<&mut MessageView>) -> Result<()> {
        let ids: Vec<String> = messages.iter().map(|m| m.id.clone()).collect();
        let mut found = self.attachments_of(&ids).await?;
        for m in messages {
            if let Some(files) = found.remove(&m.id) {
                m.attachments = files;
            }
        }
        Ok(())
    }

    /// The files carried by each of `message_ids` (messages without any are absent), in upload
    /// order.
    pub async fn attachments_of(&self, message_ids: &[String]) -> Result<HashMap<String, Vec<AttachmentRef>>> {
        let mut out: HashMap<String, Vec<AttachmentRef>> = HashMap::new();
        // Bounded statements: a long history is asked in slices.
        for chunk in message_ids.chunks(200) {
            let marks: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
            let sql = format!(
                "select message_id, attachment_id, name, content_type, size from attachments
                  where message_id in ({}) order by created_at, attachment_id",
                marks.join(", ")
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for id in chunk {
                q = q.bind(id);
            }
            for r in q.fetch_all(&self.pool).await? {
                out.entry(r.try_get("message_id")?).or_default().push(attachment_ref(&r)?);
            }
            // Files kept from inbound mail (the email channel stores them; staff download them).
            let sql = format!(
                "select message_id, attachment_id, name, content_type, size from email_attachments
                  where content is not null and message_id in ({}) order by position",
                marks.join(", ")
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for id in chunk {
                q = q.bind(id);
            }
            for r in q.fetch_all(&self.pool).await? {
                out.entry(r.try_get("message_id")?).or_default().push(file_ref(&r, "/api/email/attachments/")?);
            }
        }
        Ok(out)
    }
}

/// [`Store::link_attachments`] inside a transaction (the one that stores the message, so a
/// reply is never delivered before its files are on it).
pub(super) async fn link_in(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    conversation_id: &str,
    message_id: &str,
    ids: &[String],
) -> Result<Vec<AttachmentRef>> {
    let mut linked = Vec::with_capacity(ids.len());
    for id in ids {
        let row = sqlx::query(
            "update attachments set message_id = $1
              where attachment_id = $2 and conversation_id = $3 and message_id is null
             returning attachment_id, name, content_type, size",
        )
        .bind(message_id)
        .bind(id)
        .bind(conversation_id)
        .fetch_optional(&mut **tx)
        .await?;
        if let Some(r) = row {
            linked.push(attachment_ref(&r)?);
        }
    }
    Ok(linked)
}

fn attachment_ref(r: &sqlx::any::AnyRow) -> Result<AttachmentRef> {
    file_ref(r, "/api/attachments/")
}

fn file_ref(r: &sqlx::any::AnyRow, route: &str) -> Result<AttachmentRef> {
    let id: String = r.try_get("attachment_id")?;
    Ok(AttachmentRef {
        url: format!("{route}{id}"),
        id,
        name: r.try_get("name")?,
        content_type: r.try_get("content_type")?,
        size: r.try_get("size")?,
    })
}
