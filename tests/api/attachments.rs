//! Attachments on SQLite and PostgreSQL: a widget upload becomes a customer message the agent
//! sees with its file; the type comes from the bytes (a text file named .png is refused), the
//! size limit answers 413, only the owning visitor and staff can read a file, with safe headers;
//! agents attach uploaded files to replies; bad uploads leave the widget socket working.

use crate::helpers::{
    Backend, Chat, Staff, TestApp, TestDb, agent, backends, http_bytes, next_message, queued_customer, serve_args,
    spawn_on,
};
use serde_json::{Value, json};

/// A valid 1×1 red PNG.
pub const PNG: &[u8] = b"\x89\x50\x4e\x47\x0d\x0a\x1a\x0a\x00\x00\x00\x0d\x49\x48\x44\x52\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00\x90\x77\x53\xde\x00\x00\x00\x0c\x49\x44\x41\x54\x78\x9c\x63\xf8\xcf\xc0\x00\x00\x03\x01\x01\x00\xc9\xfe\x92\xef\x00\x00\x00\x00\x49\x45\x4e\x44\xae\x42\x60\x82";
const PDF: &[u8] = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n";
const LIMIT: usize = 4096;

/// The app with a small upload limit and its files in a folder removed with the test.
struct FilesApp {
    app: TestApp,
    dir: std::path::PathBuf,
}

impl Drop for FilesApp {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

async fn spawn_files_app(backend: Backend) -> FilesApp {
    let dir = std::env::temp_dir().join(format!("kituo-files-{:016x}", rand::random::<u64>()));
    let db = TestDb::new(backend).await;
    let files = dir.clone();
    let app = spawn_on(db, move |url| {
        let mut args = serve_args(url);
        args.max_upload_bytes = LIMIT;
        args.attachments_dir = Some(files.clone());
        args
    })
    .await;
    FilesApp { app, dir }
}

async fn upload_as_visitor(app: &TestApp, token: &str, name: &str, bytes: &[u8]) -> crate::helpers::Resp {
    let path = format!("/api/widget/attachments?name={name}");
    http_bytes(
        app.addr,
        "POST",
        &path,
        &[("x-visitor-token", token)],
        Some(("application/octet-stream", bytes.to_vec())),
    )
    .await
}

fn staff_headers(staff: &Staff, csrf: bool) -> Vec<(String, String)> {
    staff.auth_headers(csrf)
}

async fn get_as(app: &TestApp, path: &str, headers: &[(String, String)]) -> crate::helpers::Resp {
    let h: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    http_bytes(app.addr, "GET", path, &h, None).await
}

fn header<'a>(r: &'a crate::helpers::Resp, name: &str) -> &'a str {
    r.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
}

/// The message in the conversation JSON carrying `attachment_id`.
fn carrying(conversation: &Value, attachment_id: &str) -> Option<Value> {
    conversation["messages"].as_array()?.iter().find(|m| m["attachments"][0]["id"] == attachment_id).cloned()
}

#[tokio::test]
async fn a_widget_upload_reaches_the_agent_and_only_its_owner_can_read_it() {
    for backend in backends() {
        let files = spawn_files_app(backend).await;
        let app = &files.app;
        let neema = agent(app, "Neema Said").await;
        let mut chat = queued_customer(app).await;

        let up = upload_as_visitor(app, &chat.visitor_token, "../holiday%20photo.png", PNG).await;
        assert_eq!(up.status, 201, "{backend:?}: {}", up.text);
        let att = up.json["attachment"].clone();
        let id = att["id"].as_str().expect("an attachment id").to_string();
        assert_eq!(att["content_type"], "image/png");
        assert_eq!(att["name"], "holiday photo.png", "the path part is dropped");
        assert_eq!(att["size"], PNG.len());
        assert_eq!(att["url"], format!("/api/attachments/{id}"));

        // The widget sees its own message with the file.
        let frame = next_message(&mut chat, "the upload's message", |f| f["author"] == "customer").await;
        assert_eq!(frame["attachments"][0]["id"], id.as_str(), "{frame}");
        assert_eq!(frame["id"], up.json["message"]["id"]);

        // The agent's conversation JSON carries it.
        let c = neema.conversation(&chat.conversation_id).await;
        let m = carrying(&c, &id).unwrap_or_else(|| panic!("{backend:?}: no message carries the file: {c}"));
        assert_eq!(m["author"], "customer");
        assert_eq!(m["attachments"][0]["content_type"], "image/png");

        // The owner reads the bytes back, with safe headers.
        let own = get_as(app, &format!("/api/attachments/{id}?visitor_token={}", chat.visitor_token), &[]).await;
        assert_eq!(own.status, 200, "{}", own.text);
        assert_eq!(own.text, String::from_utf8_lossy(PNG), "the same bytes come back");
        assert_eq!(header(&own, "content-type"), "image/png");
        assert_eq!(header(&own, "x-content-type-options"), "nosniff");
        assert!(header(&own, "cache-control").starts_with("private"), "{:?}", own.headers);
        assert_eq!(header(&own, "content-disposition"), "inline; filename=\"holiday photo.png\"");
        assert!(header(&own, "content-security-policy").contains("sandbox"));

        // Staff read it too.
        let by_staff = get_as(app, &format!("/api/attachments/{id}"), &staff_headers(&neema, false)).await;
        assert_eq!(by_staff.status, 200, "{}", by_staff.text);
        assert_eq!(by_staff.text, own.text);

        // Another visitor or a wrong token: 404, as if the file did not exist; nobody: 401.
        let other = Chat::connect(app.addr, None).await;
        let path = format!("/api/attachments/{id}");
        let theirs = get_as(app, &path, &[("x-visitor-token".into(), other.visitor_token.clone())]).await;
        assert_eq!(theirs.status, 404, "another visitor: {}", theirs.text);
        assert_eq!(get_as(app, &path, &[("x-visitor-token".into(), "nope".into())]).await.status, 404);
        assert_eq!(get_as(app, &path, &[]).await.status, 401, "no credential at all");
        assert_eq!(get_as(app, "/api/attachments/doesnotexist", &staff_headers(&neema, false)).await.status, 404);
        // An unknown token cannot upload (and starts no visitor).
        assert_eq!(upload_as_visitor(app, "not-a-token", "a.png", PNG).await.status, 401);
    }
}

#[tokio::test]
async fn uploads_are_checked_by_content_and_size_and_the_socket_survives() {
    for backend in backends() {
        let files = spawn_files_app(backend).await;
        let app = &files.app;
        let mut chat = app.chat().await;

        // Text named like an image: refused by content.
        let fake = upload_as_visitor(app, &chat.visitor_token, "cat.png", b"just some text, honestly").await;
        assert_eq!(fake.status, 415, "{backend:?}: {}", fake.text);
        assert_eq!(fake.code(), "unsupported_type");
        // An SVG (script-capable) is not an accepted image either.
        let svg = upload_as_visitor(app, &chat.visitor_token, "x.svg", b"<svg onload='alert(1)'/>").await;
        assert_eq!(svg.status, 415);
        // Over the limit: 413 with a JSON error.
        let mut big = PNG.to_vec();
        big.resize(LIMIT + 1, 0);
        let too_big = upload_as_visitor(app, &chat.visitor_token, "big.png", &big).await;
        assert_eq!(too_big.status, 413, "{}", too_big.text);
        assert_eq!(too_big.code(), "too_large");
        assert!(too_big.json["error"]["message"].as_str().unwrap_or("").contains(&LIMIT.to_string()));
        // Empty body.
        assert_eq!(upload_as_visitor(app, &chat.visitor_token, "e.png", b"").await.status, 422);
        // Exactly at the limit is fine, and a PDF is accepted.
        let mut pdf = PDF.to_vec();
        pdf.resize(LIMIT, b' ');
        let ok = upload_as_visitor(app, &chat.visitor_token, "invoice.pdf", &pdf).await;
        assert_eq!(ok.status, 201, "{}", ok.text);
        assert_eq!(ok.json["attachment"]["content_type"], "application/pdf");

        // The socket still works after all that, and nothing refused became a message.
        let (ack, _) = chat.say("hello").await;
        assert!(ack["seq"].as_i64().is_some(), "the socket still takes messages: {ack}");
        let id = ok.json["attachment"]["id"].as_str().unwrap().to_string();
        let pdf_get =
            get_as(app, &format!("/api/attachments/{id}"), &[("x-visitor-token".into(), chat.visitor_token.clone())])
                .await;
        assert_eq!(pdf_get.status, 200);
        assert_eq!(header(&pdf_get, "content-type"), "application/pdf");
        assert!(header(&pdf_get, "content-disposition").starts_with("attachment;"), "PDFs download");
        let stored = std::fs::read_dir(&files.dir).expect("the folder exists").count();
        assert_eq!(stored, 1, "only the accepted file is on disk ({backend:?})");
        // Only the accepted file became a message.
        let staff = agent(app, "Upload Checker").await;
        let c = staff.conversation(&chat.conversation_id).await;
        let with_files: Vec<&Value> =
            c["messages"].as_array().unwrap().iter().filter(|m| m["attachments"].is_array()).collect();
        assert_eq!(with_files.len(), 1, "{backend:?}: {c}");
        assert_eq!(with_files[0]["attachments"][0]["id"], id.as_str());
    }
}

#[tokio::test]
async fn agents_attach_uploaded_files_to_replies() {
    for backend in backends() {
        let files = spawn_files_app(backend).await;
        let app = &files.app;
        let neema = agent(app, "Neema Said").await;
        let mut chat = queued_customer(app).await;
        let id = chat.conversation_id.clone();

        let headers = staff_headers(&neema, true);
        let h: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let path = format!("/api/widget/attachments?conversation_id={id}&name=label.pdf");
        let up = http_bytes(app.addr, "POST", &path, &h, Some(("application/pdf", PDF.to_vec()))).await;
        assert_eq!(up.status, 201, "{backend:?}: {}", up.text);
        assert!(up.json["message"].is_null(), "a staff upload alone sends nothing");
        let file = up.json["attachment"]["id"].as_str().unwrap().to_string();
        // Staff must name a conversation that exists.
        let nowhere = http_bytes(
            app.addr,
            "POST",
            "/api/widget/attachments?conversation_id=missing",
            &h,
            Some(("application/pdf", PDF.to_vec())),
        )
        .await;
        assert_eq!(nowhere.status, 404);

        let reply = neema
            .post(
                &format!("/api/conversations/{id}/messages"),
                json!({"text": "Your return label", "attachments": [file]}),
            )
            .await;
        let m = reply.ok()["message"].clone();
        assert_eq!(m["attachments"][0]["id"], file.as_str(), "{m}");
        let frame = next_message(&mut chat, "the agent's reply", |f| f["author"] == "agent").await;
        assert_eq!(frame["attachments"][0]["name"], "label.pdf", "{frame}");
        // The visitor may read the file the agent sent into their conversation.
        let got =
            get_as(app, &format!("/api/attachments/{file}"), &[("x-visitor-token".into(), chat.visitor_token.clone())])
                .await;
        assert_eq!(got.status, 200);
        assert!(carrying(&neema.conversation(&id).await, &file).is_some());
    }
}

#[tokio::test]
async fn files_kept_from_a_mail_appear_in_the_same_list() {
    for backend in backends() {
        let files = spawn_files_app(backend).await;
        let app = &files.app;
        let neema = agent(app, "Neema Barua").await;
        let sender = kituo::hub::Sender {
            kind: "email",
            value: "amina@example.co.tz".into(),
            verification: kituo::domain::Verification::EmailChannel,
            name: Some("Amina".into()),
        };
        let hub = &app.hub;
        let (_, id) =
            hub.open_conversation(kituo::domain::Channel::Email, &sender, kituo::hub::Thread::New, "{}").await.unwrap();
        let inbound = kituo::hub::Inbound {
            text: "Scan of my receipt attached",
            client_msg_id: None,
            external_id: Some("email:receipt@example.co.tz"),
            channel_meta: None,
        };
        let ack = hub.receive(&id, inbound).await.unwrap();
        let original = kituo::store::EmailOriginal {
            message_id: ack.id.clone(),
            rfc_message_id: "receipt@example.co.tz".into(),
            sender: "amina@example.co.tz".into(),
            subject: "Receipt".into(),
            body: "Scan of my receipt attached".into(),
            from_html: false,
            attachments: Vec::new(),
        };
        let kept = kituo::store::NewAttachment {
            name: "receipt.pdf",
            content_type: "application/pdf",
            size: PDF.len() as i64,
            content: Some(PDF),
        };
        // Over the email channel's cap: listed with the mail, not kept, so not offered here.
        let dropped = kituo::store::NewAttachment {
            name: "huge.mov",
            content_type: "video/quicktime",
            size: 1 << 30,
            content: None,
        };
        hub.store().save_email_original(&original, &[kept, dropped]).await.unwrap();

        let c = neema.conversation(&id).await;
        let m = c["messages"].as_array().unwrap().iter().find(|m| m["id"] == ack.id.as_str()).cloned();
        let m = m.unwrap_or_else(|| panic!("{backend:?}: message {} not in {c}", ack.id));
        let list = m["attachments"].as_array().unwrap_or_else(|| panic!("{backend:?}: {m}"));
        assert_eq!(list.len(), 1, "{m}");
        assert_eq!(list[0]["name"], "receipt.pdf");
        let url = list[0]["url"].as_str().unwrap();
        assert!(url.starts_with("/api/email/attachments/"), "{url}");
        let got = get_as(app, url, &staff_headers(&neema, false)).await;
        assert_eq!(got.status, 200, "{}", got.text);
        assert_eq!(got.text, String::from_utf8_lossy(PDF));
    }
}
