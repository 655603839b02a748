//! The chat protocol itself: acks, idempotency, resume, bad frames, limits.

use crate::helpers::{Chat, backends, spawn_app};
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
