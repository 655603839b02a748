//! CSV import of back-office rows
//! (`kituo import orders|invoices|products|order_lines|shipments FILE.csv`).
//!
//! The whole file goes in one transaction: rows are validated while streaming and written in
//! batches of upserts keyed by order_number / invoice_number / sku (case-insensitive). The first
//! bad row aborts the import with its line and column, and the transaction rolls back, so a file
//! is never half-applied.

use super::{Invoice, Order, OrderLine, Product, Shipment, record_key};
use crate::domain::Millis;
use crate::store::{Store, Table};
use std::collections::HashMap;
use std::io::Read;
use std::time::{Duration, Instant};

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("line {line}, column {column}: {message}")]
    Row { line: u64, column: String, message: String },
    #[error("line 1: missing required column {0:?} in the header row")]
    MissingColumn(&'static str),
    #[error("line {line}: malformed CSV: {message}")]
    Csv { line: u64, message: String },
    #[error(transparent)]
    Store(#[from] crate::store::Error),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Orders,
    Invoices,
    Products,
    OrderLines,
    Shipments,
}

impl Kind {
    pub fn parse(s: &str) -> Option<Kind> {
        match s {
            "orders" => Some(Kind::Orders),
            "invoices" => Some(Kind::Invoices),
            "products" => Some(Kind::Products),
            "order_lines" => Some(Kind::OrderLines),
            "shipments" => Some(Kind::Shipments),
            _ => None,
        }
    }

    pub fn table(self) -> Table {
        match self {
            Kind::Orders => Table::Orders,
            Kind::Invoices => Table::Invoices,
            Kind::Products => Table::Products,
            Kind::OrderLines => Table::OrderLines,
            Kind::Shipments => Table::Shipments,
        }
    }

    fn columns(self) -> &'static [&'static str] {
        match self {
            Kind::Orders => &[
                "order_number",
                "customer_email",
                "customer_name",
                "status",
                "placed_at",
                "shipped_at",
                "carrier",
                "tracking_number",
                "total",
                "currency",
            ],
            Kind::Invoices => &[
                "invoice_number",
                "order_number",
                "customer_email",
                "amount",
                "currency",
                "status",
                "issued_at",
                "due_at",
                "paid_at",
            ],
            Kind::Products => &["sku", "name", "quantity_on_hand", "restock_date", "price", "currency"],
            Kind::OrderLines => &["order_number", "sku", "name", "quantity", "unit_price"],
            Kind::Shipments => &[
                "shipment_number",
                "order_number",
                "state",
                "planned_at",
                "shipped_at",
                "delivered_at",
                "carrier",
                "tracking_number",
            ],
        }
    }

    fn required(self) -> &'static [&'static str] {
        match self {
            Kind::Orders => &["order_number", "customer_email", "status"],
            Kind::Invoices => &["invoice_number", "customer_email", "amount", "currency", "status"],
            Kind::Products => &["sku", "name", "quantity_on_hand"],
            Kind::OrderLines => &["order_number", "sku", "name", "quantity"],
            Kind::Shipments => &["shipment_number", "order_number", "state"],
        }
    }
}

pub const ORDER_STATUSES: &[&str] = &["pending", "processing", "shipped", "delivered", "cancelled"];
pub const SHIPMENT_STATES: &[&str] = &["processing", "shipped", "delivered", "cancelled"];
pub const INVOICE_STATUSES: &[&str] = &["paid", "open", "overdue", "void"];

#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Data rows read from the file.
    pub rows: u64,
    /// Distinct keys written (rows repeating a key update the same record).
    pub records: u64,
    pub elapsed: Duration,
}

/// Progress callback: (rows so far, bytes read so far).
pub type Progress<'a> = &'a mut dyn FnMut(u64, u64);

const BATCH: usize = 1000;

/// Imports one CSV file in one transaction.
pub async fn import_csv(
    store: &Store,
    kind: Kind,
    input: impl Read,
    mut progress: Option<Progress<'_>>,
) -> Result<Report, ImportError> {
    let started = Instant::now();
    let mut reader = csv::ReaderBuilder::new().flexible(false).trim(csv::Trim::All).from_reader(input);
    let header = reader.headers().map_err(|e| csv_error(&e))?.clone();
    let mut index: HashMap<&'static str, usize> = HashMap::new();
    for col in kind.columns() {
        if let Some(i) = header.iter().position(|h| h.trim().eq_ignore_ascii_case(col)) {
            index.insert(col, i);
        }
    }
    for col in kind.required() {
        if !index.contains_key(col) {
            return Err(ImportError::MissingColumn(col));
        }
    }

    let mut tx = store.begin_import().await?;
    let mut batch = Batch::default();
    let mut report = Report::default();
    let mut record = csv::StringRecord::new();
    let mut keys_seen: u64 = 0;
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => return Err(csv_error(&e)),
        }
        let line = record.position().map_or(0, |p| p.line());
        let row = Row { record: &record, index: &index, line };
        report.rows += 1;
        match kind {
            Kind::Orders => batch.push_order(parse_order(&row)?),
            Kind::Invoices => batch.push_invoice(parse_invoice(&row)?),
            Kind::Products => batch.push_product(parse_product(&row)?),
            Kind::OrderLines => batch.push_line(parse_line(&row)?),
            Kind::Shipments => batch.push_shipment(parse_shipment(&row)?),
        }
        if batch.len() >= BATCH {
            keys_seen += batch.len() as u64;
            batch.flush(&mut tx).await?;
        }
        if let Some(p) = progress.as_mut()
            && report.rows % 10_000 == 0
        {
            p(report.rows, reader.position().byte());
        }
    }
    keys_seen += batch.len() as u64;
    batch.flush(&mut tx).await?;
    // Running servers drop their in-memory copies of back-office answers (`backoffice::memo`).
    Store::mark_backoffice_changed(&mut tx).await?;
    tx.commit().await.map_err(crate::store::Error::from)?;
    if let Some(p) = progress.as_mut() {
        p(report.rows, reader.position().byte());
    }
    report.records = keys_seen;
    report.elapsed = started.elapsed();
    Ok(report)
}

fn csv_error(e: &csv::Error) -> ImportError {
    let line = e.position().map_or(0, |p| p.line());
    ImportError::Csv { line, message: e.to_string() }
}

/// Rows waiting to be written, deduplicated by key (a later row with the same key wins, as it
/// would across batches; PostgreSQL refuses to upsert one key twice in one statement).
#[derive(Default)]
struct Batch {
    orders: Vec<Order>,
    invoices: Vec<Invoice>,
    products: Vec<Product>,
    lines: Vec<OrderLine>,
    shipments: Vec<Shipment>,
    positions: HashMap<String, usize>,
}

impl Batch {
    fn len(&self) -> usize {
        self.orders.len() + self.invoices.len() + self.products.len() + self.lines.len() + self.shipments.len()
    }

    fn slot<T>(positions: &mut HashMap<String, usize>, list: &mut Vec<T>, key: String, item: T) {
        match positions.get(&key) {
            Some(&i) => list[i] = item,
            None => {
                positions.insert(key, list.len());
                list.push(item);
            }
        }
    }

    fn push_order(&mut self, o: Order) {
        Self::slot(&mut self.positions, &mut self.orders, record_key(&o.order_number), o);
    }

    fn push_invoice(&mut self, i: Invoice) {
        Self::slot(&mut self.positions, &mut self.invoices, record_key(&i.invoice_number), i);
    }

    fn push_product(&mut self, p: Product) {
        Self::slot(&mut self.positions, &mut self.products, record_key(&p.sku), p);
    }

    fn push_line(&mut self, l: OrderLine) {
        let key = format!("{}\u{0}{}", record_key(&l.order_number), record_key(&l.sku));
        Self::slot(&mut self.positions, &mut self.lines, key, l);
    }

    fn push_shipment(&mut self, s: Shipment) {
        Self::slot(&mut self.positions, &mut self.shipments, record_key(&s.shipment_number), s);
    }

    async fn flush(&mut self, tx: &mut sqlx::Transaction<'static, sqlx::Any>) -> Result<(), ImportError> {
        Store::upsert_orders(tx, &self.orders).await?;
        Store::upsert_invoices(tx, &self.invoices).await?;
        Store::upsert_products(tx, &self.products).await?;
        Store::upsert_order_lines(tx, &self.lines).await?;
        Store::upsert_shipments(tx, &self.shipments).await?;
        self.lines.clear();
        self.shipments.clear();
        self.orders.clear();
        self.invoices.clear();
        self.products.clear();
        self.positions.clear();
        Ok(())
    }
}

struct Row<'a> {
    record: &'a csv::StringRecord,
    index: &'a HashMap<&'static str, usize>,
    line: u64,
}

impl Row<'_> {
    fn err(&self, column: &str, message: impl Into<String>) -> ImportError {
        ImportError::Row { line: self.line, column: column.to_string(), message: message.into() }
    }

    fn opt(&self, column: &'static str) -> Option<&str> {
        let i = *self.index.get(column)?;
        self.record.get(i).filter(|v| !v.is_empty())
    }

    fn req(&self, column: &'static str) -> Result<&str, ImportError> {
        self.opt(column).ok_or_else(|| self.err(column, "required value is empty"))
    }

    fn email(&self, column: &'static str) -> Result<String, ImportError> {
        let raw = self.req(column)?;
        crate::domain::normalize_email(raw)
            .map(|_| raw.to_string())
            .ok_or_else(|| self.err(column, format!("{raw:?} is not an email address")))
    }

    fn time(&self, column: &'static str) -> Result<Option<Millis>, ImportError> {
        self.opt(column)
            .map(|v| {
                parse_timestamp(v)
                    .ok_or_else(|| self.err(column, format!("{v:?} is not an ISO-8601 date or timestamp")))
            })
            .transpose()
    }

    fn money(&self, column: &'static str) -> Result<Option<i64>, ImportError> {
        self.opt(column)
            .map(|v| parse_money(v).ok_or_else(|| self.err(column, format!("{v:?} is not an amount (e.g. 1250.50)"))))
            .transpose()
    }

    fn currency(&self, column: &'static str) -> Result<Option<String>, ImportError> {
        self.opt(column)
            .map(|v| {
                let c = v.to_uppercase();
                if c.len() == 3 && c.chars().all(|ch| ch.is_ascii_alphabetic()) {
                    Ok(c)
                } else {
                    Err(self.err(column, format!("{v:?} is not a 3-letter currency code")))
                }
            })
            .transpose()
    }

    fn whole(&self, column: &'static str) -> Result<i64, ImportError> {
        let v = self.req(column)?;
        v.parse::<i64>().map_err(|_| self.err(column, format!("{v:?} is not a whole number")))
    }

    fn status(&self, column: &'static str, allowed: &[&str]) -> Result<String, ImportError> {
        let v = self.req(column)?.to_lowercase();
        if allowed.contains(&v.as_str()) {
            Ok(v)
        } else {
            Err(self.err(column, format!("{v:?} is not one of {}", allowed.join(", "))))
        }
    }
}

fn parse_order(row: &Row<'_>) -> Result<Order, ImportError> {
    Ok(Order {
        order_number: row.req("order_number")?.to_string(),
        customer_email: row.email("customer_email")?,
        customer_name: row.opt("customer_name").map(str::to_string),
        status: row.status("status", ORDER_STATUSES)?,
        placed_at: row.time("placed_at")?,
        shipped_at: row.time("shipped_at")?,
        carrier: row.opt("carrier").map(str::to_string),
        tracking_number: row.opt("tracking_number").map(str::to_string),
        total_minor: row.money("total")?,
        currency: row.currency("currency")?,
    })
}

fn parse_invoice(row: &Row<'_>) -> Result<Invoice, ImportError> {
    Ok(Invoice {
        invoice_number: row.req("invoice_number")?.to_string(),
        order_number: row.opt("order_number").map(str::to_string),
        customer_email: row.email("customer_email")?,
        amount_minor: row.money("amount")?.ok_or_else(|| row.err("amount", "required value is empty"))?,
        currency: row.currency("currency")?.ok_or_else(|| row.err("currency", "required value is empty"))?,
        status: row.status("status", INVOICE_STATUSES)?,
        issued_at: row.time("issued_at")?,
        due_at: row.time("due_at")?,
        paid_at: row.time("paid_at")?,
    })
}

fn parse_product(row: &Row<'_>) -> Result<Product, ImportError> {
    Ok(Product {
        sku: row.req("sku")?.to_string(),
        name: row.req("name")?.to_string(),
        quantity_on_hand: row.whole("quantity_on_hand")?,
        available: None,
        restock_date: row.time("restock_date")?,
        price_minor: row.money("price")?,
        currency: row.currency("currency")?,
    })
}

fn parse_line(row: &Row<'_>) -> Result<OrderLine, ImportError> {
    Ok(OrderLine {
        order_number: row.req("order_number")?.to_string(),
        sku: row.req("sku")?.to_string(),
        name: row.req("name")?.to_string(),
        quantity: row.whole("quantity")?,
        unit_price_minor: row.money("unit_price")?,
    })
}

fn parse_shipment(row: &Row<'_>) -> Result<Shipment, ImportError> {
    Ok(Shipment {
        shipment_number: row.req("shipment_number")?.to_string(),
        order_number: row.req("order_number")?.to_string(),
        state: row.status("state", SHIPMENT_STATES)?,
        planned_at: row.time("planned_at")?,
        shipped_at: row.time("shipped_at")?,
        delivered_at: row.time("delivered_at")?,
        carrier: row.opt("carrier").map(str::to_string),
        tracking_number: row.opt("tracking_number").map(str::to_string),
    })
}

/// ISO-8601: `2026-11-20`, `2026-11-20T09:15:00Z`, `2026-11-20T09:15:00+03:00`,
/// `2026-11-20 09:15` (no offset = UTC). Returns epoch milliseconds.
pub fn parse_timestamp(s: &str) -> Option<Millis> {
    use time::format_description::well_known::Rfc3339;
    use time::macros::format_description;
    use time::{Date, OffsetDateTime, PrimitiveDateTime};
    let to_ms = |t: OffsetDateTime| (t.unix_timestamp_nanos() / 1_000_000) as Millis;
    if let Ok(t) = OffsetDateTime::parse(s, &Rfc3339) {
        return Some(to_ms(t));
    }
    let s2 = s.replace(' ', "T");
    for fmt in [
        format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond]"),
        format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]"),
        format_description!("[year]-[month]-[day]T[hour]:[minute]"),
    ] {
        if let Ok(t) = PrimitiveDateTime::parse(s2.trim_end_matches('Z'), &fmt) {
            return Some(to_ms(t.assume_utc()));
        }
    }
    Date::parse(s, &format_description!("[year]-[month]-[day]")).ok().map(|d| to_ms(d.midnight().assume_utc()))
}

/// A decimal amount with at most two fractional digits, in minor units (`"1,250.5"` → 125050).
pub fn parse_money(s: &str) -> Option<i64> {
    let cleaned: String = s.chars().filter(|c| *c != ',' && *c != '_' && *c != ' ').collect();
    let (neg, digits) = match cleaned.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, cleaned.as_str()),
    };
    let (whole, frac) = digits.split_once('.').unwrap_or((digits, ""));
    if whole.is_empty() && frac.is_empty()
        || !whole.chars().all(|c| c.is_ascii_digit())
        || !frac.chars().all(|c| c.is_ascii_digit())
        || frac.len() > 2
    {
        return None;
    }
    let whole: i64 = if whole.is_empty() { 0 } else { whole.parse().ok()? };
    let frac: i64 = format!("{frac:0<2}").parse().ok()?;
    let v = whole.checked_mul(100)?.checked_add(frac)?;
    Some(if neg { -v } else { v })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_parses_to_minor_units() {
        assert_eq!(parse_money("150000.00"), Some(15_000_000));
        assert_eq!(parse_money("89.5"), Some(8950));
        assert_eq!(parse_money("1,250"), Some(125_000));
        assert_eq!(parse_money("-3.07"), Some(-307));
        assert_eq!(parse_money("12.345"), None);
        assert_eq!(parse_money("abc"), None);
        assert_eq!(parse_money("."), None);
    }

    #[test]
    fn timestamps_accept_iso_shapes() {
        assert_eq!(parse_timestamp("1970-01-02"), Some(86_400_000));
        assert_eq!(parse_timestamp("1970-01-01T00:00:01Z"), Some(1000));
        assert_eq!(parse_timestamp("1970-01-01T03:00:00+03:00"), Some(0));
        assert_eq!(parse_timestamp("1970-01-01 00:01"), Some(60_000));
        assert_eq!(parse_timestamp("20/11/2026"), None);
    }
}
