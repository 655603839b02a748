//! What a turn is computed from (the conversation row and the contact's proven emails), held by
//! the socket that owns the conversation so a message needs no read before the bot answers.
//!
//! The copy is kept current from the writes its own turns make (the committed turn says exactly
//! what changed) and dropped when anything else may have changed the conversation: a message
//! event with a seq beyond the copy (an agent's reply, another tab, another node), a resync or a
//! lagged event stream, an identify on the socket, or an identity added on this node outside a
//! turn ([`Hub::identities_changed`]). Two things make a stale copy harmless: the commit only
//! succeeds while `last_seq`, status, assignee and team are still what the turn was computed
//! against (otherwise the turn is recomputed from a fresh read), and proven emails only ever
//! grow in strength outside turns, so an old copy can only withhold a privilege, never grant one.

use super::Hub;
use super::bus::Event;
use crate::domain::ConversationStatus;
use crate::store::{ConversationRow, ProvenEmails, Turn};
use tokio::sync::broadcast::error::RecvError;

/// A socket's copy of its conversation's turn state (empty until the first message; boxed, so
/// an idle socket pays one pointer for it).
#[derive(Debug, Default)]
pub struct HeldState(Option<Box<Held>>);

#[derive(Debug)]
struct Held {
    conv: ConversationRow,
    emails: ProvenEmails,
    /// [`Hub::identities_changed`] when the copy was read.
    identities: u64,
}

impl HeldState {
    /// Follows the conversation's event stream: drops the copy when the stream shows a write
    /// the copy does not know about, or that events may have been missed.
    pub fn note(&mut self, event: &Result<Event, RecvError>) {
        match event {
            Ok(Event::Message(m)) => self.observe(m.seq),
            Ok(Event::Resync) | Err(RecvError::Lagged(_)) => self.forget(),
            Ok(_) | Err(RecvError::Closed) => {}
        }
    }

    /// A stored message of the conversation was seen on the bus: a seq beyond the copy means
    /// someone else wrote.
    pub fn observe(&mut self, seq: i64) {
        if self.0.as_ref().is_some_and(|h| seq > h.conv.last_seq) {
            self.0 = None;
        }
    }

    /// Drops the copy (events may have been missed, or an identity was added).
    pub fn forget(&mut self) {
        self.0 = None;
    }

    /// The copy for this conversation, if still believed current; taken out (a turn that fails
    /// to commit leaves nothing behind).
    pub(super) fn take(&mut self, conversation_id: &str, identities: u64) -> Option<(ConversationRow, ProvenEmails)> {
        let held = *self.0.take()?;
        (held.conv.conversation_id == conversation_id && held.identities == identities)
            .then_some((held.conv, held.emails))
    }

    /// Keeps what the committed `turn` made of `conv` and `emails`, exactly as the commit wrote
    /// it (see `store::turns`).
    pub(super) fn keep(&mut self, mut conv: ConversationRow, mut emails: ProvenEmails, turn: &Turn, identities: u64) {
        conv.last_seq = turn.new_seq();
        conv.status = turn.to.status;
        conv.assignee_id.clone_from(&turn.to.assignee);
        conv.team.clone_from(&turn.to.team);
        conv.locale = turn.locale;
        conv.dialogue_state.clone_from(&turn.dialogue_state);
        if turn.to.status == ConversationStatus::Bot {
            conv.agent_replied = false;
        }
        for identity in turn.identities.iter().filter(|i| i.kind == "email") {
            // The upsert sets the identity's verification to the turn's (order email): proven,
            // and no longer strong if it was.
            emails.strong.retain(|e| *e != identity.value);
            if let Err(at) = emails.verified.binary_search(&identity.value) {
                emails.verified.insert(at, identity.value.clone());
            }
        }
        self.0 = Some(Box::new(Held { conv, emails, identities }));
    }
}

impl Hub {
    /// A widget message ([`Hub::customer_message_from`]) from a socket that holds its
    /// conversation's turn state: no read when the copy is current, and the copy moves with the
    /// committed turn.
    pub async fn customer_message_held(
        &self,
        conversation_id: &str,
        text: &str,
        client_msg_id: Option<&str>,
        client: std::net::IpAddr,
        held: &mut HeldState,
    ) -> super::Result<super::Ack> {
        let inbound = super::Inbound { text, client_msg_id, external_id: None, channel_meta: None };
        self.receive_inner(conversation_id, inbound, Some(client), held, &[], None).await
    }

    /// Bumped whenever this node adds an identity outside a turn; held copies older than the
    /// bump are read again.
    pub fn identities_changed(&self) -> u64 {
        self.identities.load(std::sync::atomic::Ordering::Acquire)
    }

    pub(super) fn bump_identities(&self) {
        self.identities.fetch_add(1, std::sync::atomic::Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ownership::Ownership;
    use crate::domain::{Locale, Verification};
    use crate::store::{NewIdentity, NewMessage};

    fn row() -> ConversationRow {
        ConversationRow {
            conversation_id: "c1".into(),
            contact_id: "k1".into(),
            channel: "web".into(),
            status: ConversationStatus::Bot,
            locale: Locale::default(),
            last_seq: 4,
            dialogue_state: "{}".into(),
            assignee_id: None,
            team: None,
            agent_replied: false,
        }
    }

    fn turn(conv: &ConversationRow) -> Turn {
        let own = Ownership { status: ConversationStatus::Bot, assignee: None, team: None };
        let mut turn = Turn::plain(
            conv,
            vec![
                NewMessage::ours(crate::domain::Author::Customer, "Customer", "hi", false),
                NewMessage::ours(crate::domain::Author::Bot, "Kituo", "hello", false),
            ],
        );
        turn.channel = "web".into();
        turn.from = own.clone();
        turn.to = Ownership { status: ConversationStatus::Queued, ..own };
        turn.locale = Locale::Sw;
        turn.dialogue_state = r#"{"pending":"email"}"#.into();
        turn.identities =
            vec![NewIdentity { kind: "email", value: "b@example.com".into(), verification: Verification::OrderEmail }];
        turn
    }

    #[test]
    fn a_committed_turn_moves_the_copy_as_the_commit_moved_the_row() {
        let conv = row();
        let emails = ProvenEmails { verified: vec!["c@example.com".into()], strong: vec!["b@example.com".into()] };
        let t = turn(&conv);
        let mut held = HeldState::default();
        held.keep(conv, emails, &t, 7);
        let (conv, emails) = held.take("c1", 7).expect("held after a commit");
        assert_eq!(conv.last_seq, 6);
        assert_eq!(conv.status, ConversationStatus::Queued);
        assert_eq!(conv.locale, Locale::Sw);
        assert_eq!(conv.dialogue_state, r#"{"pending":"email"}"#);
        assert_eq!(emails.verified, vec!["b@example.com".to_string(), "c@example.com".to_string()]);
        assert!(emails.strong.is_empty(), "an order-email proof replaces a stronger verification");
        assert!(held.take("c1", 7).is_none(), "taken out");
    }

    #[test]
    fn the_copy_is_dropped_when_someone_else_wrote() {
        let conv = row();
        let t = turn(&conv);
        let mut held = HeldState::default();
        held.keep(conv.clone(), ProvenEmails::default(), &t, 1);
        held.observe(6); // our own turn's messages
        assert!(held.take("c1", 1).is_some());
        held.keep(conv.clone(), ProvenEmails::default(), &t, 1);
        held.observe(7); // an agent's reply
        assert!(held.take("c1", 1).is_none());
        held.keep(conv.clone(), ProvenEmails::default(), &t, 1);
        assert!(held.take("c1", 2).is_none(), "an identity was added on this node");
        held.keep(conv, ProvenEmails::default(), &t, 1);
        assert!(held.take("other", 1).is_none());
    }
}
