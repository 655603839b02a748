//! The SQL back office (`--backoffice postgres://|mysql://|sqlite://… --backoffice-map FILE`):
//! start-up checks (mapping errors with file:line, non-SELECT queries, missing columns, refused
//! unless `--backoffice-lazy`), a SQLite ERP database answered through a mapping, the
//! read-only session on PostgreSQL, and credentials kept out of messages. MariaDB in
//! [`mariadb`]; Tryton's own database with `backoffice/tryton.toml` in `tryton::sql`.

mod mariadb;

use crate::helpers::{Backend, TestDb, admin, backends, serve_args, spawn_on};
use kituo::app::App;
use kituo::config::ServeArgs;
use serde_json::json;
use sqlx::AssertSqlSafe;
use sqlx::any::AnyPoolOptions;
use std::path::{Path, PathBuf};

/// A temp folder with an ERP database (SQLite) and mapping files, removed after.
struct Erp {
    dir: PathBuf,
}

impl Erp {
    async fn sqlite() -> Erp {
        let dir = std::env::temp_dir().join(format!("kituo-erp-{:016x}", rand::random::<u64>()));
        std::fs::create_dir_all(&dir).unwrap();
        let erp = Erp { dir };
        sqlx::any::install_default_drivers();
        let pool = AnyPoolOptions::new().max_connections(1).connect(&format!("{}?mode=rwc", erp.url())).await.unwrap();
        for s in [
            "create table bestellung (nr text, email text, stand text, betrag_cent integer, datum text)",
            "insert into bestellung values ('W-100', 'Sofia@Example.com', 'delivered', 250000, '2026-10-01')",
            "create table lager (code text, titel text, menge real)",
            "insert into lager values ('SP-1', 'Spice box', 3.0), ('SP-2', 'Spice grinder', 0)",
        ] {
            sqlx::query(AssertSqlSafe(s)).execute(&pool).await.unwrap();
        }
        pool.close().await;
        erp
    }

    fn url(&self) -> String {
        format!("sqlite://{}", self.dir.join("erp.db").display())
    }

    fn map(&self, name: &str, text: &str) -> PathBuf {
        let p = self.dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }
}

impl Drop for Erp {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A mapping for the SQLite ERP, with `order` replaced when given.
fn mapping(order: Option<&str>) -> String {
    let order = order.unwrap_or(
        "select nr as order_number, email as customer_email, stand as status, datum as placed_at, \
         betrag_cent / 100.0 as total from bestellung where upper(nr) = :number",
    );
    format!(
        "[order]\nsql = \"{order}\"\n\
         [orders_of]\nsql = \"select nr as order_number, email as customer_email, stand as status from bestellung where lower(email) = :email\"\n\
         [invoice]\nsql = \"select 'x' as invoice_number, '' as customer_email, 0 as amount, 'EUR' as currency, 'open' as status where 1 = 0 and :number = ''\"\n\
         [invoices_of]\nsql = \"select 'x' as invoice_number, '' as customer_email, 0 as amount, 'EUR' as currency, 'open' as status where 1 = 0 and :email = ''\"\n\
         [stock_by_sku]\nsql = \"select code as sku, titel as name, menge as on_hand from lager where upper(code) = :sku\"\n\
         [stock_search]\nsql = \"select code as sku, titel as name, menge as on_hand from lager where lower(titel) like :pattern\"\n"
    )
}

fn sql_args(db_url: &str, source: &str, map: &Path, lazy: bool) -> ServeArgs {
    let mut args = serve_args(db_url);
    args.backoffice.source = source.to_string();
    args.backoffice.map = Some(map.to_path_buf());
    args.backoffice.lazy = lazy;
    args
}

async fn start_error(args: &ServeArgs) -> String {
    match App::build(args).await {
        Ok(_) => panic!("the app started"),
        Err(e) => format!("{e:#}"),
    }
}

#[tokio::test]
async fn a_bad_mapping_stops_the_start_naming_file_and_line() {
    let erp = Erp::sqlite().await;
    let db = TestDb::new(Backend::Sqlite).await;
    let writes = erp.map("writes.toml", &mapping(Some("delete from bestellung")));
    let e = start_error(&sql_args(&db.url, &erp.url(), &writes, true)).await;
    assert!(e.contains("writes.toml:2: [order] must be a SELECT or WITH query"), "{e}");

    let columns =
        erp.map("columns.toml", &mapping(Some("select nr as order_number from bestellung where nr = :number")));
    let e = start_error(&sql_args(&db.url, &erp.url(), &columns, false)).await;
    assert!(e.contains("columns.toml:2: [order] does not return column(s) customer_email, status"), "{e}");
    assert!(e.contains("--backoffice-lazy"), "says how to start anyway: {e}");

    let syntax = erp.map("syntax.toml", "[order]\nsql = \"select 1\n");
    let e = start_error(&sql_args(&db.url, &erp.url(), &syntax, true)).await;
    assert!(e.contains("syntax.toml:2: "), "{e}");

    let mut no_map = serve_args(&db.url);
    no_map.backoffice.source = erp.url();
    let e = start_error(&no_map).await;
    assert!(e.contains("--backoffice-map"), "{e}");
}

#[tokio::test]
async fn a_sqlite_erp_answers_through_its_mapping_and_lazy_starts_when_it_is_missing() {
    let erp = Erp::sqlite().await;
    let map = erp.map("erp.toml", &mapping(None));
    let app = spawn_on(TestDb::new(Backend::Sqlite).await, |db| sql_args(db, &erp.url(), &map, false)).await;
    let bo = app.hub.backoffice();
    let o = bo.order("w-100").await.unwrap().expect("order in the ERP");
    assert_eq!(
        (o.customer_email.as_str(), o.status.as_str(), o.total_minor),
        ("sofia@example.com", "delivered", Some(250_000))
    );
    assert!(bo.order_detail("W-100").await.unwrap().unwrap().lines.is_empty(), "no [order_lines]: none");
    let spice = bo.stock("spice").await.unwrap();
    assert_eq!(spice.iter().map(|p| p.sku.as_str()).collect::<Vec<_>>(), ["SP-1", "SP-2"]);
    assert_eq!(spice[0].quantity_on_hand, 3);
    let mut chat = app.chat().await;
    chat.ask("where is my order W-100?").await;
    let answer = chat.ask("sofia@example.com").await;
    assert!(answer.to_lowercase().contains("delivered"), "{answer}");
    let boss = admin(&app, "Boss").await;
    let tested = boss.post("/api/admin/backoffice/test", json!({})).await;
    let t = tested.ok();
    assert_eq!(
        (t["ok"].as_bool(), t["source"].as_str(), t["state"].as_str()),
        (Some(true), Some("sql"), Some("up")),
        "{t}"
    );
    assert!(t["latency_ms"].is_u64() && t["error"].is_null(), "{t}");
    assert!(t["location"].as_str().unwrap_or_default().ends_with("erp.db"), "{t}");
    let settings = boss.get("/api/admin/settings").await;
    assert_eq!(settings.ok()["backoffice"]["source"], "sql");
    app.stop().await;

    let missing = format!("sqlite://{}", erp.dir.join("nope.db").display());
    let app = spawn_on(TestDb::new(Backend::Sqlite).await, |db| sql_args(db, &missing, &map, true)).await;
    let ready = crate::helpers::http(app.addr, "GET", "/ready", &[], None).await;
    assert_eq!(ready.json["backoffice"]["state"], "down", "{:?}", ready.json);
    let reply = app.chat().await.ask("is SP-1 in stock?").await;
    assert!(reply.contains("can't check"), "{reply}");
    let tested = admin(&app, "Boss").await.post("/api/admin/backoffice/test", json!({})).await;
    let t = tested.ok();
    assert_eq!(t["ok"], false, "{t}");
    assert!(t["error"].as_str().is_some_and(|e| e.contains("cannot connect")), "{t}");
    app.stop().await;
}

#[tokio::test]
async fn the_postgres_session_is_read_only_and_the_password_never_shows() {
    if !backends().contains(&Backend::Postgres) {
        return;
    }
    let erp_db = TestDb::new(Backend::Postgres).await;
    let pool = AnyPoolOptions::new().max_connections(1).connect(&erp_db.url).await.unwrap();
    for s in [
        "create table bestellung (nr text, email text, stand text, betrag_cent integer, datum text)",
        "insert into bestellung values ('W-100', 'sofia@example.com', 'delivered', 250000, '2026-10-01')",
        "create table lager (code text, titel text, menge real)",
    ] {
        sqlx::query(AssertSqlSafe(s)).execute(&pool).await.unwrap();
    }
    let erp = Erp::sqlite().await;
    // A WITH that deletes passes the SELECT/WITH check: the read-only session is what stops it.
    let sneaky = erp.map(
        "sneaky.toml",
        &mapping(Some(
            "with gone as (delete from bestellung returning nr, email, stand) \
             select nr as order_number, email as customer_email, stand as status from gone where upper(nr) = :number",
        )),
    );
    let app = spawn_on(TestDb::new(Backend::Sqlite).await, |db| sql_args(db, &erp_db.url, &sneaky, false)).await;
    let e = app.hub.backoffice().order("W-100").await.expect_err("a read-only session refuses the delete");
    assert!(e.to_string().contains("read-only"), "{e}");
    let left: (i64,) = sqlx::query_as("select count(*) from bestellung").fetch_one(&pool).await.unwrap();
    assert_eq!(left.0, 1, "nothing was deleted");
    app.stop().await;

    // A password in the URL stays out of the start-up error.
    let with_password =
        erp_db.url.replacen("postgres@", "postgres:hunter2secret@", 1).replace("127.0.0.1:5432", "127.0.0.1:1");
    let map = erp.map("ok.toml", &mapping(None));
    let db = TestDb::new(Backend::Sqlite).await;
    let e = start_error(&sql_args(&db.url, &with_password, &map, false)).await;
    assert!(!e.contains("hunter2secret") && e.contains("***"), "{e}");
    let app = spawn_on(db, |db| sql_args(db, &with_password, &map, true)).await;
    let tested = admin(&app, "Boss").await.post("/api/admin/backoffice/test", json!({})).await;
    assert_eq!(tested.ok()["ok"], false);
    assert!(
        !tested.text.contains("hunter2secret") && tested.ok()["location"].as_str().unwrap().contains(":***@"),
        "{}",
        tested.text
    );
    let ready = crate::helpers::http(app.addr, "GET", "/ready", &[], None).await;
    assert!(!ready.text.contains("hunter2secret"), "{}", ready.text);
    app.stop().await;
    pool.close().await;
}
