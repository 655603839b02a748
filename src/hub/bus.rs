//! In-process fan-out of conversation events to the sockets watching that conversation.
//! One broadcast channel per conversation with watchers, so a message wakes only its own
//! conversation's sockets, not every socket on the node.

use crate::domain::{Author, MessageView, Presence};
use crate::store::ConversationSummary;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
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

/// Per conversation. A slow socket that falls further behind gets `Lagged` and re-reads from the
/// store, so nothing is lost; the buffer is preallocated per watched conversation, so it is kept
/// small (10,000 idle widgets: 64 slots cost ~20 MB more than 16).
const CAPACITY: usize = 16;
const AGENT_CAPACITY: usize = 1024;

pub struct Bus {
    // A std mutex: held only for map operations, never across an await.
    channels: Mutex<HashMap<String, broadcast::Sender<Event>>>,
    agents: broadcast::Sender<AgentEvent>,
    /// Set on PostgreSQL: this node's events also go to the other nodes (see `cluster`).
    remote: std::sync::OnceLock<(String, tokio::sync::mpsc::UnboundedSender<super::cluster::Wire>)>,
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
    pub fn subscribe_agents(&self) -> broadcast::Receiver<AgentEvent> {
        self.agents.subscribe()
    }

    /// Publishes to this node's consoles and, in a cluster, to the other nodes.
    pub fn publish_agents(&self, event: AgentEvent) {
        if let Some((node, tx)) = self.remote.get() {
            let _ = tx.send(super::cluster::Wire::of(node, &event));
        }
        let _ = self.agents.send(event);
    }

    /// True when something on this node watches agent events (a console, staff announcements).
    pub fn agents_watching(&self) -> bool {
        self.agents.receiver_count() > 0
    }

    /// Tells the other nodes that a conversation changed (they load its summary themselves).
    pub fn conversation_changed_remote(&self, conversation_id: &str) {
        if let Some((node, tx)) = self.remote.get() {
            let _ = tx.send(super::cluster::Wire::Conversation {
                node: node.clone(),
                conversation_id: conversation_id.into(),
            });
        }
    }

    /// Publishes to this node's consoles only (events that came from another node).
    pub fn publish_agents_local(&self, event: AgentEvent) {
        let _ = self.agents.send(event);
    }

    pub fn set_remote(&self, node: String, tx: tokio::sync::mpsc::UnboundedSender<super::cluster::Wire>) {
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
