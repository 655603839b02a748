//! In-process fan-out of conversation events to the sockets watching that conversation.
//! One broadcast channel per conversation with watchers, so a message wakes only its own
//! conversation's sockets, not every socket on the node.

use crate::domain::{Author, MessageView, Presence};
use crate::store::ConversationSummary;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use tokio::sync::broadcast;

#[derive(Debug, Clone)]
pub enum Event {
    Message(Arc<MessageView>),
    Typing {
        author: Author,
    },
    /// Events may have been missed (a cluster listener reconnected): re-read from the store.
    Resync,
}

/// What agent consoles watch: every conversation's changes, messages (notes included),
/// typing and presence.
#[derive(Debug, Clone)]
pub enum AgentEvent {
    Conversation(Arc<ConversationSummary>),
    Message {
        message: Arc<MessageView>,
        channel: String,
    },
    Typing {
        conversation_id: String,
        author: Author,
        name: String,
        agent_id: Option<String>,
    },
    Presence {
        agent_id: String,
        presence: Presence,
    },
    /// Credentials stopped being valid: an agent deactivated (`credential` None), a session logged
    /// out or a token revoked. Console sockets opened with them close.
    Revoked {
        agent_id: String,
        credential: Option<String>,
    },
    /// An outbox delivery changed: `sent`, `retrying` or `failed`.
    Delivery {
        conversation_id: String,
        message_id: String,
        outbox_id: String,
        status: &'static str,
        error: Option<String>,
    },
}

/// One published console event as every console receives it: the event and its frame,
/// encoded by the first console that sends it and reused by the others (twenty consoles
/// online: one JSON encoding per event, not twenty).
#[derive(Debug)]
pub struct Published {
    pub event: AgentEvent,
    frame: OnceLock<Arc<str>>,
}

impl Published {
    /// The event's frame, encoded by `encode` the first time any receiver asks.
    pub fn frame(&self, encode: impl FnOnce(&AgentEvent) -> String) -> Arc<str> {
        self.frame.get_or_init(|| encode(&self.event).into()).clone()
    }
}

/// What crosses nodes (see `cluster`): ids, never content (NOTIFY payloads are limited to 8 kB).
/// `Hello` ("I am here", every heartbeat) and `Welcome` ("I left out events you may need since I
/// last heard you": `to` re-reads) are the nodes' own messages and carry no event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "k", rename_all = "snake_case")]
pub enum Wire {
    Message { node: String, conversation_id: String, message_id: String },
    Conversation { node: String, conversation_id: String },
    Typing { node: String, conversation_id: String, author: Author, name: String, agent_id: Option<String> },
    Presence { node: String, agent_id: String, presence: Presence },
    Delivery { node: String, conversation_id: String, message_id: String, outbox_id: String, status: String },
    Revoked { node: String, agent_id: String, credential: Option<String> },
    Hello { node: String },
    Welcome { node: String, to: String },
}

impl Wire {
    pub(super) fn node(&self) -> &str {
        match self {
            Wire::Message { node, .. }
            | Wire::Conversation { node, .. }
            | Wire::Typing { node, .. }
            | Wire::Presence { node, .. }
            | Wire::Delivery { node, .. }
            | Wire::Revoked { node, .. }
            | Wire::Hello { node }
            | Wire::Welcome { node, .. } => node,
        }
    }

    /// True for the nodes' own messages (hello, welcome), which carry no event.
    pub(super) fn is_control(&self) -> bool {
        matches!(self, Wire::Hello { .. } | Wire::Welcome { .. })
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

/// Per conversation. A slow socket that falls further behind gets `Lagged` and re-reads from the
/// store, so nothing is lost; the buffer is preallocated per watched conversation, so it is kept
/// small (10,000 idle widgets: 64 slots cost ~20 MB more than 16).
const CAPACITY: usize = 16;
const AGENT_CAPACITY: usize = 1024;

pub struct Bus {
    // A std mutex: held only for map operations, never across an await.
    channels: Mutex<HashMap<String, broadcast::Sender<Event>>>,
    agents: broadcast::Sender<Arc<Published>>,
    /// Set on PostgreSQL: this node's events also go to the other nodes (see `cluster`).
    remote: std::sync::OnceLock<(String, tokio::sync::mpsc::UnboundedSender<Wire>)>,
    /// Bumped when events may have been missed; consoles reconnect and re-read.
    resyncs: broadcast::Sender<()>,
}

impl Default for Bus {
    fn default() -> Bus {
        Bus {
            channels: Mutex::default(),
            agents: broadcast::channel(AGENT_CAPACITY).0,
            remote: std::sync::OnceLock::new(),
            resyncs: broadcast::channel(4).0,
        }
    }
}

impl Bus {
    pub fn subscribe_agents(&self) -> broadcast::Receiver<Arc<Published>> {
        self.agents.subscribe()
    }

    /// Publishes to this node's consoles and, in a cluster, to the other nodes.
    pub fn publish_agents(&self, event: AgentEvent) {
        if let Some((node, tx)) = self.remote.get() {
            let _ = tx.send(Wire::of(node, &event));
        }
        self.publish_agents_local(event);
    }

    /// True when something on this node watches agent events (a console, staff announcements).
    pub fn agents_watching(&self) -> bool {
        self.agents.receiver_count() > 0
    }

    /// Tells the other nodes that a conversation changed (they load its summary themselves).
    pub fn conversation_changed_remote(&self, conversation_id: &str) {
        if let Some((node, tx)) = self.remote.get() {
            let _ = tx.send(Wire::Conversation { node: node.clone(), conversation_id: conversation_id.into() });
        }
    }

    /// Publishes to this node's consoles only (events that came from another node).
    pub fn publish_agents_local(&self, event: AgentEvent) {
        let _ = self.agents.send(Arc::new(Published { event, frame: OnceLock::new() }));
    }

    pub fn set_remote(&self, node: String, tx: tokio::sync::mpsc::UnboundedSender<Wire>) {
        let _ = self.remote.set((node, tx));
    }

    pub fn subscribe_resync(&self) -> broadcast::Receiver<()> {
        self.resyncs.subscribe()
    }

    /// Tells every socket on this node that events may have been missed.
    pub fn resync(&self) {
        let _ = self.resyncs.send(());
        let map = self.channels.lock().expect("bus mutex poisoned: a holder panicked");
        for tx in map.values() {
            let _ = tx.send(Event::Resync);
        }
    }

    pub fn subscribe(&self, conversation_id: &str) -> broadcast::Receiver<Event> {
        let mut map = self.channels.lock().expect("bus mutex poisoned: a holder panicked");
        map.entry(conversation_id.to_string()).or_insert_with(|| broadcast::channel(CAPACITY).0).subscribe()
    }

    pub fn publish(&self, conversation_id: &str, event: Event) {
        let map = self.channels.lock().expect("bus mutex poisoned: a holder panicked");
        if let Some(tx) = map.get(conversation_id) {
            // No receivers is fine: nobody is watching right now.
            let _ = tx.send(event);
        }
    }

    /// Gives back the spare room of the conversations' map (for a quiet node: see `memory`).
    pub fn shrink(&self) {
        self.channels.lock().expect("bus mutex poisoned: a holder panicked").shrink_to_fit();
    }

    /// Drops the conversation's channel once its last watcher is gone.
    pub fn release(&self, conversation_id: &str) {
        let mut map = self.channels.lock().expect("bus mutex poisoned: a holder panicked");
        if map.get(conversation_id).is_some_and(|tx| tx.receiver_count() == 0) {
            map.remove(conversation_id);
        }
    }

    pub fn watched_conversations(&self) -> usize {
        self.channels.lock().expect("bus mutex poisoned: a holder panicked").len()
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
