//! End-to-end in headless Chromium through ChromeDriver: the demo page's widget as a customer
//! uses it. Skips (saying so) when Chromium is missing, unless `KITUO_E2E_REQUIRED=1`.

use crate::helpers::{backends, spawn_app};
use fantoccini::{Client, ClientBuilder, Locator};
use std::io::Write;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub struct Browser {
    pub client: Client,
    driver: Child,
    profile: std::path::PathBuf,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

fn which(cmd: &str) -> bool {
    Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {cmd}"))
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// A fresh headless Chromium, or `None` (with a note on stderr) when it is not installed.
pub async fn browser() -> Option<Browser> {
    if !which("chromedriver") || !which("chromium") {
        assert!(
            std::env::var("KITUO_E2E_REQUIRED").is_err(),
            "KITUO_E2E_REQUIRED is set but chromium/chromedriver are missing"
        );
        let _ = writeln!(std::io::stderr(), "NOTE: chromium or chromedriver not installed: browser test SKIPPED");
        return None;
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let driver = Command::new("chromedriver")
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts");
    let profile = std::env::temp_dir().join(format!("kituo-chrome-{:016x}", rand::random::<u64>()));
    let caps: serde_json::Map<String, serde_json::Value> = serde_json::from_value(serde_json::json!({
        // The console log (CSP violations land there) is read by tests/api/security/csp_browser.rs.
        "goog:loggingPrefs": {"browser": "ALL"},
        "goog:chromeOptions": {
            "binary": "/usr/bin/chromium",
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-extensions", "--no-first-run", "--window-size=1280,800",
                format!("--user-data-dir={}", profile.display()),
            ]
        }
    }))
    .unwrap();
    let url = format!("http://127.0.0.1:{port}");
    let mut last_err = None;
    for _ in 0..50 {
        match ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps.clone())
            .connect(&url)
            .await
        {
            Ok(client) => {
                return Some(Browser { client, driver, profile });
            }
            Err(e) => {
                last_err = Some(e);
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    }
    panic!("cannot start a Chromium session: {last_err:?}");
}

/// Waits until the page's bot messages include one containing `needle`; returns its text.
pub async fn wait_for_bot_text(c: &Client, needle: &str) -> String {
    let script = r#"
        const n = arguments[0].toLowerCase();
        const els = [...document.querySelectorAll('.kituo-msg[data-author="bot"] .kituo-text')];
        const hit = els.find(e => e.textContent.toLowerCase().includes(n));
        return hit ? hit.textContent : null;"#;
    for _ in 0..150 {
        let v = c.execute(script, vec![serde_json::json!(needle)]).await.expect("script runs");
        if let Some(s) = v.as_str() {
            return s.to_string();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let all = c
        .execute("return [...document.querySelectorAll('.kituo-msg')].map(e => e.textContent).join(' | ')", vec![])
        .await
        .unwrap();
    panic!("no bot message containing {needle:?}; messages: {all}");
}

pub async fn send_in_widget(c: &Client, text: &str) {
    let input = c.find(Locator::Css("#kituo-input")).await.expect("widget input");
    input.send_keys(text).await.unwrap();
    c.find(Locator::Css("#kituo-send")).await.unwrap().click().await.unwrap();
}

pub async fn screenshot(c: &Client, name: &str) {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    let png = c.screenshot().await.expect("screenshot");
    std::fs::write(dir.join(name), png).unwrap();
}

/// Opens the demo page of `addr` and its widget panel.
pub async fn open_widget(c: &Client, addr: std::net::SocketAddr) {
    c.goto(&format!("http://{addr}/")).await.unwrap();
    c.find(Locator::Css("#kituo-launcher")).await.expect("launcher button").click().await.unwrap();
    c.wait().for_element(Locator::Css("#kituo-panel")).await.unwrap();
}

#[tokio::test]
async fn customer_chats_on_the_demo_page_and_history_survives_a_reload() {
    let Some(b) = browser().await else { return };
    let app = spawn_app(backends()[0]).await;
    let c = &b.client;
    open_widget(c, app.addr).await;

    send_in_widget(c, "Where is my order SO-2026-0042?").await;
    wait_for_bot_text(c, "email").await;
    send_in_widget(c, "wanjiru.kamau@example.co.ke").await;
    let answer = wait_for_bot_text(c, "G4S-NBO-0048213").await;
    assert!(answer.contains("G4S Courier"), "{answer}");
    send_in_widget(c, "Mna kikoi?").await;
    wait_for_bot_text(c, "Desemba").await;
    screenshot(c, "widget.png").await;

    // A reload keeps the conversation: the widget resumes from seq 0 with its stored token.
    c.refresh().await.unwrap();
    if c.find(Locator::Css("#kituo-panel")).await.map(|_| ()).is_err() {
        c.find(Locator::Css("#kituo-launcher")).await.unwrap().click().await.unwrap();
    }
    let restored = wait_for_bot_text(c, "G4S-NBO-0048213").await;
    assert!(restored.contains("G4S Courier"));
    let count = c.execute("return document.querySelectorAll('.kituo-msg').length", vec![]).await.unwrap();
    assert_eq!(count.as_u64(), Some(6), "three questions and three answers after reload");
    b.client.clone().close().await.unwrap();
}

/// Logs a staff member into the console through the login page.
pub async fn console_login(c: &Client, addr: std::net::SocketAddr, email: &str, password: &str) {
    c.goto(&format!("http://{addr}/login?next=/console")).await.unwrap();
    c.find(Locator::Css("#login-email")).await.unwrap().send_keys(email).await.unwrap();
    c.find(Locator::Css("#login-password")).await.unwrap().send_keys(password).await.unwrap();
    c.find(Locator::Css("#login-submit")).await.unwrap().click().await.unwrap();
    wait_js(c, "the console after login", "return location.pathname === '/console'").await;
    c.wait().for_element(Locator::Css("#conv-list")).await.expect("console loads");
}

/// Selects a console list tab (`queue`, `mine`, `open`) and waits until the console shows it.
/// The click is repeated: the page's script may not have bound its handlers when the list
/// element first appears, and a lost click would leave the queue tab showing.
pub(crate) async fn select_tab(c: &Client, tab: &str) {
    let check = format!("return document.querySelector('#tab-{tab}').getAttribute('aria-selected') === 'true'");
    for _ in 0..150 {
        c.find(Locator::Css(&format!("#tab-{tab}"))).await.unwrap().click().await.unwrap();
        let v = c.execute(&check, vec![]).await.expect("script runs");
        if v == serde_json::Value::Bool(true) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("the console never selected the {tab} tab");
}

/// Polls a JavaScript expression until it returns a truthy value.
/// Waits up to 30 s: CI runs some twenty browsers at once on two cores.
pub async fn wait_js(c: &Client, what: &str, script: &str) -> serde_json::Value {
    for _ in 0..300 {
        let v = c.execute(script, vec![]).await.expect("script runs");
        if !(v.is_null() || v == serde_json::Value::Bool(false)) {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out waiting for {what}");
}

/// Sets the console's presence to away (nothing is auto-assigned) and waits until the server has it.
pub(crate) async fn set_away(c: &Client, app: &crate::helpers::TestApp, email: &str) {
    c.find(Locator::Css("#presence")).await.unwrap().select_by_value("away").await.unwrap();
    let store = app.hub.store().clone();
    for _ in 0..100 {
        let me = store.agents().await.unwrap().into_iter().find(|x| x.email == email).unwrap();
        if me.presence == kituo::domain::Presence::Away {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    select_tab(c, "queue").await;
}

/// Opens the first conversation of the queue tab and claims it.
pub(crate) async fn claim_first_queued(a: &Client) {
    wait_js(a, "the queued conversation", "return document.querySelectorAll('#conv-list .conv-item').length > 0").await;
    a.find(Locator::Css("#conv-list .conv-item")).await.unwrap().click().await.unwrap();
    a.wait().for_element(Locator::Css("#btn-claim")).await.unwrap();
    wait_js(a, "claim button", "const b = document.querySelector('#btn-claim'); return b && b.offsetParent !== null")
        .await;
    a.find(Locator::Css("#btn-claim")).await.unwrap().click().await.unwrap();
    wait_js(
        a,
        "the assigned state",
        "const b = document.querySelector('#btn-resolve'); return b && b.offsetParent !== null",
    )
    .await;
}

#[tokio::test]
async fn agent_takes_over_a_handed_off_chat_in_the_console() {
    let Some(customer) = browser().await else { return };
    let Some(agent) = browser().await else { return };
    let app = spawn_app(backends()[0]).await;
    let password = "console-test-password";
    let hash = kituo::auth::hash_password(password);
    app.hub.store().create_agent("neema@kituo.test", "Neema", kituo::domain::Role::Agent, &hash).await.unwrap();

    // The agent opens the console first and waits.
    let a = &agent.client;
    console_login(a, app.addr, "neema@kituo.test", password).await;
    // Away: nothing is auto-assigned, so the agent claims from the queue by hand.
    set_away(a, &app, "neema@kituo.test").await;

    // The customer proves who they are, then asks for a person.
    let c = &customer.client;
    c.goto(&format!("http://{}/", app.addr)).await.unwrap();
    c.find(Locator::Css("#kituo-launcher")).await.unwrap().click().await.unwrap();
    send_in_widget(c, "Where is my order 1001?").await;
    wait_for_bot_text(c, "email").await;
    send_in_widget(c, "amina.mwakilema@example.co.tz").await;
    wait_for_bot_text(c, "EE482913057TZ").await;
    send_in_widget(c, "I want to talk to a human please").await;

    // It shows up in the agent's queue without a reload.
    claim_first_queued(a).await;

    // The 360° panel shows the customer's orders.
    wait_js(
        a,
        "orders in the 360° panel",
        "return [...document.querySelectorAll('#contact-panel .order-row')].some(r => r.textContent.includes('1001'))",
    )
    .await;

    // A private note, then a reply.
    a.find(Locator::Css("#note-toggle")).await.unwrap().click().await.unwrap();
    let input = a.find(Locator::Css("#reply-input")).await.unwrap();
    input.send_keys("Customer seems worried about delivery date").await.unwrap();
    a.find(Locator::Css("#reply-send")).await.unwrap().click().await.unwrap();
    wait_js(
        a,
        "the note",
        "return [...document.querySelectorAll('#messages .msg.note')].some(m => m.textContent.includes('worried'))",
    )
    .await;
    a.find(Locator::Css("#note-toggle")).await.unwrap().click().await.unwrap();
    let input = a.find(Locator::Css("#reply-input")).await.unwrap();
    input.send_keys("Habari Amina, your parcel arrives tomorrow.").await.unwrap();
    a.find(Locator::Css("#reply-send")).await.unwrap().click().await.unwrap();

    // The customer sees the agent's reply, and never the note.
    let script = r#"return [...document.querySelectorAll('.kituo-msg[data-author="agent"] .kituo-text')]
                      .map(e => e.textContent).join(' | ') || null"#;
    let seen = wait_js(c, "the agent's reply in the widget", script).await;
    assert!(seen.as_str().unwrap().contains("arrives tomorrow"), "{seen}");
    let all = c.execute("return document.body.innerText", vec![]).await.unwrap();
    assert!(!all.as_str().unwrap().contains("worried"), "a private note reached the widget");
    screenshot(a, "console.png").await;
    screenshot(c, "widget-agent.png").await;
    agent.client.clone().close().await.unwrap();
    customer.client.clone().close().await.unwrap();
}
