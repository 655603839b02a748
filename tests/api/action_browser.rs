//! The widget's quick replies in headless Chromium (issue #14): the bot's restated action carries
//! Yes / No, the widget shows them as buttons, and a click sends "Yes" like a typed message —
//! the order is cancelled and the buttons are gone. Skips when Chromium is missing (unless
//! `KITUO_E2E_REQUIRED=1`).

use crate::browser::{browser, open_widget, screenshot, send_in_widget, wait_for_bot_text, wait_js};
use crate::helpers::{WIDGET_SECRET, backends, sign, spawn_app};
use fantoccini::Locator;

#[tokio::test]
async fn a_click_on_the_yes_button_confirms_the_restated_action() {
    let Some(b) = browser().await else { return };
    let app = spawn_app(backends()[0]).await;
    let c = &b.client;
    open_widget(c, app.addr).await;
    // The embedding site vouches for the customer (a strong proof, so the bot may act).
    let email = "neema.mushi@example.co.tz";
    c.execute(
        "window.Kituo.identify({email: arguments[0], hmac: arguments[1]})",
        vec![serde_json::json!(email), serde_json::json!(sign(WIDGET_SECRET, email))],
    )
    .await
    .unwrap();

    send_in_widget(c, "please cancel order 1009").await;
    wait_for_bot_text(c, "Cancel order 1009").await;
    let labels = wait_js(
        c,
        "the quick replies",
        "const b = [...document.querySelectorAll('.kituo-quick-reply')].map(x => x.textContent); return b.length ? b : null",
    )
    .await;
    assert_eq!(labels, serde_json::json!(["Yes", "No"]));
    screenshot(c, "widget-quick-replies.png").await;
    assert_eq!(app.hub.backoffice().order("1009").await.unwrap().unwrap().status, "pending");

    let yes = c.find(Locator::XPath("//button[contains(@class,'kituo-quick-reply') and text()='Yes']")).await.unwrap();
    yes.click().await.unwrap();
    wait_for_bot_text(c, "1009 is cancelled").await;
    let sent = c
        .execute(
            "return [...document.querySelectorAll('.kituo-msg[data-author=\"customer\"] .kituo-text')].map(e => e.textContent)",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(sent.as_array().unwrap().last().unwrap(), "Yes", "the button sent its own text: {sent}");
    let left = c.execute("return document.querySelectorAll('.kituo-quick').length", vec![]).await.unwrap();
    assert_eq!(left.as_u64(), Some(0), "the buttons are gone once answered");
    assert_eq!(app.hub.backoffice().order("1009").await.unwrap().unwrap().status, "cancelled");
    b.client.clone().close().await.unwrap();
}
