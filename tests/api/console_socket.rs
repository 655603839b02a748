//! The console socket `/ws/agent`: who may open it, the live stream (conversations, messages,
//! private notes, typing, presence) and resume by seq.

use crate::helpers::{Console, Staff, agent, backends, console_handshake, hand_off, next_message, spawn_app};
use futures_util::StreamExt;
use serde_json::{Value, json};
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;

fn of(conversation: &str) -> impl Fn(&Value) -> bool + '_ {
    move |f: &Value| f["message"]["conversation_id"] == conversation || f["conversation"]["id"] == conversation
}

async fn presence_of(staff: &Staff, id: &str) -> String {
    let agents = staff.get("/api/agents").await.ok()["agents"].clone();
    let me = agents.as_array().unwrap().iter().find(|a| a["id"] == id).cloned();
    me.unwrap_or_else(|| panic!("agent {id} not listed: {agents}"))["presence"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn the_console_socket_refuses_other_origins_and_requests_without_a_session() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let neema = agent(&app, "Neema").await;
        let cookie = neema.cookie_header().unwrap();
        assert_eq!(console_handshake(app.addr, &[]).await.err(), Some(401), "{backend:?}: no cookie");
        for evil in ["https://evil.example", "http://127.0.0.1.evil.example", "null"] {
            let r = console_handshake(app.addr, &[("cookie", &cookie), ("origin", evil)]).await;
            assert_eq!(r.err(), Some(403), "{backend:?}: Origin {evil} was let in");
        }
        // The console's own page (same origin) is welcome.
        let own = format!("http://{}", app.addr);
        let mut c = console_handshake(app.addr, &[("cookie", &cookie), ("origin", &own)])
            .await
            .unwrap_or_else(|s| panic!("{backend:?}: same-origin console refused with {s}"));
        assert_eq!(c.frame().await["type"], "hello");
        c.close().await;
    }
}

#[tokio::test]
async fn handoffs_messages_private_notes_and_typing_arrive_live() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let neema = agent(&app, "Neema").await;
        let juma = agent(&app, "Juma").await;
        let mut console = Console::connect(&neema).await;
        // Connected means online; away keeps the dispatcher from assigning to Neema.
        neema.presence("away").await;
        let mut chat = app.chat().await;
        let id = chat.conversation_id.clone();
        hand_off(&mut chat).await;

        // The handoff: the three messages and the queued conversation, without asking.
        let mut authors = Vec::new();
        let mut queued = None;
        while authors.len() < 3 || queued.is_none() {
            let f = console.frame_where("the handoff", of(&id)).await;
            match f["type"].as_str() {
                Some("message") => {
                    assert_eq!(f["message"]["channel"], "web");
                    authors.push(f["message"]["author"].as_str().unwrap().to_string());
                }
                Some("conversation") if f["conversation"]["status"] == "queued" => queued = Some(f),
                _ => {}
            }
        }
        assert_eq!(authors, ["customer", "bot", "system"], "{backend:?}");
        let q = queued.unwrap();
        assert_eq!(q["conversation"]["queue_position"], 1, "{backend:?}: {q}");
        assert!(q["conversation"]["summary"].as_str().is_some_and(|s| s.contains("human")), "{backend:?}: {q}");

        // Another agent claims: every console sees the new owner.
        juma.act(&id, "claim").await.ok();
        let f = console
            .frame_where("the claim", |f| f["type"] == "conversation" && f["conversation"]["status"] == "assigned")
            .await;
        assert_eq!(f["conversation"]["assignee"]["id"], juma.id.as_str(), "{backend:?}: {f}");

        // A private note arrives as a private message; a reply as a public one.
        let note = juma
            .post(&format!("/api/conversations/{id}/messages"), json!({"text": "VIP customer", "private": true}))
            .await;
        assert_eq!(note.status, 201);
        let f =
            console.frame_where("the note", |f| f["type"] == "message" && f["message"]["text"] == "VIP customer").await;
        assert_eq!(f["message"]["private"], true, "{backend:?}: {f}");
        assert_eq!(
            (f["message"]["author"].as_str(), f["message"]["author_name"].as_str()),
            (Some("agent"), Some("Juma"))
        );
        assert_eq!(f["message"]["seq"], note.json["message"]["seq"]);
        juma.post(&format!("/api/conversations/{id}/messages"), json!({"text": "Hello from Juma"})).await.ok();
        let f = console
            .frame_where("the reply", |f| f["type"] == "message" && f["message"]["text"] == "Hello from Juma")
            .await;
        assert_eq!(f["message"]["private"], false, "{backend:?}: {f}");
        next_message(&mut chat, "the reply", |f| f["text"] == "Hello from Juma").await;

        // The customer types: consoles are told, for this conversation.
        chat.send(json!({"type": "typing"})).await;
        let f = console.frame_where("customer typing", |f| f["type"] == "typing").await;
        assert_eq!(
            (f["conversation_id"].as_str(), f["author"].as_str()),
            (Some(id.as_str()), Some("customer")),
            "{backend:?}"
        );

        // An agent types in the console: the customer and other consoles see it, not the typist.
        let mut juma_console = Console::connect(&juma).await;
        juma_console.send(json!({"type": "typing", "conversation_id": id})).await;
        let f = console.frame_where("agent typing", |f| f["type"] == "typing").await;
        assert_eq!((f["author"].as_str(), f["name"].as_str()), (Some("agent"), Some("Juma")), "{backend:?}: {f}");
        let typing = tokio::time::timeout(Duration::from_secs(10), async {
            loop {
                if let Some(Ok(Message::Text(t))) = chat.ws.next().await {
                    let v: Value = serde_json::from_str(&t).unwrap();
                    if v["type"] == "typing" {
                        return v;
                    }
                }
            }
        })
        .await
        .unwrap_or_else(|_| panic!("{backend:?}: the widget never saw the agent typing"));
        assert_eq!(typing["author"], "agent");
        // Juma's own console does not echo his typing: the next frame it gets is the next reply.
        juma.post(&format!("/api/conversations/{id}/messages"), json!({"text": "one moment"})).await.ok();
        let f = juma_console.frame_where("the next message", |f| f["type"] == "message" || f["type"] == "typing").await;
        assert_eq!(f["type"], "message", "{backend:?}: the typist got {f}");
        juma_console.close().await;
        console.close().await;
    }
}

#[tokio::test]
async fn resume_returns_every_message_including_notes_in_seq_order() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let neema = agent(&app, "Neema").await;
        let mut chat = app.chat().await;
        let id = chat.conversation_id.clone();
        hand_off(&mut chat).await;
        neema.act(&id, "claim").await.ok();
        let path = format!("/api/conversations/{id}/messages");
        neema.post(&path, json!({"text": "note one", "private": true})).await.ok();
        neema.post(&path, json!({"text": "Hello!"})).await.ok();

        let mut console = Console::connect(&neema).await;
        let resume = |after: i64| json!({"type": "resume", "conversation_id": id, "after_seq": after});
        let detail = neema.conversation(&id).await;
        let all: Vec<Value> = detail["messages"].as_array().unwrap().clone();
        console.send(resume(0)).await;
        let mut got = Vec::new();
        while got.len() < all.len() {
            got.push(console.frame_where("resumed messages", |f| f["type"] == "message").await["message"].clone());
        }
        let seqs: Vec<i64> = got.iter().map(|m| m["seq"].as_i64().unwrap()).collect();
        assert_eq!(seqs, (1..=all.len() as i64).collect::<Vec<_>>(), "{backend:?}: every message, in order");
        assert_eq!(got, all, "{backend:?}: resume and REST agree");
        assert!(got.iter().any(|m| m["private"] == true && m["text"] == "note one"), "{backend:?}: notes included");

        // Reconnecting after missing some: resume from the last seen seq gives exactly those.
        let last_seen = *seqs.last().unwrap();
        console.close().await;
        chat.send(json!({"type": "message", "text": "are you there?", "client_msg_id": "c-1"})).await;
        next_message(&mut chat, "own echo", |f| f["text"] == "are you there?").await;
        neema.post(&path, json!({"text": "note two", "private": true})).await.ok();
        neema.post(&path, json!({"text": "Yes!"})).await.ok();
        let mut console = Console::connect(&neema).await;
        console.send(resume(last_seen)).await;
        let mut missed = Vec::new();
        for _ in 0..3 {
            missed.push(console.frame_where("missed messages", |f| f["type"] == "message").await["message"].clone());
        }
        let texts: Vec<&str> = missed.iter().map(|m| m["text"].as_str().unwrap()).collect();
        assert_eq!(texts, ["are you there?", "note two", "Yes!"], "{backend:?}");
        let seqs: Vec<i64> = missed.iter().map(|m| m["seq"].as_i64().unwrap()).collect();
        assert_eq!(seqs, [last_seen + 1, last_seen + 2, last_seen + 3], "{backend:?}");

        // Refused frames are explained and the socket stays open.
        console.send(json!({"type": "resume", "conversation_id": "nope", "after_seq": 0})).await;
        let f = console.frame_where("an error", |f| f["type"] == "error").await;
        assert_eq!(f["code"], "not_found", "{backend:?}: {f}");
        console.send(json!({"type": "dance"})).await;
        let f = console.frame_where("an error", |f| f["type"] == "error").await;
        assert_eq!(f["code"], "bad_frame", "{backend:?}: {f}");
        console.send(resume(all.len() as i64 - 1)).await;
        let f = console.frame_where("a message", |f| f["type"] == "message").await;
        assert_eq!(f["message"]["seq"].as_i64(), Some(all.len() as i64), "{backend:?}: still serving after errors");
        console.close().await;
    }
}

#[tokio::test]
async fn connecting_sets_the_agent_online_and_closing_the_last_socket_sets_offline() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let neema = agent(&app, "Neema").await;
        let juma = agent(&app, "Juma").await;
        let mut watcher = Console::connect(&juma).await;
        assert_eq!(presence_of(&neema, &neema.id).await, "offline");

        let first = Console::connect(&neema).await;
        assert_eq!(presence_of(&juma, &neema.id).await, "online", "{backend:?}: online once the socket is open");
        let f = watcher
            .frame_where("neema online", |f| f["type"] == "presence" && f["agent_id"] == neema.id.as_str())
            .await;
        assert_eq!(f["presence"], "online", "{backend:?}");

        // A second tab; closing one of two keeps the agent online.
        let second = Console::connect(&neema).await;
        first.close().await;
        // Closing is processed asynchronously: give the server a moment before checking it kept
        // the agent online, then close the last socket.
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert_eq!(presence_of(&juma, &neema.id).await, "online", "{backend:?}: one tab closed, another open");
        second.close().await;
        let f = watcher
            .frame_where("neema offline", |f| f["type"] == "presence" && f["agent_id"] == neema.id.as_str())
            .await;
        assert_eq!(f["presence"], "offline", "{backend:?}");
        assert_eq!(presence_of(&juma, &neema.id).await, "offline", "{backend:?}");

        // Presence set by hand reaches consoles too.
        neema.presence("away").await;
        let f =
            watcher.frame_where("neema away", |f| f["type"] == "presence" && f["agent_id"] == neema.id.as_str()).await;
        assert_eq!(f["presence"], "away", "{backend:?}");
        watcher.close().await;
    }
}

#[tokio::test]
async fn a_deactivated_agent_stops_receiving_console_events() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let boss = crate::helpers::admin(&app, "Boss").await;
        let neema = agent(&app, "Neema").await;
        let mut console = Console::connect(&neema).await;
        let r = boss.patch(&format!("/api/admin/agents/{}", neema.id), json!({"active": false})).await;
        assert_eq!(r.ok()["agent"]["active"], false);
        assert_eq!(neema.get("/api/me").await.status, 401, "{backend:?}: the session is gone");

        // New customer activity after the deactivation must not reach the old socket.
        let mut chat = app.chat().await;
        hand_off(&mut chat).await;
        let id = chat.conversation_id.clone();
        let leaked = tokio::time::timeout(Duration::from_secs(3), async {
            while let Some(Ok(msg)) = console.ws.next().await {
                if let Message::Text(t) = msg {
                    let f: Value = serde_json::from_str(&t).unwrap();
                    if of(&id)(&f) {
                        return Some(f);
                    }
                }
            }
            None // closed: good
        })
        .await
        .ok()
        .flatten();
        assert!(
            leaked.is_none(),
            "{backend:?}: a deactivated agent's open console socket still streams conversations: {}",
            leaked.unwrap()
        );
    }
}

/// Labels travel with every conversation event: setting them shows on every console at once,
/// and a later change (a claim) does not drop them from the consoles' lists.
#[tokio::test]
async fn labels_reach_consoles_live_and_stay_on_later_events() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let boss = crate::helpers::admin(&app, "Label Boss").await;
        boss.post("/api/admin/labels", json!({"name": "vip", "color": "#8e44ad"})).await.ok();
        let juma = agent(&app, "Juma").await;
        let mut console = Console::connect(&boss).await;
        boss.presence("away").await;
        let chat = crate::helpers::queued_customer(&app).await;
        let id = chat.conversation_id.clone();

        juma.post(&format!("/api/conversations/{id}/labels"), json!({"labels": ["vip"]})).await.ok();
        let f = console
            .frame_where("the labelled conversation", |f| {
                f["conversation"]["id"] == id.as_str() && f["conversation"]["labels"] == json!(["vip"])
            })
            .await;
        assert_eq!(f["type"], "conversation", "{backend:?}: {f}");

        juma.act(&id, "claim").await.ok();
        let f = console
            .frame_where("the claim", |f| {
                f["conversation"]["id"] == id.as_str() && f["conversation"]["status"] == "assigned"
            })
            .await;
        assert_eq!(f["conversation"]["labels"], json!(["vip"]), "{backend:?}: the claim's event keeps the labels: {f}");
    }
}
