//! MIME → what Kituo keeps of a mail: sender, thread headers, subject (encoded words
//! decoded), the body as plain text (multipart/alternative prefers text/plain; HTML-only mail is
//! turned into readable text; quoted-printable, base64 and non-UTF-8 charsets including CJK are
//! decoded by mail-parser with `full_encoding`), and the attachments, listed with their size and
//! kept only up to a size cap.
//!
//! Parsing is pure: bytes in, [`ParsedMail`] or a [`Rejected`] reason out. A rejected mail is
//! quarantined by the caller, never retried forever.

pub use super::html_text::{decode_entities, html_to_text, text_to_html};
use crate::domain::normalize_email;
use mail_parser::{HeaderValue, MessageParser, MimeHeaders, PartType};

/// A mail as the channel uses it.
#[derive(Debug, Clone)]
pub struct ParsedMail {
    /// Message-ID without angle brackets; a stable hash of the mail when it has none.
    pub message_id: String,
    /// Lowercase sender address.
    pub from: String,
    pub from_name: Option<String>,
    pub subject: String,
    pub in_reply_to: Vec<String>,
    /// Oldest first, as in the header.
    pub references: Vec<String>,
    /// Addresses the mail was sent to (To, Cc, Delivered-To, X-Original-To), lowercase.
    pub recipients: Vec<String>,
    /// The whole body as text (nothing stripped).
    pub text: String,
    /// True when the mail had no text/plain body and the text was made from HTML.
    pub from_html: bool,
    pub attachments: Vec<Attachment>,
    /// An auto-reply, bounce or list mail (Auto-Submitted, Precedence): never answered.
    pub automatic: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Attachment {
    pub name: String,
    pub content_type: String,
    pub size: usize,
    /// The content when it is within the size cap.
    pub content: Option<Vec<u8>>,
}

/// Why a mail cannot be taken in.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejected {
    #[error("not a MIME message")]
    NotMime,
    #[error("no usable sender address")]
    NoSender,
    #[error("multipart body without a boundary")]
    NoBoundary,
}

/// Parses a raw RFC 5322 mail.
pub fn parse(raw: &[u8], max_attachment_bytes: usize) -> Result<ParsedMail, Rejected> {
    let message = guarded(|| MessageParser::default().parse(raw)).ok_or(Rejected::NotMime)?;
    if message.headers().is_empty() {
        return Err(Rejected::NotMime);
    }
    if let Some(ct) = message.content_type()
        && ct.ctype().eq_ignore_ascii_case("multipart")
        && ct.attribute("boundary").is_none_or(|b| b.is_empty())
    {
        return Err(Rejected::NoBoundary);
    }
    let from_addr = message.from().and_then(|a| a.first()).ok_or(Rejected::NoSender)?;
    let from = from_addr.address().and_then(normalize_email).ok_or(Rejected::NoSender)?;
    let from_name = from_addr.name().map(|n| n.trim().to_string()).filter(|n| !n.is_empty());

    let message_id = match message.message_id().map(clean_id).filter(|id| !id.is_empty()) {
        Some(id) => id,
        None => synthetic_id(raw),
    };
    let subject = message.subject().map(collapse_ws).unwrap_or_default();
    let in_reply_to = ids(message.in_reply_to());
    let references = ids(message.references());

    let mut recipients = Vec::new();
    for list in [message.to(), message.cc()].into_iter().flatten() {
        recipients.extend(list.iter().filter_map(|a| a.address()).filter_map(normalize_email));
    }
    for name in ["Delivered-To", "X-Original-To"] {
        for v in message.header_values(name) {
            if let Some(t) = v.as_text() {
                recipients.extend(normalize_email(t));
            }
        }
    }

    let mut texts = Vec::new();
    let mut from_html = false;
    for id in &message.text_body {
        let Some(part) = message.parts.get(*id as usize) else { continue };
        match &part.body {
            PartType::Text(t) => texts.push(t.to_string()),
            PartType::Html(h) => {
                from_html = true;
                texts.push(html_to_text(h));
            }
            _ => {}
        }
    }
    let text = texts.join("\n\n").replace("\r\n", "\n").trim().to_string();

    let mut attachments = Vec::new();
    for id in &message.attachments {
        let Some(part) = message.parts.get(*id as usize) else { continue };
        let content_type = part
            .content_type()
            .map(|ct| match ct.subtype() {
                Some(sub) => format!("{}/{}", ct.ctype(), sub),
                None => ct.ctype().to_string(),
            })
            .unwrap_or_else(|| "application/octet-stream".into())
            .to_lowercase();
        let name = part.attachment_name().map(str::to_string).unwrap_or_else(|| match part.body {
            PartType::Message(_) => "message.eml".into(),
            _ => "attachment".into(),
        });
        let size = part.len();
        let content = (size <= max_attachment_bytes).then(|| part.contents().to_vec());
        attachments.push(Attachment { name, content_type, size, content });
    }

    let automatic = header_text(&message, "Auto-Submitted").is_some_and(|v| !v.eq_ignore_ascii_case("no"))
        || header_text(&message, "Precedence")
            .is_some_and(|v| matches!(v.to_lowercase().as_str(), "bulk" | "junk" | "list" | "auto_reply"))
        || message.header("X-Autoreply").is_some()
        || from.starts_with("mailer-daemon@");

    Ok(ParsedMail {
        message_id,
        from,
        from_name,
        subject,
        in_reply_to,
        references,
        recipients,
        text,
        from_html,
        attachments,
        automatic,
    })
}

/// Best-effort (sender, subject, Message-ID) of a mail that was rejected, for the quarantine list.
pub fn peek_headers(raw: &[u8]) -> (Option<String>, Option<String>, Option<String>) {
    let Some(message) = guarded(|| MessageParser::default().parse_headers(raw)) else {
        return (None, None, None);
    };
    let sender = message
        .from()
        .and_then(|a| a.first())
        .map(|a| a.address().map_or_else(|| a.name().unwrap_or_default().to_string(), str::to_string))
        .filter(|s| !s.is_empty());
    let subject = message.subject().map(collapse_ws);
    let id = message.message_id().map(clean_id);
    (sender, subject, id)
}

/// Runs mail-parser, taking a panic in it for an unreadable mail. It has internal assertions
/// that hostile MIME can trip (fuzzing found a `debug_assert!` on a `message/rfc822` part in a
/// multipart whose headers run into its body); such a mail is quarantined rather than ending
/// the mailbox reader.
fn guarded<'x>(parse: impl FnOnce() -> Option<mail_parser::Message<'x>>) -> Option<mail_parser::Message<'x>> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(parse)).ok().flatten()
}

fn header_text<'a>(message: &'a mail_parser::Message<'a>, name: &'a str) -> Option<&'a str> {
    message.header(name).and_then(HeaderValue::as_text).map(str::trim)
}

/// How many ids of an In-Reply-To or References header are kept: the first and the newest.
/// Threading looks each one up in the database, and de-duplicates them, so a header of
/// thousands of ids must not reach it.
pub const MAX_HEADER_IDS: usize = 100;

/// Message ids from an In-Reply-To or References header, without angle brackets; at most
/// [`MAX_HEADER_IDS`] of them (the first and the newest).
fn ids(value: &HeaderValue<'_>) -> Vec<String> {
    let raw: Vec<String> = match value {
        HeaderValue::Text(t) => vec![t.to_string()],
        HeaderValue::TextList(list) => list.iter().map(|t| t.to_string()).collect(),
        _ => Vec::new(),
    };
    let mut ids: Vec<String> = raw
        .iter()
        .flat_map(|s| s.split_whitespace().map(clean_id).collect::<Vec<_>>())
        .filter(|s| !s.is_empty())
        .collect();
    if ids.len() > MAX_HEADER_IDS {
        ids.drain(1..ids.len() - (MAX_HEADER_IDS - 1));
    }
    ids
}

/// A message id without whitespace and angle brackets.
pub fn clean_id(id: &str) -> String {
    id.trim().trim_start_matches('<').trim_end_matches('>').trim().to_string()
}

/// A stable id for a mail without Message-ID, so a second delivery is still recognised.
fn synthetic_id(raw: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    format!("{}@no-message-id.kituo", hex::encode(&Sha256::digest(raw)[..16]))
}

fn collapse_ws(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The subject without reply and forward prefixes ("Re:", "AW:", "Fwd:", "Jibu:" …), for the
/// thread's subject line.
pub fn base_subject(subject: &str) -> String {
    const PREFIXES: &[&str] =
        &["re:", "re :", "aw:", "sv:", "vs:", "fw:", "fwd:", "tr:", "wg:", "rv:", "jibu:", "回复:", "回复：", "答复:"];
    let mut s = subject.trim();
    // Only the head is compared (ASCII case-insensitively; the CJK prefixes have no case):
    // lowercasing the whole rest on every round made a subject of many "Re:" quadratic.
    while let Some(p) = PREFIXES.iter().find(|p| s.get(..p.len()).is_some_and(|head| head.eq_ignore_ascii_case(p))) {
        s = s[p.len()..].trim_start();
    }
    // "Re[2]:" and "[#123]"-style tags are left as they are: they name the thread.
    s.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    const CAP: usize = 1024;

    fn mail(headers: &str, body: &str) -> Vec<u8> {
        format!("{headers}\r\n\r\n{body}").replace("\r\n", "\n").replace('\n', "\r\n").into_bytes()
    }

    #[test]
    fn plain_mail_with_thread_headers() {
        let raw = mail(
            "From: Amina Mwakilema <Amina.Mwakilema@Example.co.tz>\nTo: Support <support@example.test>\nSubject: Re: Re: Order 1001\nMessage-ID: <abc@mail.example>\nIn-Reply-To: <kituo.x.y.z@example.test>\nReferences: <first@mail.example>\n <kituo.x.y.z@example.test>",
            "Where is it?",
        );
        let m = parse(&raw, CAP).unwrap();
        assert_eq!(m.from, "amina.mwakilema@example.co.tz");
        assert_eq!(m.from_name.as_deref(), Some("Amina Mwakilema"));
        assert_eq!(m.message_id, "abc@mail.example");
        assert_eq!(m.in_reply_to, vec!["kituo.x.y.z@example.test"]);
        assert_eq!(m.references, vec!["first@mail.example", "kituo.x.y.z@example.test"]);
        assert_eq!(m.recipients, vec!["support@example.test"]);
        assert_eq!(m.text, "Where is it?");
        assert_eq!(base_subject(&m.subject), "Order 1001");
        assert!(!m.automatic);
    }

    #[test]
    fn quoted_printable_and_base64_bodies() {
        let qp = mail(
            "From: a@example.com\nMessage-ID: <qp@x>\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable",
            "Habari, oda yangu iko wapi? Asante =E2=80=93 Amina, line that is soft=\n wrapped",
        );
        assert_eq!(
            parse(&qp, CAP).unwrap().text,
            "Habari, oda yangu iko wapi? Asante – Amina, line that is soft wrapped"
        );
        let b64 = mail(
            "From: a@example.com\nMessage-ID: <b64@x>\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64",
            "V2hlcmUgaXMgbXkgb3JkZXIgMTAwMT8=",
        );
        assert_eq!(parse(&b64, CAP).unwrap().text, "Where is my order 1001?");
    }

    #[test]
    fn cjk_charsets_and_encoded_headers() {
        // "注文はどこですか" in ISO-2022-JP, subject as an encoded word.
        let mut raw = b"From: =?ISO-2022-JP?B?GyRCOzNFRBsoQg==?= <yamada@example.jp>\r\nMessage-ID: <jp@x>\r\nSubject: =?UTF-8?B?5rOo5paH?=\r\nContent-Type: text/plain; charset=ISO-2022-JP\r\n\r\n".to_vec();
        raw.extend_from_slice(b"\x1b$BCmJ8$O$I$3$G$9$+\x1b(B\r\n");
        let m = parse(&raw, CAP).unwrap();
        assert_eq!(m.text, "注文はどこですか");
        assert_eq!(m.subject, "注文");
        assert_eq!(m.from_name.as_deref(), Some("山田"));
        // "你好" in GB2312.
        let mut gb =
            b"From: li@example.cn\r\nMessage-ID: <gb@x>\r\nContent-Type: text/plain; charset=gb2312\r\n\r\n".to_vec();
        gb.extend_from_slice(b"\xc4\xe3\xba\xc3\r\n");
        assert_eq!(parse(&gb, CAP).unwrap().text, "你好");
    }

    #[test]
    fn alternative_prefers_plain_and_html_only_becomes_text() {
        let alt = mail(
            "From: a@example.com\nMessage-ID: <alt@x>\nContent-Type: multipart/alternative; boundary=\"b1\"",
            "--b1\nContent-Type: text/plain\n\nplain version\n--b1\nContent-Type: text/html\n\n<p>html version</p>\n--b1--",
        );
        let m = parse(&alt, CAP).unwrap();
        assert_eq!(m.text, "plain version");
        assert!(!m.from_html);
        let html = mail(
            "From: a@example.com\nMessage-ID: <html@x>\nContent-Type: text/html; charset=utf-8",
            "<html><head><style>p{color:red}</style><title>t</title></head><body><p>Hello&nbsp;team,</p><p>Where is <b>order&#160;1001</b>?<br>Thanks &amp; regards</p><ul><li>one</li><li>two</li></ul><a href=\"https://shop.example/o/1001\">my order</a><blockquote>old text</blockquote></body></html>",
        );
        let m = parse(&html, CAP).unwrap();
        assert!(m.from_html);
        assert_eq!(
            m.text,
            "Hello team,\n\nWhere is order 1001?\nThanks & regards\n\n- one\n- two\n\nmy order (https://shop.example/o/1001)\n> old text"
        );
    }

    #[test]
    fn attachments_are_listed_and_kept_within_the_cap() {
        let raw = mail(
            "From: a@example.com\nMessage-ID: <att@x>\nContent-Type: multipart/mixed; boundary=\"m\"",
            "--m\nContent-Type: text/plain\n\nsee attached\n--m\nContent-Type: application/pdf; name=\"receipt.pdf\"\nContent-Disposition: attachment; filename=\"receipt.pdf\"\nContent-Transfer-Encoding: base64\n\nJVBERi0xLjQK\n--m\nContent-Type: image/png\nContent-Disposition: attachment; filename=\"=?UTF-8?Q?picha_kubwa.png?=\"\nContent-Transfer-Encoding: base64\n\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n--m--",
        );
        let m = parse(&raw, 16).unwrap();
        assert_eq!(m.text, "see attached");
        assert_eq!(m.attachments.len(), 2);
        assert_eq!(m.attachments[0].name, "receipt.pdf");
        assert_eq!(m.attachments[0].content_type, "application/pdf");
        assert_eq!(m.attachments[0].content.as_deref(), Some(&b"%PDF-1.4\n"[..]));
        assert_eq!(m.attachments[1].name, "picha kubwa.png");
        assert_eq!(m.attachments[1].size, 30);
        assert_eq!(m.attachments[1].content, None, "over the cap: listed, not kept");
    }

    #[test]
    fn broken_mail_is_rejected() {
        assert_eq!(parse(b"", CAP).unwrap_err(), Rejected::NotMime);
        let no_from = mail("To: support@example.test\nSubject: hi", "body");
        assert_eq!(parse(&no_from, CAP).unwrap_err(), Rejected::NoSender);
        let bad_from = mail("From: not an address\nSubject: hi", "body");
        assert_eq!(parse(&bad_from, CAP).unwrap_err(), Rejected::NoSender);
        let no_boundary = mail("From: a@example.com\nContent-Type: multipart/mixed", "--x\n\nhello\n--x--");
        assert_eq!(parse(&no_boundary, CAP).unwrap_err(), Rejected::NoBoundary);
    }

    #[test]
    fn missing_message_id_gets_a_stable_one_and_auto_replies_are_flagged() {
        let raw = mail("From: a@example.com\nAuto-Submitted: auto-replied", "I am out of office");
        let a = parse(&raw, CAP).unwrap();
        let b = parse(&raw, CAP).unwrap();
        assert_eq!(a.message_id, b.message_id);
        assert!(a.message_id.ends_with("@no-message-id.kituo"));
        assert!(a.automatic);
    }

    // Found by fuzzing (fuzz/corpus/email_inbound): each of these took tens of seconds or ran
    // out of memory on a mail of under 200 kB.
    #[test]
    fn many_reply_prefixes_are_stripped_in_linear_time() {
        let subject = format!("{}Order 1001", "Re: AW:Fwd:".repeat(20_000));
        assert_eq!(base_subject(&subject), "Order 1001");
        assert_eq!(base_subject("RE :  回复：Jibu: FWD: Re[2]: x"), "Re[2]: x");
        assert_eq!(base_subject("Re:"), "");
    }

    #[test]
    fn thousands_of_references_keep_the_first_and_the_newest() {
        let refs: Vec<String> = (0..5_000).map(|i| format!("<{i}@a.example>")).collect();
        let raw = mail(&format!("From: a@example.com\nMessage-ID: <m@x>\nReferences: {}", refs.join(" ")), "hi");
        let m = parse(&raw, CAP).unwrap();
        assert_eq!(m.references.len(), MAX_HEADER_IDS);
        assert_eq!(m.references[0], "0@a.example");
        assert_eq!(m.references[1], "4901@a.example");
        assert_eq!(m.references.last().map(String::as_str), Some("4999@a.example"));
    }

    #[test]
    fn a_mail_that_trips_the_parsers_assertions_is_rejected_not_a_panic() {
        let raw = include_bytes!("../../../fuzz/corpus/email_inbound/regression-mail-parser-assert.eml");
        // With debug assertions (tests) mail-parser panics and the mail is refused; without
        // them it parses.
        if let Err(e) = parse(raw, CAP) {
            assert_eq!(e, Rejected::NotMime);
        }
        let _ = peek_headers(raw);
    }
}
