//! SQL for the email channel: per-mailbox read position (UIDVALIDITY and the last processed
//! UID), quarantined mail, the originals of stored customer mails and their attachments, and
//! the lookups threading needs.

use super::{Result, Store, is_unique_violation};
use crate::domain::{Millis, new_id, now_ms};
use sqlx::Row;

/// Mail that could not be taken in, as agents and admins see it (without the raw bytes).
#[derive(Debug, Clone, PartialEq)]
pub struct QuarantinedMail {
    pub quarantine_id: String,
    pub mailbox: String,
    pub uid_validity: i64,
    pub uid: i64,
    pub reason: String,
    pub sender: Option<String>,
    pub subject: Option<String>,
    pub rfc_message_id: Option<String>,
    pub size: i64,
    pub created_at: Millis,
}

/// What to quarantine.
#[derive(Debug, Clone)]
pub struct NewQuarantine<'a> {
    pub mailbox: &'a str,
    pub uid_validity: i64,
    pub uid: i64,
    pub reason: &'a str,
    pub sender: Option<&'a str>,
    pub subject: Option<&'a str>,
    pub rfc_message_id: Option<&'a str>,
    pub raw: &'a [u8],
}

/// The original of a stored customer mail.
#[derive(Debug, Clone, PartialEq)]
pub struct EmailOriginal {
    pub message_id: String,
    pub rfc_message_id: String,
    pub sender: String,
    pub subject: String,
    pub body: String,
    pub from_html: bool,
    pub attachments: Vec<AttachmentInfo>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AttachmentInfo {
    pub attachment_id: String,
    pub name: String,
    pub content_type: String,
    pub size: i64,
    /// False when the attachment was over the size cap: listed, not kept.
    pub kept: bool,
}

/// An attachment to keep with a stored mail.
#[derive(Debug, Clone)]
pub struct NewAttachment<'a> {
    pub name: &'a str,
    pub content_type: &'a str,
    pub size: i64,
    pub content: Option<&'a [u8]>,
}

/// An attachment of a mail, owned (it rides along with the turn that stores the mail).
#[derive(Debug, Clone)]
pub struct MailAttachment {
    pub name: String,
    pub content_type: String,
    pub size: i64,
    /// `None` when the attachment was over the size cap: listed, not kept.
    pub content: Option<Vec<u8>>,
}

/// The original of a customer mail, kept with the message it became: `original.message_id` is
/// ignored (the message's id is known only when the turn is written).
#[derive(Debug, Clone)]
pub struct MailOriginal {
    pub original: EmailOriginal,
    pub attachments: Vec<MailAttachment>,
}

/// What a channel keeps of an inbound message besides the message itself, written in the
/// transaction that stores the message (see `Turn::channel_state`).
#[derive(Debug, Clone, Default)]
pub struct ChannelState {
    /// The customer mail the message came from.
    pub mail: Option<MailOriginal>,
}

impl ChannelState {
    /// Writes the state for the stored message `message_id` inside `tx`.
    pub(super) async fn write(
        &self,
        tx: &mut sqlx::Transaction<'static, sqlx::Any>,
        message_id: &str,
        now: Millis,
    ) -> Result<()> {
        if let Some(mail) = &self.mail {
            let attachments: Vec<NewAttachment<'_>> = mail
                .attachments
                .iter()
                .map(|a| NewAttachment {
                    name: &a.name,
                    content_type: &a.content_type,
                    size: a.size,
                    content: a.content.as_deref(),
                })
                .collect();
            insert_original(tx, message_id, &mail.original, &attachments, now).await?;
        }
        Ok(())
    }
}

impl Store {
    /// (UIDVALIDITY, last processed UID) of a mailbox, if it was read before.
    pub async fn email_mailbox_state(&self, mailbox: &str) -> Result<Option<(i64, i64)>> {
        let row = sqlx::query("select uid_validity, last_uid from email_mailboxes where mailbox = $1")
            .bind(mailbox)
            .fetch_optional(&self.pool)
            .await?;
        Ok(match row {
            Some(r) => Some((r.try_get(0)?, r.try_get(1)?)),
            None => None,
        })
    }

    /// Records how far a mailbox has been processed.
    pub async fn set_email_mailbox_state(&self, mailbox: &str, uid_validity: i64, last_uid: i64) -> Result<()> {
        let now = now_ms();
        sqlx::query(
            "insert into email_mailboxes (mailbox, uid_validity, last_uid, created_at, updated_at)
             values ($1, $2, $3, $4, $4)
             on conflict (mailbox) do update
                set uid_validity = excluded.uid_validity, last_uid = excluded.last_uid, updated_at = excluded.updated_at",
        )
        .bind(mailbox)
        .bind(uid_validity)
        .bind(last_uid)
        .bind(now)
        .execute(self.writer())
        .await?;
        Ok(())
    }

    /// Keeps a mail that could not be taken in. Idempotent per (mailbox, UIDVALIDITY, UID).
    pub async fn quarantine_email(&self, q: &NewQuarantine<'_>) -> Result<()> {
        let result = sqlx::query(
            "insert into email_quarantine
               (quarantine_id, mailbox, uid_validity, uid, reason, sender, subject, rfc_message_id, size, raw, created_at)
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(new_id())
        .bind(q.mailbox)
        .bind(q.uid_validity)
        .bind(q.uid)
        .bind(q.reason)
        .bind(q.sender)
        .bind(q.subject)
        .bind(q.rfc_message_id)
        .bind(q.raw.len() as i64)
        .bind(q.raw.to_vec())
        .bind(now_ms())
        .execute(self.writer())
        .await;
        match result {
            Err(e) if is_unique_violation(&e) => Ok(()),
            other => other.map(|_| ()).map_err(Into::into),
        }
    }

    /// Quarantined mail, newest first.
    pub async fn email_quarantine(&self, limit: i64) -> Result<Vec<QuarantinedMail>> {
        let rows = sqlx::query(
            "select quarantine_id, mailbox, uid_validity, uid, reason, sender, subject, rfc_message_id, size, created_at
               from email_quarantine order by created_at desc, uid desc limit $1",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(QuarantinedMail {
                    quarantine_id: r.try_get("quarantine_id")?,
                    mailbox: r.try_get("mailbox")?,
                    uid_validity: r.try_get("uid_validity")?,
                    uid: r.try_get("uid")?,
                    reason: r.try_get("reason")?,
                    sender: r.try_get("sender")?,
                    subject: r.try_get("subject")?,
                    rfc_message_id: r.try_get("rfc_message_id")?,
                    size: r.try_get("size")?,
                    created_at: r.try_get("created_at")?,
                })
            })
            .collect()
    }

    /// The raw bytes of a quarantined mail.
    pub async fn quarantined_email_raw(&self, quarantine_id: &str) -> Result<Option<Vec<u8>>> {
        let row = sqlx::query("select raw from email_quarantine where quarantine_id = $1")
            .bind(quarantine_id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(match row {
            Some(r) => Some(r.try_get(0)?),
            None => None,
        })
    }

    /// Writes a channel's state for a message stored without a turn (a rating sent as a reply).
    pub async fn save_channel_state(&self, message_id: &str, state: &ChannelState) -> Result<()> {
        let mut tx = self.begin_write().await?;
        state.write(&mut tx, message_id, now_ms()).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Keeps the original of a stored customer mail and its attachments. Idempotent: a mail
    /// taken in again after a crash changes nothing.
    pub async fn save_email_original(&self, original: &EmailOriginal, attachments: &[NewAttachment<'_>]) -> Result<()> {
        let mut tx = self.begin_write().await?;
        insert_original(&mut tx, &original.message_id, original, attachments, now_ms()).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The original of a stored customer mail, with its attachment list.
    pub async fn email_original(&self, message_id: &str) -> Result<Option<EmailOriginal>> {
        let row = sqlx::query(
            "select message_id, rfc_message_id, sender, subject, body, from_html from email_originals
              where message_id = $1",
        )
        .bind(message_id)
        .fetch_optional(&self.pool)
        .await?;
        let Some(r) = row else { return Ok(None) };
        let attachments = sqlx::query(
            "select attachment_id, name, content_type, size, cast(case when content is null then 0 else 1 end as bigint) as kept
               from email_attachments where message_id = $1 order by position",
        )
        .bind(message_id)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|a| {
            Ok(AttachmentInfo {
                attachment_id: a.try_get("attachment_id")?,
                name: a.try_get("name")?,
                content_type: a.try_get("content_type")?,
                size: a.try_get("size")?,
                kept: a.try_get::<i64, _>("kept")? != 0,
            })
        })
        .collect::<Result<Vec<_>>>()?;
        Ok(Some(EmailOriginal {
            message_id: r.try_get("message_id")?,
            rfc_message_id: r.try_get("rfc_message_id")?,
            sender: r.try_get("sender")?,
            subject: r.try_get("subject")?,
            body: r.try_get("body")?,
            from_html: r.try_get::<i64, _>("from_html")? != 0,
            attachments,
        }))
    }

    /// (name, content type, content) of a kept attachment.
    pub async fn email_attachment(&self, attachment_id: &str) -> Result<Option<(String, String, Vec<u8>)>> {
        let row = sqlx::query(
            "select name, content_type, content from email_attachments where attachment_id = $1 and content is not null",
        )
        .bind(attachment_id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(match row {
            Some(r) => Some((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)),
            None => None,
        })
    }

    /// The conversation a stored message belongs to.
    pub async fn conversation_of_message(&self, message_id: &str) -> Result<Option<String>> {
        let row = sqlx::query("select conversation_id from messages where message_id = $1")
            .bind(message_id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(match row {
            Some(r) => Some(r.try_get(0)?),
            None => None,
        })
    }

    /// (channel, channel_meta JSON) of a conversation.
    pub async fn channel_meta(&self, conversation_id: &str) -> Result<Option<(String, String)>> {
        let row = sqlx::query("select channel, channel_meta from conversations where conversation_id = $1")
            .bind(conversation_id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(match row {
            Some(r) => Some((r.try_get(0)?, r.try_get(1)?)),
            None => None,
        })
    }
}

/// The original of the stored customer message `message_id` and its attachments, inside `tx`.
/// Idempotent: a mail taken in again changes nothing.
async fn insert_original(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    message_id: &str,
    original: &EmailOriginal,
    attachments: &[NewAttachment<'_>],
    now: Millis,
) -> Result<()> {
    sqlx::query(
        "insert into email_originals (message_id, rfc_message_id, sender, subject, body, from_html, created_at)
         values ($1, $2, $3, $4, $5, $6, $7)
         on conflict (message_id) do nothing",
    )
    .bind(message_id)
    .bind(&original.rfc_message_id)
    .bind(&original.sender)
    .bind(&original.subject)
    .bind(&original.body)
    .bind(i64::from(original.from_html))
    .bind(now)
    .execute(&mut **tx)
    .await?;
    for (position, a) in attachments.iter().enumerate() {
        sqlx::query(
            "insert into email_attachments
               (attachment_id, message_id, position, name, content_type, size, content, created_at)
             values ($1, $2, $3, $4, $5, $6, $7, $8)
             on conflict (message_id, position) do nothing",
        )
        .bind(new_id())
        .bind(message_id)
        .bind(position as i64)
        .bind(a.name)
        .bind(a.content_type)
        .bind(a.size)
        .bind(a.content.map(<[u8]>::to_vec))
        .bind(now)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}
