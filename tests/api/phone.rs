//! The demo shop and the chat widget on a phone-size window (390 px wide, an iPhone 12–15):
//! no horizontal overflow, the chat button on screen, the open widget inside the viewport.
//! Chromium; skipped with a note when it is missing, unless `KITUO_E2E_REQUIRED=1`.

use crate::browser::{browser, send_in_widget, wait_for_bot_text};
use crate::helpers::{backends, spawn_app};
use fantoccini::Locator;

/// Elements wider than the viewport or reaching past its right edge (for the failure message).
const OVERFLOW: &str = r#"
    const w = document.documentElement.clientWidth;
    const bad = [...document.querySelectorAll('body *')].filter(e => {
        const r = e.getBoundingClientRect();
        return r.width > 0 && (r.right > w + 1 || r.left < -1);
    }).slice(0, 8).map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().left) + '..' + Math.round(e.getBoundingClientRect().right));
    return {inner: window.innerWidth, client: w, scroll: document.documentElement.scrollWidth, bad};"#;

/// The bounding box of `selector` and the viewport size.
const RECT: &str = r#"
    const e = document.querySelector(arguments[0]);
    if (!e) return null;
    const r = e.getBoundingClientRect();
    return {left: r.left, right: r.right, top: r.top, bottom: r.bottom, w: window.innerWidth, h: window.innerHeight};"#;

fn inside(r: &serde_json::Value) -> bool {
    let f = |k: &str| r[k].as_f64().unwrap_or(f64::NAN);
    f("left") >= -1.0 && f("top") >= -1.0 && f("right") <= f("w") + 1.0 && f("bottom") <= f("h") + 1.0
}

#[tokio::test]
async fn the_demo_shop_and_the_widget_fit_a_390_px_phone() {
    let Some(b) = browser().await else { return };
    let app = spawn_app(backends()[0]).await;
    let c = &b.client;
    c.set_window_size(390, 844).await.unwrap();
    c.goto(&format!("http://{}/", app.addr)).await.unwrap();
    c.wait().for_element(Locator::Css("#kituo-launcher")).await.expect("the chat button");
    let m = c.execute(OVERFLOW, vec![]).await.unwrap();
    assert!(m["inner"].as_f64().unwrap() <= 400.0, "the window is phone-size: {m}");
    assert!(m["scroll"].as_f64() <= m["client"].as_f64(), "the page overflows sideways: {m}");
    let button = c.execute(RECT, vec![serde_json::json!("#kituo-launcher")]).await.unwrap();
    assert!(inside(&button), "the chat button is off screen: {button}");
    crate::browser::screenshot(c, "phone-demo.png").await;

    // The widget opens inside the screen and works.
    c.find(Locator::Css("#kituo-launcher")).await.unwrap().click().await.unwrap();
    send_in_widget(c, "hello").await;
    wait_for_bot_text(c, "").await;
    let input = c.execute(RECT, vec![serde_json::json!("#kituo-input")]).await.unwrap();
    assert!(inside(&input), "the widget's input is off screen: {input}");
    let m = c.execute(OVERFLOW, vec![]).await.unwrap();
    assert!(m["scroll"].as_f64() <= m["client"].as_f64(), "the open widget overflows sideways: {m}");
    crate::browser::screenshot(c, "phone-widget.png").await;
    b.client.clone().close().await.unwrap();
}
