//! The bot over the widget socket: dialogues, disclosure rules, languages, persistence.

use crate::helpers::{Chat, WIDGET_SECRET, backends, sign, spawn_app};
use serde_json::json;

#[tokio::test]
async fn multi_turn_order_dialogue_discloses_only_after_the_right_email() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let mut chat = app.chat().await;
        let ask_number = chat.ask("Hi, where is my order?").await;
        assert!(ask_number.to_lowercase().contains("order number"), "{backend:?}: {ask_number}");
        let ask_email = chat.ask("It's #1001").await;
        assert!(ask_email.to_lowercase().contains("email"), "{backend:?}: {ask_email}");
        assert!(!ask_email.contains("EE482913057TZ"), "nothing disclosed before the email");
        let right = chat.ask("amina.mwakilema@example.co.tz").await;
        assert!(right.contains("Posta Tanzania"), "{backend:?}: carrier in {right}");
        assert!(right.contains("EE482913057TZ"), "{backend:?}: tracking number in {right}");
        assert!(right.to_lowercase().contains("shipped"), "{backend:?}: status in {right}");

        // Verified for that email now: another order with the same email needs no second check.
        let second = chat.ask("and what about order 1007?").await;
        assert!(second.to_lowercase().contains("delivered"), "{backend:?}: {second}");
        // ...but an order of someone else still asks for its email.
        let other = chat.ask("status of order SO-2026-0042").await;
        assert!(other.to_lowercase().contains("email"), "{backend:?}: {other}");
        assert!(!other.contains("G4S"), "{backend:?}: {other}");
    }
}

#[tokio::test]
async fn wrong_email_and_missing_order_get_the_same_reply_and_disclose_nothing() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let mut chat = app.chat().await;
        chat.ask("where is order SO-2026-0042").await;
        let wrong = chat.ask("mallory@example.com").await;
        assert!(!wrong.contains("G4S") && !wrong.contains("12,750"), "{backend:?}: {wrong}");
        assert!(!wrong.to_lowercase().contains("shipped"), "{backend:?}: {wrong}");

        let mut other = app.chat().await;
        let ask = other.ask("where is order SO-2099-9999").await;
        assert!(ask.to_lowercase().contains("email"), "a missing order also asks for the email: {ask}");
        let missing = other.ask("mallory@example.com").await;
        assert_eq!(
            wrong.replace("SO-2026-0042", "N").replace("so-2026-0042", "N"),
            missing.replace("SO-2099-9999", "N").replace("so-2099-9999", "N"),
            "{backend:?}: a wrong email and a missing order must read the same"
        );
    }
}

#[tokio::test]
async fn three_failed_checks_stop_disclosure_and_queue_for_a_human() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let mut chat = app.chat().await;
        for attempt in 0..3 {
            chat.ask("order 1002 status").await;
            let reply = chat.ask(&format!("guess{attempt}@example.com")).await;
            if attempt == 2 {
                assert!(
                    reply.to_lowercase().contains("team") || reply.to_lowercase().contains("person"),
                    "{backend:?}: locked reply offers a human: {reply}"
                );
            }
        }
        // Even the right email no longer discloses in this conversation.
        chat.ask("order 1002 status").await;
        let after = chat.ask("order 1002 juma.otieno@example.co.ke").await;
        assert!(!after.contains("G4S-NBO-0031877"), "{backend:?}: locked conversation disclosed: {after}");
        let conv = app.hub.store().conversation(&chat.conversation_id).await.unwrap().unwrap();
        assert_eq!(conv.status.as_str(), "queued", "{backend:?}");
    }
}

#[tokio::test]
async fn hmac_identify_verifies_and_a_forged_one_changes_nothing() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let mut chat = app.chat().await;
        let email = "juma.otieno@example.co.ke";
        chat.send(json!({"type": "identify", "email": email, "name": "Juma", "hmac": sign("wrong-secret", email)}))
            .await;
        let err = chat.frame().await;
        assert_eq!(err["type"], "error", "{err}");
        assert_eq!(err["code"], "bad_hmac");
        let asks = chat.ask("where is my order 1010").await;
        assert!(asks.to_lowercase().contains("email"), "forged identify verified nothing: {asks}");
        assert!(!asks.contains("FCL2611458720"));

        let mut chat = app.chat().await;
        chat.send(json!({"type": "identify", "email": email, "name": "Juma", "hmac": sign(WIDGET_SECRET, email)}))
            .await;
        let ok = chat.frame().await;
        assert_eq!(ok["type"], "identified", "{ok}");
        let reply = chat.ask("where is my order 1010").await;
        assert!(reply.contains("FCL2611458720"), "{backend:?}: verified customer sees tracking: {reply}");
        // Verified for juma's email only: another customer's order still needs its email.
        let other = chat.ask("where is my order 1001").await;
        assert!(!other.contains("EE482913057TZ"), "{backend:?}: {other}");
    }
}

#[tokio::test]
async fn invoice_and_stock_answers() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let mut chat = app.chat().await;
        chat.ask("what's the status of invoice INV-2026-0017?").await;
        let inv = chat.ask("baraka.nyirenda@example.co.tz").await;
        assert!(inv.contains("TZS 340,000"), "{backend:?}: amount with currency: {inv}");
        assert!(inv.contains("14 November 2026"), "{backend:?}: due date: {inv}");
        assert!(inv.to_lowercase().contains("overdue"), "{backend:?}: status: {inv}");

        let in_stock = chat.ask("Do you have the solar lantern in stock?").await;
        assert!(in_stock.contains("17"), "{backend:?}: quantity: {in_stock}");
        assert!(in_stock.contains("Solar lantern"), "{backend:?}: {in_stock}");
        let out = chat.ask("is the kikoi available?").await;
        assert!(out.contains("10 December 2026"), "{backend:?}: restock date: {out}");
        let by_sku = chat.ask("stock of SL-PNL-12?").await;
        assert!(by_sku.contains("20 December 2026"), "{backend:?}: by sku: {by_sku}");
    }
}

#[tokio::test]
async fn swahili_dialogue_is_answered_in_swahili() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let mut chat = app.chat().await;
        let hello = chat.ask("Habari za asubuhi").await;
        assert!(!hello.to_lowercase().contains("hello"), "{hello}");
        let ask = chat.ask("Oda yangu S00417 iko wapi?").await;
        assert!(ask.to_lowercase().contains("barua pepe"), "{backend:?}: asks for the email in Swahili: {ask}");
        let answer = chat.ask("ingabire.uwase@example.org").await;
        assert!(answer.contains("5931206614"), "{backend:?}: {answer}");
        assert!(answer.to_lowercase().contains("imesafirishwa"), "{backend:?}: status in Swahili: {answer}");
        let stock = chat.ask("Mna kikoi?").await;
        assert!(stock.contains("Desemba"), "{backend:?}: Swahili date: {stock}");
        // Switching language switches the replies.
        let en = chat.ask("thanks a lot!").await;
        assert!(!en.to_lowercase().contains("asante"), "{backend:?}: {en}");
    }
}

#[tokio::test]
async fn two_misses_in_a_row_offer_a_human_and_yes_hands_off() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let mut chat = app.chat().await;
        let first = chat.ask("qwxz blorp").await;
        let second = chat.ask("zzkk plonk").await;
        assert_ne!(first, second, "{backend:?}: the second miss offers a human");
        assert!(second.to_lowercase().contains("human") || second.to_lowercase().contains("person"), "{second}");
        chat.ask("yes").await;
        let conv = app.hub.store().conversation(&chat.conversation_id).await.unwrap().unwrap();
        assert_eq!(conv.status.as_str(), "queued", "{backend:?}");
    }
}

#[tokio::test]
async fn dialogue_state_survives_a_server_restart() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let mut chat = app.chat().await;
        chat.ask("where is my order?").await;
        let token = chat.visitor_token.clone();
        drop(chat);
        let db = app.stop().await;
        let app = crate::helpers::spawn_on(db, crate::helpers::serve_args).await;
        let mut chat = Chat::connect(app.addr, Some(&token)).await;
        let reply = chat.ask("ORD-88213").await;
        assert!(reply.to_lowercase().contains("email"), "{backend:?}: continues the dialogue: {reply}");
        let answer = chat.ask("halima.said@example.co.tz").await;
        assert!(answer.contains("EE483390871TZ"), "{backend:?}: {answer}");
    }
}
