//! `idle`: N open widget sockets, each with its session, and Kituo's resident memory before and
//! after. The server runs as a child process (the `kituo` binary beside this one), so the
//! generator's own memory is not counted.

use crate::chat::connect;
use crate::util::{TempDir, check_open_files, fmt_int, mib, proc_status_kib, secs};
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
}

pub struct IdleReport {
    pub connections: usize,
    pub opened: usize,
    pub rss_before_kib: u64,
    pub rss_after_kib: u64,
    pub hwm_kib: u64,
    pub open_time: Duration,
    pub server: String,
}

struct ChildServer {
    child: Child,
    addr: SocketAddr,
    description: String,
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

/// Starts the server binary on a free port with an SQLite database in `dir`, no demo data.
fn spawn_server(opts: &IdleOpts, dir: &TempDir) -> anyhow::Result<ChildServer> {
    let me = std::env::current_exe()?;
    let sibling = me.with_file_name("kituo");
    let port = free_port()?;
    let db = dir.sqlite_url("kituo.db");
    let listen = format!("127.0.0.1:{port}");
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let (mut cmd, description) = match opts.kituo_bin.clone().or_else(|| sibling.exists().then_some(sibling)) {
        Some(bin) => {
            let mut c = Command::new(&bin);
            c.arg("serve");
            (c, format!("{} (child process)", bin.display()))
        }
        None => {
            eprintln!(
                "note: no `kituo` binary beside {}; serving from this binary instead \
                 (`cargo build --release --bins` builds it)",
                me.display()
            );
            let mut c = Command::new(&me);
            c.arg("serve-child");
            (c, format!("{} serve-child (child process)", me.display()))
        }
    };
    for (k, _) in std::env::vars() {
        if k.starts_with("KITUO_") {
            cmd.env_remove(k);
        }
    }
    let log = std::fs::File::create(dir.path().join("server.log"))?;
    cmd.args(["--listen", &listen, "--database-url", &db, "--no-demo"])
        .arg("--intents")
        .arg(root.join("intents"))
        .arg("--templates")
        .arg(root.join("templates"))
        .env("KITUO_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::from(log));
    let child = cmd.spawn().with_context(|| format!("cannot start {description}"))?;
    Ok(ChildServer { child, addr: ([127, 0, 0, 1], port).into(), description })
}

async fn healthy(addr: SocketAddr) -> bool {
    let Ok(Ok(mut tcp)) = tokio::time::timeout(Duration::from_secs(2), tokio::net::TcpStream::connect(addr)).await
    else {
        return false;
    };
    if tcp.write_all(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").await.is_err() {
        return false;
    }
    let mut buf = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(2), tcp.read_to_end(&mut buf)).await;
    buf.starts_with(b"HTTP/1.1 200")
}

pub async fn run(opts: &IdleOpts) -> anyhow::Result<IdleReport> {
    println!("\n## idle: {} open widget sockets", opts.connections);
    check_open_files(opts.connections as u64 + 200);
    let dir = TempDir::new("idle")?;
    let mut server = spawn_server(opts, &dir)?;
    let pid = server.child.id();
    let started = Instant::now();
    while !healthy(server.addr).await {
        if let Some(status) = server.child.try_wait()? {
            let log = std::fs::read_to_string(dir.path().join("server.log")).unwrap_or_default();
            bail!("the server exited ({status}) before it was ready:\n{log}");
        }
        if started.elapsed() > Duration::from_secs(120) {
            bail!("the server was not ready within 120 s");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // One session first, so lazily built state (pool connections, routes) is in the baseline.
    {
        let mut ws = connect(server.addr, "/ws/chat").await?;
        let _ = tokio::time::timeout(Duration::from_secs(10), ws.next()).await;
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
            let work = async {
                let mut ws = connect(addr, "/ws/chat").await.ok()?;
                match ws.next().await {
                    Some(Ok(Message::Text(t))) if t.as_str().contains("\"session\"") => Some(ws),
                    _ => None,
                }
            };
            tokio::time::timeout_at(deadline, work).await.ok().flatten()
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
    // Still alive with every socket open?
    let alive = server.child.try_wait()?.is_none();
    drop(sockets);
    let description = server.description.clone();
    let _ = server.child.kill();
    let _ = server.child.wait();
    drop(server);

    let report = IdleReport {
        connections: opts.connections,
        opened,
        rss_before_kib: rss_before,
        rss_after_kib: rss_after,
        hwm_kib: hwm,
        open_time,
        server: description,
    };
    let mut t = Table::new(&["measure", "value"]);
    t.row(vec!["server".into(), report.server.clone()]);
    t.row(vec![
        "widget sockets open (session frame received)".into(),
        format!("{} / {}", fmt_int(opened as f64), fmt_int(opts.connections as f64)),
    ]);
    t.row(vec!["time to open them".into(), secs(open_time)]);
    t.row(vec!["server VmRSS before (1 session served)".into(), mib(rss_before)]);
    t.row(vec!["server VmRSS with the sockets open".into(), mib(rss_after)]);
    t.row(vec!["server VmHWM (peak, includes the opening burst)".into(), mib(hwm)]);
    let per = if opened > 0 { (rss_after.saturating_sub(rss_before)) as f64 / opened as f64 } else { 0.0 };
    t.row(vec!["growth per socket".into(), format!("{per:.1} KiB")]);
    t.row(vec!["generator VmRSS (client side, not counted)".into(), mib(client_rss)]);
    t.print("Idle widget sockets: Kituo's resident memory");
    if !alive {
        println!("  warning: the server had exited by the time memory was read");
    }
    Ok(report)
}

use crate::util::Table;
