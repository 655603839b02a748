//! Bot actions against a real Tryton 8.2 (issue #14), over the widget socket with a signed
//! identity: a quotation cancelled through Tryton's own workflow (once, however often the customer
//! says yes), a confirmed or shipped sale refused cleanly (shipped: a return offered), a return of
//! one line opened as a `sale.complaint` moved to `waiting` that agents see (activity message and
//! the 360° panel), "where is my refund" reading the complaint, and an invoice copy mailed.
//!
//! Records (tests/tryton/populate.py): SO00009 is Baraka's quotation, SO00004 his confirmed
//! sale; SO00003 is Amina's shipped sale (lantern + kanga); INV00002 is Neema's invoice.

use super::{app_with_mail, tryton};
use crate::actions::{activities, metrics, signed_chat};
use crate::helpers::agent;
use kituo::backoffice::tryton::rpc::{Rpc, Target};
use serde_json::json;

const BARAKA: &str = "baraka.nyirenda@example.co.tz";
const AMINA: &str = "amina.mwakilema@example.co.tz";
const NEEMA: &str = "neema.mushi@example.co.tz";

/// The sale's state as Tryton itself has it (not through Kituo's cache).
async fn tryton_state(rpc: &Rpc, number: &str) -> String {
    let rows = rpc
        .call("model.sale.sale.search_read", json!([[["number", "=", number]], 0, 1, null, ["state"], {}]))
        .await
        .expect("Tryton answers");
    rows[0]["state"].as_str().expect("a sale has a state").to_string()
}

#[tokio::test]
async fn the_bot_cancels_a_tryton_quotation_once_and_refuses_what_tryton_would_not_cancel() {
    let Some(t) = tryton() else { return };
    let app = app_with_mail(t.url(), 5, 5000, None).await;
    let rpc = Rpc::new(Target::parse(&t.url()).unwrap());

    let mut baraka = signed_chat(&app, BARAKA).await;
    let ask = baraka.ask("please cancel order so00009").await;
    assert!(ask.contains("Cancel order SO00009: 3 items"), "restated from Tryton's lines: {ask}");
    assert_eq!(tryton_state(&rpc, "SO00009").await, "quotation", "nothing before the yes");
    let done = baraka.ask("yes").await;
    assert!(done.contains("SO00009 is cancelled"), "{done}");
    assert_eq!(tryton_state(&rpc, "SO00009").await, "cancelled", "cancelled in Tryton");
    let again = baraka.ask("yes").await;
    assert!(!again.contains("is cancelled"), "a second yes is no second action: {again}");
    let already = baraka.ask("cancel order SO00009").await;
    assert!(already.contains("already cancelled"), "{already}");

    // Confirmed: Tryton's workflow cancels only drafts and quotations.
    baraka.ask("cancel order SO00004").await;
    let refused = baraka.ask("yes").await;
    assert!(refused.contains("can't cancel order SO00004"), "{refused}");
    assert_eq!(tryton_state(&rpc, "SO00004").await, "processing");

    // Shipped: refused with a return offered.
    let mut amina = signed_chat(&app, AMINA).await;
    amina.ask("cancel order SO00003").await;
    let shipped = amina.ask("yes").await;
    assert!(shipped.contains("already shipped") && shipped.contains("return"), "{shipped}");

    let staff = agent(&app, "Wanjiru").await;
    assert_eq!(activities(&staff.conversation(&baraka.conversation_id).await).len(), 2, "cancelled + refused");
    let m = metrics(&app).await;
    assert!(m.contains("kituo_bot_actions_total{action=\"cancel_order\",result=\"done\"} 1"), "{m}");
    assert!(m.contains("kituo_bot_actions_total{action=\"cancel_order\",result=\"refused\"} 2"), "{m}");
    app.stop().await;
}

#[tokio::test]
async fn a_return_of_one_line_is_a_waiting_tryton_complaint_that_agents_see() {
    let Some(t) = tryton() else { return };
    let app = app_with_mail(t.url(), 5, 5000, None).await;
    let mut amina = signed_chat(&app, AMINA).await;
    let ask = amina.ask("I want to return the lantern from order SO00003, it stopped charging").await;
    assert!(ask.contains("Open a return for order SO00003: 1 item (Solar lantern with USB port)?"), "{ask}");
    let opened = amina.ask("yes").await;
    assert!(opened.contains("is open for order SO00003"), "{opened}");
    let requests = app.hub.backoffice().requests_of("SO00003").await.unwrap();
    assert_eq!(requests.len(), 1, "{requests:?}");
    let r = &requests[0];
    assert_eq!((r.state.as_str(), r.skus.clone()), ("waiting", vec!["SL-LAN-10".to_string()]), "{r:?}");
    assert!(r.reason.contains("stopped charging"), "{r:?}");
    let again = amina.ask("yes").await;
    assert!(!again.contains("is open for order"), "{again}");
    assert_eq!(app.hub.backoffice().requests_of("SO00003").await.unwrap().len(), 1, "no second complaint");

    let state = amina.ask("where is my refund for order SO00003?").await;
    assert!(state.contains(&format!("request {}", r.request_id)) && state.contains("is waiting"), "{state}");

    let staff = agent(&app, "Wanjiru").await;
    let conv = staff.conversation(&amina.conversation_id).await;
    let acts = activities(&conv);
    assert_eq!(acts.len(), 1, "{conv}");
    assert!(acts[0]["text"].as_str().unwrap().contains("SO00003"), "{}", acts[0]);
    let contact = conv["conversation"]["contact"]["id"].as_str().expect("contact id").to_string();
    let panel = staff.get(&format!("/api/contacts/{contact}")).await;
    let order = panel.ok()["orders"].as_array().unwrap().iter().find(|o| o["order_number"] == "SO00003").cloned();
    let order = order.expect("the order is in the 360° panel");
    assert_eq!(order["requests"][0]["request_id"], r.request_id.as_str(), "{order}");
    assert_eq!(order["requests"][0]["state"], "waiting", "{order}");
    app.stop().await;
}

#[tokio::test]
async fn an_invoice_copy_from_tryton_is_mailed_to_the_party_email() {
    use crate::proofs::nth_mail_to;
    let Some(t) = tryton() else { return };
    let smtp = crate::email::smtp::SmtpReceiver::start().await;
    let app = app_with_mail(t.url(), 5, 5000, Some(smtp.url())).await;
    let mut neema = signed_chat(&app, NEEMA).await;
    let sent = neema.ask("please send me a copy of invoice INV00002").await;
    assert!(sent.contains("copy of invoice INV00002 is on its way"), "{sent}");
    let mail = nth_mail_to(&smtp, NEEMA, 1).await;
    assert_eq!(mail.to, vec![NEEMA.to_string()], "only the address on the Tryton party");
    assert!(String::from_utf8_lossy(&mail.data).contains("INV00002"));
    let m = metrics(&app).await;
    assert!(m.contains("kituo_bot_actions_total{action=\"invoice_copy\",result=\"done\"} 1"), "{m}");
    app.stop().await;
}
