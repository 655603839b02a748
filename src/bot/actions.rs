//! What the bot does in the back office, not just reads: cancel an order, or open a return
//! request for a shipped or delivered one, after an explicit yes; "where is my refund" reads
//! the request's state.
//!
//! Acting needs a stronger proof than reading: the record's email proven by a widget identity
//! signed with the HMAC secret, by the email channel itself, or by a one-time code in this
//! conversation. An order number with its email is enough to read but never to act: the bot
//! then offers the code (when codes can be mailed) or a person. The bot restates what it will
//! do and acts only on an explicit yes; the back office's own answer makes a repeated yes
//! harmless (an order already cancelled is said so, never cancelled twice).

use super::dialogue::{Awaiting, CodeOffer, Error, HandoffReason, Pending, Turn};
use super::render::order_value;
use super::rules::Action;
use super::rules::IntentDef;
use crate::backoffice::{CancelOutcome, NewRequest, Order, OrderLine, Request, RequestKind};
use minijinja::{Value, context};
use serde::Serialize;
use std::collections::BTreeMap;

/// What the bot did or tried in the back office in one turn: counted in
/// `kituo_bot_actions_total{action,result}`, audited, and shown to agents as an activity message.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ActionRecord {
    /// `cancel_order` or `return_refund`.
    pub action: &'static str,
    /// `done`, `refused` or `failed`.
    pub result: &'static str,
    pub number: String,
    /// The email proven for the record.
    pub email: String,
    /// For agents: what happened, in English.
    pub note: String,
}

/// The quick replies of a turn that ends on a restated action (yes / no in the customer's
/// language); both are answers [`is_explicit_yes`] and [`is_no`] accept.
pub fn quick_replies(state: &super::DialogueState, locale: crate::domain::Locale) -> Vec<String> {
    let confirming = state.pending.as_ref().is_some_and(|p| p.awaiting == Awaiting::Confirm);
    let pair = match locale {
        crate::domain::Locale::Sw => ["Ndiyo", "Hapana"],
        _ => ["Yes", "No"],
    };
    if confirming { pair.iter().map(|s| s.to_string()).collect() } else { Vec::new() }
}

/// An explicit yes to a restated action ("ok" or "please" are not enough).
pub fn is_explicit_yes(norm: &str) -> bool {
    let t = norm.trim_end_matches(['.', '!']).trim();
    matches!(t, "yes" | "yes please" | "ndiyo" | "ndio" | "sawa" | "ndiyo tafadhali" | "sawa tafadhali")
}

/// Any yes, to the offer of a person (looser than [`is_explicit_yes`]).
pub fn is_affirmative(norm: &str) -> bool {
    let t = norm.trim_end_matches(['.', '!']).trim();
    matches!(
        t,
        "yes"
            | "yes please"
            | "yeah"
            | "yep"
            | "ok"
            | "okay"
            | "sure"
            | "please"
            | "ndiyo"
            | "ndio"
            | "sawa"
            | "naam"
            | "eeh"
            | "ndiyo tafadhali"
            | "sawa tafadhali"
    )
}

/// A plain no to a restated action.
pub fn is_no(norm: &str) -> bool {
    let t = norm.trim_end_matches(['.', '!']).trim();
    matches!(t, "no" | "no thanks" | "no thank you" | "nope" | "hapana" | "hapana asante" | "la")
}

/// In a dialogue waiting for the record number of an action, a message naming one answers it
/// even when it also reads as an order or invoice question ("order 1009").
pub(super) fn answers_slot(bot: &super::Bot, pending: &Pending, c: &super::rules::Classification, norm: &str) -> bool {
    let (Some(def), Awaiting::Slot(slot)) = (bot.rules.intent(&pending.intent), &pending.awaiting) else {
        return false;
    };
    let reading = c.intent.as_deref().and_then(|i| bot.rules.intent(i)).map(|d| d.action);
    matches!(def.action, Action::CancelOrder | Action::ReturnRefund | Action::InvoiceCopy)
        && matches!(reading, None | Some(Action::OrderStatus | Action::InvoiceStatus))
        && bot.rules.extract_slot(&pending.intent, slot, norm).is_some()
}

impl Turn<'_> {
    /// `cancel_order`, `return_refund` or `invoice_copy`: with the record's number, restate or
    /// act; without one, the customer's only matching record (by their proven emails) or a
    /// question for the number, remembered with the intent so the next message can answer it.
    pub(super) async fn act(&mut self, def: &IntentDef, mut slots: BTreeMap<String, String>) -> Result<(), Error> {
        if def.action == Action::InvoiceCopy && !self.guard.codes_enabled() {
            // Without the email channel there is no way to mail it: a person takes it.
            self.handoff_now(HandoffReason::Asked);
            return Ok(());
        }
        if def.action != Action::InvoiceCopy {
            // The first words of the request are its reason, not the number given later.
            slots.entry(REASON.into()).or_insert_with(|| self.raw.to_string());
        }
        let slot = super::dialogue::record_slot(def.action);
        if let Some(number) = slots.get(slot).cloned() {
            return self.start_action(def, &number, slots).await;
        }
        if self.out.state.locked {
            self.say("verify_locked", Value::UNDEFINED);
            return Ok(());
        }
        match self.only_record(def.action).await? {
            Some(number) => {
                slots.insert(slot.to_string(), number.clone());
                self.start_action(def, &number, slots).await
            }
            None => {
                self.prompt(def, slot, slots);
                Ok(())
            }
        }
    }

    /// The one record of the customer's proven emails that the action fits (an order that can
    /// still be cancelled, one that has shipped for a return, any invoice), if there is exactly one.
    async fn only_record(&self, action: Action) -> Result<Option<String>, Error> {
        let mut emails: Vec<&String> = self.verified_emails.iter().chain(&self.strong_emails).collect();
        emails.extend(&self.out.state.code_proven);
        emails.sort();
        emails.dedup();
        let mut found: Vec<String> = Vec::new();
        for email in emails {
            if action == Action::InvoiceCopy {
                found.extend(self.backoffice.invoices_of(email).await?.into_iter().map(|i| i.invoice_number));
                continue;
            }
            let fits = |status: &str| match action {
                Action::CancelOrder => matches!(status, "pending" | "processing"),
                _ => matches!(status, "shipped" | "delivered"),
            };
            let orders = self.backoffice.orders_of(email).await?;
            found.extend(orders.into_iter().filter(|o| fits(&o.status)).map(|o| o.order_number));
        }
        found.sort();
        found.dedup();
        Ok(if found.len() == 1 { found.pop() } else { None })
    }

    /// The email is proven strongly enough to act on its records.
    fn may_act(&self, email: &str) -> bool {
        self.strong_emails.iter().any(|e| e == email) || self.out.state.code_proven.iter().any(|e| e == email)
    }

    /// `cancel_order` or `return_refund` with an order number: restate it and ask, or say why
    /// the bot cannot act.
    pub(super) async fn start_action(
        &mut self,
        def: &IntentDef,
        number: &str,
        slots: BTreeMap<String, String>,
    ) -> Result<(), Error> {
        if self.out.state.locked {
            self.say("verify_locked", Value::UNDEFINED);
            return Ok(());
        }
        if def.action == Action::InvoiceCopy {
            return self.start_invoice_copy(def, number).await;
        }
        let order = self.backoffice.order(number).await?;
        let owner = order.as_ref().map(|o| o.customer_email.to_lowercase());
        match order {
            Some(order) if self.may_act(&order.customer_email.to_lowercase()) => {
                if def.action == Action::ReturnRefund {
                    return self.start_return(def, order, slots).await;
                }
                let locale = self.locale();
                if order.status == "cancelled" {
                    self.say("cancel_already", context! { order => order_value(&order, locale) });
                    return Ok(());
                }
                let items = self.items(number).await?;
                self.out.state.pending = Some(Pending { intent: def.name.clone(), slots, awaiting: Awaiting::Confirm });
                self.say("cancel_confirm", context! { order => order_value(&order, locale), items => items });
            }
            _ => self.weak_proof(def, number, owner),
        }
        Ok(())
    }

    /// The record's owner is not proven strongly: a one-time code when it is proven by number and
    /// email (and codes can be mailed), else a person takes it with the number.
    fn weak_proof(&mut self, def: &IntentDef, number: &str, owner: Option<String>) {
        match owner.filter(|e| self.verified_emails.contains(e)) {
            Some(email) if self.guard.codes_enabled() => {
                self.out.state.code_offer =
                    Some(CodeOffer { intent: def.name.clone(), number: number.to_string(), email });
                self.out.state.offered_human = true;
                self.say("action_needs_code", context! { number => crate::backoffice::record_key(number) });
            }
            _ => self.handoff_now(HandoffReason::Asked),
        }
    }

    /// `invoice_copy`: mailed at once to the address on the invoice, never another.
    async fn start_invoice_copy(&mut self, def: &IntentDef, number: &str) -> Result<(), Error> {
        let invoice = self.backoffice.invoice(number).await?;
        let owner = invoice.as_ref().map(|i| i.customer_email.to_lowercase());
        match invoice {
            Some(i) if self.may_act(&i.customer_email.to_lowercase()) => {
                let email = i.customer_email.to_lowercase();
                let ctx = context! { invoice => super::render::invoice_value(&i, self.locale()) };
                self.say("invoice_copy_sent", ctx);
                let note = format!("Bot emailed a copy of invoice {} to the address on it", i.invoice_number);
                self.out.actions.push(ActionRecord {
                    action: "invoice_copy",
                    result: "done",
                    number: i.invoice_number.clone(),
                    email,
                    note,
                });
                self.out.invoice_mail = Some(i);
            }
            _ => self.weak_proof(def, number, owner),
        }
        Ok(())
    }

    async fn lines(&self, number: &str) -> Result<Vec<OrderLine>, Error> {
        Ok(self.backoffice.order_detail(number).await?.map(|d| d.lines).unwrap_or_default())
    }

    async fn items(&self, number: &str) -> Result<i64, Error> {
        Ok(self.lines(number).await?.iter().map(|l| l.quantity).sum())
    }

    /// `return_refund` for an order the customer may act on: the state of its request ("where
    /// is my refund"), or a return to confirm when the order has shipped.
    async fn start_return(
        &mut self,
        def: &IntentDef,
        order: Order,
        slots: BTreeMap<String, String>,
    ) -> Result<(), Error> {
        let locale = self.locale();
        let requests = self.backoffice.requests_of(&order.order_number).await?;
        let ctx = context! { order => order_value(&order, locale) };
        if let Some(r) = requests.first() {
            // A request exists: say where it is rather than open another.
            self.say("refund_state", context! { request => request_value(r), ..ctx });
            return Ok(());
        }
        if is_status_question(&slots) {
            self.say("refund_none", ctx);
            return Ok(());
        }
        if order.status != "shipped" && order.status != "delivered" {
            self.out.state.offered_human = true;
            self.say("return_not_yet", ctx);
            return Ok(());
        }
        let lines = self.lines(&order.order_number).await?;
        // Lines may be named in the request or in the answer giving its number.
        let reason = slots.get(REASON).map_or("", String::as_str);
        let named = named_lines(&lines, &format!("{reason} {}", self.raw));
        let mut slots = slots;
        let (items, names) = if named.is_empty() || named.len() == lines.len() {
            slots.remove(SKUS);
            (lines.iter().map(|l| l.quantity).sum::<i64>(), Vec::new())
        } else {
            slots.insert(SKUS.into(), named.iter().map(|l| l.sku.as_str()).collect::<Vec<_>>().join(","));
            (named.iter().map(|l| l.quantity).sum(), named.iter().map(|l| l.name.clone()).collect())
        };
        self.out.state.pending = Some(Pending { intent: def.name.clone(), slots, awaiting: Awaiting::Confirm });
        self.say("return_confirm", context! { items => items, lines => names, ..ctx });
        Ok(())
    }

    /// The customer's answer to the restated action in `pending`; `None`: not an answer.
    pub(super) async fn answer(&mut self, pending: &Pending, norm: &str) -> Option<Result<(), Error>> {
        if is_explicit_yes(norm) {
            self.out.intent = Some(pending.intent.clone());
            return Some(self.confirm(pending).await);
        }
        is_no(norm).then(|| {
            self.out.intent = Some(pending.intent.clone());
            self.say("action_declined", Value::UNDEFINED);
            Ok(())
        })
    }

    /// The customer said yes to the restated action in `pending`.
    pub(super) async fn confirm(&mut self, pending: &Pending) -> Result<(), Error> {
        let number = pending.slots.get("order_number").cloned().unwrap_or_default();
        let locale = self.locale();
        // The proof is checked again at the moment of acting.
        let Some(order) = self.backoffice.order(&number).await? else {
            self.handoff_now(HandoffReason::Asked);
            return Ok(());
        };
        let email = order.customer_email.to_lowercase();
        if !self.may_act(&email) {
            self.handoff_now(HandoffReason::Asked);
            return Ok(());
        }
        let ctx = context! { order => order_value(&order, locale) };
        if self.def(&pending.intent).is_some_and(|d| d.action == Action::ReturnRefund) {
            return self.open_return(pending, order, email).await;
        }
        let (result, note) = match self.backoffice.cancel_order(&number).await {
            Ok(CancelOutcome::Cancelled) => {
                self.say("cancel_done", ctx);
                ("done", format!("Bot cancelled order {} (customer said yes)", order.order_number))
            }
            Ok(CancelOutcome::AlreadyCancelled) => {
                // Nothing was done this time: no second activity.
                self.say("cancel_already", ctx);
                return Ok(());
            }
            Ok(CancelOutcome::Refused { state }) => {
                self.out.state.offered_human = true;
                self.say("cancel_refused", context! { state => state.clone(), ..ctx });
                ("refused", format!("Bot could not cancel order {}: it is {state}", order.order_number))
            }
            Ok(CancelOutcome::NotFound) | Err(_) => {
                self.out.state.offered_human = true;
                self.say("action_failed", ctx);
                ("failed", format!("Bot failed to cancel order {}", order.order_number))
            }
        };
        self.out.actions.push(ActionRecord { action: "cancel_order", result, number: order.order_number, email, note });
        Ok(())
    }
}

impl Turn<'_> {
    async fn open_return(&mut self, pending: &Pending, order: Order, email: String) -> Result<(), Error> {
        let locale = self.locale();
        let ctx = context! { order => order_value(&order, locale) };
        let reason = pending.slots.get(REASON).cloned().unwrap_or_default();
        let kind = if reason.to_lowercase().contains("refund") { RequestKind::Refund } else { RequestKind::Return };
        let skus: Vec<String> = pending
            .slots
            .get(SKUS)
            .map(|s| s.split(',').filter(|x| !x.is_empty()).map(str::to_string).collect())
            .unwrap_or_default();
        let new = NewRequest { kind, order_number: order.order_number.clone(), skus, reason };
        let number = order.order_number.clone();
        // A request opened meanwhile (another socket, a replayed message) is not opened twice.
        if let Some(r) = self.backoffice.requests_of(&number).await?.first() {
            self.say("refund_state", context! { request => request_value(r), ..ctx });
            return Ok(());
        }
        let (result, note) = match self.backoffice.open_request(&new).await {
            Ok(Some(r)) => {
                let note = format!(
                    "Bot opened {} request {} for order {number} (customer said yes)",
                    r.kind.as_str(),
                    r.request_id
                );
                self.say("return_opened", context! { request => request_value(&r), ..ctx });
                ("done", note)
            }
            Ok(None) | Err(_) => {
                self.out.state.offered_human = true;
                self.say("action_failed", ctx);
                ("failed", format!("Bot failed to open a return for order {number}"))
            }
        };
        self.out.actions.push(ActionRecord { action: "return_refund", result, number, email, note });
        Ok(())
    }
}

/// The slot where `return_refund` keeps the customer's own words, as the request's reason.
pub const REASON: &str = "reason";

/// The slot where `return_refund` keeps the SKUs of the lines the customer named (comma-separated).
pub const SKUS: &str = "skus";

/// Words of product names too common to name a line by.
const COMMON_WORDS: &[&str] = &["with", "pair", "from", "pack", "set", "for", "and", "the"];

/// The lines the customer named ("return the lantern from 1001"): by SKU, or by a word of the
/// product name (4 letters or more). None named: the caller takes all of them.
pub fn named_lines<'l>(lines: &'l [OrderLine], text: &str) -> Vec<&'l OrderLine> {
    let text = text.to_lowercase();
    let words: Vec<&str> = text.split(|c: char| !c.is_alphanumeric() && c != '-').filter(|w| !w.is_empty()).collect();
    lines
        .iter()
        .filter(|l| {
            let sku = l.sku.to_lowercase();
            let name = l.name.to_lowercase();
            words.contains(&sku.as_str())
                || name
                    .split(|c: char| !c.is_alphanumeric())
                    .filter(|w| w.chars().count() >= 4 && !COMMON_WORDS.contains(w))
                    .any(|w| words.contains(&w))
        })
        .collect()
}

/// "Where is my refund?": the customer asks about a request rather than for one.
fn is_status_question(slots: &BTreeMap<String, String>) -> bool {
    let text = slots.get(REASON).map(|r| r.to_lowercase()).unwrap_or_default();
    ["where", "status", "any news", "update on", "wapi", "lini", "hali ya"].iter().any(|w| text.contains(w))
}

/// A request as templates see it.
pub fn request_value(r: &Request) -> Value {
    context! { id => &r.request_id, kind => r.kind.as_str(), state => &r.state, order_number => &r.order_number }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_explicit_yes_confirms() {
        for yes in ["yes", "Yes!", "ndiyo", "sawa", "yes please"] {
            assert!(is_explicit_yes(&super::super::normalize::normalize(yes)), "{yes}");
        }
        for not in ["ok", "please", "yes cancel 1002 too", "maybe", "no"] {
            assert!(!is_explicit_yes(&super::super::normalize::normalize(not)), "{not}");
        }
        assert!(is_no("hapana") && is_no("no.") && !is_no("yes"));
    }

    fn line(sku: &str, name: &str) -> OrderLine {
        OrderLine {
            order_number: "1001".into(),
            sku: sku.into(),
            name: name.into(),
            quantity: 1,
            unit_price_minor: None,
        }
    }

    #[test]
    fn lines_are_named_by_product_word_or_sku() {
        let lines = [line("WC-MSK-09", "Makonde ebony mask"), line("SL-LAN-10", "Solar lantern with USB port")];
        let skus = |text: &str| named_lines(&lines, text).iter().map(|l| l.sku.clone()).collect::<Vec<_>>();
        assert_eq!(skus("I want to return the lantern from order 1001"), ["SL-LAN-10"]);
        assert_eq!(skus("return sl-lan-10 please"), ["SL-LAN-10"]);
        assert_eq!(skus("the Mask arrived broken, order 1001"), ["WC-MSK-09"]);
        assert!(skus("return order 1001 with everything in it").is_empty(), "common words name nothing");
        assert_eq!(skus("return the mask and the lantern").len(), 2);
    }
}
