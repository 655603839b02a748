//! The SQL connector's mapping file (`--backoffice-map FILE`): one parameterised query per
//! lookup, parsed and checked before anything connects. Owns the lookup table (names, named
//! parameters, the columns each query must return), the read-only check (`SELECT`/`WITH` only,
//! one statement) and the rewriting of `:name` parameters into each database's placeholders.
//! Errors name `file:line`. Pure: no IO but reading the file.

use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

/// One lookup the mapping can (or must) provide.
#[derive(Debug)]
pub struct Spec {
    pub name: &'static str,
    /// Named parameters the query may use (`:number`).
    pub params: &'static [&'static str],
    /// Columns the query must return (aliases: `select s.code as sku`).
    pub required: &'static [&'static str],
    /// Columns read when present.
    pub optional: &'static [&'static str],
    /// A mapping without it is refused; optional lookups answer "nothing" when absent.
    pub mandatory: bool,
}

const ORDER_REQ: &[&str] = &["order_number", "customer_email", "status"];
const ORDER_OPT: &[&str] =
    &["customer_name", "placed_at", "shipped_at", "carrier", "tracking_number", "total", "currency"];
const INVOICE_REQ: &[&str] = &["invoice_number", "customer_email", "amount", "currency", "status"];
const INVOICE_OPT: &[&str] = &["order_number", "issued_at", "due_at", "paid_at"];
const STOCK_REQ: &[&str] = &["sku", "name", "on_hand"];
const STOCK_OPT: &[&str] = &["available", "restock_date", "price", "currency"];
const NUMBER: &[&str] = &["number"];
const EMAIL: &[&str] = &["email"];

/// Every lookup, in the order the README documents them.
pub const SPECS: &[Spec] = &[
    Spec { name: "order", params: NUMBER, required: ORDER_REQ, optional: ORDER_OPT, mandatory: true },
    Spec {
        name: "order_lines",
        params: NUMBER,
        required: &["sku", "name", "quantity"],
        optional: &["unit_price"],
        mandatory: false,
    },
    Spec {
        name: "shipments",
        params: NUMBER,
        required: &["shipment_number", "state"],
        optional: &["planned_at", "shipped_at", "delivered_at", "carrier", "tracking_number"],
        mandatory: false,
    },
    Spec { name: "order_invoices", params: NUMBER, required: INVOICE_REQ, optional: INVOICE_OPT, mandatory: false },
    Spec { name: "orders_of", params: EMAIL, required: ORDER_REQ, optional: ORDER_OPT, mandatory: true },
    Spec { name: "invoice", params: NUMBER, required: INVOICE_REQ, optional: INVOICE_OPT, mandatory: true },
    Spec { name: "invoices_of", params: EMAIL, required: INVOICE_REQ, optional: INVOICE_OPT, mandatory: true },
    Spec { name: "stock_by_sku", params: &["sku"], required: STOCK_REQ, optional: STOCK_OPT, mandatory: true },
    Spec {
        name: "stock_search",
        params: &["query", "pattern"],
        required: STOCK_REQ,
        optional: STOCK_OPT,
        mandatory: true,
    },
];

/// Which placeholder style the database speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// `$1`, `$2` (one per distinct name): PostgreSQL and SQLite.
    Numbered,
    /// `?` per occurrence: MySQL/MariaDB.
    Question,
}

/// A query ready to run: the rewritten SQL and the parameter name behind each placeholder.
#[derive(Debug, Clone)]
pub struct Query {
    pub spec: &'static Spec,
    pub sql: String,
    pub binds: Vec<&'static str>,
    /// `file:line` of the query, for messages.
    pub at: String,
}

#[derive(Debug)]
pub struct Mapping {
    pub file: String,
    pub queries: Vec<Query>,
}

impl Mapping {
    pub fn get(&self, lookup: &str) -> Option<&Query> {
        self.queries.iter().find(|q| q.spec.name == lookup)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLookup {
    sql: toml::Spanned<String>,
}

/// Reads and checks a mapping file.
pub fn load(path: &Path, dialect: Dialect) -> Result<Mapping, String> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| format!("{file}: cannot read the mapping: {e}"))?;
    parse(&file, &text, dialect)
}

/// Parses a mapping's text (`file` only names it in errors).
pub fn parse(file: &str, text: &str, dialect: Dialect) -> Result<Mapping, String> {
    let line_of = |offset: usize| text[..offset.min(text.len())].matches('\n').count() + 1;
    let raw: BTreeMap<String, toml::Spanned<RawLookup>> = toml::from_str(text).map_err(|e: toml::de::Error| {
        let line = e.span().map_or(1, |s| line_of(s.start));
        format!("{file}:{line}: {}", e.message().trim())
    })?;
    let mut queries = Vec::new();
    for (name, lookup) in &raw {
        let at = format!("{file}:{}", line_of(lookup.span().start));
        let Some(spec) = SPECS.iter().find(|s| s.name == name) else {
            let known: Vec<&str> = SPECS.iter().map(|s| s.name).collect();
            return Err(format!("{at}: unknown lookup [{name}] (known: {})", known.join(", ")));
        };
        let sql = lookup.get_ref().sql.get_ref();
        let sql_at = format!("{file}:{}", line_of(lookup.get_ref().sql.span().start));
        check_read_only(sql).map_err(|why| format!("{sql_at}: [{name}] {why}"))?;
        let (sql, binds) = rewrite(sql, spec, dialect).map_err(|why| format!("{sql_at}: [{name}] {why}"))?;
        queries.push(Query { spec, sql, binds, at: sql_at });
    }
    for spec in SPECS.iter().filter(|s| s.mandatory) {
        if !raw.contains_key(spec.name) {
            return Err(format!("{file}: the mapping has no [{}] query (required)", spec.name));
        }
    }
    Ok(Mapping { file: file.to_string(), queries })
}

/// Pieces of SQL text outside string literals, quoted identifiers and comments.
fn code_spans(sql: &str) -> Vec<(usize, usize)> {
    let b = sql.as_bytes();
    let (mut spans, mut i, mut start) = (Vec::new(), 0, 0);
    while i < b.len() {
        let skip_to = match b[i] {
            q @ (b'\'' | b'"' | b'`') => {
                let mut j = i + 1;
                while j < b.len() {
                    if b[j] == q && b.get(j + 1) == Some(&q) {
                        j += 2;
                    } else if b[j] == q {
                        break;
                    } else {
                        j += 1;
                    }
                }
                Some(j + 1)
            }
            b'-' if b.get(i + 1) == Some(&b'-') => Some(sql[i..].find('\n').map_or(b.len(), |n| i + n + 1)),
            b'/' if b.get(i + 1) == Some(&b'*') => Some(sql[i + 2..].find("*/").map_or(b.len(), |n| i + 2 + n + 2)),
            _ => None,
        };
        match skip_to {
            Some(end) => {
                spans.push((start, i));
                i = end.min(b.len());
                start = i;
            }
            None => i += 1,
        }
    }
    spans.push((start, b.len()));
    spans.retain(|(s, e)| e > s);
    spans
}

/// Only `SELECT` or `WITH`, and only one statement: the mapping reads, it never writes.
fn check_read_only(sql: &str) -> Result<(), String> {
    let code: String = code_spans(sql).iter().map(|&(s, e)| &sql[s..e]).collect::<Vec<_>>().join(" ");
    let first = code.trim_start_matches(|c: char| c.is_whitespace() || c == '(');
    let word: String = first.chars().take_while(|c| c.is_ascii_alphabetic()).collect::<String>().to_lowercase();
    if word != "select" && word != "with" {
        return Err(format!(
            "must be a SELECT or WITH query (found {:?}): the SQL back office only reads",
            if word.is_empty() { first.chars().take(12).collect() } else { word }
        ));
    }
    if code.trim_end().trim_end_matches(';').contains(';') {
        return Err("must be one statement (no `;` inside)".into());
    }
    Ok(())
}

/// Replaces `:name` parameters with the dialect's placeholders; `::type` casts are left alone.
fn rewrite(sql: &str, spec: &Spec, dialect: Dialect) -> Result<(String, Vec<&'static str>), String> {
    let sql = sql.trim().trim_end_matches(';');
    let mut out = String::with_capacity(sql.len());
    let mut binds: Vec<&'static str> = Vec::new();
    let mut last = 0;
    for (s, e) in code_spans(sql) {
        out.push_str(&sql[last..s]);
        let piece = &sql[s..e];
        let b = piece.as_bytes();
        let mut i = 0;
        while i < b.len() {
            if b[i] == b':' && b.get(i + 1) == Some(&b':') {
                out.push_str("::");
                i += 2;
                continue;
            }
            let starts_name = b.get(i + 1).is_some_and(|c| c.is_ascii_alphabetic() || *c == b'_');
            if b[i] == b':' && starts_name {
                let len =
                    piece[i + 1..].find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(b.len() - i - 1);
                let name = &piece[i + 1..i + 1 + len];
                let Some(&known) = spec.params.iter().find(|p| **p == name) else {
                    return Err(format!(
                        "unknown parameter :{name} (this lookup takes {})",
                        spec.params.iter().map(|p| format!(":{p}")).collect::<Vec<_>>().join(", ")
                    ));
                };
                match dialect {
                    Dialect::Question => {
                        binds.push(known);
                        out.push('?');
                    }
                    Dialect::Numbered => {
                        let n = match binds.iter().position(|b| *b == known) {
                            Some(n) => n + 1,
                            None => {
                                binds.push(known);
                                binds.len()
                            }
                        };
                        out.push_str(&format!("${n}"));
                    }
                }
                i += 1 + len;
                continue;
            }
            let ch = piece[i..].chars().next().map_or(1, char::len_utf8);
            out.push_str(&piece[i..i + ch]);
            i += ch;
        }
        last = e;
    }
    out.push_str(&sql[last..]);
    Ok((out, binds))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(name: &str) -> &'static Spec {
        SPECS.iter().find(|s| s.name == name).unwrap()
    }

    #[test]
    fn parameters_become_placeholders_outside_strings_and_casts() {
        let sql = "select ':number' as x, n::text from t where upper(n) = :number -- :email\n or m = :number";
        let (pg, binds) = rewrite(sql, spec("order"), Dialect::Numbered).unwrap();
        assert_eq!(pg, "select ':number' as x, n::text from t where upper(n) = $1 -- :email\n or m = $1");
        assert_eq!(binds, vec!["number"]);
        let (my, binds) = rewrite(sql, spec("order"), Dialect::Question).unwrap();
        assert!(my.ends_with("upper(n) = ? -- :email\n or m = ?"), "{my}");
        assert_eq!(binds, vec!["number", "number"]);
        let (two, binds) =
            rewrite("select 1 where a like :pattern or b = :query", spec("stock_search"), Dialect::Numbered).unwrap();
        assert_eq!((two.as_str(), binds), ("select 1 where a like $1 or b = $2", vec!["pattern", "query"]));
    }

    #[test]
    fn unknown_parameters_and_writes_are_refused_with_their_line() {
        let base = "[orders_of]\nsql = \"select 1\"\n[invoice]\nsql = \"select 1\"\n[invoices_of]\nsql = \"select 1\"\n\
                    [stock_by_sku]\nsql = \"select 1\"\n[stock_search]\nsql = \"select 1\"\n";
        let bad_param = format!("{base}[order]\nsql = \"select 1 where x = :email\"\n");
        let e = parse("m.toml", &bad_param, Dialect::Numbered).unwrap_err();
        assert!(e.starts_with("m.toml:12: [order] unknown parameter :email"), "{e}");
        let write = format!("{base}[order]\n\nsql = \"\"\"\n-- sneaky\ndelete from orders\"\"\"\n");
        let e = parse("m.toml", &write, Dialect::Numbered).unwrap_err();
        assert!(e.starts_with("m.toml:13: [order] must be a SELECT or WITH"), "{e}");
        let two = format!("{base}[order]\nsql = \"select 1; drop table x\"\n");
        assert!(parse("m.toml", &two, Dialect::Numbered).unwrap_err().contains("one statement"));
        let ok = format!("{base}[order]\nsql = \"(select 1 where ';' = :number);\"\n");
        assert!(parse("m.toml", &ok, Dialect::Numbered).is_ok());
        let e = parse("m.toml", &format!("{base}[orderz]\nsql = \"select 1\"\n"), Dialect::Numbered).unwrap_err();
        assert!(e.starts_with("m.toml:11: unknown lookup [orderz]"), "{e}");
        let e = parse("m.toml", base, Dialect::Numbered).unwrap_err();
        assert!(e.contains("no [order] query"), "{e}");
        let e = parse("m.toml", "[order]\nsql = 1\n", Dialect::Numbered).unwrap_err();
        assert!(e.starts_with("m.toml:2: "), "{e}");
    }

    #[test]
    fn the_shipped_mappings_parse() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("backoffice");
        for (file, dialect) in
            [("tryton.toml", Dialect::Numbered), ("odoo.toml", Dialect::Numbered), ("erpnext.toml", Dialect::Question)]
        {
            let m = load(&root.join(file), dialect).unwrap_or_else(|e| panic!("{e}"));
            assert!(m.get("order").is_some_and(|q| q.binds.contains(&"number")), "{file}");
            assert!(!m.queries.iter().any(|q| q.sql.contains(":number") || q.sql.contains(":email")), "{file}");
        }
        let tryton = load(&root.join("tryton.toml"), Dialect::Numbered).unwrap();
        assert_eq!(tryton.queries.len(), SPECS.len(), "tryton.toml answers every lookup");
    }
}
