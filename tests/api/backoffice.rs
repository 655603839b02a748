//! The back-office interface on the built-in source: order detail (lines, shipments, invoices),
//! cancelling, return/refund requests, and `kituo import order_lines|shipments`.

use crate::helpers::{TestDb, backends, spawn_app};
use crate::import::import;
use kituo::backoffice::{CancelOutcome, NewRequest, RequestKind};
use kituo::store::{Store, Table};

#[tokio::test]
async fn builtin_order_detail_has_lines_shipments_and_invoices() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let bo = app.hub.backoffice();
        let d = bo.order_detail("ord-88213").await.unwrap().expect("demo order, any case");
        assert_eq!(d.order.order_number, "ORD-88213");
        let skus: Vec<&str> = d.lines.iter().map(|l| l.sku.as_str()).collect();
        assert_eq!(skus.len(), 2, "{backend:?}: {skus:?}");
        assert!(skus.contains(&"KK-KIK-02") && skus.contains(&"SK-KIO-05"), "{skus:?}");
        let kikoi = d.lines.iter().find(|l| l.sku == "KK-KIK-02").unwrap();
        assert_eq!((kikoi.quantity, kikoi.unit_price_minor), (1, Some(3_500_000)));
        assert_eq!(d.shipments.len(), 1);
        assert_eq!(d.shipments[0].state, "shipped");
        assert_eq!(d.shipments[0].tracking_number.as_deref(), Some("EE483390871TZ"));

        // An order imported with shipping fields on its header only: one shipment from them.
        let d = bo.order_detail("1002").await.unwrap().unwrap();
        assert_eq!(d.shipments.len(), 1);
        assert_eq!(d.shipments[0].tracking_number.as_deref(), Some("G4S-NBO-0031877"));
        assert_eq!(d.invoices.iter().map(|i| i.invoice_number.as_str()).collect::<Vec<_>>(), ["INV-2026-0009"]);
        assert!(d.invoices[0].is_paid());

        assert!(bo.order_detail("NO-SUCH").await.unwrap().is_none());
        app.stop().await;
    }
}

#[tokio::test]
async fn builtin_cancel_follows_the_order_state() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let bo = app.hub.backoffice();
        assert_eq!(bo.cancel_order("1009").await.unwrap(), CancelOutcome::Cancelled, "{backend:?}: pending");
        assert_eq!(bo.order("1009").await.unwrap().unwrap().status, "cancelled");
        assert_eq!(bo.cancel_order("#1009").await.unwrap(), CancelOutcome::AlreadyCancelled);
        assert_eq!(bo.cancel_order("1001").await.unwrap(), CancelOutcome::Refused { state: "shipped".into() });
        assert_eq!(bo.order("1001").await.unwrap().unwrap().status, "shipped", "a refused cancel changes nothing");
        assert_eq!(bo.cancel_order("NOPE-1").await.unwrap(), CancelOutcome::NotFound);
        app.stop().await;
    }
}

#[tokio::test]
async fn builtin_requests_are_stored_and_read_back() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let bo = app.hub.backoffice();
        let new = NewRequest {
            kind: RequestKind::Return,
            order_number: "ord-88213".into(),
            skus: vec!["KK-KIK-02".into()],
            reason: "wrong colour".into(),
        };
        let r = bo.open_request(&new).await.unwrap().expect("order exists");
        assert_eq!((r.order_number.as_str(), r.state.as_str()), ("ORD-88213", "open"));
        let refund = NewRequest { kind: RequestKind::Refund, skus: vec![], ..new.clone() };
        let r2 = bo.open_request(&refund).await.unwrap().unwrap();
        assert_ne!(r.request_id, r2.request_id);

        let back = bo.request(&r.request_id).await.unwrap().expect("by id");
        assert_eq!(back.skus, vec!["KK-KIK-02".to_string()]);
        assert_eq!(back.reason, "wrong colour");
        assert_eq!(back.kind, RequestKind::Return);
        let all = bo.requests_of("ORD-88213").await.unwrap();
        assert_eq!(all.len(), 2, "{backend:?}");
        assert!(all.iter().any(|x| x.kind == RequestKind::Refund && x.skus.is_empty()));

        let missing = NewRequest { order_number: "NOPE-1".into(), ..new };
        assert!(bo.open_request(&missing).await.unwrap().is_none());
        assert!(bo.request("999999").await.unwrap().is_none());
        assert!(bo.request("not-a-number").await.unwrap().is_none());
        app.stop().await;
    }
}

#[tokio::test]
async fn import_order_lines_upserts_by_order_and_sku() {
    for backend in backends() {
        let db = TestDb::new(backend).await;
        let orders = "order_number,customer_email,status\nA-1,a@example.com,processing\n";
        assert!(import(&db, "orders", orders).status.success());
        let lines = "order_number,sku,name,quantity,unit_price\nA-1,sk-1,Thing,2,10.50\na-1,SK-2,Other,1,\n";
        let out = import(&db, "order_lines", lines);
        assert!(out.status.success(), "{backend:?}: {}", String::from_utf8_lossy(&out.stderr));
        let again = "order_number,sku,name,quantity,unit_price\na-1,SK-1,Thing,5,10.50\n";
        assert!(import(&db, "order_lines", again).status.success());
        let bad = "order_number,sku,name,quantity,unit_price\nA-1,SK-3,X,many,1\n";
        let out = import(&db, "order_lines", bad);
        assert!(!out.status.success());
        assert!(String::from_utf8_lossy(&out.stderr).contains("line 2, column quantity"));

        let store = Store::connect(&db.url).await.unwrap();
        assert_eq!(store.count(Table::OrderLines).await.unwrap(), 2, "{backend:?}");
        let lines = store.order_lines("A-1".into()).await.unwrap();
        let one = lines.iter().find(|l| l.sku.eq_ignore_ascii_case("SK-1")).unwrap();
        assert_eq!((one.quantity, one.unit_price_minor), (5, Some(1050)));
        assert_eq!(lines.iter().find(|l| l.sku == "SK-2").unwrap().unit_price_minor, None);
        store.close().await;
    }
}

#[tokio::test]
async fn an_unreachable_source_stops_the_start_without_showing_the_password_unless_lazy() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let db = TestDb::new(crate::helpers::Backend::Sqlite).await;
    let mut args = crate::helpers::serve_args(&db.url);
    args.backoffice.source = format!("tryton://admin:hunter2secret@127.0.0.1:{closed}/shop");
    args.backoffice.timeout_ms = 500;
    let err = match kituo::app::App::build(&args).await {
        Ok(_) => panic!("started against an unreachable back office"),
        Err(e) => format!("{e:#}"),
    };
    assert!(err.contains("back office") && err.contains("--backoffice-lazy"), "{err}");
    assert!(!err.contains("hunter2secret"), "password leaked: {err}");

    args.backoffice.lazy = true;
    let app = crate::helpers::spawn_on(db, move |_| args.clone()).await;
    let ready = crate::helpers::http(app.addr, "GET", "/ready", &[], None).await;
    assert_eq!(ready.json["backoffice"]["source"], "tryton");
    assert_eq!(ready.json["backoffice"]["state"], "down");
    assert!(!ready.text.contains("hunter2secret"));
    let reply = app.chat().await.ask("is KG-KAN-01 in stock?").await;
    assert!(reply.contains("can't check"), "{reply}");
    app.stop().await;
}
