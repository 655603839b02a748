//! A rule set as data: intents plus the template sources they use. This is what the admin
//! pages edit, what each stored version holds (as JSON), and what `export` writes back out as
//! the same TOML and template files `intents/` and `templates/` hold.
//!
//! In the admin API an intent's `reply` and slot `prompt` carry template *text* per locale; in
//! the bundle they carry template *names*, and the text lives in `templates`. Conversion between
//! the two keeps existing names when the text is unchanged, so shared templates stay shared.

use super::Bot;
use super::render::{SYSTEM_TEMPLATES, Templates};
use super::rules::{IntentDef, RuleSet, Source};
use crate::domain::Locale;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::Path;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleBundle {
    pub intents: Vec<IntentDef>,
    /// `"<locale>/<name>"` → minijinja source.
    pub templates: BTreeMap<String, String>,
}

/// One problem with a field of an intent (`patterns.en[1]`, `reply.sw`, `slots.sku.pattern`…).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Problem {
    pub intent: String,
    pub field: String,
    pub message: String,
}

/// An example that no longer classifies to its own intent.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BrokenExample {
    pub intent: String,
    pub locale: Locale,
    pub example: String,
    pub classified_as: Option<String>,
}

/// Why a rule set cannot be saved; nothing changes when a save is refused.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Rejection {
    pub problems: Vec<Problem>,
    pub broken_examples: Vec<BrokenExample>,
}

impl Rejection {
    pub fn summary(&self) -> String {
        let mut parts: Vec<String> =
            self.problems.iter().map(|p| format!("{} {}: {}", p.intent, p.field, p.message)).collect();
        parts.extend(self.broken_examples.iter().map(|b| {
            format!(
                "example {:?} of {} ({}) now goes to {}",
                b.example,
                b.intent,
                b.locale,
                b.classified_as.as_deref().unwrap_or("no intent")
            )
        }));
        parts.join("; ")
    }
}

/// Names an intent may not take.
fn reserved(name: &str) -> bool {
    SYSTEM_TEMPLATES.contains(&name) || name.starts_with("email_")
}

fn problem(intent: &str, field: impl Into<String>, message: impl Into<String>) -> Problem {
    Problem { intent: intent.to_string(), field: field.into(), message: message.into() }
}

impl RuleBundle {
    pub fn from_files(intents_dir: &Path, templates_dir: &Path) -> Result<RuleBundle, Vec<String>> {
        let sources =
            super::rules::read_dir(intents_dir).map_err(|d| d.iter().map(|d| d.to_string()).collect::<Vec<_>>())?;
        let templates = Templates::read_dir(templates_dir)?;
        Ok(RuleBundle { intents: sources.into_iter().map(|s| s.def).collect(), templates })
    }

    /// Validates everything a save requires and builds the bot, or says exactly what is wrong:
    /// regexes compile (size-bounded), templates exist and render against sample data, and
    /// every example still classifies to its own intent.
    pub fn build(&self) -> Result<Bot, Rejection> {
        let mut rejection = Rejection::default();
        let mut seen = std::collections::HashSet::new();
        // Patterns are compiled one by one only when every one parses and all of them together
        // fit the rule set's size limit (see `rules::check_total_size`).
        let all: Vec<String> = self.intents.iter().flat_map(IntentDef::all_regexes).collect();
        let mut compile = all.iter().all(|p| super::rules::check_syntax(p).is_ok());
        if compile && let Err(message) = super::rules::check_total_size(all.iter().map(String::as_str)) {
            rejection.problems.push(problem("", "patterns", message));
            compile = false;
        }
        let compile_one = |p: &str| match compile {
            true => super::rules::compile_one(p).map(Some),
            false => super::rules::check_syntax(p).map(|()| None),
        };
        for def in &self.intents {
            let n = &def.name;
            if !seen.insert(n.clone()) {
                rejection.problems.push(problem(n, "name", "another intent has this name"));
            }
            if n.is_empty()
                || n.len() > 64
                || !n.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            {
                rejection.problems.push(problem(n, "name", "use 1-64 lowercase letters, digits and _"));
            }
            if reserved(n) {
                rejection.problems.push(problem(n, "name", "this name is reserved for a built-in template"));
            }
            if def.patterns.values().all(Vec::is_empty) {
                rejection.problems.push(problem(n, "patterns", "add at least one pattern"));
            }
            for e in def.pattern_entries() {
                if let Err(err) = compile_one(&e.expanded.regex) {
                    rejection.problems.push(problem(n, e.field(), err.to_string()));
                }
            }
            for (slot, sd) in &def.slots {
                if let Some(p) = &sd.pattern {
                    match compile_one(p) {
                        Ok(None) => {}
                        Ok(Some(re)) if re.capture_names().flatten().any(|c| c == slot) => {}
                        Ok(Some(_)) => rejection.problems.push(problem(
                            n,
                            format!("slots.{slot}.pattern"),
                            format!("needs a named group (?P<{slot}>…)"),
                        )),
                        Err(e) => rejection.problems.push(problem(n, format!("slots.{slot}.pattern"), e.to_string())),
                    }
                }
                for locale in Locale::ALL {
                    match sd.prompt.get(&locale) {
                        None if sd.required => rejection.problems.push(problem(
                            n,
                            format!("slots.{slot}.prompt.{locale}"),
                            "a required slot needs a prompt",
                        )),
                        Some(t) if !self.templates.contains_key(&format!("{locale}/{t}")) => rejection.problems.push(
                            problem(n, format!("slots.{slot}.prompt.{locale}"), format!("template {t} is missing")),
                        ),
                        _ => {}
                    }
                }
            }
            for locale in Locale::ALL {
                match def.reply.get(&locale) {
                    None => rejection.problems.push(problem(n, format!("reply.{locale}"), "a reply is required")),
                    Some(t) if !self.templates.contains_key(&format!("{locale}/{t}")) => rejection
                        .problems
                        .push(problem(n, format!("reply.{locale}"), format!("template {t} is missing"))),
                    _ => {}
                }
            }
        }
        for name in SYSTEM_TEMPLATES {
            for locale in Locale::ALL {
                if !self.templates.contains_key(&format!("{locale}/{name}")) {
                    rejection.problems.push(problem(
                        "",
                        format!("templates.{locale}/{name}"),
                        "built-in template is missing",
                    ));
                }
            }
        }
        let templates = match Templates::from_sources(&self.templates) {
            Ok(t) => Some(t),
            Err(errors) => {
                for (name, line, message) in errors {
                    let (intent, field) = self.field_of_template(&name);
                    rejection.problems.push(problem(&intent, field, format!("line {line}: {message}")));
                }
                None
            }
        };
        if let Some(t) = &templates {
            for (name, error) in t.check_all() {
                let (intent, field) = self.field_of_template(&name);
                rejection.problems.push(problem(&intent, field, format!("does not render: {error}")));
            }
        }
        if !rejection.problems.is_empty() {
            return Err(rejection);
        }
        let sources: Vec<Source> =
            self.intents.iter().map(|d| Source { file: d.name.clone(), text: String::new(), def: d.clone() }).collect();
        let rules = RuleSet::compile(&sources).map_err(|diags| Rejection {
            problems: diags.into_iter().map(|d| problem(&d.file, "patterns", d.message)).collect(),
            broken_examples: Vec::new(),
        })?;
        for (intent, locale, example, got) in rules.broken_examples() {
            rejection.broken_examples.push(BrokenExample { intent, locale, example, classified_as: got });
        }
        if !rejection.broken_examples.is_empty() {
            return Err(rejection);
        }
        let templates = templates.expect("templates compiled when there are no problems");
        Ok(Bot { rules, templates, bundle: self.clone(), version: 0 })
    }

    /// Which intent field uses a template (`"en/order_status"` → ("order_status", "reply.en")).
    fn field_of_template(&self, full: &str) -> (String, String) {
        let (locale, name) = full.split_once('/').unwrap_or(("", full));
        for def in &self.intents {
            if def.reply.iter().any(|(l, t)| l.as_str() == locale && t == name) {
                return (def.name.clone(), format!("reply.{locale}"));
            }
            for (slot, sd) in &def.slots {
                if sd.prompt.iter().any(|(l, t)| l.as_str() == locale && t == name) {
                    return (def.name.clone(), format!("slots.{slot}.prompt.{locale}"));
                }
            }
        }
        (String::new(), format!("templates.{full}"))
    }

    pub fn intent(&self, name: &str) -> Option<&IntentDef> {
        self.intents.iter().find(|d| d.name == name)
    }

    fn text(&self, locale: Locale, name: &str) -> Option<&String> {
        self.templates.get(&format!("{locale}/{name}"))
    }

    /// The admin API shape of an intent: template text in place of template names.
    pub fn intent_json(&self, def: &IntentDef) -> Value {
        let mut v = serde_json::to_value(def).unwrap_or(Value::Null);
        let reply: BTreeMap<String, String> = def
            .reply
            .iter()
            .map(|(l, name)| (l.as_str().to_string(), self.text(*l, name).cloned().unwrap_or_default()))
            .collect();
        v["reply"] = json!(reply);
        for (slot, sd) in &def.slots {
            let prompt: BTreeMap<String, String> = sd
                .prompt
                .iter()
                .map(|(l, name)| (l.as_str().to_string(), self.text(*l, name).cloned().unwrap_or_default()))
                .collect();
            v["slots"][slot]["prompt"] = json!(prompt);
        }
        for field in ["team", "label"] {
            if v.get(field).is_none() {
                v[field] = Value::Null;
            }
        }
        // Fields the TOML leaves out when they hold their defaults, shown to the editor anyway.
        for (field, default) in [("unless", json!({})), ("fuzzy", json!(false)), ("handoff_priority", json!(0))] {
            if v.get(field).is_none() {
                v[field] = default;
            }
        }
        v
    }

    /// Puts an intent given in the admin API shape into the bundle (replacing one of the same
    /// name). Template texts become templates; unchanged texts keep their existing names.
    pub fn put_intent_json(&mut self, v: &Value) -> Result<String, Rejection> {
        let mut v = v.clone();
        if let Some(obj) = v.as_object_mut() {
            obj.remove("hits"); // read-only statistic that GET adds
        }
        let mut def: IntentDef = serde_json::from_value(v.clone()).map_err(|e| Rejection {
            problems: vec![problem(v["name"].as_str().unwrap_or(""), "intent", format!("malformed intent: {e}"))],
            broken_examples: Vec::new(),
        })?;
        let old = self.intent(&def.name).cloned();
        let intent_name = def.name.clone();
        // An empty text means "none": no reply (a problem on save) or no prompt.
        def.reply.retain(|_, text| !text.trim().is_empty());
        for sd in def.slots.values_mut() {
            sd.prompt.retain(|_, text| !text.trim().is_empty());
            if sd.pattern.as_ref().is_some_and(|p| p.trim().is_empty()) {
                sd.pattern = None;
            }
        }
        for list in def.patterns.values_mut().chain(def.unless.values_mut()).chain(def.examples.values_mut()) {
            list.retain(|p| !p.trim().is_empty());
        }
        let template_name = |base: &str, existing: Option<&String>, text: &str, locale: Locale, this: &RuleBundle| {
            if let Some(name) = existing
                && this.text(locale, name).is_some_and(|t| t == text)
            {
                return name.clone();
            }
            base.to_string()
        };
        let mut new_templates = Vec::new();
        for (locale, text) in def.reply.clone() {
            let existing = old.as_ref().and_then(|o| o.reply.get(&locale));
            // Dots cannot appear in intent or slot names, so these names never collide.
            let name = template_name(&format!("intent.{intent_name}.reply"), existing, &text, locale, self);
            new_templates.push((format!("{locale}/{name}"), text));
            def.reply.insert(locale, name);
        }
        for (slot, sd) in def.slots.iter_mut() {
            for (locale, text) in sd.prompt.clone() {
                let existing = old.as_ref().and_then(|o| o.slots.get(slot)).and_then(|s| s.prompt.get(&locale));
                let name = template_name(&format!("intent.{intent_name}.{slot}.prompt"), existing, &text, locale, self);
                new_templates.push((format!("{locale}/{name}"), text));
                sd.prompt.insert(locale, name);
            }
        }
        for (k, text) in new_templates {
            self.templates.insert(k, text);
        }
        match self.intents.iter_mut().find(|d| d.name == intent_name) {
            Some(slot) => *slot = def,
            None => self.intents.push(def),
        }
        Ok(intent_name)
    }

    pub fn remove_intent(&mut self, name: &str) -> bool {
        let before = self.intents.len();
        self.intents.retain(|d| d.name != name);
        before != self.intents.len()
    }

    /// The bundle as files: `intents/<name>.toml` and `templates/<locale>/<name>.j2`.
    pub fn export(&self) -> BTreeMap<String, String> {
        let mut files = BTreeMap::new();
        for def in &self.intents {
            let toml = toml::to_string_pretty(def).unwrap_or_else(|e| format!("# cannot serialise: {e}\n"));
            files.insert(format!("intents/{}.toml", def.name), toml);
        }
        for (name, text) in &self.templates {
            files.insert(format!("templates/{name}.j2"), text.clone());
        }
        files
    }
}

/// A readable unified-style diff of two bundles, file by file.
pub fn diff(old: &RuleBundle, new: &RuleBundle) -> String {
    let (a, b) = (old.export(), new.export());
    let mut paths: Vec<&String> = a.keys().chain(b.keys()).collect();
    paths.sort();
    paths.dedup();
    let mut out = String::new();
    for path in paths {
        let (x, y) = (a.get(path).map(String::as_str).unwrap_or(""), b.get(path).map(String::as_str).unwrap_or(""));
        if x == y {
            continue;
        }
        out.push_str(&format!("--- a/{path}\n+++ b/{path}\n"));
        for line in line_diff(x, y) {
            out.push_str(&line);
            out.push('\n');
        }
    }
    out
}

/// Lines prefixed with ' ', '-' or '+', from a longest-common-subsequence alignment.
fn line_diff(a: &str, b: &str) -> Vec<String> {
    let (a, b): (Vec<&str>, Vec<&str>) = (a.lines().collect(), b.lines().collect());
    let (n, m) = (a.len(), b.len());
    let mut lcs = vec![vec![0u32; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i][j] = if a[i] == b[j] { lcs[i + 1][j + 1] + 1 } else { lcs[i + 1][j].max(lcs[i][j + 1]) };
        }
    }
    let (mut i, mut j, mut out) = (0, 0, Vec::new());
    while i < n || j < m {
        if i < n && j < m && a[i] == b[j] {
            out.push(format!(" {}", a[i]));
            i += 1;
            j += 1;
        } else if j < m && (i == n || lcs[i][j + 1] >= lcs[i + 1][j]) {
            out.push(format!("+{}", b[j]));
            j += 1;
        } else {
            out.push(format!("-{}", a[i]));
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shipped() -> RuleBundle {
        RuleBundle::from_files(Path::new("intents"), Path::new("templates")).expect("shipped rules load")
    }

    #[test]
    fn shipped_rules_build_and_round_trip_through_the_api_shape() {
        let mut b = shipped();
        b.build().expect("valid");
        let def = b.intent("greeting").unwrap().clone();
        let json = b.intent_json(&def);
        assert!(json["reply"]["en"].as_str().unwrap().len() > 5, "reply carries template text: {json}");
        let before = b.clone();
        b.put_intent_json(&json).unwrap();
        assert_eq!(b, before, "an unchanged intent changes nothing");
    }

    #[test]
    fn a_bad_regex_and_a_stolen_example_are_named() {
        let mut b = shipped();
        let mut g = b.intent_json(&b.intent("greeting").unwrap().clone());
        g["patterns"]["en"].as_array_mut().unwrap().push(json!("(unclosed"));
        b.put_intent_json(&g).unwrap();
        let r = b.build().unwrap_err();
        assert!(r.problems.iter().any(|p| p.intent == "greeting" && p.field.starts_with("patterns.en[")), "{r:?}");

        let mut b = shipped();
        let mut g = b.intent_json(&b.intent("greeting").unwrap().clone());
        g["priority"] = json!(100);
        g["patterns"]["en"].as_array_mut().unwrap().push(json!("order"));
        b.put_intent_json(&g).unwrap();
        let r = b.build().unwrap_err();
        assert!(
            r.broken_examples
                .iter()
                .any(|x| x.intent == "order_status" && x.classified_as.as_deref() == Some("greeting")),
            "{r:?}"
        );
    }

    #[test]
    fn diff_shows_changed_lines() {
        let old = shipped();
        let mut new = old.clone();
        let mut g = new.intent_json(&new.intent("thanks").unwrap().clone());
        g["priority"] = json!(12);
        new.put_intent_json(&g).unwrap();
        let d = diff(&old, &new);
        assert!(d.contains("--- a/intents/thanks.toml"), "{d}");
        assert!(d.contains("+priority = 12"), "{d}");
        assert!(d.lines().any(|l| l.starts_with("-priority = ")), "{d}");
    }
}
