//! `idle`: N open widget sockets, each with its session, and Kituo's resident memory before and
//! after. The server runs as a child process (the `kituo` binary beside this one), so the
//! generator's own memory is not counted. The same N sockets held open on a bare
//! tokio-tungstenite echo server (also a child process) give the stack's floor.

use crate::chat::connect;
use crate::util::{Table, TempDir, check_open_files, fmt_int, mib, proc_status_kib, secs};
use anyhow::{Context, bail};
use futures_util::StreamExt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::Semaphore;
use tokio_tungstenite::tungstenite::Message;

#[derive(Debug, Clone, clap::Args)]
pub struct IdleOpts {
    /// Widget sockets to open and hold.
    #[arg(long, default_value_t = 10_000)]
    pub connections: usize,
    /// The server binary (default: `kituo` beside this binary; `cargo build --release --bins`).
    #[arg(long)]
    pub kituo_bin: Option<PathBuf>,
    /// Seconds to wait, all sockets open, before reading the memory.
    #[arg(long, default_value_t = 3)]
    pub settle_secs: u64,
    /// Upper bound for opening all sockets.
    #[arg(long, default_value_t = 300)]
    pub max_secs: u64,
    /// Skip the bare echo server baseline.
    #[arg(long)]
    pub no_echo: bool,
}

#[derive(Debug, Clone)]
pub struct IdleResult {
    pub server: String,
    pub connections: usize,
    pub opened: usize,
    pub rss_before_kib: u64,
    pub rss_after_kib: u64,
    pub hwm_kib: u64,
    pub open_time: Duration,
    pub alive: bool,
}

impl IdleResult {
    pub fn per_socket_kib(&self) -> f64 {
        if self.opened == 0 {
            0.0
        } else {
            self.rss_after_kib.saturating_sub(self.rss_before_kib) as f64 / self.opened as f64
        }
    }
}

pub struct IdleReport {
    pub kituo: IdleResult,
    pub echo: Option<IdleResult>,
}

struct ChildServer {
    child: Child,
    addr: SocketAddr,
    description: String,
    log: PathBuf,
}

impl Drop for ChildServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> anyhow::Result<u16> {
    let l = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(l.local_addr()?.port())
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Kituo,
    Echo,
}

/// Starts the server on a free port: Kituo with an SQLite database in `dir` and no demo data,
/// or this binary's bare echo server.
fn spawn_server(kind: Kind, opts: &IdleOpts, dir: &TempDir) -> anyhow::Result<ChildServer> {
    let me = std::env::current_exe()?;
    let port = free_port()?;
    let listen = format!("127.0.0.1:{port}");
    let log = dir.path().join(if kind == Kind::Kituo { "kituo.log" } else { "echo.log" });
    let (mut cmd, description) = match kind {
        Kind::Echo => {
            let mut c = Command::new(&me);
            c.args(["serve-echo", "--listen", &listen]);
            (c, "bare tokio-tungstenite echo (child process)".to_string())
        }
        Kind::Kituo => {
            let sibling = me.with_file_name("kituo");
            let (mut c, description) = match opts.kituo_bin.clone().or_else(|| sibling.exists().then_some(sibling)) {
                Some(bin) => {
                    let mut c = Command::new(&bin);
                    c.arg("serve");
                    (c, format!("Kituo: {} (child process)", bin.display()))
                }
                None => {
                    eprintln!(
                        "note: no `kituo` binary beside {}; serving from this binary instead \
                         (`cargo build --release --bins` builds it)",
                        me.display()
                    );
                    let mut c = Command::new(&me);
                    c.arg("serve-child");
                    (c, format!("Kituo: {} serve-child (child process)", me.display()))
                }
            };
            let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
            // Every generated socket comes from 127.0.0.1: lift the per-address limit.
            c.args(["--listen", &listen, "--database-url", &dir.sqlite_url("kituo.db"), "--no-demo"])
                .args(["--max-sockets-per-ip", "0"])
                .arg("--intents")
                .arg(root.join("intents"))
                .arg("--templates")
                .arg(root.join("templates"));
            (c, description)
        }
    };
    for (k, _) in std::env::vars() {
        if k.starts_with("KITUO_") {
            cmd.env_remove(k);
        }
    }
    cmd.env("KITUO_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::from(std::fs::File::create(&log)?));
    let child = cmd.spawn().with_context(|| format!("cannot start {description}"))?;
    Ok(ChildServer { child, addr: ([127, 0, 0, 1], port).into(), description, log })
}

/// Kituo answers `GET /health`; the echo server only needs to accept.
async fn ready(kind: Kind, addr: SocketAddr) -> bool {
    let Ok(Ok(mut tcp)) = tokio::time::timeout(Duration::from_secs(2), tokio::net::TcpStream::connect(addr)).await
    else {
        return false;
    };
    if kind == Kind::Echo {
        return true;
    }
    if tcp.write_all(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").await.is_err() {
        return false;
    }
    let mut buf = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(2), tcp.read_to_end(&mut buf)).await;
    buf.starts_with(b"HTTP/1.1 200")
}

type Ws = tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>;

/// One socket: for Kituo a widget session (the session frame received), for echo the handshake.
async fn open(kind: Kind, addr: SocketAddr) -> Option<Ws> {
    match kind {
        Kind::Echo => connect(addr, "/").await.ok(),
        Kind::Kituo => {
            let mut ws = connect(addr, "/ws/chat").await.ok()?;
            match ws.next().await {
                Some(Ok(Message::Text(t))) if t.as_str().contains("\"session\"") => Some(ws),
                _ => None,
            }
        }
    }
}

async fn measure(kind: Kind, opts: &IdleOpts) -> anyhow::Result<(IdleResult, u64)> {
    let dir = TempDir::new("idle")?;
    let mut server = spawn_server(kind, opts, &dir)?;
    let pid = server.child.id();
    let started = Instant::now();
    while !ready(kind, server.addr).await {
        if let Some(status) = server.child.try_wait()? {
            let log = std::fs::read_to_string(&server.log).unwrap_or_default();
            bail!("{} exited ({status}) before it was ready:\n{log}", server.description);
        }
        if started.elapsed() > Duration::from_secs(120) {
            bail!("{} was not ready within 120 s", server.description);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // One socket first, so lazily built state (pool connections, routes) is in the baseline.
    if let Some(mut ws) = tokio::time::timeout(Duration::from_secs(10), open(kind, server.addr)).await.ok().flatten() {
        let _ = ws.close(None).await;
    }
    tokio::time::sleep(Duration::from_secs(opts.settle_secs)).await;
    let rss_before = proc_status_kib(Some(pid), "VmRSS").context("cannot read the server's VmRSS")?;

    let gate = Arc::new(Semaphore::new(256));
    let open_started = Instant::now();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(opts.max_secs);
    let mut tasks = Vec::with_capacity(opts.connections);
    for _ in 0..opts.connections {
        let gate = gate.clone();
        let addr = server.addr;
        tasks.push(tokio::spawn(async move {
            let _permit = gate.acquire_owned().await.ok()?;
            tokio::time::timeout_at(deadline, open(kind, addr)).await.ok().flatten()
        }));
    }
    let mut sockets = Vec::with_capacity(opts.connections);
    for t in tasks {
        if let Ok(Some(ws)) = t.await {
            sockets.push(ws);
        }
    }
    let open_time = open_started.elapsed();
    let opened = sockets.len();
    tokio::time::sleep(Duration::from_secs(opts.settle_secs)).await;
    let rss_after = proc_status_kib(Some(pid), "VmRSS").context("cannot read the server's VmRSS")?;
    let hwm = proc_status_kib(Some(pid), "VmHWM").unwrap_or(0);
    let client_rss = proc_status_kib(None, "VmRSS").unwrap_or(0);
    let alive = server.child.try_wait()?.is_none();
    drop(sockets);
    let result = IdleResult {
        server: server.description.clone(),
        connections: opts.connections,
        opened,
        rss_before_kib: rss_before,
        rss_after_kib: rss_after,
        hwm_kib: hwm,
        open_time,
        alive,
    };
    drop(server);
    Ok((result, client_rss))
}

/// Sizes of the hub's futures that a widget socket's task embeds in its state machine (a task
/// is allocated at the size of its largest await point, idle or not).
async fn future_sizes() -> anyhow::Result<Vec<(&'static str, usize)>> {
    let dir = TempDir::new("futures")?;
    let mut args = kituo::config::ServeArgs::new("127.0.0.1:0", &dir.sqlite_url("kituo.db"));
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    args.intents = root.join("intents");
    args.templates = root.join("templates");
    args.no_demo = true;
    let app = kituo::app::App::build(&args).await?;
    let hub = app.hub();
    let mut held = kituo::hub::HeldState::default();
    let sizes = vec![
        ("hub.visitor_session", std::mem::size_of_val(&hub.visitor_session(None, &mut held))),
        ("hub.customer_message", std::mem::size_of_val(&hub.customer_message("c", "hi", Some("x")))),
        ("hub.identify", std::mem::size_of_val(&hub.identify("c", "a@b.c", None))),
    ];
    drop(app);
    Ok(sizes)
}

pub async fn run(opts: &IdleOpts) -> anyhow::Result<IdleReport> {
    println!("\n## idle: {} open widget sockets", opts.connections);
    check_open_files(opts.connections as u64 + 200);
    let echo = if opts.no_echo { None } else { Some(measure(Kind::Echo, opts).await?.0) };
    let (kituo, client_rss_kib) = measure(Kind::Kituo, opts).await?;
    let mut t = Table::new(&[
        "server",
        "sockets open",
        "time to open",
        "VmRSS before",
        "VmRSS with sockets",
        "VmHWM",
        "growth per socket",
    ]);
    for r in echo.iter().chain(std::iter::once(&kituo)) {
        t.row(vec![
            r.server.clone(),
            format!("{} / {}", fmt_int(r.opened as f64), fmt_int(r.connections as f64)),
            secs(r.open_time),
            mib(r.rss_before_kib),
            mib(r.rss_after_kib),
            mib(r.hwm_kib),
            format!("{:.1} KiB", r.per_socket_kib()),
        ]);
    }
    t.print("Idle sockets: the server's resident memory (/proc/<pid>/status)");
    println!(
        "  Kituo sockets are widget sessions (a visitor, contact and conversation stored for each, session frame received)."
    );
    println!("  generator (client side, not counted): VmRSS {}", mib(client_rss_kib));
    match future_sizes().await {
        Ok(sizes) => {
            let list: Vec<String> = sizes.iter().map(|(n, b)| format!("{n} {:.1} KiB", *b as f64 / 1024.0)).collect();
            println!("  future sizes a widget socket task embeds (size_of_val, unawaited): {}", list.join(", "));
        }
        Err(e) => println!("  (future sizes not measured: {e:#})"),
    }
    for r in echo.iter().chain(std::iter::once(&kituo)) {
        if !r.alive {
            println!("  warning: {} had exited by the time memory was read", r.server);
        }
    }
    Ok(IdleReport { kituo, echo })
}
