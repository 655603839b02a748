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
    super::customer_questions(&app).await;

    let bo = app.hub.backoffice();
    let detail = super::check_so00003(bo).await;
    assert!(detail.shipments.iter().any(|s| s.tracking_number.as_deref() == Some("EE482913057TZ")));
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
    super::disclosure_questions(&app).await;
    app.stop().await;
}
