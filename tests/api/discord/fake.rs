//! A Discord-protocol server on loopback: the REST routes the bot uses and the gateway
//! WebSocket (Hello, Identify → Ready, Heartbeat → ACK, Resume → replay + Resumed, dispatches),
//! recording what the bot did. Every payload it sends is first parsed with serenity's own types,
//! because serenity silently drops an event it cannot parse: a test would then just time out.

use axum::extract::ws::{Message as WsMessage, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use axum::serve::ListenerExt;
use axum::{Json, Router};
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::watch;

mod files;
pub use files::Uploaded;

pub const GUILD: u64 = 100;
pub const SUPPORT: u64 = 200;
pub const STAFF: u64 = 300;
/// A channel of the server that has nothing to do with support.
pub const LOUNGE: u64 = 400;
pub const BOT_ID: u64 = 9_000;
const HEARTBEAT_MS: u64 = 250;
const TIMESTAMP: &str = "2026-03-01T10:00:00.000000+00:00";
const WAIT: Duration = Duration::from_secs(20);

/// A Discord account writing to the bot.
#[derive(Debug, Clone)]
pub struct User {
    pub id: u64,
    pub name: &'static str,
    pub bot: bool,
    pub avatar: Option<&'static str>,
}

impl User {
    pub fn human(id: u64, name: &'static str) -> User {
        User { id, name, bot: false, avatar: Some("a1b2c3d4e5f60718293a4b5c6d7e8f90") }
    }

    fn json(&self) -> Value {
        json!({"id": self.id.to_string(), "username": self.name, "global_name": null, "avatar": self.avatar, "bot": self.bot})
    }
}

/// A message the bot posted through REST.
#[derive(Debug, Clone)]
pub struct Posted {
    pub channel_id: u64,
    pub id: u64,
    pub content: String,
    pub nonce: Option<String>,
    /// Files uploaded with the message (multipart).
    pub files: Vec<Uploaded>,
    /// The message's components (buttons), as sent.
    pub components: Value,
}

#[derive(Debug, Clone)]
pub struct CreatedThread {
    pub parent_id: u64,
    pub id: u64,
    pub name: String,
}

#[derive(Default)]
struct Inner {
    next_id: u64,
    seq: u64,
    /// Every dispatch sent (or to send) to the bot, for replay on resume.
    events: Vec<(u64, Value)>,
    session_id: String,
    /// How many already-seen events a resume replays again (Discord delivers at least once).
    replay_overlap: u64,
    gateway_requests: u32,
    identifies: u32,
    identify_intents: Option<u64>,
    resumes: u32,
    heartbeats: u32,
    posts: Vec<Posted>,
    /// (channel, nonce) of every post, for `enforce_nonce`.
    nonces: HashMap<(u64, String), usize>,
    typing: Vec<u64>,
    threads: Vec<CreatedThread>,
    dm_channels: HashMap<u64, u64>,
    /// Channels that belong to the server (the rest are DMs).
    guild_channels: HashSet<u64>,
    fail_posts: u32,
    /// Close every Identify with 4004 (authentication failed), as Discord does for a bad token.
    reject_token: bool,
    unexpected: Vec<String>,
    /// Files served at `/cdn/{name}` (Discord's CDN for attachments).
    hosted: HashMap<String, Vec<u8>>,
    /// Interaction responses: (interaction id, body).
    callbacks: Vec<(String, Value)>,
}

struct Shared {
    inner: Mutex<Inner>,
    /// The newest event's seq: wakes gateway connections.
    seq_tx: watch::Sender<u64>,
    /// Bumped to close every gateway connection.
    kill_tx: watch::Sender<u64>,
    addr: SocketAddr,
}

type St = Arc<Shared>;

pub struct FakeDiscord {
    pub addr: SocketAddr,
    shared: St,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeDiscord {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeDiscord {
    pub async fn start() -> FakeDiscord {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("loopback port");
        let addr = listener.local_addr().expect("bound");
        let inner = Inner {
            next_id: 1_000_000,
            session_id: "fake-session-0".into(),
            guild_channels: [SUPPORT, STAFF, LOUNGE].into_iter().collect(),
            ..Inner::default()
        };
        let shared = Arc::new(Shared {
            inner: Mutex::new(inner),
            seq_tx: watch::channel(0).0,
            kill_tx: watch::channel(0).0,
            addr,
        });
        let router = Router::new()
            .route("/api/v10/gateway", get(gateway_info))
            .route("/gateway", get(gateway_socket))
            .route("/api/v10/channels/{id}/messages", post(create_message))
            .route("/api/v10/channels/{id}/messages/{mid}/threads", post(create_thread))
            .route("/api/v10/channels/{id}/typing", post(typing))
            .route("/cdn/{name}", get(files::hosted))
            .route("/api/v10/interactions/{id}/{token}/callback", post(files::callback))
            .fallback(any(unexpected))
            .with_state(shared.clone());
        let listener = listener.tap_io(|tcp| {
            let _ = tcp.set_nodelay(true);
        });
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        FakeDiscord { addr, shared, task }
    }

    /// What KITUO_DISCORD_API_BASE is set to.
    pub fn api_base(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn inner(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.shared.inner.lock().unwrap()
    }

    /// A user's message in their DM with the bot; returns the message id.
    pub fn dm(&self, user: &User, text: &str) -> u64 {
        let channel = {
            let mut inner = self.inner();
            match inner.dm_channels.get(&user.id) {
                Some(c) => *c,
                None => {
                    let c = next_id(&mut inner);
                    inner.dm_channels.insert(user.id, c);
                    c
                }
            }
        };
        self.write(channel, user, text, &[])
    }

    pub fn dm_channel(&self, user: &User) -> u64 {
        *self.inner().dm_channels.get(&user.id).expect("the user wrote a DM first")
    }

    /// A user's message in a channel (or thread) of the server; returns the message id.
    pub fn say(&self, channel: u64, user: &User, text: &str) -> u64 {
        self.write(channel, user, text, &[])
    }

    /// A message with attachments (file name, URL).
    pub fn write(&self, channel: u64, user: &User, text: &str, attachments: &[(&str, &str)]) -> u64 {
        let id = next_id(&mut self.inner());
        let guild = self.inner().guild_channels.contains(&channel).then_some(GUILD);
        let files: Vec<Value> = attachments
            .iter()
            .enumerate()
            .map(|(i, (name, url))| {
                json!({"id": (id + 500 + i as u64).to_string(), "filename": name, "size": 1234, "url": url, "proxy_url": url})
            })
            .collect();
        self.dispatch("MESSAGE_CREATE", message_json(id, channel, guild, &user.json(), text, files));
        id
    }

    /// Sends (or queues, while disconnected) a dispatch to the bot.
    pub fn dispatch(&self, t: &str, d: Value) {
        dispatch(&self.shared, t, d);
    }

    /// Closes the gateway connection (close code 4000) as Discord does when it restarts a node.
    pub fn drop_gateway(&self) {
        self.shared.kill_tx.send_modify(|k| *k += 1);
    }

    pub fn set_replay_overlap(&self, n: u64) {
        self.inner().replay_overlap = n;
    }

    /// The next `n` message posts fail with a 500.
    pub fn fail_next_posts(&self, n: u32) {
        self.inner().fail_posts = n;
    }

    pub fn reject_token(&self) {
        self.inner().reject_token = true;
    }

    pub fn gateway_requests(&self) -> u32 {
        self.inner().gateway_requests
    }
    pub fn identifies(&self) -> u32 {
        self.inner().identifies
    }
    pub fn identify_intents(&self) -> Option<u64> {
        self.inner().identify_intents
    }
    pub fn resumes(&self) -> u32 {
        self.inner().resumes
    }
    pub fn heartbeats(&self) -> u32 {
        self.inner().heartbeats
    }
    pub fn typing_in(&self, channel: u64) -> usize {
        self.inner().typing.iter().filter(|c| **c == channel).count()
    }
    pub fn threads(&self) -> Vec<CreatedThread> {
        self.inner().threads.clone()
    }
    pub fn posts_in(&self, channel: u64) -> Vec<Posted> {
        self.inner().posts.iter().filter(|p| p.channel_id == channel).cloned().collect()
    }
    pub fn all_posts(&self) -> Vec<Posted> {
        self.inner().posts.clone()
    }
    /// Requests to routes the fake does not serve (the bot should make none).
    pub fn unexpected(&self) -> Vec<String> {
        self.inner().unexpected.clone()
    }

    /// Waits until `check` holds, polling; panics with `what` after a timeout.
    pub async fn until<T>(&self, what: &str, mut check: impl FnMut(&FakeDiscord) -> Option<T>) -> T {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            if let Some(v) = check(self) {
                return v;
            }
            if tokio::time::Instant::now() > deadline {
                panic!("timed out waiting for {what}; posts so far: {:#?}", self.all_posts());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// The first `n` posts in `channel`, once there are at least that many.
    pub async fn posts(&self, channel: u64, n: usize) -> Vec<Posted> {
        self.until(&format!("{n} posts in channel {channel}"), |f| {
            let p = f.posts_in(channel);
            (p.len() >= n).then_some(p)
        })
        .await
    }

    /// Waits until the bot has identified `n` times in total.
    pub async fn identified(&self, n: u32) {
        self.until(&format!("identify #{n}"), |f| (f.identifies() >= n).then_some(())).await;
    }
}

fn next_id(inner: &mut Inner) -> u64 {
    inner.next_id += 1;
    inner.next_id
}

fn dispatch(shared: &Shared, t: &str, d: Value) {
    if t == "MESSAGE_CREATE" {
        // The same check serenity makes; a failure here would be a silently dropped event there.
        if let Err(e) = serde_json::from_value::<serenity::all::Message>(d.clone()) {
            panic!("the fake's MESSAGE_CREATE would be dropped by serenity: {e}\n{d:#}");
        }
    }
    let seq = {
        let mut inner = shared.inner.lock().unwrap();
        inner.seq += 1;
        let seq = inner.seq;
        inner.events.push((seq, json!({"op": 0, "t": t, "s": seq, "d": d})));
        seq
    };
    shared.seq_tx.send_replace(seq);
}

pub fn message_json(
    id: u64,
    channel: u64,
    guild: Option<u64>,
    author: &Value,
    content: &str,
    attachments: Vec<Value>,
) -> Value {
    let mut m = json!({
        "id": id.to_string(), "channel_id": channel.to_string(), "author": author, "content": content,
        "timestamp": TIMESTAMP, "edited_timestamp": null, "tts": false, "mention_everyone": false,
        "mentions": [], "mention_roles": [], "attachments": attachments, "embeds": [], "pinned": false, "type": 0,
    });
    if let Some(g) = guild {
        m["guild_id"] = g.to_string().into();
    }
    m
}

pub fn bot_user() -> User {
    User { id: BOT_ID, name: "Kituo", bot: true, avatar: None }
}

fn error(status: StatusCode, code: u64, message: &str) -> Response {
    (status, Json(json!({"code": code, "message": message}))).into_response()
}

async fn gateway_info(State(s): State<St>) -> Json<Value> {
    s.inner.lock().unwrap().gateway_requests += 1;
    Json(json!({"url": format!("ws://{}/gateway", s.addr)}))
}

async fn create_message(
    State(s): State<St>,
    Path(channel): Path<u64>,
    headers: axum::http::HeaderMap,
    raw: axum::body::Bytes,
) -> Response {
    let Some((body, uploaded)) = files::parse_body(&headers, &raw) else {
        return error(StatusCode::BAD_REQUEST, 50_109, "The request body contains invalid JSON.");
    };
    let content = body["content"].as_str().unwrap_or("").to_string();
    let nonce = body["nonce"].as_str().map(str::to_string);
    let message = {
        let mut inner = s.inner.lock().unwrap();
        if inner.fail_posts > 0 {
            inner.fail_posts -= 1;
            return error(StatusCode::INTERNAL_SERVER_ERROR, 0, "fake outage");
        }
        if content.chars().map(char::len_utf16).sum::<usize>() > 2_000 {
            return error(StatusCode::BAD_REQUEST, 50_035, "Invalid Form Body: content too long");
        }
        let guild = inner.guild_channels.contains(&channel).then_some(GUILD);
        let enforce = body["enforce_nonce"].as_bool().unwrap_or(false);
        if let (true, Some(n)) = (enforce, &nonce)
            && let Some(&i) = inner.nonces.get(&(channel, n.clone()))
        {
            // Discord returns the message created earlier with this nonce instead of a new one.
            let p = inner.posts[i].clone();
            return Json(message_json(p.id, channel, guild, &bot_user().json(), &p.content, vec![])).into_response();
        }
        let id = next_id(&mut inner);
        if let Some(n) = &nonce {
            let index = inner.posts.len();
            inner.nonces.insert((channel, n.clone()), index);
        }
        let components = body["components"].clone();
        inner.posts.push(Posted {
            channel_id: channel,
            id,
            content: content.clone(),
            nonce,
            files: uploaded,
            components,
        });
        message_json(id, channel, guild, &bot_user().json(), &content, vec![])
    };
    // Discord echoes the bot's own messages over the gateway: the bot must ignore them.
    dispatch(&s, "MESSAGE_CREATE", message.clone());
    Json(message).into_response()
}

async fn create_thread(
    State(s): State<St>,
    Path((channel, message)): Path<(u64, u64)>,
    Json(body): Json<Value>,
) -> Response {
    let name = body["name"].as_str().unwrap_or("").to_string();
    let mut inner = s.inner.lock().unwrap();
    if inner.threads.iter().any(|t| t.id == message) {
        return error(StatusCode::BAD_REQUEST, 160_004, "A thread has already been created for this message");
    }
    // A thread started from a message has the message's id.
    inner.threads.push(CreatedThread { parent_id: channel, id: message, name: name.clone() });
    inner.guild_channels.insert(message);
    let thread = json!({
        "id": message.to_string(), "type": 11, "guild_id": GUILD.to_string(), "parent_id": channel.to_string(),
        "owner_id": BOT_ID.to_string(), "name": name, "message_count": 0, "member_count": 1,
    });
    serde_json::from_value::<serenity::all::GuildChannel>(thread.clone()).expect("a thread serenity can read");
    Json(thread).into_response()
}

async fn typing(State(s): State<St>, Path(channel): Path<u64>) -> StatusCode {
    s.inner.lock().unwrap().typing.push(channel);
    StatusCode::NO_CONTENT
}

async fn unexpected(State(s): State<St>, uri: Uri) -> Response {
    s.inner.lock().unwrap().unexpected.push(uri.to_string());
    error(StatusCode::NOT_FOUND, 0, "the fake does not serve this route")
}

async fn gateway_socket(State(s): State<St>, ws: WebSocketUpgrade) -> Response {
    ws.on_upgrade(move |socket| connection(s, socket))
}

async fn send(socket: &mut WebSocket, frame: &Value) -> bool {
    socket.send(WsMessage::Text(frame.to_string().into())).await.is_ok()
}

/// One gateway connection: Hello, then Identify or Resume, heartbeats, and every dispatch.
async fn connection(s: St, mut socket: WebSocket) {
    let mut kill = s.kill_tx.subscribe();
    let mut seq_rx = s.seq_tx.subscribe();
    if !send(&mut socket, &json!({"op": 10, "d": {"heartbeat_interval": HEARTBEAT_MS}})).await {
        return;
    }
    // The last seq this connection has delivered; None until the session is identified or resumed.
    let mut delivered: Option<u64> = None;
    loop {
        if let Some(upto) = delivered {
            let pending: Vec<(u64, Value)> = {
                let inner = s.inner.lock().unwrap();
                inner.events.iter().filter(|(seq, _)| *seq > upto).cloned().collect()
            };
            for (seq, frame) in pending {
                if !send(&mut socket, &frame).await {
                    return;
                }
                delivered = Some(seq);
            }
        }
        tokio::select! {
            frame = socket.recv() => {
                let text = match frame {
                    Some(Ok(WsMessage::Text(t))) => t.to_string(),
                    Some(Ok(WsMessage::Close(_))) | None | Some(Err(_)) => return,
                    Some(Ok(_)) => continue,
                };
                let Ok(v) = serde_json::from_str::<Value>(&text) else { continue };
                match v["op"].as_u64() {
                    Some(1) => {
                        s.inner.lock().unwrap().heartbeats += 1;
                        if !send(&mut socket, &json!({"op": 11})).await { return; }
                    }
                    Some(2) if s.inner.lock().unwrap().reject_token => {
                        s.inner.lock().unwrap().identifies += 1;
                        let close = axum::extract::ws::CloseFrame { code: 4004, reason: "Authentication failed.".into() };
                        let _ = socket.send(WsMessage::Close(Some(close))).await;
                        while let Some(Ok(_)) = socket.recv().await {}
                        return;
                    }
                    Some(2) => {
                        let ready = {
                            let mut inner = s.inner.lock().unwrap();
                            inner.identifies += 1;
                            inner.identify_intents = v["d"]["intents"].as_u64();
                            inner.session_id = format!("fake-session-{}", inner.identifies);
                            inner.seq += 1;
                            delivered = Some(inner.seq);
                            json!({"op": 0, "t": "READY", "s": inner.seq, "d": {
                                "v": 10, "user": bot_user().json(), "guilds": [], "session_id": inner.session_id,
                                "resume_gateway_url": format!("ws://{}/gateway", s.addr),
                                "application": {"id": "9001", "flags": 0},
                            }})
                        };
                        serde_json::from_value::<serenity::all::Ready>(ready["d"].clone()).expect("a Ready serenity can read");
                        if !send(&mut socket, &ready).await { return; }
                    }
                    Some(6) => {
                        let resumed = {
                            let mut inner = s.inner.lock().unwrap();
                            if v["d"]["session_id"].as_str() != Some(inner.session_id.as_str()) {
                                None
                            } else {
                                inner.resumes += 1;
                                let from = v["d"]["seq"].as_u64().unwrap_or(0).saturating_sub(inner.replay_overlap);
                                Some(from)
                            }
                        };
                        match resumed {
                            None => {
                                if !send(&mut socket, &json!({"op": 9, "d": false})).await { return; }
                            }
                            Some(from) => {
                                // Replay what the bot missed (and `replay_overlap` it already had),
                                // then say so.
                                delivered = Some(from);
                                let pending: Vec<(u64, Value)> = {
                                    let inner = s.inner.lock().unwrap();
                                    inner.events.iter().filter(|(seq, _)| *seq > from).cloned().collect()
                                };
                                for (seq, frame) in pending {
                                    if !send(&mut socket, &frame).await { return; }
                                    delivered = Some(seq);
                                }
                                dispatch(&s, "RESUMED", json!({}));
                            }
                        }
                    }
                    _ => {}
                }
            }
            _ = seq_rx.changed() => {}
            _ = kill.changed() => {
                let close = axum::extract::ws::CloseFrame { code: 4000, reason: "fake restart".into() };
                let _ = socket.send(WsMessage::Close(Some(close))).await;
                // Keep reading until the bot closes its side too.
                let _ = tokio::time::timeout(Duration::from_secs(2), async {
                    while let Some(Ok(_)) = socket.recv().await {}
                })
                .await;
                return;
            }
        }
    }
}
