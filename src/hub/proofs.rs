//! The hub's side of proof limits and one-time codes (policy in [`crate::bot::proof`]): a
//! [`TurnGuard`] per customer turn counts attempts in the store under the client address, the
//! claimed email and the record, reports security events, and checks typed codes; [`mail_code`]
//! turns the bot's code request into a hashed code and its mail, committed with the turn.
//!
//! Writes here happen while the turn is computed, before it is committed: a count must hold even
//! when the turn is retried or lost. They are keyed by the turn's attempt id (one per inbound
//! message), so a recomputed turn does not count twice. The one write that waits for the commit
//! is a success's forgiveness: it rides with the turn (`Turn::forgive_attempt`), so a turn that
//! is never stored leaves its attempt counted, which errs on the strict side.

use super::Hub;
use crate::bot::proof::{self, CodeCheck, CodeRequest, ProofGuard, Verdict};
use crate::domain::{Locale, new_id, now_ms};
use crate::security::SecurityEvent;
use crate::store::{self, ProofMail};
use futures_util::future::BoxFuture;
use hmac::{Hmac, Mac};
use minijinja::{Value, context};
use sha2::Sha256;
use std::sync::atomic::{AtomicBool, Ordering};

/// Prune old failures and codes at most this often (per process).
const PRUNE_EVERY_MS: i64 = 60_000;

impl Hub {
    /// Whether the bot may mail one-time codes (set when the email channel is configured).
    pub fn set_codes_enabled(&self, enabled: bool) {
        self.codes_enabled.store(enabled, Ordering::Relaxed);
    }

    /// [`Hub::customer_message`] from a widget socket: failed proofs are also counted against
    /// the client's address (see [`crate::bot::proof`]).
    pub async fn customer_message_from(
        &self,
        conversation_id: &str,
        text: &str,
        client_msg_id: Option<&str>,
        client: std::net::IpAddr,
    ) -> super::Result<super::Ack> {
        let inbound = super::Inbound { text, client_msg_id, external_id: None, channel_meta: None };
        self.receive_from(conversation_id, inbound, Some(client)).await
    }
}

/// Proof limits for one turn of one conversation.
pub struct TurnGuard<'a> {
    hub: &'a Hub,
    conversation_id: &'a str,
    /// `ip:<address>` for the widget, `contact:<id>` on channels without an address.
    address: String,
    /// One per inbound message: a recomputed turn reuses it.
    attempt: &'a str,
    /// The attempt succeeded: the turn's commit deletes its failure rows.
    succeeded: AtomicBool,
}

impl<'a> TurnGuard<'a> {
    pub(super) fn new(
        hub: &'a Hub,
        conv: &'a store::ConversationRow,
        attempt: &'a str,
        client: Option<std::net::IpAddr>,
    ) -> TurnGuard<'a> {
        let address = match client {
            Some(ip) => format!("ip:{}", ip.to_canonical()),
            None => format!("contact:{}", conv.contact_id),
        };
        TurnGuard { hub, conversation_id: &conv.conversation_id, address, attempt, succeeded: AtomicBool::new(false) }
    }

    /// The attempt to forgive in the turn's commit, if a proof of this turn succeeded.
    pub(super) fn forgive(&self) -> Option<String> {
        self.succeeded.load(Ordering::Relaxed).then(|| self.attempt.to_string())
    }

    fn store(&self) -> &store::Store {
        self.hub.store()
    }

    /// Counts the attempt under `keys`, then judges it by the failures before it; a refused
    /// attempt is not counted. Only the first `gated` keys can refuse.
    async fn gate(&self, keys: &[(&str, &str)], gated: usize) -> store::Result<Verdict> {
        let now = now_ms();
        self.prune(now).await;
        self.store().proof_attempt_record(self.attempt, keys, now).await?;
        let stats = self.store().proof_failure_stats(&keys[..gated], now - proof::WINDOW_MS, self.attempt).await?;
        let verdict = keys.iter().zip(&stats).fold(Verdict::Allowed, |v, ((scope, _), s)| {
            v.and(proof::verdict(limit_of(scope), s.failures, s.last_at, now))
        });
        if verdict != Verdict::Allowed {
            self.store().proof_attempt_forgive(self.attempt).await?;
            let detail = match verdict {
                Verdict::Throttled => "over the limit of failed proofs",
                _ => "too soon after a failed proof",
            };
            self.hub.security.record(&self.hub.metrics, SecurityEvent::ProofThrottled, &self.address, detail);
        }
        Ok(verdict)
    }

    fn failed(&self, detail: &str) {
        self.hub.security.record(&self.hub.metrics, SecurityEvent::FailedProof, &self.address, detail);
    }

    async fn prune(&self, now: i64) {
        let last = self.hub.proofs_pruned_at.load(Ordering::Relaxed);
        if now - last < PRUNE_EVERY_MS
            || self.hub.proofs_pruned_at.compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed).is_err()
        {
            return;
        }
        if let Err(e) = self.store().prune_proofs(now - proof::WINDOW_MS).await {
            tracing::warn!(error = %e, "cannot prune old proof attempts");
        }
    }
}

fn limit_of(scope: &str) -> proof::Limit {
    match scope {
        "address" => proof::ADDRESS,
        "email" => proof::EMAIL,
        _ => proof::RECORD,
    }
}

impl ProofGuard for TurnGuard<'_> {
    fn begin<'a>(&'a self, email: &'a str, record: &'a str) -> BoxFuture<'a, store::Result<Verdict>> {
        Box::pin(async move {
            let keys = [("address", self.address.as_str()), ("email", email), ("record", record)];
            self.gate(&keys, keys.len()).await
        })
    }

    fn settle(&self, ok: bool) -> BoxFuture<'_, store::Result<()>> {
        Box::pin(async move {
            if ok {
                // Forgiven in the turn's own commit: one write instead of two. Until then (a
                // few ms) the attempt counts as a failure, which only ever errs on the strict
                // side; a turn that is never stored leaves it counted (a repeat is forgiven by
                // the hub).
                self.succeeded.store(true, Ordering::Relaxed);
                Ok(())
            } else {
                self.failed("wrong number or email");
                Ok(())
            }
        })
    }

    fn check_code<'a>(&'a self, code: &'a str) -> BoxFuture<'a, store::Result<CodeCheck>> {
        Box::pin(async move {
            let now = now_ms();
            let active =
                self.store().active_proof_code(self.conversation_id, now, proof::CODE_TRIES, self.attempt).await?;
            // Counted under the code's email and record too, but only the address can refuse:
            // an attacker who used up an email's limit must not lock its owner out of codes.
            let mut keys = vec![("address", self.address.as_str())];
            if let Some(c) = &active {
                keys.push(("email", c.email.as_str()));
                keys.push(("record", c.record.as_str()));
            }
            let verdict = self.gate(&keys, 1).await?;
            if verdict != Verdict::Allowed {
                return Ok(CodeCheck::Refused(verdict));
            }
            let Some(active) = active else {
                self.failed("one-time code typed, none active");
                return Ok(CodeCheck::Wrong);
            };
            if code_hash(&active.proof_code_id, self.conversation_id, code) == active.code_hash {
                self.store().proof_code_used(&active.proof_code_id, self.attempt).await?;
                self.store().proof_attempt_forgive(self.attempt).await?;
                return Ok(CodeCheck::Valid { email: active.email });
            }
            if active.used_by.is_none() {
                self.store().proof_code_tried(&active.proof_code_id).await?;
            }
            self.failed("wrong one-time code");
            Ok(CodeCheck::Wrong)
        })
    }

    fn codes_enabled(&self) -> bool {
        self.hub.codes_enabled.load(Ordering::Relaxed)
    }
}

/// HMAC-SHA256 of the code, keyed by the code's random id and bound to its conversation.
fn code_hash(proof_code_id: &str, conversation_id: &str, code: &str) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(proof_code_id.as_bytes()).expect("HMAC-SHA256 takes a key of any length");
    mac.update(conversation_id.as_bytes());
    mac.update(b":");
    mac.update(code.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// Adds the code the bot asked for to the turn: a private note for agents (never the code) and
/// the hashed code with its mail, written in the turn's transaction.
pub(super) async fn add_code_mail(
    hub: &Hub,
    turn: &mut store::Turn,
    request: &CodeRequest,
    locale: Locale,
) -> store::Result<()> {
    let index = turn.messages.len();
    if let Some(mail) = mail_code(hub, &turn.conversation_id, request, locale, index).await? {
        let note = format!("A one-time code was mailed to the email on {} at the customer's request.", request.record);
        turn.messages.push(store::NewMessage::ours(crate::domain::Author::System, "Kituo", &note, true));
        turn.proof_mail = Some(mail);
    }
    Ok(())
}

/// A fresh code for the bot's request, hashed, with its mail in `locale`: `None` when codes are
/// off or the email had its share of codes this hour (the customer is told the same either way).
async fn mail_code(
    hub: &Hub,
    conversation_id: &str,
    request: &CodeRequest,
    locale: Locale,
    message_index: usize,
) -> store::Result<Option<ProofMail>> {
    if !hub.codes_enabled.load(Ordering::Relaxed) {
        return Ok(None);
    }
    let now = now_ms();
    if hub.store().proof_codes_sent_since(&request.email, now - proof::WINDOW_MS).await? >= proof::CODES_PER_EMAIL {
        tracing::info!(target: "kituo::security", "one-time code not sent: this email had its share this hour");
        return Ok(None);
    }
    let code = format!("{:06}", rand::random_range(0..1_000_000u32));
    let proof_code_id = new_id();
    let (kind, number) = request.record.split_once(':').unwrap_or(("order", request.record.as_str()));
    let ctx = context! {
        code => &code, kind => kind, number => number, minutes => proof::CODE_TTL_MS / 60_000,
        locale => locale.as_str(),
    };
    let bot = hub.bot();
    let render = |name: &str, ctx: Value| {
        bot.templates
            .render(locale, name, ctx.clone())
            .or_else(|e| proof::builtin_template(locale, name, ctx).unwrap_or(Err(e)))
            .map_err(|e| store::Error::Invalid(format!("template {name}: {e}")))
    };
    let payload = serde_json::json!({
        "to": request.email,
        "subject": render("proof_code_subject", ctx.clone())?,
        "body": render("proof_code_email", ctx)?,
    })
    .to_string();
    Ok(Some(ProofMail {
        code_hash: code_hash(&proof_code_id, conversation_id, &code),
        proof_code_id,
        email: request.email.clone(),
        record: request.record.clone(),
        expires_at: now + proof::CODE_TTL_MS,
        message_index,
        payload,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hash_depends_on_code_id_and_conversation() {
        let h = code_hash("id1", "conv", "123456");
        assert_eq!(h.len(), 64);
        assert_eq!(h, code_hash("id1", "conv", "123456"));
        assert_ne!(h, code_hash("id2", "conv", "123456"));
        assert_ne!(h, code_hash("id1", "other", "123456"));
        assert_ne!(h, code_hash("id1", "conv", "123457"));
    }
}
