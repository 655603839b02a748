//! Bot actions as a dialogue (issue #14, second round) on the built-in back office: a request
//! without a number asks for it and acts on the number in the next message (or offers the
//! customer's only fitting order), a return names some lines, the same question answered from a
//! reconnected socket, from two sockets at once, or by a replayed channel message acts once,
//! and an intent's `label` lands on the conversation.

use crate::actions::{activities, metrics, signed_chat, status};
use crate::helpers::{Chat, TestApp, agent, backends, spawn_app};
use kituo::domain::{Channel, Verification};
use kituo::hub::{Inbound, Sender, Thread};
use serde_json::json;

const NEEMA: &str = "neema.mushi@example.co.tz";

/// Sends `text` and returns the bot's first reply frame after it (with its quick replies).
async fn ask_frame(chat: &mut Chat, text: &str) -> serde_json::Value {
    let id = chat.next_id();
    chat.send(json!({"type": "message", "text": text, "client_msg_id": id})).await;
    let ack = crate::actions::next_frame(chat, "ack").await;
    loop {
        let f = chat.frame().await;
        if f["type"] == "message" && f["author"] == "bot" && f["seq"].as_i64() > ack["seq"].as_i64() {
            return f;
        }
    }
}
const AMINA: &str = "amina.mwakilema@example.co.tz";

#[tokio::test]
async fn a_request_without_a_number_asks_for_it_and_acts_on_the_next_message() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        // Neema has two orders that can still be cancelled (1009, ORD-88291): the bot asks which.
        let mut sw = signed_chat(&app, NEEMA).await;
        let ask = ask_frame(&mut sw, "nataka kughairi oda yangu").await;
        assert!(ask["text"].as_str().unwrap().contains("Ni oda ipi?"), "{backend:?}: asked in Swahili: {ask}");
        assert!(ask.get("quick_replies").is_none(), "{backend:?}: no buttons on a plain question: {ask}");
        let restated = ask_frame(&mut sw, "oda 1009").await;
        assert!(restated["text"].as_str().unwrap().contains("Nighairi oda 1009"), "{backend:?}: {restated}");
        assert_eq!(restated["quick_replies"], json!(["Ndiyo", "Hapana"]), "{backend:?}: buttons in Swahili");
        let done = sw.ask("ndiyo").await;
        assert!(done.contains("1009"), "{backend:?}: {done}");
        assert_eq!(status(&app, "1009").await, "cancelled");

        // Now only ORD-88291 can be cancelled: it is offered without asking.
        let mut en = signed_chat(&app, NEEMA).await;
        let offered = en.ask("I want to cancel my order").await;
        assert!(offered.contains("Cancel order ORD-88291:"), "{backend:?}: the only fitting order: {offered}");
        let kept = en.ask("no").await;
        assert!(!kept.contains("is cancelled"), "{backend:?}: {kept}");
        assert_eq!(status(&app, "ORD-88291").await, "processing");

        // Amina has two shipped or delivered orders: asked, then one line of 1001 is returned.
        let mut amina = signed_chat(&app, AMINA).await;
        let which = amina.ask("I'd like to return something").await;
        assert!(which.contains("Which order is it?"), "{backend:?}: {which}");
        let restated = amina.ask("the lantern from order 1001, it stopped charging").await;
        assert!(
            restated.contains("Open a return for order 1001: 1 item (Solar lantern with USB port)?"),
            "{backend:?}: only the named line: {restated}"
        );
        amina.ask("yes").await;
        let requests = app.hub.backoffice().requests_of("1001").await.unwrap();
        assert_eq!(requests.len(), 1, "{backend:?}: {requests:?}");
        assert_eq!(requests[0].skus, vec!["SL-LAN-10".to_string()], "{backend:?}");
        assert!(requests[0].reason.contains("return something"), "{backend:?}: the first words are the reason");
    }
}

#[tokio::test]
async fn a_reconnect_between_the_question_and_the_yes_acts_once() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let mut first = signed_chat(&app, NEEMA).await;
        let ask = ask_frame(&mut first, "please cancel order 1009").await;
        assert!(ask["text"].as_str().unwrap().contains("Cancel order 1009:"), "{backend:?}: {ask}");
        assert_eq!(ask["quick_replies"], json!(["Yes", "No"]), "{backend:?}");
        let token = first.visitor_token.clone();
        let _ = first.ws.close(None).await;

        let mut again = Chat::connect(app.addr, Some(&token)).await;
        assert_eq!(again.conversation_id, first.conversation_id, "{backend:?}: the same conversation resumes");
        again.send(json!({"type": "resume", "after_seq": 0})).await;
        let done = again.ask("yes").await;
        assert!(done.contains("1009 is cancelled"), "{backend:?}: the question survived the reconnect: {done}");
        let mut third = Chat::connect(app.addr, Some(&token)).await;
        // The history a reconnecting widget reads keeps the buttons of the question.
        third.send(json!({"type": "resume", "after_seq": 0})).await;
        let question = loop {
            let f = third.frame().await;
            if f["text"].as_str().is_some_and(|t| t.contains("Cancel order 1009:")) {
                break f;
            }
        };
        assert_eq!(question["quick_replies"], json!(["Yes", "No"]), "{backend:?}: {question}");
        let repeat = third.ask("yes").await;
        assert!(!repeat.contains("is cancelled"), "{backend:?}: {repeat}");

        let staff = agent(&app, "Wanjiru").await;
        assert_eq!(activities(&staff.conversation(&first.conversation_id).await).len(), 1, "{backend:?}");
        let m = metrics(&app).await;
        assert!(m.contains("kituo_bot_actions_total{action=\"cancel_order\",result=\"done\"} 1"), "{m}");
        // Containment in the reports: one conversation, finished by the bot, one order cancelled.
        let report = staff.get("/api/reports?days=1").await;
        let r = report.ok();
        assert_eq!(r["bot_actions"]["cancel_order"], json!({"done": 1, "refused": 0, "failed": 0}), "{r}");
        assert_eq!(r["bot_actions"]["return_refund"]["done"], 0, "{r}");
        assert_eq!(r["totals"], json!({"conversations": 1, "bot_resolved": 1, "bot_actions_done": 1}), "{r}");
    }
}

#[tokio::test]
async fn two_sockets_saying_yes_at_once_open_one_return() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let mut one = signed_chat(&app, AMINA).await;
        let ask = one.ask("i'd like to return order 1001, it's damaged").await;
        assert!(ask.contains("Open a return for order 1001"), "{backend:?}: {ask}");
        let mut two = Chat::connect(app.addr, Some(&one.visitor_token)).await;
        let (a, b) = (one.next_id(), two.next_id());
        one.send(json!({"type": "message", "text": "yes", "client_msg_id": a})).await;
        two.send(json!({"type": "message", "text": "yes", "client_msg_id": b})).await;
        for chat in [&mut one, &mut two] {
            crate::actions::next_frame(chat, "ack").await;
        }
        let requests = app.hub.backoffice().requests_of("1001").await.unwrap();
        assert_eq!(requests.len(), 1, "{backend:?}: one yes acted: {requests:?}");
        let staff = agent(&app, "Wanjiru").await;
        assert_eq!(activities(&staff.conversation(&one.conversation_id).await).len(), 1, "{backend:?}");
        let m = metrics(&app).await;
        assert!(m.contains("kituo_bot_actions_total{action=\"return_refund\",result=\"done\"} 1"), "{m}");
    }
}

/// A message as a channel adapter hands it to the hub, with the channel's own message id.
fn from_channel<'a>(text: &'a str, external_id: &'a str) -> Inbound<'a> {
    Inbound { text, client_msg_id: None, external_id: Some(external_id), channel_meta: None }
}

/// Asks to cancel `number` over `channel`, then delivers the yes twice at once and once more
/// later (a replayed Discord message, a mail read again): one stored message, one action.
async fn replayed_yes_acts_once(app: &TestApp, channel: Channel, sender: Sender, number: &str) -> String {
    let hub = &app.hub;
    let (contact_id, conv) = hub.open_conversation(channel, &sender, Thread::New, "{}").await.unwrap();
    if sender.kind != "email" {
        // A Discord user whose email the shop's site vouched for (a strong proof).
        hub.identify(&contact_id, NEEMA, None).await.unwrap();
    }
    let prefix = format!("{}:{number}", sender.kind);
    hub.receive(&conv, from_channel(&format!("please cancel order {number}"), &format!("{prefix}-q"))).await.unwrap();
    let yes = format!("{prefix}-yes");
    let (x, y) =
        tokio::join!(hub.receive(&conv, from_channel("yes", &yes)), hub.receive(&conv, from_channel("yes", &yes)));
    let z = hub.receive(&conv, from_channel("yes", &yes)).await.unwrap();
    assert_eq!(x.unwrap(), z);
    assert_eq!(y.unwrap(), z);
    conv
}

#[tokio::test]
async fn a_re_read_mail_or_replayed_discord_message_never_acts_twice() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let staff = agent(&app, "Wanjiru").await;
        let mail = Sender { kind: "email", value: NEEMA.into(), verification: Verification::EmailChannel, name: None };
        let discord = Sender { kind: "discord", value: "4242".into(), verification: Verification::None, name: None };
        for (channel, sender, number) in [(Channel::Email, mail, "1009"), (Channel::Discord, discord, "ORD-88291")] {
            let conv = replayed_yes_acts_once(&app, channel, sender, number).await;
            assert_eq!(status(&app, number).await, "cancelled", "{backend:?} {channel:?}");
            let view = staff.conversation(&conv).await;
            assert_eq!(activities(&view).len(), 1, "{backend:?} {channel:?}: {view}");
            let yeses = view["messages"].as_array().unwrap().iter().filter(|m| m["text"] == "yes").count();
            assert_eq!(yeses, 1, "{backend:?} {channel:?}: the replayed yes is stored once");
        }
        let m = metrics(&app).await;
        assert!(m.contains("kituo_bot_actions_total{action=\"cancel_order\",result=\"done\"} 2"), "{m}");
    }
}

#[tokio::test]
async fn an_intent_label_lands_on_the_conversation() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let mut chat = app.chat().await;
        chat.ask("I want to make a complaint, your courier was rude").await;
        let staff = agent(&app, "Wanjiru").await;
        let conv = staff.conversation(&chat.conversation_id).await;
        assert_eq!(conv["conversation"]["labels"], json!(["complaint"]), "{backend:?}: {conv}");
        let labels = staff.get("/api/labels").await;
        assert!(labels.ok()["labels"].as_array().unwrap().iter().any(|l| l["name"] == "complaint"), "created");
        let mut other = app.chat().await;
        other.ask("hello").await;
        let plain = staff.conversation(&other.conversation_id).await;
        assert_eq!(plain["conversation"]["labels"], json!([]), "{backend:?}: {plain}");
    }
}
