//! Demo back-office data (East African and international customers, several currencies and
//! order-number styles), loaded through the regular CSV importer into an empty database, and a
//! few canned responses in English and Swahili so the console's `/` picker has something to show.

use super::import::{Kind, import_csv};
use crate::store::Store;

const ORDERS: &str = include_str!("demo/orders.csv");
const INVOICES: &str = include_str!("demo/invoices.csv");
const PRODUCTS: &str = include_str!("demo/products.csv");
const ORDER_LINES: &str = include_str!("demo/order_lines.csv");
const SHIPMENTS: &str = include_str!("demo/shipments.csv");

/// Demo canned responses (shortcut, text): English, and the same in Swahili with a `-sw` suffix.
pub const CANNED: &[(&str, &str)] = &[
    ("hello", "Hello! Thanks for contacting us. How can I help you today?"),
    ("hello-sw", "Habari! Asante kwa kuwasiliana nasi. Nikusaidie nini leo?"),
    ("tracking", "Your order is on its way. You can follow it with the tracking number in your confirmation email."),
    (
        "tracking-sw",
        "Oda yako iko njiani. Unaweza kuifuatilia kwa namba ya ufuatiliaji iliyo kwenye barua pepe ya uthibitisho.",
    ),
    ("refund", "I have started your refund. It reaches your account or M-Pesa within 3 to 5 working days."),
    (
        "refund-sw",
        "Nimeanzisha urejeshaji wa pesa zako. Zitafika kwenye akaunti yako au M-Pesa ndani ya siku 3 hadi 5 za kazi.",
    ),
    ("thanks", "Thank you for your patience! Is there anything else I can help with?"),
    ("thanks-sw", "Asante kwa uvumilivu wako! Kuna jambo lingine ninaloweza kukusaidia?"),
];

/// Loads the demo rows (with order lines and shipments) and canned responses; returns (orders, invoices, products) counts.
pub async fn seed(store: &Store) -> anyhow::Result<(u64, u64, u64)> {
    for (shortcut, text) in CANNED {
        store.upsert_canned_response(shortcut, text).await?;
    }
    let o = import_csv(store, Kind::Orders, ORDERS.as_bytes(), None).await?;
    let i = import_csv(store, Kind::Invoices, INVOICES.as_bytes(), None).await?;
    let p = import_csv(store, Kind::Products, PRODUCTS.as_bytes(), None).await?;
    import_csv(store, Kind::OrderLines, ORDER_LINES.as_bytes(), None).await?;
    import_csv(store, Kind::Shipments, SHIPMENTS.as_bytes(), None).await?;
    Ok((o.rows, i.rows, p.rows))
}
