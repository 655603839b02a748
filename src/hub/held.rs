//! What a turn is computed from (the conversation row and the contact's proven emails), held by
//! the socket that owns the conversation so a message needs no read before the bot answers.
//!
//! The copy is kept current from the writes its own turns make (the committed turn says exactly
//! what changed) and dropped when anything else may have changed the conversation: a message
//! event with a seq beyond the copy (an agent's reply, another tab, another node), a resync or a
//! lagged event stream, or an identity added to the conversation's contact on this node outside
//! a turn (another tab's identify, a verified sender: [`IdentityGenerations`]; the socket's own
//! identify moves the copy instead, see [`HeldState::vouched`]). Two things make a stale
//! copy harmless: the commit only succeeds while `last_seq`, status, assignee and team are still
//! what the turn was computed against (otherwise the turn is recomputed from a fresh read), and
//! proven emails only ever grow in strength outside turns, so an old copy can only withhold a
//! privilege, never grant one.
//!
//! A new visitor's socket holds the copy from the start: the conversation created for it is
//! known without a read (`Hub::visitor_session`). A returning visitor's first message reads.

use super::Hub;
use super::bus::Event;
use crate::domain::ConversationStatus;
use crate::store::{ConversationRow, ProvenEmails, Turn};
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::sync::broadcast::error::RecvError;

/// A socket's copy of its conversation's turn state. An idle socket pays 16 bytes for it: the
/// copy is boxed, and a conversation created for the socket is held as its generation alone
/// until its first message ([`ConversationRow::new_web`] is its row).
#[derive(Debug, Default)]
pub struct HeldState(Kept);

#[derive(Debug, Default)]
enum Kept {
    #[default]
    Nothing,
    /// A web conversation created for this socket and not written since.
    New {
        generation: u64,
    },
    Copy(Box<Held>),
}

#[derive(Debug)]
struct Held {
    conv: ConversationRow,
    emails: ProvenEmails,
    /// The contact's identity generation the copy was read under ([`IdentityGenerations`]).
    generation: u64,
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
        let last_seq = match &self.0 {
            Kept::Nothing => return,
            Kept::New { .. } => 0,
            Kept::Copy(held) => held.conv.last_seq,
        };
        if seq > last_seq {
            self.0 = Kept::Nothing;
        }
    }

    /// Drops the copy (events may have been missed, or an identity was added).
    pub fn forget(&mut self) {
        self.0 = Kept::Nothing;
    }

    /// The socket's conversation was created for it just now, under the contact's `generation`.
    pub(super) fn created(&mut self, generation: u64) {
        self.0 = Kept::New { generation };
    }

    /// A copy of a conversation the caller just wrote or read itself: `generation` from
    /// [`IdentityGenerations::since`] (`None` keeps nothing).
    pub(super) fn hold(&mut self, conv: ConversationRow, emails: ProvenEmails, generation: Option<u64>) {
        self.0 = match generation {
            Some(generation) => Kept::Copy(Box::new(Held { conv, emails, generation })),
            None => Kept::Nothing,
        };
    }

    /// Turns a conversation created for the socket into its copy, at its first message: its
    /// row is [`ConversationRow::new_web`] of the socket's ids, and a new contact has no email.
    pub(super) fn open(&mut self, conversation_id: &str, contact_id: &str) {
        if let Kept::New { generation } = self.0 {
            let conv = ConversationRow::new_web(conversation_id, contact_id);
            self.0 = Kept::Copy(Box::new(Held { conv, emails: ProvenEmails::default(), generation }));
        }
    }

    /// The socket's own identify stored `email` as vouched for (verified and strong, as the
    /// store's upsert writes it): the copy takes it instead of being read again, if `generation`
    /// (the contact's right after that identify) is the one right after the copy's own, i.e. no
    /// other identity of the contact was counted since. Otherwise the copy is dropped. One
    /// stored but not yet counted moves the generation when it is, which drops the copy then.
    pub(super) fn vouched(&mut self, email: &str, generation: u64) {
        let Kept::Copy(held) = &mut self.0 else { return };
        if generation != held.generation + 1 {
            self.0 = Kept::Nothing;
            return;
        }
        held.generation += 1;
        for list in [&mut held.emails.verified, &mut held.emails.strong] {
            if let Err(at) = list.binary_search_by(|e| e.as_str().cmp(email)) {
                list.insert(at, email.to_string());
            }
        }
    }

    /// The copy for this conversation, with its generation, if still believed current; taken
    /// out (a turn that fails to commit leaves nothing behind).
    pub(super) fn take(
        &mut self,
        conversation_id: &str,
        generations: &IdentityGenerations,
    ) -> Option<(ConversationRow, ProvenEmails, u64)> {
        let Kept::Copy(held) = std::mem::take(&mut self.0) else { return None };
        (held.conv.conversation_id == conversation_id && held.generation == generations.current(&held.conv.contact_id))
            .then_some((held.conv, held.emails, held.generation))
    }

    /// Keeps what the committed `turn` made of `conv` and `emails`, exactly as the commit wrote
    /// it (see `store::turns`).
    pub(super) fn keep(
        &mut self,
        mut conv: ConversationRow,
        mut emails: ProvenEmails,
        turn: &Turn,
        generation: Option<u64>,
    ) {
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
        self.hold(conv, emails, generation);
    }
}

/// Slots of [`IdentityGenerations`]: contacts share them, which costs a shared slot's other
/// contacts one read when it moves.
const SLOTS: usize = 4096;

/// Generations of the contacts' identities on this node, so a held copy is read again when an
/// identity is added to its own contact outside a turn, and not when one is added to anyone
/// else's (an identify on every page view of a shop would otherwise drop every socket's copy).
///
/// A writer adds the identity, then calls [`IdentityGenerations::bump`]: it moves the node's
/// epoch, then the contact's slot. A reader takes the epoch before it reads the conversation and
/// the contact's emails, then [`IdentityGenerations::since`] takes the slot and checks the
/// epoch: if it moved, an identity may have been added after the read but counted before the
/// slot was taken, and the copy is not kept. Either way no identity added after a read can hide
/// behind the generation kept with it. A socket's own identify needs no epoch: it keeps its copy
/// only if the slot moved by exactly its own count ([`HeldState::vouched`]).
pub struct IdentityGenerations {
    epoch: AtomicU64,
    slots: Box<[AtomicU64]>,
}

impl Default for IdentityGenerations {
    fn default() -> Self {
        IdentityGenerations { epoch: AtomicU64::new(0), slots: (0..SLOTS).map(|_| AtomicU64::new(0)).collect() }
    }
}

impl IdentityGenerations {
    /// Taken before reading a conversation's turn state.
    pub fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::SeqCst)
    }

    /// The generation to keep with a copy read after [`Self::epoch`] returned `epoch`; `None`
    /// if an identity was added anywhere on the node meanwhile.
    pub fn since(&self, epoch: u64, contact_id: &str) -> Option<u64> {
        let generation = self.current(contact_id);
        (self.epoch.load(Ordering::SeqCst) == epoch).then_some(generation)
    }

    /// The contact's generation now.
    pub fn current(&self, contact_id: &str) -> u64 {
        self.slot(contact_id).load(Ordering::SeqCst)
    }

    /// Called after an identity was added to the contact outside a turn.
    pub fn bump(&self, contact_id: &str) {
        self.epoch.fetch_add(1, Ordering::SeqCst);
        self.slot(contact_id).fetch_add(1, Ordering::SeqCst);
    }

    fn slot(&self, contact_id: &str) -> &AtomicU64 {
        // FNV-1a: ids are random, any spread will do.
        let hash =
            contact_id.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3));
        &self.slots[(hash % SLOTS as u64) as usize]
    }
}

impl Hub {
    /// A widget message ([`Hub::customer_message_from`]) from a socket that holds its
    /// conversation's turn state: no read when the copy is current, and the copy moves with the
    /// committed turn.
    pub async fn customer_message_held(
        &self,
        session: &super::VisitorSession,
        text: &str,
        client_msg_id: Option<&str>,
        client: std::net::IpAddr,
        held: &mut HeldState,
    ) -> super::Result<super::Ack> {
        held.open(&session.conversation_id, &session.contact_id);
        let inbound = super::Inbound { text, client_msg_id, external_id: None, channel_meta: None };
        self.receive_inner(&session.conversation_id, inbound, Some(client), held, &[], None).await
    }

    /// [`Hub::identify`] from the widget socket that holds `held`: its own copy takes the email
    /// (see [`HeldState::vouched`]), so the next message needs no read.
    pub async fn identify_held(
        &self,
        session: &super::VisitorSession,
        email: &str,
        name: Option<&str>,
        held: &mut HeldState,
    ) -> super::Result<()> {
        let identified = self.identify(&session.contact_id, email, name).await;
        if identified.is_err() {
            held.forget();
            return identified;
        }
        held.open(&session.conversation_id, &session.contact_id);
        held.vouched(email, self.identities.current(&session.contact_id));
        Ok(())
    }

    /// Says that an identity was added to the contact outside a turn: held copies of its
    /// conversations are read again.
    pub(super) fn identities_added(&self, contact_id: &str) {
        self.identities.bump(contact_id);
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
        let generations = IdentityGenerations::default();
        let conv = row();
        let emails = ProvenEmails { verified: vec!["c@example.com".into()], strong: vec!["b@example.com".into()] };
        let t = turn(&conv);
        let mut held = HeldState::default();
        held.keep(conv, emails, &t, Some(0));
        let (conv, emails, generation) = held.take("c1", &generations).expect("held after a commit");
        assert_eq!(generation, 0);
        assert_eq!(conv.last_seq, 6);
        assert_eq!(conv.status, ConversationStatus::Queued);
        assert_eq!(conv.locale, Locale::Sw);
        assert_eq!(conv.dialogue_state, r#"{"pending":"email"}"#);
        assert_eq!(emails.verified, vec!["b@example.com".to_string(), "c@example.com".to_string()]);
        assert!(emails.strong.is_empty(), "an order-email proof replaces a stronger verification");
        assert!(held.take("c1", &generations).is_none(), "taken out");
    }

    #[test]
    fn the_copy_is_dropped_when_someone_else_wrote() {
        let generations = IdentityGenerations::default();
        let conv = row();
        let t = turn(&conv);
        let mut held = HeldState::default();
        held.keep(conv.clone(), ProvenEmails::default(), &t, Some(0));
        held.observe(6); // our own turn's messages
        assert!(held.take("c1", &generations).is_some());
        held.keep(conv.clone(), ProvenEmails::default(), &t, Some(0));
        held.observe(7); // an agent's reply
        assert!(held.take("c1", &generations).is_none());
        held.keep(conv.clone(), ProvenEmails::default(), &t, Some(0));
        assert!(held.take("other", &generations).is_none());
        held.keep(conv.clone(), ProvenEmails::default(), &t, None);
        assert!(held.take("c1", &generations).is_none(), "read while an identity was added: not kept");
        held.keep(conv, ProvenEmails::default(), &t, Some(0));
        generations.bump("k1");
        assert!(held.take("c1", &generations).is_none(), "an identity was added to the contact");
    }

    #[test]
    fn an_identity_added_to_another_contact_keeps_the_copy() {
        let generations = IdentityGenerations::default();
        let conv = row();
        let other = (0..)
            .map(|n| format!("k{n}"))
            .find(|k| !std::ptr::eq(generations.slot(k), generations.slot("k1")))
            .expect("4,096 slots");
        let mut held = HeldState::default();
        held.hold(conv, ProvenEmails::default(), Some(generations.current("k1")));
        generations.bump(&other);
        assert!(held.take("c1", &generations).is_some(), "another visitor's identify");
    }

    #[test]
    fn a_created_conversation_is_held_as_created_until_someone_else_writes() {
        let generations = IdentityGenerations::default();
        let mut held = HeldState::default();
        held.created(generations.current("k1"));
        assert!(held.take("c1", &generations).is_none(), "opened only by the socket's first message");
        held.created(generations.current("k1"));
        held.open("c1", "k1");
        let (conv, emails, _) = held.take("c1", &generations).expect("held from the start");
        assert_eq!(format!("{conv:?}"), format!("{:?}", ConversationRow::new_web("c1", "k1")));
        assert!(emails.verified.is_empty() && emails.strong.is_empty());

        held.created(generations.current("k1"));
        held.observe(1); // an agent wrote before the customer
        held.open("c1", "k1");
        assert!(held.take("c1", &generations).is_none());
        held.created(generations.current("k1"));
        generations.bump("k1"); // the socket's own identify
        held.open("c1", "k1");
        assert!(held.take("c1", &generations).is_none());
        // An idle socket's share: no row until its first message.
        assert!(std::mem::size_of::<HeldState>() <= 16);
    }

    #[test]
    fn the_sockets_own_identify_moves_its_copy_only_from_the_generation_before_it() {
        let generations = IdentityGenerations::default();
        let other = (0..)
            .map(|n| format!("k{n}"))
            .find(|k| !std::ptr::eq(generations.slot(k), generations.slot("k1")))
            .expect("4,096 slots");
        let mut held = HeldState::default();
        held.created(generations.current("k1"));
        held.open("c1", "k1");
        generations.bump(&other); // another visitor's identify, at the same time
        generations.bump("k1"); // this socket's
        held.vouched("b@example.com", generations.current("k1"));
        let (_, emails, _) = held.take("c1", &generations).expect("kept through its own identify");
        assert_eq!(
            (emails.verified, emails.strong),
            (vec!["b@example.com".to_string()], vec!["b@example.com".to_string()])
        );

        // Another identity of the same contact counted meanwhile (another tab): read again.
        held.created(generations.current("k1"));
        held.open("c1", "k1");
        generations.bump("k1");
        generations.bump("k1");
        held.vouched("b@example.com", generations.current("k1"));
        assert!(held.take("c1", &generations).is_none());

        // Stored but counted only after the identify's check: the count drops the copy then.
        held.created(generations.current("k1"));
        held.open("c1", "k1");
        generations.bump("k1");
        held.vouched("b@example.com", generations.current("k1"));
        generations.bump("k1");
        assert!(held.take("c1", &generations).is_none());
    }

    #[test]
    fn a_copy_read_while_an_identity_was_added_is_not_kept() {
        let generations = IdentityGenerations::default();
        let epoch = generations.epoch();
        assert_eq!(generations.since(epoch, "k1"), Some(0), "nothing added meanwhile");
        // Added after the read, counted before the slot is taken: the epoch shows it.
        generations.bump("k1");
        assert_eq!(generations.since(epoch, "k1"), None);
        assert_eq!(generations.since(generations.epoch(), "k1"), Some(1));
    }
}
