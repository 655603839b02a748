//! `chat`: N widget sessions × M messages, closed loop, against Kituo in-process and against a
//! bare tokio-tungstenite echo server in the same run; then the same load straight into the hub
//! (no socket) and single-message timings of the bot's parts, to see where the time goes.

use crate::consoles::Consoles;
use crate::corpus::{self, Customer};
use crate::servers::{CpuMeter, ECHO_THREADS, KITUO_THREADS};
use crate::util::{PgDb, Summary, Table, TempDir, check_open_files, fmt_int, fmt_us, secs};
use anyhow::{Context, bail};
use futures_util::{SinkExt, StreamExt};
use hmac::{Hmac, Mac};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Deserialize;
use sha2::Sha256;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, mpsc, watch};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

const WIDGET_SECRET: &str = "kituo-bench-widget-secret";
/// Sockets being opened at the same time (the rest wait), so the accept backlog never overflows.
const CONNECT_CONCURRENCY: usize = 128;

#[derive(Debug, Clone, clap::Args)]
pub struct ChatOpts {
    /// Concurrent widget sessions (customers).
    #[arg(long, default_value_t = 1000)]
    pub sessions: usize,
    /// Messages per session (the widget socket allows bursts of 20, then 5 per second).
    #[arg(long, default_value_t = 20)]
    pub messages: usize,
    /// Kituo's database as is (default: a new SQLite file in a temporary folder).
    #[arg(long, conflicts_with = "postgres")]
    pub database_url: Option<String>,
    /// PostgreSQL server: a fresh database `kituo_bench_<random>` is created there and dropped after.
    #[arg(long)]
    pub postgres: Option<String>,
    /// Pause between a reply and the customer's next message (0 = closed loop, no pause).
    #[arg(long, default_value_t = 0)]
    pub think_ms: u64,
    /// Open loop: each customer sends one message every this many ms on a fixed schedule,
    /// replies or not (0 = closed loop). Latency counts from when a message was due.
    #[arg(long, default_value_t = 0, conflicts_with = "think_ms")]
    pub interval_ms: u64,
    /// Drive a Kituo already running at this address (started with the bench's widget secret
    /// `kituo-bench-widget-secret`, demo data and `--max-sockets-per-ip 0`), e.g. one under
    /// `valgrind --tool=callgrind`; no breakdown is run then.
    #[arg(long, conflicts_with_all = ["database_url", "postgres"])]
    pub kituo_addr: Option<SocketAddr>,
    /// Longest wait for one round trip before the session gives up.
    #[arg(long, default_value_t = 30)]
    pub timeout_secs: u64,
    /// Upper bound for each measured load phase.
    #[arg(long, default_value_t = 600)]
    pub max_secs: u64,
    /// Skip the bare echo baseline.
    #[arg(long)]
    pub no_echo: bool,
    /// Skip the breakdown (hub without socket, bot, lookups).
    #[arg(long)]
    pub no_phases: bool,
    /// With `--kituo-addr`: the server's process id, to report its CPU time per message.
    #[arg(long, requires = "kituo_addr")]
    pub kituo_pid: Option<u32>,
    /// Open loop: writes every Kituo round trip to this CSV file (`session,message,due_ms,latency_us,text`,
    /// `due_ms` counted from the first message due), to see where in the run and at which
    /// message of a conversation the slow ones are.
    #[arg(long)]
    pub latency_csv: Option<std::path::PathBuf>,
    /// Agent consoles (`/ws/agent`) reading every event during the Kituo run.
    #[arg(long, default_value_t = 0)]
    pub consoles: usize,
    /// With `--kituo-addr --consoles`: an agent's API token (`kt_…`) for the consoles; in-process
    /// an agent (away, so nothing is assigned to it) and its token are created.
    #[arg(long)]
    pub console_token: Option<String>,
}

/// One load run's outcome.
#[derive(Debug, Clone)]
pub struct LoadResult {
    pub label: String,
    pub sessions_ok: usize,
    pub sessions: usize,
    pub round_trips: usize,
    pub elapsed: Duration,
    pub connect: Duration,
    pub latency: Summary,
    pub retries: u64,
    pub first_error: Option<String>,
    /// The server's CPU time (utime + stime) during the run, when it could be measured.
    pub server_cpu: Option<Duration>,
}

impl LoadResult {
    pub fn rate(&self) -> f64 {
        self.round_trips as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// What one session does: its frames, prepared before the clock starts.
pub struct Plan {
    identify: Option<String>,
    /// (frame text, its client_msg_id)
    pub frames: Vec<(String, String)>,
}

fn plans(opts: &ChatOpts, customers: &[Customer]) -> Vec<Plan> {
    (0..opts.sessions)
        .map(|s| {
            let customer = &customers[s % customers.len()];
            // Half the visitors are logged-in shop customers (widget HMAC identify), half anonymous.
            let identified = s % 2 == 0;
            let texts = corpus::script(s, opts.messages, identified, customer);
            let frames = texts
                .iter()
                .enumerate()
                .map(|(i, t)| {
                    let id = format!("s{s}-m{i}");
                    (serde_json::json!({"type": "message", "text": t, "client_msg_id": id}).to_string(), id)
                })
                .collect();
            let identify = identified.then(|| {
                serde_json::json!({
                    "type": "identify",
                    "email": customer.email,
                    "name": customer.name,
                    "hmac": sign(&customer.email),
                })
                .to_string()
            });
            Plan { identify, frames }
        })
        .collect()
}

fn sign(email: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(WIDGET_SECRET.as_bytes()).expect("any key length");
    mac.update(email.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

pub fn ws_config() -> WebSocketConfig {
    WebSocketConfig::default().read_buffer_size(4 * 1024).write_buffer_size(4 * 1024)
}

/// Opens a WebSocket to `url` on a TCP_NODELAY socket.
pub async fn connect(addr: SocketAddr, path: &str) -> anyhow::Result<tokio_tungstenite::WebSocketStream<TcpStream>> {
    let tcp = TcpStream::connect(addr).await.with_context(|| format!("connect {addr}"))?;
    tcp.set_nodelay(true)?;
    let url = format!("ws://{addr}{path}");
    let (ws, _) = tokio_tungstenite::client_async_with_config(url, tcp, Some(ws_config())).await?;
    Ok(ws)
}

/// The bare baseline: every text frame echoed back. 4 KiB read buffer, TCP_NODELAY.
pub async fn start_echo(listen: &str) -> anyhow::Result<(SocketAddr, tokio::task::JoinHandle<()>)> {
    let listener = TcpListener::bind(listen).await.with_context(|| format!("cannot listen on {listen}"))?;
    let addr = listener.local_addr()?;
    let task = tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else { continue };
            tokio::spawn(async move {
                let _ = tcp.set_nodelay(true);
                let Ok(mut ws) = tokio_tungstenite::accept_async_with_config(tcp, Some(ws_config())).await else {
                    return;
                };
                while let Some(Ok(msg)) = ws.next().await {
                    if msg.is_close() || ((msg.is_text() || msg.is_binary()) && ws.send(msg).await.is_err()) {
                        break;
                    }
                }
            });
        }
    });
    Ok((addr, task))
}

#[derive(Clone, Copy, PartialEq)]
pub enum Target {
    Echo,
    Kituo,
}

/// The fields of a Kituo frame the generator looks at (the rest is skipped unparsed).
#[derive(Deserialize)]
pub struct Frame<'a> {
    #[serde(rename = "type", borrow)]
    pub kind: &'a str,
    #[serde(default, borrow)]
    pub client_msg_id: Option<&'a str>,
    #[serde(default)]
    pub seq: Option<i64>,
    #[serde(default, borrow)]
    pub author: Option<&'a str>,
    #[serde(default, borrow)]
    pub code: Option<&'a str>,
}

#[derive(Default)]
pub struct SessionOutcome {
    pub latencies: Vec<u64>,
    /// Open loop: (when the message was due, its index in the session, latency ns).
    pub timeline: Vec<(tokio::time::Instant, usize, u64)>,
    pub retries: u64,
    pub error: Option<String>,
}

pub type Ws = tokio_tungstenite::WebSocketStream<TcpStream>;

async fn next_text(ws: &mut Ws, deadline: tokio::time::Instant) -> anyhow::Result<String> {
    loop {
        match tokio::time::timeout_at(deadline, ws.next()).await {
            Err(_) => bail!("timed out waiting for a frame"),
            Ok(None) => bail!("socket closed"),
            Ok(Some(Err(e))) => bail!("socket error: {e}"),
            Ok(Some(Ok(Message::Text(t)))) => return Ok(t.as_str().to_string()),
            Ok(Some(Ok(Message::Close(c)))) => bail!("closed by server: {c:?}"),
            Ok(Some(Ok(_))) => {}
        }
    }
}

/// Opens the socket; for Kituo waits for the session frame and, when planned, identifies.
async fn open_session(target: Target, addr: SocketAddr, plan: &Plan, timeout: Duration) -> anyhow::Result<Ws> {
    let deadline = tokio::time::Instant::now() + timeout;
    let path = if target == Target::Kituo { "/ws/chat" } else { "/" };
    let mut ws = tokio::time::timeout_at(deadline, connect(addr, path)).await.context("connect timed out")??;
    if target == Target::Kituo {
        let first = next_text(&mut ws, deadline).await?;
        if !first.contains("\"session\"") {
            bail!("expected the session frame, got {first}");
        }
        if let Some(identify) = &plan.identify {
            ws.send(Message::text(identify.clone())).await?;
            loop {
                let t = next_text(&mut ws, deadline).await?;
                let f: Frame = serde_json::from_str(&t)?;
                match f.kind {
                    "identified" => break,
                    "error" => bail!("identify refused: {t}"),
                    _ => {}
                }
            }
        }
    }
    Ok(ws)
}

/// One customer's closed loop: send, wait for the echo / the ack and the bot's reply, repeat.
async fn converse(
    target: Target,
    ws: &mut Ws,
    plan: &Plan,
    think: Duration,
    timeout: Duration,
    seed: u64,
    out: &mut SessionOutcome,
) -> anyhow::Result<()> {
    let mut rng = StdRng::seed_from_u64(seed);
    if !think.is_zero() {
        // Paced customers start at random moments within one think time, not all at once.
        tokio::time::sleep(think.mul_f64(rng.random_range(0.0..1.0))).await;
    }
    for (frame, id) in &plan.frames {
        let started = Instant::now();
        let deadline = tokio::time::Instant::now() + timeout;
        ws.send(Message::text(frame.clone())).await?;
        match target {
            Target::Echo => loop {
                let t = next_text(ws, deadline).await?;
                if t.len() == frame.len() {
                    break;
                }
            },
            Target::Kituo => {
                let mut acked: Option<i64> = None;
                let mut bot_seq: i64 = 0;
                let mut resends = 0;
                loop {
                    let t = next_text(ws, deadline).await?;
                    let f: Frame = serde_json::from_str(&t).with_context(|| format!("unreadable frame {t}"))?;
                    match f.kind {
                        "ack" if f.client_msg_id == Some(id.as_str()) => {
                            acked = f.seq;
                        }
                        "message" if f.author == Some("bot") => bot_seq = bot_seq.max(f.seq.unwrap_or(0)),
                        "error" => {
                            let code = f.code.unwrap_or("");
                            let pause = match code {
                                "rate_limited" => Duration::from_millis(250),
                                "busy" | "unavailable" => Duration::from_millis(20),
                                _ => bail!("message refused: {t}"),
                            };
                            resends += 1;
                            out.retries += 1;
                            if resends > 20 {
                                bail!("gave up after 20 refusals: {t}");
                            }
                            tokio::time::sleep(pause).await;
                            // Same client_msg_id: stored at most once.
                            ws.send(Message::text(frame.clone())).await?;
                        }
                        _ => {}
                    }
                    if acked.is_some_and(|a| bot_seq > a) {
                        break;
                    }
                }
            }
        }
        out.latencies.push(started.elapsed().as_nanos() as u64);
        if !think.is_zero() {
            // 0.5×..1.5× the think time, so customers do not march in step.
            tokio::time::sleep(think.mul_f64(rng.random_range(0.5..1.5))).await;
        }
    }
    let _ = ws.close(None).await;
    Ok(())
}

async fn run_load(
    label: &str,
    target: Target,
    addr: SocketAddr,
    plans: &Arc<Vec<Plan>>,
    opts: &ChatOpts,
    meter: &CpuMeter,
) -> anyhow::Result<LoadResult> {
    let n = plans.len();
    let timeout = Duration::from_secs(opts.timeout_secs);
    let think = Duration::from_millis(opts.think_ms);
    let interval = Duration::from_millis(opts.interval_ms);
    let (ready_tx, mut ready_rx) = mpsc::channel::<bool>(n.max(1));
    let (start_tx, start_rx) = watch::channel(false);
    let gate = Arc::new(Semaphore::new(CONNECT_CONCURRENCY));
    let connect_started = Instant::now();
    let mut tasks = Vec::with_capacity(n);
    for i in 0..n {
        let plans = plans.clone();
        let ready = ready_tx.clone();
        let mut start = start_rx.clone();
        let gate = gate.clone();
        tasks.push(tokio::spawn(async move {
            let plan = &plans[i];
            let mut out = SessionOutcome { latencies: Vec::with_capacity(plan.frames.len()), ..Default::default() };
            let opened = {
                let _permit = gate.acquire().await.expect("never closed");
                open_session(target, addr, plan, timeout).await
            };
            let _ = ready.send(opened.is_ok()).await;
            drop(ready);
            let mut ws = match opened {
                Ok(ws) => ws,
                Err(e) => {
                    out.error = Some(format!("session {i}: {e:#}"));
                    return out;
                }
            };
            if start.wait_for(|go| *go).await.is_err() {
                return out;
            }
            let conversed = if interval.is_zero() {
                converse(target, &mut ws, plan, think, timeout, i as u64, &mut out).await
            } else {
                crate::openloop::converse(target, &mut ws, plan, interval, timeout, i as u64, &mut out).await
            };
            if let Err(e) = conversed {
                out.error = Some(format!("session {i}: {e:#}"));
            }
            out
        }));
    }
    drop(ready_tx);
    let mut opened = 0;
    let connect_deadline = tokio::time::Instant::now() + Duration::from_secs(opts.max_secs);
    for _ in 0..n {
        match tokio::time::timeout_at(connect_deadline, ready_rx.recv()).await {
            Ok(Some(ok)) => opened += usize::from(ok),
            _ => break,
        }
    }
    let connect = connect_started.elapsed();
    let cpu_before = meter.read();
    let started = Instant::now();
    let _ = start_tx.send(true);
    let run_deadline = tokio::time::Instant::now() + Duration::from_secs(opts.max_secs);
    let mut latencies = Vec::with_capacity(n * opts.messages);
    let mut retries = 0;
    let mut first_error = None;
    let mut elapsed = Duration::ZERO;
    let mut timeline = Vec::new();
    for (session, t) in tasks.into_iter().enumerate() {
        let abort = t.abort_handle();
        match tokio::time::timeout_at(run_deadline, t).await {
            Ok(Ok(out)) => {
                latencies.extend(out.latencies);
                timeline.extend(out.timeline.into_iter().map(|(due, message, ns)| (session, message, due, ns)));
                retries += out.retries;
                if first_error.is_none() {
                    first_error = out.error;
                }
                elapsed = started.elapsed();
            }
            Ok(Err(e)) => first_error = first_error.or(Some(format!("session task failed: {e}"))),
            Err(_) => {
                abort.abort();
                first_error = first_error.or(Some(format!("stopped at the {} s bound", opts.max_secs)));
                elapsed = started.elapsed();
            }
        }
    }
    let server_cpu = cpu_before.zip(meter.read()).map(|(a, b)| b.saturating_sub(a));
    if let Some(path) = opts.latency_csv.as_ref().filter(|_| target == Target::Kituo) {
        crate::openloop::write_timeline(path, &timeline, plans)?;
    }
    let round_trips = latencies.len();
    Ok(LoadResult {
        label: label.to_string(),
        sessions_ok: opened,
        sessions: n,
        round_trips,
        elapsed,
        connect,
        latency: Summary::of(&mut latencies),
        retries,
        first_error,
        server_cpu,
    })
}

/// Everything `chat` measured, for the summary.
pub struct ChatReport {
    pub echo: Option<LoadResult>,
    pub kituo: LoadResult,
}

pub async fn run(opts: &ChatOpts, echo_from_before: Option<LoadResult>) -> anyhow::Result<ChatReport> {
    check_open_files((opts.sessions * 4 + 200) as u64);
    let customers = corpus::demo_customers();
    let plans = Arc::new(plans(opts, &customers));
    let total: usize = plans.iter().map(|p| p.frames.len()).sum();
    println!(
        "\n## chat: {} sessions × {} messages ({} round trips per target), {}",
        opts.sessions,
        opts.messages,
        total,
        pacing(opts)
    );
    if opts.messages > 20 && opts.think_ms < 200 {
        eprintln!(
            "note: the widget socket allows 20 messages in a burst, then 5 per second; \
             refused messages are re-sent after 250 ms and count in their latency"
        );
    }

    let echo = match echo_from_before {
        Some(e) => Some(e),
        None if opts.no_echo => None,
        None => {
            let echo = crate::servers::start_echo().await?;
            let meter = CpuMeter::Threads(ECHO_THREADS);
            Some(run_load("bare tokio-tungstenite echo", Target::Echo, echo.addr, &plans, opts, &meter).await?)
        }
    };

    if let Some(addr) = opts.kituo_addr {
        let meter = opts.kituo_pid.map_or(CpuMeter::None, CpuMeter::Process);
        let label = format!("Kituo widget → bot reply (at {addr})");
        let consoles = match (opts.consoles, &opts.console_token) {
            (0, _) => None,
            (n, Some(token)) => Some(Consoles::open(addr, token, n).await?),
            (_, None) => bail!("--consoles with --kituo-addr needs --console-token"),
        };
        let kituo = run_load(&label, Target::Kituo, addr, &plans, opts, &meter).await?;
        print_load(&echo, &kituo, opts);
        print_consoles(consoles, &kituo);
        return Ok(ChatReport { echo, kituo });
    }
    let temp = TempDir::new("chat")?;
    let pg = match &opts.postgres {
        Some(url) => Some(PgDb::create(url).await?),
        None => None,
    };
    let url = match (&opts.database_url, &pg) {
        (Some(u), _) => u.clone(),
        (None, Some(pg)) => pg.url.clone(),
        (None, None) => temp.sqlite_url("kituo.db"),
    };
    let result = async {
        let server = crate::servers::start_kituo(&url, WIDGET_SECRET).await?;
        let bot = server.hub.bot();
        let misses: Vec<String> =
            corpus::all_texts(&customers).into_iter().filter(|t| bot.rules.classify(t).intent.is_none()).collect();
        if !misses.is_empty() {
            eprintln!("warning: {} corpus messages match no intent (the bot may stay quiet): {misses:?}", misses.len());
        }
        let label = format!("Kituo widget → bot reply ({})", server.backend);
        let meter = CpuMeter::Threads(KITUO_THREADS);
        let consoles = match opts.consoles {
            0 => None,
            n => Some(Consoles::open(server.addr, &crate::consoles::agent_token(&server.hub).await?, n).await?),
        };
        let kituo = run_load(&label, Target::Kituo, server.addr, &plans, opts, &meter).await;
        let phases = if opts.no_phases || kituo.is_err() {
            None
        } else {
            Some(crate::phases::phases(&server.hub, opts, &customers).await)
        };
        let backend = server.backend.clone();
        server.shutdown().await;
        let kituo = kituo?;
        print_load(&echo, &kituo, opts);
        print_consoles(consoles, &kituo);
        if let Some(p) = phases {
            crate::phases::print_phases(&p?, &kituo, &backend);
        }
        anyhow::Ok(kituo)
    }
    .await;
    if let Some(pg) = pg {
        pg.drop_db().await;
    }
    Ok(ChatReport { echo, kituo: result? })
}

/// The consoles' share of the run: frames each read per customer message.
fn print_consoles(consoles: Option<Consoles>, kituo: &LoadResult) {
    let Some(c) = consoles else { return };
    let n = c.tasks_len();
    let frames = c.frames();
    c.close();
    println!(
        "  {n} console(s) watching: {} frames read, {:.1} per console per customer message",
        fmt_int(frames as f64),
        frames as f64 / (n.max(1) * kituo.round_trips.max(1)) as f64
    );
}

/// How the customers pace their messages, in words.
fn pacing(opts: &ChatOpts) -> String {
    if opts.interval_ms > 0 {
        format!("open loop, one message every {} ms per customer", opts.interval_ms)
    } else {
        format!("closed loop, think time {} ms", opts.think_ms)
    }
}

fn print_load(echo: &Option<LoadResult>, kituo: &LoadResult, opts: &ChatOpts) {
    let mut t = Table::new(&[
        "target",
        "sessions",
        "round trips",
        "time",
        "msgs/s",
        "p50",
        "p95",
        "p99",
        "max",
        "vs echo",
        "server CPU/msg",
    ]);
    let echo_rate = echo.as_ref().map(LoadResult::rate);
    for r in echo.iter().chain(std::iter::once(kituo)) {
        let ratio = match echo_rate {
            Some(e) if e > 0.0 => format!("{:.1} %", 100.0 * r.rate() / e),
            _ => "–".into(),
        };
        t.row(vec![
            r.label.clone(),
            format!("{}/{}", r.sessions_ok, r.sessions),
            fmt_int(r.round_trips as f64),
            secs(r.elapsed),
            fmt_int(r.rate()),
            fmt_us(r.latency.p50_us),
            fmt_us(r.latency.p95_us),
            fmt_us(r.latency.p99_us),
            fmt_us(r.latency.max_us),
            ratio,
            crate::servers::per_message(r.server_cpu, r.round_trips),
        ]);
    }
    t.print(&format!(
        "WebSocket round trips ({} concurrent sessions, {} messages each, {})",
        opts.sessions,
        opts.messages,
        pacing(opts)
    ));
    for r in echo.iter().chain(std::iter::once(kituo)) {
        println!("  {}: sockets opened in {}, {} re-sends after refusals", r.label, secs(r.connect), r.retries);
        if let Some(e) = &r.first_error {
            println!("  {}: first error: {e}", r.label);
        }
    }
}
