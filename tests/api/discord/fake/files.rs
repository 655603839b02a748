//! The fake's files and buttons: attachments served from a CDN route, multipart message posts
//! (`payload_json` + `files[n]`, as serenity sends uploads) recorded with their bytes, and
//! button clicks sent as INTERACTION_CREATE with the bot's responses recorded.

use super::{FakeDiscord, GUILD, St, User, bot_user, message_json, next_id};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// A file uploaded with a message.
#[derive(Debug, Clone)]
pub struct Uploaded {
    pub name: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

impl FakeDiscord {
    /// Serves `bytes` at a CDN URL of the fake; returns the URL.
    pub fn host(&self, name: &str, bytes: &[u8]) -> String {
        self.inner().hosted.insert(name.to_string(), bytes.to_vec());
        format!("http://{}/cdn/{name}", self.addr)
    }

    /// A message carrying one file served by the fake, announced with `declared_size` (Discord
    /// states each attachment's size) and `content_type`; returns the message id.
    pub fn send_file(
        &self,
        channel: u64,
        user: &User,
        text: &str,
        (name, bytes): (&str, &[u8]),
        declared_size: usize,
        content_type: &str,
    ) -> u64 {
        let url = self.host(name, bytes);
        let id = next_id(&mut self.inner());
        let guild = self.inner().guild_channels.contains(&channel).then_some(GUILD);
        let file = json!({"id": (id + 500).to_string(), "filename": name, "size": declared_size, "url": url,
                          "proxy_url": url, "content_type": content_type});
        self.dispatch("MESSAGE_CREATE", message_json(id, channel, guild, &user.json(), text, vec![file]));
        id
    }

    /// `user` clicks the button `custom_id` of the bot's message `message_id` in a DM channel;
    /// returns the interaction id.
    pub fn click(&self, channel: u64, user: &User, message_id: u64, custom_id: &str) -> String {
        let (id, message) = {
            let mut inner = self.inner();
            let id = next_id(&mut inner);
            let posted = inner.posts.iter().find(|p| p.id == message_id).cloned().expect("a message the bot posted");
            let mut message = message_json(posted.id, channel, None, &bot_user().json(), &posted.content, vec![]);
            message["components"] = posted.components.clone();
            (id, message)
        };
        let interaction = json!({
            "id": id.to_string(), "application_id": "9001", "type": 3, "token": format!("itoken-{id}"), "version": 1,
            "data": {"custom_id": custom_id, "component_type": 2},
            "channel_id": channel.to_string(), "user": user.json(), "message": message,
            "locale": "en-US", "entitlements": [], "attachment_size_limit": 10_485_760,
        });
        if let Err(e) = serde_json::from_value::<serenity::all::Interaction>(interaction.clone()) {
            panic!("the fake's INTERACTION_CREATE would be dropped by serenity: {e}\n{interaction:#}");
        }
        self.dispatch("INTERACTION_CREATE", interaction);
        id.to_string()
    }

    /// The bot's responses to interactions: (interaction id, body).
    pub fn callbacks(&self) -> Vec<(String, Value)> {
        self.inner().callbacks.clone()
    }
}

/// A JSON body, or a multipart one: its `payload_json` and its files.
pub(super) fn parse_body(headers: &HeaderMap, raw: &[u8]) -> Option<(Value, Vec<Uploaded>)> {
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let Some(boundary) = content_type.strip_prefix("multipart/form-data; boundary=") else {
        return Some((serde_json::from_slice(raw).ok()?, Vec::new()));
    };
    let delimiter = format!("--{boundary}");
    let mut payload = None;
    let mut files = Vec::new();
    for part in split(raw, delimiter.as_bytes()).into_iter().skip(1) {
        if part.starts_with(b"--") {
            break;
        }
        let part = part.strip_prefix(b"\r\n").unwrap_or(part);
        let part = part.strip_suffix(b"\r\n").unwrap_or(part);
        let end = find(part, b"\r\n\r\n")?;
        let head = String::from_utf8_lossy(&part[..end]).to_string();
        let body = &part[end + 4..];
        let field = |key: &str| {
            let start = head.find(&format!("{key}=\""))? + key.len() + 2;
            head[start..].split('"').next().map(str::to_string)
        };
        let part_type = head
            .lines()
            .find_map(|l| l.to_ascii_lowercase().starts_with("content-type:").then(|| l[13..].trim().to_string()))
            .unwrap_or_default();
        match field("name").as_deref() {
            Some("payload_json") => payload = Some(serde_json::from_slice(body).ok()?),
            Some(n) if n.starts_with("files[") => files.push(Uploaded {
                name: field("filename").unwrap_or_default(),
                content_type: part_type,
                bytes: body.to_vec(),
            }),
            _ => {}
        }
    }
    Some((payload.unwrap_or_else(|| json!({})), files))
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn split<'a>(mut raw: &'a [u8], delimiter: &[u8]) -> Vec<&'a [u8]> {
    let mut parts = Vec::new();
    while let Some(i) = find(raw, delimiter) {
        parts.push(&raw[..i]);
        raw = &raw[i + delimiter.len()..];
    }
    parts.push(raw);
    parts
}

pub(super) async fn hosted(State(s): State<St>, Path(name): Path<String>) -> Response {
    match s.inner.lock().unwrap().hosted.get(&name) {
        Some(bytes) => bytes.clone().into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

pub(super) async fn callback(
    State(s): State<St>,
    Path((id, _token)): Path<(String, String)>,
    body: String,
) -> Response {
    let body: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    let mut inner = s.inner.lock().unwrap();
    inner.callbacks.push((id, body));
    StatusCode::NO_CONTENT.into_response()
}
