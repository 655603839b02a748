//! The hub: the one place an inbound message becomes state. It resolves the conversation,
//! asks the bot (or stays quiet when a person owns the conversation), commits the customer
//! message, the replies and the dialogue state in one transaction, and publishes the stored
//! messages to whoever watches the conversation.
//!
//! channel → hub (resolve → bot → store) → bus → channel

mod actions;
pub mod admin;
mod agents;
pub mod bus;
pub mod channel_files;
pub mod channel_rating;
mod channel_state;
pub mod cluster;
pub mod csat;
mod delivery;
pub mod dispatch;
mod files;
mod held;
mod history;
pub mod lease;
mod proofs;
mod resolve;
mod rules;
mod serial;
mod staff;
mod visitors;

/// Store types the hub hands to channels, so that channels need not import `store`.
pub use crate::store::{
    ChannelState, ConversationSummary, CsatRequest, EmailOriginal, MailAttachment, MailOriginal, NewQuarantine,
    RateRefusal,
};
pub use held::HeldState;
pub use history::{HISTORY_PAGE, History};
pub use resolve::{Clue, ReplyToken, Resolution, Sender, Thread};
pub use rules::{SaveError, run_housekeeping};
pub use visitors::VisitorSession;

use crate::backoffice::BackOffice;
use crate::bot::{Bot, DialogueState, Input};
use crate::domain::ownership::{self, Action, TransitionError};
use crate::domain::{Author, Channel, ConversationStatus, Locale, MessageView, Verification, now_ms};
use crate::queue::hours::{BusinessHours, weekday_name};
use crate::store::{self, Handoff, NewIdentity, NewMessage, Store, Turn};
use bus::{AgentEvent, Bus, Event};
use minijinja::context;
use std::sync::{Arc, RwLock};
use tokio::sync::Notify;
use visitors::token_hash;

pub const BOT_NAME: &str = "Kituo";

/// Channels append a message's attachments as lines starting with this, then the file name and
/// its URL. They are stored and shown, but the bot does not read them.
pub const ATTACHMENT_PREFIX: &str = "[attachment] ";

fn without_attachment_links(text: &str) -> String {
    text.lines().filter(|l| !l.starts_with(ATTACHMENT_PREFIX)).collect::<Vec<_>>().join("\n")
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Store(#[from] store::Error),
    #[error(transparent)]
    Bot(#[from] crate::bot::dialogue::Error),
    #[error("conversation not found")]
    NotFound,
    #[error("conversation is too busy, try again")]
    Busy,
    #[error(transparent)]
    Transition(#[from] TransitionError),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What the customer's client gets once its message is durably stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Ack {
    pub id: String,
    pub seq: i64,
}

pub struct Hub {
    store: Store,
    backoffice: Arc<dyn BackOffice>,
    bot: RwLock<Arc<Bot>>,
    bus: Bus,
    hours: RwLock<Option<BusinessHours>>,
    /// Wakes the queue dispatcher (a handoff, a freed agent, a transfer to a team…).
    dispatch: Arc<Notify>,
    /// Wakes outbox workers when a reply was queued for delivery.
    outbox_signal: Arc<Notify>,
    pub metrics: crate::metrics::Metrics,
    /// Security events: counted into `metrics`, logged summarised (target `kituo::security`).
    pub security: crate::security::SecurityLog,
    /// Serialises rule-set saves in this process.
    rules_lock: tokio::sync::Mutex<()>,
    /// Intent hits not yet written to the database (flushed by housekeeping).
    hits: std::sync::Mutex<std::collections::HashMap<String, i64>>,
    /// One-time codes can be mailed (the email channel, so SMTP, is configured).
    codes_enabled: std::sync::atomic::AtomicBool,
    /// When old proof attempts were last pruned (ms).
    proofs_pruned_at: std::sync::atomic::AtomicI64,
    /// Customer turns of one conversation run one at a time (they may act in the back office).
    turn_locks: serial::TurnLocks,
    /// Base URL of the public pages (`--public-url`), for rating links in mails.
    public_url: RwLock<String>,
    /// The key that signs rating links, read from the database once.
    csat_key: tokio::sync::OnceCell<String>,
    /// Identities added on this node outside a turn, per contact (see [`HeldState`]).
    identities: held::IdentityGenerations,
    /// The attachments folder (see [`channel_files`]).
    files: std::sync::OnceLock<Arc<channel_files::Files>>,
}

/// An inbound customer message, after the channel adapter parsed it.
#[derive(Debug, Clone, Copy)]
pub struct Inbound<'a> {
    pub text: &'a str,
    /// The widget's id for its message (idempotent resend).
    pub client_msg_id: Option<&'a str>,
    /// The channel's id for the message (`email:<Message-ID>`, `discord:<id>`): stored once.
    pub external_id: Option<&'a str>,
    /// New channel data for the conversation (JSON), if the message changed it.
    pub channel_meta: Option<&'a str>,
}

impl Hub {
    pub fn new(store: Store, backoffice: Arc<dyn BackOffice>, bot: Bot, hours: Option<BusinessHours>) -> Hub {
        Hub {
            store,
            backoffice,
            bot: RwLock::new(Arc::new(bot)),
            bus: Bus::default(),
            hours: RwLock::new(hours),
            dispatch: Arc::new(Notify::new()),
            outbox_signal: Arc::new(Notify::new()),
            hits: Default::default(),
            metrics: Default::default(),
            security: Default::default(),
            rules_lock: Default::default(),
            codes_enabled: Default::default(),
            proofs_pruned_at: Default::default(),
            turn_locks: Default::default(),
            public_url: RwLock::new("http://127.0.0.1:8080".into()),
            csat_key: Default::default(),
            identities: Default::default(),
            files: Default::default(),
        }
    }

    /// Replaces the business hours (admin settings); in force for the next handoff.
    pub fn set_hours(&self, hours: Option<BusinessHours>) {
        *self.hours.write().expect("hours lock poisoned: a holder panicked") = hours;
    }

    pub fn outbox_signal(&self) -> Arc<Notify> {
        self.outbox_signal.clone()
    }

    pub fn backoffice(&self) -> &dyn BackOffice {
        self.backoffice.as_ref()
    }

    pub fn dispatch_signal(&self) -> Arc<Notify> {
        self.dispatch.clone()
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn bus(&self) -> &Bus {
        &self.bus
    }

    /// The rule set in force; a swap takes effect for the next message of every conversation.
    pub fn bot(&self) -> Arc<Bot> {
        self.bot.read().expect("bot lock poisoned: a holder panicked").clone()
    }

    pub fn swap_bot(&self, bot: Bot) {
        *self.bot.write().expect("bot lock poisoned: a holder panicked") = Arc::new(bot);
    }

    /// Drops what the node keeps only while busy (turn locks of finished conversations, the
    /// bus map's spare room), so a quiet node's heap can be given back (`memory`).
    pub fn shed_idle_state(&self) {
        self.turn_locks.prune();
        self.bus.shrink();
    }

    /// Replaces a conversation's labels and shows the new set on every console (no message).
    pub async fn set_labels(&self, conversation_id: &str, labels: &[String]) -> Result<ConversationSummary> {
        self.store.set_conversation_labels(conversation_id, labels).await?;
        // Every console shows the new set at once.
        self.summary(conversation_id).await
    }

    /// Records the contact's picture on their channel (a Discord avatar), shown in the console.
    pub async fn set_contact_avatar(&self, contact_id: &str, avatar_url: &str) -> Result<()> {
        self.store.set_contact_avatar(contact_id, avatar_url).await?;
        Ok(())
    }

    /// Stores a widget message with the bot's replies and publishes them. Idempotent per
    /// `client_msg_id`: a repeat returns the first ack and stores nothing.
    pub async fn customer_message(
        &self,
        conversation_id: &str,
        text: &str,
        client_msg_id: Option<&str>,
    ) -> Result<Ack> {
        self.receive(conversation_id, Inbound { text, client_msg_id, external_id: None, channel_meta: None }).await
    }

    /// Stores an inbound customer message with the bot's replies (queued for delivery on
    /// non-web channels in the same transaction) and publishes them. Idempotent per
    /// `client_msg_id` and per `external_id`.
    pub async fn receive(&self, conversation_id: &str, inbound: Inbound<'_>) -> Result<Ack> {
        self.receive_from(conversation_id, inbound, None).await
    }

    /// [`Hub::receive`] with the client's address when the channel knows it (the widget); on
    /// other channels proofs are counted against the contact (the channel identity).
    pub async fn receive_from(
        &self,
        conversation_id: &str,
        inbound: Inbound<'_>,
        client: Option<std::net::IpAddr>,
    ) -> Result<Ack> {
        self.receive_inner(conversation_id, inbound, client, &mut HeldState::default(), &[], None).await
    }

    // A debug span: at the default `info` level the hot path creates no span per message.
    #[tracing::instrument(level = "debug", skip_all, fields(conversation_id = %conversation_id))]
    async fn receive_inner(
        &self,
        conversation_id: &str,
        inbound: Inbound<'_>,
        client: Option<std::net::IpAddr>,
        held: &mut HeldState,
        attachments: &[String],
        state: Option<&Arc<store::ChannelState>>,
    ) -> Result<Ack> {
        // A repeated `client_msg_id` is found by the unique index when the turn is committed
        // (`Duplicate` below), which saves a read on every message. A repeated external id is
        // checked first: mail and Discord redeliver, and their turns may queue outbound work.
        // Both checks see the committed state of any earlier turn of this conversation: turns
        // are serialised (see `serial`).
        // Every channel's text arrives here; what no database should refuse is dropped once.
        let text = crate::domain::without_controls(inbound.text);
        let inbound = Inbound { text: &text, ..inbound };
        let _serial = self.turn_locks.lock(conversation_id).await;
        if let Some(ext) = inbound.external_id
            && let Some(m) = self.store.message_by_external_id(ext).await?
        {
            return Ok(Ack { id: m.id, seq: m.seq });
        }
        // A rating sent as a reply (Discord, email) to a resolved conversation.
        if let Some(ack) = self.csat_reply(conversation_id, &inbound).await? {
            if let Some(state) = state {
                self.store.save_channel_state(&ack.id, state).await?;
            }
            return Ok(ack);
        }
        // Optimistic concurrency: recompute the turn if the conversation moved meanwhile. Proof
        // attempts are counted once per message, however often the turn is recomputed.
        let attempt = crate::domain::new_ordered_id();
        for _ in 0..16 {
            let (conv, emails, generation) = match held.take(conversation_id, &self.identities) {
                Some((conv, emails, generation)) => (conv, emails, Some(generation)),
                None => {
                    let epoch = self.identities.epoch();
                    let (conv, emails) =
                        self.store.conversation_for_turn(conversation_id).await?.ok_or(Error::NotFound)?;
                    self.metrics.count("kituo_turn_state_reads_total", "", 1);
                    let generation = self.identities.since(epoch, &conv.contact_id);
                    (conv, emails, generation)
                }
            };
            let mut turn = self.compute_turn(&conv, &emails, &inbound, &attempt, client).await?;
            turn.channel_state = state.cloned();
            let turn = Arc::new(turn);
            let committed = self.store.commit_turn(turn.clone()).await;
            match committed {
                Ok(mut stored) => {
                    held.keep(conv, emails, &turn, generation);
                    if let Some(first) = stored.first_mut() {
                        self.link_files(first, attachments).await;
                    }
                    let ack = Ack { id: stored[0].id.clone(), seq: stored[0].seq };
                    let channel = turn.channel.as_str();
                    self.publish(stored, channel);
                    self.publish_summary(conversation_id).await;
                    if turn.handoff.is_some() {
                        self.dispatch.notify_one();
                    }
                    let m = &self.metrics;
                    m.count_label("kituo_messages_in_total", "channel", channel, 1);
                    let out =
                        turn.messages.iter().filter(|x| x.author != Author::Customer && !x.private).count() as i64;
                    if out > 0 {
                        m.count_label("kituo_messages_out_total", "channel", channel, out);
                    }
                    match &turn.intent {
                        Some(i) => m.count_label("kituo_bot_matches_total", "intent", i, 1),
                        None if turn.miss => m.count("kituo_bot_misses_total", "", 1),
                        None => {}
                    }
                    if let Some(intent) = &turn.intent {
                        *self
                            .hits
                            .lock()
                            .expect("hits mutex poisoned: a holder panicked")
                            .entry(intent.clone())
                            .or_default() += 1;
                    }
                    if turn.miss {
                        let key = crate::bot::normalize::normalize(inbound.text);
                        let key: String = key.chars().take(200).collect();
                        if let Err(e) =
                            self.store.record_miss(&key, &inbound.text.chars().take(500).collect::<String>()).await
                        {
                            tracing::warn!(error = %e, "cannot record a miss");
                        }
                    }
                    if turn.outbound_channel.is_some() {
                        self.outbox_signal.notify_waiters();
                    }
                    return Ok(ack);
                }
                Err(store::Error::Conflict) => continue,
                Err(store::Error::Duplicate) => {
                    let existing = match (inbound.client_msg_id, inbound.external_id) {
                        (Some(cmid), _) => self.store.message_by_client_id(conversation_id, cmid).await?,
                        (None, Some(ext)) => self.store.message_by_external_id(ext).await?,
                        (None, None) => None,
                    };
                    // Not a repeat: the turn's seq was taken by a concurrent write. Recompute.
                    let Some(m) = existing else { continue };
                    if turn.forgive_attempt.is_some() {
                        // A repeat is not stored, so its turn cannot forgive its proof.
                        self.store.proof_attempt_forgive(&attempt).await?;
                    }
                    return Ok(Ack { id: m.id, seq: m.seq });
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(Error::Busy)
    }

    async fn compute_turn(
        &self,
        conv: &store::ConversationRow,
        emails: &store::ProvenEmails,
        inbound: &Inbound<'_>,
        attempt: &str,
        client: Option<std::net::IpAddr>,
    ) -> Result<Turn> {
        let text = inbound.text;
        let verified = &emails.verified;
        let state: DialogueState = serde_json::from_str(&conv.dialogue_state).unwrap_or_else(|e| {
            tracing::warn!(error = %e, "unreadable dialogue state; starting afresh");
            DialogueState::default()
        });
        let from = conv.ownership();
        // A customer writing into a resolved conversation reopens it with the bot.
        let mut to = ownership::transition(&from, &Action::CustomerWrites)?;
        let customer = NewMessage {
            author: Author::Customer,
            author_name: "Customer".into(),
            text: inbound.text.to_string(),
            client_msg_id: inbound.client_msg_id.map(str::to_string),
            private: false,
            external_id: inbound.external_id.map(str::to_string),
            quick_replies: Vec::new(),
        };
        let mut turn = Turn::plain(conv, vec![customer]);
        turn.to = to.clone();
        if to.status == ConversationStatus::Bot && from.status == ConversationStatus::Resolved {
            turn.dialogue_state = "{}".into();
        }
        turn.outbound_channel = (conv.channel != Channel::Web.as_str()).then(|| conv.channel.clone());
        turn.channel_meta = inbound.channel_meta.map(str::to_string);
        // The bot speaks while it owns the conversation, and while it waits in the queue until a
        // person has replied; never once an agent has the conversation.
        let bot_speaks = match to.status {
            ConversationStatus::Bot => true,
            ConversationStatus::Queued => !conv.agent_replied,
            _ => false,
        };
        if !bot_speaks {
            return Ok(turn);
        }
        let state = if from.status == ConversationStatus::Resolved { DialogueState::default() } else { state };
        let bot = self.bot();
        let guard = proofs::TurnGuard::new(self, conv, attempt, client);
        let outcome = bot
            .respond_guarded(
                Input {
                    text: &without_attachment_links(text),
                    state,
                    locale: conv.locale,
                    status: to.status,
                    verified_emails: verified,
                    strong_emails: &emails.strong,
                },
                self.backoffice.as_ref(),
                &guard,
            )
            .await?;
        turn.forgive_attempt = guard.forgive();
        turn.messages.extend(outcome.replies.iter().map(|text| NewMessage::ours(Author::Bot, BOT_NAME, text, false)));
        if let Some(last) = turn.messages.last_mut().filter(|m| m.author == Author::Bot) {
            // A restated action ends the turn with its question: yes / no as buttons.
            last.quick_replies = crate::bot::actions::quick_replies(&outcome.state, outcome.locale);
        }
        if let Some(request) = &outcome.code_request {
            proofs::add_code_mail(self, &mut turn, request, outcome.locale).await?;
        }
        turn.locale = outcome.locale;
        turn.dialogue_state = serde_json::to_string(&outcome.state).unwrap_or_else(|_| "{}".into());
        turn.audit = outcome
            .disclosures
            .iter()
            .map(|d| {
                (
                    format!("contact:{}", conv.contact_id),
                    "disclosure".to_string(),
                    format!("{}:{}", d.kind, d.number),
                    serde_json::json!({"email": d.email, "proof": d.proof, "conversation_id": conv.conversation_id,
                                       "channel": conv.channel})
                    .to_string(),
                )
            })
            .collect();
        actions::record(self, &mut turn, &conv.contact_id, &conv.conversation_id, &outcome.actions);
        actions::invoice_mail(&mut turn, &outcome, &bot)?;
        turn.labels = outcome
            .intent
            .as_deref()
            .and_then(|i| bot.rules.intent(i))
            .and_then(|d| d.label.clone())
            .into_iter()
            .collect();
        turn.intent = outcome.intent.clone();
        turn.miss = outcome.intent.is_none() && to.status == ConversationStatus::Bot;
        // The name is written with the turn (if the contact has none), not before it.
        for email in &outcome.verified {
            if turn.contact_name.is_none() {
                turn.contact_name = self.backoffice_name(email).await;
            }
        }
        turn.identities = outcome
            .verified
            .iter()
            .map(|email| NewIdentity { kind: "email", value: email.clone(), verification: Verification::OrderEmail })
            .collect();
        if let Some(reason) = outcome.handoff {
            let team = outcome.intent.as_deref().and_then(|i| bot.rules.intent(i)).and_then(|d| d.team.clone());
            let team = match team {
                Some(t) if self.store.team_exists(&t).await? => Some(t),
                _ => None,
            };
            to = ownership::transition(&to, &Action::Handoff { team })?;
            let all_verified: Vec<&String> = verified.iter().chain(outcome.verified.iter()).collect();
            // complaint raises the queue priority (the intent's handoff_priority)
            let priority =
                outcome.intent.as_deref().and_then(|i| bot.rules.intent(i)).map_or(0, |d| d.handoff_priority);
            turn.handoff = Some(Handoff {
                summary: crate::bot::handoff::summary(reason, &outcome, text),
                context: serde_json::json!({
                    "reason": reason,
                    "intent": outcome.intent,
                    "slots": outcome.slots,
                    "verified_emails": all_verified,
                    "verify_failures": outcome.state.verify_failures,
                })
                .to_string(),
                priority,
            });
            let note = self.queue_note(&bot, outcome.locale, priority).await?;
            turn.messages.push(NewMessage::ours(Author::System, "Kituo", &note, false));
        } else if outcome.status == ConversationStatus::Queued {
            to.status = ConversationStatus::Queued;
        }
        turn.to = to;
        Ok(turn)
    }

    /// What the customer is told on handoff: their place in the queue, or when the team is back.
    async fn queue_note(&self, bot: &Bot, locale: Locale, priority: i64) -> Result<String> {
        let now = now_ms();
        let hours = self.hours.read().expect("hours lock poisoned: a holder panicked").clone();
        let ctx = match &hours {
            Some(h) if !h.is_open(now) => {
                let (day, time) = h.next_open(now).unwrap_or((0, "08:00".into()));
                context! { after_hours => true, back_day => weekday_name(day, locale), back_time => time }
            }
            _ => {
                let position = self.store.queue_position(priority, now).await? + 1;
                context! { after_hours => false, queue_position => position }
            }
        };
        Ok(bot.templates.render(locale, "queue_status", ctx).unwrap_or_else(|e| {
            tracing::error!(error = %e, "queue_status template failed");
            "A person from our team will join you soon.".into()
        }))
    }

    fn publish(&self, stored: Vec<MessageView>, channel: &str) {
        for m in stored {
            let m = Arc::new(m);
            self.bus.publish(&m.conversation_id, Event::Message(m.clone()));
            self.bus.publish_agents(AgentEvent::Message { message: m, channel: channel.to_string() });
        }
    }

    /// Sends the conversation's current summary to every console.
    pub async fn publish_summary(&self, conversation_id: &str) {
        // The summary is read only for this node's watchers (consoles, staff announcements);
        // other nodes are sent the id and read it themselves.
        if !self.bus.agents_watching() {
            self.bus.conversation_changed_remote(conversation_id);
            return;
        }
        match self.store.conversation_summary(conversation_id).await {
            Ok(Some(mut s)) => {
                if let Err(e) = self.with_sla(std::slice::from_mut(&mut s)).await {
                    tracing::warn!(error = %e, "cannot compute SLA clocks");
                }
                self.bus.publish_agents(AgentEvent::Conversation(Arc::new(s)))
            }
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, "cannot load a conversation summary"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bot_does_not_read_attachment_links() {
        let text = format!("Mna kikoi?\n{ATTACHMENT_PREFIX}a.jpg: https://cdn.example/a.jpg");
        assert_eq!(without_attachment_links(&text), "Mna kikoi?");
        assert_eq!(without_attachment_links("one\ntwo"), "one\ntwo");
    }
}
