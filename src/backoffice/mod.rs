//! The back office as the bot and the console see it: orders, invoices and stock, read through
//! one narrow interface ([`BackOffice`]) so a deployment can point it at an external ERP database
//! instead of Kituo's own tables. Also owns the CSV importer and the demo data.

pub mod demo;
pub mod import;

use crate::domain::Millis;
use futures_util::future::BoxFuture;

#[derive(Debug, Clone, PartialEq)]
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

#[derive(Debug, Clone, PartialEq)]
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

#[derive(Debug, Clone, PartialEq)]
pub struct Product {
    pub sku: String,
    pub name: String,
    pub quantity_on_hand: i64,
    pub restock_date: Option<Millis>,
    pub price_minor: Option<i64>,
    pub currency: Option<String>,
}

pub type Result<T> = std::result::Result<T, crate::store::Error>;

/// Read-only access to back-office records. Numbers and SKUs are matched case-insensitively
/// and without a leading `#`.
pub trait BackOffice: Send + Sync {
    fn order<'a>(&'a self, number: &'a str) -> BoxFuture<'a, Result<Option<Order>>>;
    fn invoice<'a>(&'a self, number: &'a str) -> BoxFuture<'a, Result<Option<Invoice>>>;
    fn orders_of<'a>(&'a self, email: &'a str) -> BoxFuture<'a, Result<Vec<Order>>>;
    fn invoices_of<'a>(&'a self, email: &'a str) -> BoxFuture<'a, Result<Vec<Invoice>>>;
    /// Stock by exact SKU, or else by words of the product name (best match first, at most 5).
    fn stock<'a>(&'a self, query: &'a str) -> BoxFuture<'a, Result<Vec<Product>>>;
}

/// Lookup key of an order, invoice or SKU: trimmed, without a leading `#`, upper-case.
pub fn record_key(number: &str) -> String {
    number.trim().trim_start_matches('#').trim().to_uppercase()
}

/// Words of a product name or query worth indexing: lowercase, alphanumeric runs of 2+ chars.
pub fn terms(text: &str) -> Vec<String> {
    const STOP: &[&str] = &[
        "the",
        "and",
        "for",
        "with",
        "you",
        "have",
        "any",
        "stock",
        "in",
        "of",
        "a",
        "an",
        "is",
        "are",
        "do",
        "does",
        "got",
        "some",
        "available",
        "mna",
        "kuna",
        "ipo",
        "zipo",
        "je",
        "una",
        "mnayo",
        "bado",
        "inapatikana",
        "tafadhali",
        "please",
    ];
    let folded = crate::bot::normalize::fold(text);
    let mut out: Vec<String> = folded
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.len() >= 2 && !STOP.contains(w))
        .map(str::to_string)
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Terms of a customer's product query: [`terms`] plus the singular of plural words, so "solar
/// lanterns" counts two hits on "Solar lantern …" and only one on "… solar panel".
pub fn query_terms(query: &str) -> Vec<String> {
    let mut out = terms(query);
    let singulars: Vec<String> = out
        .iter()
        .filter(|w| w.len() > 3 && w.ends_with('s') && !w.ends_with("ss"))
        .flat_map(|w| {
            let one = w[..w.len() - 1].to_string();
            let ies = w.strip_suffix("ies").map(|stem| format!("{stem}y"));
            let es = w
                .strip_suffix("es")
                .filter(|stem| stem.ends_with(['s', 'x', 'z']) || stem.ends_with("ch") || stem.ends_with("sh"));
            [Some(one), ies, es.map(str::to_string)].into_iter().flatten()
        })
        .collect();
    out.extend(singulars);
    out.sort();
    out.dedup();
    out
}

/// The store's own tables as the back office.
impl BackOffice for crate::store::Store {
    fn order<'a>(&'a self, number: &'a str) -> BoxFuture<'a, Result<Option<Order>>> {
        Box::pin(self.order_by_key(record_key(number)))
    }

    fn invoice<'a>(&'a self, number: &'a str) -> BoxFuture<'a, Result<Option<Invoice>>> {
        Box::pin(self.invoice_by_key(record_key(number)))
    }

    fn orders_of<'a>(&'a self, email: &'a str) -> BoxFuture<'a, Result<Vec<Order>>> {
        Box::pin(self.orders_by_email(email.trim().to_lowercase()))
    }

    fn invoices_of<'a>(&'a self, email: &'a str) -> BoxFuture<'a, Result<Vec<Invoice>>> {
        Box::pin(self.invoices_by_email(email.trim().to_lowercase()))
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
            self.products_by_terms(&words).await
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plural_query_words_also_match_their_singular() {
        let t = query_terms("Do you have solar lanterns?");
        assert!(t.contains(&"lantern".to_string()) && t.contains(&"lanterns".to_string()), "{t:?}");
        assert!(query_terms("batteries").contains(&"battery".to_string()));
        assert!(query_terms("boxes").contains(&"box".to_string()));
        assert_eq!(query_terms("glass"), vec!["glass"]);
    }

    #[test]
    fn keys_fold_case_and_hash() {
        assert_eq!(record_key(" #so-2026-0042 "), "SO-2026-0042");
        assert_eq!(record_key("s00417"), "S00417");
    }

    #[test]
    fn terms_drop_stopwords_and_fold() {
        assert_eq!(terms("Do you have the Kikoi in stock?"), vec!["kikoi"]);
        assert_eq!(terms("Solar Lantern (Solar)"), vec!["lantern", "solar"]);
    }
}
