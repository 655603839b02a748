//! The wrapper every configured source runs behind: a short cache (an answer is never older than
//! `cache`), a timeout that bounds a whole answer however many calls the source makes, and a
//! circuit breaker so a down source fails fast instead of making every customer wait.
//!
//! Breaker: after [`FAILURES_TO_OPEN`] consecutive failures (timeouts or unreachable), calls fail
//! at once for a cool-down that doubles up to [`MAX_COOLDOWN`]; then one call is let through as a
//! probe, and its success closes the breaker. Writes are never cached and clear the cache.
//! Latency, errors and cache hits are counted per source for `/metrics`.

use super::{BackOffice, CancelOutcome, Error, Invoice, NewRequest, Order, OrderDetail, Product, Request, Result};
use futures_util::future::BoxFuture;
use std::collections::HashMap;
use std::fmt::Write;
use std::future::Future;
use std::sync::Arc;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub const FAILURES_TO_OPEN: u32 = 3;
pub const FIRST_COOLDOWN: Duration = Duration::from_millis(500);
pub const MAX_COOLDOWN: Duration = Duration::from_secs(10);
/// The shortest bound on a source check.
pub const CHECK_TIMEOUT: Duration = Duration::from_secs(5);
/// Entries kept before expired ones are swept.
const CACHE_SWEEP_AT: usize = 10_000;

#[derive(Clone)]
enum Cached {
    Order(Option<Order>),
    Detail(Option<OrderDetail>),
    Invoice(Option<Invoice>),
    Orders(Vec<Order>),
    Invoices(Vec<Invoice>),
    Stock(Vec<Product>),
    Request(Option<Request>),
    Requests(Vec<Request>),
}

/// (lookup kind, normalised key).
type CacheKey = (&'static str, String);

#[derive(Default)]
struct Breaker {
    failures: u32,
    open_until: Option<Instant>,
    cooldown: Duration,
    last_error: Option<String>,
}

/// Counters of one source since start.
#[derive(Default, Clone, Debug)]
pub struct Stats {
    pub calls: u64,
    pub errors: u64,
    pub timeouts: u64,
    pub cache_hits: u64,
    pub cache_misses: u64,
    pub rejected_open: u64,
    pub latency_sum: Duration,
    /// Latency histogram: counts per [`LATENCY_BOUNDS`] bucket (cumulative at render time).
    pub buckets: [u64; LATENCY_BOUNDS.len()],
}

/// Upper bounds (seconds) of the latency histogram.
pub const LATENCY_BOUNDS: [f64; 8] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0];

/// What `/ready` and the admin page say about the source.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Health {
    pub source: &'static str,
    /// `up`, `down` (breaker open or the last call failed) or `unknown` (no call yet).
    pub state: &'static str,
    pub last_error: Option<String>,
}

pub struct Guarded {
    inner: Arc<dyn BackOffice>,
    cache_for: Duration,
    timeout: Duration,
    cache: Mutex<HashMap<CacheKey, (Instant, Cached)>>,
    breaker: Mutex<Breaker>,
    stats: Mutex<Stats>,
    called: std::sync::atomic::AtomicBool,
}

impl Guarded {
    pub fn new(inner: Arc<dyn BackOffice>, cache_for: Duration, timeout: Duration) -> Guarded {
        Guarded {
            inner,
            cache_for,
            timeout,
            cache: Mutex::default(),
            breaker: Mutex::new(Breaker { cooldown: FIRST_COOLDOWN, ..Breaker::default() }),
            stats: Mutex::default(),
            called: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// Marks the source down from the start (`--backoffice-lazy` after a failed check).
    pub fn mark_down(&self, why: String) {
        let mut b = self.breaker.lock().expect("breaker mutex poisoned: a holder panicked");
        b.failures = FAILURES_TO_OPEN;
        b.open_until = Some(Instant::now() + b.cooldown);
        b.last_error = Some(why);
        self.called.store(true, std::sync::atomic::Ordering::Relaxed);
    }

    pub fn health(&self) -> Health {
        let b = self.breaker.lock().expect("breaker mutex poisoned: a holder panicked");
        let state = if b.failures > 0 {
            "down"
        } else if self.called.load(std::sync::atomic::Ordering::Relaxed) {
            "up"
        } else {
            "unknown"
        };
        Health { source: self.inner.source(), state, last_error: b.last_error.clone() }
    }

    pub fn stats(&self) -> Stats {
        self.stats.lock().expect("stats mutex poisoned: a holder panicked").clone()
    }

    /// Prometheus text for `/metrics`.
    pub fn render_metrics(&self) -> String {
        let s = self.stats();
        let src = self.inner.source();
        let up = i64::from(self.health().state != "down");
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# HELP kituo_backoffice_up 1 unless the back-office source is failing.\n# TYPE kituo_backoffice_up gauge\n\
             kituo_backoffice_up{{source=\"{src}\"}} {up}\n\
             # HELP kituo_backoffice_requests_total Back-office calls that reached the source.\n\
             # TYPE kituo_backoffice_requests_total counter\nkituo_backoffice_requests_total{{source=\"{src}\"}} {}\n\
             # HELP kituo_backoffice_errors_total Back-office calls that failed (timeouts included), and calls refused while the breaker was open.\n\
             # TYPE kituo_backoffice_errors_total counter\n\
             kituo_backoffice_errors_total{{source=\"{src}\",kind=\"error\"}} {}\n\
             kituo_backoffice_errors_total{{source=\"{src}\",kind=\"timeout\"}} {}\n\
             kituo_backoffice_errors_total{{source=\"{src}\",kind=\"circuit_open\"}} {}\n\
             # HELP kituo_backoffice_cache_hits_total Back-office answers served from the cache.\n\
             # TYPE kituo_backoffice_cache_hits_total counter\nkituo_backoffice_cache_hits_total{{source=\"{src}\"}} {}\n\
             # HELP kituo_backoffice_cache_misses_total Back-office answers not in the cache.\n\
             # TYPE kituo_backoffice_cache_misses_total counter\nkituo_backoffice_cache_misses_total{{source=\"{src}\"}} {}\n\
             # HELP kituo_backoffice_latency_seconds Time the source took per call.\n\
             # TYPE kituo_backoffice_latency_seconds histogram",
            s.calls,
            s.errors - s.timeouts,
            s.timeouts,
            s.rejected_open,
            s.cache_hits,
            s.cache_misses
        );
        let mut cumulative = 0;
        for (bound, n) in LATENCY_BOUNDS.iter().zip(s.buckets) {
            cumulative += n;
            let _ = writeln!(
                out,
                "kituo_backoffice_latency_seconds_bucket{{source=\"{src}\",le=\"{bound}\"}} {cumulative}"
            );
        }
        let _ = writeln!(out, "kituo_backoffice_latency_seconds_bucket{{source=\"{src}\",le=\"+Inf\"}} {}", s.calls);
        let _ = writeln!(
            out,
            "kituo_backoffice_latency_seconds_sum{{source=\"{src}\"}} {:.6}",
            s.latency_sum.as_secs_f64()
        );
        let _ = writeln!(out, "kituo_backoffice_latency_seconds_count{{source=\"{src}\"}} {}", s.calls);
        out
    }

    fn cached(&self, kind: &'static str, key: &str) -> Option<Cached> {
        if self.cache_for.is_zero() {
            return None;
        }
        let cache = self.cache.lock().expect("cache mutex poisoned: a holder panicked");
        let hit =
            cache.get(&(kind, key.to_string())).filter(|(at, _)| at.elapsed() < self.cache_for).map(|(_, v)| v.clone());
        drop(cache);
        let mut s = self.stats.lock().expect("stats mutex poisoned: a holder panicked");
        if hit.is_some() {
            s.cache_hits += 1;
        } else {
            s.cache_misses += 1;
        }
        hit
    }

    fn remember(&self, kind: &'static str, key: &str, value: Cached, started: Instant) {
        if self.cache_for.is_zero() {
            return;
        }
        let mut cache = self.cache.lock().expect("cache mutex poisoned: a holder panicked");
        if cache.len() >= CACHE_SWEEP_AT {
            cache.retain(|_, (at, _)| at.elapsed() < self.cache_for);
            if cache.len() >= CACHE_SWEEP_AT {
                cache.clear();
            }
        }
        // Aged from when the call started: the source's answer may be that old.
        cache.insert((kind, key.to_string()), (started, value));
    }

    fn forget_all(&self) {
        self.cache.lock().expect("cache mutex poisoned: a holder panicked").clear();
    }

    /// Runs one source call under the breaker and the timeout, counting it.
    async fn call<T>(&self, fut: impl Future<Output = Result<T>>) -> Result<T> {
        {
            let mut b = self.breaker.lock().expect("breaker mutex poisoned: a holder panicked");
            if let Some(until) = b.open_until {
                let now = Instant::now();
                if now < until {
                    drop(b);
                    self.stats.lock().expect("stats mutex poisoned: a holder panicked").rejected_open += 1;
                    return Err(Error::Unavailable("not answering (circuit open)".into()));
                }
                // Half-open: this call is the probe; others wait out another cool-down.
                b.open_until = Some(now + b.cooldown);
            }
        }
        self.called.store(true, std::sync::atomic::Ordering::Relaxed);
        let started = Instant::now();
        let result = match tokio::time::timeout(self.timeout, fut).await {
            Ok(r) => r,
            Err(_) => Err(Error::Timeout(u64::try_from(self.timeout.as_millis()).unwrap_or(u64::MAX))),
        };
        let took = started.elapsed();
        {
            let mut s = self.stats.lock().expect("stats mutex poisoned: a holder panicked");
            s.calls += 1;
            s.latency_sum += took;
            let secs = took.as_secs_f64();
            if let Some(i) = LATENCY_BOUNDS.iter().position(|b| secs <= *b) {
                s.buckets[i] += 1;
            }
            if result.is_err() {
                s.errors += 1;
            }
            if matches!(result, Err(Error::Timeout(_))) {
                s.timeouts += 1;
            }
        }
        let mut b = self.breaker.lock().expect("breaker mutex poisoned: a holder panicked");
        match &result {
            Err(e) if e.is_unavailable() => {
                b.failures += 1;
                b.last_error = Some(e.to_string());
                if b.failures >= FAILURES_TO_OPEN {
                    let cooldown = b.cooldown;
                    b.open_until = Some(Instant::now() + cooldown);
                    b.cooldown = (cooldown * 2).min(MAX_COOLDOWN);
                    tracing::warn!(source = self.inner.source(), error = %e, cooldown_ms = cooldown.as_millis() as u64, "back office failing: circuit open");
                }
            }
            _ => {
                if b.failures >= FAILURES_TO_OPEN {
                    tracing::info!(source = self.inner.source(), "back office answering again: circuit closed");
                }
                b.failures = 0;
                b.open_until = None;
                b.cooldown = FIRST_COOLDOWN;
            }
        }
        result
    }

    /// A cached read: from the cache when fresh, else from the source (and remembered).
    async fn read<T>(
        &self,
        kind: &'static str,
        key: &str,
        load: impl Future<Output = Result<T>>,
        wrap: fn(T) -> Cached,
        unwrap: fn(Cached) -> Option<T>,
    ) -> Result<T>
    where
        T: Clone,
    {
        if let Some(v) = self.cached(kind, key).and_then(unwrap) {
            return Ok(v);
        }
        let started = Instant::now();
        let v = self.call(load).await?;
        self.remember(kind, key, wrap(v.clone()), started);
        Ok(v)
    }
}

macro_rules! unwrap_as {
    ($variant:ident) => {
        |c| match c {
            Cached::$variant(v) => Some(v),
            _ => None,
        }
    };
}

impl BackOffice for Guarded {
    fn source(&self) -> &'static str {
        self.inner.source()
    }

    fn location(&self) -> String {
        self.inner.location()
    }

    /// The source's own check, bounded by the timeout (at least 5 s: a first connection and a
    /// login may take longer than one answer), past the cache and the breaker.
    fn check(&self) -> BoxFuture<'_, Result<()>> {
        let limit = self.timeout.max(CHECK_TIMEOUT);
        Box::pin(async move {
            match tokio::time::timeout(limit, self.inner.check()).await {
                Ok(r) => r,
                Err(_) => Err(Error::Timeout(u64::try_from(limit.as_millis()).unwrap_or(u64::MAX))),
            }
        })
    }

    fn order<'a>(&'a self, number: &'a str) -> BoxFuture<'a, Result<Option<Order>>> {
        let key = super::record_key(number);
        Box::pin(
            async move { self.read("order", &key, self.inner.order(number), Cached::Order, unwrap_as!(Order)).await },
        )
    }

    fn order_detail<'a>(&'a self, number: &'a str) -> BoxFuture<'a, Result<Option<OrderDetail>>> {
        let key = super::record_key(number);
        Box::pin(async move {
            self.read("detail", &key, self.inner.order_detail(number), Cached::Detail, unwrap_as!(Detail)).await
        })
    }

    fn invoice<'a>(&'a self, number: &'a str) -> BoxFuture<'a, Result<Option<Invoice>>> {
        let key = super::record_key(number);
        Box::pin(async move {
            self.read("invoice", &key, self.inner.invoice(number), Cached::Invoice, unwrap_as!(Invoice)).await
        })
    }

    fn orders_of<'a>(&'a self, email: &'a str) -> BoxFuture<'a, Result<Vec<Order>>> {
        let key = email.trim().to_lowercase();
        Box::pin(async move {
            self.read("orders_of", &key, self.inner.orders_of(email), Cached::Orders, unwrap_as!(Orders)).await
        })
    }

    fn invoices_of<'a>(&'a self, email: &'a str) -> BoxFuture<'a, Result<Vec<Invoice>>> {
        let key = email.trim().to_lowercase();
        Box::pin(async move {
            self.read("invoices_of", &key, self.inner.invoices_of(email), Cached::Invoices, unwrap_as!(Invoices)).await
        })
    }

    fn stock<'a>(&'a self, query: &'a str) -> BoxFuture<'a, Result<Vec<Product>>> {
        let key = query.trim().to_lowercase();
        Box::pin(
            async move { self.read("stock", &key, self.inner.stock(query), Cached::Stock, unwrap_as!(Stock)).await },
        )
    }

    fn cancel_order<'a>(&'a self, number: &'a str) -> BoxFuture<'a, Result<CancelOutcome>> {
        Box::pin(async move {
            let r = self.call(self.inner.cancel_order(number)).await;
            self.forget_all();
            r
        })
    }

    fn open_request<'a>(&'a self, request: &'a NewRequest) -> BoxFuture<'a, Result<Option<Request>>> {
        Box::pin(async move {
            let r = self.call(self.inner.open_request(request)).await;
            self.forget_all();
            r
        })
    }

    fn request<'a>(&'a self, request_id: &'a str) -> BoxFuture<'a, Result<Option<Request>>> {
        let key = request_id.trim().to_string();
        Box::pin(async move {
            self.read("request", &key, self.inner.request(request_id), Cached::Request, unwrap_as!(Request)).await
        })
    }

    fn requests_of<'a>(&'a self, order_number: &'a str) -> BoxFuture<'a, Result<Vec<Request>>> {
        let key = super::record_key(order_number);
        Box::pin(async move {
            self.read("requests_of", &key, self.inner.requests_of(order_number), Cached::Requests, unwrap_as!(Requests))
                .await
        })
    }

    fn health(&self) -> Option<Health> {
        Some(Guarded::health(self))
    }

    fn metrics_text(&self) -> String {
        self.render_metrics()
    }
}
