//! The built-in source's answers kept in memory, so a customer's message needs no back-office
//! query when the same order, invoice or product was asked about before.
//!
//! The built-in tables change only by `kituo import` (any process), the demo data and the
//! writes of this interface (cancel, return/refund requests, on any node). Each of those gives
//! the back office a new version in the database ([`Store::mark_backoffice_changed`]); the memo
//! reads the version at most once per [`CHECK_EVERY`] and forgets everything when it changed.
//! Its own writes forget at once. So an answer is at most [`CHECK_EVERY`] behind an import or
//! another node's write, and never older than [`MAX_AGE`].

use super::{BackOffice, CancelOutcome, Invoice, NewRequest, Order, OrderDetail, Product, Request, Result};
use crate::store::Store;
use futures_util::future::BoxFuture;
use std::any::Any;
use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How often the back office's version is read (one small query, shared by all lookups).
pub const CHECK_EVERY: Duration = Duration::from_secs(1);
/// The oldest answer served, whatever the version says (rows edited by hand).
pub const MAX_AGE: Duration = Duration::from_secs(60);
/// Answers kept before the memo starts afresh.
const MAX_ANSWERS: usize = 20_000;

type Answer = (Instant, Arc<dyn Any + Send + Sync>);

pub struct Memo {
    store: Store,
    answers: Mutex<HashMap<(&'static str, String), Answer>>,
    /// Bumped whenever the answers are forgotten: a lookup that started before is not kept.
    epoch: AtomicU64,
    /// The version last read and when; a try-lock, so one lookup checks and the others go on.
    version: tokio::sync::Mutex<(Option<String>, Option<Instant>)>,
}

impl Memo {
    pub fn new(store: Store) -> Memo {
        Memo {
            store,
            answers: Mutex::default(),
            epoch: AtomicU64::new(0),
            version: tokio::sync::Mutex::new((None, None)),
        }
    }

    fn forget_all(&self) {
        let mut answers = self.answers.lock().expect("memo mutex poisoned: a holder panicked");
        self.epoch.fetch_add(1, Ordering::AcqRel);
        answers.clear();
    }

    /// Reads the version when it is due and forgets everything if it moved.
    async fn check_version(&self) {
        let Ok(mut version) = self.version.try_lock() else { return };
        if version.1.is_some_and(|at| at.elapsed() < CHECK_EVERY) {
            return;
        }
        match self.store.backoffice_generation().await {
            Ok(now) => {
                if version.1.is_some() && now != version.0 {
                    self.forget_all();
                }
                *version = (now, Some(Instant::now()));
            }
            Err(e) => {
                // Cannot tell whether anything changed: start afresh (and check again next time).
                tracing::warn!(error = %e, "cannot read the back office's version");
                self.forget_all();
                version.1 = None;
            }
        }
    }

    async fn read<T>(&self, kind: &'static str, key: String, load: impl Future<Output = Result<T>>) -> Result<T>
    where
        T: Clone + Send + Sync + 'static,
    {
        self.check_version().await;
        let key = (kind, key);
        let hit = {
            let answers = self.answers.lock().expect("memo mutex poisoned: a holder panicked");
            answers.get(&key).filter(|(at, _)| at.elapsed() < MAX_AGE).and_then(|(_, v)| v.downcast_ref::<T>().cloned())
        };
        if let Some(v) = hit {
            return Ok(v);
        }
        let (epoch, started) = (self.epoch.load(Ordering::Acquire), Instant::now());
        let v = load.await?;
        let mut answers = self.answers.lock().expect("memo mutex poisoned: a holder panicked");
        if self.epoch.load(Ordering::Acquire) == epoch {
            if answers.len() >= MAX_ANSWERS {
                answers.clear();
            }
            answers.insert(key, (started, Arc::new(v.clone())));
        }
        Ok(v)
    }

    /// A write through the interface: forgotten here at once, elsewhere at their next check.
    async fn write<T>(&self, run: impl Future<Output = Result<T>>) -> Result<T> {
        let result = run.await;
        self.forget_all();
        if let Err(e) = self.store.bump_backoffice_generation().await {
            tracing::warn!(error = %e, "cannot give the back office a new version; other nodes see the change late");
        }
        result
    }
}

impl BackOffice for Memo {
    fn order<'a>(&'a self, number: &'a str) -> BoxFuture<'a, Result<Option<Order>>> {
        Box::pin(self.read("order", super::record_key(number), BackOffice::order(&self.store, number)))
    }

    fn order_detail<'a>(&'a self, number: &'a str) -> BoxFuture<'a, Result<Option<OrderDetail>>> {
        Box::pin(self.read("detail", super::record_key(number), BackOffice::order_detail(&self.store, number)))
    }

    fn invoice<'a>(&'a self, number: &'a str) -> BoxFuture<'a, Result<Option<Invoice>>> {
        Box::pin(self.read("invoice", super::record_key(number), BackOffice::invoice(&self.store, number)))
    }

    fn orders_of<'a>(&'a self, email: &'a str) -> BoxFuture<'a, Result<Vec<Order>>> {
        Box::pin(self.read("orders_of", email.trim().to_lowercase(), BackOffice::orders_of(&self.store, email)))
    }

    fn invoices_of<'a>(&'a self, email: &'a str) -> BoxFuture<'a, Result<Vec<Invoice>>> {
        Box::pin(self.read("invoices_of", email.trim().to_lowercase(), BackOffice::invoices_of(&self.store, email)))
    }

    fn stock<'a>(&'a self, query: &'a str) -> BoxFuture<'a, Result<Vec<Product>>> {
        Box::pin(self.read("stock", query.trim().to_lowercase(), BackOffice::stock(&self.store, query)))
    }

    fn cancel_order<'a>(&'a self, number: &'a str) -> BoxFuture<'a, Result<CancelOutcome>> {
        Box::pin(self.write(BackOffice::cancel_order(&self.store, number)))
    }

    fn open_request<'a>(&'a self, request: &'a NewRequest) -> BoxFuture<'a, Result<Option<Request>>> {
        Box::pin(self.write(BackOffice::open_request(&self.store, request)))
    }

    fn request<'a>(&'a self, request_id: &'a str) -> BoxFuture<'a, Result<Option<Request>>> {
        Box::pin(self.read("request", request_id.trim().to_string(), BackOffice::request(&self.store, request_id)))
    }

    fn requests_of<'a>(&'a self, order_number: &'a str) -> BoxFuture<'a, Result<Vec<Request>>> {
        Box::pin(self.read(
            "requests_of",
            super::record_key(order_number),
            BackOffice::requests_of(&self.store, order_number),
        ))
    }
}
