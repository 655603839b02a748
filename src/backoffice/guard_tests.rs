//! Tests of the cache, timeout and breaker around a source that can be made slow or failing.

use super::guard::{FAILURES_TO_OPEN, Guarded};
use super::*;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::Duration;

#[derive(Default)]
struct Fake {
    calls: AtomicU32,
    failing: AtomicBool,
    slow: AtomicBool,
}

impl Fake {
    fn answer<'a, T: Send + 'a>(&'a self, v: T) -> BoxFuture<'a, Result<T>> {
        Box::pin(async move {
            self.calls.fetch_add(1, Ordering::SeqCst);
            if self.slow.load(Ordering::SeqCst) {
                tokio::time::sleep(Duration::from_secs(60)).await;
            }
            if self.failing.load(Ordering::SeqCst) {
                return Err(Error::Unavailable("connection refused".into()));
            }
            Ok(v)
        })
    }
}

impl BackOffice for Fake {
    fn order<'a>(&'a self, _: &'a str) -> BoxFuture<'a, Result<Option<Order>>> {
        self.answer(None)
    }
    fn order_detail<'a>(&'a self, _: &'a str) -> BoxFuture<'a, Result<Option<OrderDetail>>> {
        self.answer(None)
    }
    fn invoice<'a>(&'a self, _: &'a str) -> BoxFuture<'a, Result<Option<Invoice>>> {
        self.answer(None)
    }
    fn orders_of<'a>(&'a self, _: &'a str) -> BoxFuture<'a, Result<Vec<Order>>> {
        self.answer(Vec::new())
    }
    fn invoices_of<'a>(&'a self, _: &'a str) -> BoxFuture<'a, Result<Vec<Invoice>>> {
        self.answer(Vec::new())
    }
    fn stock<'a>(&'a self, _: &'a str) -> BoxFuture<'a, Result<Vec<Product>>> {
        self.answer(Vec::new())
    }
    fn cancel_order<'a>(&'a self, _: &'a str) -> BoxFuture<'a, Result<CancelOutcome>> {
        self.answer(CancelOutcome::NotFound)
    }
    fn open_request<'a>(&'a self, _: &'a NewRequest) -> BoxFuture<'a, Result<Option<Request>>> {
        self.answer(None)
    }
    fn request<'a>(&'a self, _: &'a str) -> BoxFuture<'a, Result<Option<Request>>> {
        self.answer(None)
    }
    fn requests_of<'a>(&'a self, _: &'a str) -> BoxFuture<'a, Result<Vec<Request>>> {
        self.answer(Vec::new())
    }
}

fn guarded(cache: Duration) -> (Arc<Fake>, Guarded) {
    let fake = Arc::new(Fake::default());
    let g = Guarded::new(fake.clone(), cache, Duration::from_millis(50));
    (fake, g)
}

#[tokio::test]
async fn answers_are_cached_for_the_window_only_and_writes_clear_them() {
    let (fake, g) = guarded(Duration::from_millis(300));
    g.order("so1").await.unwrap();
    g.order("#SO1 ").await.unwrap();
    assert_eq!(fake.calls.load(Ordering::SeqCst), 1, "same key, any spelling: cached");
    assert_eq!(g.stats().cache_hits, 1);
    tokio::time::sleep(Duration::from_millis(350)).await;
    g.order("so1").await.unwrap();
    assert_eq!(fake.calls.load(Ordering::SeqCst), 2, "older than the window: asked again");
    g.cancel_order("so1").await.unwrap();
    g.order("so1").await.unwrap();
    assert_eq!(fake.calls.load(Ordering::SeqCst), 4, "a write clears the cache");
}

#[tokio::test]
async fn the_timeout_bounds_an_answer_and_the_breaker_opens_then_recovers() {
    let (fake, g) = guarded(Duration::ZERO);
    fake.slow.store(true, Ordering::SeqCst);
    assert!(matches!(g.stock("x").await, Err(Error::Timeout(50))));
    fake.slow.store(false, Ordering::SeqCst);
    fake.failing.store(true, Ordering::SeqCst);
    for _ in 1..FAILURES_TO_OPEN {
        assert!(g.stock("x").await.unwrap_err().is_unavailable());
    }
    let calls = fake.calls.load(Ordering::SeqCst);
    assert_eq!(g.health().state, "down");
    assert!(g.stock("x").await.unwrap_err().is_unavailable());
    assert_eq!(fake.calls.load(Ordering::SeqCst), calls, "open: fails fast without calling the source");
    assert!(g.render_metrics().contains("kind=\"circuit_open\"} 1"), "{}", g.render_metrics());

    fake.failing.store(false, Ordering::SeqCst);
    tokio::time::sleep(super::guard::FIRST_COOLDOWN + Duration::from_millis(100)).await;
    g.stock("x").await.expect("the probe after the cool-down goes through");
    assert_eq!(g.health().state, "up");
}
