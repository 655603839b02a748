//! Files on Discord, on SQLite and PostgreSQL: a customer's attachment is downloaded from the
//! (fake) CDN and kept like a widget upload, so the agent API lists it and serves the same
//! bytes; a file too large or of a refused type is only a note line; an agent's file goes back
//! as a multipart upload.

use super::fake::{FakeDiscord, User};
use super::{amina, conversation, start_with};
use crate::helpers::{TestApp, agent, backends, http_bytes};
use serde_json::{Value, json};

/// A valid 1×1 PNG.
const PNG: &[u8] = b"\x89\x50\x4e\x47\x0d\x0a\x1a\x0a\x00\x00\x00\x0d\x49\x48\x44\x52\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00\x90\x77\x53\xde\x00\x00\x00\x0c\x49\x44\x41\x54\x78\x9c\x63\xf8\xcf\xc0\x00\x00\x03\x01\x01\x00\xc9\xfe\x92\xef\x00\x00\x00\x00\x49\x45\x4e\x44\xae\x42\x60\x82";
const PDF: &[u8] = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n";
const LIMIT: usize = 4096;

/// A temporary attachments folder, removed with the test.
struct Folder(std::path::PathBuf);

impl Folder {
    fn new() -> Folder {
        Folder(std::env::temp_dir().join(format!("kituo-discord-files-{:016x}", rand::random::<u64>())))
    }
}

impl Drop for Folder {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The customer's message whose text contains `needle`, once the agent API shows it.
async fn message_with(staff: &crate::helpers::Staff, id: &str, needle: &str) -> Value {
    for _ in 0..800 {
        let c = staff.conversation(id).await;
        let found = c["messages"].as_array().and_then(|ms| {
            ms.iter().find(|m| m["author"] == "customer" && m["text"].as_str().unwrap_or("").contains(needle)).cloned()
        });
        if let Some(m) = found {
            return m;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("no customer message containing {needle:?} in {}", staff.conversation(id).await);
}

/// `user`'s DM `text`, once answered: (DM channel, conversation id).
pub(super) async fn dm_answered(app: &TestApp, fake: &FakeDiscord, user: &User, text: &str) -> (u64, String) {
    fake.dm(user, text);
    let dm = fake.dm_channel(user);
    fake.posts(dm, 1).await;
    (dm, conversation(app, &format!("dm:{}", user.id)).await)
}

#[tokio::test]
async fn discord_attachments_are_kept_like_uploads_and_agent_files_are_uploaded_back() {
    for backend in backends() {
        let folder = Folder::new();
        let dir = folder.0.clone();
        let fake = FakeDiscord::start().await;
        let app = start_with(backend, &fake, move |args| {
            args.max_upload_bytes = LIMIT;
            args.attachments_dir = Some(dir.clone());
        })
        .await;
        let neema = agent(&app, "Neema Said").await;
        let amina = amina();
        let (dm, id) = dm_answered(&app, &fake, &amina, "Hello").await;

        // A photo of the damage: downloaded, kept, shown to the agent with the same bytes.
        fake.send_file(dm, &amina, "My parcel arrived broken", ("damage.png", PNG), PNG.len(), "image/png");
        let m = message_with(&neema, &id, "My parcel arrived broken").await;
        let files = m["attachments"].as_array().unwrap_or_else(|| panic!("{backend:?}: no attachments on {m}"));
        assert_eq!(files.len(), 1, "{backend:?}: {m}");
        assert_eq!(files[0]["name"], "damage.png", "{backend:?}");
        assert_eq!(files[0]["content_type"], "image/png", "{backend:?}");
        assert_eq!(files[0]["size"], PNG.len(), "{backend:?}");
        let url = files[0]["url"].as_str().unwrap().to_string();
        let headers = neema.auth_headers(false);
        let h: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let got = http_bytes(app.addr, "GET", &url, &h, None).await;
        assert_eq!(got.status, 200, "{backend:?}: {}", got.text);
        assert_eq!(got.headers["content-type"], "image/png", "{backend:?}");
        assert_eq!(got.text, String::from_utf8_lossy(PNG), "{backend:?}: the same bytes");

        // Too large (by Discord's word: not even downloaded) and a refused type: note lines.
        fake.send_file(dm, &amina, "the video", ("unboxing.png", PNG), LIMIT + 1, "image/png");
        let big = message_with(&neema, &id, "the video").await;
        assert!(big["attachments"].as_array().is_none_or(Vec::is_empty), "{backend:?}: {big}");
        let text = big["text"].as_str().unwrap();
        assert!(text.contains(&format!("unboxing.png (not kept: larger than {LIMIT} bytes)")), "{backend:?}: {text}");
        fake.send_file(dm, &amina, "my notes", ("notes.png", b"just text, named .png"), 21, "image/png");
        let notes = message_with(&neema, &id, "my notes").await;
        assert!(notes["attachments"].as_array().is_none_or(Vec::is_empty), "{backend:?}: {notes}");
        let text = notes["text"].as_str().unwrap();
        assert!(text.contains("notes.png (not kept: not an image or PDF)"), "{backend:?}: {text}");

        // The agent answers with a PDF: one post carrying the text and the file's bytes.
        let path = format!("/api/widget/attachments?conversation_id={id}&name=return-label.pdf");
        let headers = neema.auth_headers(true);
        let h: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let up = http_bytes(app.addr, "POST", &path, &h, Some(("application/pdf", PDF.to_vec()))).await;
        assert_eq!(up.status, 201, "{backend:?}: {}", up.text);
        let file = up.json["attachment"]["id"].as_str().unwrap().to_string();
        let before = fake.posts_in(dm).len();
        neema
            .post(
                &format!("/api/conversations/{id}/messages"),
                json!({"text": "Here is your return label", "attachments": [file]}),
            )
            .await
            .ok();
        let posts = fake.posts(dm, before + 1).await;
        let reply = posts.iter().find(|p| p.content.contains("Here is your return label")).expect("the reply");
        assert_eq!(reply.files.len(), 1, "{backend:?}: {reply:?}");
        assert_eq!(reply.files[0].name, "return-label.pdf", "{backend:?}");
        assert_eq!(reply.files[0].content_type, "application/pdf", "{backend:?}");
        assert_eq!(reply.files[0].bytes, PDF, "{backend:?}: the same bytes");
        assert!(fake.unexpected().is_empty(), "{backend:?}: {:?}", fake.unexpected());
    }
}
