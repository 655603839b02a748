//! Tryton as the back office, over JSON-RPC: sales, shipments, invoices, product stock in the
//! warehouse's storage location, cancelling a sale, and return/refund requests as
//! `sale.complaint`. Tryton's states become Kituo's words in [`order_status`] and
//! [`invoice_status`] (the table in README "Connect your back office"). Runs behind
//! [`super::guard::Guarded`] (cache, timeout, breaker).

mod decode;
pub mod rpc;

use decode::*;
pub use decode::{invoice_status, order_status, shipment_state};

use super::{
    BackOffice, CancelOutcome, Error, Invoice, NewRequest, Order, OrderDetail, OrderLine, Product, Request, Result,
    Shipment, terms,
};
use futures_util::future::BoxFuture;
use rpc::{Rpc, Target};
use serde_json::{Value, json};

const SALE_FIELDS: &[&str] = &[
    "number",
    "state",
    "sale_date",
    "party",
    "party.rec_name",
    "party.email",
    "total_amount",
    "currency.code",
    "shipments",
    "invoices",
    "lines",
];
const SHIPMENT_FIELDS: &[&str] = &["number", "state", "planned_date", "effective_date", "reference"];
const INVOICE_FIELDS: &[&str] =
    &["number", "state", "total_amount", "currency.code", "invoice_date", "party.email", "lines_to_pay"];

pub struct Tryton {
    rpc: Rpc,
    storage: tokio::sync::OnceCell<i64>,
}

impl Tryton {
    pub fn new(target: Target) -> Tryton {
        Tryton { rpc: Rpc::new(target), storage: tokio::sync::OnceCell::new() }
    }

    /// Logs in and finds the warehouse: the start-up check.
    pub async fn check(&self) -> Result<()> {
        self.storage_location().await.map(|_| ())
    }

    fn ctx(&self) -> Value {
        match self.rpc.target().company {
            Some(c) => json!({"company": c}),
            None => json!({}),
        }
    }

    async fn search_read(
        &self,
        model: &str,
        domain: Value,
        limit: i64,
        order: Value,
        fields: &[&str],
    ) -> Result<Vec<Value>> {
        let v = self
            .rpc
            .call(&format!("model.{model}.search_read"), json!([domain, 0, limit, order, fields, self.ctx()]))
            .await?;
        Ok(v.as_array().cloned().unwrap_or_default())
    }

    async fn read(&self, model: &str, ids: &[i64], fields: &[&str]) -> Result<Vec<Value>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let v = self.rpc.call(&format!("model.{model}.read"), json!([ids, fields, self.ctx()])).await?;
        Ok(v.as_array().cloned().unwrap_or_default())
    }

    async fn storage_location(&self) -> Result<i64> {
        self.storage
            .get_or_try_init(|| async {
                let rows = self
                    .search_read(
                        "stock.location",
                        json!([["type", "=", "warehouse"]]),
                        1,
                        json!([["id", "ASC"]]),
                        &["storage_location"],
                    )
                    .await?;
                rows.first()
                    .and_then(|r| r.get("storage_location").and_then(Value::as_i64))
                    .ok_or_else(|| Error::Unavailable("Tryton: no warehouse with a storage location".into()))
            })
            .await
            .copied()
    }

    async fn sale_row(&self, number: &str) -> Result<Option<Value>> {
        let key = super::record_key(number);
        if key.is_empty() {
            return Ok(None);
        }
        let rows = self
            .search_read("sale.sale", json!([["number", "ilike", like_exact(&key)]]), 1, Value::Null, SALE_FIELDS)
            .await?;
        Ok(rows.into_iter().next())
    }

    /// Orders from sale rows, reading all their shipments in one call.
    async fn orders(&self, sales: &[Value]) -> Result<Vec<(Order, Vec<Shipment>)>> {
        let ids: Vec<i64> = sales.iter().flat_map(|s| ids_of(s, "shipments")).collect();
        let shipments = self.read("stock.shipment.out", &ids, SHIPMENT_FIELDS).await?;
        Ok(sales
            .iter()
            .map(|s| {
                let mine: Vec<Shipment> = shipments
                    .iter()
                    .filter(|sh| ids_of(s, "shipments").contains(&sh["id"].as_i64().unwrap_or(-1)))
                    .map(|sh| shipment(sh, text(s, "number").unwrap_or_default()))
                    .collect();
                (order(s, &mine), mine)
            })
            .collect())
    }

    async fn invoices(&self, ids: &[i64]) -> Result<Vec<Invoice>> {
        let rows = self.read("account.invoice", ids, INVOICE_FIELDS).await?;
        let line_ids: Vec<i64> = rows.iter().flat_map(|r| ids_of(r, "lines_to_pay")).collect();
        let lines = self.read("account.move.line", &line_ids, &["maturity_date"]).await?;
        let today = crate::domain::now_ms();
        Ok(rows
            .iter()
            .filter(|r| r.get("number").is_some_and(|n| n.is_string()))
            .map(|r| {
                let due = lines
                    .iter()
                    .filter(|l| ids_of(r, "lines_to_pay").contains(&l["id"].as_i64().unwrap_or(-1)))
                    .filter_map(|l| date(&l["maturity_date"]))
                    .min();
                let state = text(r, "state").unwrap_or_default();
                Invoice {
                    invoice_number: text(r, "number").unwrap_or_default(),
                    order_number: None,
                    customer_email: dotted(r, "party", "email").unwrap_or_default(),
                    amount_minor: decimal(&r["total_amount"]).unwrap_or(0),
                    currency: dotted(r, "currency", "code").unwrap_or_default(),
                    status: invoice_status(&state, due, today).into(),
                    issued_at: date(&r["invoice_date"]),
                    due_at: due,
                    paid_at: None,
                }
            })
            .collect())
    }

    async fn stock_of(&self, domain: Value, limit: i64) -> Result<Vec<Product>> {
        let loc = self.storage_location().await?;
        let fields = ["code", "rec_name", "list_price", "quantity"];
        let mut ctx = self.ctx();
        ctx["locations"] = json!([loc]);
        let on_hand = self
            .rpc
            .call("model.product.product.search_read", json!([domain, 0, limit, Value::Null, fields, ctx]))
            .await?;
        let rows = on_hand.as_array().cloned().unwrap_or_default();
        let ids: Vec<i64> = rows.iter().filter_map(|r| r["id"].as_i64()).collect();
        ctx["stock_assign"] = json!(true);
        let avail = self.rpc.call("model.product.product.read", json!([ids, ["quantity"], ctx])).await?;
        let avail = avail.as_array().cloned().unwrap_or_default();
        Ok(rows
            .iter()
            .map(|r| Product {
                sku: text(r, "code").unwrap_or_default(),
                name: text(r, "rec_name").unwrap_or_default(),
                quantity_on_hand: r["quantity"].as_f64().unwrap_or(0.0) as i64,
                available: avail
                    .iter()
                    .find(|a| a["id"] == r["id"])
                    .and_then(|a| a["quantity"].as_f64())
                    .map(|q| q as i64),
                restock_date: None,
                price_minor: decimal(&r["list_price"]),
                currency: None,
            })
            .collect())
    }

    async fn complaint_type(&self) -> Result<i64> {
        let rows = self.search_read("sale.complaint.type", json!([]), 1, json!([["id", "ASC"]]), &["id"]).await?;
        rows.first()
            .and_then(|r| r["id"].as_i64())
            .ok_or_else(|| Error::Refused("Tryton has no complaint type: create one (Sales > Configuration)".into()))
    }

    async fn complaints(&self, domain: Value) -> Result<Vec<Request>> {
        let rows = self
            .search_read(
                "sale.complaint",
                domain,
                50,
                json!([["id", "DESC"]]),
                &["state", "origin", "description", "create_date"],
            )
            .await?;
        let sale_ids: Vec<i64> = rows
            .iter()
            .filter_map(|r| text(r, "origin").and_then(|o| o.strip_prefix("sale.sale,").and_then(|i| i.parse().ok())))
            .collect();
        let sales = self.read("sale.sale", &sale_ids, &["number"]).await?;
        Ok(rows
            .iter()
            .map(|r| {
                let origin = text(r, "origin").unwrap_or_default();
                let sale = sales.iter().find(|s| format!("sale.sale,{}", s["id"]) == origin);
                let (kind, skus, reason) = parse_description(&text(r, "description").unwrap_or_default());
                Request {
                    request_id: r["id"].to_string(),
                    kind,
                    order_number: sale.and_then(|s| text(s, "number")).unwrap_or_default(),
                    skus,
                    reason,
                    state: complaint_state(&text(r, "state").unwrap_or_default()).into(),
                    created_at: datetime(&r["create_date"]).unwrap_or(0),
                }
            })
            .collect())
    }
}

impl BackOffice for Tryton {
    fn source(&self) -> &'static str {
        "tryton"
    }

    fn location(&self) -> String {
        self.rpc.target().redacted()
    }

    fn check(&self) -> BoxFuture<'_, Result<()>> {
        Box::pin(Tryton::check(self))
    }

    fn order<'a>(&'a self, number: &'a str) -> BoxFuture<'a, Result<Option<Order>>> {
        Box::pin(async move {
            let Some(s) = self.sale_row(number).await? else { return Ok(None) };
            Ok(self.orders(std::slice::from_ref(&s)).await?.into_iter().next().map(|(o, _)| o))
        })
    }

    fn order_detail<'a>(&'a self, number: &'a str) -> BoxFuture<'a, Result<Option<OrderDetail>>> {
        Box::pin(async move {
            let Some(s) = self.sale_row(number).await? else { return Ok(None) };
            let Some((order, shipments)) = self.orders(std::slice::from_ref(&s)).await?.into_iter().next() else {
                return Ok(None);
            };
            let rows = self
                .read(
                    "sale.line",
                    &ids_of(&s, "lines"),
                    &["type", "product.code", "product.rec_name", "description", "quantity", "unit_price"],
                )
                .await?;
            let lines = rows
                .iter()
                .filter(|l| text(l, "type").as_deref() == Some("line"))
                .map(|l| {
                    let sku = dotted(l, "product", "code").unwrap_or_default();
                    let name = dotted(l, "product", "rec_name").or_else(|| text(l, "description")).unwrap_or_default();
                    OrderLine {
                        order_number: order.order_number.clone(),
                        // Tryton's rec_name is "[CODE] Name": the SKU is a field of its own.
                        name: name.strip_prefix(&format!("[{sku}] ")).map_or(name.clone(), str::to_string),
                        sku,
                        quantity: l["quantity"].as_f64().unwrap_or(0.0) as i64,
                        unit_price_minor: decimal(&l["unit_price"]),
                    }
                })
                .collect();
            let mut invoices = self.invoices(&ids_of(&s, "invoices")).await?;
            for i in &mut invoices {
                i.order_number = Some(order.order_number.clone());
            }
            Ok(Some(OrderDetail { order, lines, shipments, invoices }))
        })
    }

    fn invoice<'a>(&'a self, number: &'a str) -> BoxFuture<'a, Result<Option<Invoice>>> {
        Box::pin(async move {
            let key = super::record_key(number);
            let rows = self
                .search_read(
                    "account.invoice",
                    json!([["number", "ilike", like_exact(&key)], ["type", "=", "out"]]),
                    1,
                    Value::Null,
                    &["id"],
                )
                .await?;
            let ids: Vec<i64> = rows.iter().filter_map(|r| r["id"].as_i64()).collect();
            Ok(self.invoices(&ids).await?.into_iter().next())
        })
    }

    fn orders_of<'a>(&'a self, email: &'a str) -> BoxFuture<'a, Result<Vec<Order>>> {
        Box::pin(async move {
            let parties = self.parties_of(email).await?;
            if parties.is_empty() {
                return Ok(Vec::new());
            }
            let sales = self
                .search_read(
                    "sale.sale",
                    json!([["party", "in", parties], ["number", "!=", null]]),
                    50,
                    json!([["sale_date", "DESC"]]),
                    SALE_FIELDS,
                )
                .await?;
            Ok(self.orders(&sales).await?.into_iter().map(|(o, _)| o).collect())
        })
    }

    fn invoices_of<'a>(&'a self, email: &'a str) -> BoxFuture<'a, Result<Vec<Invoice>>> {
        Box::pin(async move {
            let parties = self.parties_of(email).await?;
            if parties.is_empty() {
                return Ok(Vec::new());
            }
            let rows = self
                .search_read(
                    "account.invoice",
                    json!([["party", "in", parties], ["type", "=", "out"], ["number", "!=", null]]),
                    50,
                    json!([["invoice_date", "DESC"]]),
                    &["id"],
                )
                .await?;
            let ids: Vec<i64> = rows.iter().filter_map(|r| r["id"].as_i64()).collect();
            self.invoices(&ids).await
        })
    }

    fn stock<'a>(&'a self, query: &'a str) -> BoxFuture<'a, Result<Vec<Product>>> {
        Box::pin(async move {
            let key = super::record_key(query);
            if !key.is_empty() {
                let exact = self.stock_of(json!([["code", "ilike", like_exact(&key)]]), 1).await?;
                if !exact.is_empty() {
                    return Ok(exact);
                }
            }
            let words = terms(query);
            if words.is_empty() {
                return Ok(Vec::new());
            }
            let mut domain = vec![json!("OR")];
            domain.extend(words.iter().map(|w| json!(["rec_name", "ilike", format!("%{}%", escape_like(w))])));
            let mut found = self.stock_of(Value::Array(domain), 20).await?;
            let hits = |p: &Product| {
                let name = crate::domain::fold(&p.name);
                words.iter().filter(|w| name.contains(w.as_str())).count()
            };
            found.sort_by(|a, b| hits(b).cmp(&hits(a)).then_with(|| a.name.cmp(&b.name)));
            found.truncate(5);
            Ok(found)
        })
    }

    fn cancel_order<'a>(&'a self, number: &'a str) -> BoxFuture<'a, Result<CancelOutcome>> {
        Box::pin(async move {
            let Some(s) = self.sale_row(number).await? else { return Ok(CancelOutcome::NotFound) };
            let state = text(&s, "state").unwrap_or_default();
            match state.as_str() {
                "cancelled" => Ok(CancelOutcome::AlreadyCancelled),
                "draft" | "quotation" => {
                    self.rpc.call("model.sale.sale.cancel", json!([[s["id"]], self.ctx()])).await?;
                    Ok(CancelOutcome::Cancelled)
                }
                _ => {
                    let (o, _) = self
                        .orders(std::slice::from_ref(&s))
                        .await?
                        .into_iter()
                        .next()
                        .ok_or(Error::Refused("sale vanished".into()))?;
                    Ok(CancelOutcome::Refused { state: o.status })
                }
            }
        })
    }

    fn open_request<'a>(&'a self, request: &'a NewRequest) -> BoxFuture<'a, Result<Option<Request>>> {
        Box::pin(async move {
            let Some(s) = self.sale_row(&request.order_number).await? else { return Ok(None) };
            let kind = self.complaint_type().await?;
            let description = describe(request);
            let mut ctx = self.ctx();
            if ctx.get("company").is_none() {
                ctx["company"] = json!(1);
            }
            let created = self
                .rpc
                .call(
                    "model.sale.complaint.create",
                    json!([[{"customer": s["party"], "type": kind, "origin": format!("sale.sale,{}", s["id"]), "description": description}], ctx]),
                )
                .await?;
            let id =
                created.get(0).and_then(Value::as_i64).ok_or_else(|| Error::Refused("complaint not created".into()))?;
            self.rpc.call("model.sale.complaint.wait", json!([[id], self.ctx()])).await?;
            Ok(self.complaints(json!([["id", "=", id]])).await?.into_iter().next())
        })
    }

    fn request<'a>(&'a self, request_id: &'a str) -> BoxFuture<'a, Result<Option<Request>>> {
        Box::pin(async move {
            let Ok(id) = request_id.trim().trim_start_matches('#').parse::<i64>() else { return Ok(None) };
            Ok(self.complaints(json!([["id", "=", id]])).await?.into_iter().next())
        })
    }

    fn requests_of<'a>(&'a self, order_number: &'a str) -> BoxFuture<'a, Result<Vec<Request>>> {
        Box::pin(async move {
            let Some(s) = self.sale_row(order_number).await? else { return Ok(Vec::new()) };
            self.complaints(json!([["origin", "=", format!("sale.sale,{}", s["id"])]])).await
        })
    }
}

impl Tryton {
    /// Parties whose email contact mechanism is `email` (case-insensitive).
    async fn parties_of(&self, email: &str) -> Result<Vec<i64>> {
        let rows = self
            .search_read(
                "party.contact_mechanism",
                json!([["type", "=", "email"], ["value", "ilike", like_exact(email.trim())]]),
                20,
                Value::Null,
                &["party"],
            )
            .await?;
        Ok(rows.iter().filter_map(|r| r["party"].as_i64()).collect())
    }
}
