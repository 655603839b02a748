//! `lookup` and `import`: a generated orders CSV loaded through the real importer
//! (`kituo::backoffice::import::import_csv`), rows per second, then order lookups by key
//! (`Store::order_by_key`, random existing keys) on SQLite and, when given, PostgreSQL.

use crate::util::{PgDb, Summary, Table, TempDir, fmt_int, fmt_us, secs};
use anyhow::Context;
use kituo::backoffice::import::{Kind, import_csv};
use kituo::backoffice::record_key;
use kituo::store::Store;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

#[derive(Debug, Clone, clap::Args)]
pub struct LookupOpts {
    /// Orders in the table, one measurement each.
    #[arg(long, value_delimiter = ',', default_value = "10000,1000000")]
    pub sizes: Vec<usize>,
    /// PostgreSQL server to measure too (a fresh database `kituo_bench_<random>` per size, dropped after).
    #[arg(long)]
    pub postgres: Option<String>,
    /// Lookups per measurement (bounded by --secs as well).
    #[arg(long, default_value_t = 20_000)]
    pub lookups: usize,
    /// Time bound of each lookup measurement.
    #[arg(long, default_value_t = 10)]
    pub secs: u64,
    #[command(flatten)]
    pub sources: crate::sources::SourceOpts,
}

#[derive(Debug, Clone, clap::Args)]
pub struct ImportOpts {
    /// Rows in the generated orders CSV.
    #[arg(long, default_value_t = 1_000_000)]
    pub rows: usize,
    /// PostgreSQL server to measure too (a fresh database, dropped after).
    #[arg(long)]
    pub postgres: Option<String>,
}

#[derive(Debug, Clone)]
pub struct ImportRow {
    pub backend: &'static str,
    pub rows: u64,
    pub bytes: u64,
    pub elapsed: Duration,
}

impl ImportRow {
    pub fn rate(&self) -> f64 {
        self.rows as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

#[derive(Debug, Clone)]
pub struct LookupRow {
    pub backend: &'static str,
    pub orders: usize,
    pub latency: Summary,
    pub import: ImportRow,
}

/// The n-th order's number: five shapes, as shops really number orders.
fn order_number(i: usize) -> String {
    match i % 5 {
        0 => format!("{}", 100_000_000 + i),
        1 => format!("SO-2026-{i:07}"),
        2 => format!("ORD-{i:07}"),
        3 => format!("S{i:07}"),
        _ => format!("W{i:07}-KE"),
    }
}

const STATUSES: &[&str] = &["pending", "processing", "shipped", "delivered", "cancelled"];
const CURRENCIES: &[&str] = &["KES", "TZS", "UGX", "RWF", "USD", "EUR"];
const CARRIERS: &[&str] = &["Posta Tanzania", "G4S Courier", "DHL Express", "Fargo Courier", "Sendy"];
pub const FIRST: &[&str] =
    &["Amina", "Juma", "Neema", "Wanjiru", "Baraka", "Achieng", "Halima", "Mugisha", "Sofia", "Chen"];
pub const LAST: &[&str] =
    &["Mwakilema", "Otieno", "Mushi", "Kamau", "Nyirenda", "Odhiambo", "Said", "Tumusiime", "Wei"];

/// Writes an orders CSV of `rows` rows (about 20 orders per customer) into `path`.
pub fn write_csv(path: &Path, rows: usize) -> anyhow::Result<u64> {
    let file = std::fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    let mut w = BufWriter::with_capacity(1 << 20, file);
    writeln!(
        w,
        "order_number,customer_email,customer_name,status,placed_at,shipped_at,carrier,tracking_number,total,currency"
    )?;
    let customers = (rows / 20).max(1);
    let mut rng = StdRng::seed_from_u64(rows as u64);
    for i in 0..rows {
        let c = rng.random_range(0..customers);
        let (first, last) = (FIRST[c % FIRST.len()], LAST[(c / FIRST.len()) % LAST.len()]);
        let status = STATUSES[rng.random_range(0..STATUSES.len())];
        let (month, day, hour, minute) =
            (rng.random_range(1..=12), rng.random_range(1..=28), rng.random_range(0..24), rng.random_range(0..60));
        let shipped = matches!(status, "shipped" | "delivered");
        let shipped_at =
            if shipped { format!("2026-{month:02}-{:02}T09:30:00Z", day.min(27) + 1) } else { String::new() };
        let carrier = if shipped { CARRIERS[c % CARRIERS.len()] } else { "" };
        let tracking = if shipped { format!("EE{:09}TZ", 400_000_000 + i) } else { String::new() };
        writeln!(
            w,
            "{},{}.{}{}@example.co.ke,{} {},{},2026-{month:02}-{day:02}T{hour:02}:{minute:02}:00Z,{},{},{},{}.{:02},{}",
            order_number(i),
            first.to_lowercase(),
            last.to_lowercase(),
            c,
            first,
            last,
            status,
            shipped_at,
            carrier,
            tracking,
            rng.random_range(500..250_000),
            rng.random_range(0..100),
            CURRENCIES[c % CURRENCIES.len()],
        )?;
    }
    w.flush()?;
    Ok(std::fs::metadata(path)?.len())
}

/// Opens (and migrates) a fresh database of the backend, runs `f`, cleans up.
pub async fn with_fresh_store<T>(
    backend: &'static str,
    postgres: Option<&str>,
    dir: &TempDir,
    f: impl AsyncFnOnce(&Store) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    let pg = match (backend, postgres) {
        ("PostgreSQL", Some(url)) => Some(PgDb::create(url).await?),
        _ => None,
    };
    let file = format!("orders-{:08x}.db", rand::random::<u32>());
    let url = pg.as_ref().map_or_else(|| dir.sqlite_url(&file), |p| p.url.clone());
    let result = async {
        let store = Store::connect(&url).await.context("cannot open the database")?;
        store.migrate().await?;
        let r = f(&store).await;
        store.close().await;
        r
    }
    .await;
    if let Some(pg) = pg {
        pg.drop_db().await;
    } else {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(dir.path().join(format!("{file}{suffix}")));
        }
    }
    result
}

async fn import_file(store: &Store, backend: &'static str, csv: &Path, bytes: u64) -> anyhow::Result<ImportRow> {
    let file = std::fs::File::open(csv)?;
    let started = Instant::now();
    let report = import_csv(store, Kind::Orders, std::io::BufReader::with_capacity(1 << 16, file), None)
        .await
        .map_err(|e| anyhow::anyhow!("import failed: {e}"))?;
    Ok(ImportRow { backend, rows: report.rows, bytes, elapsed: started.elapsed() })
}

async fn lookups(store: &Store, orders: usize, opts: &LookupOpts) -> anyhow::Result<Summary> {
    let mut rng = StdRng::seed_from_u64(42);
    let keys: Vec<String> = (0..opts.lookups).map(|_| record_key(&order_number(rng.random_range(0..orders)))).collect();
    // Warm-up: the first queries prepare statements and fault pages in.
    for k in keys.iter().take(200) {
        store.order_by_key(k.clone()).await?;
    }
    let budget = Duration::from_secs(opts.secs);
    let started = Instant::now();
    let mut samples = Vec::with_capacity(keys.len());
    for k in &keys {
        let s = Instant::now();
        let found = store.order_by_key(k.clone()).await?;
        samples.push(s.elapsed().as_nanos() as u64);
        anyhow::ensure!(found.is_some(), "order {k} was imported but is not found");
        if started.elapsed() > budget {
            break;
        }
    }
    Ok(Summary::of(&mut samples))
}

pub fn backends(postgres: Option<&str>) -> Vec<&'static str> {
    let mut v = vec!["SQLite"];
    if postgres.is_some() {
        v.push("PostgreSQL");
    }
    v
}

fn csv_for(dir: &TempDir, rows: usize) -> anyhow::Result<(PathBuf, u64)> {
    let path = dir.path().join(format!("orders-{rows}.csv"));
    let t = Instant::now();
    let bytes = write_csv(&path, rows)?;
    println!(
        "  generated {} ({} rows, {:.1} MB) in {}",
        path.display(),
        fmt_int(rows as f64),
        bytes as f64 / 1e6,
        secs(t.elapsed())
    );
    Ok((path, bytes))
}

pub async fn run_lookup(opts: &LookupOpts) -> anyhow::Result<Vec<LookupRow>> {
    crate::sources::run(&opts.sources).await?;
    if opts.sources.sources_only {
        return Ok(Vec::new());
    }
    println!("\n## lookup: order lookup by key at {:?} orders", opts.sizes);
    let dir = TempDir::new("lookup")?;
    let mut rows = Vec::new();
    for &size in &opts.sizes {
        let (csv, bytes) = csv_for(&dir, size)?;
        for backend in backends(opts.postgres.as_deref()) {
            let row = with_fresh_store(backend, opts.postgres.as_deref(), &dir, async |store: &Store| {
                let import = import_file(store, backend, &csv, bytes).await?;
                println!("  {backend}: imported {} orders in {}", fmt_int(size as f64), secs(import.elapsed));
                let latency = lookups(store, size, opts).await?;
                Ok(LookupRow { backend, orders: size, latency, import })
            })
            .await?;
            rows.push(row);
        }
        let _ = std::fs::remove_file(&csv);
    }
    let mut t = Table::new(&["backend", "orders", "lookups", "mean", "p50", "p99", "max"]);
    for r in &rows {
        t.row(vec![
            r.backend.into(),
            fmt_int(r.orders as f64),
            fmt_int(r.latency.n as f64),
            fmt_us(r.latency.mean_us),
            fmt_us(r.latency.p50_us),
            fmt_us(r.latency.p99_us),
            fmt_us(r.latency.max_us),
        ]);
    }
    t.print("Order lookup by key (store.order_by_key, random existing keys, one at a time)");
    print_imports(&rows.iter().map(|r| r.import.clone()).collect::<Vec<_>>());
    Ok(rows)
}

pub fn print_imports(rows: &[ImportRow]) {
    let mut t = Table::new(&["backend", "rows", "CSV size", "time", "rows/s"]);
    for r in rows {
        t.row(vec![
            r.backend.into(),
            fmt_int(r.rows as f64),
            format!("{:.1} MB", r.bytes as f64 / 1e6),
            secs(r.elapsed),
            fmt_int(r.rate()),
        ]);
    }
    t.print("Orders CSV import (kituo::backoffice::import::import_csv, one transaction, into an empty table)");
}

pub async fn run_import(opts: &ImportOpts) -> anyhow::Result<Vec<ImportRow>> {
    println!("\n## import: {} orders from CSV", fmt_int(opts.rows as f64));
    let dir = TempDir::new("import")?;
    let (csv, bytes) = csv_for(&dir, opts.rows)?;
    let mut rows = Vec::new();
    for backend in backends(opts.postgres.as_deref()) {
        let row = with_fresh_store(backend, opts.postgres.as_deref(), &dir, async |store: &Store| {
            import_file(store, backend, &csv, bytes).await
        })
        .await?;
        rows.push(row);
    }
    print_imports(&rows);
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_numbers_are_unique() {
        let set: std::collections::HashSet<String> = (0..10_000).map(|i| record_key(&order_number(i))).collect();
        assert_eq!(set.len(), 10_000);
    }
}
