//! SQL for the durable outbox (replies waiting for delivery on email or Discord) and for
//! finding contacts and conversations by their channel identities.

use super::conversations::message_from_row;
use super::{Result, Store};
pub use crate::domain::OutboxItem;
use crate::domain::{Channel, MessageView, Millis, Verification, new_id, now_ms};
use sqlx::Row;

/// Delivery state of a message sent through the outbox.
#[derive(Debug, Clone, PartialEq)]
pub struct DeliveryState {
    pub outbox_id: String,
    pub message_id: String,
    pub status: String,
    pub attempts: i64,
    pub last_error: Option<String>,
}

impl Store {
    /// Contact id of the identity, if known.
    pub async fn contact_by_identity(&self, kind: &str, value: &str) -> Result<Option<String>> {
        let row = sqlx::query(
            "select contact_id from contact_identities where kind = $1 and value = $2 order by created_at limit 1",
        )
        .bind(kind)
        .bind(value)
        .fetch_optional(&self.pool)
        .await?;
        Ok(match row {
            Some(r) => Some(r.try_get(0)?),
            None => None,
        })
    }

    /// A new contact known by one identity.
    pub async fn create_contact(
        &self,
        kind: &str,
        value: &str,
        verification: Verification,
        name: Option<&str>,
    ) -> Result<String> {
        let id = new_id();
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        sqlx::query("insert into contacts (contact_id, name, created_at) values ($1, $2, $3)")
            .bind(&id)
            .bind(name)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "insert into contact_identities (contact_id, kind, value, verification, created_at) values ($1, $2, $3, $4, $5)",
        )
        .bind(&id)
        .bind(kind)
        .bind(value)
        .bind(verification.as_str())
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// A new conversation owned by the bot.
    pub async fn create_conversation(
        &self,
        contact_id: &str,
        channel: Channel,
        thread_key: Option<&str>,
        channel_meta: &str,
    ) -> Result<String> {
        let id = new_id();
        let now = now_ms();
        sqlx::query(
            "insert into conversations
               (conversation_id, contact_id, channel, status, locale, last_seq, dialogue_state, thread_key, channel_meta,
                created_at, updated_at)
             values ($1, $2, $3, 'bot', 'en', 0, '{}', $4, $5, $6, $6)",
        )
        .bind(&id)
        .bind(contact_id)
        .bind(channel.as_str())
        .bind(thread_key)
        .bind(channel_meta)
        .bind(now)
        .execute(self.writer())
        .await?;
        Ok(id)
    }

    /// The newest conversation of a channel with this thread key.
    pub async fn conversation_by_thread_key(&self, channel: Channel, key: &str) -> Result<Option<String>> {
        let row = sqlx::query(
            "select conversation_id from conversations where channel = $1 and thread_key = $2
              order by created_at desc limit 1",
        )
        .bind(channel.as_str())
        .bind(key)
        .fetch_optional(&self.pool)
        .await?;
        Ok(match row {
            Some(r) => Some(r.try_get(0)?),
            None => None,
        })
    }

    /// The message (and so the conversation) stored with this external id.
    pub async fn message_by_external_id(&self, external_id: &str) -> Result<Option<MessageView>> {
        let row = sqlx::query(
            "select message_id, conversation_id, seq, author, author_name, body, private, created_at
               from messages where external_id = $1",
        )
        .bind(external_id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(message_from_row).transpose()
    }

    /// Takes up to `limit` due deliveries of a channel, leasing them for `lease_ms` so another
    /// worker (or node) does not take them meanwhile.
    pub async fn claim_outbox(&self, channel: Channel, lease_ms: i64, limit: i64) -> Result<Vec<OutboxItem>> {
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        let lock = match self.backend {
            super::Backend::Postgres => " for update of o skip locked",
            super::Backend::Sqlite => "",
        };
        // Replies of one conversation go out in the order they were written (seq).
        let sql = format!(
            "select o.outbox_id from outbox o join messages m on m.message_id = o.message_id
              where o.channel = $1 and o.status = 'pending' and o.next_attempt_at <= $2
              order by o.next_attempt_at, m.conversation_id, m.seq limit $3{lock}"
        );
        let ids: Vec<(String,)> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(channel.as_str())
            .bind(now)
            .bind(limit)
            .fetch_all(&mut *tx)
            .await?;
        for (id,) in &ids {
            sqlx::query("update outbox set next_attempt_at = $1, attempts = attempts + 1 where outbox_id = $2")
                .bind(now + lease_ms)
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        let mut items = Vec::with_capacity(ids.len());
        for (id,) in ids {
            let row = sqlx::query(
                "select o.outbox_id, o.attempts, o.channel, o.payload, m.message_id, m.conversation_id, m.seq, m.author, m.author_name,
                        m.body, m.private, m.created_at, c.thread_key, c.channel_meta, ct.name as contact_name,
                        (select i.value from contact_identities i where i.contact_id = c.contact_id and i.kind = c.channel
                          order by i.created_at limit 1) as recipient
                   from outbox o
                   join messages m on m.message_id = o.message_id
                   join conversations c on c.conversation_id = o.conversation_id
                   join contacts ct on ct.contact_id = c.contact_id
                  where o.outbox_id = $1",
            )
            .bind(&id)
            .fetch_one(&self.pool)
            .await?;
            items.push(OutboxItem {
                outbox_id: row.try_get("outbox_id")?,
                attempts: row.try_get("attempts")?,
                message: message_from_row(&row)?,
                channel: row.try_get("channel")?,
                thread_key: row.try_get("thread_key")?,
                channel_meta: row.try_get("channel_meta")?,
                recipient: row.try_get("recipient")?,
                contact_name: row.try_get("contact_name")?,
                payload: row.try_get("payload")?,
            });
        }
        Ok(items)
    }

    /// Marks a delivery sent and, when the send changed it, the conversation's channel data
    /// (`channel_meta`, e.g. the email References chain): one transaction.
    pub async fn outbox_sent(&self, item: &OutboxItem, channel_meta: Option<&str>) -> Result<()> {
        let mut tx = self.begin_write().await?;
        if let Some(meta) = channel_meta {
            sqlx::query("update conversations set channel_meta = $1 where conversation_id = $2")
                .bind(meta)
                .bind(&item.message.conversation_id)
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query(
            "update outbox set status = 'sent', sent_at = $1, last_error = null, payload = null where outbox_id = $2",
        )
        .bind(now_ms())
        .bind(&item.outbox_id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Records a failed attempt: retried at `retry_at`, or given up (`failed`) when `None`.
    pub async fn outbox_attempt_failed(&self, outbox_id: &str, error: &str, retry_at: Option<Millis>) -> Result<()> {
        sqlx::query(
            "update outbox set status = $1, next_attempt_at = coalesce($2, next_attempt_at), last_error = $3,
                    payload = case when $2 is null then null else payload end
              where outbox_id = $4",
        )
        .bind(if retry_at.is_some() { "pending" } else { "failed" })
        .bind(retry_at)
        .bind(error)
        .bind(outbox_id)
        .execute(self.writer())
        .await?;
        Ok(())
    }

    /// An agent's retry of a failed delivery: due now, attempts reset. False if not failed.
    pub async fn outbox_retry(&self, outbox_id: &str) -> Result<bool> {
        let r = sqlx::query(
            "update outbox set status = 'pending', attempts = 0, next_attempt_at = $1 where outbox_id = $2 and status = 'failed'",
        )
        .bind(now_ms())
        .bind(outbox_id)
        .execute(self.writer())
        .await?;
        Ok(r.rows_affected() > 0)
    }

    pub async fn delivery_states(&self, conversation_id: &str) -> Result<Vec<DeliveryState>> {
        let rows = sqlx::query(
            "select outbox_id, message_id, status, attempts, last_error from outbox where conversation_id = $1
              order by created_at",
        )
        .bind(conversation_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(DeliveryState {
                    outbox_id: r.try_get(0)?,
                    message_id: r.try_get(1)?,
                    status: r.try_get(2)?,
                    attempts: r.try_get(3)?,
                    last_error: r.try_get(4)?,
                })
            })
            .collect()
    }

    /// (pending, failed) outbox rows: the backlog.
    pub async fn outbox_backlog(&self) -> Result<(i64, i64)> {
        let row = sqlx::query(
            "select (select count(*) from outbox where status = 'pending'), (select count(*) from outbox where status = 'failed')",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok((row.try_get(0)?, row.try_get(1)?))
    }
}

/// Queues delivery of a stored message on a channel (inside the transaction that stored it).
pub(super) async fn enqueue(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    message: &MessageView,
    channel: &str,
) -> Result<()> {
    let now = now_ms();
    sqlx::query(
        "insert into outbox (outbox_id, message_id, conversation_id, channel, status, attempts, next_attempt_at, created_at)
         values ($1, $2, $3, $4, 'pending', 0, $5, $5)",
    )
    .bind(new_id())
    .bind(&message.id)
    .bind(&message.conversation_id)
    .bind(channel)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
