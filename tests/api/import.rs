//! `kituo import`: upserts by key, line/column errors, all-or-nothing.

use crate::helpers::{TestDb, backends};
use kituo::store::{Store, Table};
use std::process::Command;

pub fn import(db: &TestDb, kind: &str, csv: &str) -> std::process::Output {
    let file = std::env::temp_dir().join(format!("kituo-import-{:016x}.csv", rand::random::<u64>()));
    std::fs::write(&file, csv).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_kituo"))
        .args(["import", kind])
        .arg(&file)
        .args(["--database-url", &db.url])
        .output()
        .unwrap();
    let _ = std::fs::remove_file(file);
    out
}

const ORDERS: &str = "order_number,customer_email,customer_name,status,placed_at,shipped_at,carrier,tracking_number,total,currency,ignored_extra
A-1,a@example.com,Asha,pending,2026-11-01T10:00:00Z,,,,100.50,usd,x
a-2,B@Example.com,,shipped,2026-11-02,2026-11-03T08:00:00+03:00,DHL,TRK2,\"1,000\",KES,y
";

#[tokio::test]
async fn import_upserts_by_key_and_reports_counts() {
    for backend in backends() {
        let db = TestDb::new(backend).await;
        let out = import(&db, "orders", ORDERS);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{backend:?}: {stdout}{}", String::from_utf8_lossy(&out.stderr));
        assert!(stdout.contains("imported 2 orders rows"), "{stdout}");

        let store = Store::connect(&db.url).await.unwrap();
        let o = store.order_by_key("A-2".into()).await.unwrap().expect("case-insensitive key");
        assert_eq!(o.total_minor, Some(100_000));
        assert_eq!(o.currency.as_deref(), Some("KES"));
        assert_eq!(o.shipped_at, Some(1_793_682_000_000), "offset applied");
        assert_eq!(o.customer_name, None, "empty cell is null");

        // Same keys again (different case): updated, not duplicated.
        let again = "order_number,customer_email,status\na-1,a@example.com,delivered\n";
        assert!(import(&db, "orders", again).status.success());
        assert_eq!(store.count(Table::Orders).await.unwrap(), 2, "{backend:?}");
        let o = store.order_by_key("A-1".into()).await.unwrap().unwrap();
        assert_eq!(o.status, "delivered");
        assert_eq!(o.order_number, "a-1");
        store.close().await;
    }
}

#[tokio::test]
async fn a_bad_row_names_line_and_column_and_nothing_is_applied() {
    for backend in backends() {
        let db = TestDb::new(backend).await;
        let mut csv = String::from("sku,name,quantity_on_hand,restock_date,price,currency\n");
        for i in 0..2500 {
            csv.push_str(&format!("SKU-{i},Thing number {i},{i},,1.00,TZS\n"));
        }
        csv.push_str("SKU-BAD,Broken thing,lots,,1.00,TZS\n");
        let out = import(&db, "products", &csv);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success());
        assert!(stderr.contains("line 2502, column quantity_on_hand"), "{backend:?}: {stderr}");
        assert!(stderr.contains("nothing was imported"), "{stderr}");
        let store = Store::connect(&db.url).await.unwrap();
        store.migrate().await.unwrap();
        assert_eq!(store.count(Table::Products).await.unwrap(), 0, "{backend:?}: no half-applied file");

        let bad_status = "invoice_number,customer_email,amount,currency,status\nI-1,a@example.com,10,EUR,paid\nI-2,a@example.com,10,EUR,lost\n";
        let out = import(&db, "invoices", bad_status);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("line 3, column status") && stderr.contains("paid, open, overdue, void"), "{stderr}");
        let missing = "order_number,status\n1,pending\n";
        let out = import(&db, "orders", missing);
        assert!(String::from_utf8_lossy(&out.stderr).contains("missing required column \"customer_email\""));
        assert_eq!(store.count(Table::Invoices).await.unwrap(), 0);
        store.close().await;
    }
}

#[tokio::test]
async fn product_names_are_searchable_by_words() {
    use kituo::backoffice::BackOffice;
    for backend in backends() {
        let db = TestDb::new(backend).await;
        let csv = "sku,name,quantity_on_hand\nKT-1,Blue enamel mug,3\nKT-2,Red enamel mug,0\nKT-3,Solar lantern,9\n";
        assert!(import(&db, "products", csv).status.success());
        let store = Store::connect(&db.url).await.unwrap();
        let found = store.stock("blue mug").await.unwrap();
        assert_eq!(found[0].sku, "KT-1", "{backend:?}: best match first");
        assert_eq!(found.len(), 2);
        assert_eq!(store.stock("kt-3").await.unwrap()[0].name, "Solar lantern");
        assert!(store.stock("bicycle").await.unwrap().is_empty());
        store.close().await;
    }
}
