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

pub use types::{
    CancelOutcome, Error, Invoice, NewRequest, Order, OrderDetail, OrderLine, Product, Request, RequestKind, Result,
    Shipment,
};

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

/// Lookup key of an order, invoice or SKU: trimmed, without a leading `#`, upper-case.
pub fn record_key(number: &str) -> String {
    number.trim().trim_start_matches('#').trim().to_uppercase()
}

/// Words of a product name or query worth indexing: lowercase, alphanumeric runs of 2+ chars.
pub fn terms(text: &str) -> Vec<String> {
    const STOP: &[&str] = &[
        "the",
        "and",
        "for",
        "with",
        "you",
        "have",
        "any",
        "stock",
        "in",
        "of",
        "a",
        "an",
        "is",
        "are",
        "do",
        "does",
        "got",
        "some",
        "available",
        "mna",
        "kuna",
        "ipo",
        "zipo",
        "je",
        "una",
        "mnayo",
        "bado",
        "inapatikana",
        "tafadhali",
        "please",
    ];
    let folded = crate::domain::fold(text);
    let mut out: Vec<String> = folded
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.len() >= 2 && !STOP.contains(w))
        .map(str::to_string)
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Terms of a customer's product query: [`terms`] plus the singular of plural words, so "solar
/// lanterns" counts two hits on "Solar lantern …" and only one on "… solar panel".
pub fn query_terms(query: &str) -> Vec<String> {
    let mut out = terms(query);
    let singulars: Vec<String> = out
        .iter()
        .filter(|w| w.len() > 3 && w.ends_with('s') && !w.ends_with("ss"))
        .flat_map(|w| {
            let one = w[..w.len() - 1].to_string();
            let ies = w.strip_suffix("ies").map(|stem| format!("{stem}y"));
            let es = w
                .strip_suffix("es")
                .filter(|stem| stem.ends_with(['s', 'x', 'z']) || stem.ends_with("ch") || stem.ends_with("sh"));
            [Some(one), ies, es.map(str::to_string)].into_iter().flatten()
        })
        .collect();
    out.extend(singulars);
    out.sort();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plural_query_words_also_match_their_singular() {
        let t = query_terms("Do you have solar lanterns?");
        assert!(t.contains(&"lantern".to_string()) && t.contains(&"lanterns".to_string()), "{t:?}");
        assert!(query_terms("batteries").contains(&"battery".to_string()));
        assert!(query_terms("boxes").contains(&"box".to_string()));
        assert_eq!(query_terms("glass"), vec!["glass"]);
    }

    #[test]
    fn keys_fold_case_and_hash() {
        assert_eq!(record_key(" #so-2026-0042 "), "SO-2026-0042");
        assert_eq!(record_key("s00417"), "S00417");
    }

    #[test]
    fn terms_drop_stopwords_and_fold() {
        assert_eq!(terms("Do you have the Kikoi in stock?"), vec!["kikoi"]);
        assert_eq!(terms("Solar Lantern (Solar)"), vec!["lantern", "solar"]);
    }
}
