//! The widget's upload door on SQLite and PostgreSQL: a visitor past the upload limit gets 429
//! with `Retry-After`, and still after a restart (the count is in the database); a preflight
//! from an allowed widget origin is answered with that origin (never `*`, no credentials), one
//! from another origin is refused, and uploads carry the same header.

use crate::attachments::PNG;
use crate::helpers::{TestApp, TestDb, admin, backends, http_bytes, serve_args, spawn_on};
use kituo::web::upload_limits::{PER_VISITOR, WINDOW_MS};
use serde_json::json;

const SHOP: &str = "https://shop.example.co.ke";

async fn spawn_with_files(db: TestDb, dir: &std::path::Path) -> TestApp {
    let files = dir.to_path_buf();
    spawn_on(db, move |url| {
        let mut args = serve_args(url);
        args.attachments_dir = Some(files.clone());
        args
    })
    .await
}

async fn upload(app: &TestApp, token: &str, origin: Option<&str>) -> crate::helpers::Resp {
    let mut headers = vec![("x-visitor-token", token)];
    headers.extend(origin.map(|o| ("origin", o)));
    http_bytes(app.addr, "POST", "/api/widget/attachments?name=a.png", &headers, Some(("image/png", PNG.to_vec())))
        .await
}

fn header<'a>(r: &'a crate::helpers::Resp, name: &str) -> Option<&'a str> {
    r.headers.get(name).and_then(|v| v.to_str().ok())
}

#[tokio::test]
async fn a_visitor_past_the_upload_limit_waits_even_after_a_restart() {
    for backend in backends() {
        let dir = std::env::temp_dir().join(format!("kituo-files-{:016x}", rand::random::<u64>()));
        let app = spawn_with_files(TestDb::new(backend).await, &dir).await;
        let chat = app.chat().await;
        for i in 0..PER_VISITOR {
            let r = upload(&app, &chat.visitor_token, None).await;
            assert_eq!(r.status, 201, "{backend:?}: upload {i}: {}", r.text);
        }
        let refused = upload(&app, &chat.visitor_token, None).await;
        assert_eq!(refused.status, 429, "{backend:?}: {}", refused.text);
        assert_eq!(refused.code(), "rate_limited");
        let wait: i64 = header(&refused, "retry-after").and_then(|v| v.parse().ok()).expect("a Retry-After in seconds");
        assert!((1..=WINDOW_MS / 1000).contains(&wait), "{wait}");

        // Another visitor is not held back by this one.
        let other = app.chat().await;
        assert_eq!(upload(&app, &other.visitor_token, None).await.status, 201);

        let app = spawn_with_files(app.stop().await, &dir).await;
        let again = upload(&app, &chat.visitor_token, None).await;
        assert_eq!(again.status, 429, "{backend:?}: the count survives a restart: {}", again.text);
        drop(app);
        let _ = std::fs::remove_dir_all(&dir);
    }
}

#[tokio::test]
async fn widget_uploads_answer_cors_for_allowed_origins_only() {
    for backend in backends() {
        let dir = std::env::temp_dir().join(format!("kituo-files-{:016x}", rand::random::<u64>()));
        let app = spawn_with_files(TestDb::new(backend).await, &dir).await;
        // The visitor opens the chat first: the socket itself is held to the origins set below.
        let chat = app.chat().await;
        let boss = admin(&app, "Upload Boss").await;
        boss.put("/api/admin/settings", json!({"allowed_origins": [SHOP]})).await.ok();

        let preflight = |origin: &'static str| {
            let addr = app.addr;
            async move {
                let headers = [
                    ("origin", origin),
                    ("access-control-request-method", "POST"),
                    ("access-control-request-headers", "x-visitor-token"),
                ];
                http_bytes(addr, "OPTIONS", "/api/widget/attachments", &headers, None).await
            }
        };
        let ok = preflight(SHOP).await;
        assert_eq!(ok.status, 204, "{backend:?}: {}", ok.text);
        assert_eq!(header(&ok, "access-control-allow-origin"), Some(SHOP));
        assert!(header(&ok, "access-control-allow-methods").is_some_and(|m| m.contains("POST")));
        assert!(header(&ok, "access-control-allow-headers").is_some_and(|h| h.contains("x-visitor-token")));
        assert_eq!(header(&ok, "access-control-allow-credentials"), None);

        let evil = preflight("https://evil.example").await;
        assert_eq!(evil.status, 403);
        assert_eq!(header(&evil, "access-control-allow-origin"), None);

        let from_shop = upload(&app, &chat.visitor_token, Some(SHOP)).await;
        assert_eq!(from_shop.status, 201, "{}", from_shop.text);
        assert_eq!(header(&from_shop, "access-control-allow-origin"), Some(SHOP));
        let from_evil = upload(&app, &chat.visitor_token, Some("https://evil.example")).await;
        assert_eq!(header(&from_evil, "access-control-allow-origin"), None, "the browser will not show it the answer");
        drop(app);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
