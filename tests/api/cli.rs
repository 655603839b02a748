//! The command line: `kituo intents check|classify` over real rule files.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn kituo() -> Command {
    Command::new(env!("CARGO_BIN_EXE_kituo"))
}

fn copy_rules(to: &Path) {
    for dir in ["intents", "templates", "templates/en", "templates/sw"] {
        std::fs::create_dir_all(to.join(dir)).unwrap();
    }
    for dir in ["intents", "templates/en", "templates/sw"] {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_file() {
                std::fs::copy(&path, to.join(dir).join(path.file_name().unwrap())).unwrap();
            }
        }
    }
}

fn temp_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("kituo-cli-{:016x}", rand::random::<u64>()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn shipped_rules_pass_the_check() {
    let out = kituo().args(["intents", "check"]).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("ok: 14 intents"), "{stdout}");
}

#[test]
fn check_reports_broken_regexes_examples_and_templates_with_file_and_line() {
    let dir = temp_dir();
    copy_rules(&dir);
    let thanks = dir.join("intents/thanks.toml");
    let mut text = std::fs::read_to_string(&thanks).unwrap();
    // A pattern that does not compile, appended to the English patterns.
    text = text.replacen("[patterns]\nen = [", "[patterns]\nen = ['''(unclosed''', ", 1);
    std::fs::write(&thanks, &text).unwrap();
    let out = kituo().args(["intents", "check", "--intents"]).arg(dir.join("intents")).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    let line = text.lines().position(|l| l.contains("(unclosed")).unwrap() + 1;
    assert!(stderr.contains(&format!("thanks.toml:{line}: pattern does not compile")), "{stderr}");

    // A valid rule set where an example now belongs to another intent, and a missing template.
    copy_rules(&dir);
    let greeting = dir.join("intents/greeting.toml");
    let g = std::fs::read_to_string(&greeting).unwrap();
    let g = g.replacen("[examples]\nen = [", "[examples]\nen = [\"where is my order 1001\", ", 1);
    std::fs::write(&greeting, g).unwrap();
    std::fs::remove_file(dir.join("templates/sw/thanks.j2")).unwrap();
    let out = kituo().args(["intents", "check", "--intents"]).arg(dir.join("intents")).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("greeting.toml:")
            && stderr.contains("\"where is my order 1001\" (en) classifies to intent \"order_status\""),
        "{stderr}"
    );
    assert!(stderr.contains("sw/thanks.j2 does not exist"), "{stderr}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn classify_prints_one_json_object_per_line() {
    let mut child = kituo().args(["intents", "classify"]).stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all("where is my order #SO-2026-0042?\nOda yangu 1001 iko wapi\nzzqx\n".as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let lines: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[0]["text"], "where is my order #SO-2026-0042?");
    assert_eq!(lines[0]["intent"], "order_status");
    assert_eq!(lines[0]["locale"], "en");
    assert_eq!(lines[0]["slots"]["order_number"], "so-2026-0042");
    assert_eq!(lines[1]["intent"], "order_status");
    assert_eq!(lines[1]["locale"], "sw");
    assert_eq!(lines[1]["slots"]["order_number"], "1001");
    assert_eq!(lines[2]["intent"], serde_json::Value::Null);
    assert!(lines[2]["slots"].as_object().unwrap().is_empty());
}

#[tokio::test]
async fn openapi_document_is_served_and_lists_the_core_routes() {
    let app = crate::helpers::spawn_app(crate::helpers::backends()[0]).await;
    let r = crate::helpers::http(app.addr, "GET", "/api/openapi.json", &[], None).await;
    assert_eq!(r.status, 401, "customers never reach /api/*");
    let staff = crate::helpers::agent(&app, "Reader").await;
    let r = staff.get("/api/openapi.json").await;
    assert_eq!(r.status, 200);
    let doc = r.ok();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    for path in
        ["/api/conversations", "/api/conversations/{id}/claim", "/api/contacts/{id}", "/api/admin/intents/{name}"]
    {
        assert!(doc["paths"].get(path).is_some(), "{path} documented");
    }
}
