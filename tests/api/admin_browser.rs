//! End-to-end in headless Chromium: an admin adds an intent in English and Swahili on the admin
//! page, tries it in the "try a message" panel and saves it; a customer already chatting in the
//! widget (a second browser) gets the new reply at once; a save that breaks another intent's
//! example is refused with a message naming it, and nothing changes. Skips (saying so) when
//! Chromium is missing, unless `KITUO_E2E_REQUIRED=1`.

use crate::browser::{browser, screenshot, send_in_widget, wait_for_bot_text};
use crate::helpers::{backends, spawn_app};
use fantoccini::{Client, Locator};
use serde_json::{Value, json};
use std::time::Duration;

const HOURS_EN: &str = "We are open Monday to Friday, 08:00 to 17:00.";
const HOURS_SW: &str = "Tuko wazi Jumatatu hadi Ijumaa, saa mbili asubuhi hadi saa kumi na moja jioni.";

/// Polls a JavaScript body until it returns a truthy value (15 s at most).
async fn wait_js(c: &Client, what: &str, script: &str) -> Value {
    for _ in 0..150 {
        let v = c.execute(script, vec![]).await.expect("script runs");
        if !(v.is_null() || v == Value::Bool(false)) {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let state = c
        .execute(
            "const e = document.querySelector('#ie-errors'); const s = document.querySelector('#ie-status');
             return 'status: ' + (s ? s.textContent : '-') + ' | errors: ' + (e ? e.textContent : '-') +
                    ' | try: ' + ((document.querySelector('#try-result') || {}).textContent || '-')",
            vec![],
        )
        .await
        .unwrap_or(Value::Null);
    panic!("timed out waiting for {what}; page: {state}");
}

/// Text of the element `css` ("" when it does not exist).
async fn text_of(c: &Client, css: &str) -> String {
    c.execute("const e = document.querySelector(arguments[0]); return e ? e.textContent : ''", vec![json!(css)])
        .await
        .expect("script runs")
        .as_str()
        .unwrap_or("")
        .to_string()
}

async fn type_into(c: &Client, css: &str, text: &str) {
    let e = c.find(Locator::Css(css)).await.unwrap_or_else(|_| panic!("{css} exists"));
    e.send_keys(text).await.unwrap_or_else(|err| panic!("typing into {css}: {err}"));
}

async fn replace_in(c: &Client, css: &str, text: &str) {
    let e = c.find(Locator::Css(css)).await.unwrap_or_else(|_| panic!("{css} exists"));
    e.clear().await.unwrap();
    e.send_keys(text).await.unwrap();
}

async fn click(c: &Client, css: &str) {
    c.find(Locator::Css(css)).await.unwrap_or_else(|_| panic!("{css} exists")).click().await.unwrap();
}

/// Logs in through the login page straight into the admin pages.
async fn admin_login(c: &Client, addr: std::net::SocketAddr, email: &str, password: &str) {
    c.goto(&format!("http://{addr}/login?next=/admin")).await.unwrap();
    type_into(c, "#login-email", email).await;
    type_into(c, "#login-password", password).await;
    click(c, "#login-submit").await;
    wait_js(c, "the admin page after login", "return location.pathname === '/admin'").await;
}

#[tokio::test]
async fn admin_adds_a_bilingual_intent_in_the_browser_and_cannot_break_another() {
    let Some(admin_browser) = browser().await else { return };
    let Some(customer_browser) = browser().await else { return };
    let app = spawn_app(backends()[0]).await;
    let password = "admin-browser-password";
    let hash = tokio::task::spawn_blocking(move || kituo::auth::hash_password(password)).await.unwrap();
    app.hub.store().create_agent("amani@kituo.test", "Amani", kituo::domain::Role::Admin, &hash).await.unwrap();

    // A customer is already chatting before any rule changes.
    let c = &customer_browser.client;
    c.goto(&format!("http://{}/", app.addr)).await.unwrap();
    click(c, "#kituo-launcher").await;
    c.wait().for_element(Locator::Css("#kituo-panel")).await.unwrap();
    send_in_widget(c, "What are your opening hours?").await;
    wait_for_bot_text(c, "didn't quite get that").await;

    // The admin opens the intents page.
    let a = &admin_browser.client;
    admin_login(a, app.addr, "amani@kituo.test", password).await;
    a.execute("location.hash = '#/intents'", vec![]).await.unwrap();
    wait_js(a, "the intent list", "return document.querySelectorAll('#intent-list .intent-row').length >= 6").await;
    let v0 = app.hub.bot().version;

    // A new intent with an English and a Swahili pattern, example and reply.
    click(a, "#intent-new").await;
    wait_js(a, "the editor", "return !document.querySelector('#intent-editor').hidden").await;
    type_into(a, "#ie-name", "opening_hours").await;
    replace_in(a, "#ie-priority", "20").await;
    a.find(Locator::Css("#ie-action")).await.unwrap().select_by_value("reply").await.unwrap();
    type_into(a, "#ie-patterns-en", r"\bopening hours\b").await;
    type_into(a, "#ie-patterns-sw", r"\bmnafungua\b").await;
    type_into(a, "#ie-examples-en", "What are your opening hours?").await;
    type_into(a, "#ie-examples-sw", "mnafungua saa ngapi?").await;
    type_into(a, "#ie-reply-en", HOURS_EN).await;
    type_into(a, "#ie-reply-sw", HOURS_SW).await;
    wait_js(
        a,
        "validation as you type to pass",
        "return (document.querySelector('#ie-status').textContent || '').includes('All checks pass')",
    )
    .await;

    // Try it before saving: the draft's intent and its exact reply, in both languages.
    type_into(a, "#try-text", "What are your opening hours?").await;
    click(a, "#try-run").await;
    wait_js(
        a,
        "the try result",
        "const i = document.querySelector('#try-intent'); const r = document.querySelector('#try-reply');
         return i && r && i.textContent.includes('opening_hours') && r.textContent.length > 0",
    )
    .await;
    assert_eq!(text_of(a, "#try-reply").await, HOURS_EN, "the try panel shows the exact reply");
    assert!(text_of(a, "#try-locale").await.starts_with("en"), "{}", text_of(a, "#try-locale").await);
    replace_in(a, "#try-text", "Mnafungua saa ngapi?").await;
    click(a, "#try-run").await;
    wait_js(
        a,
        "the Swahili try result",
        &format!(
            "const r = document.querySelector('#try-reply'); return r && r.textContent === {}",
            serde_json::to_string(HOURS_SW).unwrap()
        ),
    )
    .await;
    assert_eq!(app.hub.bot().version, v0, "trying saves nothing");

    // Save: live at once.
    click(a, "#ie-save").await;
    wait_js(a, "the save", "return (document.querySelector('#ie-status').textContent || '').startsWith('Saved')").await;
    let saved = app.hub.bot();
    assert!(saved.version > v0, "a new version");
    assert!(saved.bundle.intent("opening_hours").is_some());
    let status = text_of(a, "#ie-status").await;
    assert!(status.contains(&saved.version.to_string()), "the page names the new version: {status}");

    // The customer, still on the same page and socket, gets the new reply at once.
    send_in_widget(c, "What are your opening hours?").await;
    wait_for_bot_text(c, "We are open Monday to Friday").await;
    send_in_widget(c, "Mnafungua saa ngapi?").await;
    wait_for_bot_text(c, "Tuko wazi Jumatatu").await;

    // Editing greeting so that it takes order_status's examples is refused, naming the example.
    a.execute("document.querySelector('#intent-list .intent-row[data-name=\"greeting\"]').click()", vec![])
        .await
        .unwrap();
    wait_js(a, "the greeting editor", "return document.querySelector('#ie-title').textContent.includes('greeting')")
        .await;
    replace_in(a, "#ie-priority", "100").await;
    let patterns = a.find(Locator::Css("#ie-patterns-en")).await.unwrap();
    a.execute("const t = document.querySelector('#ie-patterns-en'); t.focus(); t.setSelectionRange(t.value.length, t.value.length)", vec![])
        .await
        .unwrap();
    patterns.send_keys("\norder").await.unwrap();
    let typed = a.execute("return document.querySelector('#ie-patterns-en').value", vec![]).await.unwrap();
    assert!(typed.as_str().unwrap().ends_with("\norder"), "the new pattern is on its own line: {typed}");
    click(a, "#ie-save").await;
    wait_js(
        a,
        "the refusal",
        "const box = document.querySelector('#ie-errors');
         return box && !box.hidden && (box.querySelector('.errors-head') || {}).textContent &&
                box.querySelector('.errors-head').textContent.startsWith('Not saved')",
    )
    .await;
    let broken = wait_js(
        a,
        "the broken example",
        "return [...document.querySelectorAll('#ie-errors .broken-example[data-intent=\"order_status\"]')]
                  .map(e => e.textContent).find(t => t.includes('where is my order?')) || null",
    )
    .await;
    let broken = broken.as_str().unwrap();
    assert!(broken.contains("greeting"), "the refusal says which intent took it: {broken}");
    screenshot(a, "admin.png").await;

    // Nothing changed.
    let now = app.hub.bot();
    assert_eq!(now.version, saved.version, "a refused save stores no version");
    assert_eq!(now.bundle.intent("greeting").unwrap().priority, 10);
    assert!(!now.bundle.intent("greeting").unwrap().patterns.values().flatten().any(|p| p == "order"));
    send_in_widget(c, "where is my order 1001?").await;
    wait_for_bot_text(c, "email address used on order 1001").await;

    admin_browser.client.clone().close().await.unwrap();
    customer_browser.client.clone().close().await.unwrap();
}
