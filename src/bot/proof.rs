//! Proof attempts: limits that hold across conversations, and the one-time code.
//!
//! A customer proves an email by typing it with the number of an order or invoice that carries
//! it, or by typing a 6-digit code sent to the email on that record. Every failed proof is counted
//! under three keys, in a sliding window of one hour stored in the database (so it holds across
//! conversations, sockets, nodes and restarts):
//! - the client address (the widget socket's peer address; on Discord and email, which have no
//!   address, the contact, i.e. the channel identity),
//! - the claimed email,
//! - the record (`order:1001`, `invoice:INV-2026-0019`).
//!
//! Limits ([`EMAIL`], [`RECORD`], [`ADDRESS`]): at most 5 failures per email and per record and
//! 20 per address in the hour. Before that, delays grow: after 2 failures on an email or record
//! (5 on an address) the next attempt must wait 5 s, then 15 s, 45 s … (at most 5 minutes) after
//! the previous failure. The bot never sleeps: an attempt that comes too early is refused unchecked
//! with "please wait N seconds" (so no socket task or other conversation is held up), and an
//! attempt over a limit is refused unchecked with a plain "too many attempts". Neither reply
//! depends on whether the record exists. Refused attempts are not counted as failures, and a
//! successful proof is not a failure either.
//!
//! Counting is race-free across sockets and nodes: an attempt is written as a failure *before*
//! the check and the counts exclude only its own rows, so of many concurrent guesses each sees
//! all that started before it. A refusal deletes its rows again at once; a success deletes them
//! in its turn's own commit (one write less on the hot path; until that commit, a few ms, the
//! attempt counts as a failure, which only ever errs on the strict side).
//!
//! One-time code (only when the email channel, and so SMTP, is configured): after a failed or
//! refused proof the bot offers "reply “code”"; the customer replies `code` (`msimbo`), and if the
//! email they claimed is the one on the record, a 6-digit code is mailed to it through the outbox
//! in the customer's language. The reply is the same whether or not a mail was sent (it never
//! confirms the record or the email), and a code is only ever sent to the email on the record,
//! never to an address that is not on it. The code is valid 10 minutes for 5 tries, is stored as an
//! HMAC, and proves that email for the conversation and the contact, like a number + email proof.
//! Code tries are gated by the address limit and the code's own tries only, not by the email or
//! record limits: that is what lets the legitimate customer in from another address while an
//! attacker has exhausted her email's limit. At most 3 codes go to one email per hour. Without
//! SMTP the bot offers a person instead.

use super::dialogue::{Awaiting, Error, Pending, Turn, record_kind, record_slot};
use super::rules::Action;
use crate::domain::{Locale, Millis};
use futures_util::future::BoxFuture;
use minijinja::{Value, context};
use std::collections::BTreeMap;

/// A limit on failures under one key inside [`WINDOW_MS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    /// Failures after which nothing more is checked until the oldest leaves the window.
    pub max: u32,
    /// Failures allowed without any delay.
    pub free: u32,
}

pub const EMAIL: Limit = Limit { max: 5, free: 2 };
pub const RECORD: Limit = Limit { max: 5, free: 2 };
pub const ADDRESS: Limit = Limit { max: 20, free: 5 };
/// The sliding window failures are counted in.
pub const WINDOW_MS: Millis = 3_600_000;
/// The first delay; each further failure triples it, up to [`MAX_DELAY_SECS`].
const FIRST_DELAY_SECS: u64 = 5;
const MAX_DELAY_SECS: u64 = 300;
/// How long a one-time code is valid, and how many times it may be tried.
pub const CODE_TTL_MS: Millis = 10 * 60_000;
pub const CODE_TRIES: i64 = 5;
/// Codes mailed to one email per window.
pub const CODES_PER_EMAIL: i64 = 3;

/// Whether an attempt may be checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Allowed,
    /// Too early after the last failure: try again in this many seconds.
    Wait {
        seconds: u64,
    },
    /// Over a limit: nothing is checked for a while.
    Throttled,
}

impl Verdict {
    /// The stricter of two verdicts.
    pub fn and(self, other: Verdict) -> Verdict {
        match (self, other) {
            (Verdict::Throttled, _) | (_, Verdict::Throttled) => Verdict::Throttled,
            (Verdict::Wait { seconds: a }, Verdict::Wait { seconds: b }) => Verdict::Wait { seconds: a.max(b) },
            (w @ Verdict::Wait { .. }, _) | (_, w @ Verdict::Wait { .. }) => w,
            _ => Verdict::Allowed,
        }
    }
}

/// Delay required after `failures` failures under a key with `limit`.
pub fn delay_secs(limit: Limit, failures: u32) -> u64 {
    if failures < limit.free {
        return 0;
    }
    let steps = (failures - limit.free).min(10);
    (FIRST_DELAY_SECS * 3u64.pow(steps)).min(MAX_DELAY_SECS)
}

/// The verdict for one key: `failures` in the window, the newest at `last_at`.
pub fn verdict(limit: Limit, failures: u32, last_at: Option<Millis>, now: Millis) -> Verdict {
    if failures >= limit.max {
        return Verdict::Throttled;
    }
    let delay_ms = delay_secs(limit, failures) as Millis * 1000;
    match last_at {
        Some(last) if delay_ms > 0 && last + delay_ms > now => {
            Verdict::Wait { seconds: ((last + delay_ms - now) as u64).div_ceil(1000).max(1) }
        }
        _ => Verdict::Allowed,
    }
}

/// The outcome of typing a one-time code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodeCheck {
    /// The code is right: `email` is proven.
    Valid {
        email: String,
    },
    /// Wrong, expired, used up, or no code was sent: the customer is told the same.
    Wrong,
    Refused(Verdict),
}

/// The hub's side of proofs, asked by the bot during one turn (the bot itself keeps no counts
/// and writes nothing).
pub trait ProofGuard: Send + Sync {
    /// Before a number + email check: counts the attempt as a failure under the address, the
    /// email and the record, and says whether it may be checked (if not, it is not counted).
    fn begin<'a>(&'a self, email: &'a str, record: &'a str) -> BoxFuture<'a, Result<Verdict, crate::store::Error>>;
    /// After the check: a success is forgiven (in the turn's commit); a failure stays counted.
    fn settle(&self, ok: bool) -> BoxFuture<'_, Result<(), crate::store::Error>>;
    /// Checks a typed 6-digit code against the conversation's active code.
    fn check_code<'a>(&'a self, code: &'a str) -> BoxFuture<'a, Result<CodeCheck, crate::store::Error>>;
    /// Whether a code can be mailed (SMTP is configured).
    fn codes_enabled(&self) -> bool;
}

/// No limits and no codes: for the admin's "try the bot" sandbox and benchmarks.
pub struct Unlimited;

impl ProofGuard for Unlimited {
    fn begin<'a>(&'a self, _: &'a str, _: &'a str) -> BoxFuture<'a, Result<Verdict, crate::store::Error>> {
        Box::pin(async { Ok(Verdict::Allowed) })
    }
    fn settle(&self, _: bool) -> BoxFuture<'_, Result<(), crate::store::Error>> {
        Box::pin(async { Ok(()) })
    }
    fn check_code<'a>(&'a self, _: &'a str) -> BoxFuture<'a, Result<CodeCheck, crate::store::Error>> {
        Box::pin(async { Ok(CodeCheck::Wrong) })
    }
    fn codes_enabled(&self) -> bool {
        false
    }
}

/// A code the bot asks the hub to mail: `email` is the one on `record`, checked by the bot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeRequest {
    pub email: String,
    /// `order:<number>` or `invoice:<number>`.
    pub record: String,
}

/// "code", "send me a code", "msimbo", "nitumie msimbo" …
pub fn is_code_request(norm: &str) -> bool {
    let t = norm.trim_end_matches(['.', '!', '?']).trim().trim_matches(['"', '\'', '“', '”']);
    matches!(
        t,
        "code"
            | "a code"
            | "the code"
            | "send code"
            | "send a code"
            | "send the code"
            | "send me a code"
            | "send me the code"
            | "new code"
            | "msimbo"
            | "nitumie msimbo"
            | "tuma msimbo"
            | "msimbo mpya"
            | "code tafadhali"
            | "msimbo tafadhali"
    )
}

/// The digits of a typed code: the message is six digits (spaces and dashes allowed).
pub fn typed_code(text: &str) -> Option<String> {
    let t = text.trim();
    if t.is_empty() || !t.chars().all(|c| c.is_ascii_digit() || c == ' ' || c == '-') {
        return None;
    }
    let digits: String = t.chars().filter(char::is_ascii_digit).collect();
    (digits.len() == 6).then_some(digits)
}

/// The record key a proof is counted under.
pub fn record_key(kind: &str, number: &str) -> String {
    format!("{kind}:{}", number.trim().trim_start_matches('#').to_lowercase())
}

/// The shipped text of the proof (and action prompt) templates, for a rule set stored before
/// they existed.
const BUILTIN: &[(&str, &str)] = &[
    ("en/proof_wait", include_str!("../../templates/en/proof_wait.j2")),
    ("sw/proof_wait", include_str!("../../templates/sw/proof_wait.j2")),
    ("en/proof_throttled", include_str!("../../templates/en/proof_throttled.j2")),
    ("sw/proof_throttled", include_str!("../../templates/sw/proof_throttled.j2")),
    ("en/proof_code_offer", include_str!("../../templates/en/proof_code_offer.j2")),
    ("sw/proof_code_offer", include_str!("../../templates/sw/proof_code_offer.j2")),
    ("en/proof_code_sent", include_str!("../../templates/en/proof_code_sent.j2")),
    ("sw/proof_code_sent", include_str!("../../templates/sw/proof_code_sent.j2")),
    ("en/proof_code_wrong", include_str!("../../templates/en/proof_code_wrong.j2")),
    ("sw/proof_code_wrong", include_str!("../../templates/sw/proof_code_wrong.j2")),
    ("en/proof_code_email", include_str!("../../templates/en/proof_code_email.j2")),
    ("sw/proof_code_email", include_str!("../../templates/sw/proof_code_email.j2")),
    ("en/proof_code_subject", include_str!("../../templates/en/proof_code_subject.j2")),
    ("sw/proof_code_subject", include_str!("../../templates/sw/proof_code_subject.j2")),
    ("en/ask_action_order_number", include_str!("../../templates/en/ask_action_order_number.j2")),
    ("sw/ask_action_order_number", include_str!("../../templates/sw/ask_action_order_number.j2")),
];

/// Renders a proof template from the shipped text; `None` when `name` is not one of them.
pub fn builtin_template(locale: Locale, name: &str, ctx: Value) -> Option<Result<String, minijinja::Error>> {
    let source = BUILTIN.iter().find(|(n, _)| n.split_once('/') == Some((locale.as_str(), name)))?.1;
    Some(minijinja::Environment::new().render_str(source, ctx).map(|t| t.trim().to_string()))
}

/// The dialogue around proofs: refusals, the code offer, the code request and the typed code.
impl Turn<'_> {
    /// An attempt refused unchecked: wait, or too many attempts (then a code or a person).
    pub(super) fn refused(&mut self, verdict: Verdict) {
        let codes = self.out.state.code_offer.is_some();
        match verdict {
            Verdict::Wait { seconds } => self.say("proof_wait", context! { seconds => seconds, codes => codes }),
            _ => {
                // Without a code, a person is the way on: a plain "yes" hands over.
                self.out.state.offered_human = !codes;
                self.say("proof_throttled", context! { codes => codes });
            }
        }
    }

    /// Appends "reply “code” …" to the last reply when a code can be sent.
    pub(super) fn offer_code(&mut self) {
        if self.out.state.code_offer.is_none() {
            return;
        }
        let before = self.out.replies.len();
        self.say("proof_code_offer", Value::UNDEFINED);
        if before > 0 && self.out.replies.len() == before + 1 {
            let offer = self.out.replies.pop().unwrap_or_default();
            if let Some(last) = self.out.replies.last_mut() {
                last.push(' ');
                last.push_str(&offer);
            }
        }
    }

    /// "code": mails a code to the email on the record if it is the email the customer claimed.
    /// The reply is the same either way.
    pub(super) async fn request_code(&mut self) -> Result<(), Error> {
        let Some(offer) = self.out.state.code_offer.clone() else { return Ok(()) };
        let Some(def) = self.def(&offer.intent) else {
            self.out.state.code_offer = None;
            return Ok(());
        };
        let kind = record_kind(def.action);
        self.out.intent = Some(def.name.clone());
        let owner = self.owner_email(def.action, &offer.number).await?;
        if owner.as_deref() == Some(offer.email.as_str()) {
            self.out.code_request =
                Some(CodeRequest { email: offer.email.clone(), record: record_key(kind, &offer.number) });
        }
        let slot = record_slot(def.action);
        self.out.state.pending = Some(Pending {
            intent: def.name.clone(),
            slots: BTreeMap::from([(slot.to_string(), offer.number.clone())]),
            awaiting: Awaiting::Code { email: offer.email.clone() },
        });
        let minutes = CODE_TTL_MS / 60_000;
        self.say(
            "proof_code_sent",
            context! { email => offer.email, kind => kind, number => offer.number, minutes => minutes },
        );
        Ok(())
    }

    /// Six digits typed while a code is awaited.
    pub(super) async fn enter_code(&mut self, pending: Pending, email: &str, code: &str) -> Result<(), Error> {
        match self.guard.check_code(code).await? {
            CodeCheck::Valid { email: proven } if proven == email => {
                self.proven(&proven);
                let Some(def) = self.def(&pending.intent) else { return Ok(()) };
                if let Some(number) = pending.slots.get(record_slot(def.action)).cloned()
                    && self.owner_email(def.action, &number).await?.as_deref() == Some(proven.as_str())
                {
                    if matches!(def.action, Action::CancelOrder | Action::ReturnRefund | Action::InvoiceCopy) {
                        self.out.state.code_proven.push(proven);
                        let slots = pending.slots.clone();
                        self.start_action(def, &number, slots).await?;
                    } else {
                        self.disclose(def, &number, "one_time_code").await?;
                    }
                }
            }
            CodeCheck::Valid { .. } | CodeCheck::Wrong => {
                self.out.state.pending = Some(pending);
                self.say("proof_code_wrong", Value::UNDEFINED);
            }
            CodeCheck::Refused(verdict) => {
                self.out.state.pending = Some(pending);
                self.refused(verdict);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_then_the_limit_refuses() {
        assert_eq!(delay_secs(EMAIL, 0), 0);
        assert_eq!(delay_secs(EMAIL, 1), 0);
        assert_eq!(delay_secs(EMAIL, 2), 5);
        assert_eq!(delay_secs(EMAIL, 3), 15);
        assert_eq!(delay_secs(EMAIL, 4), 45);
        assert_eq!(delay_secs(ADDRESS, 4), 0);
        assert_eq!(delay_secs(ADDRESS, 19), 300);
        let now = 1_000_000;
        assert_eq!(verdict(EMAIL, 1, Some(now), now), Verdict::Allowed);
        assert_eq!(verdict(EMAIL, 2, Some(now - 1000), now), Verdict::Wait { seconds: 4 });
        assert_eq!(verdict(EMAIL, 2, Some(now - 5000), now), Verdict::Allowed);
        assert_eq!(verdict(EMAIL, 5, Some(now - WINDOW_MS / 2), now), Verdict::Throttled);
        assert_eq!(verdict(ADDRESS, 19, None, now), Verdict::Allowed);
        assert_eq!(verdict(ADDRESS, 20, None, now), Verdict::Throttled);
    }

    #[test]
    fn the_stricter_verdict_wins() {
        let w = |s| Verdict::Wait { seconds: s };
        assert_eq!(Verdict::Allowed.and(w(3)), w(3));
        assert_eq!(w(3).and(w(9)), w(9));
        assert_eq!(w(3).and(Verdict::Throttled), Verdict::Throttled);
        assert_eq!(Verdict::Allowed.and(Verdict::Allowed), Verdict::Allowed);
    }

    #[test]
    fn codes_and_code_requests_are_recognised() {
        assert!(is_code_request("code"));
        assert!(is_code_request("msimbo"));
        assert!(is_code_request("send me a code!"));
        assert!(!is_code_request("what is the discount code"));
        assert_eq!(typed_code(" 123 456 ").as_deref(), Some("123456"));
        assert_eq!(typed_code("order 1001"), None);
        assert_eq!(typed_code("12"), None);
        assert_eq!(record_key("order", "#A-17 "), "order:a-17");
    }
}
