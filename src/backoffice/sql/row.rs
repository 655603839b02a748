//! Rows of a mapping's queries in Kituo's types. Columns are read by name and by what they hold
//! (text, integer, float, bool), so a mapping may return a date as `'2026-03-01'` or epoch
//! milliseconds, and money as `'154.00'` (major units, text) or a number. sqlx's `Any` driver
//! cannot read DECIMAL/NUMERIC or DATE columns: mappings cast those to text.

use crate::backoffice::import::{parse_money, parse_timestamp};
use crate::backoffice::{Invoice, Order, OrderLine, Product, Shipment};
use crate::domain::Millis;
use sqlx::any::AnyRow;
use sqlx::{Column, Row};
use std::collections::HashMap;

#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Null,
    Text(String),
    Int(i64),
    Float(f64),
}

/// One result row by column name (lowercased).
#[derive(Debug, Default)]
pub struct Rec(HashMap<String, Cell>);

impl Rec {
    /// Reads every column of an `Any` row; a column of a type `Any` cannot read is an error that
    /// names it.
    pub fn from_row(row: &AnyRow) -> Result<Rec, String> {
        let mut out = HashMap::new();
        for (i, col) in row.columns().iter().enumerate() {
            let cell = if let Ok(v) = row.try_get::<Option<String>, _>(i) {
                v.map_or(Cell::Null, Cell::Text)
            } else if let Ok(v) = row.try_get::<Option<i64>, _>(i) {
                v.map_or(Cell::Null, Cell::Int)
            } else if let Ok(v) = row.try_get::<Option<f64>, _>(i) {
                v.map_or(Cell::Null, Cell::Float)
            } else if let Ok(v) = row.try_get::<Option<bool>, _>(i) {
                v.map_or(Cell::Null, |b| Cell::Int(i64::from(b)))
            } else if let Ok(v) = row.try_get::<Option<Vec<u8>>, _>(i) {
                // MySQL answers some casts with a binary collation.
                v.map_or(Cell::Null, |b| Cell::Text(String::from_utf8_lossy(&b).into_owned()))
            } else {
                return Err(format!("column {} cannot be read: cast it to text in the mapping", col.name()));
            };
            out.insert(col.name().to_lowercase(), cell);
        }
        Ok(Rec(out))
    }

    #[cfg(test)]
    pub fn of(cells: &[(&str, Cell)]) -> Rec {
        Rec(cells.iter().map(|(k, v)| (k.to_string(), v.clone())).collect())
    }

    pub fn text(&self, col: &str) -> Option<String> {
        match self.0.get(col)? {
            Cell::Text(s) => Some(s.trim().to_string()).filter(|s| !s.is_empty()),
            Cell::Int(i) => Some(i.to_string()),
            Cell::Float(f) => Some(f.to_string()),
            Cell::Null => None,
        }
    }

    fn string(&self, col: &str) -> String {
        self.text(col).unwrap_or_default()
    }

    /// A count (quantities): integers, floats (truncated) or numeric text.
    pub fn int(&self, col: &str) -> Option<i64> {
        match self.0.get(col)? {
            Cell::Int(i) => Some(*i),
            Cell::Float(f) => Some(*f as i64),
            Cell::Text(s) => s.trim().parse::<f64>().ok().map(|f| f as i64),
            Cell::Null => None,
        }
    }

    /// Money in minor units from major units: `'154.00'`, `'35000.0000'`, 154, 154.5.
    pub fn money(&self, col: &str) -> Option<i64> {
        match self.0.get(col)? {
            Cell::Int(i) => i.checked_mul(100),
            Cell::Float(f) => Some((f * 100.0).round() as i64),
            Cell::Text(s) => {
                let s = s.trim();
                let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
                let frac: String = frac.chars().chain("00".chars()).take(2).collect();
                parse_money(&format!("{whole}.{frac}"))
            }
            Cell::Null => None,
        }
    }

    /// A date or time: text (`2026-03-01`, `2026-03-01 10:00:00`, RFC 3339) or epoch ms.
    pub fn time(&self, col: &str) -> Option<Millis> {
        match self.0.get(col)? {
            Cell::Int(i) => Some(*i),
            Cell::Float(f) => Some(*f as i64),
            Cell::Text(s) => parse_timestamp(s.trim()),
            Cell::Null => None,
        }
    }

    pub fn order(&self) -> Order {
        Order {
            order_number: self.string("order_number"),
            customer_email: self.string("customer_email").to_lowercase(),
            customer_name: self.text("customer_name"),
            status: self.string("status").to_lowercase(),
            placed_at: self.time("placed_at"),
            shipped_at: self.time("shipped_at"),
            carrier: self.text("carrier"),
            tracking_number: self.text("tracking_number"),
            total_minor: self.money("total"),
            currency: self.text("currency"),
        }
    }

    pub fn line(&self, order_number: &str) -> OrderLine {
        OrderLine {
            order_number: order_number.to_string(),
            sku: self.string("sku"),
            name: self.string("name"),
            quantity: self.int("quantity").unwrap_or(0),
            unit_price_minor: self.money("unit_price"),
        }
    }

    pub fn shipment(&self, order_number: &str) -> Shipment {
        Shipment {
            shipment_number: self.string("shipment_number"),
            order_number: order_number.to_string(),
            state: self.string("state").to_lowercase(),
            planned_at: self.time("planned_at"),
            shipped_at: self.time("shipped_at"),
            delivered_at: self.time("delivered_at"),
            carrier: self.text("carrier"),
            tracking_number: self.text("tracking_number"),
        }
    }

    pub fn invoice(&self) -> Invoice {
        Invoice {
            invoice_number: self.string("invoice_number"),
            order_number: self.text("order_number"),
            customer_email: self.string("customer_email").to_lowercase(),
            amount_minor: self.money("amount").unwrap_or(0),
            currency: self.string("currency"),
            status: self.string("status").to_lowercase(),
            issued_at: self.time("issued_at"),
            due_at: self.time("due_at"),
            paid_at: self.time("paid_at"),
        }
    }

    pub fn product(&self) -> Product {
        Product {
            sku: self.string("sku"),
            name: self.string("name"),
            quantity_on_hand: self.int("on_hand").unwrap_or(0),
            available: self.int("available"),
            restock_date: self.time("restock_date"),
            price_minor: self.money("price"),
            currency: self.text("currency"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_read_as_what_the_field_needs() {
        let r = Rec::of(&[
            ("a", Cell::Text("35000.0000".into())),
            ("b", Cell::Int(154)),
            ("c", Cell::Float(12.5)),
            ("d", Cell::Text("2026-03-01".into())),
            ("e", Cell::Text("  ".into())),
            ("f", Cell::Null),
        ]);
        assert_eq!((r.money("a"), r.money("b"), r.money("c")), (Some(3_500_000), Some(15_400), Some(1_250)));
        assert_eq!((r.int("a"), r.int("c")), (Some(35_000), Some(12)));
        assert_eq!(r.time("d"), parse_timestamp("2026-03-01T00:00:00Z"));
        assert_eq!((r.text("e"), r.text("f"), r.text("missing")), (None, None, None));
        assert_eq!(r.text("b").as_deref(), Some("154"));
    }
}
