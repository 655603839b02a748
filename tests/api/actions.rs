//! Bot actions over the widget socket (issue #14): cancelling an order after an explicit yes,
//! only on a strong proof (here a widget identity signed with the HMAC secret), refused states
//! explained, a repeated yes harmless, activity messages and `kituo_bot_actions_total`.

use crate::helpers::{Chat, TestApp, WIDGET_SECRET, agent, backends, http, sign, spawn_app};
use serde_json::{Value, json};

/// A widget chat whose email is vouched for by the embedding site.
pub(crate) async fn signed_chat(app: &TestApp, email: &str) -> Chat {
    let mut chat = app.chat().await;
    chat.send(json!({"type": "identify", "email": email, "hmac": sign(WIDGET_SECRET, email)})).await;
    let ok = chat.frame().await;
    assert_eq!(ok["type"], "identified", "{ok}");
    chat
}

pub(crate) async fn status(app: &TestApp, number: &str) -> String {
    app.hub.backoffice().order(number).await.unwrap().unwrap().status
}

pub(crate) fn activities(conv: &Value) -> Vec<Value> {
    conv["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["author"] == "system" && m["kind"] == "activity")
        .cloned()
        .collect()
}

pub(crate) async fn next_frame(chat: &mut Chat, kind: &str) -> Value {
    loop {
        let f = chat.frame().await;
        if f["type"] == kind {
            return f;
        }
    }
}

pub(crate) async fn metrics(app: &TestApp) -> String {
    http(app.addr, "GET", "/metrics", &[], None).await.text
}

#[tokio::test]
async fn a_signed_customer_cancels_a_pending_order_once() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let mut chat = signed_chat(&app, "neema.mushi@example.co.tz").await;
        let ask = chat.ask("please cancel order 1009").await;
        assert!(ask.contains("Cancel order 1009: 2 items, TZS 52,000?"), "{backend:?}: restated: {ask}");
        assert_eq!(status(&app, "1009").await, "pending", "nothing happens before the yes");
        let done = chat.ask("yes").await;
        assert!(done.contains("1009 is cancelled"), "{backend:?}: {done}");
        assert_eq!(status(&app, "1009").await, "cancelled");
        // The same yes again cancels nothing more; asking again hears it is already cancelled.
        let again = chat.ask("yes").await;
        assert!(!again.contains("is cancelled"), "{backend:?}: a second yes is no second action: {again}");
        let already = chat.ask("cancel order 1009").await;
        assert!(already.contains("already cancelled"), "{backend:?}: {already}");

        let staff = agent(&app, "Wanjiru").await;
        let conv = staff.conversation(&chat.conversation_id).await;
        let acts = activities(&conv);
        assert_eq!(acts.len(), 1, "{backend:?}: one activity message: {conv}");
        assert!(acts[0]["text"].as_str().unwrap().contains("cancelled order 1009"), "{}", acts[0]);
        let m = metrics(&app).await;
        assert!(m.contains("kituo_bot_actions_total{action=\"cancel_order\",result=\"done\"} 1"), "{m}");
    }
}

#[tokio::test]
async fn swahili_cancel_of_a_shipped_order_is_refused_with_a_return_offer() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let mut chat = signed_chat(&app, "amina.mwakilema@example.co.tz").await;
        let ask = chat.ask("nataka kughairi oda 1001").await;
        assert!(ask.contains("Nighairi oda 1001"), "{backend:?}: restated in Swahili: {ask}");
        let refused = chat.ask("ndiyo").await;
        assert!(refused.contains("imesafirishwa") && refused.contains("urejeshaji"), "{backend:?}: {refused}");
        assert_eq!(status(&app, "1001").await, "shipped");
        let m = metrics(&app).await;
        assert!(m.contains("kituo_bot_actions_total{action=\"cancel_order\",result=\"refused\"} 1"), "{m}");
        let staff = agent(&app, "Wanjiru").await;
        let conv = staff.conversation(&chat.conversation_id).await;
        assert_eq!(activities(&conv).len(), 1, "{backend:?}: the refusal is shown to agents: {conv}");
    }
}

#[tokio::test]
async fn number_and_email_proof_never_cancels() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let mut chat = app.chat().await;
        chat.ask("where is my order 1009").await;
        let shown = chat.ask("neema.mushi@example.co.tz").await;
        assert!(shown.contains("1009"), "{backend:?}: read access works: {shown}");
        let reply = chat.ask("cancel order 1009").await;
        assert!(!reply.contains("Cancel order 1009:"), "{backend:?}: no restated action on a weak proof: {reply}");
        // A person takes it (no email channel for a one-time code here): the customer hears the
        // general handoff, not another intent's reply, and the agent sees what they asked for.
        assert!(reply.contains("passing this chat to a person"), "{backend:?}: {reply}");
        assert!(!reply.contains("account"), "{backend:?}: {reply}");
        let staff = agent(&app, "Wanjiru").await;
        let handoff = staff.conversation(&chat.conversation_id).await["handoff"].clone();
        assert_eq!(handoff["intent"], "cancel_order", "{backend:?}: {handoff}");
        let summary = handoff["summary"].as_str().unwrap_or("");
        assert!(summary.starts_with("Wants an order cancelled (order_number 1009"), "{backend:?}: {summary}");
        // Handed over: the bot keeps quiet now, and a yes is only stored.
        let id = chat.next_id();
        chat.send(json!({"type": "message", "text": "yes", "client_msg_id": id})).await;
        let ack = next_frame(&mut chat, "ack").await;
        assert_eq!(ack["client_msg_id"], id.as_str());
        assert_eq!(status(&app, "1009").await, "pending", "{backend:?}: a weak proof never acts");
        // Someone else's order, even with a signed identity, is not theirs to cancel.
        let mut other = signed_chat(&app, "juma.otieno@example.co.ke").await;
        let reply = other.ask("cancel order 1009").await;
        assert!(!reply.contains("Cancel order 1009:"), "{backend:?}: {reply}");
        assert_eq!(status(&app, "1009").await, "pending");
        assert!(!metrics(&app).await.contains("kituo_bot_actions_total"));
    }
}

#[tokio::test]
async fn a_signed_customer_opens_one_return_and_reads_its_state() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let mut chat = signed_chat(&app, "amina.mwakilema@example.co.tz").await;
        let ask = chat.ask("i'd like to return order 1001, it's damaged").await;
        assert!(ask.contains("Open a return for order 1001: 2 items"), "{backend:?}: restated: {ask}");
        assert!(app.hub.backoffice().requests_of("1001").await.unwrap().is_empty(), "nothing before the yes");
        let done = chat.ask("yes").await;
        assert!(done.contains("is open for order 1001"), "{backend:?}: {done}");
        let again = chat.ask("yes").await;
        assert!(!again.contains("is open for order"), "{backend:?}: no second request: {again}");
        let requests = app.hub.backoffice().requests_of("1001").await.unwrap();
        assert_eq!(requests.len(), 1, "{backend:?}: {requests:?}");
        assert_eq!(requests[0].state, "open");
        assert!(requests[0].reason.contains("damaged"), "{:?}", requests[0]);
        let state = chat.ask("where is my refund for order 1001?").await;
        assert!(state.contains(&format!("request {}", requests[0].request_id)) && state.contains("is open"), "{state}");

        // Not shipped yet: nothing to return, the bot says so and opens nothing.
        let mut neema = signed_chat(&app, "neema.mushi@example.co.tz").await;
        let not_yet = neema.ask("I want to return order 1009").await;
        assert!(not_yet.contains("has not shipped yet"), "{backend:?}: {not_yet}");
        assert!(app.hub.backoffice().requests_of("1009").await.unwrap().is_empty());

        let staff = agent(&app, "Wanjiru").await;
        let conv = staff.conversation(&chat.conversation_id).await;
        assert_eq!(activities(&conv).len(), 1, "{backend:?}: {conv}");
        let m = metrics(&app).await;
        assert!(m.contains("kituo_bot_actions_total{action=\"return_refund\",result=\"done\"} 1"), "{m}");
    }
}

#[tokio::test]
async fn number_and_email_proof_acts_only_after_the_one_time_code() {
    use crate::proofs::{code_in, nth_mail_to, start_with_smtp};
    for backend in backends() {
        let smtp = crate::email::smtp::SmtpReceiver::start().await;
        let app = start_with_smtp(crate::helpers::TestDb::new(backend).await, &smtp).await;
        let mut chat = app.chat().await;
        chat.ask("where is my order 1009").await;
        chat.ask("neema.mushi@example.co.tz").await;
        let offer = chat.ask("cancel order 1009").await;
        assert!(offer.contains("\"code\"") && !offer.contains("Cancel order 1009:"), "{backend:?}: {offer}");
        assert_eq!(status(&app, "1009").await, "pending");
        chat.ask("code").await;
        let code = code_in(&nth_mail_to(&smtp, "neema.mushi@example.co.tz", 1).await);
        let ask = chat.ask(&code).await;
        assert!(ask.contains("Cancel order 1009: 2 items"), "{backend:?}: the code leads to the question: {ask}");
        assert_eq!(status(&app, "1009").await, "pending", "{backend:?}: still nothing before the yes");
        let done = chat.ask("ndiyo").await;
        assert!(done.contains("imeghairiwa") || done.contains("is cancelled"), "{backend:?}: {done}");
        assert_eq!(status(&app, "1009").await, "cancelled");
    }
}

#[tokio::test]
async fn an_invoice_copy_goes_to_the_address_on_the_invoice() {
    use crate::proofs::{nth_mail_to, start_with_smtp};
    const AMINA: &str = "amina.mwakilema@example.co.tz";
    for backend in backends() {
        let smtp = crate::email::smtp::SmtpReceiver::start().await;
        let app = start_with_smtp(crate::helpers::TestDb::new(backend).await, &smtp).await;
        let mut chat = signed_chat(&app, AMINA).await;
        let sent = chat.ask("please send me a copy of invoice INV-2026-0019").await;
        assert!(sent.contains("copy of invoice INV-2026-0019 is on its way"), "{backend:?}: {sent}");
        let mail = nth_mail_to(&smtp, AMINA, 1).await;
        assert_eq!(mail.to, vec![AMINA.to_string()], "{backend:?}: only the address on the invoice");
        assert!(String::from_utf8_lossy(&mail.data).contains("INV-2026-0019"), "{backend:?}");
        let staff = agent(&app, "Wanjiru").await;
        let conv = staff.conversation(&chat.conversation_id).await;
        assert_eq!(activities(&conv).len(), 1, "{backend:?}: {conv}");
        let m = metrics(&app).await;
        assert!(m.contains("kituo_bot_actions_total{action=\"invoice_copy\",result=\"done\"} 1"), "{m}");
    }
    // Without the email channel the bot cannot mail: a person takes it.
    for backend in backends() {
        let app = spawn_app(backend).await;
        let mut chat = signed_chat(&app, AMINA).await;
        let reply = chat.ask("please send me a copy of invoice INV-2026-0019").await;
        assert!(!reply.contains("is on its way"), "{backend:?}: {reply}");
        assert!(!metrics(&app).await.contains("kituo_bot_actions_total"));
    }
}
