//! Kituo's benchmarks, one command each (see the README's "Benchmarks" section):
//!
//! ```sh
//! cargo build --release --bins
//! target/release/kituo-bench chat --sessions 1000 --messages 20
//! target/release/kituo-bench idle --connections 10000
//! target/release/kituo-bench match
//! target/release/kituo-bench lookup [--postgres postgres://postgres@127.0.0.1:5432/postgres]
//!     [--tryton tryton://…] [--sql postgres://… --sql-map backoffice/tryton.toml] [--sources-only]
//! target/release/kituo-bench import [--postgres …]
//! target/release/kituo-bench search [--sizes 10000,1000000] [--postgres …]
//! target/release/kituo-bench all [--postgres …]
//! ```
//!
//! Only 127.0.0.1 traffic; every loop is bounded in count and in time; temporary SQLite files
//! and PostgreSQL databases (`kituo_bench_<random>`) are removed afterwards.

mod backoffice;
mod chat;
mod consoles;
mod corpus;
mod idle;
mod matching;
mod openloop;
mod phases;
mod search;
mod servers;
mod sources;
mod util;

use clap::{Parser, Subcommand};
use std::time::Instant;

#[derive(Debug, Parser)]
#[command(name = "kituo-bench", about = "Kituo benchmarks: chat load, idle sockets, matching, lookups, import, search")]
struct Cli {
    #[command(subcommand)]
    scenario: Scenario,
}

#[derive(Debug, Subcommand)]
enum Scenario {
    /// N widget sessions × M messages against Kituo and a bare echo server: msgs/s, p50/p95/p99.
    Chat(chat::ChatOpts),
    /// N idle widget sockets: the server's resident memory (server in a child process).
    Idle(idle::IdleOpts),
    /// µs per intent classification at 6, 16, 106 and 506 intents.
    Match(matching::MatchOpts),
    /// Order lookup latency at 10 thousand and 1 million orders (imports included).
    Lookup(backoffice::LookupOpts),
    /// Rows per second importing a 1-million-row orders CSV.
    Import(backoffice::ImportOpts),
    /// Search latency at 10 thousand and 1 million messages (bulk-loaded history).
    Search(search::SearchOpts),
    /// Every scenario in order with its defaults.
    All(AllOpts),
    /// (internal) Serve Kituo in this process: the `idle` fallback when no `kituo` binary is built.
    #[command(hide = true)]
    ServeChild(Box<kituo::config::ServeArgs>),
    /// (internal) The bare echo server alone: the `idle` baseline.
    #[command(hide = true)]
    ServeEcho {
        #[arg(long)]
        listen: String,
    },
}

#[derive(Debug, Clone, clap::Args)]
struct AllOpts {
    /// PostgreSQL server for the PostgreSQL variants (chat, lookup, import).
    #[arg(long)]
    postgres: Option<String>,
    #[arg(long, default_value_t = 1000)]
    sessions: usize,
    #[arg(long, default_value_t = 20)]
    messages: usize,
    #[arg(long, default_value_t = 10_000)]
    connections: usize,
    #[arg(long, value_delimiter = ',', default_value = "10000,1000000")]
    sizes: Vec<usize>,
    /// Pause between messages (mean) for the paced chat run: customers writing at human speed.
    #[arg(long, default_value_t = 5000)]
    think_ms: u64,
    /// Messages per session in the paced chat run.
    #[arg(long, default_value_t = 5)]
    paced_messages: usize,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async_main(cli))
}

fn machine() -> String {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let ram = util::proc_meminfo_kib("MemTotal")
        .map_or_else(|| "? RAM".into(), |k| format!("{:.1} GiB RAM", k as f64 / 1048576.0));
    format!("{cores} cores ({cpu}), {ram}, tokio worker threads = cores")
}

async fn async_main(cli: Cli) -> anyhow::Result<()> {
    if let Scenario::ServeChild(args) = &cli.scenario {
        let app = kituo::app::App::build(args).await?;
        return app
            .run_until(async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await;
    }
    if let Scenario::ServeEcho { listen } = &cli.scenario {
        let (_, task) = chat::start_echo(listen).await?;
        tokio::select! {
            _ = task => {}
            _ = tokio::signal::ctrl_c() => {}
        }
        return Ok(());
    }
    println!("kituo-bench on {}", machine());
    let started = Instant::now();
    match cli.scenario {
        Scenario::Chat(o) => {
            chat::run(&o, None).await?;
        }
        Scenario::Idle(o) => {
            idle::run(&o).await?;
        }
        Scenario::Match(o) => {
            matching::run(&o)?;
        }
        Scenario::Lookup(o) => {
            backoffice::run_lookup(&o).await?;
        }
        Scenario::Import(o) => {
            backoffice::run_import(&o).await?;
        }
        Scenario::Search(o) => {
            search::run(&o).await?;
        }
        Scenario::All(a) => all(a).await?,
        Scenario::ServeChild(_) | Scenario::ServeEcho { .. } => unreachable!("handled above"),
    }
    println!("\ndone in {}", util::secs(started.elapsed()));
    Ok(())
}

async fn all(a: AllOpts) -> anyhow::Result<()> {
    let chat_opts = chat::ChatOpts {
        sessions: a.sessions,
        messages: a.messages,
        database_url: None,
        postgres: None,
        think_ms: 0,
        interval_ms: 0,
        kituo_addr: None,
        kituo_pid: None,
        timeout_secs: 30,
        max_secs: 600,
        no_echo: false,
        no_phases: false,
        consoles: 0,
        console_token: None,
        latency_csv: None,
    };
    let closed = chat::run(&chat_opts, None).await?;
    let paced_opts =
        chat::ChatOpts { think_ms: a.think_ms, messages: a.paced_messages, no_phases: true, ..chat_opts.clone() };
    let paced = chat::run(&paced_opts, None).await?;
    let pg = match &a.postgres {
        Some(url) => {
            let o = chat::ChatOpts { postgres: Some(url.clone()), ..chat_opts.clone() };
            Some(chat::run(&o, closed.echo.clone()).await?)
        }
        None => None,
    };
    let idle = idle::run(&idle::IdleOpts {
        connections: a.connections,
        kituo_bin: None,
        settle_secs: 3,
        max_secs: 300,
        no_echo: false,
    })
    .await?;
    let matching = matching::run(&matching::MatchOpts { extra: vec![0, 10, 100, 500], secs: 3, intents: None })?;
    // The lookup scenario imports each size through the real importer: its largest import is
    // the `import` scenario's figure, so it is not run a second time.
    let lookups = backoffice::run_lookup(&backoffice::LookupOpts {
        sizes: a.sizes,
        postgres: a.postgres.clone(),
        lookups: 20_000,
        secs: 10,
        sources: sources::SourceOpts::default(),
    })
    .await?;
    let largest = lookups.iter().map(|r| r.orders).max().unwrap_or(0);
    let imports: Vec<backoffice::ImportRow> =
        lookups.iter().filter(|r| r.orders == largest).map(|r| r.import.clone()).collect();
    println!("\n## import: the {}-row imports above", util::fmt_int(largest as f64));
    backoffice::print_imports(&imports);

    // The issue's targets against what was measured.
    let mut t = util::Table::new(&["target (issue 7, 2 cores)", "measured", "met"]);
    let yes = |ok: bool| if ok { "yes" } else { "no" }.to_string();
    if let Some(echo) = &closed.echo {
        let ratio = 100.0 * closed.kituo.rate() / echo.rate().max(1e-9);
        t.row(vec![
            format!("Kituo ≥ 30 % of bare echo throughput ({} sessions, closed loop)", a.sessions),
            format!("{:.1} % ({} vs {} msgs/s)", ratio, util::fmt_int(closed.kituo.rate()), util::fmt_int(echo.rate())),
            yes(ratio >= 30.0),
        ]);
    }
    let p99 = |r: &chat::LoadResult| r.latency.p99_us;
    t.row(vec![
        format!("p99 < 10 ms, {} customers, closed loop (no pause between messages)", a.sessions),
        format!(
            "{} (echo {})",
            util::fmt_us(p99(&closed.kituo)),
            closed.echo.as_ref().map_or("–".into(), |e| util::fmt_us(p99(e)))
        ),
        yes(p99(&closed.kituo) < 10_000.0),
    ]);
    t.row(vec![
        format!("p99 < 10 ms, {} customers writing every ~{} s", a.sessions, a.think_ms as f64 / 1000.0),
        format!(
            "{} at {} msgs/s (echo {})",
            util::fmt_us(p99(&paced.kituo)),
            util::fmt_int(paced.kituo.rate()),
            paced.echo.as_ref().map_or("–".into(), |e| util::fmt_us(p99(e)))
        ),
        yes(p99(&paced.kituo) < 10_000.0),
    ]);
    if let Some(pg) = &pg {
        t.row(vec![
            "the same closed loop on PostgreSQL".into(),
            format!("{} msgs/s, p99 {}", util::fmt_int(pg.kituo.rate()), util::fmt_us(p99(&pg.kituo))),
            "–".into(),
        ]);
    }
    let rss_mb = idle.kituo.rss_after_kib as f64 * 1024.0 / 1e6;
    t.row(vec![
        format!("{} idle widget sockets: Kituo RSS < 150 MB", util::fmt_int(idle.kituo.opened as f64)),
        format!(
            "{:.0} MB ({:.1} KiB/socket; bare echo {:.1} KiB/socket)",
            rss_mb,
            idle.kituo.per_socket_kib(),
            idle.echo.as_ref().map_or(0.0, idle::IdleResult::per_socket_kib)
        ),
        yes(rss_mb < 150.0 && idle.kituo.opened == idle.kituo.connections),
    ]);
    if let (Some(small), Some(big)) = (matching.iter().find(|r| r.intents > 6 && r.intents < 50), matching.last()) {
        let ratio = big.latency.mean_us / small.latency.mean_us.max(1e-9);
        t.row(vec![
            "intent matching flat from 10 to 500 rules".into(),
            format!(
                "{} → {} per message (×{:.1})",
                util::fmt_us(small.latency.mean_us),
                util::fmt_us(big.latency.mean_us),
                ratio
            ),
            yes(ratio < 2.0),
        ]);
    }
    for backend in ["SQLite", "PostgreSQL"] {
        let rows: Vec<&backoffice::LookupRow> = lookups.iter().filter(|r| r.backend == backend).collect();
        if let (Some(first), Some(last)) = (rows.first(), rows.last())
            && rows.len() > 1
        {
            let ratio = last.latency.mean_us / first.latency.mean_us.max(1e-9);
            t.row(vec![
                format!(
                    "order lookup flat from {} to {} orders ({backend})",
                    util::fmt_int(first.orders as f64),
                    util::fmt_int(last.orders as f64)
                ),
                format!(
                    "{} → {} mean, p99 {} → {}",
                    util::fmt_us(first.latency.mean_us),
                    util::fmt_us(last.latency.mean_us),
                    util::fmt_us(first.latency.p99_us),
                    util::fmt_us(last.latency.p99_us)
                ),
                yes(ratio < 2.0),
            ]);
        }
    }
    for i in &imports {
        t.row(vec![
            format!("import {} orders ({}), no numeric target", util::fmt_int(i.rows as f64), i.backend),
            format!("{} rows/s", util::fmt_int(i.rate())),
            "–".into(),
        ]);
    }
    t.print("Targets");
    Ok(())
}
