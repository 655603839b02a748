//! One customer turn at a time per conversation on this node. A turn may act in the back
//! office (cancel an order, open a return) before it is committed, so two turns of one
//! conversation computed at once — a reconnecting widget resending, a replayed Discord message
//! or a re-read mail racing the first delivery — could both act on the same question.
//! Serialised, the second one sees what the first committed: the question answered, the
//! channel's message id already stored.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};
use tokio::sync::OwnedMutexGuard;

#[derive(Default)]
pub(super) struct TurnLocks {
    /// Conversations with a turn in flight (or waiting), plus released entries not yet pruned.
    held: Mutex<Held>,
}

#[derive(Default)]
struct Held {
    locks: HashMap<String, Weak<tokio::sync::Mutex<()>>>,
    /// Released entries are pruned when the map reaches this size, which then becomes twice the
    /// live count: amortised O(1) per turn (a scan per turn cost ~1 µs per 100 conversations in
    /// flight), and the map stays within twice its live size.
    prune_at: usize,
}

/// The map is not pruned below this many entries.
const MIN_PRUNE_AT: usize = 64;

impl TurnLocks {
    /// Waits until no other turn of `conversation_id` runs on this node; the guard releases it.
    pub(super) async fn lock(&self, conversation_id: &str) -> OwnedMutexGuard<()> {
        let lock = {
            let mut held = self.held.lock().expect("turn locks poisoned: a holder panicked");
            if let Some(lock) = held.locks.get(conversation_id).and_then(Weak::upgrade) {
                lock
            } else {
                if held.locks.len() >= held.prune_at {
                    held.drop_released();
                }
                let lock = Arc::new(tokio::sync::Mutex::new(()));
                held.locks.insert(conversation_id.to_string(), Arc::downgrade(&lock));
                lock
            }
        };
        lock.lock_owned().await
    }

    /// Drops the entries of conversations no turn holds and gives back the map's spare room.
    /// For a quiet node: each entry left from a busy hour pins the page it was allocated on, so
    /// the allocator cannot return that page (see `memory`).
    pub(super) fn prune(&self) {
        let mut held = self.held.lock().expect("turn locks poisoned: a holder panicked");
        held.drop_released();
        held.locks.shrink_to_fit();
    }
}

impl Held {
    /// Drops the entries no turn holds or waits for; the next prune comes at twice the live count.
    fn drop_released(&mut self) {
        self.locks.retain(|_, w| w.strong_count() > 0);
        self.prune_at = (2 * self.locks.len()).max(MIN_PRUNE_AT);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn turns_of_one_conversation_wait_for_each_other_and_others_do_not() {
        use futures_util::FutureExt;
        let locks = TurnLocks::default();
        let first = locks.lock("c1").await;
        let other = locks.lock("c2").now_or_never();
        assert!(other.is_some(), "another conversation is not held up");
        let mut second = Box::pin(locks.lock("c1"));
        assert!(second.as_mut().now_or_never().is_none(), "the same conversation waits");
        drop(first);
        let _second = second.await;
        drop(other);
        assert_eq!(locks.held.lock().unwrap().locks.values().filter(|w| w.strong_count() > 0).count(), 1);
    }

    #[tokio::test]
    async fn released_entries_are_pruned() {
        let locks = TurnLocks::default();
        for i in 0..10 * MIN_PRUNE_AT {
            drop(locks.lock(&format!("c{i}")).await);
        }
        let _kept = locks.lock("kept").await;
        assert!(locks.held.lock().unwrap().locks.len() <= MIN_PRUNE_AT);
    }

    #[tokio::test]
    async fn a_quiet_prune_keeps_only_held_conversations() {
        let locks = TurnLocks::default();
        for i in 0..MIN_PRUNE_AT - 1 {
            drop(locks.lock(&format!("c{i}")).await);
        }
        let kept = locks.lock("kept").await;
        assert_eq!(locks.held.lock().unwrap().locks.len(), MIN_PRUNE_AT, "below the threshold nothing was pruned");
        locks.prune();
        let held: Vec<String> = locks.held.lock().unwrap().locks.keys().cloned().collect();
        assert_eq!(held, ["kept"]);
        drop(kept);
        drop(locks.lock("kept").await);
    }
}
