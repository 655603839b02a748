//! The back office's domain types: what any source (built-in tables, Tryton, an SQL mapping)
//! answers with, in Kituo's own words. Pure data, no IO.

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

/// Why a back-office answer failed. `Unavailable` and `Timeout` are the source being down or
/// slow: the bot says it cannot check right now instead of failing the turn. Messages never
/// carry credentials.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Store(#[from] crate::store::Error),
    #[error("the back office is unavailable: {0}")]
    Unavailable(String),
    #[error("the back office did not answer within {0} ms")]
    Timeout(u64),
    #[error("the back office refused: {0}")]
    Refused(String),
}

impl Error {
    /// The source is down or slow (as opposed to a bug or a refusal).
    pub fn is_unavailable(&self) -> bool {
        matches!(self, Error::Unavailable(_) | Error::Timeout(_))
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
