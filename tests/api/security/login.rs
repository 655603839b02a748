//! The lockout weapon is gone: a guesser at one address is throttled (`429` + `Retry-After`)
//! while the right password from another address still gets in; one address cannot spray many
//! accounts; the counts live in the database, so a restart does not reset them.

use crate::helpers::{STAFF_PASSWORD, TestApp, add_staff, backends, http, serve_args, spawn_app, spawn_on};
use serde_json::json;
use std::net::{IpAddr, SocketAddr};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const ATTACKER: [u8; 4] = [127, 0, 0, 2];
const CLEAN: [u8; 4] = [127, 0, 0, 1];

/// A login answer: status and `Retry-After` (seconds), when sent.
#[derive(Debug)]
struct Answer {
    status: u16,
    retry_after: Option<u64>,
}

/// `POST /api/login` from the local address `from` (any 127.x.y.z works on Linux loopback).
async fn login_from(from: [u8; 4], addr: SocketAddr, email: &str, password: &str) -> Answer {
    let tcp = tokio::net::TcpSocket::new_v4().expect("socket");
    tcp.bind(SocketAddr::new(IpAddr::from(from), 0)).expect("bind the client address");
    let mut stream = tcp.connect(addr).await.expect("tcp connects");
    let body = json!({"email": email, "password": password}).to_string();
    let request = format!(
        "POST /api/login HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.expect("request sent");
    let mut response = String::new();
    stream.read_to_string(&mut response).await.expect("response read");
    let head = response.split("\r\n\r\n").next().unwrap_or("");
    let status = head.split_whitespace().nth(1).and_then(|s| s.parse().ok()).expect("a status line");
    let retry_after = head
        .lines()
        .find_map(|l| l.split_once(':').filter(|(k, _)| k.eq_ignore_ascii_case("retry-after")))
        .and_then(|(_, v)| v.trim().parse().ok());
    Answer { status, retry_after }
}

/// Wrong passwords from the attacker until the throttle answers (at most `limit` tries).
async fn guess_until_throttled(app: &TestApp, email: &str, limit: usize) -> (usize, Answer) {
    for n in 1..=limit {
        let a = login_from(ATTACKER, app.addr, email, &format!("guess-{n}")).await;
        if a.status == 429 {
            return (n, a);
        }
        assert_eq!(a.status, 401, "a wrong password is refused: {a:?}");
    }
    panic!("no throttle after {limit} wrong passwords");
}

#[tokio::test]
async fn a_guesser_is_throttled_but_cannot_lock_the_admin_out() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let (_, email) = add_staff(&app, "Rehema", kituo::domain::Role::Admin).await;

        let (tries, refused) = guess_until_throttled(&app, &email, 10).await;
        assert!(tries > 1, "the first wrong passwords are answered normally");
        assert!(refused.retry_after.is_some_and(|s| s >= 1), "429 carries Retry-After: {refused:?}");
        // The admin at a clean address gets in.
        let a = login_from(CLEAN, app.addr, &email, STAFF_PASSWORD).await;
        assert_eq!(a.status, 200, "the right password from a clean address is never refused: {a:?}");

        let metrics = http(app.addr, "GET", "/metrics", &[], None).await.text;
        assert!(metrics.contains("kituo_security_events_total{kind=\"login_throttled\"}"), "{metrics}");
    }
}

#[tokio::test]
async fn one_address_cannot_spray_many_accounts() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let mut refused = None;
        // Two wrong passwords per account stay under the per-pair delay; the address limit (30
        // per window) stops the spray.
        'spray: for account in 0..40 {
            for guess in 0..2 {
                let a =
                    login_from(ATTACKER, app.addr, &format!("user{account}@staff.test"), &format!("g{guess}")).await;
                if a.status == 429 {
                    refused = Some((account * 2 + guess, a));
                    break 'spray;
                }
            }
        }
        let (after, a) = refused.expect("the address is throttled");
        assert_eq!(after, 30, "30 failures from one address, then 429");
        assert!(a.retry_after.is_some_and(|s| s > 60), "the address waits for its window: {a:?}");
        let (_, email) = add_staff(&app, "Juma", kituo::domain::Role::Agent).await;
        assert_eq!(login_from(ATTACKER, app.addr, &email, STAFF_PASSWORD).await.status, 429);
        assert_eq!(login_from(CLEAN, app.addr, &email, STAFF_PASSWORD).await.status, 200);

        // The counts are in the database: after a restart the address is still throttled.
        let db = app.stop().await;
        let app = spawn_on(db, serve_args).await;
        let a = login_from(ATTACKER, app.addr, &email, STAFF_PASSWORD).await;
        assert_eq!(a.status, 429, "a restart does not reset the throttle: {a:?}");
        assert_eq!(login_from(CLEAN, app.addr, &email, STAFF_PASSWORD).await.status, 200);
    }
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_forwarded_client_is_throttled_not_the_proxy() {
    let db = crate::helpers::TestDb::new(backends()[0]).await;
    let app = spawn_on(db, |url| {
        let mut args = serve_args(url);
        args.trusted_proxy = vec![IpAddr::from(CLEAN)];
        args
    })
    .await;
    let (_, email) = add_staff(&app, "Imani", kituo::domain::Role::Admin).await;
    let via_proxy = |client: &'static str, password: String| {
        let email = email.clone();
        async move {
            let body = json!({"email": email, "password": password});
            http(app.addr, "POST", "/api/login", &[("x-forwarded-for", client)], Some(&body)).await
        }
    };
    // A guesser behind the proxy (the proxy appends the real address on the right).
    let mut throttled = None;
    for n in 0..10 {
        let r = via_proxy("1.2.3.4, 203.0.113.9", format!("guess {n}")).await;
        if r.status == 429 {
            throttled = Some(r);
            break;
        }
        assert_eq!(r.status, 401);
    }
    let r = throttled.expect("the forwarded guesser is throttled");
    assert!(r.headers.contains_key("retry-after"));
    // Another customer behind the same proxy, even claiming the guesser's address on the left,
    // is a different client and gets in.
    let r = via_proxy("203.0.113.9, 203.0.113.10", STAFF_PASSWORD.to_string()).await;
    assert_eq!(r.status, 200, "{}", r.text);
    // A direct client (not a trusted proxy) is throttled on its own address, as without a proxy.
    // (That its X-Forwarded-For is ignored is a unit test in src/web/client_addr.rs.)
    for _ in 0..3 {
        assert_eq!(login_from(ATTACKER, app.addr, &email, "nope").await.status, 401);
    }
    assert_eq!(login_from(ATTACKER, app.addr, &email, STAFF_PASSWORD).await.status, 429);
}
