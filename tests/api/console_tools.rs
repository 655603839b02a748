//! The console's tools in Chromium: the search box (Ctrl+K / s) with highlighted snippets and a
//! saved view; the keyboard shortcuts (j/k, a, n, r, e, ?; ignored while typing); a desktop
//! notification for a new queued conversation, one assigned to the agent and a customer's
//! message in it. The page's `window.Notification` is replaced by a recorder that reports
//! permission granted (fantoccini cannot grant it through CDP).

use crate::browser::{browser, console_login, set_away, wait_js};
use crate::helpers::{TestApp, admin, backends, queued_customer, spawn_app};
use crate::search::tell;
use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::key::Key;
use fantoccini::{Client, Locator};
use serde_json::json;

/// Presses keys on whatever has focus, as a person would (modifiers held while the key goes).
async fn press(c: &Client, keys: &[char]) {
    let mut seq = KeyActions::new("keyboard".to_string());
    for k in keys {
        seq = seq.then(KeyAction::Down { value: *k });
    }
    for k in keys.iter().rev() {
        seq = seq.then(KeyAction::Up { value: *k });
    }
    c.perform_actions(seq).await.expect("keys are pressed");
}

/// A console agent (logged in, away so nothing is auto-assigned); returns their id.
async fn console_agent(c: &Client, app: &TestApp, email: &str) -> String {
    let password = "console-tools-password";
    let hash = kituo::auth::hash_password(password);
    let id = app.hub.store().create_agent(email, "Tumaini", kituo::domain::Role::Agent, &hash).await.unwrap();
    console_login(c, app.addr, email, password).await;
    set_away(c, app, email).await;
    id
}

async fn hash(c: &Client) -> String {
    c.execute("return location.hash", vec![]).await.unwrap().as_str().unwrap_or_default().to_string()
}

#[tokio::test]
async fn the_search_box_finds_highlights_opens_and_saves_a_view() {
    let Some(b) = browser().await else { return };
    let app = spawn_app(backends()[0]).await;
    let c = &b.client;
    let agent_id = console_agent(c, &app, "tumaini.search@kituo.test").await;
    let mut damaged = queued_customer(&app).await;
    tell(&mut damaged, "The parcel arrived damaged and wet").await;
    let mut other = queued_customer(&app).await;
    tell(&mut other, "Do you deliver to Arusha?").await;

    press(c, &[Key::Control.into(), 'k']).await;
    wait_js(c, "the search box, focused", "return document.activeElement && document.activeElement.id === 'search-q'")
        .await;
    c.find(Locator::Css("#search-q")).await.unwrap().send_keys("damaged").await.unwrap();
    let marks = wait_js(
        c,
        "one result with the hit marked",
        "const r = [...document.querySelectorAll('#search-results .sr-item')];
         return r.length === 1 ? [r[0].dataset.id, [...r[0].querySelectorAll('mark')].map(m => m.textContent)] : null",
    )
    .await;
    assert_eq!(marks, json!([damaged.conversation_id, ["damaged"]]));

    c.find(Locator::Css("#view-name")).await.unwrap().send_keys("Damaged parcels").await.unwrap();
    c.find(Locator::Css("#view-save")).await.unwrap().click().await.unwrap();
    wait_js(c, "the saved view", "return [...document.querySelectorAll('#search-views .view-open')].some(v => v.textContent === 'Damaged parcels')").await;
    let views = app.hub.store().saved_views(&agent_id).await.unwrap();
    assert_eq!(views.len(), 1);
    assert_eq!((views[0].name.as_str(), views[0].query.as_str()), ("Damaged parcels", "damaged"));

    // Closed with Escape, opened again with `s`, the view replays its search.
    press(c, &[Key::Escape.into()]).await;
    wait_js(c, "the panel closed", "return document.querySelector('#search-panel').hidden").await;
    press(c, &['s']).await;
    wait_js(c, "the panel again", "return !document.querySelector('#search-panel').hidden").await;
    let input = c.find(Locator::Css("#search-q")).await.unwrap();
    input.clear().await.unwrap();
    input.send_keys(&String::from(char::from(Key::Enter))).await.unwrap();
    // Searches that finished: results not busy (a reply still on its way would replace them).
    let settled = |n: usize| {
        format!(
            "const r = document.querySelector('#search-results');
             return r.getAttribute('aria-busy') === 'false' && r.querySelectorAll('.sr-item').length === {n}"
        )
    };
    wait_js(c, "the open conversations (no search text)", &settled(2)).await;
    c.find(Locator::Css("#search-views .view-open")).await.unwrap().click().await.unwrap();
    wait_js(c, "the view's search", &settled(1)).await;
    let q = c.execute("return document.querySelector('#search-q').value", vec![]).await.unwrap();
    assert_eq!(q, "damaged", "the view's search text is back in the box");
    c.find(Locator::Css("#search-results .sr-item")).await.unwrap().click().await.unwrap();
    wait_js(c, "the conversation open", "return document.querySelector('#search-panel').hidden").await;
    assert_eq!(hash(c).await, format!("#/c/{}", damaged.conversation_id));
    b.client.clone().close().await.unwrap();
}

#[tokio::test]
async fn shortcuts_move_claim_switch_modes_resolve_and_list_themselves() {
    let Some(b) = browser().await else { return };
    let app = spawn_app(backends()[0]).await;
    let c = &b.client;
    console_agent(c, &app, "tumaini.keys@kituo.test").await;
    let first = queued_customer(&app).await;
    let second = queued_customer(&app).await;
    wait_js(c, "two queued", "return document.querySelectorAll('#conv-list .conv-item').length === 2").await;
    let order = c
        .execute("return [...document.querySelectorAll('#conv-list .conv-item')].map(i => i.dataset.id)", vec![])
        .await
        .unwrap();
    assert_eq!(order, json!([first.conversation_id, second.conversation_id]), "the queue, oldest first");

    press(c, &['j']).await;
    wait_js(c, "j opens the first", &format!("return location.hash === '#/c/{}'", first.conversation_id)).await;
    c.execute("document.activeElement.blur()", vec![]).await.unwrap();
    press(c, &['j']).await;
    wait_js(c, "j moves down", &format!("return location.hash === '#/c/{}'", second.conversation_id)).await;
    c.execute("document.activeElement.blur()", vec![]).await.unwrap();
    press(c, &['k']).await;
    wait_js(c, "k moves up", &format!("return location.hash === '#/c/{}'", first.conversation_id)).await;
    c.execute("document.activeElement.blur()", vec![]).await.unwrap();

    press(c, &['a']).await;
    wait_js(c, "a claims the waiting conversation", "return !document.querySelector('#btn-resolve').hidden").await;
    c.execute("document.activeElement.blur()", vec![]).await.unwrap();
    press(c, &['n']).await;
    wait_js(
        c,
        "n: note mode, typing",
        "return document.querySelector('#composer').classList.contains('is-note')
            && document.activeElement.id === 'reply-input'",
    )
    .await;
    // Keys typed in the box are text, not shortcuts.
    press(c, &['j', 'e']).await;
    let typed = c.execute("return document.querySelector('#reply-input').value", vec![]).await.unwrap();
    assert_eq!(typed, "je");
    assert_eq!(hash(c).await, format!("#/c/{}", first.conversation_id), "j in the box moved nothing");
    c.execute("document.querySelector('#reply-input').value = ''; document.activeElement.blur()", vec![])
        .await
        .unwrap();
    press(c, &['r']).await;
    wait_js(
        c,
        "r: reply mode, typing",
        "return !document.querySelector('#composer').classList.contains('is-note')
            && document.activeElement.id === 'reply-input'",
    )
    .await;
    c.execute("document.activeElement.blur()", vec![]).await.unwrap();
    press(c, &['e']).await;
    wait_js(c, "e resolves", "return !document.querySelector('#btn-reopen').hidden").await;
    let status = app.hub.store().conversation_summary(&first.conversation_id).await.unwrap().unwrap().status;
    assert_eq!(status, kituo::domain::ConversationStatus::Resolved);

    press(c, &[Key::Shift.into(), '?']).await;
    let listed = wait_js(
        c,
        "? lists the shortcuts",
        "const h = document.querySelector('#shortcuts-help');
         return h && !h.hidden ? [...h.querySelectorAll('dt')].map(d => d.textContent) : null",
    )
    .await;
    for key in ["j / k", "r", "n", "e", "a", "?"] {
        assert!(listed.as_array().unwrap().iter().any(|k| k == key), "{key} is listed: {listed}");
    }
    b.client.clone().close().await.unwrap();
}

/// Replaces the page's Notification with a recorder; permission is granted.
const FAKE_NOTIFICATION: &str = "window.__notes = [];
    window.Notification = function (title, options) {
      window.__notes.push({title: title, body: (options || {}).body || ''});
      this.close = function () {};
    };
    window.Notification.permission = 'default';
    window.Notification.requestPermission = function () {
      window.Notification.permission = 'granted';
      return Promise.resolve('granted');
    };";

#[tokio::test]
async fn notifications_for_the_queue_an_assignment_and_a_customer_message() {
    let Some(b) = browser().await else { return };
    let app = spawn_app(backends()[0]).await;
    let c = &b.client;
    let agent_id = console_agent(c, &app, "tumaini.notes@kituo.test").await;
    c.execute(FAKE_NOTIFICATION, vec![]).await.unwrap();
    c.find(Locator::Css("#notify-open")).await.unwrap().click().await.unwrap();
    c.find(Locator::Css("#notify-enable")).await.unwrap().click().await.unwrap();
    wait_js(
        c,
        "permission shown as granted",
        "return document.querySelector('#notify-permission').textContent.includes('are on')",
    )
    .await;
    c.find(Locator::Css("#pref-sound")).await.unwrap().click().await.unwrap();
    let store = app.hub.store().clone();
    crate::helpers::eventually("sound saved", std::time::Duration::from_secs(10), || async {
        store.notification_prefs(&agent_id).await.unwrap().sound.then_some(())
    })
    .await;
    press(c, &[Key::Escape.into()]).await;

    let mut chat = queued_customer(&app).await;
    let titles = "return window.__notes.map(n => n.title)";
    wait_js(
        c,
        "the queue notification",
        "return window.__notes.some(n => n.title === 'New conversation in the queue')",
    )
    .await;

    let boss = admin(&app, "Notes Admin").await;
    let r =
        boss.post(&format!("/api/conversations/{}/assign", chat.conversation_id), json!({"agent_id": agent_id})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    wait_js(c, "the assignment notification", "return window.__notes.some(n => n.title.startsWith('Assigned to you'))")
        .await;
    tell(&mut chat, "Are you there? The zip is broken").await;
    let note = wait_js(
        c,
        "the customer message notification",
        "return window.__notes.find(n => n.title.startsWith('New message from')) || null",
    )
    .await;
    assert_eq!(note["body"], "Are you there? The zip is broken");
    let all = c.execute(titles, vec![]).await.unwrap();
    assert_eq!(all.as_array().map(Vec::len), Some(3), "one notification per event: {all}");
    b.client.clone().close().await.unwrap();
}
