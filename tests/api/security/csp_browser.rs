//! In headless Chromium: the console and admin pages work under their Content-Security-Policy
//! with no violation reported (the browser reports each one both as a `securitypolicyviolation`
//! event and in its console log; either fails the test), and a page on another origin cannot
//! frame the console even for a logged-in agent, while it can frame the shop with its widget.
//! Skips (saying so) when Chromium is missing, unless `KITUO_E2E_REQUIRED=1`.

use crate::browser::{browser, console_login, wait_js};
use crate::helpers::{STAFF_PASSWORD, add_staff, backends, eventually, queued_customer, spawn_app};
use fantoccini::wd::WebDriverCompatibleCommand;
use fantoccini::{Client, Locator};
use serde_json::{Value, json};
use std::time::Duration;

/// ChromeDriver's `POST /session/{id}/se/log` for the `browser` log (entries since the last read).
#[derive(Debug)]
struct BrowserLog;

impl WebDriverCompatibleCommand for BrowserLog {
    fn endpoint(&self, base: &url::Url, session: Option<&str>) -> Result<url::Url, url::ParseError> {
        base.join(&format!("session/{}/se/log", session.unwrap_or_default()))
    }

    fn method_and_body(&self, _url: &url::Url) -> (axum::http::Method, Option<String>) {
        (axum::http::Method::POST, Some(json!({"type": "browser"}).to_string()))
    }
}

/// Console log lines that report a Content-Security-Policy refusal.
async fn csp_log_lines(c: &Client) -> Vec<String> {
    let log = c.issue_cmd(BrowserLog).await.expect("ChromeDriver returns the browser log");
    log.as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["message"].as_str())
        .filter(|m| m.contains("Content Security Policy") || m.contains("Content-Security-Policy"))
        .map(str::to_string)
        .collect()
}

/// Starts collecting `securitypolicyviolation` events on the current document.
async fn watch_violations(c: &Client) {
    c.execute(
        "window.__csp = window.__csp || [];
         document.addEventListener('securitypolicyviolation',
           e => window.__csp.push(e.violatedDirective + ' blocked ' + e.blockedURI));",
        vec![],
    )
    .await
    .expect("script runs");
}

async fn violations_in_page(c: &Client) -> Vec<String> {
    let v = c.execute("return window.__csp || []", vec![]).await.expect("script runs");
    serde_json::from_value(v).unwrap_or_default()
}

/// Fails on any violation seen by the page or logged by the browser since the last check.
async fn assert_no_violation(c: &Client, page: &str) {
    let events = violations_in_page(c).await;
    let logged = csp_log_lines(c).await;
    assert!(events.is_empty() && logged.is_empty(), "CSP violations on {page}: events {events:?}, log {logged:?}");
}

async fn click(c: &Client, css: &str) {
    let e = c.find(Locator::Css(css)).await.unwrap_or_else(|_| panic!("{css} exists"));
    e.click().await.unwrap_or_else(|err| panic!("clicking {css}: {err}"));
}

#[tokio::test]
async fn console_and_admin_work_under_their_csp_and_cannot_be_framed() {
    let Some(b) = browser().await else { return };
    let app = spawn_app(backends()[0]).await;
    let c = &b.client;
    let (_, email) = add_staff(&app, "Zawadi", kituo::domain::Role::Admin).await;

    // The console: log in, open the queued conversation, claim it, reply, open the reports.
    console_login(c, app.addr, &email, STAFF_PASSWORD).await;
    watch_violations(c).await;
    // Away, so the conversation waits in the queue for a claim by hand.
    c.find(Locator::Css("#presence")).await.unwrap().select_by_value("away").await.unwrap();
    let store = app.hub.store().clone();
    eventually("the agent away", Duration::from_secs(10), || async {
        let me = store.agents().await.unwrap().into_iter().find(|a| a.email == email)?;
        (me.presence == kituo::domain::Presence::Away).then_some(())
    })
    .await;
    let mut customer = queued_customer(&app).await;
    click(c, "#tab-queue").await;
    wait_js(c, "the queued conversation", "return document.querySelectorAll('#conv-list .conv-item').length > 0").await;
    click(c, "#conv-list .conv-item").await;
    wait_js(c, "claim button", "const b = document.querySelector('#btn-claim'); return b && b.offsetParent !== null")
        .await;
    click(c, "#btn-claim").await;
    wait_js(c, "the claim", "const b = document.querySelector('#btn-resolve'); return b && b.offsetParent !== null")
        .await;
    c.find(Locator::Css("#reply-input")).await.unwrap().send_keys("Karibu, I am looking at it now.").await.unwrap();
    click(c, "#reply-send").await;
    crate::helpers::next_message(&mut customer, "the agent's reply", |f| f["author"] == "agent").await;
    click(c, "#nav-reports").await;
    wait_js(c, "the reports view", "return location.hash === '#/reports'").await;
    tokio::time::sleep(Duration::from_millis(300)).await; // let the charts draw
    assert_no_violation(c, "/console").await;

    // The admin pages: every section.
    c.goto(&format!("http://{}/admin", app.addr)).await.unwrap();
    watch_violations(c).await;
    for view in ["intents", "history", "io", "agents", "canned", "settings", "tokens", "audit"] {
        c.execute(&format!("location.hash = '#/{view}'"), vec![]).await.unwrap();
        wait_js(
            c,
            &format!("the {view} view"),
            &format!("return document.querySelector('#nav-{view}').getAttribute('aria-current') === 'page'"),
        )
        .await;
    }
    wait_js(c, "the intent list", "return document.querySelectorAll('#intent-list .intent-row').length > 0").await;
    assert_no_violation(c, "/admin").await;

    // The detector works: an injected inline style is refused and reported both ways.
    c.execute(
        "const s = document.createElement('style'); s.textContent = 'body{}'; document.head.appendChild(s)",
        vec![],
    )
    .await
    .unwrap();
    let seen = wait_js(c, "the violation event", "return (window.__csp || []).length > 0 && window.__csp").await;
    assert!(seen.to_string().contains("style-src"), "{seen}");
    assert!(!csp_log_lines(c).await.is_empty(), "the browser log reports violations too");

    // The shop with its widget (which adds its own stylesheet) works under the shop's policy.
    c.goto(&format!("http://{}/", app.addr)).await.unwrap();
    watch_violations(c).await;
    click(c, "#kituo-launcher").await;
    c.wait().for_element(Locator::Css("#kituo-panel")).await.expect("the widget opens");
    crate::browser::send_in_widget(c, "Habari").await;
    wait_js(c, "the bot's answer", "return document.querySelectorAll('.kituo-msg[data-author=\"bot\"]').length > 0")
        .await;
    assert_no_violation(c, "/ (the shop)").await;

    // Clickjacking: a page on another origin (same site, so the session cookie would go along)
    // frames the console and the shop. The console stays empty; the shop loads with its widget.
    let attacker = attacker_site(app.addr).await;
    c.goto(&format!("http://{attacker}/")).await.unwrap();
    wait_js(c, "both frames", "return document.readyState === 'complete'").await;
    let shop = c.find(Locator::Id("shop")).await.unwrap();
    shop.enter_frame().await.unwrap();
    wait_js(c, "the framed shop's widget", "return !!document.querySelector('#kituo-launcher')").await;
    c.enter_parent_frame().await.unwrap();
    let console = c.find(Locator::Id("console")).await.unwrap();
    console.enter_frame().await.unwrap();
    let inside: Value = c
        .execute("return [location.href, !!document.querySelector('#conv-list'), document.body ? document.body.innerText.length : 0]", vec![])
        .await
        .unwrap_or(Value::Null);
    c.enter_parent_frame().await.unwrap();
    assert_ne!(inside[1], Value::Bool(true), "the console rendered inside another origin's frame: {inside}");
    let refused = csp_log_lines(c).await;
    assert!(refused.iter().any(|l| l.contains("frame-ancestors")), "the browser refused the frame: {refused:?}");
    b.client.clone().close().await.unwrap();
}

/// A page on another origin (another port on the same host) framing the console and the shop.
async fn attacker_site(app: std::net::SocketAddr) -> std::net::SocketAddr {
    let page = format!(
        "<!doctype html><title>attacker</title><iframe id=\"console\" src=\"http://{app}/console\"></iframe>\
         <iframe id=\"shop\" src=\"http://{app}/\"></iframe>"
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let router = axum::Router::new().route("/", axum::routing::get(move || async move { axum::response::Html(page) }));
    tokio::spawn(async move { axum::serve(listener, router).await });
    addr
}
