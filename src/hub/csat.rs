//! Satisfaction and SLA on the hub's side. A resolution tells the customer so and asks for a
//! 1–5 rating (the notice is written with the resolution, its request row in the same
//! transaction; on email it carries signed rating links, on Discord it asks for a number as a
//! reply). Ratings come from the widget frame, the rating page or a channel reply; one per
//! resolution. SLA: the clocks of summaries and the sweep that marks breaches once.

use super::bus::{AgentEvent, Event};
use super::{Ack, Hub, Inbound, Result};
use crate::domain::ownership::Ownership;
use crate::domain::{Author, Channel, ConversationStatus, now_ms};
use crate::queue::sla::{self, ClockInput};
use crate::store::{ConversationRow, ConversationSummary, CsatRequest, NewCsat, NewMessage, RateRefusal, SlaKind};
use hmac::{Hmac, Mac};
use minijinja::context;
use sha2::Sha256;
use std::sync::Arc;

/// `author_name` of the resolution notice: the widget knows it by this (message kind
/// `csat_request`).
pub const CSAT_AUTHOR: &str = "Kituo";
/// Longest rating comment kept (characters).
pub const MAX_COMMENT_CHARS: usize = 1000;
/// How far back the SLA sweep looks (conversations updated within).
const SWEEP_WINDOW_MS: i64 = 14 * 86_400_000;

/// A rating and comment read from a channel reply: "5", "4 - quick and kind", "3/5 ok".
pub fn parse_rating_reply(text: &str) -> Option<(i64, Option<String>)> {
    let t = text.trim();
    let mut chars = t.chars();
    let first = chars.next()?;
    let rating = first.to_digit(10).filter(|d| (1..=5).contains(d))? as i64;
    let rest = chars.as_str();
    if rest.starts_with(|c: char| c.is_ascii_digit() || c == '.' || c == ',') {
        return None; // "10", "2.5", "3,000" are not ratings
    }
    let rest = rest.strip_prefix("/5").unwrap_or(rest);
    let comment = rest.trim_start_matches(|c: char| c.is_whitespace() || "-:,.!–—".contains(c)).trim();
    Some((rating, (!comment.is_empty()).then(|| comment.chars().take(MAX_COMMENT_CHARS).collect())))
}

/// Parses a rating's comment: trimmed, empty as none, over the limit refused.
pub fn parse_comment(comment: Option<&str>) -> std::result::Result<Option<String>, String> {
    let cleaned = comment.map(crate::domain::without_controls);
    let c = cleaned.as_deref().map(str::trim).filter(|c| !c.is_empty());
    match c {
        Some(c) if c.chars().count() > MAX_COMMENT_CHARS => {
            Err(format!("comment is {} characters; the limit is {MAX_COMMENT_CHARS}", c.chars().count()))
        }
        c => Ok(c.map(str::to_string)),
    }
}

impl Hub {
    /// Where the public pages are reached (rating links in mails).
    pub fn set_public_url(&self, url: &str) {
        *self.public_url.write().expect("public url lock poisoned: a holder panicked") =
            url.trim_end_matches('/').to_string();
    }

    async fn signing_key(&self) -> Result<&String> {
        Ok(self.csat_key.get_or_try_init(|| self.store.csat_signing_key()).await?)
    }

    /// `<csat_id>.<HMAC-SHA256(key, csat_id)>`: the rating page's token.
    pub async fn csat_token(&self, csat_id: &str) -> Result<String> {
        let key = self.signing_key().await?;
        let mut mac = Hmac::<Sha256>::new_from_slice(key.as_bytes()).expect("HMAC accepts keys of any length");
        mac.update(csat_id.as_bytes());
        Ok(format!("{csat_id}.{}", hex::encode(mac.finalize().into_bytes())))
    }

    /// The request id a token names, if its signature holds (checked in constant time).
    pub async fn csat_id_of_token(&self, token: &str) -> Result<Option<String>> {
        let Some((id, sig)) = token.split_once('.') else { return Ok(None) };
        let Ok(sig) = hex::decode(sig) else { return Ok(None) };
        let key = self.signing_key().await?;
        let mut mac = Hmac::<Sha256>::new_from_slice(key.as_bytes()).expect("HMAC accepts keys of any length");
        mac.update(id.as_bytes());
        Ok(mac.verify_slice(&sig).is_ok().then(|| id.to_string()))
    }

    /// The notice a resolution writes, its rating request, and where the notice is delivered.
    pub(super) async fn resolution_notice(
        &self,
        conv: &ConversationRow,
        to: &Ownership,
    ) -> Result<(NewMessage, NewCsat, Option<String>)> {
        let csat = NewCsat {
            csat_id: crate::domain::new_id(),
            channel: conv.channel.clone(),
            agent_id: to.assignee.clone(),
            team: to.team.clone(),
        };
        let mut urls = Vec::new();
        if conv.channel == Channel::Email.as_str() {
            let token = self.csat_token(&csat.csat_id).await?;
            let base = self.public_url.read().expect("public url lock poisoned: a holder panicked").clone();
            urls = (1..=5).map(|rating| (rating, format!("{base}/csat/{token}?rating={rating}"))).collect();
        }
        let links: Vec<_> = urls.iter().map(|(rating, url)| context! { rating => rating, url => url }).collect();
        let ctx = context! { channel => &conv.channel, links => links };
        // A rule set stored before these templates existed lacks them: the plain fallback still
        // carries the rating links.
        let text = self.bot().templates.render(conv.locale, "resolved_csat", ctx).unwrap_or_else(|e| {
            tracing::warn!(error = %e, "resolved_csat template unavailable; using the built-in text");
            let mut text =
                String::from("This conversation is resolved. How did we do, from 1 (poor) to 5 (excellent)?");
            for (rating, url) in &urls {
                text.push_str(&format!("\n{rating}: {url}"));
            }
            text
        });
        let outbound = (conv.channel != Channel::Web.as_str()).then(|| conv.channel.clone());
        Ok((NewMessage::ours(Author::System, CSAT_AUTHOR, &text, false), csat, outbound))
    }

    /// Rates a request (from the widget or the rating page). `conversation_id`, when given, must
    /// be the request's. The consoles see the rating at once.
    pub async fn rate(
        &self,
        csat_id: &str,
        conversation_id: Option<&str>,
        rating: i64,
        comment: Option<&str>,
    ) -> Result<std::result::Result<CsatRequest, RateRefusal>> {
        let Some(request) = self.store.csat_request(csat_id).await? else { return Ok(Err(RateRefusal::NoRequest)) };
        if conversation_id.is_some_and(|c| c != request.conversation_id) {
            return Ok(Err(RateRefusal::NoRequest));
        }
        if let Err(refused) = self.store.rate_csat(csat_id, rating, comment).await? {
            return Ok(Err(refused));
        }
        self.rated(&request.channel, rating);
        self.publish_summary(&request.conversation_id).await;
        Ok(Ok(CsatRequest { rating: Some(rating), comment: comment.map(str::to_string), ..request }))
    }

    fn rated(&self, channel: &str, rating: i64) {
        self.metrics.count("kituo_csat_ratings_total", &format!("channel=\"{channel}\",rating=\"{rating}\""), 1);
    }

    /// A reply on email or Discord to a resolved conversation whose rating is pending: when it
    /// reads as a rating ("5", "4 - quick"), it is stored with our thanks and the conversation
    /// stays resolved. `None`: not a rating; the message goes its usual way.
    pub(super) async fn csat_reply(&self, conversation_id: &str, inbound: &Inbound<'_>) -> Result<Option<Ack>> {
        let Some((rating, comment)) = parse_rating_reply(inbound.text) else { return Ok(None) };
        let Some(conv) = self.store.conversation(conversation_id).await? else { return Ok(None) };
        if conv.channel == Channel::Web.as_str() || conv.status != ConversationStatus::Resolved {
            return Ok(None);
        }
        let Some(request) = self.store.latest_csat(conversation_id).await? else { return Ok(None) };
        if request.rating.is_some() {
            return Ok(None);
        }
        let thanks = self.csat_thanks(conv.locale, rating);
        let mut customer = NewMessage::ours(Author::Customer, "Customer", inbound.text, false);
        customer.external_id = inbound.external_id.map(str::to_string);
        let messages = [customer, NewMessage::ours(Author::System, CSAT_AUTHOR, &thanks, false)];
        let stored = self
            .store
            .rate_csat_by_reply(&request.csat_id, rating, comment.as_deref(), &messages, &conv.channel)
            .await?;
        let Some(stored) = stored else { return Ok(None) };
        let ack = Ack { id: stored[0].id.clone(), seq: stored[0].seq };
        for m in stored {
            let m = Arc::new(m);
            self.bus.publish(&m.conversation_id, Event::Message(m.clone()));
            self.bus.publish_agents(AgentEvent::Message { message: m, channel: conv.channel.clone() });
        }
        self.rated(&conv.channel, rating);
        self.publish_summary(conversation_id).await;
        self.outbox_signal.notify_waiters();
        Ok(Some(ack))
    }

    /// Fills the SLA clocks of summaries (targets read once for all).
    pub async fn with_sla<'a>(&self, summaries: impl IntoIterator<Item = &'a mut ConversationSummary>) -> Result<()> {
        let mut summaries: Vec<&mut ConversationSummary> = summaries.into_iter().collect();
        if summaries.iter().all(|s| s.queued_at.is_none()) {
            return Ok(());
        }
        let targets = self.store.sla_targets().await?;
        let hours = self.hours();
        let now = now_ms();
        for s in summaries.iter_mut() {
            let input = ClockInput {
                team: s.team.as_deref(),
                priority: s.priority,
                queued_at: s.queued_at,
                first_response_at: s.first_response_at,
                resolved_at: s.resolved_at,
                resolved: s.status == ConversationStatus::Resolved,
            };
            s.sla = sla::view(&targets, hours.as_ref(), input, now);
        }
        Ok(())
    }

    /// Marks every SLA breach not yet marked (each once); returns how many were marked. Run
    /// by housekeeping; tests call it directly.
    pub async fn sla_sweep(&self) -> Result<usize> {
        let targets = self.store.sla_targets().await?;
        if targets.is_empty() {
            return Ok(0);
        }
        let hours = self.hours();
        let now = now_ms();
        let mut marked = 0;
        for c in self.store.sla_open_clocks(SWEEP_WINDOW_MS, 2000).await? {
            let input = ClockInput {
                team: c.team.as_deref(),
                priority: c.priority,
                queued_at: Some(c.queued_at),
                first_response_at: c.first_response_at,
                resolved_at: c.resolved_at,
                resolved: c.resolved,
            };
            let Some(view) = sla::view(&targets, hours.as_ref(), input, now) else { continue };
            let before = marked;
            for kind in sla::breached(&view) {
                let already = match kind {
                    SlaKind::FirstResponse => c.first_response_breached,
                    SlaKind::Resolution => c.resolution_breached,
                };
                if !already && self.store.mark_sla_breach(&c.conversation_id, kind, now).await? {
                    marked += 1;
                }
            }
            if marked > before {
                self.publish_summary(&c.conversation_id).await;
            }
        }
        Ok(marked)
    }

    /// The business hours in force.
    pub fn hours(&self) -> Option<crate::queue::hours::BusinessHours> {
        self.hours.read().expect("hours lock poisoned: a holder panicked").clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratings_are_read_from_replies() {
        assert_eq!(parse_rating_reply("5"), Some((5, None)));
        assert_eq!(parse_rating_reply(" 4 - quick and kind "), Some((4, Some("quick and kind".into()))));
        assert_eq!(parse_rating_reply("3/5 ok"), Some((3, Some("ok".into()))));
        for not in ["", "0", "6", "10", "2.5", "hello", "3,000 shillings"] {
            assert_eq!(parse_rating_reply(not), None, "{not}");
        }
    }

    #[test]
    fn comments_are_bounded() {
        assert_eq!(parse_comment(Some("  ")), Ok(None));
        assert_eq!(parse_comment(Some(" fine ")), Ok(Some("fine".into())));
        assert_eq!(parse_comment(Some("fi\u{0}ne\u{1b} ")), Ok(Some("fine".into())), "controls dropped");
        assert!(parse_comment(Some(&"x".repeat(MAX_COMMENT_CHARS + 1))).is_err());
    }
}
