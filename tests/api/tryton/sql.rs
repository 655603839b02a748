//! The same questions as the JSON-RPC tests, answered through the SQL connector with the shipped
//! `backoffice/tryton.toml` on Tryton's own PostgreSQL database: orders with lines and
//! shipments, an overdue invoice with its due date, stock in the storage location, and the
//! disclosure rule on the party's email.

use super::env::tryton;
use crate::helpers::{Backend, TestDb, serve_args, spawn_on};
use kituo::backoffice::BackOffice;
use kituo::backoffice::tryton::{Tryton, rpc::Target};

async fn app_on_tryton_db(database: &str) -> crate::helpers::TestApp {
    let url = format!("postgres://postgres@127.0.0.1:5432/{database}");
    let map = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("backoffice/tryton.toml");
    spawn_on(TestDb::new(Backend::Sqlite).await, move |db_url| {
        let mut args = serve_args(db_url);
        args.backoffice.source = url.clone();
        args.backoffice.map = Some(map.clone());
        args
    })
    .await
}

#[tokio::test]
async fn tryton_toml_answers_orders_invoices_and_stock_from_trytons_database() {
    let Some(t) = tryton() else { return };
    let app = app_on_tryton_db(&t.database).await;
    let mut chat = app.chat().await;
    chat.ask("where is my order so00003?").await;
    let en = chat.ask("amina.mwakilema@example.co.tz").await;
    assert!(en.to_lowercase().contains("shipped"), "{en}");
    assert!(en.contains("EE482913057TZ"), "the shipment's reference is the tracking number: {en}");

    let mut inv = app.chat().await;
    inv.ask("invoice INV00002 status").await;
    let overdue = inv.ask("neema.mushi@example.co.tz").await;
    assert!(overdue.to_lowercase().contains("overdue"), "{overdue}");

    let mut sw = app.chat().await;
    sw.ask("oda yangu SO00001 iko wapi?").await;
    let sw_reply = sw.ask("juma.otieno@example.co.ke").await;
    assert!(sw_reply.contains("imefika") || sw_reply.contains("imewasilishwa"), "delivered in Swahili: {sw_reply}");

    let stock = app.chat().await.ask("do you have the solar lantern in stock?").await;
    assert!(stock.contains("SL-LAN-10") && stock.to_lowercase().contains("in stock"), "{stock}");
    let out = app.chat().await.ask("is KK-KIK-02 in stock?").await;
    assert!(out.to_lowercase().contains("out of stock"), "{out}");

    let bo = app.hub.backoffice();
    let detail = bo.order_detail("so00003").await.unwrap().expect("sale in Tryton");
    assert_eq!(detail.lines.len(), 2);
    assert!(
        detail.lines.iter().any(|l| l.sku == "SL-LAN-10" && l.quantity == 1 && l.unit_price_minor == Some(6_500_000))
    );
    assert!(detail.shipments.iter().any(|s| s.tracking_number.as_deref() == Some("EE482913057TZ")));
    assert_eq!(detail.invoices.len(), 1);
    assert!(detail.invoices[0].is_paid());
    let inv2 = bo.invoice("inv00002").await.unwrap().expect("invoice in Tryton");
    assert!(inv2.due_at.is_some(), "due date from the receivable line");
    // Stock summed from the moves matches Tryton's own figures (products no other test moves).
    let rpc = Tryton::new(Target::parse(&t.url()).unwrap());
    for sku in ["CF-KAA-01", "MS-SHU-01", "KK-KIK-02"] {
        let by_sql = bo.stock(sku).await.unwrap();
        let by_rpc = rpc.stock(sku).await.unwrap();
        assert_eq!(
            (by_sql[0].quantity_on_hand, by_sql[0].sellable()),
            (by_rpc[0].quantity_on_hand, by_rpc[0].sellable()),
            "{sku}"
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn tryton_toml_keeps_the_disclosure_rule_on_the_partys_email() {
    let Some(t) = tryton() else { return };
    let app = app_on_tryton_db(&t.database).await;
    let mut chat = app.chat().await;
    chat.ask("where is order SO00004").await;
    let wrong = chat.ask("amina.mwakilema@example.co.tz").await;
    assert!(!wrong.to_lowercase().contains("being prepared"), "disclosed to the wrong email: {wrong}");
    chat.ask("where is order SO00004").await;
    let right = chat.ask("BARAKA.nyirenda@example.co.tz").await;
    assert!(right.to_lowercase().contains("being prepared"), "{right}");
    app.stop().await;
}
