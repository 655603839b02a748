//! The demo shop, the chat widget and the agent console on a phone-size window (390 px wide, an
//! iPhone 12–15): no horizontal overflow, the chat button on screen, the open widget inside the
//! viewport, the console one column at a time.
//! Chromium; skipped with a note when it is missing, unless `KITUO_E2E_REQUIRED=1`.

use crate::browser::{
    browser, claim_first_queued, console_login, select_tab, send_in_widget, set_away, wait_for_bot_text, wait_js,
};
use crate::helpers::{backends, queued_customer, spawn_app};
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

/// Whether `selector` is shown (laid out, not hidden by the phone layout).
async fn shown(c: &fantoccini::Client, selector: &str) -> bool {
    let script = "const e = document.querySelector(arguments[0]); return !!e && e.offsetParent !== null \
                  && getComputedStyle(e).visibility !== 'hidden'";
    c.execute(script, vec![serde_json::json!(selector)]).await.unwrap() == serde_json::Value::Bool(true)
}

#[tokio::test]
async fn the_console_fits_a_390_px_phone_one_column_at_a_time() {
    let Some(b) = browser().await else { return };
    let app = spawn_app(backends()[0]).await;
    let password = "console-phone-password";
    let hash = kituo::auth::hash_password(password);
    app.hub.store().create_agent("baraka@kituo.test", "Baraka", kituo::domain::Role::Agent, &hash).await.unwrap();
    let c = &b.client;
    c.set_window_size(390, 844).await.unwrap();
    console_login(c, app.addr, "baraka@kituo.test", password).await;
    // Away: the customer below waits in the queue instead of being assigned at once.
    set_away(c, &app, "baraka@kituo.test").await;
    let _customer = queued_customer(&app).await;
    select_tab(c, "queue").await;

    // The list alone, and every top-bar control on screen.
    let m = c.execute(OVERFLOW, vec![]).await.unwrap();
    assert!(m["scroll"].as_f64() <= m["client"].as_f64(), "the console overflows sideways: {m}");
    for control in ["#logout", "#presence", "#nav-reports"] {
        let r = c.execute(RECT, vec![serde_json::json!(control)]).await.unwrap();
        assert!(inside(&r), "{control} is off screen: {r}");
    }
    assert!(shown(c, "#conv-list").await && !shown(c, "#conv-view").await, "the list alone");
    assert!(!shown(c, "#contact-panel").await, "the customer panel is closed");
    crate::browser::screenshot(c, "phone-console-list.png").await;

    // A conversation replaces the list; its back button brings the list again.
    claim_first_queued(c).await;
    assert!(shown(c, "#conv-view").await && !shown(c, "#conv-list").await, "the conversation alone");
    let m = c.execute(OVERFLOW, vec![]).await.unwrap();
    assert!(m["scroll"].as_f64() <= m["client"].as_f64(), "the open conversation overflows sideways: {m}");
    for control in ["#reply-input", "#btn-resolve", "#btn-back"] {
        let r = c.execute(RECT, vec![serde_json::json!(control)]).await.unwrap();
        assert!(inside(&r), "{control} is off screen: {r}");
    }
    crate::browser::screenshot(c, "phone-console-conversation.png").await;
    c.find(Locator::Css("#btn-back")).await.unwrap().click().await.unwrap();
    wait_js(c, "the list again", "return document.querySelector('#conv-list').offsetParent !== null").await;
    assert!(!shown(c, "#conv-view").await, "the conversation is put away");
    b.client.clone().close().await.unwrap();
}
