//! The SQL back office: any ERP's own database (PostgreSQL, MySQL/MariaDB, SQLite) read through
//! a TOML mapping of one parameterised query per lookup ([`mapping`]). Read-only: the session is
//! set read-only where the database allows, the mapping may only `SELECT`/`WITH`, and the write
//! side answers "not supported" so the bot hands the customer to a person. Runs behind
//! [`super::guard::Guarded`] (cache, timeout, breaker). The SQL text is the deployment's (the
//! mapping file), which is why it lives here and not in `store/`. Messages never carry the URL's
//! password.

pub mod mapping;
mod row;

use super::{
    BackOffice, CancelOutcome, Error, Invoice, NewRequest, Order, OrderDetail, Product, Request, Result, query_terms,
    record_key,
};
use futures_util::future::BoxFuture;
use mapping::{Dialect, Mapping, Query};
use row::Rec;
use sqlx::AnyPool;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AssertSqlSafe, Column, Executor, SqlSafeStr};
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

/// Most products a name search answers with.
const SEARCH_LIMIT: usize = 5;
/// Most words of a product query that become searches.
const SEARCH_WORDS: usize = 6;

/// Whether `--backoffice` names an SQL database.
pub fn is_sql_url(url: &str) -> bool {
    ["postgres://", "postgresql://", "mysql://", "mariadb://", "sqlite:"].iter().any(|p| url.starts_with(p))
}

pub struct Sql {
    pool: AnyPool,
    mapping: Mapping,
    location: String,
    /// The URL's password, scrubbed from every message.
    secret: Option<String>,
}

impl Sql {
    /// Parses the mapping and prepares a lazy pool; nothing connects yet ([`Sql::check`] does).
    pub fn open(url: &str, map: &Path) -> std::result::Result<Sql, String> {
        sqlx::any::install_default_drivers();
        let location = crate::config::redact(url);
        let (url, kind) = if let Some(rest) = url.strip_prefix("mariadb://") {
            (format!("mysql://{rest}"), Kind::MySql)
        } else if url.starts_with("mysql://") {
            (url.to_string(), Kind::MySql)
        } else if url.starts_with("sqlite:") {
            (if url.contains('?') { url.to_string() } else { format!("{url}?mode=ro") }, Kind::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            (url.to_string(), Kind::Postgres)
        } else {
            return Err(format!("{location}: not an SQL URL (postgres://, mysql:// or sqlite://)"));
        };
        let secret =
            url::Url::parse(&url).ok().and_then(|u| u.password().map(str::to_string)).filter(|p| !p.is_empty());
        let mapping = mapping::load(map, kind.dialect())?;
        let options = AnyConnectOptions::from_str(&url).map_err(|e| scrub(&secret, format!("{location}: {e}")))?;
        let pool = AnyPoolOptions::new()
            .max_connections(4)
            .min_connections(0)
            .acquire_timeout(Duration::from_secs(5))
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    conn.execute(kind.read_only()).await?;
                    Ok(())
                })
            })
            .connect_lazy_with(options);
        Ok(Sql { pool, mapping, location, secret })
    }

    fn scrub(&self, message: String) -> String {
        scrub(&self.secret, message)
    }

    /// Connects, prepares every query of the mapping and checks each returns its columns.
    pub async fn check(&self) -> Result<()> {
        let mut conn = self.pool.acquire().await.map_err(|e| self.down("cannot connect", &e))?;
        for q in &self.mapping.queries {
            let stmt = (&mut *conn).prepare(AssertSqlSafe(q.sql.clone()).into_sql_str()).await.map_err(|e| {
                Error::Unavailable(self.scrub(format!(
                    "{}: [{}] cannot be prepared: {e} (decimals and dates: cast them to text)",
                    q.at, q.spec.name
                )))
            })?;
            let have: Vec<String> = sqlx::Statement::columns(&stmt).iter().map(|c| c.name().to_lowercase()).collect();
            let missing: Vec<&str> = q.spec.required.iter().copied().filter(|c| !have.iter().any(|h| h == c)).collect();
            if !missing.is_empty() {
                return Err(Error::Unavailable(format!(
                    "{}: [{}] does not return column(s) {} (it returns: {})",
                    q.at,
                    q.spec.name,
                    missing.join(", "),
                    have.join(", ")
                )));
            }
        }
        Ok(())
    }

    fn down(&self, what: &str, e: &sqlx::Error) -> Error {
        Error::Unavailable(self.scrub(format!("SQL {}: {what}: {e}", self.location)))
    }

    /// Runs one lookup; `None` when the mapping does not provide it.
    async fn rows(&self, lookup: &str, params: &[(&str, &str)]) -> Result<Option<Vec<Rec>>> {
        let Some(q) = self.mapping.get(lookup) else { return Ok(None) };
        Ok(Some(self.run(q, params).await?))
    }

    async fn run(&self, q: &Query, params: &[(&str, &str)]) -> Result<Vec<Rec>> {
        let mut query = sqlx::query(AssertSqlSafe(q.sql.clone()));
        for name in &q.binds {
            let value = params.iter().find(|(k, _)| k == name).map_or("", |(_, v)| *v);
            query = query.bind(value.to_string());
        }
        let rows = query.fetch_all(&self.pool).await.map_err(|e| self.down(&format!("[{}]", q.spec.name), &e))?;
        rows.iter()
            .map(Rec::from_row)
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|why| Error::Unavailable(format!("{}: [{}] {why}", q.at, q.spec.name)))
    }

    async fn one_order(&self, number: &str) -> Result<Option<Order>> {
        let key = record_key(number);
        if key.is_empty() {
            return Ok(None);
        }
        let rows = self.rows("order", &[("number", &key)]).await?.unwrap_or_default();
        Ok(rows.first().map(Rec::order))
    }

    async fn invoices(&self, lookup: &str, param: (&str, &str)) -> Result<Vec<Invoice>> {
        let rows = self.rows(lookup, &[param]).await?.unwrap_or_default();
        let now = crate::domain::now_ms();
        Ok(rows
            .iter()
            .map(Rec::invoice)
            .map(|mut i| {
                // An open invoice past its due date is overdue, whatever the mapping says.
                if i.status == "open" && i.is_overdue(now) {
                    i.status = "overdue".into();
                }
                i
            })
            .take(50)
            .collect())
    }
}

#[derive(Debug, Clone, Copy)]
enum Kind {
    Postgres,
    MySql,
    Sqlite,
}

impl Kind {
    fn dialect(self) -> Dialect {
        match self {
            Kind::MySql => Dialect::Question,
            Kind::Postgres | Kind::Sqlite => Dialect::Numbered,
        }
    }

    /// The statement that makes a fresh session read-only.
    fn read_only(self) -> &'static str {
        match self {
            Kind::Postgres => "set session characteristics as transaction read only",
            Kind::MySql => "set session transaction read only",
            Kind::Sqlite => "pragma query_only = on",
        }
    }
}

/// `message` with the password replaced (sqlx errors may quote the URL they were given).
fn scrub(secret: &Option<String>, message: String) -> String {
    match secret {
        Some(s) => message.replace(s.as_str(), "***"),
        None => message,
    }
}

fn read_only_refusal() -> Error {
    Error::Refused("not supported: the SQL back office is read-only (a person will do it in the ERP)".into())
}

impl BackOffice for Sql {
    fn source(&self) -> &'static str {
        "sql"
    }

    fn location(&self) -> String {
        self.location.clone()
    }

    fn check(&self) -> BoxFuture<'_, Result<()>> {
        Box::pin(Sql::check(self))
    }

    fn order<'a>(&'a self, number: &'a str) -> BoxFuture<'a, Result<Option<Order>>> {
        Box::pin(self.one_order(number))
    }

    fn order_detail<'a>(&'a self, number: &'a str) -> BoxFuture<'a, Result<Option<OrderDetail>>> {
        Box::pin(async move {
            let Some(mut order) = self.one_order(number).await? else { return Ok(None) };
            let key = record_key(number);
            let param = [("number", key.as_str())];
            let (lines, shipments, invoices) = futures_util::future::try_join3(
                self.rows("order_lines", &param),
                self.rows("shipments", &param),
                self.invoices("order_invoices", ("number", &key)),
            )
            .await?;
            let n = order.order_number.clone();
            let lines = lines.unwrap_or_default().iter().map(|r| r.line(&n)).collect();
            let shipments: Vec<_> = shipments.unwrap_or_default().iter().map(|r| r.shipment(&n)).collect();
            if order.tracking_number.is_none() {
                order.tracking_number = shipments.iter().find_map(|s| s.tracking_number.clone());
            }
            let invoices = invoices
                .into_iter()
                .map(|mut i| {
                    i.order_number.get_or_insert_with(|| n.clone());
                    i
                })
                .collect();
            Ok(Some(OrderDetail { order, lines, shipments, invoices }))
        })
    }

    fn invoice<'a>(&'a self, number: &'a str) -> BoxFuture<'a, Result<Option<Invoice>>> {
        Box::pin(async move {
            let key = record_key(number);
            if key.is_empty() {
                return Ok(None);
            }
            Ok(self.invoices("invoice", ("number", &key)).await?.into_iter().next())
        })
    }

    fn orders_of<'a>(&'a self, email: &'a str) -> BoxFuture<'a, Result<Vec<Order>>> {
        Box::pin(async move {
            let email = email.trim().to_lowercase();
            let rows = self.rows("orders_of", &[("email", &email)]).await?.unwrap_or_default();
            Ok(rows.iter().map(Rec::order).take(50).collect())
        })
    }

    fn invoices_of<'a>(&'a self, email: &'a str) -> BoxFuture<'a, Result<Vec<Invoice>>> {
        Box::pin(async move { self.invoices("invoices_of", ("email", &email.trim().to_lowercase())).await })
    }

    fn stock<'a>(&'a self, query: &'a str) -> BoxFuture<'a, Result<Vec<Product>>> {
        Box::pin(async move {
            let key = record_key(query);
            if !key.is_empty() {
                let exact = self.rows("stock_by_sku", &[("sku", &key)]).await?.unwrap_or_default();
                if let Some(p) = exact.first() {
                    return Ok(vec![p.product()]);
                }
            }
            let words: Vec<String> = query_terms(query).into_iter().take(SEARCH_WORDS).collect();
            let mut found: Vec<Product> = Vec::new();
            for w in &words {
                let pattern = format!("%{w}%");
                for r in self.rows("stock_search", &[("query", w), ("pattern", &pattern)]).await?.unwrap_or_default() {
                    let p = r.product();
                    if !found.iter().any(|f| f.sku == p.sku) {
                        found.push(p);
                    }
                }
            }
            let hits = |p: &Product| {
                let name = crate::domain::fold(&p.name);
                words.iter().filter(|w| name.contains(w.as_str())).count()
            };
            found.sort_by(|a, b| hits(b).cmp(&hits(a)).then_with(|| a.name.cmp(&b.name)));
            found.truncate(SEARCH_LIMIT);
            Ok(found)
        })
    }

    fn cancel_order<'a>(&'a self, _number: &'a str) -> BoxFuture<'a, Result<CancelOutcome>> {
        Box::pin(async { Err(read_only_refusal()) })
    }

    fn open_request<'a>(&'a self, _request: &'a NewRequest) -> BoxFuture<'a, Result<Option<Request>>> {
        Box::pin(async { Err(read_only_refusal()) })
    }

    fn request<'a>(&'a self, _request_id: &'a str) -> BoxFuture<'a, Result<Option<Request>>> {
        Box::pin(async { Ok(None) })
    }

    fn requests_of<'a>(&'a self, _order_number: &'a str) -> BoxFuture<'a, Result<Vec<Request>>> {
        Box::pin(async { Ok(Vec::new()) })
    }
}
