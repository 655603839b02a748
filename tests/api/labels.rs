//! Labels through the API on SQLite and PostgreSQL: admins define them, agents set them on a
//! conversation (the set is replaced; an unknown name is a 422 naming it), the conversation JSON
//! carries them and `label=` filters the list.

use crate::helpers::{admin, agent, backends, queued_customer, spawn_app};
use serde_json::{Value, json};

fn names(v: &Value) -> Vec<String> {
    v.as_array().into_iter().flatten().filter_map(|x| x.as_str().map(str::to_string)).collect()
}

#[tokio::test]
async fn labels_are_defined_set_shown_and_filtered() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let boss = admin(&app, "Label Admin").await;
        let neema = agent(&app, "Label Agent").await;
        let r = boss.post("/api/admin/labels", json!({"name": "refund", "color": "#C0392B"})).await;
        assert_eq!(r.ok()["label"], json!({"name": "refund", "color": "#c0392b"}), "{backend:?}");
        boss.post("/api/admin/labels", json!({"name": "vip", "color": "#f1c40f"})).await.ok();
        assert_eq!(boss.post("/api/admin/labels", json!({"name": "x", "color": "red"})).await.status, 422);
        assert_eq!(neema.post("/api/admin/labels", json!({"name": "x", "color": "#fff"})).await.status, 403);
        let list = neema.get("/api/labels").await;
        assert_eq!(
            list.ok()["labels"],
            json!([{"name": "refund", "color": "#c0392b"}, {"name": "vip", "color": "#f1c40f"}]),
            "{backend:?}"
        );

        let one = queued_customer(&app).await;
        let two = queued_customer(&app).await;
        let path = |id: &str| format!("/api/conversations/{id}/labels");
        let r = neema.post(&path(&one.conversation_id), json!({"labels": ["vip", "refund"]})).await;
        assert_eq!(names(&r.ok()["conversation"]["labels"]), ["refund", "vip"], "{backend:?}: {}", r.text);
        let r = neema.post(&path(&two.conversation_id), json!({"labels": ["vip", "nonsense"]})).await;
        assert_eq!(r.status, 422, "{backend:?}: {}", r.text);
        assert!(r.text.contains("nonsense"), "the 422 names the unknown label: {}", r.text);
        let r = neema.post(&path(&two.conversation_id), json!({"labels": ["vip"]})).await;
        assert_eq!(names(&r.ok()["conversation"]["labels"]), ["vip"]);
        // Replaces, never adds.
        neema.post(&path(&one.conversation_id), json!({"labels": ["refund"]})).await.ok();
        let c = neema.get(&format!("/api/conversations/{}", one.conversation_id)).await;
        assert_eq!(names(&c.ok()["conversation"]["labels"]), ["refund"], "{backend:?}");

        let by = |label: &str| {
            let neema = &neema;
            let label = label.to_string();
            async move {
                let r = neema.get(&format!("/api/conversations?label={label}")).await;
                let list = r.ok()["conversations"].as_array().cloned().unwrap_or_default();
                list.iter().map(|c| c["id"].as_str().unwrap().to_string()).collect::<Vec<_>>()
            }
        };
        assert_eq!(by("refund").await, vec![one.conversation_id.clone()], "{backend:?}");
        assert_eq!(by("vip").await, vec![two.conversation_id.clone()], "{backend:?}");
        let all = neema.get("/api/conversations?status=queued").await;
        let all = all.ok()["conversations"].as_array().cloned().unwrap_or_default();
        assert!(all.iter().all(|c| c["labels"].is_array()), "every listed conversation carries labels");
        assert_eq!(neema.post(&path("no-such-conversation"), json!({"labels": []})).await.status, 404);
    }
}

#[tokio::test]
async fn labels_show_in_the_console_lists() {
    let Some(b) = crate::browser::browser().await else { return };
    let app = spawn_app(backends()[0]).await;
    let boss = admin(&app, "Label Admin").await;
    boss.post("/api/admin/labels", json!({"name": "refund", "color": "#c0392b"})).await.ok();
    let chat = queued_customer(&app).await;
    boss.post(&format!("/api/conversations/{}/labels", chat.conversation_id), json!({"labels": ["refund"]})).await.ok();
    let password = "labels-console-password";
    let hash = kituo::auth::hash_password(password);
    app.hub.store().create_agent("baraka@kituo.test", "Baraka", kituo::domain::Role::Agent, &hash).await.unwrap();
    let c = &b.client;
    crate::browser::console_login(c, app.addr, "baraka@kituo.test", password).await;
    crate::browser::select_tab(c, "open").await;
    let chip = crate::browser::wait_js(
        c,
        "the label chip in the list",
        "const e = [...document.querySelectorAll('#conv-list .conv-item .ci-label')].find(x => x.textContent === 'refund');
         return e ? getComputedStyle(e).borderLeftColor : null",
    )
    .await;
    assert_eq!(chip, "rgb(192, 57, 43)", "the admin's colour");
    b.client.clone().close().await.unwrap();
}
