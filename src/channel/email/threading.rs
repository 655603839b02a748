//! Which conversation a mail belongs to, and the per-conversation email data (`channel_meta`).
//!
//! Order of evidence: the mail's In-Reply-To, then its References newest first — each id
//! matched exactly against a stored customer mail (`email:<Message-ID>`) or one of our own
//! replies (our Message-IDs carry the stored message's id) — then the reply token Kituo puts
//! into its Message-IDs (`<kituo.TOKEN.CONVERSATION.MESSAGE@domain>`) and plus addresses
//! (`support+TOKEN.CONVERSATION@domain`), checked against the conversation's secret token.
//! Nothing matches: a new conversation. The hub then refuses to join a conversation of another
//! contact, so a forged header can at worst start a new conversation. The parsing is here; the
//! lookups are the hub's (`Hub::resolve` with `Thread::Clues`).

use super::mime::ParsedMail;
use crate::hub::Clue;
pub use crate::hub::ReplyToken;
use serde::{Deserialize, Serialize};

/// How many ids of a References chain we keep (the first and the newest).
const MAX_REFERENCES: usize = 30;

/// The conversation's email data, kept as its `channel_meta` JSON.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EmailMeta {
    /// Secret part of the reply token (hex).
    #[serde(default)]
    pub token: String,
    /// The thread's subject without Re:/Fwd: prefixes.
    #[serde(default)]
    pub subject: String,
    /// Where replies go: the address the customer last wrote from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_name: Option<String>,
    /// The customer's last Message-ID (our In-Reply-To).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_message_id: Option<String>,
    /// The chain our next reply's References carries (oldest first).
    #[serde(default)]
    pub references: Vec<String>,
}

impl EmailMeta {
    /// Fresh data for a new conversation, with a new secret token.
    pub fn new() -> EmailMeta {
        EmailMeta { token: hex::encode(rand::random::<[u8; 8]>()), ..EmailMeta::default() }
    }

    pub fn parse(json: &str) -> EmailMeta {
        serde_json::from_str(json).unwrap_or_default()
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("EmailMeta serialises: plain strings and lists")
    }

    /// Takes in a customer mail: it becomes what our next reply answers.
    pub fn absorb(&mut self, mail: &ParsedMail) {
        if self.token.is_empty() {
            self.token = EmailMeta::new().token;
        }
        let subject = super::mime::base_subject(&mail.subject);
        if self.subject.is_empty() && !subject.is_empty() {
            self.subject = subject;
        }
        self.customer = Some(mail.from.clone());
        if mail.from_name.is_some() {
            self.customer_name = mail.from_name.clone();
        }
        let mut chain = if mail.references.is_empty() {
            let mut c = self.references.clone();
            c.extend(mail.in_reply_to.iter().cloned());
            c
        } else {
            mail.references.clone()
        };
        chain.push(mail.message_id.clone());
        self.references = dedupe_chain(chain);
        self.last_message_id = Some(mail.message_id.clone());
    }

    /// After one of our replies went out: later replies reference it too.
    pub fn sent(&mut self, our_id: &str) {
        let mut chain = std::mem::take(&mut self.references);
        chain.push(our_id.to_string());
        self.references = dedupe_chain(chain);
    }
}

/// Keeps the order, drops repeats, and keeps the first id plus the newest ones.
fn dedupe_chain(chain: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(chain.len());
    for id in chain {
        if !id.is_empty() && !out.contains(&id) {
            out.push(id);
        }
    }
    if out.len() > MAX_REFERENCES {
        let cut = out.len() - (MAX_REFERENCES - 1);
        out.drain(1..cut);
    }
    out
}

/// `TOKEN.CONVERSATION`, as used in plus addresses.
pub fn tag(token: &ReplyToken) -> String {
    format!("{}.{}", token.secret, token.conversation_id)
}

fn parse_tag(tag: &str) -> Option<ReplyToken> {
    let (secret, conversation_id) = tag.split_once('.')?;
    let hexish = |s: &str| !s.is_empty() && s.len() <= 64 && s.chars().all(|c| c.is_ascii_hexdigit());
    (hexish(secret) && hexish(conversation_id))
        .then(|| ReplyToken { secret: secret.to_lowercase(), conversation_id: conversation_id.to_lowercase() })
}

/// Our Message-ID for a stored reply (without angle brackets).
pub fn our_message_id(token: &ReplyToken, message_id: &str, domain: &str) -> String {
    format!("kituo.{}.{}.{message_id}@{domain}", token.secret, token.conversation_id)
}

/// The token and the stored message id in one of our Message-IDs.
pub fn parse_our_message_id(id: &str) -> Option<(ReplyToken, Option<String>)> {
    let local = id.rsplit_once('@')?.0;
    let rest = local.strip_prefix("kituo.")?;
    let mut parts = rest.split('.');
    let secret = parts.next()?;
    let conversation = parts.next()?;
    let message = parts.next().map(str::to_string);
    if parts.next().is_some() {
        return None;
    }
    Some((parse_tag(&format!("{secret}.{conversation}"))?, message))
}

/// `local+TOKEN.CONVERSATION@domain` for replies to come back to.
pub fn plus_address(mailbox: &str, token: &ReplyToken) -> Option<String> {
    let (local, domain) = mailbox.rsplit_once('@')?;
    let local = local.split('+').next().unwrap_or(local);
    Some(format!("{local}+{}@{domain}", tag(token)))
}

fn parse_plus_address(address: &str) -> Option<ReplyToken> {
    let local = address.rsplit_once('@')?.0;
    let tag = local.split_once('+')?.1;
    parse_tag(tag)
}

/// The ids to try, in order: In-Reply-To, then References newest first.
pub fn thread_ids(mail: &ParsedMail) -> Vec<&str> {
    let mut ids: Vec<&str> = mail.in_reply_to.iter().map(String::as_str).collect();
    ids.extend(mail.references.iter().rev().map(String::as_str));
    let mut seen = Vec::with_capacity(ids.len());
    ids.retain(|id| {
        let new = !seen.contains(id) && *id != mail.message_id;
        seen.push(*id);
        new
    });
    ids
}

/// The evidence of the conversation a mail continues, in the order of the module docs; the
/// hub's resolve checks it against the store.
pub fn clues(mail: &ParsedMail) -> Vec<Clue> {
    let ids = thread_ids(mail);
    let mut clues: Vec<Clue> = ids
        .iter()
        .map(|id| match parse_our_message_id(id) {
            Some((token, Some(message_id))) => Clue::Ours { message_id, token },
            _ => Clue::External(format!("email:{id}")),
        })
        .collect();
    let tokens = ids
        .iter()
        .filter_map(|id| parse_our_message_id(id).map(|(t, _)| t))
        .chain(mail.recipients.iter().filter_map(|a| parse_plus_address(a)));
    clues.extend(tokens.map(Clue::Token));
    clues
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mail(id: &str, in_reply_to: &[&str], references: &[&str]) -> ParsedMail {
        ParsedMail {
            message_id: id.into(),
            from: "amina@example.co.tz".into(),
            from_name: Some("Amina".into()),
            subject: "Re: Order 1001".into(),
            in_reply_to: in_reply_to.iter().map(|s| s.to_string()).collect(),
            references: references.iter().map(|s| s.to_string()).collect(),
            recipients: vec![],
            text: String::new(),
            from_html: false,
            attachments: vec![],
            automatic: false,
        }
    }

    #[test]
    fn our_ids_and_plus_addresses_round_trip() {
        let token =
            ReplyToken { secret: "0a1b2c3d4e5f6789".into(), conversation_id: "00112233445566778899aabb".into() };
        let id = our_message_id(&token, "ffeeddccbbaa998877665544", "example.com");
        assert_eq!(id, "kituo.0a1b2c3d4e5f6789.00112233445566778899aabb.ffeeddccbbaa998877665544@example.com");
        let (parsed, message) = parse_our_message_id(&id).unwrap();
        assert_eq!(parsed, token);
        assert_eq!(message.as_deref(), Some("ffeeddccbbaa998877665544"));
        assert_eq!(parse_our_message_id("CAF=abc@mail.gmail.com"), None);
        assert_eq!(parse_our_message_id("kituo.zz.yy.xx@example.com"), None);
        let plus = plus_address("support@example.com", &token).unwrap();
        assert_eq!(plus, "support+0a1b2c3d4e5f6789.00112233445566778899aabb@example.com");
        assert_eq!(parse_plus_address(&plus), Some(token));
        assert_eq!(parse_plus_address("support@example.com"), None);
    }

    #[test]
    fn clues_name_messages_first_then_tokens() {
        let token =
            ReplyToken { secret: "0a1b2c3d4e5f6789".into(), conversation_id: "00112233445566778899aabb".into() };
        let ours = our_message_id(&token, "ffeeddccbbaa998877665544", "example.com");
        let mut m = mail("new@x", &[&ours], &["a@x", &ours]);
        m.recipients = vec![plus_address("support@example.com", &token).unwrap()];
        assert_eq!(
            clues(&m),
            vec![
                Clue::Ours { message_id: "ffeeddccbbaa998877665544".into(), token: token.clone() },
                Clue::External("email:a@x".into()),
                Clue::Token(token.clone()),
                Clue::Token(token),
            ]
        );
    }

    #[test]
    fn thread_ids_try_in_reply_to_then_references_newest_first() {
        let m = mail("new@x", &["c@x"], &["a@x", "b@x", "c@x"]);
        assert_eq!(thread_ids(&m), vec!["c@x", "b@x", "a@x"]);
    }

    #[test]
    fn meta_builds_their_chain_plus_their_id_and_then_ours() {
        let mut meta = EmailMeta::new();
        meta.absorb(&mail("m1@x", &[], &[]));
        assert_eq!(meta.subject, "Order 1001");
        assert_eq!(meta.references, vec!["m1@x"]);
        meta.sent("kituo.1@ours");
        meta.absorb(&mail("m2@x", &["kituo.1@ours"], &["m1@x", "kituo.1@ours"]));
        assert_eq!(meta.last_message_id.as_deref(), Some("m2@x"));
        assert_eq!(meta.references, vec!["m1@x", "kituo.1@ours", "m2@x"]);
        // A client that sends only In-Reply-To keeps the chain we had.
        meta.absorb(&mail("m3@x", &["m2@x"], &[]));
        assert_eq!(meta.references, vec!["m1@x", "kituo.1@ours", "m2@x", "m3@x"]);
        let json = meta.to_json();
        assert_eq!(EmailMeta::parse(&json), meta);
    }

    #[test]
    fn long_chains_keep_the_first_and_the_newest() {
        let chain: Vec<String> = (0..50).map(|i| format!("{i}@x")).collect();
        let kept = dedupe_chain(chain);
        assert_eq!(kept.len(), MAX_REFERENCES);
        assert_eq!(kept[0], "0@x");
        assert_eq!(kept[1], "21@x");
        assert_eq!(kept.last().unwrap(), "49@x");
    }
}
