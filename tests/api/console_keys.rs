//! The console's `/` picker in Chromium: `/` (or a shortcut that matches nothing) and Enter
//! send nothing to the customer, also when there are no canned responses at all.

use crate::browser::{browser, claim_first_queued, console_login, set_away, wait_js};
use crate::helpers::{backends, queued_customer, spawn_app};
use fantoccini::{Locator, key::Key};

#[tokio::test]
async fn slash_and_enter_without_canned_responses_sends_nothing() {
    let Some(agent) = browser().await else { return };
    let app = spawn_app(backends()[0]).await;
    let store = app.hub.store().clone();
    for (shortcut, _) in store.canned_responses().await.unwrap() {
        store.delete_canned_response(&shortcut).await.unwrap();
    }
    let password = "console-keys-password";
    let hash = kituo::auth::hash_password(password);
    store.create_agent("zawadi@kituo.test", "Zawadi", kituo::domain::Role::Agent, &hash).await.unwrap();
    let a = &agent.client;
    console_login(a, app.addr, "zawadi@kituo.test", password).await;
    set_away(a, &app, "zawadi@kituo.test").await;
    let chat = queued_customer(&app).await;
    claim_first_queued(a).await;

    let input = a.find(Locator::Css("#reply-input")).await.unwrap();
    input.send_keys("/").await.unwrap();
    wait_js(a, "the empty picker", "const c = document.querySelector('#canned'); return c && !c.hidden").await;
    input.send_keys(&String::from(char::from(Key::Enter))).await.unwrap();
    input.send_keys("zz").await.unwrap();
    input.send_keys(&String::from(char::from(Key::Enter))).await.unwrap();
    let left = a.execute("return document.querySelector('#reply-input').value", vec![]).await.unwrap();
    assert_eq!(left, "/zz", "the shortcut stays in the box");
    input.clear().await.unwrap();
    input.send_keys("Karibu, I am looking at it").await.unwrap();
    input.send_keys(&String::from(char::from(Key::Enter))).await.unwrap();
    wait_js(
        a,
        "the real reply",
        "return [...document.querySelectorAll('#messages .msg')].some(m => m.textContent.includes('Karibu, I am'))",
    )
    .await;
    let messages = store.messages_after(&chat.conversation_id, 0, 1000, true).await.unwrap();
    let agent_texts: Vec<&str> =
        messages.iter().filter(|m| m.author == kituo::domain::Author::Agent).map(|m| m.text.as_str()).collect();
    assert_eq!(agent_texts, vec!["Karibu, I am looking at it"], "nothing but the real reply was sent");
    agent.client.clone().close().await.unwrap();
}
