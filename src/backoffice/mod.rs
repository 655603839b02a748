//! The back office as the bot and the console see it: orders, invoices and stock, read through
//! one narrow interface ([`BackOffice`]) so a deployment can point it at an external ERP database
//! instead of Kituo's own tables. Also owns the CSV importer and the demo data.

pub mod demo;
pub mod import;
pub mod memo;

mod builtin;
pub mod guard;
#[cfg(test)]
mod guard_tests;
pub mod source;
pub mod sql;
pub mod tryton;
mod types;

pub use crate::domain::records::{
    CancelOutcome, Invoice, NewRequest, Order, OrderDetail, OrderLine, Product, Request, RequestKind, Shipment,
    query_terms, record_key, terms,
};
pub use types::{Error, Result};

use futures_util::future::BoxFuture;

/// Access to back-office records, read side and write side. Numbers and SKUs are matched
/// case-insensitively and without a leading `#`; emails case-insensitively.
pub trait BackOffice: Send + Sync {
    /// A short name of the source for `/ready` and `/metrics`: `builtin`, `tryton`, `sql`.
    fn source(&self) -> &'static str {
        "builtin"
    }

    /// Where the source is, for the admin page and messages: a URL without its password.
    fn location(&self) -> String {
        "builtin".into()
    }

    /// Checks the source answers (start-up check, the admin page's "test connection"): reachable,
    /// logged in, mapping valid. The built-in tables always are.
    fn check(&self) -> BoxFuture<'_, Result<()>> {
        Box::pin(async { Ok(()) })
    }

    /// The order's header (enough for the disclosure rule and a status answer).
    fn order<'a>(&'a self, number: &'a str) -> BoxFuture<'a, Result<Option<Order>>>;
    /// The order with its lines, shipments and invoices.
    fn order_detail<'a>(&'a self, number: &'a str) -> BoxFuture<'a, Result<Option<OrderDetail>>>;
    fn invoice<'a>(&'a self, number: &'a str) -> BoxFuture<'a, Result<Option<Invoice>>>;
    /// Orders placed with this email, newest first (at most 50).
    fn orders_of<'a>(&'a self, email: &'a str) -> BoxFuture<'a, Result<Vec<Order>>>;
    /// Invoices addressed to this email, newest first (at most 50).
    fn invoices_of<'a>(&'a self, email: &'a str) -> BoxFuture<'a, Result<Vec<Invoice>>>;
    /// Stock by exact SKU, or else by words of the product name (best match first, at most 5).
    fn stock<'a>(&'a self, query: &'a str) -> BoxFuture<'a, Result<Vec<Product>>>;

    /// Cancels the order where the source allows it; otherwise says why not.
    fn cancel_order<'a>(&'a self, number: &'a str) -> BoxFuture<'a, Result<CancelOutcome>>;
    /// Opens a return or refund request; answers the request as stored (with its id).
    /// `Ok(None)` when there is no such order.
    fn open_request<'a>(&'a self, request: &'a NewRequest) -> BoxFuture<'a, Result<Option<Request>>>;
    /// A request by id, with its current state.
    fn request<'a>(&'a self, request_id: &'a str) -> BoxFuture<'a, Result<Option<Request>>>;
    /// The requests opened for an order, newest first.
    fn requests_of<'a>(&'a self, order_number: &'a str) -> BoxFuture<'a, Result<Vec<Request>>>;

    /// The source's state for `/ready` and the admin page (`None`: always up, e.g. built-in).
    fn health(&self) -> Option<guard::Health> {
        None
    }

    /// Prometheus lines for `/metrics` (latency, errors, cache hits per source).
    fn metrics_text(&self) -> String {
        String::new()
    }
}
