//! The outbox's and the outbound channels' way to the state: claiming due deliveries, marking
//! them sent (with the channel data the send changed, in one write) or failed, and the few reads
//! a channel needs to address a reply (the conversation's locale and channel data). The outbox
//! worker and `ChannelSender`s call these, never the store.

use super::{Hub, Result};
use crate::domain::{Channel, Locale, Millis, OutboxItem};

impl Hub {
    /// Takes up to `limit` due deliveries of `channel`, leased for `lease_ms` so no other worker
    /// (or node) sends them meanwhile.
    pub async fn claim_deliveries(&self, channel: Channel, lease_ms: i64, limit: i64) -> Result<Vec<OutboxItem>> {
        Ok(self.store.claim_outbox(channel, lease_ms, limit).await?)
    }

    /// Marks a delivery sent, with the conversation's new channel data when the send changed it.
    pub async fn delivery_sent(&self, item: &OutboxItem, channel_meta: Option<&str>) -> Result<()> {
        Ok(self.store.outbox_sent(item, channel_meta).await?)
    }

    /// Records a failed attempt: retried at `retry_at`, or given up when `None`.
    pub async fn delivery_failed(&self, item: &OutboxItem, error: &str, retry_at: Option<Millis>) -> Result<()> {
        Ok(self.store.outbox_attempt_failed(&item.outbox_id, error, retry_at).await?)
    }

    /// The conversation's locale (the language its replies are written in); `None` when the
    /// conversation no longer exists.
    pub async fn conversation_locale(&self, conversation_id: &str) -> Result<Option<Locale>> {
        Ok(self.store.conversation(conversation_id).await?.map(|c| c.locale))
    }

    /// The conversation's channel data (JSON) as stored now; `None` when it does not exist.
    pub async fn channel_meta(&self, conversation_id: &str) -> Result<Option<String>> {
        Ok(self.store.channel_meta(conversation_id).await?.map(|(_, json)| json))
    }
}
