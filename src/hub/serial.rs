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
    /// Only conversations with a turn in flight (or waiting) hold an entry.
    held: Mutex<HashMap<String, Weak<tokio::sync::Mutex<()>>>>,
}

impl TurnLocks {
    /// Waits until no other turn of `conversation_id` runs on this node; the guard releases it.
    pub(super) async fn lock(&self, conversation_id: &str) -> OwnedMutexGuard<()> {
        let lock = {
            let mut held = self.held.lock().expect("turn locks poisoned: a holder panicked");
            held.retain(|_, w| w.strong_count() > 0);
            match held.get(conversation_id).and_then(Weak::upgrade) {
                Some(lock) => lock,
                None => {
                    let lock = Arc::new(tokio::sync::Mutex::new(()));
                    held.insert(conversation_id.to_string(), Arc::downgrade(&lock));
                    lock
                }
            }
        };
        lock.lock_owned().await
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
        assert_eq!(locks.held.lock().unwrap().values().filter(|w| w.strong_count() > 0).count(), 1);
    }
}
