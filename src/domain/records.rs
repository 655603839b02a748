//! Back-office records: what any source (built-in tables, Tryton, an SQL mapping) answers with,
//! in Kituo's own words, and how their numbers and product names are keyed. Pure data, no IO.

use crate::domain::Millis;
use serde::{Deserialize, Serialize};

/// An order's header. `status` is one of Kituo's words: pending, processing, shipped, delivered,
/// cancelled (a source maps its own states onto these; see README "Connect your back office").
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Order {
    pub order_number: String,
    pub customer_email: String,
    pub customer_name: Option<String>,
    pub status: String,
    pub placed_at: Option<Millis>,
    pub shipped_at: Option<Millis>,
    pub carrier: Option<String>,
    pub tracking_number: Option<String>,
    pub total_minor: Option<i64>,
    pub currency: Option<String>,
}

/// An invoice. `status` is one of paid, open, overdue, void.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Invoice {
    pub invoice_number: String,
    pub order_number: Option<String>,
    pub customer_email: String,
    pub amount_minor: i64,
    pub currency: String,
    pub status: String,
    pub issued_at: Option<Millis>,
    pub due_at: Option<Millis>,
    pub paid_at: Option<Millis>,
}

impl Invoice {
    pub fn is_paid(&self) -> bool {
        self.status == "paid" || self.paid_at.is_some()
    }

    /// Open, unpaid and past its due date at `now`.
    pub fn is_overdue(&self, now: Millis) -> bool {
        self.status == "overdue" || (self.status == "open" && !self.is_paid() && self.due_at.is_some_and(|d| d < now))
    }
}

/// A product and its stock. `available` is on hand minus what is reserved for orders, where the
/// source knows it (`None`: same as on hand).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Product {
    pub sku: String,
    pub name: String,
    pub quantity_on_hand: i64,
    pub available: Option<i64>,
    pub restock_date: Option<Millis>,
    pub price_minor: Option<i64>,
    pub currency: Option<String>,
}

impl Product {
    /// What can be sold now: `available` when known, else on hand.
    pub fn sellable(&self) -> i64 {
        self.available.unwrap_or(self.quantity_on_hand)
    }
}

/// One line of an order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OrderLine {
    pub order_number: String,
    pub sku: String,
    pub name: String,
    pub quantity: i64,
    pub unit_price_minor: Option<i64>,
}

/// A delivery of (part of) an order. `state` uses the order words: processing, shipped,
/// delivered, cancelled.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Shipment {
    pub shipment_number: String,
    pub order_number: String,
    pub state: String,
    pub planned_at: Option<Millis>,
    pub shipped_at: Option<Millis>,
    pub delivered_at: Option<Millis>,
    pub carrier: Option<String>,
    pub tracking_number: Option<String>,
}

/// An order with everything hanging off it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OrderDetail {
    pub order: Order,
    pub lines: Vec<OrderLine>,
    pub shipments: Vec<Shipment>,
    pub invoices: Vec<Invoice>,
}

/// What became of a request to cancel an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum CancelOutcome {
    /// The order is now cancelled.
    Cancelled,
    /// It already was.
    AlreadyCancelled,
    /// The source refused: the order is too far along. `state` is Kituo's word for where it is.
    Refused { state: String },
    /// No such order.
    NotFound,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestKind {
    Return,
    Refund,
}

impl RequestKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RequestKind::Return => "return",
            RequestKind::Refund => "refund",
        }
    }

    pub fn parse(s: &str) -> Option<RequestKind> {
        match s {
            "return" => Some(RequestKind::Return),
            "refund" => Some(RequestKind::Refund),
            _ => None,
        }
    }
}

/// A return or refund request to open for an order, or for some of its lines (by SKU; empty
/// means the whole order).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewRequest {
    pub kind: RequestKind,
    pub order_number: String,
    pub skus: Vec<String>,
    pub reason: String,
}

/// A return or refund request as the source keeps it. `state` is one of open, waiting,
/// approved, rejected, done, cancelled.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Request {
    pub request_id: String,
    pub kind: RequestKind,
    pub order_number: String,
    pub skus: Vec<String>,
    pub reason: String,
    pub state: String,
    pub created_at: Millis,
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
