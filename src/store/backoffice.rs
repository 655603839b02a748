//! SQL for the back-office tables: keyed lookups (all index hits) and batched upserts for import.

use super::{Placeholders, Result, Store, value_tuples};
use crate::domain::now_ms;
use crate::domain::records::{Invoice, Order, Product};
use sqlx::Row;
use sqlx::any::AnyRow;

fn order_from_row(r: &AnyRow) -> Result<Order> {
    Ok(Order {
        order_number: r.try_get("order_number")?,
        customer_email: r.try_get("customer_email")?,
        customer_name: r.try_get("customer_name")?,
        status: r.try_get("status")?,
        placed_at: r.try_get("placed_at")?,
        shipped_at: r.try_get("shipped_at")?,
        carrier: r.try_get("carrier")?,
        tracking_number: r.try_get("tracking_number")?,
        total_minor: r.try_get("total_minor")?,
        currency: r.try_get("currency")?,
    })
}

pub(super) fn invoice_from_row(r: &AnyRow) -> Result<Invoice> {
    Ok(Invoice {
        invoice_number: r.try_get("invoice_number")?,
        order_number: r.try_get("order_number")?,
        customer_email: r.try_get("customer_email")?,
        amount_minor: r.try_get("amount_minor")?,
        currency: r.try_get("currency")?,
        status: r.try_get("status")?,
        issued_at: r.try_get("issued_at")?,
        due_at: r.try_get("due_at")?,
        paid_at: r.try_get("paid_at")?,
    })
}

fn product_from_row(r: &AnyRow) -> Result<Product> {
    Ok(Product {
        sku: r.try_get("sku")?,
        name: r.try_get("name")?,
        quantity_on_hand: r.try_get("quantity_on_hand")?,
        available: None,
        restock_date: r.try_get("restock_date")?,
        price_minor: r.try_get("price_minor")?,
        currency: r.try_get("currency")?,
    })
}

const ORDER_COLUMNS: &str = "order_number, customer_email, customer_name, status, placed_at, \
     shipped_at, carrier, tracking_number, total_minor, currency";
pub(super) const INVOICE_COLUMNS: &str = "invoice_number, order_number, customer_email, amount_minor, \
     currency, status, issued_at, due_at, paid_at";
/// The settings key holding the built-in back office's version.
const BACKOFFICE_GENERATION: &str = "backoffice_generation";
const PRODUCT_COLUMNS: &str = "p.sku, p.name, p.quantity_on_hand, p.restock_date, p.price_minor, p.currency";

/// Which back-office table an import batch goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Table {
    Orders,
    Invoices,
    Products,
    OrderLines,
    Shipments,
}

impl Store {
    pub async fn order_by_key(&self, key: String) -> Result<Option<Order>> {
        let sql = format!("select {ORDER_COLUMNS} from orders where order_key = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(key).fetch_optional(&self.pool).await?;
        row.as_ref().map(order_from_row).transpose()
    }

    pub async fn orders_by_email(&self, email_key: String) -> Result<Vec<Order>> {
        let sql = format!("select {ORDER_COLUMNS} from orders where email_key = $1 order by placed_at desc limit 50");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(email_key).fetch_all(&self.pool).await?;
        rows.iter().map(order_from_row).collect()
    }

    pub async fn invoices_by_email(&self, email_key: String) -> Result<Vec<Invoice>> {
        let sql =
            format!("select {INVOICE_COLUMNS} from invoices where email_key = $1 order by issued_at desc limit 50");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(email_key).fetch_all(&self.pool).await?;
        rows.iter().map(invoice_from_row).collect()
    }

    pub async fn invoice_by_key(&self, key: String) -> Result<Option<Invoice>> {
        let sql = format!("select {INVOICE_COLUMNS} from invoices where invoice_key = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(key).fetch_optional(&self.pool).await?;
        row.as_ref().map(invoice_from_row).transpose()
    }

    pub async fn product_by_key(&self, key: String) -> Result<Option<Product>> {
        let sql = format!("select {PRODUCT_COLUMNS} from products p where p.sku_key = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(key).fetch_optional(&self.pool).await?;
        row.as_ref().map(product_from_row).transpose()
    }

    /// Products ranked by how many of `terms` their names contain (index lookups only).
    pub async fn products_by_terms(&self, terms: &[String]) -> Result<Vec<Product>> {
        let terms = &terms[..terms.len().min(12)];
        let placeholders: Vec<String> = (1..=terms.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "select {PRODUCT_COLUMNS}, count(*) as hits
               from product_terms t join products p on p.sku_key = t.sku_key
              where t.term in ({})
              group by p.sku_key, p.sku, p.name, p.quantity_on_hand, p.restock_date, p.price_minor, p.currency
              order by hits desc, p.name
              limit 5",
            placeholders.join(", ")
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for t in terms {
            query = query.bind(t);
        }
        let rows = query.fetch_all(&self.pool).await?;
        rows.iter().map(product_from_row).collect()
    }

    /// Starts the single transaction an import runs in.
    pub async fn begin_import(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>> {
        self.begin_write().await
    }

    /// The built-in back office's version: changed by every import and every write through the
    /// interface, on any node or process (see `backoffice::memo`). None before the first change.
    pub async fn backoffice_generation(&self) -> Result<Option<String>> {
        let row: Option<(String,)> = sqlx::query_as("select value from settings where key = $1")
            .bind(BACKOFFICE_GENERATION)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| r.0))
    }

    /// Gives the built-in back office a new version (inside `tx`: visible with the change).
    pub async fn mark_backoffice_changed(tx: &mut sqlx::Transaction<'static, sqlx::Any>) -> Result<()> {
        sqlx::query(
            "insert into settings (key, value, updated_at) values ($1, $2, $3)
             on conflict (key) do update set value = excluded.value, updated_at = excluded.updated_at",
        )
        .bind(BACKOFFICE_GENERATION)
        .bind(crate::domain::new_id())
        .bind(now_ms())
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    /// [`Store::mark_backoffice_changed`] in a transaction of its own.
    pub async fn bump_backoffice_generation(&self) -> Result<()> {
        let mut tx = self.begin_write().await?;
        Store::mark_backoffice_changed(&mut tx).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn upsert_orders(tx: &mut sqlx::Transaction<'static, sqlx::Any>, rows: &[Order]) -> Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let sql = multi_insert(
            placeholder_style(tx),
            "orders",
            &[
                "order_key",
                "order_number",
                "customer_email",
                "email_key",
                "customer_name",
                "status",
                "placed_at",
                "shipped_at",
                "carrier",
                "tracking_number",
                "total_minor",
                "currency",
                "updated_at",
            ],
            rows.len(),
            "order_key",
        );
        let now = now_ms();
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for o in rows {
            q = q
                .bind(crate::domain::records::record_key(&o.order_number))
                .bind(o.order_number.clone())
                .bind(o.customer_email.clone())
                .bind(o.customer_email.to_lowercase())
                .bind(o.customer_name.clone())
                .bind(o.status.clone())
                .bind(o.placed_at)
                .bind(o.shipped_at)
                .bind(o.carrier.clone())
                .bind(o.tracking_number.clone())
                .bind(o.total_minor)
                .bind(o.currency.clone())
                .bind(now);
        }
        q.execute(&mut **tx).await?;
        Ok(())
    }

    pub async fn upsert_invoices(tx: &mut sqlx::Transaction<'static, sqlx::Any>, rows: &[Invoice]) -> Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let sql = multi_insert(
            placeholder_style(tx),
            "invoices",
            &[
                "invoice_key",
                "invoice_number",
                "order_number",
                "customer_email",
                "email_key",
                "amount_minor",
                "currency",
                "status",
                "issued_at",
                "due_at",
                "paid_at",
                "updated_at",
            ],
            rows.len(),
            "invoice_key",
        );
        let now = now_ms();
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for i in rows {
            q = q
                .bind(crate::domain::records::record_key(&i.invoice_number))
                .bind(i.invoice_number.clone())
                .bind(i.order_number.clone())
                .bind(i.customer_email.clone())
                .bind(i.customer_email.to_lowercase())
                .bind(i.amount_minor)
                .bind(i.currency.clone())
                .bind(i.status.clone())
                .bind(i.issued_at)
                .bind(i.due_at)
                .bind(i.paid_at)
                .bind(now);
        }
        q.execute(&mut **tx).await?;
        Ok(())
    }

    /// Upserts products and re-indexes the words of their names.
    pub async fn upsert_products(tx: &mut sqlx::Transaction<'static, sqlx::Any>, rows: &[Product]) -> Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let sql = multi_insert(
            placeholder_style(tx),
            "products",
            &["sku_key", "sku", "name", "quantity_on_hand", "restock_date", "price_minor", "currency", "updated_at"],
            rows.len(),
            "sku_key",
        );
        let now = now_ms();
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for p in rows {
            q = q
                .bind(crate::domain::records::record_key(&p.sku))
                .bind(p.sku.clone())
                .bind(p.name.clone())
                .bind(p.quantity_on_hand)
                .bind(p.restock_date)
                .bind(p.price_minor)
                .bind(p.currency.clone())
                .bind(now);
        }
        q.execute(&mut **tx).await?;

        let keys: Vec<String> = rows.iter().map(|p| crate::domain::records::record_key(&p.sku)).collect();
        let placeholders: Vec<String> = (1..=keys.len()).map(|i| format!("${i}")).collect();
        let sql = format!("delete from product_terms where sku_key in ({})", placeholders.join(", "));
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for k in &keys {
            q = q.bind(k.clone());
        }
        q.execute(&mut **tx).await?;

        let mut pairs: Vec<(String, String)> = Vec::new();
        for (p, key) in rows.iter().zip(&keys) {
            let mut words = crate::domain::records::terms(&p.name);
            words.extend(crate::domain::records::terms(&p.sku));
            words.sort();
            words.dedup();
            pairs.extend(words.into_iter().map(|w| (w, key.clone())));
        }
        for chunk in pairs.chunks(1000) {
            let values: Vec<String> = (0..chunk.len()).map(|i| format!("(${}, ${})", 2 * i + 1, 2 * i + 2)).collect();
            let sql = format!(
                "insert into product_terms (term, sku_key) values {} on conflict do nothing",
                values.join(", ")
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for (term, key) in chunk {
                q = q.bind(term.clone()).bind(key.clone());
            }
            q.execute(&mut **tx).await?;
        }
        Ok(())
    }

    /// Row counts of a back-office table.
    pub async fn count(&self, table: Table) -> Result<i64> {
        let sql = match table {
            Table::Orders => "select count(*) from orders",
            Table::Invoices => "select count(*) from invoices",
            Table::Products => "select count(*) from products",
            Table::OrderLines => "select count(*) from order_lines",
            Table::Shipments => "select count(*) from shipments",
        };
        let row = sqlx::query(sql).fetch_one(&self.pool).await?;
        Ok(row.try_get(0)?)
    }
}

/// Which placeholders a multi-row insert uses on the transaction's backend.
///
/// PostgreSQL needs numbered `$N`. SQLite accepts them too, but sqlx asks SQLite for every
/// parameter's name and SQLite finds a name by scanning its list, so a batch with thousands of
/// `$N` costs quadratic time (the import measured 89 % of its time there); anonymous `?` have no
/// names and bind in order.
pub(super) fn placeholder_style(tx: &sqlx::Transaction<'static, sqlx::Any>) -> Placeholders {
    if tx.backend_name().eq_ignore_ascii_case("sqlite") { Placeholders::Anonymous } else { Placeholders::Numbered }
}

/// `insert into T (cols) values (...), (...) on conflict (key) do update set col = excluded.col`.
pub(super) fn multi_insert(style: Placeholders, table: &str, columns: &[&str], rows: usize, key: &str) -> String {
    let updates: Vec<String> = columns.iter().filter(|c| **c != key).map(|c| format!("{c} = excluded.{c}")).collect();
    format!(
        "insert into {table} ({}) values {} on conflict ({key}) do update set {}",
        columns.join(", "),
        value_tuples(style, rows, columns.len()),
        updates.join(", ")
    )
}
