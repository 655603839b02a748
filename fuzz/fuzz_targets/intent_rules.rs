//! Fuzz target `intent_rules`: rule files and reply templates as an admin (or a bad checkout of
//! `intents/`) could write them.
//!
//! An input that parses as an intent TOML file goes through both ways rules are accepted: the
//! loader (`Source` → `RuleSet::compile`, as at start-up and in `kituo intents check`), then
//! `RuleBundle::build` (what every admin save runs: names, templates, size-bounded regexes,
//! examples), with the shipped templates. Whatever compiles classifies a few messages. Any other
//! UTF-8 input is a reply template: compiled and rendered against the sample data like a saved
//! one (`Templates::from_sources` + `check_all`, as `build` does).

#![no_main]

use kituo::bot::bundle::RuleBundle;
use kituo::bot::render::Templates;
use kituo::bot::rules::{IntentDef, RuleSet, Source};
use libfuzzer_sys::fuzz_target;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::LazyLock;

/// The shipped templates (every intent's replies and the built-in ones).
static TEMPLATES: LazyLock<BTreeMap<String, String>> = LazyLock::new(|| {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    RuleBundle::from_files(&root.join("intents"), &root.join("templates")).expect("the shipped rules load").templates
});

const MESSAGES: &[&str] = &[
    "where is my order 1001?",
    "Habari, oda yangu SO-2026-0042 iko wapi?",
    "I want to talk to a human",
    "invoice INV-2026-0017",
    "",
    "🙂 asante sana!!!",
];

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    match toml::from_str::<IntentDef>(text) {
        Ok(def) => intent(text, def),
        Err(_) => template(text),
    }
});

fn intent(text: &str, def: IntentDef) {
    let lines = text.lines().count().max(1);
    let source = Source { file: "fuzz.toml".into(), text: text.to_string(), def: def.clone() };
    match RuleSet::compile(&[source]) {
        Ok(rules) => classify(&rules),
        Err(diags) => {
            assert!(!diags.is_empty());
            for d in diags {
                assert!(d.line.is_none_or(|l| l >= 1 && l <= lines), "{d}");
            }
        }
    }
    let bundle = RuleBundle { intents: vec![def], templates: TEMPLATES.clone() };
    match bundle.build() {
        Ok(bot) => classify(&bot.rules),
        Err(rejection) => assert!(!rejection.summary().is_empty()),
    }
}

fn classify(rules: &RuleSet) {
    for m in MESSAGES {
        let c = rules.classify(m);
        if let Some(name) = &c.intent {
            assert!(rules.intent(name).is_some());
            assert!(c.pattern.is_some());
        }
    }
}

fn template(text: &str) {
    let sources = BTreeMap::from([("en/fuzz".to_string(), text.to_string())]);
    if let Ok(templates) = Templates::from_sources(&sources) {
        let _ = templates.check_all();
    }
}
