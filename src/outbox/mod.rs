//! Delivery of replies on channels that are not live sockets (email, Discord). A reply and its
//! outbox row are written in one transaction by the hub; a worker per channel claims due rows
//! (leased, so a crash or a second node never sends one twice while the lease holds), sends
//! them through the channel's [`ChannelSender`], and marks them sent — or retries with
//! exponential backoff, and after [`MAX_ATTEMPTS`] marks them failed, visible to agents with a
//! retry action. It reads and writes through the hub, never the store.

use crate::domain::OutboxItem;
use crate::domain::{Channel, now_ms};
use crate::hub::Hub;
use crate::hub::bus::AgentEvent;
use futures_util::future::BoxFuture;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

pub const MAX_ATTEMPTS: i64 = 8;
/// How long a claimed delivery is reserved for the worker that took it.
const LEASE_MS: i64 = 60_000;
const BATCH: i64 = 20;

/// What a successful send may change on the conversation.
#[derive(Debug, Default)]
pub struct Sent {
    /// New channel data for the conversation (e.g. the email References chain).
    pub channel_meta: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// Worth trying again later (relay down, rate limited, timeout).
    #[error("{0}")]
    Retry(String),
    /// Will never work (no address, rejected recipient).
    #[error("{0}")]
    Permanent(String),
}

/// A channel's way out.
pub trait ChannelSender: Send + Sync + 'static {
    fn channel(&self) -> Channel;
    fn send<'a>(&'a self, item: &'a OutboxItem) -> BoxFuture<'a, Result<Sent, SendError>>;
}

/// Backoff before attempt `attempts + 1`: 2 s, 4 s, 8 s … capped at 10 minutes.
pub fn backoff(attempts: i64) -> Duration {
    Duration::from_secs(2u64.saturating_pow(attempts.clamp(1, 20) as u32).min(600))
}

/// Drains the channel's outbox until `token` is cancelled.
pub async fn run_worker(hub: Arc<Hub>, sender: Arc<dyn ChannelSender>, token: CancellationToken) {
    let wake = hub.outbox_signal();
    let channel = sender.channel();
    loop {
        let notified = wake.notified();
        let claimed = match hub.claim_deliveries(channel, LEASE_MS, BATCH).await {
            Ok(items) => items,
            Err(e) => {
                tracing::warn!(error = %e, channel = channel.as_str(), "claiming outbox rows failed");
                Vec::new()
            }
        };
        let idle = claimed.is_empty();
        for item in claimed {
            if token.is_cancelled() {
                return;
            }
            deliver(&hub, sender.as_ref(), &item).await;
        }
        if idle {
            tokio::select! {
                _ = token.cancelled() => return,
                _ = notified => {}
                _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            }
        }
    }
}

#[tracing::instrument(skip_all, fields(outbox_id = %item.outbox_id, conversation_id = %item.message.conversation_id))]
async fn deliver(hub: &Hub, sender: &dyn ChannelSender, item: &OutboxItem) {
    let (status, error) = match sender.send(item).await {
        Ok(sent) => match hub.delivery_sent(item, sent.channel_meta.as_deref()).await {
            Ok(()) => ("sent", None),
            Err(e) => {
                tracing::error!(error = %e, "sent, but could not mark it (it may be sent again)");
                return;
            }
        },
        Err(e) => {
            let give_up = matches!(e, SendError::Permanent(_)) || item.attempts >= MAX_ATTEMPTS;
            let retry_at = (!give_up).then(|| now_ms() + backoff(item.attempts).as_millis() as i64);
            tracing::warn!(error = %e, attempts = item.attempts, give_up, "delivery failed");
            if let Err(e2) = hub.delivery_failed(item, &e.to_string(), retry_at).await {
                tracing::error!(error = %e2, "cannot record a failed delivery");
            }
            (if give_up { "failed" } else { "retrying" }, Some(e.to_string()))
        }
    };
    hub.metrics.count("kituo_outbox_deliveries_total", &format!("channel=\"{}\",result=\"{status}\"", item.channel), 1);
    hub.bus().publish_agents(AgentEvent::Delivery {
        conversation_id: item.message.conversation_id.clone(),
        message_id: item.message.id.clone(),
        outbox_id: item.outbox_id.clone(),
        status,
        error,
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_caps() {
        assert_eq!(backoff(1), Duration::from_secs(2));
        assert_eq!(backoff(3), Duration::from_secs(8));
        assert_eq!(backoff(30), Duration::from_secs(600));
    }
}
