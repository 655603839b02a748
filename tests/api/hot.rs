//! The message hot path answers from memory (issue 16): the widget socket holds its
//! conversation's turn state and the built-in back office keeps its answers. These tests check
//! that what is held never hides a change made elsewhere.

use crate::helpers::{Chat, admin, backends, eventually, hand_off, spawn_app};
use crate::import::import;
use serde_json::json;
use std::time::Duration;

/// Sends a message and waits for its ack (frames of earlier turns are skipped).
async fn send_acked(chat: &mut Chat, text: &str) -> serde_json::Value {
    let id = chat.next_id();
    chat.send(json!({"type": "message", "text": text, "client_msg_id": id})).await;
    loop {
        let f = chat.frame().await;
        if f["type"] == "ack" && f["client_msg_id"] == id.as_str() {
            return f;
        }
        assert_ne!(f["type"], "error", "message refused: {f}");
    }
}

#[tokio::test]
async fn a_team_given_between_two_messages_is_kept() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let boss = admin(&app, "Boss").await;
        boss.post("/api/admin/teams/billing/members", json!({"agent_id": boss.id})).await.ok();
        let mut chat = app.chat().await;
        // The socket now holds the conversation as queued, without a team.
        hand_off(&mut chat).await;
        let id = chat.conversation_id.clone();
        let assign = format!("/api/conversations/{id}/assign");
        let c = boss.post(&assign, json!({"team": "billing"})).await.ok()["conversation"].clone();
        assert_eq!((c["status"].as_str(), c["team"].as_str()), (Some("queued"), Some("billing")), "{backend:?}: {c}");

        // Only the team changed (no message, same status and assignee): the customer's next turn
        // must not write the held, older owner back.
        send_acked(&mut chat, "are you still there?").await;
        let c = boss.conversation(&id).await["conversation"].clone();
        assert_eq!(c["team"], "billing", "{backend:?}: the customer's turn undid the transfer: {c}");
        assert_eq!(c["status"], "queued", "{backend:?}: {c}");
        app.stop().await;
    }
}

#[tokio::test]
async fn an_import_by_another_process_reaches_a_running_servers_answers() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let mut chat = app.chat().await;
        let before = chat.ask("do you have the kanga pair in stock?").await;
        assert!(before.contains("48 available"), "{backend:?}: demo stock: {before}");
        // Asked again: answered from memory, the same.
        assert!(chat.ask("do you have the kanga pair in stock?").await.contains("48 available"));

        let csv = "sku,name,quantity_on_hand,restock_date,price,currency\n\
                   KG-KAN-01,Kanga pair with Swahili proverb,7,,18000.00,TZS\n";
        let out = import(&app.db, "products", csv);
        assert!(out.status.success(), "{backend:?}: {}", String::from_utf8_lossy(&out.stderr));

        let addr = app.addr;
        let after = eventually("the imported stock in the bot's answer", Duration::from_secs(10), || async move {
            let mut chat = Chat::connect(addr, None).await;
            let reply = chat.ask("do you have the kanga pair in stock?").await;
            reply.contains("7 available").then_some(reply)
        })
        .await;
        assert!(!after.contains("48"), "{backend:?}: {after}");
        app.stop().await;
    }
}
