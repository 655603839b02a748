//! Kituo's benchmarks, one command each (see the README's "Benchmarks" section):
//!
//! ```sh
//! cargo build --release --bins
//! target/release/kituo-bench chat --sessions 1000 --messages 20
//! target/release/kituo-bench idle --connections 10000
//! target/release/kituo-bench match
//! target/release/kituo-bench lookup [--postgres postgres://postgres@127.0.0.1:5432/postgres]
//! target/release/kituo-bench import [--postgres …]
//! target/release/kituo-bench all [--postgres …]
//! ```
//!
//! Only 127.0.0.1 traffic; every loop is bounded in count and in time; temporary SQLite files
//! and PostgreSQL databases (`kituo_bench_<random>`) are removed afterwards.

mod backoffice;
mod chat;
mod corpus;
mod idle;
mod matching;
mod util;

use clap::{Parser, Subcommand};
use std::time::Instant;

#[derive(Debug, Parser)]
#[command(name = "kituo-bench", about = "Kituo benchmarks: chat load, idle sockets, matching, lookups, import")]
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
    /// Every scenario in order with its defaults.
    All(AllOpts),
    /// (internal) Serve Kituo in this process: the `idle` fallback when no `kituo` binary is built.
    #[command(hide = true)]
    ServeChild(kituo::config::ServeArgs),
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
        timeout_secs: 30,
        max_secs: 600,
        no_echo: false,
        no_phases: false,
    };
    let sqlite = chat::run(&chat_opts, None).await?;
    if let Some(pg) = &a.postgres {
        let o = chat::ChatOpts { postgres: Some(pg.clone()), ..chat_opts.clone() };
        chat::run(&o, sqlite.echo.clone()).await?;
    }
    idle::run(&idle::IdleOpts {
        connections: a.connections,
        kituo_bin: None,
        settle_secs: 3,
        max_secs: 300,
        no_echo: false,
    })
    .await?;
    matching::run(&matching::MatchOpts { extra: vec![0, 10, 100, 500], secs: 3, intents: None })?;
    // The lookup scenario imports each size through the real importer: its largest import is
    // the `import` scenario's figure, so it is not run a second time.
    let lookups = backoffice::run_lookup(&backoffice::LookupOpts {
        sizes: a.sizes,
        postgres: a.postgres.clone(),
        lookups: 20_000,
        secs: 10,
    })
    .await?;
    let largest = lookups.iter().map(|r| r.orders).max().unwrap_or(0);
    println!("\n## import: the {} -row imports above", util::fmt_int(largest as f64));
    backoffice::print_imports(
        &lookups.iter().filter(|r| r.orders == largest).map(|r| r.import.clone()).collect::<Vec<_>>(),
    );
    Ok(())
}
