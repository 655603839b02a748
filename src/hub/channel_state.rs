//! A channel's own state, written by the hub: what rides along with a customer message (the
//! original mail and its attachments, in the transaction that stores the message), and what a
//! channel keeps without a message (a quarantined mail, a mailbox's read position).

use super::{Ack, HeldState, Hub, Inbound, Result};
use crate::store::{ChannelState, NewQuarantine};
use std::sync::Arc;

impl Hub {
    /// [`Hub::receive`], with the channel's state for the message written in the same commit.
    pub async fn receive_with_state(
        &self,
        conversation_id: &str,
        inbound: Inbound<'_>,
        state: ChannelState,
    ) -> Result<Ack> {
        let state = Arc::new(state);
        self.receive_inner(conversation_id, inbound, None, &mut HeldState::default(), &[], Some(&state)).await
    }

    /// Keeps a mail that could not be taken in (no message). Idempotent per mailbox position.
    pub async fn quarantine_mail(&self, mail: &NewQuarantine<'_>) -> Result<()> {
        Ok(self.store.quarantine_email(mail).await?)
    }

    /// (UIDVALIDITY, last processed UID) of a mailbox, if it was read before.
    pub async fn mailbox_position(&self, mailbox: &str) -> Result<Option<(i64, i64)>> {
        Ok(self.store.email_mailbox_state(mailbox).await?)
    }

    /// Records how far a mailbox has been processed.
    pub async fn set_mailbox_position(&self, mailbox: &str, uid_validity: i64, last_uid: i64) -> Result<()> {
        Ok(self.store.set_email_mailbox_state(mailbox, uid_validity, last_uid).await?)
    }
}
