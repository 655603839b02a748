//! Satisfaction, SLA and priority through the API and the widget socket, on SQLite and
//! PostgreSQL: a resolution asks the customer for a rating (widget frame, signed mail link,
//! Discord reply), one rating per resolution, results in the conversation JSON and the reports;
//! SLA clocks set through the store (no sleeping), breaches marked once and counted in the
//! reports and `/metrics`; priority names validated.

use crate::helpers::{Chat, Staff, admin, agent, backends, http, http_raw, next_message, queued_customer, spawn_app};
use kituo::domain::{Channel, Verification, now_ms};
use kituo::hub::{Inbound, Sender, Thread};
use serde_json::{Value, json};

/// The next frame of `kind` (message frames before it skipped).
async fn frame_of(chat: &mut Chat, kind: &str) -> Value {
    loop {
        let f = chat.any_frame().await;
        if f["type"] == kind {
            return f;
        }
        assert!(f["type"] == "message" || f["type"] == "agent", "waiting for {kind}: unexpected {f}");
    }
}

async fn resolve_and_expect_request(staff: &Staff, chat: &mut Chat) {
    staff.act(&chat.conversation_id, "resolve").await.ok();
    let notice = next_message(chat, "the resolution notice", |f| f["author"] == "system").await;
    assert!(notice["text"].as_str().unwrap().contains("resolved"), "{notice}");
    let request = frame_of(chat, "csat_request").await;
    assert_eq!(request["conversation_id"], chat.conversation_id.as_str());
}

#[tokio::test]
async fn the_widget_asks_for_one_rating_per_resolution() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let neema = agent(&app, "Neema Said").await;
        let mut chat = queued_customer(&app).await;
        let id = chat.conversation_id.clone();
        neema.act(&id, "claim").await.ok();
        // The header learns who helps.
        let who = frame_of(&mut chat, "agent").await;
        assert_eq!(who["name"], "Neema Said", "{backend:?}");

        resolve_and_expect_request(&neema, &mut chat).await;
        // Bad ratings get coded refusals; the socket stays open.
        for bad in
            [json!({"type": "csat", "rating": 9}), json!({"type": "csat", "rating": "five"}), json!({"type": "csat"})]
        {
            chat.send(bad.clone()).await;
            let f = chat.frame().await;
            assert_eq!((f["type"].as_str(), f["code"].as_str()), (Some("error"), Some("bad_frame")), "{bad}: {f}");
        }
        chat.send(json!({"type": "csat", "rating": 4, "comment": "  Quick and kind "})).await;
        let f = chat.frame().await;
        assert_eq!(f, json!({"type": "csat_recorded", "rating": 4}), "{backend:?}");
        chat.send(json!({"type": "csat", "rating": 5})).await;
        let f = chat.frame().await;
        assert_eq!(f["code"], "already_rated", "a second rating is refused: {f}");
        let c = neema.conversation(&id).await;
        assert_eq!(c["conversation"]["csat"], json!({"rating": 4, "comment": "Quick and kind"}), "{backend:?}");
        assert_eq!(c["conversation"]["status"], "resolved");

        // Reopened and resolved again: a new request, rated on its own.
        neema.act(&id, "reopen").await.ok();
        resolve_and_expect_request(&neema, &mut chat).await;
        chat.send(json!({"type": "csat", "rating": 2})).await;
        assert_eq!(chat.frame().await["type"], "csat_recorded");
        let c = neema.conversation(&id).await;
        assert_eq!(c["conversation"]["csat"], json!({"rating": 2, "comment": null}), "{backend:?}");

        let r = neema.get("/api/reports").await;
        let csat = &r.ok()["csat"];
        let mine = csat["by_agent"].as_array().unwrap().iter().find(|g| g["agent_id"] == neema.id.as_str()).cloned();
        let mine = mine.unwrap_or_else(|| panic!("{backend:?}: no CSAT row for the agent: {csat}"));
        assert_eq!((mine["ratings"].as_i64(), mine["average"].as_f64()), (Some(2), Some(3.0)), "{mine}");
        assert_eq!(mine["agent_name"], "Neema Said");
        assert_eq!(mine["satisfied"], 1);
        let web = csat["by_channel"].as_array().unwrap().iter().find(|g| g["channel"] == "web").cloned().unwrap();
        assert_eq!(web["ratings"], 2);
        assert_eq!(csat["by_day"].as_array().map(Vec::len), Some(1), "{csat}");

        // A customer who reconnects after rating is not asked again.
        let mut again = Chat::connect(app.addr, Some(&chat.visitor_token)).await;
        again.send(json!({"type": "resume", "after_seq": 0})).await;
        while let Some(f) = again.maybe_frame(std::time::Duration::from_millis(300)).await {
            assert_ne!(f["type"], "csat_request", "{backend:?}: rated already, no new request: {f}");
        }
    }
}

/// An email conversation with one customer message, claimed by `staff`.
async fn email_conversation(app: &crate::helpers::TestApp, staff: &Staff) -> String {
    let sender = Sender {
        kind: "email",
        value: "amina@example.co.tz".into(),
        verification: Verification::EmailChannel,
        name: Some("Amina".into()),
    };
    let (_, id) = app.hub.open_conversation(Channel::Email, &sender, Thread::New, "{}").await.unwrap();
    let inbound =
        Inbound { text: "I need a person please", client_msg_id: None, external_id: None, channel_meta: None };
    app.hub.receive(&id, inbound).await.unwrap();
    staff.act(&id, "claim").await.ok();
    id
}

#[tokio::test]
async fn the_resolution_mail_links_to_a_signed_rating_page() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let neema = agent(&app, "Neema Mail").await;
        let id = email_conversation(&app, &neema).await;
        neema.act(&id, "resolve").await.ok();
        let c = neema.conversation(&id).await;
        let notice = c["messages"].as_array().unwrap().iter().rev().find(|m| m["author"] == "system").cloned().unwrap();
        let text = notice["text"].as_str().unwrap();
        let link = text.lines().find(|l| l.starts_with("4: ")).map(|l| l[3..].trim().to_string());
        let link = link.unwrap_or_else(|| panic!("{backend:?}: no rating link in {text:?}"));
        let path = link.split_once(&app.addr.to_string()).map(|(_, p)| p.to_string()).expect("link on this server");
        assert!(path.starts_with("/csat/") && path.ends_with("?rating=4"), "{path}");
        // The notice goes out by mail (queued in the outbox with the resolution).
        let deliveries = c["deliveries"].as_array().unwrap();
        assert!(deliveries.iter().any(|d| d["message_id"] == notice["id"]), "{backend:?}: {deliveries:?}");

        let page = http(app.addr, "GET", &path, &[], None).await;
        assert_eq!(page.status, 200, "{}", page.text);
        assert!(page.text.contains("value=\"4\" required checked"), "the link's rating is chosen: {}", page.text);
        assert!(neema.conversation(&id).await["conversation"]["csat"].is_null(), "opening the link stores nothing");

        let token_path = path.split('?').next().unwrap().to_string();
        // The signature's last hex digit changed (to another digit, whatever it was).
        let last = if token_path.ends_with('0') { '1' } else { '0' };
        let tampered = format!("{}{last}", &token_path[..token_path.len() - 1]);
        let form = |body: &str| Some(("application/x-www-form-urlencoded", body.to_string()));
        assert_eq!(http_raw(app.addr, "POST", &tampered, &[], form("rating=5")).await.status, 404);
        let bad = http_raw(app.addr, "POST", &token_path, &[], form("rating=7")).await;
        assert_eq!(bad.status, 422, "{}", bad.text);
        let ok = http_raw(app.addr, "POST", &token_path, &[], form("rating=4&comment=Fast+reply%21")).await;
        assert_eq!(ok.status, 200, "{}", ok.text);
        assert!(ok.text.contains("csat-done"), "{}", ok.text);
        let again = http_raw(app.addr, "POST", &token_path, &[], form("rating=1")).await;
        assert_eq!(again.status, 409, "one rating per resolution: {}", again.text);
        let c = neema.conversation(&id).await;
        assert_eq!(c["conversation"]["csat"], json!({"rating": 4, "comment": "Fast reply!"}), "{backend:?}");
    }
}

#[tokio::test]
async fn a_discord_reply_with_a_number_rates_the_resolution() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let neema = agent(&app, "Neema Discord").await;
        let sender = Sender { kind: "discord", value: "4242".into(), verification: Verification::None, name: None };
        let thread = || Thread::Key("dm:4242".into());
        let (_, id) = app.hub.open_conversation(Channel::Discord, &sender, thread(), "{}").await.unwrap();
        let say = |text: &'static str, ext: &'static str| Inbound {
            text,
            client_msg_id: None,
            external_id: Some(ext),
            channel_meta: None,
        };
        app.hub.receive(&id, say("I want a human", "discord:1")).await.unwrap();
        neema.act(&id, "claim").await.ok();
        neema.act(&id, "resolve").await.ok();
        let c = neema.conversation(&id).await;
        let notice = c["messages"].as_array().unwrap().iter().rev().find(|m| m["author"] == "system").cloned().unwrap();
        assert!(notice["text"].as_str().unwrap().contains("Reply with a number"), "{notice}");

        let (_, same) = app.hub.open_conversation(Channel::Discord, &sender, thread(), "{}").await.unwrap();
        assert_eq!(same, id);
        app.hub.receive(&id, say("5 - thank you Neema", "discord:2")).await.unwrap();
        // Redelivered by the gateway: stored once, rated once.
        app.hub.receive(&id, say("5 - thank you Neema", "discord:2")).await.unwrap();
        let c = neema.conversation(&id).await;
        assert_eq!(c["conversation"]["csat"], json!({"rating": 5, "comment": "thank you Neema"}), "{backend:?}");
        assert_eq!(c["conversation"]["status"], "resolved", "a rating does not reopen the conversation");
        let texts: Vec<&str> = c["messages"].as_array().unwrap().iter().filter_map(|m| m["text"].as_str()).collect();
        assert_eq!(texts.iter().filter(|t| t.starts_with("5 - thank")).count(), 1, "{texts:?}");
        assert!(texts.last().is_some_and(|t| t.contains("5 out of 5")), "thanks follow: {texts:?}");

        // A later number is an ordinary message: the rating is taken, the bot answers.
        app.hub.receive(&id, say("3", "discord:3")).await.unwrap();
        let c = neema.conversation(&id).await;
        assert_eq!(c["conversation"]["csat"]["rating"], 5);
        assert_eq!(c["conversation"]["status"], "bot", "{backend:?}");
    }
}

#[tokio::test]
async fn sla_clocks_count_down_breach_once_and_are_reported() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let boss = admin(&app, "SLA Admin").await;
        let neema = agent(&app, "SLA Agent").await;
        let target = json!({"priority": "high", "first_response_secs": 600, "resolution_secs": 3600});
        let r = boss.put("/api/admin/sla", target.clone()).await;
        assert_eq!(r.ok()["target"]["team"], Value::Null, "{backend:?}");
        assert_eq!(
            boss.put("/api/admin/sla", json!({"priority": "critical", "first_response_secs": 60})).await.status,
            422
        );
        assert_eq!(boss.put("/api/admin/sla", json!({"priority": "low", "first_response_secs": -5})).await.status, 422);
        let unknown_team =
            boss.put("/api/admin/sla", json!({"team": "nobody", "priority": "low", "resolution_secs": 5})).await;
        assert_eq!(unknown_team.status, 422);
        assert_eq!(neema.put("/api/admin/sla", target).await.status, 403);
        assert_eq!(boss.get("/api/admin/sla").await.ok()["targets"].as_array().map(Vec::len), Some(1));

        let chat = queued_customer(&app).await;
        let id = chat.conversation_id.clone();
        let path = format!("/api/conversations/{id}/priority");
        let r = neema.put(&path, json!({"priority": "urgent"})).await;
        assert_eq!(
            (r.ok()["conversation"]["priority"].as_i64(), r.json["conversation"]["priority_name"].as_str()),
            (Some(20), Some("urgent"))
        );
        let bad = neema.put(&path, json!({"priority": "critical"})).await;
        assert_eq!(bad.status, 422);
        assert!(bad.text.contains("low, normal, high, urgent"), "the 422 names the choices: {}", bad.text);
        assert_eq!(neema.put("/api/conversations/nope/priority", json!({"priority": "low"})).await.status, 404);
        assert!(neema.conversation(&id).await["conversation"]["sla"].is_null(), "no target for urgent");

        neema.put(&path, json!({"priority": "high"})).await.ok();
        let c = neema.conversation(&id).await;
        let fr = &c["conversation"]["sla"]["first_response"];
        let left = fr["left_s"].as_i64().unwrap();
        assert!((590..=600).contains(&left) && fr["breached"] == false, "{backend:?}: {fr}");

        // Queued 11 minutes ago (set through the store, not by waiting): first response missed.
        let store = app.hub.store();
        assert!(store.set_sla_times(&id, now_ms() - 660_000, None).await.unwrap());
        let c = neema.conversation(&id).await;
        let sla = &c["conversation"]["sla"];
        assert_eq!(sla["first_response"]["breached"], true, "{backend:?}: {sla}");
        assert!(sla["first_response"]["left_s"].as_i64().unwrap() <= -60, "{sla}");
        let res_left = sla["resolution"]["left_s"].as_i64().unwrap();
        assert!((2900..=2940).contains(&res_left) && sla["resolution"]["breached"] == false, "{sla}");
        assert_eq!(app.hub.sla_sweep().await.unwrap(), 1, "{backend:?}");
        assert_eq!(app.hub.sla_sweep().await.unwrap(), 0, "each breach is marked once");

        // Answered in time on another conversation: no breach.
        let other = queued_customer(&app).await;
        neema
            .put(&format!("/api/conversations/{}/priority", other.conversation_id), json!({"priority": "high"}))
            .await
            .ok();
        neema
            .post(&format!("/api/conversations/{}/messages", other.conversation_id), json!({"text": "Hello!"}))
            .await
            .ok();
        assert_eq!(app.hub.sla_sweep().await.unwrap(), 0);
        let o = neema.conversation(&other.conversation_id).await;
        assert_eq!(o["conversation"]["sla"]["first_response"]["stopped"], true, "{o}");

        let metrics = http(app.addr, "GET", "/metrics", &[], None).await;
        assert!(metrics.text.contains("kituo_sla_breaches_total{kind=\"first_response\"} 1"), "{}", metrics.text);
        assert!(metrics.text.contains("kituo_sla_breaches_total{kind=\"resolution\"} 0"));
        let r = neema.get("/api/reports").await;
        assert_eq!(r.ok()["sla_breaches"], json!({"first_response": 1, "resolution": 0}), "{backend:?}");
        let days = r.json["days"].as_array().unwrap();
        assert_eq!(days.iter().map(|d| d["sla_breaches"]["first_response"].as_i64().unwrap()).sum::<i64>(), 1);
    }
}

#[tokio::test]
async fn labels_are_counted_in_reports() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let boss = admin(&app, "Report Admin").await;
        for (name, color) in [("refund", "#c0392b"), ("vip", "#f1c40f"), ("unused", "#000")] {
            boss.post("/api/admin/labels", json!({"name": name, "color": color})).await.ok();
        }
        let one = queued_customer(&app).await;
        let two = queued_customer(&app).await;
        let set = |id: String, labels: Value| {
            let boss = boss.clone();
            async move {
                boss.post(&format!("/api/conversations/{id}/labels"), json!({"labels": labels})).await.ok().clone()
            }
        };
        set(one.conversation_id.clone(), json!(["refund", "vip"])).await;
        set(two.conversation_id.clone(), json!(["refund"])).await;
        let r = boss.get("/api/reports").await;
        let labels: Vec<(String, i64)> = r.ok()["labels"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| (l["name"].as_str().unwrap().to_string(), l["conversations"].as_i64().unwrap()))
            .collect();
        assert_eq!(
            labels,
            [("refund".to_string(), 2), ("unused".to_string(), 0), ("vip".to_string(), 1)],
            "{backend:?}"
        );
    }
}
