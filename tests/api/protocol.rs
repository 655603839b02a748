//! The chat protocol itself: acks, idempotency, resume, bad frames, limits.

use crate::helpers::{Chat, TestDb, backends, serve_args, spawn_app, spawn_on};
use serde_json::json;
use std::time::Duration;

#[tokio::test]
async fn ack_comes_after_storage_and_a_repeated_client_msg_id_is_stored_once() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let mut chat = app.chat().await;
        chat.send(json!({"type": "message", "text": "hello", "client_msg_id": "same-id"})).await;
        let ack1 = chat.frame().await;
        assert_eq!(ack1["type"], "ack");
        let stored = app.hub.store().messages_after(&chat.conversation_id, 0, 100, true).await.unwrap();
        assert!(stored.iter().any(|m| m.id == ack1["id"].as_str().unwrap()), "acked message is stored");
        chat.reply_after(ack1["seq"].as_i64().unwrap()).await;

        chat.send(json!({"type": "message", "text": "hello", "client_msg_id": "same-id"})).await;
        let ack2 = chat.frame().await;
        assert_eq!(ack2["type"], "ack");
        assert_eq!(ack1["id"], ack2["id"], "{backend:?}: same ack id for a repeat");
        // Nothing new is stored or sent for the repeat.
        assert!(chat.maybe_frame(Duration::from_millis(300)).await.is_none());
        let after = app.hub.store().messages_after(&chat.conversation_id, 0, 100, true).await.unwrap();
        assert_eq!(after.len(), stored.len(), "{backend:?}: repeat stored nothing");
    }
}

#[tokio::test]
async fn resume_after_disconnect_loses_nothing_and_keeps_order() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let mut chat = app.chat().await;
        let (ack, _) = chat.say("hello").await;
        let seen = ack["seq"].as_i64().unwrap() + 1; // the customer message and the greeting
        let token = chat.visitor_token.clone();
        let conversation = chat.conversation_id.clone();
        drop(chat);

        // While the widget is away, more happens in the conversation (another tab).
        let mut tab = Chat::connect(app.addr, Some(&token)).await;
        assert_eq!(tab.conversation_id, conversation, "{backend:?}: token resumes the conversation");
        tab.ask("do you have kanga?").await;
        tab.ask("thanks").await;
        drop(tab);

        let mut chat = Chat::connect(app.addr, Some(&token)).await;
        chat.send(json!({"type": "resume", "after_seq": seen})).await;
        let mut seqs = Vec::new();
        while let Some(f) = chat.maybe_frame(Duration::from_millis(500)).await {
            assert_eq!(f["type"], "message");
            seqs.push(f["seq"].as_i64().unwrap());
        }
        assert_eq!(seqs, ((seen + 1)..=(seen + 4)).collect::<Vec<_>>(), "{backend:?}: every missed message, in order");

        // A full resume replays the whole history.
        chat.send(json!({"type": "resume", "after_seq": 0})).await;
        let mut all = 0;
        while chat.maybe_frame(Duration::from_millis(500)).await.is_some() {
            all += 1;
        }
        assert_eq!(all, seen + 4, "{backend:?}");
    }
}

#[tokio::test]
async fn bad_frames_get_errors_and_the_socket_stays_open() {
    let app = spawn_app(backends()[0]).await;
    let mut chat = app.chat().await;
    for (raw, code) in [
        ("this is not json", "bad_json"),
        (r#"{"type":"dance"}"#, "unknown_type"),
        (r#"{"type":"message"}"#, "bad_frame"),
        (r#"{"text":"no type"}"#, "bad_frame"),
        (r#"{"type":"message","text":"   ","client_msg_id":"e"}"#, "empty"),
    ] {
        chat.send_raw(raw).await;
        let f = chat.frame().await;
        assert_eq!(f["type"], "error", "{raw}: {f}");
        assert_eq!(f["code"], code, "{raw}: {f}");
        assert!(f["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    let long = "a".repeat(kituo::channel::web_widget::MAX_TEXT_CHARS + 1);
    chat.send(json!({"type": "message", "text": long, "client_msg_id": "long"})).await;
    let f = chat.frame().await;
    assert_eq!(f["code"], "too_long", "{f}");
    assert_eq!(f["client_msg_id"], "long", "the refusal names the message");
    // Nothing of the refused frames was stored, and the socket still works.
    let stored = app.hub.store().messages_after(&chat.conversation_id, 0, 100, true).await.unwrap();
    assert!(stored.is_empty(), "refused frames store nothing: {stored:?}");
    let reply = chat.ask("hello").await;
    assert!(!reply.is_empty());
}

#[tokio::test]
async fn floods_are_rate_limited_and_sustained_abuse_is_closed() {
    let app = spawn_app(backends()[0]).await;
    let mut chat = app.chat().await;
    for i in 0..40 {
        chat.send(json!({"type": "message", "text": format!("hi {i}"), "client_msg_id": format!("f{i}")})).await;
    }
    let mut acks = 0;
    let mut limited = 0;
    while let Some(f) = chat.maybe_frame(Duration::from_millis(800)).await {
        match f["type"].as_str() {
            Some("ack") => acks += 1,
            Some("error") if f["code"] == "rate_limited" => limited += 1,
            _ => {}
        }
    }
    assert!((20..40).contains(&acks), "a burst is allowed, then limited: {acks} acks");
    assert_eq!(acks + limited, 40, "every frame got an answer");

    // Garbage without end: the server closes with a policy-violation code.
    let mut bad = app.chat().await;
    for _ in 0..80 {
        if futures_util::SinkExt::send(&mut bad.ws, "nope".into()).await.is_err() {
            break;
        }
    }
    let mut closed_with = None;
    while let Ok(Some(msg)) =
        tokio::time::timeout(Duration::from_secs(5), futures_util::StreamExt::next(&mut bad.ws)).await
    {
        match msg {
            Ok(tokio_tungstenite::tungstenite::Message::Close(frame)) => {
                closed_with = frame.map(|f| u16::from(f.code));
                break;
            }
            Ok(_) => continue,
            Err(_) => break,
        }
    }
    assert_eq!(closed_with, Some(1008));
}

#[tokio::test]
async fn an_unknown_visitor_token_starts_a_fresh_conversation() {
    let app = spawn_app(backends()[0]).await;
    let chat = Chat::connect(app.addr, Some("not-a-real-token")).await;
    assert_ne!(chat.visitor_token, "not-a-real-token");
    assert!(!chat.conversation_id.is_empty());
}

/// Reads frames until the server closes; returns the error codes seen and the close code.
async fn refusal(ws: &mut crate::helpers::Socket) -> (Vec<String>, Option<u16>) {
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::Message;
    let mut codes = Vec::new();
    while let Ok(Some(msg)) = tokio::time::timeout(Duration::from_secs(10), ws.next()).await {
        match msg {
            Ok(Message::Text(t)) => {
                let v: serde_json::Value = serde_json::from_str(&t).expect("server sends JSON");
                if v["type"] == "error" {
                    codes.push(v["code"].as_str().unwrap_or_default().to_string());
                }
            }
            Ok(Message::Close(frame)) => return (codes, frame.map(|f| u16::from(f.code))),
            Ok(_) => {}
            Err(_) => break,
        }
    }
    (codes, None)
}

#[tokio::test]
async fn one_address_is_held_to_its_socket_limit_while_other_customers_chat_on() {
    use futures_util::{SinkExt, StreamExt};
    let db = TestDb::new(backends()[0]).await;
    let app = spawn_on(db, |url| {
        let mut args = serve_args(url);
        args.max_sockets_per_ip = 5;
        args
    })
    .await;
    let crowd: std::net::IpAddr = "127.0.0.2".parse().unwrap();
    let mut held = Vec::new();
    for _ in 0..5 {
        let mut ws = Chat::socket_from(crowd, app.addr).await;
        let first = ws.next().await.expect("open").expect("frame");
        assert!(first.to_text().unwrap().contains("\"session\""), "within the limit: a session ({first})");
        held.push(ws);
    }

    // The crowd keeps opening sockets and another address floods one socket with messages, while
    // a customer from a third address goes through a whole order dialogue.
    let addr = app.addr;
    let crowd_task = tokio::spawn(async move {
        let mut refused = 0;
        for _ in 0..60 {
            let mut ws = Chat::socket_from(crowd, addr).await;
            let (codes, close) = refusal(&mut ws).await;
            assert_eq!(codes, ["too_many_connections"], "the refusal says why");
            assert_eq!(close, Some(1013), "closed with try-again-later");
            refused += 1;
        }
        refused
    });
    // The flooder has its own address (closing it for abuse must not free the crowd's slots).
    let mut flooder = Chat::socket_from("127.0.0.3".parse().unwrap(), app.addr).await;
    let flood_task = tokio::spawn(async move {
        for i in 0..45 {
            let frame = serde_json::json!({"type": "message", "text": format!("spam {i}")}).to_string();
            flooder.send(frame.into()).await.expect("the flooder may send");
        }
        let mut limited = 0;
        while let Ok(Some(Ok(msg))) = tokio::time::timeout(Duration::from_secs(3), flooder.next()).await {
            if msg.to_text().unwrap_or_default().contains("rate_limited") {
                limited += 1;
            }
        }
        assert!(limited >= 20, "the flood is rate limited: {limited} refusals");
    });
    let mut chat = app.chat().await;
    assert!(chat.ask("Hi, where is my order?").await.to_lowercase().contains("order number"));
    assert!(chat.ask("It's #1001").await.to_lowercase().contains("email"));
    let answer = chat.ask("amina.mwakilema@example.co.tz").await;
    assert!(answer.contains("EE482913057TZ"), "the other customer is answered in full: {answer}");
    assert_eq!(crowd_task.await.unwrap(), 60, "every socket over the limit was refused");
    flood_task.await.unwrap();

    // Slots come back when sockets close: the crowd may connect again.
    drop(held.pop());
    let mut again = None;
    for _ in 0..50 {
        let mut ws = Chat::socket_from(crowd, app.addr).await;
        let first = ws.next().await.expect("open").expect("frame");
        if first.to_text().unwrap().contains("\"session\"") {
            again = Some(ws);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(again.is_some(), "a freed slot is given to the next socket");
    let metrics = crate::helpers::http(app.addr, "GET", "/metrics", &[], None).await;
    assert!(metrics.text.contains("kituo_widget_sockets_refused_total"), "refusals are counted");
}

#[tokio::test]
async fn concurrent_writers_on_one_conversation_store_every_message_once_in_seq_order() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let mut first = app.chat().await;
        let token = first.visitor_token.clone();
        let mut second = Chat::connect(app.addr, Some(&token)).await;
        assert_eq!(first.conversation_id, second.conversation_id, "one conversation, two sockets");
        // Both sockets fire at once: 8 messages of their own and the same 4 repeated ids.
        for chat in [&mut first, &mut second] {
            for i in 0..8 {
                let id = chat.next_id();
                chat.send(json!({"type": "message", "text": format!("thanks {i}"), "client_msg_id": id})).await;
            }
            for i in 0..4 {
                chat.send(json!({"type": "message", "text": "hello", "client_msg_id": format!("both-{i}")})).await;
            }
        }
        let mut acks = std::collections::HashMap::new();
        for chat in [&mut first, &mut second] {
            let mut n = 0;
            while n < 12 {
                let f = chat.maybe_frame(Duration::from_secs(20)).await.expect("every message is answered");
                assert_ne!(f["type"], "error", "{backend:?}: no message is refused: {f}");
                if f["type"] == "ack" {
                    let cmid = f["client_msg_id"].as_str().unwrap().to_string();
                    let id = f["id"].as_str().unwrap().to_string();
                    if let Some(other) = acks.insert(cmid.clone(), id.clone()) {
                        assert_eq!(other, id, "{backend:?}: a repeated {cmid} is acked with the stored message");
                    }
                    n += 1;
                }
            }
        }
        assert_eq!(acks.len(), 20, "{backend:?}: 16 own messages and 4 shared ids");
        let stored = app.hub.store().messages_after(&first.conversation_id, 0, 1000, true).await.unwrap();
        let seqs: Vec<i64> = stored.iter().map(|m| m.seq).collect();
        assert_eq!(seqs, (1..=stored.len() as i64).collect::<Vec<_>>(), "{backend:?}: seqs without gaps or repeats");
        let customer: Vec<_> = stored.iter().filter(|m| m.author == kituo::domain::Author::Customer).collect();
        assert_eq!(customer.len(), 20, "{backend:?}: each message stored once");
        for id in acks.values() {
            assert!(customer.iter().any(|m| &m.id == id), "{backend:?}: acked message {id} is stored");
        }
    }
}

/// Text no database should refuse: a NUL (PostgreSQL's `text` cannot hold one) and other
/// control characters are dropped at the edge, the rest of the message is stored and answered
/// on both backends, and the socket stays open.
#[tokio::test]
async fn control_characters_are_dropped_and_the_rest_is_stored() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let mut chat = app.chat().await;
        let (ack, reply) = chat.say("hel\u{0}lo\u{7}\u{1b}[2J there\ttab\r\nline").await;
        assert_eq!(ack["type"], "ack", "{backend:?}: {ack}");
        assert!(!reply.is_empty(), "{backend:?}: the bot answered");
        let stored = app.hub.store().messages_after(&chat.conversation_id, 0, 100, true).await.unwrap();
        let texts: Vec<&str> = stored.iter().map(|m| m.text.as_str()).collect();
        assert!(texts.contains(&"hello[2J there\ttab\r\nline"), "{backend:?}: {texts:?}");
        // Nothing but control characters is an empty message.
        chat.send(json!({"type": "message", "text": "\u{0}\u{0}", "client_msg_id": "nul-only"})).await;
        let f = chat.frame().await;
        assert_eq!(f["code"], "empty", "{backend:?}: {f}");
        assert!(!chat.ask("hello").await.is_empty(), "{backend:?}: the socket still works");
    }
}
