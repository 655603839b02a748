//! Several `kituo serve` nodes on one PostgreSQL: every event a node publishes on its bus is
//! also announced with `NOTIFY kituo_events` carrying ids only; the other nodes read the rows
//! and publish them on their own buses. The database stays the source of truth: a notification
//! lost while a listener reconnects is repaired by seq/resume (widgets resume, consoles are
//! asked to reconnect and re-read). The wire form of an event is the bus's ([`Wire`]); this
//! module depends on `bus`, never the other way.

use super::Hub;
use super::bus::{AgentEvent, Event, Wire};
use std::sync::Arc;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

pub const CHANNEL: &str = "kituo_events";

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
