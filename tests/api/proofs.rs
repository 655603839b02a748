//! Proof attempts limited across conversations, addresses and restarts, and the one-time code
//! (issue #11, items 1 and 2), replayed as an attacker and as the legitimate customer would.

use crate::email::smtp::{Received, SmtpReceiver};
use crate::helpers::{
    Chat, TestApp, TestDb, backends, eventually, exec_sql, http, query_i64, serve_args, spawn_app, spawn_on,
};
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

const AMINA: &str = "amina.mwakilema@example.co.tz";
/// Order 1001 is Amina's; this is its tracking number.
const TRACKING_1001: &str = "EE482913057TZ";
const ATTACKER: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 1));
const OTHER: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));

const CHECKED_AND_WRONG: &str = "couldn't find";
const WAIT: &str = "Please wait";
const TOO_MANY: &str = "too many unsuccessful attempts";
const CODE_SENT: &str = "a 6-digit code is on its way";
const CODE_WRONG: &str = "not right or has expired";

/// The app with the email channel configured (so SMTP, so codes): mail goes to `smtp`; the
/// mailbox it would read is a closed port (nothing here needs inbound mail).
pub(crate) async fn start_with_smtp(db: TestDb, smtp: &SmtpReceiver) -> TestApp {
    let smtp = smtp.url();
    spawn_on(db, move |url| {
        let mut args = serve_args(url);
        args.email.imap_url = Some("imap://support%40kituo.test:secret@127.0.0.1:1/INBOX".into());
        args.email.smtp_url = Some(smtp.clone());
        args.email.from = Some("Kituo Support <support@kituo.test>".into());
        args
    })
    .await
}

/// One message from a fresh widget socket at `from`: the bot's reply.
async fn one_shot(app: &TestApp, from: IpAddr, text: &str) -> String {
    let mut chat = Chat::connect_from(from, app.addr).await;
    chat.ask(text).await
}

/// Mails the SMTP receiver got for `to`.
fn mails_to(smtp: &SmtpReceiver, to: &str) -> Vec<Received> {
    smtp.messages().into_iter().filter(|m| m.to.iter().any(|t| t.eq_ignore_ascii_case(to))).collect()
}

/// The 6-digit code in a mail's body.
pub(crate) fn code_in(mail: &Received) -> String {
    let text = String::from_utf8_lossy(&mail.data);
    let body = text.split_once("\r\n\r\n").map_or(text.as_ref(), |(_, b)| b);
    let bytes = body.as_bytes();
    (0..bytes.len().saturating_sub(5))
        .find(|&i| {
            bytes[i..i + 6].iter().all(u8::is_ascii_digit)
                && (i == 0 || !bytes[i - 1].is_ascii_digit())
                && bytes.get(i + 6).is_none_or(|b| !b.is_ascii_digit())
        })
        .map(|i| body[i..i + 6].to_string())
        .unwrap_or_else(|| panic!("no 6-digit code in the mail: {body}"))
}

/// The `n`-th mail to `to` (1-based), waited for.
pub(crate) async fn nth_mail_to(smtp: &SmtpReceiver, to: &str, n: usize) -> Received {
    eventually(&format!("mail {n} to {to}"), Duration::from_secs(20), || async {
        mails_to(smtp, to).get(n - 1).cloned()
    })
    .await
}

/// Moves every counted failure 301 s into the past: what waiting out the longest delay does.
async fn let_delays_pass(app: &TestApp) {
    exec_sql(app, "update proof_failures set created_at = created_at - 301000", &[]).await;
}

fn metric(text: &str, kind: &str) -> i64 {
    let name = format!("kituo_security_events_total{{kind=\"{kind}\"}} ");
    text.lines().find_map(|l| l.strip_prefix(name.as_str())).and_then(|v| v.trim().parse().ok()).unwrap_or(0)
}

#[tokio::test]
async fn guessing_across_fresh_sockets_discloses_nothing_and_the_owner_proves_herself_by_code() {
    for backend in backends() {
        let smtp = SmtpReceiver::start().await;
        let app = start_with_smtp(TestDb::new(backend).await, &smtp).await;

        // The attacker knows Amina's email and guesses order numbers, one fresh socket each.
        let (mut checked, mut throttled) = (0, false);
        for guess in 0..30 {
            let reply = one_shot(&app, ATTACKER, &format!("where is order {} {AMINA}", 9000 + guess)).await;
            assert!(!reply.contains(TRACKING_1001), "{backend:?}: guess {guess} disclosed: {reply}");
            if reply.contains(CHECKED_AND_WRONG) {
                checked += 1;
            } else if reply.contains(WAIT) {
                assert!(reply.contains("\"code\""), "{backend:?}: a wait offers a code: {reply}");
                let_delays_pass(&app).await;
            } else if reply.contains(TOO_MANY) {
                throttled = true;
                break;
            } else {
                panic!("{backend:?}: unexpected reply to a guess: {reply}");
            }
        }
        assert!(throttled, "{backend:?}: the guessing run hit the per-email limit");
        assert_eq!(checked, 5, "{backend:?}: five failures per email are checked, no more");
        // Then the right number, from yet another socket: nothing is checked, nothing disclosed.
        let right = one_shot(&app, ATTACKER, &format!("where is order 1001 {AMINA}")).await;
        assert!(right.contains(TOO_MANY), "{backend:?}: {right}");
        assert!(!right.contains(TRACKING_1001) && !right.contains("Posta"), "{backend:?}: {right}");

        // An address over its own limit (20 failures this hour) gets nothing checked, for any
        // email; the other address is not affected by it.
        let earlier = kituo::domain::now_ms() - 600_000;
        let rows: Vec<String> =
            (0..20).map(|i| format!("('seed-{i}', 'address', 'ip:127.0.0.1', {earlier})")).collect();
        let sql =
            format!("insert into proof_failures (attempt_id, scope, subject, created_at) values {}", rows.join(", "));
        exec_sql(&app, &sql, &[]).await;
        let blocked = one_shot(&app, ATTACKER, "where is order 7701 x1@example.com").await;
        assert!(blocked.contains(TOO_MANY), "{backend:?}: the attacker's address is over its limit: {blocked}");
        let elsewhere = one_shot(&app, OTHER, "where is order 7702 x2@example.com").await;
        assert!(elsewhere.contains(CHECKED_AND_WRONG), "{backend:?}: another address is checked: {elsewhere}");

        // Someone claims order 1001 with an email that is not on it and asks for a code: the
        // reply is the same, and no mail goes anywhere.
        let mut mallory = Chat::connect_from(OTHER, app.addr).await;
        let wrong = mallory.ask("where is order 1001 mallory@evil.example").await;
        assert!(wrong.contains(CHECKED_AND_WRONG) && wrong.contains("\"code\""), "{backend:?}: {wrong}");
        let sent = mallory.ask("code").await;
        assert!(sent.contains(CODE_SENT), "{backend:?}: {sent}");

        // Amina, from another address: her email is over its limit, so the number + email proof
        // is refused; the code mailed to the email on the order proves her.
        let mut amina = Chat::connect_from(OTHER, app.addr).await;
        let asks = amina.ask("Where is my order 1001?").await;
        assert!(asks.to_lowercase().contains("email"), "{backend:?}: {asks}");
        let refused = amina.ask(AMINA).await;
        assert!(refused.contains(TOO_MANY) && refused.contains("\"code\""), "{backend:?}: {refused}");
        assert!(!refused.contains(TRACKING_1001), "{backend:?}: {refused}");
        let sent = amina.ask("code").await;
        assert!(sent.contains(CODE_SENT) && sent.contains(AMINA), "{backend:?}: {sent}");
        let mail = nth_mail_to(&smtp, AMINA, 1).await;
        assert_eq!(mail.to, vec![AMINA.to_string()], "{backend:?}: only the record's email gets the code");
        let code = code_in(&mail);
        assert!(mails_to(&smtp, "mallory@evil.example").is_empty(), "{backend:?}: no code to a typed address");
        let store = app.hub.store();
        assert_eq!(store.proof_codes_sent_since("mallory@evil.example", 0).await.unwrap(), 0, "{backend:?}");
        assert_eq!(store.proof_codes_sent_since(AMINA, 0).await.unwrap(), 1, "{backend:?}");
        let stored = String::from_utf8_lossy(&mail.data).to_string();
        assert!(!stored.contains("mallory"), "{backend:?}");

        // A wrong code is refused; an expired right one too.
        let other_code = format!("{:06}", (code.parse::<u32>().unwrap() + 1) % 1_000_000);
        let wrong = amina.ask(&other_code).await;
        assert!(wrong.contains(CODE_WRONG) && !wrong.contains(TRACKING_1001), "{backend:?}: {wrong}");
        exec_sql(&app, "update proof_codes set expires_at = 0", &[]).await;
        let expired = amina.ask(&code).await;
        assert!(expired.contains(CODE_WRONG) && !expired.contains(TRACKING_1001), "{backend:?}: {expired}");

        // A new code, typed in time, proves the email and shows the order.
        let again = amina.ask("code").await;
        assert!(again.contains(CODE_SENT), "{backend:?}: {again}");
        let code = code_in(&nth_mail_to(&smtp, AMINA, 2).await);
        let shown = amina.ask(&code).await;
        assert!(shown.contains(TRACKING_1001), "{backend:?}: the right code discloses: {shown}");
        // Proven for the contact: her other order needs no second proof.
        let second = amina.ask("and order 1007?").await;
        assert!(second.to_lowercase().contains("delivered"), "{backend:?}: {second}");
        // A used code does not work twice (in another conversation either).
        let mut replay = Chat::connect_from(OTHER, app.addr).await;
        replay.ask("where is order 1001").await;
        replay.ask(AMINA).await;
        assert!(replay.ask("code").await.contains(CODE_SENT), "{backend:?}");
        let replayed = replay.ask(&code).await;
        assert!(!replayed.contains(TRACKING_1001), "{backend:?}: {replayed}");

        // The events are counted.
        let metrics = http(app.addr, "GET", "/metrics", &[], None).await.text;
        assert!(metric(&metrics, "failed_proof") >= 7, "{backend:?}: {metrics}");
        assert!(metric(&metrics, "proof_throttled") >= 3, "{backend:?}: {metrics}");

        // After a restart the counters still hold.
        let db = app.stop().await;
        let app = start_with_smtp(db, &smtp).await;
        // (From the address that is under its own limit: only the email's count refuses.)
        let after = one_shot(&app, OTHER, &format!("where is order 1001 {AMINA}")).await;
        assert!(after.contains(TOO_MANY) && !after.contains(TRACKING_1001), "{backend:?}: {after}");
    }
}

#[tokio::test]
async fn without_smtp_a_throttled_customer_is_offered_a_person() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let earlier = kituo::domain::now_ms() - 600_000;
        let rows: Vec<String> = (0..5).map(|i| format!("('seed-{i}', 'email', '{AMINA}', {earlier})")).collect();
        let sql =
            format!("insert into proof_failures (attempt_id, scope, subject, created_at) values {}", rows.join(", "));
        exec_sql(&app, &sql, &[]).await;
        let mut chat = app.chat().await;
        let refused = chat.ask(&format!("where is order 1001 {AMINA}")).await;
        assert!(refused.contains(TOO_MANY), "{backend:?}: {refused}");
        assert!(!refused.contains("\"code\"") && !refused.contains(TRACKING_1001), "{backend:?}: {refused}");
        assert!(refused.contains("person"), "{backend:?}: a person is offered: {refused}");
        let code = chat.ask("code").await;
        assert!(!code.contains(CODE_SENT), "{backend:?}: no codes without SMTP: {code}");
        chat.ask("yes").await;
        let conv = app.hub.store().conversation(&chat.conversation_id).await.unwrap().unwrap();
        assert_eq!(conv.status.as_str(), "queued", "{backend:?}: the offer of a person was taken");
    }
}

#[tokio::test]
async fn concurrent_guesses_see_each_other() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        // Forty sockets guess at once for one email: each attempt is counted before it is checked,
        // so at most the two free failures get checked, however the guesses interleave (when all
        // are counted before any is judged, none is checked).
        let guesses = (0..40).map(|i| {
            let addr = app.addr;
            tokio::spawn(async move {
                let mut chat = Chat::connect_from(ATTACKER, addr).await;
                chat.ask(&format!("where is order {} {AMINA}", 9100 + i)).await
            })
        });
        let replies: Vec<String> =
            futures_util::future::join_all(guesses).await.into_iter().map(Result::unwrap).collect();
        let checked = replies.iter().filter(|r| r.contains(CHECKED_AND_WRONG)).count();
        assert!(replies.iter().all(|r| !r.contains(TRACKING_1001)), "{backend:?}");
        assert!(checked <= 2, "{backend:?}: {checked} guesses checked: {replies:?}");
        assert!(
            replies.iter().all(|r| r.contains(CHECKED_AND_WRONG) || r.contains(WAIT) || r.contains(TOO_MANY)),
            "{backend:?}: every other guess is refused unchecked: {replies:?}"
        );
        // Only the checked guesses stay counted as failures.
        let stats = app.hub.store().proof_failure_stats(&[("email", AMINA)], 0, "-").await.unwrap();
        assert_eq!(stats[0].failures as usize, checked, "{backend:?}");
    }
}

/// A successful proof is not a failure: its rows are deleted in the commit of its own turn, so
/// the owner can prove herself again and again from one address without a delay, and the
/// failures counted before (one wrong try) still hold.
#[tokio::test]
async fn successful_proofs_are_never_counted_as_failures() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let wrong = one_shot(&app, OTHER, &format!("where is order 9999 {AMINA}")).await;
        assert!(wrong.contains(CHECKED_AND_WRONG), "{backend:?}: {wrong}");
        // Email and record allow 2 failures before a delay: counted successes would hit it by
        // the third proof.
        for round in 0..6 {
            let reply = one_shot(&app, OTHER, &format!("where is order 1001 {AMINA}")).await;
            assert!(reply.contains(TRACKING_1001), "{backend:?}: proof {round} was not answered: {reply}");
        }
        let failures = query_i64(&app, "select count(*) from proof_failures").await;
        assert_eq!(failures, 3, "{backend:?}: one wrong try, under three keys, and nothing else");
        // Each proof's turn (on PostgreSQL one statement) also stored the email as proven, on
        // its own visitor's contact.
        let proven = query_i64(
            &app,
            &format!(
                "select count(distinct contact_id) from contact_identities
                  where kind = 'email' and value = '{AMINA}' and verification = 'order_email'"
            ),
        )
        .await;
        assert_eq!(proven, 6, "{backend:?}: every successful proof stores its email as proven");
    }
}
