//! Bodies of the staff API (`staff_api.rs`): a conversation in full, presence, the contact's
//! 360° view, stock, teams, canned responses and reports.

use super::common::{ConversationSummary, Message, PresenceSchema, time};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// `POST /api/login`
#[derive(Deserialize, ToSchema)]
pub struct LoginBody {
    pub email: String,
    pub password: String,
}

/// `PUT /api/me/presence`: `online`, `away` or `offline`.
#[derive(Deserialize, ToSchema)]
pub struct PresenceBody {
    #[schema(value_type = PresenceSchema)]
    pub presence: String,
}

/// The presence now in force.
#[derive(Serialize, ToSchema)]
pub struct PresenceResponse {
    #[schema(value_type = PresenceSchema)]
    pub presence: crate::domain::Presence,
}

/// `POST /api/conversations/{id}/assign`: exactly one of the two.
#[derive(Deserialize, ToSchema)]
pub struct AssignBody {
    pub agent_id: Option<String>,
    pub team: Option<String>,
}

/// `POST /api/conversations/{id}/messages`
#[derive(Deserialize, ToSchema)]
pub struct MessageBody {
    /// 1 to 10,000 characters (may be empty when files are attached).
    pub text: String,
    /// A staff note, never sent to the customer.
    #[serde(default)]
    pub private: bool,
    /// Ids of files uploaded to this conversation (`POST /api/widget/attachments` as staff), at most 10.
    #[serde(default)]
    pub attachments: Vec<String>,
}

/// A reply's delivery to the customer's channel.
#[derive(Serialize, ToSchema)]
pub struct Delivery {
    pub outbox_id: String,
    pub message_id: String,
    /// `pending`, `sent` or `failed`.
    pub status: String,
    pub attempts: i64,
    pub last_error: Option<String>,
}

impl From<&crate::store::DeliveryState> for Delivery {
    fn from(d: &crate::store::DeliveryState) -> Delivery {
        Delivery {
            outbox_id: d.outbox_id.clone(),
            message_id: d.message_id.clone(),
            status: d.status.clone(),
            attempts: d.attempts,
            last_error: d.last_error.clone(),
        }
    }
}

/// A conversation with its history (the contact's, across conversations), the bot's handoff
/// context and the delivery state of replies.
#[derive(Serialize, ToSchema)]
pub struct ConversationDetail {
    pub conversation: ConversationSummary,
    pub messages: Vec<Message>,
    /// What the bot collected at handoff (`reason`, `intent`, `slots`, `verified_emails`,
    /// `verify_failures`, `summary`), or null.
    #[schema(value_type = Option<Object>)]
    pub handoff: Option<serde_json::Value>,
    pub deliveries: Vec<Delivery>,
}

/// The contact itself.
#[derive(Serialize, ToSchema)]
pub struct ContactInfo {
    pub id: String,
    pub name: Option<String>,
    pub avatar_url: Option<String>,
    pub created_at: String,
}

/// One way the contact is known (web visitor ids are left out).
#[derive(Serialize, ToSchema)]
pub struct Identity {
    /// `email` or `discord`.
    pub kind: String,
    pub value: String,
    /// `none`, `order_email`, `hmac` or `email_channel`.
    pub verification: String,
}

/// Stock of an order line's product.
#[derive(Serialize, ToSchema)]
pub struct LineStock {
    pub quantity_on_hand: i64,
    /// What can be sold now.
    pub available: i64,
}

#[derive(Serialize, ToSchema)]
pub struct OrderLine {
    pub sku: String,
    pub name: String,
    pub quantity: i64,
    /// Formatted, e.g. `TZS 150,000`.
    pub unit_price: Option<String>,
    pub stock: Option<LineStock>,
}

/// A return or refund request on an order.
#[derive(Serialize, ToSchema)]
pub struct OrderRequest {
    pub request_id: String,
    pub kind: &'static str,
    pub state: String,
    pub skus: Vec<String>,
    pub reason: String,
    pub created_at: String,
}

impl From<&crate::backoffice::Request> for OrderRequest {
    fn from(r: &crate::backoffice::Request) -> OrderRequest {
        OrderRequest {
            request_id: r.request_id.clone(),
            kind: r.kind.as_str(),
            state: r.state.clone(),
            skus: r.skus.clone(),
            reason: r.reason.clone(),
            created_at: crate::domain::rfc3339(r.created_at),
        }
    }
}

/// An order from the back office, with its lines and requests.
#[derive(Serialize, ToSchema)]
pub struct Order {
    pub lines: Vec<OrderLine>,
    pub requests: Vec<OrderRequest>,
    pub order_number: String,
    pub customer_email: String,
    pub customer_name: Option<String>,
    pub status: String,
    pub placed_at: Option<String>,
    pub shipped_at: Option<String>,
    pub carrier: Option<String>,
    pub tracking_number: Option<String>,
    /// Formatted, e.g. `TZS 150,000`.
    pub total: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct Invoice {
    pub invoice_number: String,
    pub order_number: Option<String>,
    pub status: String,
    pub amount: String,
    pub issued_at: Option<String>,
    pub due_at: Option<String>,
    pub paid_at: Option<String>,
}

impl From<&crate::backoffice::Invoice> for Invoice {
    fn from(i: &crate::backoffice::Invoice) -> Invoice {
        Invoice {
            invoice_number: i.invoice_number.clone(),
            order_number: i.order_number.clone(),
            status: i.status.clone(),
            amount: crate::bot::render::money(i.amount_minor, &i.currency),
            issued_at: time(i.issued_at),
            due_at: time(i.due_at),
            paid_at: time(i.paid_at),
        }
    }
}

/// One of the contact's conversations.
#[derive(Serialize, ToSchema)]
pub struct ContactConversation {
    pub id: String,
    pub status: String,
    pub channel: String,
    pub created_at: String,
    pub updated_at: String,
}

/// The contact's 360° view: identities, back-office orders and invoices, conversations.
#[derive(Serialize, ToSchema)]
pub struct Contact360 {
    pub contact: ContactInfo,
    pub identities: Vec<Identity>,
    pub orders: Vec<Order>,
    pub invoices: Vec<Invoice>,
    pub conversations: Vec<ContactConversation>,
}

/// A product found by `GET /api/stock`.
#[derive(Serialize, ToSchema)]
pub struct Product {
    pub sku: String,
    pub name: String,
    pub quantity_on_hand: i64,
    pub restock_date: Option<String>,
    /// Formatted, e.g. `TZS 150,000`.
    pub price: Option<String>,
}

impl From<&crate::backoffice::Product> for Product {
    fn from(p: &crate::backoffice::Product) -> Product {
        Product {
            sku: p.sku.clone(),
            name: p.name.clone(),
            quantity_on_hand: p.quantity_on_hand,
            restock_date: time(p.restock_date),
            price: p.price_minor.map(|m| crate::bot::render::money(m, p.currency.as_deref().unwrap_or(""))),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct ProductList {
    pub products: Vec<Product>,
}

#[derive(Serialize, ToSchema)]
pub struct Team {
    pub name: String,
    /// Number of members.
    pub members: i64,
}

#[derive(Serialize, ToSchema)]
pub struct TeamList {
    pub teams: Vec<Team>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct CannedResponse {
    /// Typed as `/shortcut` in the console.
    pub shortcut: String,
    pub text: String,
}

#[derive(Serialize, ToSchema)]
pub struct CannedResponseList {
    pub canned_responses: Vec<CannedResponse>,
}

/// SLA breaches: conversations that missed a target.
#[derive(Serialize, ToSchema, Default)]
pub struct Breaches {
    pub first_response: i64,
    pub resolution: i64,
}

/// One UTC day and channel.
#[derive(Serialize, ToSchema)]
pub struct ReportDay {
    /// `YYYY-MM-DD`.
    pub date: String,
    pub channel: String,
    pub conversations: i64,
    pub bot_resolved: i64,
    /// bot_resolved / conversations.
    pub containment_rate: Option<f64>,
    pub first_response_avg_s: Option<f64>,
    pub resolution_avg_s: Option<f64>,
    /// Conversations created that day that missed a target.
    pub sla_breaches: Breaches,
}

#[derive(Serialize, ToSchema)]
pub struct ReportTotals {
    pub conversations: i64,
    pub bot_resolved: i64,
    pub bot_actions_done: i64,
}

/// A bot action's outcomes.
#[derive(Serialize, ToSchema)]
pub struct ActionCount {
    pub done: i64,
    pub refused: i64,
    pub failed: i64,
}

/// One CSAT group, keyed by exactly one of `agent_id` (with `agent_name`), `team`, `channel`
/// or `date`.
#[derive(Serialize, ToSchema)]
pub struct CsatGroup {
    pub ratings: i64,
    pub average: Option<f64>,
    /// Ratings of 4 or 5.
    pub satisfied: i64,
    pub satisfied_rate: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub agent_id: Option<Option<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub agent_name: Option<Option<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub team: Option<Option<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub channel: Option<Option<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub date: Option<Option<String>>,
}

/// What a [`CsatGroup`] is keyed by.
#[derive(Clone, Copy)]
pub enum CsatKey {
    Agent,
    Team,
    Channel,
    Date,
}

impl CsatGroup {
    pub fn new(g: &crate::store::CsatGroup, key: CsatKey) -> CsatGroup {
        let mut out = CsatGroup {
            ratings: g.ratings,
            average: g.average,
            satisfied: g.satisfied,
            satisfied_rate: (g.ratings > 0).then(|| g.satisfied as f64 / g.ratings as f64),
            agent_id: None,
            agent_name: None,
            team: None,
            channel: None,
            date: None,
        };
        let k = Some(g.key.clone());
        match key {
            CsatKey::Agent => {
                out.agent_id = k;
                out.agent_name = Some(g.name.clone());
            }
            CsatKey::Team => out.team = k,
            CsatKey::Channel => out.channel = k,
            CsatKey::Date => out.date = k,
        }
        out
    }
}

#[derive(Serialize, ToSchema)]
pub struct CsatReport {
    pub by_agent: Vec<CsatGroup>,
    pub by_team: Vec<CsatGroup>,
    pub by_channel: Vec<CsatGroup>,
    pub by_day: Vec<CsatGroup>,
}

#[derive(Serialize, ToSchema)]
pub struct LabelCount {
    pub name: String,
    pub color: String,
    pub conversations: i64,
}

/// `GET /api/reports`
#[derive(Serialize, ToSchema)]
pub struct Report {
    pub days: Vec<ReportDay>,
    pub totals: ReportTotals,
    /// Per action: `cancel_order`, `return_refund`, `invoice_copy`.
    pub bot_actions: BTreeMap<String, ActionCount>,
    pub csat: CsatReport,
    pub sla_breaches: Breaches,
    pub labels: Vec<LabelCount>,
}
