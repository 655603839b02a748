//! The architecture as tests: the rules of `src/lib.rs`'s crate map, checked on the source tree.
//! Data flows one way (channel → hub → bot | queue → outbox → channel): the web and the channels
//! never reach into the store, channels import neither the store nor the web, no two top-level
//! modules import each other (directly or round a loop), SQL lives in `store/` only, and no
//! source file grows past the size STYLE.md asks to split at.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Past this many lines a module is asking to be split along a seam (STYLE.md, rule 12).
const MAX_LINES: usize = 600;

struct Source {
    /// Path below `src/`, with `/` separators.
    rel: String,
    text: String,
}

fn sources() -> Vec<Source> {
    fn walk(dir: &Path, root: &Path, out: &mut Vec<Source>) {
        let mut entries: Vec<PathBuf> =
            std::fs::read_dir(dir).expect("src/ is readable").flatten().map(|e| e.path()).collect();
        entries.sort();
        for path in entries {
            if path.is_dir() {
                walk(&path, root, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let rel = path.strip_prefix(root).expect("below src/").to_string_lossy().replace('\\', "/");
                let text = std::fs::read_to_string(&path).expect("source files are UTF-8");
                out.push(Source { rel, text });
            }
        }
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut out = Vec::new();
    walk(&root, &root, &mut out);
    assert!(out.len() > 50, "found only {} source files under {}", out.len(), root.display());
    out
}

/// The top-level module a file belongs to (`hub/bus.rs` → `hub`, `app.rs` → `app`); `None` for the
/// crate root and the binaries, which sit above everything.
fn top_module(rel: &str) -> Option<&str> {
    if rel == "lib.rs" || rel == "main.rs" || rel.starts_with("bin/") {
        return None;
    }
    let first = rel.split('/').next().unwrap_or(rel);
    Some(first.strip_suffix(".rs").unwrap_or(first))
}

/// The text without comments, so a doc line that names a module or shows SQL does not count.
fn code_only(text: &str) -> String {
    text.lines()
        .map(|line| {
            let trimmed = line.trim_start();
            if trimmed.starts_with("//") { "" } else { line }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Top-level modules a piece of code names through `crate::…`, including grouped imports such
/// as `use crate::{hub::Hub, store::{self, Store}}`.
fn crate_refs(code: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut rest = code;
    while let Some(at) = rest.find("crate::") {
        let preceded_by_ident = rest[..at].chars().last().is_some_and(|c| c.is_alphanumeric() || c == '_');
        rest = &rest[at + "crate::".len()..];
        if preceded_by_ident {
            continue;
        }
        if let Some(group) = rest.strip_prefix('{') {
            // The group's items at depth one, split at commas; each starts with a module name.
            let mut depth = 1;
            let mut item = String::new();
            let mut items = Vec::new();
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 1 => break,
                    '}' => depth -= 1,
                    ',' if depth == 1 => items.push(std::mem::take(&mut item)),
                    _ => {}
                }
                item.push(c);
            }
            items.push(item);
            for item in items {
                let name: String = item
                    .trim_start_matches([',', ' ', '\n'])
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty() {
                    out.insert(name);
                }
            }
        } else {
            let name: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
            if !name.is_empty() {
                out.insert(name);
            }
        }
    }
    out
}

/// Code lines (comments left out) of the files `in_file` picks that `matches`, as `src/path:line: text`.
fn lines_where(in_file: impl Fn(&str) -> bool, matches: impl Fn(&str) -> bool) -> Vec<String> {
    sources()
        .into_iter()
        .filter(|s| in_file(&s.rel))
        .flat_map(|s| {
            code_only(&s.text)
                .lines()
                .enumerate()
                .filter(|(_, l)| matches(l))
                .map(|(i, l)| format!("src/{}:{}: {}", s.rel, i + 1, l.trim()))
                .collect::<Vec<_>>()
        })
        .collect()
}

#[test]
fn crate_refs_reads_paths_and_groups() {
    let code = "use crate::{domain::{A, B}, hub::Hub, store};\nlet x = crate::web::f(); mycrate::no::x();";
    let refs: Vec<String> = crate_refs(code).into_iter().collect();
    assert_eq!(refs, ["domain", "hub", "store", "web"]);
}

#[test]
fn web_and_channels_do_not_reach_into_the_store() {
    let offenders = lines_where(
        |rel| ["web/", "channel/", "outbox/"].iter().any(|p| rel.starts_with(p)),
        |l| l.contains(".store()"),
    );
    assert!(offenders.is_empty(), "reads and writes go through the hub (or `Queries`):\n{}", offenders.join("\n"));
}

#[test]
fn channels_import_neither_store_nor_web() {
    let offenders: Vec<String> = sources()
        .into_iter()
        .filter(|s| s.rel.starts_with("channel/"))
        .filter_map(|s| {
            let bad: Vec<String> =
                crate_refs(&code_only(&s.text)).into_iter().filter(|m| m == "store" || m == "web").collect();
            (!bad.is_empty()).then(|| format!("src/{} imports {}", s.rel, bad.join(", ")))
        })
        .collect();
    assert!(offenders.is_empty(), "channels speak to the hub only:\n{}", offenders.join("\n"));
}

#[test]
fn top_level_modules_form_no_import_cycle() {
    let files = sources();
    let modules: BTreeSet<String> = files.iter().filter_map(|s| top_module(&s.rel)).map(str::to_string).collect();
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for s in &files {
        let Some(from) = top_module(&s.rel) else { continue };
        for to in crate_refs(&code_only(&s.text)) {
            if to != from && modules.contains(&to) {
                edges.entry(from.to_string()).or_default().insert(to);
            }
        }
    }
    // A module is on a cycle when it can reach itself.
    let reaches = |start: &str| -> BTreeSet<String> {
        let mut seen = BTreeSet::new();
        let mut todo: Vec<String> = edges.get(start).map(|e| e.iter().cloned().collect()).unwrap_or_default();
        while let Some(m) = todo.pop() {
            if seen.insert(m.clone()) {
                todo.extend(edges.get(&m).into_iter().flatten().cloned());
            }
        }
        seen
    };
    let cycles: Vec<String> = edges
        .iter()
        .flat_map(|(from, tos)| tos.iter().map(move |to| (from.clone(), to.clone())))
        .filter(|(from, to)| reaches(to).contains(from))
        .map(|(from, to)| format!("{from} → {to} (and back)"))
        .collect();
    assert!(cycles.is_empty(), "modules on an import loop:\n{}", cycles.join("\n"));
}

/// SQL statements in string literals. The SQL back-office connector is exempt: it runs the
/// mapping's queries against the company's ERP database, not against Kituo's.
#[test]
fn sql_lives_in_the_store() {
    let statement = regex::Regex::new(
        r#"(?i)"[^"]*\b(select\s+[^"]*\bfrom\b|insert\s+into|update\s+\w+\s+set|delete\s+from|create\s+(table|index))"#,
    )
    .expect("valid regex");
    let offenders =
        lines_where(|rel| !rel.starts_with("store/") && !rel.starts_with("backoffice/sql/"), |l| statement.is_match(l));
    assert!(offenders.is_empty(), "SQL outside store/:\n{}", offenders.join("\n"));
}

#[test]
fn no_source_file_is_past_the_split_size() {
    let long: Vec<String> = sources()
        .into_iter()
        .map(|s| (s.text.lines().count(), s.rel))
        .filter(|(n, _)| *n > MAX_LINES)
        .map(|(n, rel)| format!("src/{rel}: {n} lines"))
        .collect();
    assert!(long.is_empty(), "split these along a seam (STYLE.md, rule 12):\n{}", long.join("\n"));
}
