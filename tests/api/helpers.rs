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

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

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

    pub async fn send(&mut self, frame: Value) {
        self.ws.send(Message::Text(frame.to_string().into())).await.expect("send");
    }

    pub async fn send_raw(&mut self, text: &str) {
        self.ws.send(Message::Text(text.to_string().into())).await.expect("send");
    }

    /// The next JSON frame (typing frames skipped); panics after a timeout.
    pub async fn frame(&mut self) -> Value {
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
            if f["type"] == "message" {
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
