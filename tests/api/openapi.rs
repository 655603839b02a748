//! The generated OpenAPI document against the routes the server really serves: every route in
//! the source is documented (or a named exception), every documented operation is served, no
//! undocumented method answers on a documented path, and the served document parses as
//! OpenAPI 3 with every `$ref` resolving.

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Routes served but not described, each with its reason. Nothing under `/api/` may be here.
const NOT_DOCUMENTED: &[(&str, &str)] = &[
    ("/ws/chat", "WebSocket: the widget's protocol (frames), not HTTP operations"),
    ("/ws/agent", "WebSocket: the console's protocol (frames), not HTTP operations"),
    ("/", "static page: the demo shop"),
    ("/widget.js", "static asset"),
    ("/demo.js", "static asset"),
    ("/login", "static page"),
    ("/login.js", "static asset"),
    ("/login.css", "static asset"),
    ("/console", "static page"),
    ("/console.js", "static asset"),
    ("/console.css", "static asset"),
    ("/console-tools.js", "static asset"),
    ("/console-tools.css", "static asset"),
    ("/admin", "static page"),
    ("/admin.js", "static asset"),
    ("/admin.css", "static asset"),
    ("/csat.css", "static asset of the rating page"),
    ("/health", "operations probe (text)"),
    ("/ready", "operations probe"),
    ("/metrics", "Prometheus text, for the scraper"),
];

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

/// Every literal path given to `.route(` in the crate's source.
fn routes_in_source(dir: &Path, out: &mut BTreeSet<String>) {
    for entry in std::fs::read_dir(dir).expect("src/ is readable") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            routes_in_source(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(&path).expect("a source file is readable");
            for (at, _) in text.match_indices(".route(") {
                let rest = text[at + ".route(".len()..].trim_start();
                if let Some(literal) = rest.strip_prefix('"') {
                    let end = literal.find('"').expect("a closed string literal");
                    out.insert(literal[..end].to_string());
                }
            }
        }
    }
}

/// The document's operations: path → methods.
fn operations(doc: &Value) -> BTreeMap<String, BTreeSet<String>> {
    let paths = doc["paths"].as_object().expect("paths is an object");
    paths
        .iter()
        .map(|(p, item)| {
            let methods = METHODS.iter().filter(|m| item.get(**m).is_some()).map(|m| m.to_string()).collect();
            (p.clone(), methods)
        })
        .collect()
}

/// Every `$ref` in the document, with where it is.
fn refs<'a>(v: &'a Value, at: String, out: &mut Vec<(String, &'a str)>) {
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                if k == "$ref" {
                    out.push((at.clone(), child.as_str().unwrap_or("")));
                } else {
                    refs(child, format!("{at}/{k}"), out);
                }
            }
        }
        Value::Array(list) => {
            for (i, child) in list.iter().enumerate() {
                refs(child, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

/// A concrete URL for a path template (`{version}` is a number, other parameters any text).
fn concrete(template: &str) -> String {
    let mut out = String::new();
    for segment in template.split('/').skip(1) {
        out.push('/');
        match segment {
            "{version}" => out.push('1'),
            s if s.starts_with('{') => out.push_str("probe"),
            s => out.push_str(s),
        }
    }
    out
}

#[tokio::test]
async fn every_served_route_is_in_the_generated_document_and_it_parses() {
    let app = crate::helpers::spawn_app(crate::helpers::backends()[0]).await;
    let staff = crate::helpers::agent(&app, "Reader").await;
    let r = staff.get("/api/openapi.json").await;
    assert_eq!(r.status, 200, "{}", r.text);
    let doc = r.json.clone();

    // It is OpenAPI 3, complete enough to read, and every reference resolves.
    assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")), "openapi: {}", doc["openapi"]);
    assert!(doc["info"]["title"].is_string() && doc["info"]["version"].is_string(), "info: {}", doc["info"]);
    let ops = operations(&doc);
    assert!(!ops.is_empty(), "no paths");
    for (path, methods) in &ops {
        assert!(!methods.is_empty(), "{path}: no operation");
        for m in methods {
            assert!(doc["paths"][path][m]["responses"].as_object().is_some_and(|r| !r.is_empty()), "{m} {path}");
        }
    }
    let mut all = Vec::new();
    refs(&doc, String::new(), &mut all);
    assert!(!all.is_empty(), "the schemas are referenced, not inlined");
    for (at, target) in &all {
        let pointer = target.strip_prefix('#').unwrap_or_else(|| panic!("{at}: external $ref {target}"));
        assert!(doc.pointer(pointer).is_some(), "{at}: $ref {target} does not resolve");
    }
    let typed: Result<utoipa::openapi::OpenApi, _> = serde_json::from_value(doc.clone());
    assert!(typed.is_ok(), "the document does not parse as OpenAPI: {:?}", typed.err());

    // Every route in the source is documented, or a named exception outside /api/.
    let mut source = BTreeSet::new();
    routes_in_source(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut source);
    let exceptions: BTreeSet<&str> = NOT_DOCUMENTED.iter().map(|(p, _)| *p).collect();
    for (p, why) in NOT_DOCUMENTED {
        assert!(!p.starts_with("/api/"), "{p} may not be undocumented ({why})");
    }
    for route in &source {
        assert!(
            ops.contains_key(route) || exceptions.contains(route.as_str()),
            "{route} is served but not in the OpenAPI document (register it with routes!)"
        );
    }

    // Ask the real server: every documented operation is served, and on a documented path no
    // other method is (405). A 404 from the router has no body; a handler's 404 has one.
    for (path, methods) in &ops {
        let url = concrete(path);
        for m in METHODS {
            let r = crate::helpers::http(app.addr, &m.to_uppercase(), &url, &[], None).await;
            let unrouted = r.status == 405 || (r.status == 404 && r.text.is_empty());
            if methods.contains(m) {
                assert!(!unrouted, "{m} {path} is documented but not served ({})", r.status);
            } else {
                assert_eq!(r.status, 405, "{m} {path} is served but not documented");
            }
        }
    }
}
