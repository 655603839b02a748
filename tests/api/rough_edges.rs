//! The rough edges of issue 15 item 7, each pinned by a test: names in the audit log, the
//! UTC offset validated on its own, and the rollback route named in the admin issue.

use crate::helpers::{admin, backends, spawn_app};
use serde_json::{Value, json};

#[tokio::test]
async fn the_audit_log_names_actor_and_target() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let boss = admin(&app, "Audit Namer").await;
        let r = boss
            .post(
                "/api/admin/agents",
                json!({"email": "baraka@kituo.test", "name": "Baraka", "role": "agent", "password": "a long enough password"}),
            )
            .await;
        let new_agent = r.ok()["agent"]["id"].as_str().unwrap().to_string();
        let r = boss.get("/api/admin/audit?action=agent.create").await;
        let entries = r.ok()["entries"].as_array().unwrap().clone();
        let e = entries.iter().find(|e| e["target"] == format!("agent:{new_agent}")).expect("the creation is logged");
        assert_eq!(e["actor"], format!("agent:{}", boss.id), "{backend:?}: the id stays for filtering");
        assert_eq!(e["actor_name"], "Audit Namer", "{backend:?}: {e}");
        assert_eq!(e["target_name"], "Baraka", "{backend:?}: {e}");
        boss.put("/api/admin/settings", json!({"utc_offset": "+03:00"})).await.ok();
        let r = boss.get("/api/admin/audit?action=settings.update").await;
        let e = r.ok()["entries"][0].clone();
        assert_eq!(e["target_name"], Value::Null, "{backend:?}: a target that is no agent has no name: {e}");
    }
}

#[tokio::test]
async fn utc_offset_is_validated_without_business_hours() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let boss = admin(&app, "Offset Admin").await;
        assert_eq!(boss.get("/api/admin/settings").await.ok()["business_hours"], Value::Null);
        for bad in ["+99:99", "+15:00", "EAT", "3"] {
            let r = boss.put("/api/admin/settings", json!({"utc_offset": bad})).await;
            assert_eq!(r.status, 422, "{backend:?}: {bad:?} accepted: {}", r.text);
            assert!(r.json["error"]["message"].as_str().unwrap_or("").starts_with("utc_offset"), "{}", r.text);
        }
        assert_eq!(boss.get("/api/admin/settings").await.ok()["utc_offset"], "+03:00", "{backend:?}: unchanged");
        let r = boss.put("/api/admin/settings", json!({"utc_offset": "+05:30"})).await;
        assert_eq!(r.ok()["utc_offset"], "+05:30", "{backend:?}: {}", r.text);
    }
}

#[tokio::test]
async fn intents_roll_back_by_the_named_route_and_the_versions_route() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let boss = admin(&app, "Rollback Admin").await;
        let v0 = boss.get("/api/admin/intents").await.ok()["version"].as_i64().unwrap();
        let r = boss.post("/api/admin/intents/rollback", json!({"version": v0})).await;
        let v1 = r.ok()["version"].as_i64().unwrap();
        assert_eq!(v1, v0 + 1, "{backend:?}: a rollback is a new version: {}", r.text);
        let note = boss.get("/api/admin/intents/versions").await.ok()["versions"][0]["note"].clone();
        assert_eq!(note, format!("roll back to version {v0}"));
        let r = boss.post(&format!("/api/admin/intents/versions/{v0}/rollback"), json!({})).await;
        assert_eq!(r.ok()["version"], v1 + 1, "{backend:?}: the versions route stays");
        assert_eq!(boss.post("/api/admin/intents/rollback", json!({"version": 9999})).await.status, 404);
        assert_eq!(boss.post("/api/admin/intents/rollback", json!({})).await.status, 422, "version is required");
    }
}

#[tokio::test]
async fn the_bot_prefers_the_product_the_customer_named_and_says_numbers_as_written() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let mut chat = app.chat().await;
        let reply = chat.ask("Do you have solar lanterns?").await;
        let lantern = reply.find("Solar lantern").unwrap_or(usize::MAX);
        let panel = reply.find("solar panel").unwrap_or(usize::MAX);
        assert!(lantern < panel, "{backend:?}: the lantern is the answer, not an alternative: {reply}");

        let mut chat = app.chat().await;
        let ask = chat.ask("where is my order so-2026-0042").await;
        assert!(ask.contains("SO-2026-0042") && !ask.contains("so-2026-0042"), "{backend:?}: {ask}");
        let missing = chat.ask("what about inv-2099-0001 invoice").await;
        assert!(!missing.contains("inv-2099-0001"), "{backend:?}: {missing}");
    }
}

#[tokio::test]
async fn the_demo_has_canned_responses_in_english_and_swahili() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let agent = crate::helpers::agent(&app, "Canned Agent").await;
        let r = agent.get("/api/canned_responses").await;
        let body = r.ok();
        let list = body["canned_responses"].as_array().cloned().unwrap_or_default();
        let text_of = |sc: &str| list.iter().find(|c| c["shortcut"] == sc).map(|c| c["text"].to_string());
        assert!(text_of("hello").is_some_and(|t| t.contains("Hello")), "{backend:?}: {}", r.text);
        assert!(text_of("hello-sw").is_some_and(|t| t.contains("Habari")), "{backend:?}: {}", r.text);
        assert!(list.len() >= 8, "{backend:?}: {}", r.text);
    }
}

#[tokio::test]
async fn a_contact_proven_by_an_order_email_is_called_by_the_back_offices_name() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let agent = crate::helpers::agent(&app, "Name Agent").await;
        let mut chat = app.chat().await;
        let before = agent.get(&format!("/api/conversations/{}", chat.conversation_id)).await;
        assert_eq!(before.ok()["conversation"]["contact"]["name"], Value::Null, "{backend:?}: {}", before.text);
        chat.ask("Where is my order 1001?").await;
        let shown = chat.ask("amina.mwakilema@example.co.tz").await;
        assert!(shown.contains("EE482913057TZ"), "{shown}");
        let after = agent.get(&format!("/api/conversations/{}", chat.conversation_id)).await;
        assert_eq!(after.ok()["conversation"]["contact"]["name"], "Amina Mwakilema", "{backend:?}: {}", after.text);
        // A second email proven later (written with its turn) does not rename the contact.
        chat.ask("Where is my order 1002?").await;
        let second = chat.ask("juma.otieno@example.co.ke").await;
        assert!(second.contains("1002"), "{backend:?}: {second}");
        let proven = crate::helpers::query_i64(
            &app,
            "select count(*) from contact_identities where value = 'juma.otieno@example.co.ke'
                and verification = 'order_email'",
        )
        .await;
        assert_eq!(proven, 1, "{backend:?}: the second proof was stored");
        let last = agent.get(&format!("/api/conversations/{}", chat.conversation_id)).await;
        assert_eq!(last.ok()["conversation"]["contact"]["name"], "Amina Mwakilema", "{backend:?}: {}", last.text);
    }
}
