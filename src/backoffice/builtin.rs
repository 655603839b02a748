//! The built-in source: Kituo's own tables (filled by `kituo import` and the demo data) as the
//! back office. Reads and writes go through the store; this module only shapes the answers.

use super::{
    BackOffice, CancelOutcome, NewRequest, Order, OrderDetail, Product, Request, Result, Shipment, query_terms,
    record_key,
};
use crate::store::Store;
use futures_util::future::BoxFuture;

impl BackOffice for Store {
    fn order<'a>(&'a self, number: &'a str) -> BoxFuture<'a, Result<Option<Order>>> {
        Box::pin(async move { Ok(self.order_by_key(record_key(number)).await?) })
    }

    fn order_detail<'a>(&'a self, number: &'a str) -> BoxFuture<'a, Result<Option<OrderDetail>>> {
        Box::pin(async move {
            let key = record_key(number);
            let Some(order) = self.order_by_key(key.clone()).await? else {
                return Ok(None);
            };
            let lines = self.order_lines(key.clone()).await?;
            let mut shipments = self.shipments_of(key).await?;
            if shipments.is_empty()
                && let Some(s) = header_shipment(&order)
            {
                shipments.push(s);
            }
            let invoices = self.invoices_of_order(order.order_number.clone()).await?;
            Ok(Some(OrderDetail { order, lines, shipments, invoices }))
        })
    }

    fn invoice<'a>(&'a self, number: &'a str) -> BoxFuture<'a, Result<Option<super::Invoice>>> {
        Box::pin(async move { Ok(self.invoice_by_key(record_key(number)).await?) })
    }

    fn orders_of<'a>(&'a self, email: &'a str) -> BoxFuture<'a, Result<Vec<Order>>> {
        Box::pin(async move { Ok(self.orders_by_email(email.trim().to_lowercase()).await?) })
    }

    fn invoices_of<'a>(&'a self, email: &'a str) -> BoxFuture<'a, Result<Vec<super::Invoice>>> {
        Box::pin(async move { Ok(self.invoices_by_email(email.trim().to_lowercase()).await?) })
    }

    fn stock<'a>(&'a self, query: &'a str) -> BoxFuture<'a, Result<Vec<Product>>> {
        Box::pin(async move {
            if let Some(p) = self.product_by_key(record_key(query)).await? {
                return Ok(vec![p]);
            }
            let words = query_terms(query);
            if words.is_empty() {
                return Ok(Vec::new());
            }
            Ok(self.products_by_terms(&words).await?)
        })
    }

    fn cancel_order<'a>(&'a self, number: &'a str) -> BoxFuture<'a, Result<CancelOutcome>> {
        Box::pin(async move { Ok(self.cancel_order_by_key(record_key(number), CANCELLABLE).await?) })
    }

    fn open_request<'a>(&'a self, request: &'a NewRequest) -> BoxFuture<'a, Result<Option<Request>>> {
        Box::pin(async move { Ok(self.insert_request(record_key(&request.order_number), request).await?) })
    }

    fn request<'a>(&'a self, request_id: &'a str) -> BoxFuture<'a, Result<Option<Request>>> {
        Box::pin(async move {
            let Ok(id) = request_id.trim().trim_start_matches('#').parse::<i64>() else {
                return Ok(None);
            };
            Ok(self.request_by_id(id).await?)
        })
    }

    fn requests_of<'a>(&'a self, order_number: &'a str) -> BoxFuture<'a, Result<Vec<Request>>> {
        Box::pin(async move { Ok(self.requests_by_order(record_key(order_number)).await?) })
    }
}

/// Order states in which the built-in source lets an order be cancelled.
pub const CANCELLABLE: &[&str] = &["pending", "processing"];

/// An order imported without shipment rows but with shipping fields on its header: one shipment.
fn header_shipment(o: &Order) -> Option<Shipment> {
    if o.shipped_at.is_none() && o.tracking_number.is_none() {
        return None;
    }
    Some(Shipment {
        shipment_number: o.order_number.clone(),
        order_number: o.order_number.clone(),
        state: if o.status == "delivered" { "delivered".into() } else { "shipped".into() },
        planned_at: None,
        shipped_at: o.shipped_at,
        delivered_at: None,
        carrier: o.carrier.clone(),
        tracking_number: o.tracking_number.clone(),
    })
}
