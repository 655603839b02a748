//! `lookup`, per back-office source: the built-in tables (demo data, always), Tryton over
//! JSON-RPC (`--tryton URL`) and the SQL connector (`--sql URL --sql-map FILE`), each measured
//! uncached (the source itself) and cached (behind the same guard the server uses, warm cache).
//! One operation is an order with its lines, shipments and invoices, then the stock of one SKU:
//! what the bot and the 360° panel ask per order question.

use crate::util::{Summary, Table, TempDir, fmt_us};
use anyhow::Context;
use kituo::backoffice::BackOffice;
use kituo::backoffice::guard::Guarded;
use kituo::backoffice::sql::Sql;
use kituo::backoffice::tryton::{Tryton, rpc::Target};
use kituo::store::Store;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, clap::Args)]
pub struct SourceOpts {
    /// A Tryton to measure too: tryton://USER:PASSWORD@HOST:PORT/DATABASE.
    #[arg(long)]
    pub tryton: Option<String>,
    /// An SQL back office to measure too (postgres://, mysql:// or sqlite://), with --sql-map.
    #[arg(long, requires = "sql_map")]
    pub sql: Option<String>,
    /// The mapping file of --sql (e.g. backoffice/tryton.toml).
    #[arg(long)]
    pub sql_map: Option<PathBuf>,
    /// Order numbers asked of Tryton and SQL sources (the test population's by default).
    #[arg(long, value_delimiter = ',', default_value = "SO00001,SO00003,SO00004")]
    pub orders: Vec<String>,
    /// SKUs asked of Tryton and SQL sources.
    #[arg(long, value_delimiter = ',', default_value = "SL-LAN-10,KG-KAN-01,CF-KAA-01")]
    pub skus: Vec<String>,
    /// Operations per measurement (also bounded by --source-secs).
    #[arg(long, default_value_t = 300)]
    pub source_ops: usize,
    #[arg(long, default_value_t = 10)]
    pub source_secs: u64,
    /// Measure the sources only (skip the import-and-lookup-by-key part).
    #[arg(long)]
    pub sources_only: bool,
}

impl Default for SourceOpts {
    /// The built-in source only, with the flags' defaults.
    fn default() -> SourceOpts {
        SourceOpts {
            tryton: None,
            sql: None,
            sql_map: None,
            orders: strings(&["SO00001", "SO00003", "SO00004"]),
            skus: strings(&["SL-LAN-10", "KG-KAN-01", "CF-KAA-01"]),
            source_ops: 300,
            source_secs: 10,
            sources_only: false,
        }
    }
}

struct Row {
    source: String,
    mode: &'static str,
    latency: Summary,
}

/// One operation: the order detail, then the stock of a SKU.
async fn op(bo: &dyn BackOffice, order: &str, sku: &str) -> anyhow::Result<()> {
    let detail = bo.order_detail(order).await.map_err(|e| anyhow::anyhow!("order {order}: {e}"))?;
    anyhow::ensure!(detail.is_some(), "order {order} not found in the source");
    let stock = bo.stock(sku).await.map_err(|e| anyhow::anyhow!("stock {sku}: {e}"))?;
    anyhow::ensure!(!stock.is_empty(), "SKU {sku} not found in the source");
    Ok(())
}

async fn measure(
    bo: &dyn BackOffice,
    orders: &[String],
    skus: &[String],
    opts: &SourceOpts,
) -> anyhow::Result<Summary> {
    // Warm-up: connections, logins, prepared statements (and, when cached, the cache).
    for (o, s) in orders.iter().zip(skus.iter().cycle()) {
        op(bo, o, s).await?;
    }
    let budget = Duration::from_secs(opts.source_secs);
    let started = Instant::now();
    let mut samples = Vec::with_capacity(opts.source_ops);
    for i in 0..opts.source_ops {
        let (o, s) = (&orders[i % orders.len()], &skus[i % skus.len()]);
        let t = Instant::now();
        op(bo, o, s).await?;
        samples.push(t.elapsed().as_nanos() as u64);
        if started.elapsed() > budget {
            break;
        }
    }
    Ok(Summary::of(&mut samples))
}

async fn both(
    name: String,
    inner: Arc<dyn BackOffice>,
    orders: &[String],
    skus: &[String],
    opts: &SourceOpts,
    rows: &mut Vec<Row>,
) -> anyhow::Result<()> {
    let uncached = measure(inner.as_ref(), orders, skus, opts).await?;
    println!("  {name}: uncached p50 {}", fmt_us(uncached.p50_us));
    rows.push(Row { source: name.clone(), mode: "uncached", latency: uncached });
    let guarded = Guarded::new(inner, Duration::from_secs(3600), Duration::from_secs(10));
    let cached = measure(&guarded, orders, skus, opts).await?;
    println!("  {name}: cached p50 {}", fmt_us(cached.p50_us));
    rows.push(Row { source: name, mode: "cached", latency: cached });
    Ok(())
}

pub async fn run(opts: &SourceOpts) -> anyhow::Result<()> {
    println!("\n## lookup per back-office source: order detail + stock of one SKU, uncached and cached");
    let mut rows = Vec::new();
    let dir = TempDir::new("sources")?;
    let store = Store::connect(&dir.sqlite_url("builtin.db")).await.context("cannot open SQLite")?;
    store.migrate().await?;
    kituo::backoffice::demo::seed(&store).await?;
    let (orders, skus) = (strings(&["1001", "1002", "ORD-88213"]), strings(&["KK-KIK-02", "KG-KAN-01", "KT-KIT-04"]));
    both("builtin (SQLite)".into(), Arc::new(store.clone()), &orders, &skus, opts, &mut rows).await?;
    if let Some(url) = &opts.tryton {
        let target = Target::parse(url).map_err(|e| anyhow::anyhow!("--tryton: {e}"))?;
        let tryton = Tryton::new(target);
        tryton.check().await.map_err(|e| anyhow::anyhow!("--tryton: {e}"))?;
        both("tryton (JSON-RPC)".into(), Arc::new(tryton), &opts.orders, &opts.skus, opts, &mut rows).await?;
    }
    if let (Some(url), Some(map)) = (&opts.sql, &opts.sql_map) {
        let sql = Sql::open(url, map).map_err(|e| anyhow::anyhow!("--sql: {e}"))?;
        sql.check().await.map_err(|e| anyhow::anyhow!("--sql: {e}"))?;
        let name = format!("sql ({})", url.split(':').next().unwrap_or("sql"));
        both(name, Arc::new(sql), &opts.orders, &opts.skus, opts, &mut rows).await?;
    }
    store.close().await;
    let mut t = Table::new(&["source", "cache", "ops", "mean", "p50", "p99", "max"]);
    for r in &rows {
        t.row(vec![
            r.source.clone(),
            r.mode.into(),
            r.latency.n.to_string(),
            fmt_us(r.latency.mean_us),
            fmt_us(r.latency.p50_us),
            fmt_us(r.latency.p99_us),
            fmt_us(r.latency.max_us),
        ]);
    }
    t.print("Back-office sources: one order detail (lines, shipments, invoices) + one stock lookup, one at a time");
    Ok(())
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}
