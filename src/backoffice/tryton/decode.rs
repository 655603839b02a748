//! Tryton's JSON values and states in Kituo's words: the state table of README "Connect your
//! back office", and the decoding of Tryton's dates, decimals and dotted fields.

use crate::backoffice::{NewRequest, Order, RequestKind, Shipment};
use crate::domain::Millis;
use serde_json::Value;

/// Kituo's word for a sale, from its state and its shipments (the shipment state wins).
pub fn order_status(sale_state: &str, shipments: &[Shipment]) -> &'static str {
    let live: Vec<&Shipment> = shipments.iter().filter(|s| s.state != "cancelled").collect();
    if sale_state == "cancelled" {
        return "cancelled";
    }
    if !live.is_empty() && live.iter().all(|s| s.state == "delivered") {
        return "delivered";
    }
    if live.iter().any(|s| s.state == "shipped" || s.state == "delivered") {
        return "shipped";
    }
    match sale_state {
        "draft" => "pending",
        "done" if live.is_empty() => "delivered",
        _ => "processing",
    }
}

/// Kituo's word for a Tryton shipment state.
pub fn shipment_state(state: &str) -> &'static str {
    match state {
        "shipped" => "shipped",
        "done" => "delivered",
        "cancelled" => "cancelled",
        _ => "processing",
    }
}

/// Kituo's word for an invoice: overdue when posted, unpaid and past its due date.
pub fn invoice_status(state: &str, due: Option<Millis>, now: Millis) -> &'static str {
    match state {
        "paid" => "paid",
        "cancelled" => "void",
        "posted" if due.is_some_and(|d| d + 86_400_000 <= now) => "overdue",
        _ => "open",
    }
}

pub(super) fn complaint_state(state: &str) -> &'static str {
    match state {
        "draft" => "open",
        "waiting" => "waiting",
        "approved" => "approved",
        "rejected" => "rejected",
        "done" => "done",
        _ => "cancelled",
    }
}

pub(super) fn describe(r: &NewRequest) -> String {
    let skus = if r.skus.is_empty() { String::new() } else { format!(" [{}]", r.skus.join(", ")) };
    format!("{}{skus}: {}", r.kind.as_str(), r.reason)
}

pub(super) fn parse_description(d: &str) -> (RequestKind, Vec<String>, String) {
    let (head, reason) = d.split_once(": ").unwrap_or(("return", d));
    let (kind, skus) = head.split_once(" [").unwrap_or((head, ""));
    let skus = skus.trim_end_matches(']').split(", ").filter(|s| !s.is_empty()).map(str::to_string).collect();
    (RequestKind::parse(kind).unwrap_or(RequestKind::Return), skus, reason.to_string())
}

pub(super) fn order(s: &Value, shipments: &[Shipment]) -> Order {
    let state = text(s, "state").unwrap_or_default();
    let shipped = shipments.iter().filter(|x| x.state != "cancelled").find(|x| x.state != "processing");
    Order {
        order_number: text(s, "number").unwrap_or_default(),
        customer_email: dotted(s, "party", "email").unwrap_or_default(),
        customer_name: dotted(s, "party", "rec_name"),
        status: order_status(&state, shipments).into(),
        placed_at: date(&s["sale_date"]),
        shipped_at: shipped.and_then(|x| x.shipped_at.or(x.planned_at)),
        carrier: None,
        tracking_number: shipped.and_then(|x| x.tracking_number.clone()),
        total_minor: decimal(&s["total_amount"]),
        currency: dotted(s, "currency", "code"),
    }
}

pub(super) fn shipment(sh: &Value, order_number: String) -> Shipment {
    let state = shipment_state(&text(sh, "state").unwrap_or_default());
    let effective = date(&sh["effective_date"]);
    Shipment {
        shipment_number: text(sh, "number").unwrap_or_default(),
        order_number,
        state: state.into(),
        planned_at: date(&sh["planned_date"]),
        shipped_at: if state == "shipped" || state == "delivered" {
            effective.or(date(&sh["planned_date"]))
        } else {
            None
        },
        delivered_at: if state == "delivered" { effective } else { None },
        carrier: None,
        tracking_number: text(sh, "reference").filter(|r| !r.is_empty()),
    }
}

pub(super) fn text(v: &Value, field: &str) -> Option<String> {
    v.get(field).and_then(Value::as_str).map(str::to_string)
}

/// A dotted field (`party.email`): Tryton answers it under `"party."` as an object.
pub(super) fn dotted(v: &Value, field: &str, sub: &str) -> Option<String> {
    v.get(format!("{field}.")).and_then(|o| o.get(sub)).and_then(Value::as_str).map(str::to_string)
}

pub(super) fn ids_of(v: &Value, field: &str) -> Vec<i64> {
    v.get(field).and_then(Value::as_array).map(|a| a.iter().filter_map(Value::as_i64).collect()).unwrap_or_default()
}

/// `{"__class__": "Decimal", "decimal": "154.00"}` in minor units.
pub(super) fn decimal(v: &Value) -> Option<i64> {
    let s =
        v.get("decimal").and_then(Value::as_str).map(str::to_string).or_else(|| v.as_f64().map(|f| f.to_string()))?;
    let (whole, frac) = s.split_once('.').unwrap_or((&s, ""));
    let frac: String = frac.chars().chain("00".chars()).take(2).collect();
    crate::backoffice::import::parse_money(&format!("{whole}.{frac}"))
}

/// `{"__class__": "date", "year": …, "month": …, "day": …}` as epoch ms (UTC midnight).
pub(super) fn date(v: &Value) -> Option<Millis> {
    let (y, m, d) = (v.get("year")?.as_i64()?, v.get("month")?.as_i64()?, v.get("day")?.as_i64()?);
    crate::backoffice::import::parse_timestamp(&format!("{y:04}-{m:02}-{d:02}"))
}

pub(super) fn datetime(v: &Value) -> Option<Millis> {
    let base = date(v)?;
    let part = |k: &str| v.get(k).and_then(Value::as_i64).unwrap_or(0);
    Some(base + (part("hour") * 3600 + part("minute") * 60 + part("second")) * 1000)
}

pub(super) fn escape_like(s: &str) -> String {
    s.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
}

/// An `ilike` pattern matching exactly `s`, whatever its case.
pub(super) fn like_exact(s: &str) -> String {
    escape_like(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ship(state: &str) -> Shipment {
        shipment(&json!({"number": "SH1", "state": state}), "SO1".into())
    }

    #[test]
    fn the_shipment_state_wins() {
        assert_eq!(order_status("processing", &[ship("shipped")]), "shipped");
        assert_eq!(order_status("processing", &[ship("done")]), "delivered");
        assert_eq!(order_status("processing", &[ship("done"), ship("waiting")]), "shipped");
        assert_eq!(order_status("processing", &[ship("assigned")]), "processing");
        assert_eq!(order_status("quotation", &[]), "processing");
        assert_eq!(order_status("confirmed", &[]), "processing");
        assert_eq!(order_status("cancelled", &[]), "cancelled");
        assert_eq!(order_status("draft", &[]), "pending");
    }

    #[test]
    fn invoices_are_overdue_only_when_posted_and_past_due() {
        let day = 86_400_000;
        assert_eq!(invoice_status("posted", Some(10 * day), 20 * day), "overdue");
        assert_eq!(invoice_status("posted", Some(30 * day), 20 * day), "open");
        assert_eq!(invoice_status("paid", Some(10 * day), 20 * day), "paid");
        assert_eq!(invoice_status("cancelled", None, 0), "void");
    }

    #[test]
    fn values_decode() {
        assert_eq!(decimal(&json!({"__class__": "Decimal", "decimal": "154.5"})), Some(15450));
        assert_eq!(decimal(&json!({"__class__": "Decimal", "decimal": "35000.0000"})), Some(3_500_000));
        assert_eq!(date(&json!({"__class__": "date", "year": 1970, "month": 1, "day": 2})), Some(86_400_000));
        let (k, skus, reason) = parse_description(&describe(&NewRequest {
            kind: RequestKind::Refund,
            order_number: "SO1".into(),
            skus: vec!["A".into(), "B".into()],
            reason: "broken: badly".into(),
        }));
        assert_eq!(
            (k, skus, reason.as_str()),
            (RequestKind::Refund, vec!["A".to_string(), "B".to_string()], "broken: badly")
        );
    }
}
