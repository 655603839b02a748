//! The email channel end to end, against real servers on loopback: a private Dovecot (IMAP,
//! IDLE) that the tests deliver mail to as a mail client would (APPEND), and an in-process SMTP
//! receiver that collects Kituo's replies. Skipped with a note when Dovecot is not installed;
//! failed instead when `KITUO_E2E_REQUIRED=1` (CI).

pub(crate) mod dovecot;
mod files_csat;
pub(crate) mod smtp;
mod stripping;

use crate::helpers::{TestApp, TestDb, backends, serve_args, spawn_on};
use dovecot::Dovecot;
use kituo::channel::email::ImapTarget;
use kituo::config::EmailArgs;
use mail_parser::{HeaderValue, MessageParser};
use serde_json::Value;
use smtp::{Received, SmtpReceiver};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

pub(crate) const SUPPORT: &str = "Kituo Support <support@example.test>";
pub(crate) const AMINA: &str = "Amina Mwakilema <amina.mwakilema@example.co.tz>";
const AMINA_ADDRESS: &str = "amina.mwakilema@example.co.tz";
/// Order 1001 belongs to Amina; this is its tracking number.
pub(crate) const TRACKING_1001: &str = "EE482913057TZ";
const WAIT: Duration = Duration::from_secs(20);

async fn start(db: TestDb, dovecot: &Dovecot, smtp: &SmtpReceiver, tweak: impl Fn(&mut EmailArgs)) -> TestApp {
    start_serving(db, dovecot, smtp, move |args| tweak(&mut args.email)).await
}

/// [`start`] with any of the server's arguments changed by `tweak`.
async fn start_serving(
    db: TestDb,
    dovecot: &Dovecot,
    smtp: &SmtpReceiver,
    tweak: impl Fn(&mut kituo::config::ServeArgs),
) -> TestApp {
    let (imap, smtp) = (dovecot.imap_url(), smtp.url());
    spawn_on(db, move |url| {
        let mut args = serve_args(url);
        args.email.imap_url = Some(imap.clone());
        args.email.smtp_url = Some(smtp.clone());
        args.email.from = Some(SUPPORT.into());
        args.email.poll_secs = 5;
        tweak(&mut args);
        args
    })
    .await
}

/// A plain-text mail as a customer's client would send it; `extra` holds more header lines.
pub(crate) fn mail(from: &str, subject: &str, id: &str, extra: &str, body: &str) -> Vec<u8> {
    let head = format!(
        "From: {from}\nTo: {SUPPORT}\nSubject: {subject}\nMessage-ID: <{id}>\nDate: Mon, 02 Feb 2026 10:00:00 +0300\nMIME-Version: 1.0\n{extra}Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n{body}\n"
    );
    head.replace("\r\n", "\n").replace('\n', "\r\n").into_bytes()
}

/// What the tests check of a mail Kituo sent.
#[derive(Debug, Clone)]
pub(crate) struct Reply {
    envelope_from: String,
    envelope_to: Vec<String>,
    subject: String,
    pub(crate) message_id: String,
    pub(crate) in_reply_to: Vec<String>,
    references: Vec<String>,
    reply_to: Option<String>,
    pub(crate) text: String,
    html: String,
}

fn ids(v: &HeaderValue<'_>) -> Vec<String> {
    match v {
        HeaderValue::Text(t) => t.split_whitespace().map(|s| s.trim_matches(['<', '>']).to_string()).collect(),
        HeaderValue::TextList(l) => l.iter().map(|s| s.trim_matches(['<', '>']).to_string()).collect(),
        _ => Vec::new(),
    }
}

fn parse_reply(r: &Received) -> Reply {
    let m = MessageParser::default().parse(&r.data).expect("Kituo sends parseable mail");
    Reply {
        envelope_from: r.from.clone(),
        envelope_to: r.to.clone(),
        subject: m.subject().unwrap_or_default().to_string(),
        message_id: m.message_id().unwrap_or_default().to_string(),
        in_reply_to: ids(m.in_reply_to()),
        references: ids(m.references()),
        reply_to: m.reply_to().and_then(|a| a.first()).and_then(|a| a.address()).map(str::to_string),
        text: m.body_text(0).map(|t| t.to_string()).unwrap_or_default(),
        html: m.body_html(0).map(|t| t.to_string()).unwrap_or_default(),
    }
}

/// Kituo's replies answering the mail `id` (by In-Reply-To) so far.
pub(crate) fn replies_to(smtp: &SmtpReceiver, id: &str) -> Vec<Reply> {
    smtp.messages().iter().map(parse_reply).filter(|r| r.in_reply_to.iter().any(|i| i == id)).collect()
}

/// Waits for the first reply to the mail `id`.
async fn reply_to(smtp: &SmtpReceiver, id: &str) -> Reply {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        if let Some(r) = replies_to(smtp, id).into_iter().next() {
            return r;
        }
        assert!(tokio::time::Instant::now() < deadline, "no reply to {id} within {WAIT:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Polls `check` until it yields a value; panics with `what` after [`WAIT`].
async fn eventually<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// (conversation id, stored text) of the customer mail `id`, once it is stored.
async fn stored(app: &TestApp, id: &str) -> (String, String) {
    let external = format!("email:{id}");
    eventually(&format!("mail {id} stored"), || async {
        app.hub.store().message_by_external_id(&external).await.unwrap().map(|m| (m.conversation_id, m.text))
    })
    .await
}

async fn message_count(app: &TestApp, conversation_id: &str) -> usize {
    app.hub.store().messages_after(conversation_id, 0, 1000, true).await.unwrap().len()
}

/// A bearer token of a new agent, for the staff API.
async fn agent_token(app: &TestApp, name: &str) -> String {
    let store = app.hub.store();
    let email = format!("{}@kituo.test", name.to_lowercase());
    let agent_id = store
        .create_agent(&email, name, kituo::domain::Role::Agent, &kituo::auth::hash_password("not-used-here-1"))
        .await
        .unwrap();
    let token = format!("test-token-{:016x}", rand::random::<u64>());
    store
        .create_api_token(&kituo::auth::sha256_hex(&token), "tests", kituo::domain::Role::Agent, &agent_id)
        .await
        .unwrap();
    token
}

/// One HTTP/1.1 request to the app; returns (status, body bytes).
async fn http(app: &TestApp, method: &str, path: &str, token: &str, body: Option<&Value>) -> (u16, Vec<u8>) {
    let mut s = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        app.addr,
        body.len()
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).await.unwrap();
    let split = out.windows(4).position(|w| w == b"\r\n\r\n").expect("HTTP response has headers");
    let head = String::from_utf8_lossy(&out[..split]).to_string();
    let status = head.split_whitespace().nth(1).and_then(|s| s.parse().ok()).expect("status code");
    (status, out[split + 4..].to_vec())
}

async fn http_json(app: &TestApp, method: &str, path: &str, token: &str, body: Option<&Value>) -> (u16, Value) {
    let (status, bytes) = http(app, method, path, token, body).await;
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_mail_gets_a_threaded_answer_and_replies_stay_in_the_conversation() {
    if !dovecot::available() {
        return;
    }
    for backend in backends() {
        let dovecot = Dovecot::start().await;
        let smtp = SmtpReceiver::start().await;
        let app = start(TestDb::new(backend).await, &dovecot, &smtp, |e| e.plus_addressing = true).await;

        let body = "Hi,\n\nwhere is my order 1001?\n\nThanks\nAmina";
        dovecot.deliver(&mail(AMINA, "Order 1001", "m1@customer.example", "", body)).await;
        let r1 = reply_to(&smtp, "m1@customer.example").await;
        assert_eq!(r1.envelope_to, vec![AMINA_ADDRESS.to_string()], "{backend:?}");
        assert_eq!(r1.envelope_from, "support@example.test", "{backend:?}");
        assert_eq!(r1.subject, "Re: Order 1001", "{backend:?}");
        assert_eq!(r1.in_reply_to, vec!["m1@customer.example"], "{backend:?}");
        assert_eq!(r1.references, vec!["m1@customer.example"], "{backend:?}");
        assert!(r1.message_id.starts_with("kituo.") && r1.message_id.ends_with("@example.test"), "{r1:?}");
        assert!(r1.text.contains(TRACKING_1001), "{backend:?}: the sender's own order is answered directly: {r1:?}");
        assert!(r1.html.contains(TRACKING_1001) && r1.html.contains("<p>"), "{backend:?}: HTML part: {}", r1.html);
        let (conversation, text) = stored(&app, "m1@customer.example").await;
        assert!(text.contains("where is my order 1001?"), "{text}");
        let conv = app.hub.store().conversation(&conversation).await.unwrap().unwrap();
        assert_eq!(conv.channel, "email");

        // 1. A reply by In-Reply-To, with the quote and signature the customer's client added.
        let quoted = format!(
            "Thank you! And my order 1007?\n\nOn Mon, 2 Feb 2026 at 10:01, Kituo Support <support@example.test> wrote:\n\n> {}\n> more\n\n-- \nAmina Mwakilema\nDar es Salaam",
            r1.text.lines().next().unwrap_or("")
        );
        let thread =
            format!("In-Reply-To: <{}>\nReferences: <m1@customer.example> <{}>\n", r1.message_id, r1.message_id);
        dovecot.deliver(&mail(AMINA, "Re: Order 1001", "m2@customer.example", &thread, &quoted)).await;
        let r2 = reply_to(&smtp, "m2@customer.example").await;
        assert_eq!(r2.references, vec!["m1@customer.example", &r1.message_id, "m2@customer.example"], "{backend:?}");
        assert_eq!(r2.subject, "Re: Order 1001");
        assert!(r2.text.to_lowercase().contains("delivered"), "{backend:?}: order 1007 answered: {}", r2.text);
        let (c2, text2) = stored(&app, "m2@customer.example").await;
        assert_eq!(c2, conversation, "{backend:?}: In-Reply-To threads");
        assert_eq!(text2, "Thank you! And my order 1007?", "{backend:?}: quote and signature stripped");
        let m2 = app.hub.store().message_by_external_id("email:m2@customer.example").await.unwrap().unwrap();
        let original = app.hub.store().email_original(&m2.id).await.unwrap().expect("original kept");
        assert!(original.body.contains("wrote:") && original.body.contains("Dar es Salaam"), "{}", original.body);

        // 2. References only, the newest of them unknown.
        let refs = "References: <m1@customer.example> <unknown-123@elsewhere.example>\n";
        dovecot.deliver(&mail(AMINA, "Re: Order 1001", "m3@customer.example", refs, "thanks a lot")).await;
        assert_eq!(stored(&app, "m3@customer.example").await.0, conversation, "{backend:?}: References thread");

        // 3. Only the reply token: an id of ours that was never stored, with the right token.
        let (local, domain) = r1.message_id.split_once('@').unwrap();
        let parts: Vec<&str> = local.split('.').collect();
        let (secret, conv_id) = (parts[1], parts[2]);
        assert_eq!(conv_id, conversation);
        let forged = format!("In-Reply-To: <kituo.{secret}.{conv_id}.{}@{domain}>\n", "0".repeat(24));
        dovecot.deliver(&mail(AMINA, "Re: Order 1001", "m4@customer.example", &forged, "ok")).await;
        assert_eq!(stored(&app, "m4@customer.example").await.0, conversation, "{backend:?}: reply token threads");
        // A wrong token does not.
        let wrong = format!("In-Reply-To: <kituo.{}.{conv_id}.{}@{domain}>\n", "f".repeat(16), "0".repeat(24));
        dovecot.deliver(&mail(AMINA, "Re: Order 1001", "m5@customer.example", &wrong, "ok")).await;
        assert_ne!(stored(&app, "m5@customer.example").await.0, conversation, "{backend:?}: wrong token");

        // 4. The plus address from Reply-To, without any thread header.
        let plus = r1.reply_to.clone().expect("Reply-To with plus addressing");
        assert_eq!(plus, format!("support+{secret}.{conv_id}@example.test"));
        let to_plus = String::from_utf8(mail(AMINA, "another thing", "m6@customer.example", "", "hello again"))
            .unwrap()
            .replace(&format!("To: {SUPPORT}"), &format!("To: {plus}"));
        dovecot.deliver(to_plus.as_bytes()).await;
        assert_eq!(stored(&app, "m6@customer.example").await.0, conversation, "{backend:?}: plus address threads");

        // 5. A new mail without thread headers from the same sender: a new conversation, same contact.
        dovecot.deliver(&mail(AMINA, "Kikoi", "m7@customer.example", "", "Do you have kikoi?")).await;
        let (c7, _) = stored(&app, "m7@customer.example").await;
        assert_ne!(c7, conversation, "{backend:?}: new mail, new conversation");
        let conv7 = app.hub.store().conversation(&c7).await.unwrap().unwrap();
        assert_eq!(conv7.contact_id, conv.contact_id, "{backend:?}: the same contact");
    }
}

#[tokio::test]
async fn the_bot_discloses_only_the_senders_own_orders_and_answers_swahili_in_swahili() {
    if !dovecot::available() {
        return;
    }
    for backend in backends() {
        let dovecot = Dovecot::start().await;
        let smtp = SmtpReceiver::start().await;
        let app = start(TestDb::new(backend).await, &dovecot, &smtp, |_| {}).await;

        // SO-2026-0042 is another customer's order: the bot asks for that order's email.
        dovecot.deliver(&mail(AMINA, "Order", "o1@customer.example", "", "status of order SO-2026-0042")).await;
        let other = reply_to(&smtp, "o1@customer.example").await;
        assert!(other.text.to_lowercase().contains("email"), "{backend:?}: {}", other.text);
        assert!(!other.text.contains("G4S") && !other.text.to_lowercase().contains("shipped"), "{}", other.text);

        // A stranger asking about Amina's order learns nothing.
        let mallory = "Mallory <mallory@example.com>";
        dovecot.deliver(&mail(mallory, "order", "x1@mallory.example", "", "where is my order 1001?")).await;
        let stranger = reply_to(&smtp, "x1@mallory.example").await;
        assert!(!stranger.text.contains(TRACKING_1001), "{backend:?}: {}", stranger.text);
        assert!(stranger.text.to_lowercase().contains("email"), "{backend:?}: {}", stranger.text);

        // A Swahili mail gets a Swahili answer.
        dovecot.deliver(&mail(AMINA, "Oda", "s1@customer.example", "", "Habari, oda yangu 1001 iko wapi?")).await;
        let sw = reply_to(&smtp, "s1@customer.example").await;
        assert!(sw.text.contains(TRACKING_1001), "{backend:?}: {}", sw.text);
        assert!(sw.text.to_lowercase().contains("imesafirishwa"), "{backend:?}: {}", sw.text);
        assert!(sw.text.contains("msaidizi wa kiotomatiki"), "{backend:?}: Swahili layout: {}", sw.text);
        let (conversation, _) = stored(&app, "s1@customer.example").await;
        let locale = app.hub.store().conversation(&conversation).await.unwrap().unwrap().locale;
        assert_eq!(locale.as_str(), "sw", "{backend:?}");
    }
}

#[tokio::test]
async fn the_mailbox_is_processed_once_across_restarts_and_a_crash_before_mark_seen() {
    if !dovecot::available() {
        return;
    }
    for backend in backends() {
        let dovecot = Dovecot::start().await;
        let smtp = SmtpReceiver::start().await;
        let app = start(TestDb::new(backend).await, &dovecot, &smtp, |_| {}).await;
        dovecot.deliver(&mail(AMINA, "Order 1001", "r1@customer.example", "", "where is my order 1001?")).await;
        reply_to(&smtp, "r1@customer.example").await;
        let (c1, _) = stored(&app, "r1@customer.example").await;

        // Down for a while; a mail arrives meanwhile; after the restart only that one is new.
        let db = app.stop().await;
        dovecot.deliver(&mail(AMINA, "Kikoi", "r2@customer.example", "", "do you have kikoi?")).await;
        let app = start(db, &dovecot, &smtp, |_| {}).await;
        reply_to(&smtp, "r2@customer.example").await;
        let (c2, _) = stored(&app, "r2@customer.example").await;

        // The same Message-ID delivered twice: one message, one reply.
        let twice = mail(AMINA, "Invoice", "r3@customer.example", "", "what is the status of invoice INV-2026-0017?");
        dovecot.deliver(&twice).await;
        dovecot.deliver(&twice).await;
        reply_to(&smtp, "r3@customer.example").await;
        let (c3, _) = stored(&app, "r3@customer.example").await;
        eventually("both copies marked seen", || async {
            dovecot.search("INBOX", "UNSEEN").await.is_empty().then_some(())
        })
        .await;
        let sent_before = smtp.messages().len();
        let counts = [message_count(&app, &c1).await, message_count(&app, &c2).await, message_count(&app, &c3).await];
        assert_eq!(replies_to(&smtp, "r1@customer.example").len(), 1, "{backend:?}: r1 answered once");
        assert_eq!(replies_to(&smtp, "r3@customer.example").len(), 1, "{backend:?}: r3 answered once");

        // A crash after storing but before marking seen: every mail unseen again and the
        // recorded UID rolled back, exactly the state such a crash leaves behind.
        let db = app.stop().await;
        let all = dovecot.search("INBOX", "ALL").await;
        assert_eq!(all.len(), 4, "{backend:?}");
        let key = ImapTarget::parse(&dovecot.imap_url()).unwrap().key();
        let (validity, last) = {
            let store = kituo::store::Store::connect(&db.url).await.unwrap();
            let state = store.email_mailbox_state(&key).await.unwrap().expect("UID state stored");
            store.set_email_mailbox_state(&key, state.0, 0).await.unwrap();
            store.close().await;
            state
        };
        assert_eq!(last, i64::from(*all.last().unwrap()), "{backend:?}: last processed UID recorded");
        for uid in &all {
            dovecot.mark_unseen(*uid).await;
        }
        let app = start(db, &dovecot, &smtp, |_| {}).await;
        eventually("every mail read again and marked seen", || async {
            let state = app.hub.store().email_mailbox_state(&key).await.unwrap();
            let unseen = dovecot.search("INBOX", "UNSEEN").await;
            (unseen.is_empty() && state == Some((validity, last))).then_some(())
        })
        .await;
        let after = [message_count(&app, &c1).await, message_count(&app, &c2).await, message_count(&app, &c3).await];
        assert_eq!(after, counts, "{backend:?}: nothing stored twice");
        // Replies are queued in the same transaction as the message, so none can be pending.
        assert_eq!(app.hub.store().outbox_backlog().await.unwrap(), (0, 0), "{backend:?}");
        assert_eq!(smtp.messages().len(), sent_before, "{backend:?}: nothing sent twice");
    }
}

#[tokio::test]
async fn broken_mime_is_quarantined_and_the_next_mail_still_flows() {
    if !dovecot::available() {
        return;
    }
    for backend in backends() {
        let dovecot = Dovecot::start().await;
        dovecot.create_folder("Processed").await;
        let smtp = SmtpReceiver::start().await;
        let app = start(TestDb::new(backend).await, &dovecot, &smtp, |e| e.move_to = Some("Processed".into())).await;
        let token = agent_token(&app, "Neema").await;

        let broken = b"From: Baraka <baraka.nyirenda@example.co.tz>\r\nSubject: broken one\r\nMessage-ID: <broken@customer.example>\r\nContent-Type: multipart/mixed\r\n\r\n--x\r\n\r\nhello\r\n--x--\r\n";
        dovecot.deliver(broken).await;
        dovecot.deliver(&mail(AMINA, "Order 1001", "after@customer.example", "", "where is my order 1001?")).await;
        let r = reply_to(&smtp, "after@customer.example").await;
        assert!(r.text.contains(TRACKING_1001), "{backend:?}");

        let (status, list) = http_json(&app, "GET", "/api/email/quarantine", &token, None).await;
        assert_eq!(status, 200, "{list}");
        let items = list["quarantine"].as_array().unwrap();
        assert_eq!(items.len(), 1, "{backend:?}: {list}");
        assert!(items[0]["reason"].as_str().unwrap().contains("boundary"), "{list}");
        assert_eq!(items[0]["subject"], "broken one");
        assert_eq!(items[0]["sender"], "baraka.nyirenda@example.co.tz");
        let id = items[0]["id"].as_str().unwrap();
        let (status, raw) = http(&app, "GET", &format!("/api/email/quarantine/{id}/raw"), &token, None).await;
        assert_eq!((status, raw.as_slice()), (200, &broken[..]), "{backend:?}: raw mail kept");
        let (status, _) = http(&app, "GET", "/api/email/quarantine", "wrong-token", None).await;
        assert_eq!(status, 401, "staff only");

        // Both left the inbox for the configured folder.
        eventually("inbox emptied into Processed", || async {
            let inbox = dovecot.search("INBOX", "ALL").await;
            let done = dovecot.search("Processed", "ALL").await;
            (inbox.is_empty() && done.len() == 2).then_some(())
        })
        .await;
    }
}

#[tokio::test]
async fn encoded_bodies_and_html_only_mail_become_readable_text() {
    if !dovecot::available() {
        return;
    }
    for backend in backends() {
        let dovecot = Dovecot::start().await;
        let smtp = SmtpReceiver::start().await;
        let app = start(TestDb::new(backend).await, &dovecot, &smtp, |_| {}).await;
        let crlf = |s: &str| s.replace('\n', "\r\n").into_bytes();
        let qp = crlf(
            "From: a@example.com\nSubject: =?UTF-8?Q?Swali_la_oda?=\nMessage-ID: <qp@x.example>\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\nHabari =E2=80=93 oda yangu iko wapi? Hii ni mstari mrefu sana ambao umekatw=\na\n",
        );
        let b64 = crlf(
            "From: b@example.com\nSubject: question\nMessage-ID: <b64@x.example>\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64\n\nV2hlcmUgaXMgbXkgb3JkZXIgMTAwMT8=\n",
        );
        let mut jp = crlf(
            "From: =?ISO-2022-JP?B?GyRCOzNFRBsoQg==?= <yamada@example.jp>\nSubject: =?UTF-8?B?5rOo5paH?=\nMessage-ID: <jp@x.example>\nContent-Type: text/plain; charset=ISO-2022-JP\nContent-Transfer-Encoding: 7bit\n\n",
        );
        jp.extend_from_slice(b"\x1b$BCmJ8$O$I$3$G$9$+\x1b(B\r\n");
        let mut gb = crlf(
            "From: li@example.cn\nSubject: hi\nMessage-ID: <gb@x.example>\nContent-Type: text/plain; charset=gb2312\n\n",
        );
        gb.extend_from_slice(b"\xc4\xe3\xba\xc3\r\n");
        let html = crlf(
            "From: c@example.com\nSubject: html\nMessage-ID: <html@x.example>\nContent-Type: text/html; charset=utf-8\n\n<html><head><style>p{color:red}</style></head><body><p>Where is my <b>order</b>&nbsp;1001?</p><p>Thanks &amp; regards</p></body></html>\n",
        );
        for raw in [&qp, &b64, &jp, &gb, &html] {
            dovecot.deliver(raw).await;
        }
        let (_, t) = stored(&app, "qp@x.example").await;
        assert!(t.contains("Habari – oda yangu iko wapi? Hii ni mstari mrefu sana ambao umekatwa"), "{backend:?}: {t}");
        assert!(t.starts_with("Swali la oda"), "{backend:?}: encoded subject: {t}");
        let (_, t) = stored(&app, "b64@x.example").await;
        assert!(t.contains("Where is my order 1001?"), "{backend:?}: {t}");
        let (_, t) = stored(&app, "jp@x.example").await;
        assert!(t.contains("注文はどこですか"), "{backend:?}: ISO-2022-JP: {t}");
        let (_, t) = stored(&app, "gb@x.example").await;
        assert!(t.contains("你好"), "{backend:?}: GB2312: {t}");
        let (_, t) = stored(&app, "html@x.example").await;
        assert!(t.contains("Where is my order 1001?\n\nThanks & regards"), "{backend:?}: HTML-only: {t}");
        assert!(!t.contains('<') && !t.contains("color"), "{backend:?}: {t}");
        let contact = app.hub.store().contact_by_identity("email", "yamada@example.jp").await.unwrap().unwrap();
        let (name, _) = app.hub.store().contact(&contact).await.unwrap().unwrap();
        assert_eq!(name.as_deref(), Some("山田"), "{backend:?}: encoded display name");
    }
}

#[tokio::test]
async fn a_reply_waits_out_a_relay_outage_and_is_delivered_exactly_once() {
    if !dovecot::available() {
        return;
    }
    for backend in backends() {
        let dovecot = Dovecot::start().await;
        let smtp = SmtpReceiver::start().await;
        smtp.set_refusing(true);
        let app = start(TestDb::new(backend).await, &dovecot, &smtp, |_| {}).await;
        dovecot.deliver(&mail(AMINA, "Order 1001", "down@customer.example", "", "where is my order 1001?")).await;
        let (conversation, _) = stored(&app, "down@customer.example").await;
        let failed = eventually("a refused attempt recorded", || async {
            let states = app.hub.store().delivery_states(&conversation).await.unwrap();
            states.into_iter().find(|d| d.status == "pending" && d.attempts >= 1 && d.last_error.is_some())
        })
        .await;
        assert!(smtp.refused() >= 1, "{backend:?}");
        assert!(smtp.messages().is_empty());

        smtp.set_refusing(false);
        let r = reply_to(&smtp, "down@customer.example").await;
        assert!(r.text.contains(TRACKING_1001), "{backend:?}");
        eventually("delivery marked sent", || async {
            let states = app.hub.store().delivery_states(&conversation).await.unwrap();
            states.iter().find(|d| d.outbox_id == failed.outbox_id && d.status == "sent").map(|_| ())
        })
        .await;
        // Marked sent: the worker never takes it again.
        assert_eq!(replies_to(&smtp, "down@customer.example").len(), 1, "{backend:?}: delivered exactly once");
        assert_eq!(smtp.messages().len(), 1, "{backend:?}");
    }
}

#[tokio::test]
async fn an_agent_reply_from_the_console_goes_out_in_the_same_thread() {
    if !dovecot::available() {
        return;
    }
    for backend in backends() {
        let dovecot = Dovecot::start().await;
        let smtp = SmtpReceiver::start().await;
        let app = start(TestDb::new(backend).await, &dovecot, &smtp, |_| {}).await;
        let token = agent_token(&app, "Neema").await;
        dovecot
            .deliver(&mail(
                AMINA,
                "Delivery problem",
                "h1@customer.example",
                "",
                "I want to talk to a human about my delivery",
            ))
            .await;
        let bot = reply_to(&smtp, "h1@customer.example").await;
        let (conversation, _) = stored(&app, "h1@customer.example").await;
        let status = app.hub.store().conversation(&conversation).await.unwrap().unwrap().status;
        assert_eq!(status.as_str(), "queued", "{backend:?}: handed off");

        let body = serde_json::json!({"text": "Hi Amina, Neema here. Your parcel is at the Posta office."});
        let (status, resp) =
            http_json(&app, "POST", &format!("/api/conversations/{conversation}/messages"), &token, Some(&body)).await;
        assert_eq!(status, 201, "{resp}");
        let agent = eventually("the agent's reply by SMTP", || async {
            smtp.messages().iter().map(parse_reply).find(|r| r.text.contains("Neema here"))
        })
        .await;
        assert_eq!(agent.envelope_to, vec![AMINA_ADDRESS.to_string()]);
        assert_eq!(agent.subject, "Re: Delivery problem", "{backend:?}");
        assert_eq!(agent.in_reply_to, vec!["h1@customer.example"], "{backend:?}");
        assert_eq!(agent.references, vec!["h1@customer.example".to_string(), bot.message_id.clone()], "{backend:?}");
        assert!(agent.message_id.contains(&format!(".{conversation}.")), "{backend:?}: {}", agent.message_id);
        assert!(agent.text.contains("Neema") && !agent.text.contains("automatic assistant"), "{}", agent.text);
        let (_, quarantine) = http_json(&app, "GET", "/api/email/quarantine", &token, None).await;
        assert_eq!(quarantine["quarantine"].as_array().map(Vec::len), Some(0));
    }
}

#[tokio::test]
async fn without_idle_the_mailbox_is_polled() {
    if !dovecot::available() {
        return;
    }
    for backend in backends() {
        // The same server, but advertising no IDLE: Kituo must fall back to polling.
        let dovecot = Dovecot::start_with("imap_capability = IMAP4rev1 LITERAL+ SASL-IR UIDPLUS MOVE").await;
        let mut client = dovecot.client().await;
        assert!(!client.capabilities().await.unwrap().has_str("IDLE"), "the server must not offer IDLE here");
        client.logout().await.ok();
        let smtp = SmtpReceiver::start().await;
        let app = start(TestDb::new(backend).await, &dovecot, &smtp, |e| e.poll_secs = 1).await;
        // Wait until the reader is past its first look at the mailbox, so this mail is found by a poll.
        let key = ImapTarget::parse(&dovecot.imap_url()).unwrap().key();
        eventually("the reader started", || async { app.hub.store().email_mailbox_state(&key).await.unwrap() }).await;
        dovecot.deliver(&mail(AMINA, "Order 1001", "poll@customer.example", "", "where is my order 1001?")).await;
        let r = reply_to(&smtp, "poll@customer.example").await;
        assert!(r.text.contains(TRACKING_1001), "{backend:?}");
    }
}
