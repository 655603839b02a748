//! Several `kituo serve` nodes on one PostgreSQL: every event a node publishes on its bus is
//! also announced with `NOTIFY kituo_events` carrying ids only; the other nodes read the rows
//! and publish them on their own buses. The database stays the source of truth: a notification
//! lost while a listener reconnects is repaired by seq/resume (widgets resume, consoles are
//! asked to reconnect and re-read).

use super::Hub;
use super::bus::{AgentEvent, Event};
use crate::domain::{Author, Presence};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

pub const CHANNEL: &str = "kituo_events";

/// What crosses nodes: ids, never content (NOTIFY payloads are limited to 8 kB).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "k", rename_all = "snake_case")]
pub enum Wire {
    Message { node: String, conversation_id: String, message_id: String },
    Conversation { node: String, conversation_id: String },
    Typing { node: String, conversation_id: String, author: Author, name: String, agent_id: Option<String> },
    Presence { node: String, agent_id: String, presence: Presence },
    Delivery { node: String, conversation_id: String, message_id: String, outbox_id: String, status: String },
    Revoked { node: String, agent_id: String, credential: Option<String> },
}

impl Wire {
    fn node(&self) -> &str {
        match self {
            Wire::Message { node, .. }
            | Wire::Conversation { node, .. }
            | Wire::Typing { node, .. }
            | Wire::Presence { node, .. }
            | Wire::Delivery { node, .. }
            | Wire::Revoked { node, .. } => node,
        }
    }

    /// The wire form of a local console event.
    pub fn of(node: &str, e: &AgentEvent) -> Wire {
        let node = node.to_string();
        match e {
            AgentEvent::Message { message, .. } => {
                Wire::Message { node, conversation_id: message.conversation_id.clone(), message_id: message.id.clone() }
            }
            AgentEvent::Conversation(s) => Wire::Conversation { node, conversation_id: s.id.clone() },
            AgentEvent::Typing { conversation_id, author, name, agent_id } => Wire::Typing {
                node,
                conversation_id: conversation_id.clone(),
                author: *author,
                name: name.clone(),
                agent_id: agent_id.clone(),
            },
            AgentEvent::Presence { agent_id, presence } => {
                Wire::Presence { node, agent_id: agent_id.clone(), presence: *presence }
            }
            AgentEvent::Revoked { agent_id, credential } => {
                Wire::Revoked { node, agent_id: agent_id.clone(), credential: credential.clone() }
            }
            AgentEvent::Delivery { conversation_id, message_id, outbox_id, status, .. } => Wire::Delivery {
                node,
                conversation_id: conversation_id.clone(),
                message_id: message_id.clone(),
                outbox_id: outbox_id.clone(),
                status: status.to_string(),
            },
        }
    }
}

/// Most notifications sent in one statement.
const NOTIFY_BATCH: usize = 64;

/// Sends this node's events to the others, after the commit that made them: one notification
/// per event, but every event waiting at that moment in one statement (one round trip).
pub async fn run_notifier(hub: Arc<Hub>, mut rx: mpsc::UnboundedReceiver<Wire>, token: CancellationToken) {
    let mut wires = Vec::with_capacity(NOTIFY_BATCH);
    loop {
        let received = tokio::select! {
            _ = token.cancelled() => return,
            n = rx.recv_many(&mut wires, NOTIFY_BATCH) => n,
        };
        if received == 0 {
            return;
        }
        let payloads: Vec<String> =
            wires.drain(..).map(|w| serde_json::to_string(&w).expect("wire events serialise")).collect();
        if let Err(e) = hub.store().notify_all(CHANNEL, &payloads).await {
            tracing::warn!(error = %e, "NOTIFY failed; other nodes catch up by resume");
        }
    }
}

/// Receives the other nodes' events (any node but `node`, this one) and publishes them locally.
pub async fn run_listener(hub: Arc<Hub>, node: String, database_url: String, token: CancellationToken) {
    loop {
        let mut listener = match sqlx::postgres::PgListener::connect(&database_url).await {
            Ok(l) => l,
            Err(e) => {
                tracing::warn!(error = %e, "cannot LISTEN; retrying");
                tokio::select! { _ = token.cancelled() => return, _ = tokio::time::sleep(std::time::Duration::from_secs(2)) => {} }
                continue;
            }
        };
        if let Err(e) = listener.listen(CHANNEL).await {
            tracing::warn!(error = %e, "LISTEN failed; retrying");
            continue;
        }
        // Anything announced while we were not listening is repaired by a resync.
        hub.bus().resync();
        loop {
            let n = tokio::select! {
                _ = token.cancelled() => return,
                n = listener.try_recv() => n,
            };
            match n {
                Ok(Some(n)) => match serde_json::from_str::<Wire>(n.payload()) {
                    Ok(w) if w.node() != node => apply(&hub, w).await,
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "unreadable cluster event"),
                },
                // The connection was lost and re-established inside sqlx: events may be missing.
                Ok(None) => hub.bus().resync(),
                Err(e) => {
                    tracing::warn!(error = %e, "cluster listener failed; reconnecting");
                    break;
                }
            }
        }
    }
}

async fn apply(hub: &Hub, w: Wire) {
    let bus = hub.bus();
    match w {
        Wire::Message { conversation_id, message_id, .. } => {
            let store = hub.store();
            let (Ok(Some(m)), Ok(Some(conv))) =
                (store.message_by_id(&message_id).await, store.conversation(&conversation_id).await)
            else {
                return;
            };
            let m = Arc::new(m);
            bus.publish(&conversation_id, Event::Message(m.clone()));
            bus.publish_agents_local(AgentEvent::Message { message: m, channel: conv.channel });
        }
        Wire::Conversation { conversation_id, .. } => {
            if let Ok(Some(mut s)) = hub.store().conversation_summary(&conversation_id).await {
                let _ = hub.with_sla(std::slice::from_mut(&mut s)).await;
                bus.publish_agents_local(AgentEvent::Conversation(Arc::new(s)));
            }
        }
        Wire::Typing { conversation_id, author, name, agent_id, .. } => {
            bus.publish(&conversation_id, Event::Typing { author });
            bus.publish_agents_local(AgentEvent::Typing { conversation_id, author, name, agent_id });
        }
        Wire::Presence { agent_id, presence, .. } => {
            bus.publish_agents_local(AgentEvent::Presence { agent_id, presence })
        }
        Wire::Revoked { agent_id, credential, .. } => {
            bus.publish_agents_local(AgentEvent::Revoked { agent_id, credential })
        }
        Wire::Delivery { conversation_id, message_id, outbox_id, status, .. } => {
            let status = match status.as_str() {
                "sent" => "sent",
                "failed" => "failed",
                _ => "retrying",
            };
            bus.publish_agents_local(AgentEvent::Delivery {
                conversation_id,
                message_id,
                outbox_id,
                status,
                error: None,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_events_are_small_json_with_ids() {
        let w = Wire::Message { node: "n1".into(), conversation_id: "c".into(), message_id: "m".into() };
        let s = serde_json::to_string(&w).unwrap();
        assert_eq!(s, r#"{"k":"message","node":"n1","conversation_id":"c","message_id":"m"}"#);
        assert_eq!(serde_json::from_str::<Wire>(&s).unwrap(), w);
    }
}
