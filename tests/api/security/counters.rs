//! Attacks on the web side move `kituo_security_events_total{kind=…}` in `/metrics`; with
//! `--metrics-token` the metrics need the bearer token, and are open without one.

use crate::helpers::{Resp, TestDb, backends, console_handshake, http, login, serve_args, spawn_app, spawn_on};
use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;

/// The value of `kituo_security_events_total{kind="<kind>"}` (0 when absent).
fn events(metrics: &Resp, kind: &str) -> i64 {
    let prefix = format!("kituo_security_events_total{{kind=\"{kind}\"}} ");
    metrics.text.lines().find_map(|l| l.strip_prefix(&prefix)).map_or(0, |v| v.trim().parse().unwrap())
}

#[tokio::test]
async fn web_attacks_move_the_security_counters() {
    for backend in backends() {
        let app = spawn_on(TestDb::new(backend).await, |url| {
            let mut args = serve_args(url);
            args.max_sockets_per_ip = 2;
            args
        })
        .await;
        let before = http(app.addr, "GET", "/metrics", &[], None).await;
        for kind in ["login_failure", "origin_refused", "rate_limited", "socket_cap"] {
            assert_eq!(events(&before, kind), 0, "{kind} starts at zero");
        }

        // A wrong password.
        assert_eq!(login(app.addr, "nobody@staff.test", "guess").await.status, 401);
        // A console socket from another origin.
        let refused = console_handshake(app.addr, &[("origin", "http://evil.example")]).await.err();
        assert_eq!(refused, Some(403));
        // A flood on one widget socket.
        let mut chat = app.chat().await;
        for i in 0..40 {
            chat.send(json!({"type": "message", "text": format!("spam {i}")})).await;
        }
        // A third socket from an address allowed two.
        let _second = app.chat().await;
        let (mut third, _) = tokio_tungstenite::connect_async(format!("ws://{}/ws/chat", app.addr)).await.unwrap();
        let first = tokio::time::timeout(Duration::from_secs(10), third.next()).await.unwrap().unwrap().unwrap();
        assert!(first.to_text().unwrap().contains("too_many_connections"), "{first}");
        let _ = third.close(None).await;

        let after = crate::helpers::eventually("the counters", Duration::from_secs(10), || async {
            let m = http(app.addr, "GET", "/metrics", &[], None).await;
            (events(&m, "rate_limited") > 0).then_some(m)
        })
        .await;
        assert_eq!(events(&after, "login_failure"), 1, "{}", after.text);
        assert_eq!(events(&after, "origin_refused"), 1, "{}", after.text);
        assert_eq!(events(&after, "socket_cap"), 1, "{}", after.text);
        assert!(events(&after, "rate_limited") >= 1, "{}", after.text);
        let _ = chat.ws.send(Message::Close(None)).await;
    }
}

#[tokio::test]
async fn metrics_need_the_token_when_one_is_set_and_are_open_otherwise() {
    let open = spawn_app(backends()[0]).await;
    assert_eq!(http(open.addr, "GET", "/metrics", &[], None).await.status, 200, "open without a token");

    let app = spawn_on(TestDb::new(backends()[0]).await, |url| {
        let mut args = serve_args(url);
        args.metrics_token = Some("scrape-secret".into());
        args
    })
    .await;
    let none = http(app.addr, "GET", "/metrics", &[], None).await;
    assert_eq!(none.status, 401);
    assert_eq!(none.headers.get("www-authenticate").map(|v| v.to_str().unwrap()), Some("Bearer"));
    assert!(!none.text.contains("kituo_"), "no figures leak: {}", none.text);
    let wrong = http(app.addr, "GET", "/metrics", &[("authorization", "Bearer guess")], None).await;
    assert_eq!(wrong.status, 401);
    let ok = http(app.addr, "GET", "/metrics", &[("authorization", "Bearer scrape-secret")], None).await;
    assert_eq!(ok.status, 200);
    assert!(ok.text.contains("kituo_websocket_connections"), "{}", ok.text);
    assert_eq!(http(app.addr, "GET", "/health", &[], None).await.status, 200, "health stays open");
}
