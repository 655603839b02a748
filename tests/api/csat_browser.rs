//! Chromium: the widget shows the helping agent in its header and the rating card after a
//! resolution (the rating reaches the conversation), and the console shows SLA clocks (green
//! while time is left, red once breached, with the clock set through the store).

use crate::browser::{browser, console_login, send_in_widget, wait_for_bot_text, wait_js};
use crate::helpers::{admin, agent, backends, queued_customer, spawn_app};
use fantoccini::Locator;
use kituo::domain::now_ms;
use serde_json::json;

#[tokio::test]
async fn the_widget_names_the_agent_and_takes_a_rating() {
    let Some(b) = browser().await else { return };
    let app = spawn_app(backends()[0]).await;
    let neema = agent(&app, "Neema Wambui").await;
    let c = &b.client;
    c.goto(&format!("http://{}/", app.addr)).await.unwrap();
    c.find(Locator::Css("#kituo-launcher")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::Css("#kituo-panel")).await.unwrap();
    wait_js(
        c,
        "the generic line before an agent joins",
        "return document.querySelector('#kituo-sub').textContent.includes('usually reply')",
    )
    .await;
    send_in_widget(c, "I want to talk to a human").await;
    wait_for_bot_text(c, "").await;

    let list = crate::helpers::eventually("the queued conversation", std::time::Duration::from_secs(10), || async {
        let r = neema.get("/api/conversations?status=queued").await;
        r.json["conversations"][0]["id"].as_str().map(str::to_string)
    })
    .await;
    neema.act(&list, "claim").await.ok();
    let name = wait_js(
        c,
        "the agent in the header",
        "const n = document.querySelector('#kituo-agent-name'); return n && n.textContent",
    )
    .await;
    assert_eq!(name, "Neema Wambui");
    let avatar = c.find(Locator::Css("#kituo-agent-avatar")).await.unwrap().text().await.unwrap();
    assert_eq!(avatar, "NW");

    neema.act(&list, "resolve").await.ok();
    c.wait().for_element(Locator::Css("#kituo-csat")).await.expect("the rating card");
    c.find(Locator::Css("#kituo-csat button[data-rating='5']")).await.unwrap().click().await.unwrap();
    c.find(Locator::Css("#kituo-csat-comment")).await.unwrap().send_keys("Asante sana").await.unwrap();
    c.find(Locator::Css("#kituo-csat-send")).await.unwrap().click().await.unwrap();
    let done =
        wait_js(c, "the thanks", "const d = document.querySelector('#kituo-csat-done'); return d && d.textContent")
            .await;
    assert!(done.as_str().unwrap().contains("5 out of 5"), "{done}");
    let conv = neema.conversation(&list).await;
    assert_eq!(conv["conversation"]["csat"], json!({"rating": 5, "comment": "Asante sana"}));
    crate::browser::screenshot(c, "widget-csat.png").await;
    b.client.clone().close().await.unwrap();
}

#[tokio::test]
async fn the_console_shows_sla_time_left_and_breaches() {
    let Some(b) = browser().await else { return };
    let app = spawn_app(backends()[0]).await;
    let boss = admin(&app, "Console SLA Admin").await;
    boss.put("/api/admin/sla", json!({"priority": "normal", "first_response_secs": 3600})).await.ok();
    let fresh = queued_customer(&app).await;
    let late = queued_customer(&app).await;
    // Queued two hours ago, through the store: the first response is overdue.
    app.hub.store().set_sla_times(&late.conversation_id, now_ms() - 7_200_000, None).await.unwrap();

    let c = &b.client;
    console_login(c, app.addr, &boss.email, crate::helpers::STAFF_PASSWORD).await;
    // "All open" shows both, whoever they are assigned to.
    crate::browser::select_tab(c, "open").await;
    let chip = |id: &str| {
        format!(
            "const i = document.querySelector('#conv-list .conv-item[data-id=\"{id}\"] .sla');
             return i && [i.className, i.textContent].join('|')"
        )
    };
    let ok = wait_js(c, "the green clock", &chip(&fresh.conversation_id)).await;
    let ok = ok.as_str().unwrap();
    assert!(ok.contains("sla-ok") && ok.contains("First reply in"), "{ok}");
    let red = wait_js(c, "the red clock", &chip(&late.conversation_id)).await;
    let red = red.as_str().unwrap();
    assert!(red.contains("sla-breached") && red.contains("overdue"), "{red}");
    crate::browser::screenshot(c, "console-sla.png").await;
    b.client.clone().close().await.unwrap();
}
