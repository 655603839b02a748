//! The servers `chat` drives in-process (Kituo, the bare echo), each on its own tokio runtime,
//! and their CPU time per message: utime + stime of the server's threads (or of a server
//! process given by pid) before and after a load run. Unlike msgs/s it barely moves when other work shares the
//! machine, so it is the figure to compare changes by on a loaded host.
//!
//! In-process servers (Kituo, the bare echo) run on their own tokio runtime with named threads,
//! so the generator's threads are not counted: the runtime's workers and blocking threads and
//! sqlx's SQLite worker threads are. A thread that exits during a run (an idle blocking-pool
//! thread) takes its time with it, so the figure is a slight undercount, never an overcount.

use anyhow::Context;
use kituo::app::App;
use kituo::config::ServeArgs;
use kituo::hub::Hub;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::runtime::Runtime;

/// Thread name prefixes of the in-process Kituo (its runtime, sqlx's SQLite connection threads;
/// the kernel keeps 15 bytes of a thread's name).
pub const KITUO_THREADS: &[&str] = &["kituo-server", "sqlx-sqlite-wor"];
pub const ECHO_THREADS: &[&str] = &["echo-server"];

/// Whose CPU time a run is charged with.
#[derive(Debug, Clone)]
pub enum CpuMeter {
    /// Threads of this process whose names start with one of these.
    Threads(&'static [&'static str]),
    /// A whole server process (`--kituo-pid`).
    Process(u32),
    None,
}

impl CpuMeter {
    /// CPU time used so far; `None` when `/proc` cannot tell.
    pub fn read(&self) -> Option<Duration> {
        match self {
            CpuMeter::Threads(prefixes) => {
                let mut ticks = 0;
                for entry in std::fs::read_dir("/proc/self/task").ok()?.flatten() {
                    let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else { continue };
                    if let Some((name, t)) = parse_stat(&stat)
                        && prefixes.iter().any(|p| name.starts_with(p))
                    {
                        ticks += t;
                    }
                }
                Some(from_ticks(ticks))
            }
            CpuMeter::Process(pid) => {
                let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
                parse_stat(&stat).map(|(_, t)| from_ticks(t))
            }
            CpuMeter::None => None,
        }
    }
}

/// A multi-thread runtime whose threads are all named `name` (workers and blocking pool).
pub fn server_runtime(name: &str) -> anyhow::Result<Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread().thread_name(name).enable_all().build()?)
}

/// Kituo with demo data, served on 127.0.0.1:0 on its own runtime (threads `kituo-server`).
pub struct Server {
    pub addr: SocketAddr,
    pub hub: Arc<Hub>,
    pub backend: String,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
    runtime: Runtime,
}

pub async fn start_kituo(database_url: &str, widget_secret: &str) -> anyhow::Result<Server> {
    let mut args = ServeArgs::new("127.0.0.1:0", database_url);
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    args.intents = root.join("intents");
    args.templates = root.join("templates");
    args.widget_secret = Some(widget_secret.into());
    // Every generated customer connects from 127.0.0.1.
    args.max_sockets_per_ip = 0;
    let runtime = server_runtime("kituo-server")?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    // Built inside its runtime, so the tasks it spawns (committer, workers) run there too
    // (`App::build`'s future is not `Send`, so it is driven by `block_on` on a blocking thread).
    let handle = runtime.handle().clone();
    let app = tokio::task::spawn_blocking(move || handle.block_on(App::build(&args)))
        .await?
        .context("Kituo did not start")?;
    let (addr, hub) = (app.local_addr(), app.hub());
    let task = runtime.spawn(app.run_until(async move {
        let _ = stopped.await;
    }));
    let backend = if database_url.starts_with("sqlite") { "SQLite" } else { "PostgreSQL" }.to_string();
    Ok(Server { addr, hub, backend, stop, task, runtime })
}

impl Server {
    pub async fn shutdown(self) {
        let _ = self.stop.send(());
        match tokio::time::timeout(Duration::from_secs(20), self.task).await {
            Ok(Ok(Ok(()))) => {}
            Ok(Ok(Err(e))) => eprintln!("warning: Kituo stopped with an error: {e:#}"),
            Ok(Err(e)) => eprintln!("warning: Kituo task failed: {e}"),
            Err(_) => eprintln!("warning: Kituo did not stop within 20 s"),
        }
        // Dropping a runtime may not block inside another one.
        self.runtime.shutdown_background();
    }
}

/// The bare echo server on its own runtime (threads `echo-server`); stopped when dropped.
pub struct Echo {
    pub addr: SocketAddr,
    runtime: Option<Runtime>,
}

pub async fn start_echo() -> anyhow::Result<Echo> {
    let runtime = server_runtime("echo-server")?;
    let (addr, _task) = runtime.spawn(crate::chat::start_echo("127.0.0.1:0")).await??;
    Ok(Echo { addr, runtime: Some(runtime) })
}

impl Drop for Echo {
    fn drop(&mut self) {
        if let Some(r) = self.runtime.take() {
            r.shutdown_background();
        }
    }
}

/// `USER_HZ`: 100 on every Linux build that matters (`getconf CLK_TCK`).
const TICKS_PER_SEC: u64 = 100;

fn from_ticks(ticks: u64) -> Duration {
    Duration::from_millis(ticks * 1000 / TICKS_PER_SEC)
}

/// (thread name, utime + stime in ticks) from a `/proc/…/stat` line. The name sits in
/// parentheses and may itself hold spaces or parentheses, so fields count from the last `)`.
fn parse_stat(stat: &str) -> Option<(&str, u64)> {
    let open = stat.find('(')?;
    let close = stat.rfind(')')?;
    let name = stat.get(open + 1..close)?;
    // After ") ": state is field 3, utime field 14, stime field 15.
    let mut fields = stat.get(close + 2..)?.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some((name, utime + stime))
}

/// µs of CPU per message, for a table cell.
pub fn per_message(cpu: Option<Duration>, messages: usize) -> String {
    match cpu {
        Some(c) if messages > 0 => format!("{:.0} µs", c.as_secs_f64() * 1e6 / messages as f64),
        _ => "–".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_fields_count_from_the_name_end() {
        let line = "4242 (sqlx-sqlite-wor) S 1 2 3 4 5 6 7 8 9 10 120 35 0 0 20 0 1 0";
        assert_eq!(parse_stat(line), Some(("sqlx-sqlite-wor", 155)));
        let odd = "7 (a) b) R 1 2 3 4 5 6 7 8 9 10 3 4 0 0";
        assert_eq!(parse_stat(odd), Some(("a) b", 7)));
    }

    #[test]
    fn this_thread_is_counted() {
        assert!(CpuMeter::Process(std::process::id()).read().is_some());
        assert_eq!(CpuMeter::Threads(&["no-such-thread"]).read(), Some(Duration::ZERO));
    }
}
