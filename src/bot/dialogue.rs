//! Multi-turn dialogue: which slot or proof the bot is waiting for, misses in a row, failed
//! identity checks. The state is plain data (stored as JSON with the conversation), so a restart
//! mid-dialogue continues where it was.
//!
//! Disclosure rule: an order or invoice is shown only when its email is among the contact's
//! proven emails, or the customer types that email now. A wrong email and a non-existent number
//! get the very same reply, so the bot never reveals whether a record exists. After
//! [`MAX_VERIFY_FAILURES`] failures the conversation stops checking numbers and goes to a human.
//! Across conversations, failures are limited per address, email and record, and an email can
//! also be proven by a one-time code: see [`super::proof`].

use super::Bot;
use super::normalize::normalize;
use super::proof::{self, CodeRequest, ProofGuard, Verdict};
use super::render::{invoice_value, order_value, product_value};
use super::rules::{Action, IntentDef};
use crate::backoffice::BackOffice;
use crate::domain::{ConversationStatus, Locale, normalize_email};
use minijinja::{Value, context};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub const MAX_VERIFY_FAILURES: u32 = 3;
/// Misses in a row after which the fallback offers a human.
pub const MISSES_BEFORE_OFFER: u32 = 2;
/// The intent of a plain request for a person, and the template of its reply (also said when
/// the rules have no such intent).
const GENERAL_HANDOFF: &str = "human_handoff";
const GENERAL_HANDOFF_REPLY: &str = "handoff";

/// The intent of a plain request for a person: `human_handoff` when the rules have it, else a
/// handoff intent answering with the general reply. Never a specific one such as
/// `account_help`, whose reply speaks of something the customer did not ask.
fn general_handoff(intents: &[IntentDef]) -> Option<&IntentDef> {
    intents.iter().find(|d| d.name == GENERAL_HANDOFF && d.action == Action::Handoff).or_else(|| {
        intents
            .iter()
            .find(|d| d.action == Action::Handoff && d.reply.values().all(|t| t.as_str() == GENERAL_HANDOFF_REPLY))
    })
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DialogueState {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending: Option<Pending>,
    #[serde(default)]
    pub misses: u32,
    #[serde(default)]
    pub verify_failures: u32,
    /// Set after too many failed checks: no more disclosure in this conversation.
    #[serde(default)]
    pub locked: bool,
    /// The last fallback offered a human; a plain "yes" now hands off.
    #[serde(default)]
    pub offered_human: bool,
    /// The record and email of the last proof that failed or was refused: "code" mails a
    /// one-time code for them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code_offer: Option<CodeOffer>,
    /// Emails proven by a one-time code in this conversation: strong enough to act on.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub code_proven: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CodeOffer {
    pub intent: String,
    pub number: String,
    pub email: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pending {
    pub intent: String,
    pub slots: BTreeMap<String, String>,
    pub awaiting: Awaiting,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Awaiting {
    /// The email on the order or invoice named in `slots`.
    Email,
    Slot(String),
    /// The one-time code mailed for `email` (if it is the one on the record in `slots`).
    Code {
        email: String,
    },
    /// An explicit yes to the action restated for the record in `slots` (see [`super::actions`]).
    Confirm,
}

pub struct Input<'a> {
    pub text: &'a str,
    pub state: DialogueState,
    pub locale: Locale,
    pub status: ConversationStatus,
    /// Lowercase emails proven for the contact.
    pub verified_emails: &'a [String],
    /// Lowercase emails proven strongly enough to act on (signed widget identity, email channel).
    pub strong_emails: &'a [String],
}

#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub replies: Vec<String>,
    pub state: DialogueState,
    pub locale: Locale,
    pub status: ConversationStatus,
    /// Emails the customer proved in this turn (order number + matching email).
    pub verified: Vec<String>,
    pub intent: Option<String>,
    /// Slots of the intent that ran (for the agent's handoff summary).
    pub slots: BTreeMap<String, String>,
    /// Why the bot handed the conversation to people in this turn, if it did.
    pub handoff: Option<HandoffReason>,
    /// Back-office records shown in this turn, for the audit log.
    pub disclosures: Vec<Disclosure>,
    /// A one-time code for the hub to mail, to the email on the record.
    pub code_request: Option<CodeRequest>,
    /// What the bot did in the back office in this turn.
    pub actions: Vec<super::actions::ActionRecord>,
    /// An invoice to mail to the address on it (the hub renders and queues the mail).
    pub invoice_mail: Option<crate::backoffice::Invoice>,
}

/// A back-office record the bot showed, and on what proof.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Disclosure {
    /// "order" or "invoice".
    pub kind: &'static str,
    pub number: String,
    /// The record's email, which the contact proved.
    pub email: String,
    /// "proven_now" (typed with the number in this turn), "one_time_code" or "already_verified".
    pub proof: &'static str,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HandoffReason {
    /// The customer asked for a person.
    Asked,
    /// The customer accepted the offer made after repeated misses.
    AfterMisses,
    /// Too many failed identity checks.
    VerificationFailed,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("back office: {0}")]
    BackOffice(#[from] crate::backoffice::Error),
    #[error("proof limits: {0}")]
    Proofs(#[from] crate::store::Error),
}

/// First email-shaped word in the text.
pub fn find_email(text: &str) -> Option<String> {
    text.split(|c: char| c.is_whitespace() || c == ',' || c == ';' || c == '(' || c == ')')
        .map(|w| w.trim_end_matches(['.', '!', '?', ':']))
        .find_map(normalize_email)
}

pub(super) struct Turn<'a> {
    pub(super) bot: &'a Bot,
    pub(super) backoffice: &'a dyn BackOffice,
    pub(super) guard: &'a dyn ProofGuard,
    pub(super) raw: &'a str,
    pub(super) verified_emails: Vec<String>,
    pub(super) strong_emails: Vec<String>,
    pub(super) out: Outcome,
}

impl Bot {
    /// Decides the bot's reply to one customer message, with no limits on proofs and no codes.
    pub async fn respond(&self, input: Input<'_>, backoffice: &dyn BackOffice) -> Result<Outcome, Error> {
        self.respond_guarded(input, backoffice, &proof::Unlimited).await
    }

    /// Decides the bot's reply to one customer message; proofs go through `guard`.
    pub async fn respond_guarded(
        &self,
        input: Input<'_>,
        backoffice: &dyn BackOffice,
        guard: &dyn ProofGuard,
    ) -> Result<Outcome, Error> {
        let norm = normalize(input.text);
        let c = self.rules.classify_normalized(&norm);
        let locale = c.locale.unwrap_or(input.locale);
        let mut turn = Turn {
            bot: self,
            backoffice,
            guard,
            raw: input.text,
            verified_emails: input.verified_emails.to_vec(),
            strong_emails: input.strong_emails.to_vec(),
            out: Outcome {
                replies: Vec::new(),
                state: input.state,
                locale,
                status: input.status,
                verified: Vec::new(),
                intent: c.intent.clone(),
                slots: BTreeMap::new(),
                handoff: None,
                disclosures: Vec::new(),
                code_request: None,
                actions: Vec::new(),
                invoice_mail: None,
            },
        };
        let offered = std::mem::take(&mut turn.out.state.offered_human);
        if turn.out.state.code_offer.is_some() && guard.codes_enabled() && proof::is_code_request(&norm) {
            turn.out.state.pending = None;
            turn.request_code().await?;
            return Ok(turn.out);
        }

        // A dialogue waiting on an intent an admin has since deleted is dropped.
        let pending = turn.out.state.pending.take().filter(|p| self.rules.intent(&p.intent).is_some());
        if let Some(pending) = pending {
            let switching = c.intent.as_ref().is_some_and(|i| *i != pending.intent);
            match &pending.awaiting {
                Awaiting::Email => {
                    if let Some(email) = find_email(input.text) {
                        turn.out.intent = Some(pending.intent.clone());
                        let r = turn.verify(&pending, &email).await;
                        turn.recover(r)?;
                        return Ok(turn.out);
                    }
                    if c.intent.is_none() {
                        turn.out.state.pending = Some(pending);
                        turn.say("invalid_email", Value::UNDEFINED);
                        return Ok(turn.out);
                    }
                }
                Awaiting::Slot(slot) if !switching || super::actions::answers_slot(self, &pending, &c, &norm) => {
                    let mut value = self.rules.extract_slot(&pending.intent, slot, &norm);
                    if value.is_none() && slot == "product" && c.intent.is_none() {
                        value = Some(norm.trim_end_matches(['?', '.', '!']).to_string());
                    }
                    let mut slots = pending.slots.clone();
                    slots.extend(c.slots.clone());
                    if let Some(v) = value {
                        slots.insert(slot.clone(), v);
                    }
                    if slots.contains_key(slot) || c.intent.is_some() {
                        turn.out.intent = Some(pending.intent.clone());
                        let r = turn.run(&pending.intent, slots).await;
                        turn.recover(r)?;
                        return Ok(turn.out);
                    }
                    // Neither the slot nor anything else: ask again, counting a miss.
                    turn.out.state.misses += 1;
                    turn.out.state.pending = Some(pending.clone());
                    if turn.out.state.misses >= MISSES_BEFORE_OFFER {
                        turn.out.state.pending = None;
                        turn.miss(offered);
                    } else {
                        turn.prompt_again(&pending);
                    }
                    return Ok(turn.out);
                }
                Awaiting::Slot(_) => {}
                Awaiting::Confirm => {
                    // Yes acts, no leaves it; anything else lets the question lapse.
                    if let Some(r) = turn.answer(&pending, &norm).await {
                        turn.recover(r)?;
                        return Ok(turn.out);
                    }
                }
                Awaiting::Code { email } => {
                    if let Some(code) = proof::typed_code(input.text) {
                        turn.out.intent = Some(pending.intent.clone());
                        let email = email.clone();
                        turn.enter_code(pending, &email, &code).await?;
                        return Ok(turn.out);
                    }
                }
            }
        }

        match c.intent {
            Some(intent) => {
                let r = turn.run(&intent, c.slots).await;
                turn.recover(r)?;
            }
            None if offered && super::actions::is_affirmative(&norm) => turn.handoff_now(HandoffReason::AfterMisses),
            None => turn.miss(offered),
        }
        Ok(turn.out)
    }
}

impl<'a> Turn<'a> {
    pub(super) fn locale(&self) -> Locale {
        self.out.locale
    }

    pub(super) fn say(&mut self, template: &str, extra: Value) {
        let locale = self.locale();
        let ctx = context! { locale => locale.as_str(), customer_name => Value::from(()), ..extra };
        let text = self
            .bot
            .templates
            .render(locale, template, ctx.clone())
            .or_else(|_| self.bot.templates.render(Locale::En, template, ctx.clone()))
            .or_else(|e| proof::builtin_template(locale, template, ctx).unwrap_or(Err(e)));
        match text {
            Ok(t) if !t.is_empty() => self.out.replies.push(t),
            Ok(_) => {}
            Err(e) => {
                tracing::error!(template, error = %e, "reply template failed");
                self.out.replies.push("Sorry, something went wrong on our side.".into());
            }
        }
    }

    /// A back office that is down or slow is not a failed turn: the customer hears that we
    /// cannot check right now and is offered a person (saying yes hands over).
    fn recover(&mut self, result: Result<(), Error>) -> Result<(), Error> {
        match result {
            Err(Error::BackOffice(e)) if e.is_unavailable() => {
                tracing::warn!(error = %e, "bot answered without the back office");
                self.out.replies.clear();
                self.out.disclosures.clear();
                self.out.state.offered_human = true;
                self.say("backoffice_unavailable", Value::UNDEFINED);
                Ok(())
            }
            other => other,
        }
    }

    /// The intent's definition, borrowed from the bot (not from the turn).
    pub(super) fn def(&self, intent: &str) -> Option<&'a IntentDef> {
        self.bot.rules.intent(intent)
    }

    fn reply_of(&self, def: &IntentDef) -> String {
        def.reply
            .get(&self.locale())
            .or_else(|| def.reply.get(&Locale::En))
            .cloned()
            .unwrap_or_else(|| def.name.clone())
    }

    fn miss(&mut self, offered_before: bool) {
        self.out.intent = None;
        if self.out.status == ConversationStatus::Queued {
            // A person will read it; the bot keeps quiet.
            return;
        }
        self.out.state.misses += 1;
        if self.out.state.misses >= MISSES_BEFORE_OFFER || offered_before {
            self.out.state.offered_human = true;
            self.say("fallback_offer_human", Value::UNDEFINED);
        } else {
            self.say("fallback", Value::UNDEFINED);
        }
    }

    pub(super) fn handoff_now(&mut self, reason: HandoffReason) {
        if self.out.status == ConversationStatus::Bot {
            self.out.handoff = Some(reason);
        }
        // An intent that hands over itself (change_order, complaint…) keeps its name and reply.
        // An action the bot cannot finish here (cancel_order, return_refund, invoice_copy) keeps
        // its name, so the agent is told what the customer wants (and its team takes it), and
        // says the general handoff reply. Anything else becomes the general handoff.
        let bot = self.bot;
        let kept = self.out.intent.as_deref().and_then(|i| bot.rules.intent(i)).filter(|d| {
            matches!(d.action, Action::Handoff | Action::CancelOrder | Action::ReturnRefund | Action::InvoiceCopy)
        });
        let general = general_handoff(bot.rules.intents());
        let speaks = kept.filter(|d| d.action == Action::Handoff).or(general);
        self.out.intent = kept.or(general).map(|d| d.name.clone());
        self.out.state.misses = 0;
        self.out.status = ConversationStatus::Queued;
        let t = speaks.map_or_else(|| GENERAL_HANDOFF_REPLY.to_string(), |def| self.reply_of(def));
        let ctx = super::handoff::reply_context(&self.out.slots);
        self.say(&t, ctx);
    }

    pub(super) fn prompt(&mut self, def: &IntentDef, slot: &str, slots: BTreeMap<String, String>) {
        let template = def
            .slots
            .get(slot)
            .and_then(|s| s.prompt.get(&self.locale()).or_else(|| s.prompt.get(&Locale::En)).cloned())
            .unwrap_or_else(|| format!("ask_{slot}"));
        self.out.state.pending =
            Some(Pending { intent: def.name.clone(), slots, awaiting: Awaiting::Slot(slot.to_string()) });
        self.say(&template, Value::UNDEFINED);
    }

    fn prompt_again(&mut self, pending: &Pending) {
        if let (Some(def), Awaiting::Slot(slot)) = (self.def(&pending.intent), &pending.awaiting) {
            self.prompt(def, slot, pending.slots.clone());
        }
    }

    pub(super) async fn run(&mut self, intent: &str, slots: BTreeMap<String, String>) -> Result<(), Error> {
        let Some(def) = self.def(intent) else {
            return Ok(());
        };
        self.out.state.misses = 0;
        self.out.intent = Some(def.name.clone());
        self.out.slots = slots.clone();
        match def.action {
            Action::Reply => {
                let t = self.reply_of(def);
                self.say(&t, Value::UNDEFINED);
            }
            Action::Handoff => self.handoff_now(HandoffReason::Asked),
            Action::OrderStatus | Action::InvoiceStatus => {
                let slot = record_slot(def.action);
                if self.out.state.locked {
                    self.say("verify_locked", Value::UNDEFINED);
                    return Ok(());
                }
                let Some(number) = slots.get(slot).cloned() else {
                    self.prompt(def, slot, slots);
                    return Ok(());
                };
                let owner = self.owner_email(def.action, &number).await?;
                let pending = Pending { intent: def.name.clone(), slots, awaiting: Awaiting::Email };
                if owner.as_ref().is_some_and(|e| self.verified_emails.contains(e)) {
                    self.disclose(def, &number, "already_verified").await?;
                } else if let Some(email) = find_email(self.raw) {
                    self.verify(&pending, &email).await?;
                } else {
                    let kind = if def.action == Action::OrderStatus { "order" } else { "invoice" };
                    self.out.state.pending = Some(pending);
                    self.say("ask_email", context! { kind => kind, number => crate::backoffice::record_key(&number) });
                }
            }
            Action::InvoiceCopy | Action::CancelOrder | Action::ReturnRefund => self.act(def, slots).await?,
            Action::StockCheck => {
                let query = slots.get("sku").or_else(|| slots.get("product")).cloned();
                let Some(query) = query.filter(|q| !q.trim().is_empty()) else {
                    self.prompt(def, "product", slots);
                    return Ok(());
                };
                let mut found = self.backoffice.stock(&query).await?;
                if found.is_empty() {
                    self.say("product_not_found", context! { query => query });
                } else {
                    let first = found.remove(0);
                    let alternatives: Vec<String> = found.into_iter().map(|p| p.name).collect();
                    let t = self.reply_of(def);
                    let product = product_value(&first, self.locale());
                    self.say(&t, context! { product => product, alternatives => alternatives });
                }
            }
        }
        Ok(())
    }

    /// The (lowercase) email on the record, or `None` when there is no such record.
    pub(super) async fn owner_email(&self, action: Action, number: &str) -> Result<Option<String>, Error> {
        Ok(match action {
            Action::OrderStatus | Action::CancelOrder | Action::ReturnRefund => {
                self.backoffice.order(number).await?.map(|o| o.customer_email.to_lowercase())
            }
            Action::InvoiceStatus | Action::InvoiceCopy => {
                self.backoffice.invoice(number).await?.map(|i| i.customer_email.to_lowercase())
            }
            _ => None,
        })
    }

    pub(super) async fn disclose(&mut self, def: &IntentDef, number: &str, proof: &'static str) -> Result<(), Error> {
        let locale = self.locale();
        let t = self.reply_of(def);
        match def.action {
            Action::OrderStatus => {
                if let Some(o) = self.backoffice.order(number).await? {
                    self.say(&t, context! { order => order_value(&o, locale) });
                    self.out.disclosures.push(Disclosure {
                        kind: "order",
                        number: o.order_number.clone(),
                        email: o.customer_email.to_lowercase(),
                        proof,
                    });
                }
            }
            Action::InvoiceStatus => {
                if let Some(i) = self.backoffice.invoice(number).await? {
                    self.say(&t, context! { invoice => invoice_value(&i, locale) });
                    self.out.disclosures.push(Disclosure {
                        kind: "invoice",
                        number: i.invoice_number.clone(),
                        email: i.customer_email.to_lowercase(),
                        proof,
                    });
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// The customer claims `email` for the record in `pending`.
    async fn verify(&mut self, pending: &Pending, email: &str) -> Result<(), Error> {
        let Some(def) = self.def(&pending.intent) else {
            return Ok(());
        };
        let slot = record_slot(def.action);
        let Some(number) = pending.slots.get(slot).cloned() else {
            self.prompt(def, slot, pending.slots.clone());
            return Ok(());
        };
        self.out.state.code_offer = self.guard.codes_enabled().then(|| CodeOffer {
            intent: def.name.clone(),
            number: number.clone(),
            email: email.to_string(),
        });
        if self.out.state.locked {
            self.say("verify_locked", Value::UNDEFINED);
            self.offer_code();
            return Ok(());
        }
        let record = proof::record_key(record_kind(def.action), &number);
        let verdict = self.guard.begin(email, &record).await?;
        if verdict == Verdict::Allowed {
            let owner = self.owner_email(def.action, &number).await?;
            let proven = owner.as_deref() == Some(email);
            self.guard.settle(proven).await?;
            if proven {
                self.proven(email);
                return self.disclose(def, &number, "proven_now").await;
            }
        }
        // A failed check, or one refused unchecked: both count towards this conversation's lock.
        self.out.state.verify_failures += 1;
        if self.out.state.verify_failures >= MAX_VERIFY_FAILURES {
            self.out.state.locked = true;
            self.out.state.pending = None;
            if self.out.status == ConversationStatus::Bot {
                self.out.handoff = Some(HandoffReason::VerificationFailed);
            }
            self.out.status = ConversationStatus::Queued;
            self.say("verify_locked", Value::UNDEFINED);
        } else if verdict != Verdict::Allowed {
            // Nothing was checked: after a wait the customer may type the email again.
            if matches!(verdict, Verdict::Wait { .. }) {
                self.out.state.pending = Some(pending.clone());
            }
            self.refused(verdict);
            return Ok(());
        } else {
            let template = if def.action == Action::OrderStatus { "order_not_found" } else { "invoice_not_found" };
            self.say(template, context! { number => crate::backoffice::record_key(&number) });
        }
        self.offer_code();
        Ok(())
    }

    /// `email` is proven for this conversation and the contact.
    pub(super) fn proven(&mut self, email: &str) {
        self.out.state.code_offer = None;
        if !self.verified_emails.iter().any(|e| e == email) {
            self.verified_emails.push(email.to_string());
            self.out.verified.push(email.to_string());
        }
    }
}

/// "order" or "invoice": the kind of record an intent shows.
pub(super) fn record_kind(action: Action) -> &'static str {
    match action {
        Action::InvoiceStatus | Action::InvoiceCopy => "invoice",
        _ => "order",
    }
}

pub(super) fn record_slot(action: Action) -> &'static str {
    match action {
        Action::InvoiceStatus | Action::InvoiceCopy => "invoice_number",
        _ => "order_number",
    }
}

#[cfg(test)]
#[path = "dialogue_tests.rs"]
mod tests;
