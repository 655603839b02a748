//! In-process fan-out of conversation events to the sockets watching that conversation.
//! One broadcast channel per conversation with watchers, so a message wakes only its own
//! conversation's sockets, not every socket on the node.

use crate::domain::{Author, MessageView};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::broadcast;

#[derive(Debug, Clone)]
pub enum Event {
    Message(Arc<MessageView>),
    Typing { author: Author },
}

const CAPACITY: usize = 64;

#[derive(Default)]
pub struct Bus {
    // A std mutex: held only for map operations, never across an await.
    channels: Mutex<HashMap<String, broadcast::Sender<Event>>>,
}

impl Bus {
    pub fn subscribe(&self, conversation_id: &str) -> broadcast::Receiver<Event> {
        let mut map = self
            .channels
            .lock()
            .expect("bus mutex poisoned: a holder panicked");
        map.entry(conversation_id.to_string())
            .or_insert_with(|| broadcast::channel(CAPACITY).0)
            .subscribe()
    }

    pub fn publish(&self, conversation_id: &str, event: Event) {
        let map = self
            .channels
            .lock()
            .expect("bus mutex poisoned: a holder panicked");
        if let Some(tx) = map.get(conversation_id) {
            // No receivers is fine: nobody is watching right now.
            let _ = tx.send(event);
        }
    }

    /// Drops the conversation's channel once its last watcher is gone.
    pub fn release(&self, conversation_id: &str) {
        let mut map = self
            .channels
            .lock()
            .expect("bus mutex poisoned: a holder panicked");
        if map
            .get(conversation_id)
            .is_some_and(|tx| tx.receiver_count() == 0)
        {
            map.remove(conversation_id);
        }
    }

    pub fn watched_conversations(&self) -> usize {
        self.channels
            .lock()
            .expect("bus mutex poisoned: a holder panicked")
            .len()
    }
}
