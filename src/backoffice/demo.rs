//! Demo back-office data (East African and international customers, several currencies and
//! order-number styles), loaded through the regular CSV importer into an empty database.

use super::import::{Kind, import_csv};
use crate::store::Store;

const ORDERS: &str = include_str!("demo/orders.csv");
const INVOICES: &str = include_str!("demo/invoices.csv");
const PRODUCTS: &str = include_str!("demo/products.csv");
const ORDER_LINES: &str = include_str!("demo/order_lines.csv");
const SHIPMENTS: &str = include_str!("demo/shipments.csv");

/// Loads the demo rows (with order lines and shipments); returns (orders, invoices, products) counts.
pub async fn seed(store: &Store) -> anyhow::Result<(u64, u64, u64)> {
    let o = import_csv(store, Kind::Orders, ORDERS.as_bytes(), None).await?;
    let i = import_csv(store, Kind::Invoices, INVOICES.as_bytes(), None).await?;
    let p = import_csv(store, Kind::Products, PRODUCTS.as_bytes(), None).await?;
    import_csv(store, Kind::OrderLines, ORDER_LINES.as_bytes(), None).await?;
    import_csv(store, Kind::Shipments, SHIPMENTS.as_bytes(), None).await?;
    Ok((o.rows, i.rows, p.rows))
}
