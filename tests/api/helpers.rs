//! Test harness: fresh databases per test, the real app on port 0, a WebSocket chat client.

use futures_util::{SinkExt, StreamExt};
use kituo::app::App;
use kituo::config::ServeArgs;
use serde_json::{Value, json};
use std::io::Write;
use std::net::SocketAddr;
use std::sync::Once;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream, connect_async};

pub const WIDGET_SECRET: &str = "test-widget-secret";
const FRAME_TIMEOUT: Duration = Duration::from_secs(15);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// SQLite always; PostgreSQL when `KITUO_TEST_POSTGRES_URL` is set (a skip is announced once).
pub fn backends() -> Vec<Backend> {
    static NOTE: Once = Once::new();
    if std::env::var("KITUO_TEST_POSTGRES_URL").is_ok_and(|v| !v.is_empty()) {
        vec![Backend::Sqlite, Backend::Postgres]
    } else {
        NOTE.call_once(|| {
            let _ = writeln!(
                std::io::stderr(),
                "NOTE: KITUO_TEST_POSTGRES_URL is not set: PostgreSQL variants of the tests are SKIPPED"
            );
        });
        vec![Backend::Sqlite]
    }
}

/// A database that exists for one test and is removed afterwards.
pub struct TestDb {
    pub url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    Dir(std::path::PathBuf),
    Postgres { admin_url: String, name: String },
}

fn random_suffix() -> String {
    format!("{:016x}", rand::random::<u64>())
}

impl TestDb {
    pub async fn new(backend: Backend) -> TestDb {
        match backend {
            Backend::Sqlite => {
                let dir = std::env::temp_dir().join(format!("kituo-test-{}", random_suffix()));
                std::fs::create_dir_all(&dir).expect("temp dir is writable");
                let url = format!("sqlite://{}", dir.join("kituo.db").display());
                TestDb { url, cleanup: Cleanup::Dir(dir) }
            }
            Backend::Postgres => {
                let admin_url = std::env::var("KITUO_TEST_POSTGRES_URL").expect("checked by backends()");
                let name = format!("kituo_t_{}", random_suffix());
                let admin = admin_connection(&admin_url).await;
                sqlx::query(sqlx::AssertSqlSafe(format!("create database {name}")))
                    .execute(&admin)
                    .await
                    .expect("can create a test database");
                admin.close().await;
                let url = replace_database(&admin_url, &name);
                TestDb { url, cleanup: Cleanup::Postgres { admin_url, name } }
            }
        }
    }
}

async fn admin_connection(url: &str) -> sqlx::AnyPool {
    sqlx::any::install_default_drivers();
    sqlx::any::AnyPoolOptions::new().max_connections(1).connect(url).await.expect("PostgreSQL is reachable")
}

fn replace_database(url: &str, name: &str) -> String {
    let (base, query) = url.split_once('?').map_or((url, None), |(b, q)| (b, Some(q)));
    let cut = base.rfind('/').filter(|i| *i > "postgres://".len()).unwrap_or(base.len());
    let mut out = format!("{}/{name}", &base[..cut]);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

impl Drop for TestDb {
    fn drop(&mut self) {
        match &self.cleanup {
            Cleanup::Dir(dir) => {
                let _ = std::fs::remove_dir_all(dir);
            }
            Cleanup::Postgres { admin_url, name } => {
                let (admin_url, name) = (admin_url.clone(), name.clone());
                // Drop runs inside the test's runtime: use a separate thread and runtime.
                let _ = std::thread::spawn(move || {
                    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
                    rt.block_on(async {
                        let admin = admin_connection(&admin_url).await;
                        let _ =
                            sqlx::query(sqlx::AssertSqlSafe(format!("drop database if exists {name} with (force)")))
                                .execute(&admin)
                                .await;
                        admin.close().await;
                    });
                })
                .join();
            }
        }
    }
}

pub struct TestApp {
    pub addr: SocketAddr,
    pub db: TestDb,
    pub hub: std::sync::Arc<kituo::hub::Hub>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

pub fn serve_args(db_url: &str) -> ServeArgs {
    let mut args = ServeArgs::new("127.0.0.1:0", db_url);
    args.widget_secret = Some(WIDGET_SECRET.into());
    args
}

/// The real app with demo data on a fresh database.
pub async fn spawn_app(backend: Backend) -> TestApp {
    let db = TestDb::new(backend).await;
    spawn_on(db, serve_args_for).await
}

fn serve_args_for(url: &str) -> ServeArgs {
    serve_args(url)
}

pub async fn spawn_on(db: TestDb, args: impl Fn(&str) -> ServeArgs) -> TestApp {
    let app = App::build(&args(&db.url)).await.expect("app builds");
    let addr = app.local_addr();
    let hub = app.hub();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(app.run_until(async move {
        let _ = stopped.await;
    }));
    TestApp { addr, db, hub, stop: Some(stop), task: Some(task) }
}

impl TestApp {
    /// Stops the server and waits for it; returns the database for a restart.
    pub async fn stop(mut self) -> TestDb {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.task.take() {
            let _ = tokio::time::timeout(Duration::from_secs(10), t).await;
        }
        std::mem::replace(&mut self.db, TestDb { url: String::new(), cleanup: Cleanup::Dir(std::path::PathBuf::new()) })
    }

    pub async fn chat(&self) -> Chat {
        Chat::connect(self.addr, None).await
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
    }
}

pub type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// A widget client speaking the chat protocol.
pub struct Chat {
    pub ws: Socket,
    pub visitor_token: String,
    pub conversation_id: String,
    counter: u64,
}

impl Chat {
    pub async fn connect(addr: SocketAddr, token: Option<&str>) -> Chat {
        let url = match token {
            Some(t) => format!("ws://{addr}/ws/chat?visitor_token={t}"),
            None => format!("ws://{addr}/ws/chat"),
        };
        let (ws, _) = connect_async(url).await.expect("websocket connects");
        let mut chat = Chat { ws, visitor_token: String::new(), conversation_id: String::new(), counter: 0 };
        let first = chat.frame().await;
        assert_eq!(first["type"], "session", "first frame is the session: {first}");
        chat.visitor_token = first["visitor_token"].as_str().expect("token").to_string();
        chat.conversation_id = first["conversation_id"].as_str().expect("conversation id").to_string();
        chat
    }

    /// A widget socket whose client end is bound to `local` (any 127.x.y.z address works on
    /// Linux loopback), to act as a different customer address.
    pub async fn socket_from(local: std::net::IpAddr, addr: SocketAddr) -> Socket {
        let tcp = tokio::net::TcpSocket::new_v4().expect("socket");
        tcp.bind(SocketAddr::new(local, 0)).expect("bind the client address");
        let stream = tcp.connect(addr).await.expect("tcp connects");
        let (ws, _) = tokio_tungstenite::client_async(format!("ws://{addr}/ws/chat"), MaybeTlsStream::Plain(stream))
            .await
            .expect("websocket handshake");
        ws
    }

    pub async fn send(&mut self, frame: Value) {
        self.ws.send(Message::Text(frame.to_string().into())).await.expect("send");
    }

    pub async fn send_raw(&mut self, text: &str) {
        self.ws.send(Message::Text(text.to_string().into())).await.expect("send");
    }

    /// The next JSON frame (typing and agent-name frames skipped); panics after a timeout.
    pub async fn frame(&mut self) -> Value {
        loop {
            let v = self.any_frame().await;
            if v["type"] != "agent" {
                return v;
            }
        }
    }

    /// The next JSON frame of any type but typing; panics after a timeout.
    pub async fn any_frame(&mut self) -> Value {
        loop {
            let msg = tokio::time::timeout(FRAME_TIMEOUT, self.ws.next())
                .await
                .expect("a frame arrives in time")
                .expect("socket still open")
                .expect("frame reads");
            if let Message::Text(t) = msg {
                let v: Value = serde_json::from_str(&t).expect("server sends JSON");
                if v["type"] != "typing" {
                    return v;
                }
            }
        }
    }

    /// The next frame if one arrives within `wait`.
    pub async fn maybe_frame(&mut self, wait: Duration) -> Option<Value> {
        tokio::time::timeout(wait, self.frame()).await.ok()
    }

    pub fn next_id(&mut self) -> String {
        self.counter += 1;
        format!("cm-{}-{}", self.counter, random_suffix())
    }

    /// Sends a message and returns (ack frame, the bot's reply text).
    pub async fn say(&mut self, text: &str) -> (Value, String) {
        let id = self.next_id();
        self.send(json!({"type": "message", "text": text, "client_msg_id": id})).await;
        // Frames of earlier turns (e.g. a queue notice after a handoff) may still be on the way.
        let ack = loop {
            let f = self.frame().await;
            // A resolution's rating request may also still be on the way.
            if f["type"] == "message" || f["type"] == "csat_request" {
                continue;
            }
            break f;
        };
        assert_eq!(ack["type"], "ack", "ack expected: {ack}");
        assert_eq!(ack["client_msg_id"], id.as_str());
        let reply = self.reply_after(ack["seq"].as_i64().expect("ack seq")).await;
        (ack, reply)
    }

    /// The bot's reply text: the first bot message after `seq`.
    pub async fn reply_after(&mut self, seq: i64) -> String {
        loop {
            let f = self.frame().await;
            assert_eq!(f["type"], "message", "expected a message frame: {f}");
            if f["author"] == "bot" && f["seq"].as_i64().unwrap() > seq {
                return f["text"].as_str().unwrap().to_string();
            }
        }
    }

    /// Sends text and returns just the reply.
    pub async fn ask(&mut self, text: &str) -> String {
        self.say(text).await.1
    }
}

/// hex HMAC-SHA256(secret, email), as an embedding site computes it.
pub fn sign(secret: &str, email: &str) -> String {
    use hmac::{Hmac, Mac};
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(email.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

// ---------------------------------------------------------------------------------------------
// Staff side: accounts, a small HTTP client for `/api/…`, the console socket, polling.

/// The password of every staff account the tests create directly.
pub const STAFF_PASSWORD: &str = "correct horse battery staple";

/// One argon2 hash of [`STAFF_PASSWORD`] for all directly created accounts (hashing is slow).
fn staff_password_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| kituo::auth::hash_password(STAFF_PASSWORD))
}

type HttpClient =
    hyper_util::client::legacy::Client<hyper_util::client::legacy::connect::HttpConnector, axum::body::Body>;

fn http_client() -> &'static HttpClient {
    static CLIENT: std::sync::OnceLock<HttpClient> = std::sync::OnceLock::new();
    CLIENT.get_or_init(|| {
        // No idle pool: every test has its own runtime, and a pooled connection must not
        // outlive the runtime that drives it.
        hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
            .pool_max_idle_per_host(0)
            .build_http()
    })
}

/// An HTTP response, its body read and (when it is JSON) parsed.
#[derive(Debug, Clone)]
pub struct Resp {
    pub status: u16,
    pub headers: axum::http::HeaderMap,
    pub text: String,
    pub json: Value,
}

impl Resp {
    /// `error.code` of an API error body ("" when there is none).
    pub fn code(&self) -> &str {
        self.json["error"]["code"].as_str().unwrap_or("")
    }

    /// The JSON body of a 2xx response; panics with the whole response otherwise.
    #[track_caller]
    pub fn ok(&self) -> &Value {
        assert!((200..300).contains(&self.status), "expected a 2xx response, got {} {}", self.status, self.text);
        &self.json
    }

    /// Every `Set-Cookie` header.
    pub fn set_cookies(&self) -> Vec<String> {
        self.headers
            .get_all(axum::http::header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .map(str::to_string)
            .collect()
    }
}

/// One request to the app: `headers` are sent as given; a JSON `body` gets its content type.
pub async fn http(addr: SocketAddr, method: &str, path: &str, headers: &[(&str, &str)], body: Option<&Value>) -> Resp {
    let body = body.map(|b| ("application/json", b.to_string()));
    http_raw(addr, method, path, headers, body).await
}

/// [`http`] with a body of any content type: `(content type, body)`.
pub async fn http_raw(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<(&str, String)>,
) -> Resp {
    http_bytes(addr, method, path, headers, body.map(|(t, b)| (t, b.into_bytes()))).await
}

/// [`http_raw`] with a body of bytes (files).
pub async fn http_bytes(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<(&str, Vec<u8>)>,
) -> Resp {
    let mut req = axum::http::Request::builder()
        .method(axum::http::Method::from_bytes(method.as_bytes()).expect("a valid method"))
        .uri(format!("http://{addr}{path}"));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let body = match body {
        Some((content_type, b)) => {
            req = req.header("content-type", content_type);
            axum::body::Body::from(b)
        }
        None => axum::body::Body::empty(),
    };
    let req = req.body(body).expect("request builds");
    let resp = tokio::time::timeout(FRAME_TIMEOUT, http_client().request(req))
        .await
        .unwrap_or_else(|_| panic!("{method} {path}: no response in time"))
        .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let bytes = axum::body::to_bytes(axum::body::Body::new(resp.into_body()), usize::MAX)
        .await
        .unwrap_or_else(|e| panic!("{method} {path}: reading the body: {e}"));
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let json = serde_json::from_str(&text).unwrap_or(Value::Null);
    Resp { status, headers, text, json }
}

/// How a staff caller proves who they are.
#[derive(Debug, Clone)]
pub enum Cred {
    Anonymous,
    /// A console session: the cookie value and the session's CSRF token.
    Session {
        cookie: String,
        csrf: String,
    },
    Bearer(String),
}

/// A staff member (or an anonymous caller) talking to the staff API.
#[derive(Debug, Clone)]
pub struct Staff {
    pub addr: SocketAddr,
    pub id: String,
    pub email: String,
    pub name: String,
    pub cred: Cred,
}

impl Staff {
    pub fn anonymous(addr: SocketAddr) -> Staff {
        Staff { addr, id: String::new(), email: String::new(), name: String::new(), cred: Cred::Anonymous }
    }

    /// The same person calling with a bearer token instead.
    pub fn with_bearer(&self, token: &str) -> Staff {
        Staff { cred: Cred::Bearer(token.to_string()), ..self.clone() }
    }

    /// `kituo_session=…` for a session, to send as a `Cookie` header.
    pub fn cookie_header(&self) -> Option<String> {
        match &self.cred {
            Cred::Session { cookie, .. } => Some(format!("{}={cookie}", kituo::auth::SESSION_COOKIE)),
            _ => None,
        }
    }

    /// The credential headers, with the session's CSRF token when `csrf`.
    pub fn auth_headers(&self, csrf: bool) -> Vec<(String, String)> {
        match &self.cred {
            Cred::Anonymous => Vec::new(),
            Cred::Session { csrf: token, .. } => {
                let mut h = vec![("cookie".to_string(), self.cookie_header().unwrap())];
                if csrf {
                    h.push((kituo::auth::CSRF_HEADER.to_string(), token.clone()));
                }
                h
            }
            Cred::Bearer(t) => vec![("authorization".to_string(), format!("Bearer {t}"))],
        }
    }

    /// A request with this caller's credentials (and CSRF token for sessions).
    pub async fn call(&self, method: &str, path: &str, body: Option<Value>) -> Resp {
        self.call_with(method, path, body, true).await
    }

    /// A request with this caller's credentials, with or without the CSRF header.
    pub async fn call_with(&self, method: &str, path: &str, body: Option<Value>, csrf: bool) -> Resp {
        let h = self.auth_headers(csrf);
        let h: Vec<(&str, &str)> = h.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        http(self.addr, method, path, &h, body.as_ref()).await
    }

    pub async fn get(&self, path: &str) -> Resp {
        self.call("GET", path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Resp {
        self.call("POST", path, Some(body)).await
    }

    pub async fn put(&self, path: &str, body: Value) -> Resp {
        self.call("PUT", path, Some(body)).await
    }

    pub async fn patch(&self, path: &str, body: Value) -> Resp {
        self.call("PATCH", path, Some(body)).await
    }

    pub async fn delete(&self, path: &str) -> Resp {
        self.call("DELETE", path, None).await
    }

    /// `GET /api/conversations/{id}`: `{"conversation", "messages", "handoff"}`.
    pub async fn conversation(&self, id: &str) -> Value {
        self.get(&format!("/api/conversations/{id}")).await.ok().clone()
    }

    /// `POST /api/conversations/{id}/{action}` with an empty JSON body.
    pub async fn act(&self, id: &str, action: &str) -> Resp {
        self.post(&format!("/api/conversations/{id}/{action}"), json!({})).await
    }

    /// Sets this agent's presence (`online`, `away`, `offline`).
    pub async fn presence(&self, presence: &str) {
        self.put("/api/me/presence", json!({"presence": presence})).await.ok();
    }
}

/// Creates a staff account directly in the store (password [`STAFF_PASSWORD`]); returns
/// (agent id, email).
pub async fn add_staff(app: &TestApp, name: &str, role: kituo::domain::Role) -> (String, String) {
    let email = format!("{}-{}@staff.test", name.to_lowercase().replace(' ', "."), random_suffix());
    let hash = tokio::task::spawn_blocking(staff_password_hash).await.expect("hashing runs");
    let id = app.hub.store().create_agent(&email, name, role, hash).await.expect("agent created");
    (id, email)
}

/// `POST /api/login`.
pub async fn login(addr: SocketAddr, email: &str, password: &str) -> Resp {
    http(addr, "POST", "/api/login", &[], Some(&json!({"email": email, "password": password}))).await
}

/// Logs in and returns the session caller; panics unless the login succeeds.
pub async fn login_as(addr: SocketAddr, email: &str, password: &str) -> Staff {
    let r = login(addr, email, password).await;
    let body = r.ok();
    let set = r.set_cookies();
    let cookie = set
        .iter()
        .find_map(|c| c.split(';').next()?.trim().strip_prefix(&format!("{}=", kituo::auth::SESSION_COOKIE)))
        .unwrap_or_else(|| panic!("login sets the session cookie: {set:?}"))
        .to_string();
    Staff {
        addr,
        id: body["agent"]["id"].as_str().expect("agent id").to_string(),
        email: email.to_string(),
        name: body["agent"]["name"].as_str().expect("agent name").to_string(),
        cred: Cred::Session { cookie, csrf: body["csrf_token"].as_str().expect("csrf token").to_string() },
    }
}

/// A new agent, logged in.
pub async fn agent(app: &TestApp, name: &str) -> Staff {
    let (_, email) = add_staff(app, name, kituo::domain::Role::Agent).await;
    login_as(app.addr, &email, STAFF_PASSWORD).await
}

/// A new admin, logged in.
pub async fn admin(app: &TestApp, name: &str) -> Staff {
    let (_, email) = add_staff(app, name, kituo::domain::Role::Admin).await;
    login_as(app.addr, &email, STAFF_PASSWORD).await
}

/// Polls `check` every 25 ms until it yields a value or `timeout` passes.
pub async fn poll_until<T, F, Fut>(timeout: Duration, mut check: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if let Some(v) = check().await {
            return Some(v);
        }
        if tokio::time::Instant::now() >= deadline {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// Like [`poll_until`], panicking with `what` on timeout.
pub async fn eventually<T, F, Fut>(what: &str, timeout: Duration, check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    poll_until(timeout, check).await.unwrap_or_else(|| panic!("timed out after {timeout:?} waiting for {what}"))
}

/// Polls the conversation until `pred` holds for its summary; returns the summary.
pub async fn wait_conversation(staff: &Staff, id: &str, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
    eventually(what, Duration::from_secs(10), || async {
        let c = staff.conversation(id).await;
        pred(&c["conversation"]).then(|| c["conversation"].clone())
    })
    .await
}

/// The next message frame matching `pred` (other frames skipped).
pub async fn next_message(chat: &mut Chat, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
    loop {
        let f = chat.frame().await;
        if f["type"] == "message" && pred(&f) {
            return f;
        }
        assert!(f["type"] != "error", "while waiting for {what}: error frame {f}");
    }
}

/// The customer asks for a person: returns (ack seq, the bot's handoff reply, the system queue
/// notice that follows it).
pub async fn hand_off(chat: &mut Chat) -> (i64, String, String) {
    let (ack, reply) = chat.say("I want to talk to a human").await;
    let seq = ack["seq"].as_i64().unwrap();
    let notice =
        next_message(chat, "the queue notice", |f| f["author"] == "system" && f["seq"].as_i64() > Some(seq)).await;
    (seq, reply, notice["text"].as_str().unwrap().to_string())
}

/// A new widget customer whose conversation is queued for a person; returns the chat.
pub async fn queued_customer(app: &TestApp) -> Chat {
    let mut chat = app.chat().await;
    hand_off(&mut chat).await;
    chat
}

/// Runs one SQL statement on the app's database (for state the API cannot set, e.g. priority).
pub async fn exec_sql(app: &TestApp, sql: &str, binds: &[&str]) {
    let pool = direct_pool(app).await;
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.to_string()));
    for b in binds {
        q = q.bind(*b);
    }
    q.execute(&pool).await.expect("statement runs");
    pool.close().await;
}

/// The first column of the first row `sql` returns, read straight from the app's database.
pub async fn query_i64(app: &TestApp, sql: &str) -> i64 {
    let pool = direct_pool(app).await;
    let row = sqlx::query(sqlx::AssertSqlSafe(sql.to_string())).fetch_one(&pool).await.expect("query runs");
    pool.close().await;
    sqlx::Row::try_get(&row, 0).expect("an integer")
}

/// One connection to the app's database, beside the app.
async fn direct_pool(app: &TestApp) -> sqlx::AnyPool {
    sqlx::any::install_default_drivers();
    sqlx::any::AnyPoolOptions::new().max_connections(1).connect(&app.db.url).await.expect("db connects")
}

/// The console socket (`/ws/agent`) of one staff member.
pub struct Console {
    pub ws: Socket,
}

/// Opens `/ws/agent` with these extra headers: the socket, or the refused handshake's status.
pub async fn console_handshake(addr: SocketAddr, headers: &[(&str, &str)]) -> Result<Console, u16> {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let mut req = format!("ws://{addr}/ws/agent").into_client_request().expect("a valid request");
    for (k, v) in headers {
        req.headers_mut().insert(
            axum::http::HeaderName::from_bytes(k.as_bytes()).expect("header name"),
            axum::http::HeaderValue::from_str(v).expect("header value"),
        );
    }
    match tokio::time::timeout(FRAME_TIMEOUT, connect_async(req)).await.expect("handshake answers in time") {
        Ok((ws, _)) => Ok(Console { ws }),
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => Err(resp.status().as_u16()),
        Err(e) => panic!("console handshake failed oddly: {e}"),
    }
}

impl Console {
    /// Connects with the staff member's credentials and reads the `hello` frame.
    pub async fn connect(staff: &Staff) -> Console {
        let h = staff.auth_headers(false);
        let h: Vec<(&str, &str)> = h.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let mut c = console_handshake(staff.addr, &h).await.unwrap_or_else(|s| panic!("console refused: {s}"));
        let hello = c.frame().await;
        assert_eq!(hello["type"], "hello", "first console frame is hello: {hello}");
        assert_eq!(hello["agent_id"], staff.id.as_str(), "hello names the agent: {hello}");
        c
    }

    pub async fn send(&mut self, frame: Value) {
        self.ws.send(Message::Text(frame.to_string().into())).await.expect("send");
    }

    /// The next JSON frame; panics after a timeout or when the socket closes.
    pub async fn frame(&mut self) -> Value {
        loop {
            let msg = tokio::time::timeout(FRAME_TIMEOUT, self.ws.next())
                .await
                .expect("a console frame arrives in time")
                .expect("console socket still open")
                .expect("frame reads");
            if let Message::Text(t) = msg {
                return serde_json::from_str(&t).expect("server sends JSON");
            }
        }
    }

    /// The next frame for which `pred` holds (others skipped); panics after a timeout.
    pub async fn frame_where(&mut self, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
        let found = tokio::time::timeout(FRAME_TIMEOUT, async {
            loop {
                let f = self.frame().await;
                if pred(&f) {
                    return f;
                }
            }
        })
        .await;
        found.unwrap_or_else(|_| panic!("no console frame with {what} in time"))
    }

    pub async fn close(mut self) {
        let _ = self.ws.close(None).await;
        // Drain until the server's close arrives, so the server has seen the close.
        let _ = tokio::time::timeout(Duration::from_secs(5), async { while let Some(Ok(_)) = self.ws.next().await {} })
            .await;
    }
}

// ---------------------------------------------------------------------------------------------
// Admin rule editing (tests/api/rules.rs, tests/api/admin_browser.rs).

impl Chat {
    /// Opens `/ws/chat` with extra request headers (e.g. `Origin`): the chat after its session
    /// frame, or the status of the refused handshake.
    pub async fn connect_with_headers(addr: SocketAddr, headers: &[(&str, &str)]) -> Result<Chat, u16> {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        let mut req = format!("ws://{addr}/ws/chat").into_client_request().expect("a valid request");
        for (k, v) in headers {
            req.headers_mut().insert(
                axum::http::HeaderName::from_bytes(k.as_bytes()).expect("header name"),
                axum::http::HeaderValue::from_str(v).expect("header value"),
            );
        }
        let ws = match tokio::time::timeout(FRAME_TIMEOUT, connect_async(req)).await.expect("handshake answers in time")
        {
            Ok((ws, _)) => ws,
            Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => return Err(resp.status().as_u16()),
            Err(e) => panic!("widget handshake failed oddly: {e}"),
        };
        let mut chat = Chat { ws, visitor_token: String::new(), conversation_id: String::new(), counter: 0 };
        let first = chat.frame().await;
        assert_eq!(first["type"], "session", "first frame is the session: {first}");
        chat.visitor_token = first["visitor_token"].as_str().expect("token").to_string();
        chat.conversation_id = first["conversation_id"].as_str().expect("conversation id").to_string();
        Ok(chat)
    }

    /// Sends a message and returns the bot's first reply if one comes within `wait` (`None`
    /// when the bot stays silent).
    pub async fn ask_within(&mut self, text: &str, wait: Duration) -> Option<String> {
        let id = self.next_id();
        self.send(json!({"type": "message", "text": text, "client_msg_id": id})).await;
        let ack = loop {
            let f = self.frame().await;
            // A resolution's rating request may also still be on the way.
            if f["type"] == "message" || f["type"] == "csat_request" {
                continue;
            }
            break f;
        };
        assert_eq!(ack["type"], "ack", "ack expected: {ack}");
        let seq = ack["seq"].as_i64().expect("ack seq");
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let f = self.maybe_frame(left).await?;
            if f["type"] == "message" && f["author"] == "bot" && f["seq"].as_i64().unwrap_or(0) > seq {
                return Some(f["text"].as_str().unwrap_or("").to_string());
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Proof limits (tests/api/proofs.rs): a widget customer at a chosen loopback address.

impl Chat {
    /// A widget chat whose client end is bound to `local` (see [`Chat::socket_from`]).
    pub async fn connect_from(local: std::net::IpAddr, addr: SocketAddr) -> Chat {
        let ws = Chat::socket_from(local, addr).await;
        let mut chat = Chat { ws, visitor_token: String::new(), conversation_id: String::new(), counter: 0 };
        let first = chat.frame().await;
        assert_eq!(first["type"], "session", "first frame is the session: {first}");
        chat.visitor_token = first["visitor_token"].as_str().expect("token").to_string();
        chat.conversation_id = first["conversation_id"].as_str().expect("conversation id").to_string();
        chat
    }
}
