//! SQL for what hangs off a built-in order: lines, shipments, cancelling, and the return/refund
//! requests table. Lookups are keyed (index hits); imports are batched upserts.

use super::backoffice::{multi_insert, placeholder_style};
use super::{Result, Store};
use crate::domain::now_ms;
use crate::domain::records::{
    CancelOutcome, Invoice, NewRequest, OrderLine, Request, RequestKind, Shipment, record_key,
};
use sqlx::Row;
use sqlx::any::AnyRow;

fn line_from_row(r: &AnyRow) -> Result<OrderLine> {
    Ok(OrderLine {
        order_number: r.try_get("order_number")?,
        sku: r.try_get("sku")?,
        name: r.try_get("name")?,
        quantity: r.try_get("quantity")?,
        unit_price_minor: r.try_get("unit_price_minor")?,
    })
}

fn shipment_from_row(r: &AnyRow) -> Result<Shipment> {
    Ok(Shipment {
        shipment_number: r.try_get("shipment_number")?,
        order_number: r.try_get("order_number")?,
        state: r.try_get("state")?,
        planned_at: r.try_get("planned_at")?,
        shipped_at: r.try_get("shipped_at")?,
        delivered_at: r.try_get("delivered_at")?,
        carrier: r.try_get("carrier")?,
        tracking_number: r.try_get("tracking_number")?,
    })
}

fn request_from_row(r: &AnyRow) -> Result<Request> {
    let id: i64 = r.try_get("request_id")?;
    let kind: String = r.try_get("kind")?;
    let skus: String = r.try_get("skus")?;
    Ok(Request {
        request_id: id.to_string(),
        kind: RequestKind::parse(&kind).unwrap_or(RequestKind::Return),
        order_number: r.try_get("order_number")?,
        skus: serde_json::from_str(&skus).unwrap_or_default(),
        reason: r.try_get("reason")?,
        state: r.try_get("state")?,
        created_at: r.try_get("created_at")?,
    })
}

const REQUEST_COLUMNS: &str = "request_id, kind, order_number, skus, reason, state, created_at";

impl Store {
    pub async fn order_lines(&self, order_key: String) -> Result<Vec<OrderLine>> {
        let rows = sqlx::query(
            "select o.order_number, l.sku, l.name, l.quantity, l.unit_price_minor
               from order_lines l join orders o on o.order_key = l.order_key
              where l.order_key = $1 order by l.created_at, l.sku",
        )
        .bind(order_key)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(line_from_row).collect()
    }

    pub async fn shipments_of(&self, order_key: String) -> Result<Vec<Shipment>> {
        let rows = sqlx::query(
            "select s.shipment_number, o.order_number, s.state, s.planned_at, s.shipped_at, s.delivered_at,
                    s.carrier, s.tracking_number
               from shipments s join orders o on o.order_key = s.order_key
              where s.order_key = $1 order by s.shipment_number",
        )
        .bind(order_key)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(shipment_from_row).collect()
    }

    pub async fn invoices_of_order(&self, order_number: String) -> Result<Vec<Invoice>> {
        let sql = format!(
            "select {} from invoices where order_number = $1 order by issued_at",
            super::backoffice::INVOICE_COLUMNS
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(order_number).fetch_all(&self.pool).await?;
        rows.iter().map(super::backoffice::invoice_from_row).collect()
    }

    /// Cancels the order when its status is one of `cancellable`, in one write transaction.
    pub async fn cancel_order_by_key(&self, key: String, cancellable: &[&str]) -> Result<CancelOutcome> {
        let mut tx = self.begin_write().await?;
        let row = sqlx::query("select status from orders where order_key = $1")
            .bind(key.clone())
            .fetch_optional(&mut *tx)
            .await?;
        let Some(row) = row else {
            return Ok(CancelOutcome::NotFound);
        };
        let status: String = row.try_get(0)?;
        let outcome = if status == "cancelled" {
            CancelOutcome::AlreadyCancelled
        } else if cancellable.contains(&status.as_str()) {
            sqlx::query("update orders set status = 'cancelled', updated_at = $1 where order_key = $2")
                .bind(now_ms())
                .bind(key)
                .execute(&mut *tx)
                .await?;
            CancelOutcome::Cancelled
        } else {
            CancelOutcome::Refused { state: status }
        };
        tx.commit().await?;
        Ok(outcome)
    }

    /// Stores a new request in state `open`; `None` when the order does not exist.
    pub async fn insert_request(&self, order_key: String, new: &NewRequest) -> Result<Option<Request>> {
        let Some(order) = self.order_by_key(order_key.clone()).await? else {
            return Ok(None);
        };
        let now = now_ms();
        let skus = serde_json::to_string(&new.skus).unwrap_or_else(|_| "[]".into());
        let row = sqlx::query(
            "insert into backoffice_requests (kind, order_key, order_number, skus, reason, state, created_at, updated_at)
             values ($1, $2, $3, $4, $5, 'open', $6, $6) returning request_id",
        )
        .bind(new.kind.as_str())
        .bind(order_key)
        .bind(order.order_number.clone())
        .bind(skus)
        .bind(new.reason.clone())
        .bind(now)
        .fetch_one(self.writer())
        .await?;
        let id: i64 = row.try_get(0)?;
        Ok(Some(Request {
            request_id: id.to_string(),
            kind: new.kind,
            order_number: order.order_number,
            skus: new.skus.clone(),
            reason: new.reason.clone(),
            state: "open".into(),
            created_at: now,
        }))
    }

    pub async fn request_by_id(&self, id: i64) -> Result<Option<Request>> {
        let sql = format!("select {REQUEST_COLUMNS} from backoffice_requests where request_id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(&self.pool).await?;
        row.as_ref().map(request_from_row).transpose()
    }

    pub async fn requests_by_order(&self, order_key: String) -> Result<Vec<Request>> {
        let sql = format!(
            "select {REQUEST_COLUMNS} from backoffice_requests where order_key = $1
              order by created_at desc, request_id desc limit 50"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(order_key).fetch_all(&self.pool).await?;
        rows.iter().map(request_from_row).collect()
    }

    pub async fn upsert_order_lines(tx: &mut sqlx::Transaction<'static, sqlx::Any>, rows: &[OrderLine]) -> Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let sql = multi_insert(
            placeholder_style(tx),
            "order_lines",
            &["order_key", "sku_key", "sku", "name", "quantity", "unit_price_minor", "created_at"],
            rows.len(),
            "order_key, sku_key",
        );
        let now = now_ms();
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for l in rows {
            q = q
                .bind(record_key(&l.order_number))
                .bind(record_key(&l.sku))
                .bind(l.sku.clone())
                .bind(l.name.clone())
                .bind(l.quantity)
                .bind(l.unit_price_minor)
                .bind(now);
        }
        q.execute(&mut **tx).await?;
        Ok(())
    }

    pub async fn upsert_shipments(tx: &mut sqlx::Transaction<'static, sqlx::Any>, rows: &[Shipment]) -> Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let sql = multi_insert(
            placeholder_style(tx),
            "shipments",
            &[
                "shipment_key",
                "shipment_number",
                "order_key",
                "state",
                "planned_at",
                "shipped_at",
                "delivered_at",
                "carrier",
                "tracking_number",
                "created_at",
            ],
            rows.len(),
            "shipment_key",
        );
        let now = now_ms();
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for s in rows {
            q = q
                .bind(record_key(&s.shipment_number))
                .bind(s.shipment_number.clone())
                .bind(record_key(&s.order_number))
                .bind(s.state.clone())
                .bind(s.planned_at)
                .bind(s.shipped_at)
                .bind(s.delivered_at)
                .bind(s.carrier.clone())
                .bind(s.tracking_number.clone())
                .bind(now);
        }
        q.execute(&mut **tx).await?;
        Ok(())
    }
}
