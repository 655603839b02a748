//! Shared helpers: latency statistics, plain-text tables, temporary folders and databases,
//! process memory and file-descriptor limits.

use anyhow::Context;
use sqlx::Connection;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Latency summary of a set of samples (nanoseconds in, microseconds out).
#[derive(Debug, Clone, Copy, Default)]
pub struct Summary {
    pub n: usize,
    pub mean_us: f64,
    pub p50_us: f64,
    pub p95_us: f64,
    pub p99_us: f64,
    pub max_us: f64,
}

impl Summary {
    /// Sorts `samples` (nanoseconds) in place and summarises them.
    pub fn of(samples: &mut [u64]) -> Summary {
        if samples.is_empty() {
            return Summary::default();
        }
        samples.sort_unstable();
        let n = samples.len();
        let sum: u128 = samples.iter().map(|&s| u128::from(s)).sum();
        let pick = |q: f64| {
            let rank = ((q * n as f64).ceil() as usize).clamp(1, n);
            samples[rank - 1] as f64 / 1000.0
        };
        Summary {
            n,
            mean_us: sum as f64 / n as f64 / 1000.0,
            p50_us: pick(0.50),
            p95_us: pick(0.95),
            p99_us: pick(0.99),
            max_us: samples[n - 1] as f64 / 1000.0,
        }
    }
}

/// Microseconds, shown as µs below 10 ms and as ms above.
pub fn fmt_us(us: f64) -> String {
    if us >= 10_000.0 {
        format!("{:.1} ms", us / 1000.0)
    } else if us >= 1000.0 {
        format!("{:.2} ms", us / 1000.0)
    } else if us >= 10.0 {
        format!("{us:.0} µs")
    } else {
        format!("{us:.2} µs")
    }
}

/// Thousands separators for counts and rates.
pub fn fmt_int(v: f64) -> String {
    let s = format!("{:.0}", v.max(0.0));
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A plain-text table with aligned columns (Markdown-compatible, so it can be pasted).
pub struct Table {
    headers: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(headers: &[&str]) -> Table {
        Table { headers: headers.iter().map(|h| h.to_string()).collect(), rows: Vec::new() }
    }

    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    pub fn print(&self, title: &str) {
        let cols = self.headers.len();
        let mut width: Vec<usize> = self.headers.iter().map(|h| h.chars().count()).collect();
        for r in &self.rows {
            for (i, c) in r.iter().enumerate().take(cols) {
                width[i] = width[i].max(c.chars().count());
            }
        }
        let line = |cells: &[String]| {
            let mut s = String::from("|");
            for (i, w) in width.iter().enumerate() {
                let c = cells.get(i).map(String::as_str).unwrap_or("");
                let pad = w - c.chars().count();
                // First column left-aligned, numbers right-aligned.
                if i == 0 {
                    s.push_str(&format!(" {c}{} |", " ".repeat(pad)));
                } else {
                    s.push_str(&format!(" {}{c} |", " ".repeat(pad)));
                }
            }
            s
        };
        println!("\n{title}\n");
        println!("{}", line(&self.headers));
        let mut sep = String::from("|");
        for (i, w) in width.iter().enumerate() {
            if i == 0 {
                sep.push_str(&format!("{}|", "-".repeat(w + 2)));
            } else {
                sep.push_str(&format!("{}:|", "-".repeat(w + 1)));
            }
        }
        println!("{sep}");
        for r in &self.rows {
            println!("{}", line(r));
        }
    }
}

/// A folder under the system temp dir, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> anyhow::Result<TempDir> {
        let path = std::env::temp_dir().join(format!("kituo-bench-{tag}-{:016x}", rand::random::<u64>()));
        std::fs::create_dir_all(&path).with_context(|| format!("cannot create {}", path.display()))?;
        Ok(TempDir(path))
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    pub fn sqlite_url(&self, file: &str) -> String {
        format!("sqlite://{}", self.0.join(file).display())
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A fresh PostgreSQL database `kituo_bench_<random>` on the server of `admin_url`, dropped
/// by [`PgDb::drop_db`].
pub struct PgDb {
    admin_url: String,
    name: String,
    pub url: String,
}

impl PgDb {
    pub async fn create(admin_url: &str) -> anyhow::Result<PgDb> {
        let name = format!("kituo_bench_{:012x}", rand::random::<u64>() & 0xffff_ffff_ffff);
        let mut conn = sqlx::postgres::PgConnection::connect(admin_url)
            .await
            .with_context(|| format!("cannot connect to {}", kituo::app::redact(admin_url)))?;
        sqlx::query(sqlx::AssertSqlSafe(format!("create database {name}")))
            .execute(&mut conn)
            .await
            .with_context(|| format!("cannot create database {name}"))?;
        conn.close().await.ok();
        let url = with_database(admin_url, &name);
        println!("  PostgreSQL: fresh database {name} (dropped afterwards)");
        Ok(PgDb { admin_url: admin_url.to_string(), name, url })
    }

    /// Drops the database (closing any connection still open to it).
    pub async fn drop_db(self) {
        let result = async {
            let mut conn = sqlx::postgres::PgConnection::connect(&self.admin_url).await?;
            sqlx::query(sqlx::AssertSqlSafe(format!("drop database if exists {} with (force)", self.name)))
                .execute(&mut conn)
                .await?;
            conn.close().await
        }
        .await;
        if let Err(e) = result {
            eprintln!("warning: could not drop database {}: {e}", self.name);
        }
    }
}

/// `postgres://user@host:port/db?x` with the database replaced by `name`.
pub fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (url, String::new()),
    };
    let after_scheme = base.find("://").map_or(0, |i| i + 3);
    let host_part_end = base[after_scheme..].find('/').map_or(base.len(), |i| after_scheme + i);
    format!("{}/{name}{query}", &base[..host_part_end])
}

/// A line of `/proc/<pid>/status` in KiB, e.g. `VmRSS` (pid `None` = this process).
pub fn proc_status_kib(pid: Option<u32>, field: &str) -> Option<u64> {
    let path = match pid {
        Some(p) => format!("/proc/{p}/status"),
        None => "/proc/self/status".to_string(),
    };
    let text = std::fs::read_to_string(path).ok()?;
    text.lines()
        .find(|l| l.starts_with(field) && l[field.len()..].starts_with(':'))
        .and_then(|l| l[field.len() + 1..].trim().trim_end_matches("kB").trim().parse().ok())
}

/// A line of `/proc/meminfo` in KiB, e.g. `MemTotal`.
pub fn proc_meminfo_kib(field: &str) -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    text.lines()
        .find(|l| l.starts_with(field) && l[field.len()..].starts_with(':'))
        .and_then(|l| l[field.len() + 1..].trim().trim_end_matches("kB").trim().parse().ok())
}

/// The soft limit on open files of this process, from `/proc/self/limits`.
pub fn open_files_limit() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = text.lines().find(|l| l.starts_with("Max open files"))?;
    line["Max open files".len()..].split_whitespace().next()?.parse().ok()
}

/// Warns when `needed` file descriptors exceed the soft limit (each socket is one).
pub fn check_open_files(needed: u64) {
    if let Some(limit) = open_files_limit()
        && limit < needed
    {
        eprintln!(
            "warning: this run needs about {needed} open files but the limit is {limit}; \
             run `ulimit -n 65536` in this shell first"
        );
    }
}

/// MiB with one decimal.
pub fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

pub fn secs(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_is_replaced() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/test", "x"),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(with_database("postgres://u:p@h/test?sslmode=disable", "x"), "postgres://u:p@h/x?sslmode=disable");
        assert_eq!(with_database("postgres://h:5432", "x"), "postgres://h:5432/x");
    }

    #[test]
    fn percentiles() {
        let mut v: Vec<u64> = (1..=100).map(|i| i * 1000).collect();
        let s = Summary::of(&mut v);
        assert_eq!(s.p50_us, 50.0);
        assert_eq!(s.p99_us, 99.0);
        assert_eq!(s.max_us, 100.0);
        assert_eq!(fmt_int(1234567.0), "1,234,567");
    }
}
