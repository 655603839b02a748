//! `chat`: N widget sessions × M messages, closed loop, against Kituo in-process and against a
//! bare tokio-tungstenite echo server in the same run; then the same load straight into the hub
//! (no socket) and single-message timings of the bot's parts, to see where the time goes.

use crate::corpus::{self, Customer};
use crate::util::{PgDb, Summary, Table, TempDir, check_open_files, fmt_int, fmt_us, secs};
use anyhow::{Context, bail};
use futures_util::{SinkExt, StreamExt};
use hmac::{Hmac, Mac};
use kituo::app::App;
use kituo::config::ServeArgs;
use kituo::hub::Hub;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Deserialize;
use sha2::Sha256;
use std::net::SocketAddr;
use std::path::Path;
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
}

impl LoadResult {
    pub fn rate(&self) -> f64 {
        self.round_trips as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// What one session does: its frames, prepared before the clock starts.
struct Plan {
    identify: Option<String>,
    /// (frame text, its client_msg_id)
    frames: Vec<(String, String)>,
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
enum Target {
    Echo,
    Kituo,
}

/// The fields of a Kituo frame the generator looks at (the rest is skipped unparsed).
#[derive(Deserialize)]
struct Frame<'a> {
    #[serde(rename = "type", borrow)]
    kind: &'a str,
    #[serde(default, borrow)]
    client_msg_id: Option<&'a str>,
    #[serde(default)]
    seq: Option<i64>,
    #[serde(default, borrow)]
    author: Option<&'a str>,
    #[serde(default, borrow)]
    code: Option<&'a str>,
}

#[derive(Default)]
struct SessionOutcome {
    latencies: Vec<u64>,
    retries: u64,
    error: Option<String>,
}

type Ws = tokio_tungstenite::WebSocketStream<TcpStream>;

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
) -> anyhow::Result<LoadResult> {
    let n = plans.len();
    let timeout = Duration::from_secs(opts.timeout_secs);
    let think = Duration::from_millis(opts.think_ms);
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
            if let Err(e) = converse(target, &mut ws, plan, think, timeout, i as u64, &mut out).await {
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
    let started = Instant::now();
    let _ = start_tx.send(true);
    let run_deadline = tokio::time::Instant::now() + Duration::from_secs(opts.max_secs);
    let mut latencies = Vec::with_capacity(n * opts.messages);
    let mut retries = 0;
    let mut first_error = None;
    let mut elapsed = Duration::ZERO;
    for t in tasks {
        let abort = t.abort_handle();
        match tokio::time::timeout_at(run_deadline, t).await {
            Ok(Ok(out)) => {
                latencies.extend(out.latencies);
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
    })
}

/// Kituo with demo data, served in this process on 127.0.0.1:0.
struct Server {
    addr: SocketAddr,
    hub: Arc<Hub>,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
    backend: String,
}

async fn start_kituo(database_url: &str) -> anyhow::Result<Server> {
    let mut args = ServeArgs::new("127.0.0.1:0", database_url);
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    args.intents = root.join("intents");
    args.templates = root.join("templates");
    args.widget_secret = Some(WIDGET_SECRET.to_string());
    // Every generated customer connects from 127.0.0.1.
    args.max_sockets_per_ip = 0;
    let app = App::build(&args).await.context("Kituo did not start")?;
    let addr = app.local_addr();
    let hub = app.hub();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(app.run_until(async move {
        let _ = stopped.await;
    }));
    let backend = if database_url.starts_with("sqlite") { "SQLite" } else { "PostgreSQL" }.to_string();
    Ok(Server { addr, hub, stop, task, backend })
}

impl Server {
    async fn shutdown(self) {
        let _ = self.stop.send(());
        match tokio::time::timeout(Duration::from_secs(20), self.task).await {
            Ok(Ok(Ok(()))) => {}
            Ok(Ok(Err(e))) => eprintln!("warning: Kituo stopped with an error: {e:#}"),
            Ok(Err(e)) => eprintln!("warning: Kituo task failed: {e}"),
            Err(_) => eprintln!("warning: Kituo did not stop within 20 s"),
        }
    }
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
        "\n## chat: {} sessions × {} messages ({} round trips per target), think time {} ms",
        opts.sessions, opts.messages, total, opts.think_ms
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
            let (addr, task) = start_echo("127.0.0.1:0").await?;
            let r = run_load("bare tokio-tungstenite echo", Target::Echo, addr, &plans, opts).await;
            task.abort();
            Some(r?)
        }
    };

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
        let server = start_kituo(&url).await?;
        let bot = server.hub.bot();
        let misses: Vec<String> =
            corpus::all_texts(&customers).into_iter().filter(|t| bot.rules.classify(t).intent.is_none()).collect();
        if !misses.is_empty() {
            eprintln!("warning: {} corpus messages match no intent (the bot may stay quiet): {misses:?}", misses.len());
        }
        let label = format!("Kituo widget → bot reply ({})", server.backend);
        let kituo = run_load(&label, Target::Kituo, server.addr, &plans, opts).await;
        let phases =
            if opts.no_phases || kituo.is_err() { None } else { Some(phases(&server.hub, opts, &customers).await) };
        let backend = server.backend.clone();
        server.shutdown().await;
        let kituo = kituo?;
        print_load(&echo, &kituo, opts);
        if let Some(p) = phases {
            print_phases(&p?, &kituo, &backend);
        }
        anyhow::Ok(kituo)
    }
    .await;
    if let Some(pg) = pg {
        pg.drop_db().await;
    }
    Ok(ChatReport { echo, kituo: result? })
}

fn print_load(echo: &Option<LoadResult>, kituo: &LoadResult, opts: &ChatOpts) {
    let mut t =
        Table::new(&["target", "sessions", "round trips", "time", "msgs/s", "p50", "p95", "p99", "max", "vs echo"]);
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
        ]);
    }
    t.print(&format!(
        "WebSocket round trips ({} concurrent sessions, {} messages each, think time {} ms)",
        opts.sessions, opts.messages, opts.think_ms
    ));
    for r in echo.iter().chain(std::iter::once(kituo)) {
        println!("  {}: sockets opened in {}, {} re-sends after refusals", r.label, secs(r.connect), r.retries);
        if let Some(e) = &r.first_error {
            println!("  {}: first error: {e}", r.label);
        }
    }
}

struct Phases {
    classify: Summary,
    respond_memory: Summary,
    respond_store: Summary,
    lookup: Summary,
    hub_reads: Summary,
    hub_serial: Summary,
    hub_load: LoadResult,
}

/// Runs `f` over `items` repeatedly (at most 200 rounds, about 2 s) and summarises each call.
async fn time_each<T, R>(items: &[T], mut f: impl AsyncFnMut(&T) -> anyhow::Result<R>) -> anyhow::Result<Summary> {
    let budget = Duration::from_secs(2);
    let mut samples = Vec::new();
    let started = Instant::now();
    for _ in 0..200 {
        for item in items {
            let s = Instant::now();
            std::hint::black_box(f(item).await?);
            samples.push(s.elapsed().as_nanos() as u64);
        }
        if started.elapsed() > budget {
            break;
        }
    }
    Ok(Summary::of(&mut samples))
}

/// Where a bot round trip's time goes, measured on the running instance: the hub without any
/// socket (one at a time, then the same N×M load), the bot with the back office in memory and
/// in the store, the matcher alone, one order lookup, and the hub's own reads per message.
async fn phases(hub: &Arc<Hub>, opts: &ChatOpts, customers: &[Customer]) -> anyhow::Result<Phases> {
    let bot = hub.bot();
    // The messages of ten identified customers' scripts: the same mix the sessions send.
    let scripts: Vec<(&Customer, Vec<String>)> = (0..10)
        .map(|s| {
            let c = &customers[s % customers.len()];
            (c, corpus::script(s, 20, true, c))
        })
        .collect();
    let cases: Vec<(String, Vec<String>)> =
        scripts.iter().flat_map(|(c, texts)| texts.iter().map(|t| (t.clone(), vec![c.email.to_lowercase()]))).collect();
    let texts: Vec<String> = cases.iter().map(|(t, _)| t.clone()).collect();

    let classify = time_each(&texts, async |t: &String| Ok(bot.rules.classify(t))).await?;

    // The bot's whole decision (match, dialogue, lookups, render) for a verified customer.
    let memo = memo::Memo::new(hub.clone());
    for (text, verified) in &cases {
        respond_once(&bot, &memo, text, verified).await?; // fills the memo
    }
    let respond_memory = time_each(&cases, async |(text, verified): &(String, Vec<String>)| {
        respond_once(&bot, &memo, text, verified).await
    })
    .await?;
    let respond_store = time_each(&cases, async |(text, verified): &(String, Vec<String>)| {
        respond_once(&bot, hub.backoffice(), text, verified).await
    })
    .await?;

    // One back-office order lookup through the store.
    let keys: Vec<String> =
        customers.iter().flat_map(|c| c.orders.iter().map(|o| kituo::backoffice::record_key(o))).collect();
    let lookup = time_each(&keys, async |k: &String| Ok(hub.store().order_by_key(k.clone()).await?)).await?;

    // The reads the hub makes around the bot for every message: duplicate check, conversation
    // (before and after), verified emails, the console summary.
    let session = hub.visitor_session(None).await?;
    let store = hub.store();
    let one = [()];
    let hub_reads = time_each(&one, async |_: &()| {
        store.message_by_client_id(&session.conversation_id, "bench-none").await?;
        store.conversation(&session.conversation_id).await?;
        store.verified_emails(&session.contact_id).await?;
        store.conversation(&session.conversation_id).await?;
        store.conversation_summary(&session.conversation_id).await?;
        Ok(())
    })
    .await?;

    // The hub end to end (store in, match, lookup, render, store out, publish), no socket:
    // first one message at a time, then the same N×M load as the sockets.
    let mut samples = Vec::new();
    for (s, (customer, script)) in scripts.iter().enumerate() {
        let session = hub.visitor_session(None).await?;
        hub.identify(&session.contact_id, &customer.email.to_lowercase(), Some(&customer.name)).await?;
        for (i, text) in script.iter().enumerate() {
            let st = Instant::now();
            hub.customer_message(&session.conversation_id, text, Some(&format!("serial-{s}-{i}"))).await?;
            samples.push(st.elapsed().as_nanos() as u64);
        }
    }
    let hub_serial = Summary::of(&mut samples);
    let hub_load = hub_direct_load(hub, opts, customers).await?;
    Ok(Phases { classify, respond_memory, respond_store, lookup, hub_reads, hub_serial, hub_load })
}

async fn respond_once(
    bot: &kituo::bot::Bot,
    backoffice: &dyn kituo::backoffice::BackOffice,
    text: &str,
    verified: &[String],
) -> anyhow::Result<kituo::bot::Outcome> {
    use kituo::bot::{DialogueState, Input};
    use kituo::domain::{ConversationStatus, Locale};
    let input = Input {
        text,
        state: DialogueState::default(),
        locale: Locale::En,
        status: ConversationStatus::Bot,
        verified_emails: verified,
    };
    Ok(bot.respond(input, backoffice).await?)
}

async fn hub_direct_load(hub: &Arc<Hub>, opts: &ChatOpts, customers: &[Customer]) -> anyhow::Result<LoadResult> {
    let n = opts.sessions;
    let connect_started = Instant::now();
    let mut sessions = Vec::with_capacity(n);
    for s in 0..n {
        let customer = &customers[s % customers.len()];
        let identified = s % 2 == 0;
        let session = hub.visitor_session(None).await?;
        if identified {
            hub.identify(&session.contact_id, &customer.email.to_lowercase(), Some(&customer.name)).await?;
        }
        sessions.push((session.conversation_id, corpus::script(s, opts.messages, identified, customer)));
    }
    let connect = connect_started.elapsed();
    let started = Instant::now();
    let deadline = started + Duration::from_secs(opts.max_secs);
    let think = Duration::from_millis(opts.think_ms);
    let mut tasks = Vec::with_capacity(n);
    for (s, (conversation_id, script)) in sessions.into_iter().enumerate() {
        let hub = hub.clone();
        tasks.push(tokio::spawn(async move {
            let mut out = SessionOutcome::default();
            let mut rng = StdRng::seed_from_u64(s as u64);
            if !think.is_zero() {
                tokio::time::sleep(think.mul_f64(rng.random_range(0.0..1.0))).await;
            }
            for (i, text) in script.iter().enumerate() {
                if Instant::now() > deadline {
                    out.error = Some("time bound reached".into());
                    break;
                }
                let st = Instant::now();
                if let Err(e) = hub.customer_message(&conversation_id, text, Some(&format!("direct-{s}-{i}"))).await {
                    out.error = Some(format!("session {s}: {e}"));
                    break;
                }
                out.latencies.push(st.elapsed().as_nanos() as u64);
                if !think.is_zero() {
                    tokio::time::sleep(think.mul_f64(rng.random_range(0.5..1.5))).await;
                }
            }
            out
        }));
    }
    let mut latencies = Vec::new();
    let mut first_error = None;
    for t in tasks {
        let out = t.await?;
        latencies.extend(out.latencies);
        first_error = first_error.or(out.error);
    }
    let elapsed = started.elapsed();
    Ok(LoadResult {
        label: "Kituo hub, no socket".into(),
        sessions_ok: n,
        sessions: n,
        round_trips: latencies.len(),
        elapsed,
        connect,
        latency: Summary::of(&mut latencies),
        retries: 0,
        first_error,
    })
}

fn print_phases(p: &Phases, ws: &LoadResult, backend: &str) {
    let mut t = Table::new(&["part of the round trip", "mean", "p50", "p99", "msgs/s"]);
    let row = |t: &mut Table, name: &str, s: &Summary, rate: f64| {
        t.row(vec![name.to_string(), fmt_us(s.mean_us), fmt_us(s.p50_us), fmt_us(s.p99_us), fmt_int(rate)]);
    };
    let per_sec = |s: &Summary| if s.mean_us > 0.0 { 1e6 / s.mean_us } else { 0.0 };
    row(&mut t, "intent match only (normalise + RegexSet + slots)", &p.classify, per_sec(&p.classify));
    row(
        &mut t,
        "bot decision, back office in memory (match + dialogue + render)",
        &p.respond_memory,
        per_sec(&p.respond_memory),
    );
    row(
        &mut t,
        &format!("bot decision, back office in {backend} (+ lookups)"),
        &p.respond_store,
        per_sec(&p.respond_store),
    );
    row(&mut t, &format!("one order lookup (store.order_by_key, {backend})"), &p.lookup, per_sec(&p.lookup));
    row(&mut t, "the hub's 5 other reads per message", &p.hub_reads, per_sec(&p.hub_reads));
    row(&mut t, &format!("hub.customer_message, one at a time ({backend})"), &p.hub_serial, per_sec(&p.hub_serial));
    row(
        &mut t,
        &format!("hub.customer_message, {} concurrent sessions, no socket", p.hub_load.sessions),
        &p.hub_load.latency,
        p.hub_load.rate(),
    );
    row(&mut t, "the same load over the widget WebSocket", &ws.latency, ws.rate());
    t.print("Where a Kituo round trip's time goes (same process, same database)");
    let rest = p.hub_serial.mean_us - p.respond_store.mean_us - p.hub_reads.mean_us;
    println!(
        "  one message at a time: {} = bot with lookups {} + hub reads {} + rest {} \
         (the write transaction: customer message, replies, dialogue state, audit; and publishing)",
        fmt_us(p.hub_serial.mean_us),
        fmt_us(p.respond_store.mean_us),
        fmt_us(p.hub_reads.mean_us),
        fmt_us(rest.max(0.0)),
    );
    if let Some(e) = &p.hub_load.first_error {
        println!("  hub load: first error: {e}");
    }
}

/// A back office answering from memory after the first lookup of each key (for timing the bot
/// without the database).
mod memo {
    use futures_util::future::BoxFuture;
    use kituo::backoffice::{BackOffice, Invoice, Order, Product, Result};
    use kituo::hub::Hub;
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex};

    pub struct Memo {
        hub: Arc<Hub>,
        orders: Mutex<HashMap<String, Option<Order>>>,
        invoices: Mutex<HashMap<String, Option<Invoice>>>,
        stock: Mutex<HashMap<String, Vec<Product>>>,
    }

    impl Memo {
        pub fn new(hub: Arc<Hub>) -> Memo {
            Memo { hub, orders: Mutex::default(), invoices: Mutex::default(), stock: Mutex::default() }
        }
    }

    fn cached<'a, T: Clone + Send + 'a>(
        map: &'a Mutex<HashMap<String, T>>,
        key: &'a str,
        load: impl FnOnce() -> BoxFuture<'a, Result<T>> + Send + 'a,
    ) -> BoxFuture<'a, Result<T>> {
        if let Some(v) = map.lock().expect("memo lock").get(key) {
            let v = v.clone();
            return Box::pin(async move { Ok(v) });
        }
        Box::pin(async move {
            let v = load().await?;
            map.lock().expect("memo lock").insert(key.to_string(), v.clone());
            Ok(v)
        })
    }

    impl BackOffice for Memo {
        fn order<'a>(&'a self, number: &'a str) -> BoxFuture<'a, Result<Option<Order>>> {
            cached(&self.orders, number, || self.hub.backoffice().order(number))
        }

        fn invoice<'a>(&'a self, number: &'a str) -> BoxFuture<'a, Result<Option<Invoice>>> {
            cached(&self.invoices, number, || self.hub.backoffice().invoice(number))
        }

        fn orders_of<'a>(&'a self, email: &'a str) -> BoxFuture<'a, Result<Vec<Order>>> {
            self.hub.backoffice().orders_of(email)
        }

        fn invoices_of<'a>(&'a self, email: &'a str) -> BoxFuture<'a, Result<Vec<Invoice>>> {
            self.hub.backoffice().invoices_of(email)
        }

        fn stock<'a>(&'a self, query: &'a str) -> BoxFuture<'a, Result<Vec<Product>>> {
            cached(&self.stock, query, || self.hub.backoffice().stock(query))
        }
    }
}
