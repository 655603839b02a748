//! Intent rules: the serialisable shape (TOML files in `intents/`, later JSON in the admin API),
//! loading with file- and line-level diagnostics, compilation into one `RegexSet`, and
//! classification of a message into intent, locale and slots.

use super::normalize::{detect_locale, normalize};
use super::pattern::{Expanded, Vocabulary, expand};
use crate::domain::Locale;
use regex::{Regex, RegexBuilder, RegexSet, RegexSetBuilder};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

/// Upper bound for one compiled pattern and for the whole set (bytes of compiled program).
const PATTERN_SIZE_LIMIT: usize = 1 << 20;
const SET_SIZE_LIMIT: usize = 64 << 20;
/// Upper bound of the rule set's lazy-DFA cache (see `RuleSet::compile`).
const SET_DFA_CACHE_LIMIT: usize = 64 << 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Reply,
    OrderStatus,
    InvoiceStatus,
    StockCheck,
    Handoff,
    /// Cancel the order in `order_number` after an explicit yes (see [`super::actions`]).
    CancelOrder,
    /// Open a return request for the shipped order in `order_number` after an explicit yes, or
    /// read its request's state ("where is my refund").
    ReturnRefund,
    /// Email a copy of the invoice in `invoice_number` to the address on it (no question asked).
    InvoiceCopy,
}

/// One intent exactly as written in its TOML file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IntentDef {
    pub name: String,
    #[serde(default)]
    pub priority: i32,
    pub action: Action,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team: Option<String>,
    /// Every pattern (and `unless` pattern) of the intent is fuzzy, as if written `~…`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub fuzzy: bool,
    /// The conversation's priority when this intent hands it to a person (0: normal).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub handoff_priority: i64,
    /// A label added to the conversation when this intent matches (created if it does not
    /// exist yet), e.g. `complaint`: agents filter and report by it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    #[serde(default)]
    pub patterns: BTreeMap<Locale, Vec<String>>,
    /// A message matching one of these is not this intent, whatever its patterns say.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub unless: BTreeMap<Locale, Vec<String>>,
    #[serde(default)]
    pub examples: BTreeMap<Locale, Vec<String>>,
    #[serde(default)]
    pub slots: BTreeMap<String, SlotDef>,
    /// Template name per locale, rendered when the intent's action succeeds.
    #[serde(default)]
    pub reply: BTreeMap<Locale, String>,
}

fn is_zero(n: &i64) -> bool {
    *n == 0
}

/// Which list of an intent a pattern comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatternKind {
    Match,
    Unless,
}

impl PatternKind {
    /// The field name (`patterns`, `unless`).
    pub fn field(self) -> &'static str {
        match self {
            PatternKind::Match => "patterns",
            PatternKind::Unless => "unless",
        }
    }
}

/// One intent pattern as written and as compiled: its list, locale, index in the list.
#[derive(Debug, Clone)]
pub struct PatternEntry<'a> {
    pub kind: PatternKind,
    pub locale: Locale,
    pub index: usize,
    pub raw: &'a str,
    pub expanded: Expanded,
}

impl PatternEntry<'_> {
    /// Where the pattern sits (`patterns.en[1]`, `unless.sw[0]`).
    pub fn field(&self) -> String {
        format!("{}.{}[{}]", self.kind.field(), self.locale, self.index)
    }
}

impl IntentDef {
    /// Every match and `unless` pattern with its expansion.
    pub fn pattern_entries(&self) -> impl Iterator<Item = PatternEntry<'_>> {
        let lists = [(PatternKind::Match, &self.patterns), (PatternKind::Unless, &self.unless)];
        lists.into_iter().flat_map(move |(kind, map)| {
            map.iter().flat_map(move |(locale, list)| {
                list.iter().enumerate().map(move |(index, raw)| PatternEntry {
                    kind,
                    locale: *locale,
                    index,
                    raw,
                    expanded: expand(raw, self.fuzzy),
                })
            })
        })
    }

    /// The regexes to compile: every expanded intent pattern, then the slot patterns.
    pub fn all_regexes(&self) -> Vec<String> {
        let slots = self.slots.values().filter_map(|s| s.pattern.clone());
        self.pattern_entries().map(|e| e.expanded.regex).chain(slots).collect()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlotDef {
    /// Must contain a named group with the slot's name.
    #[serde(default)]
    pub pattern: Option<String>,
    #[serde(default)]
    pub required: bool,
    /// Template name per locale asking for the slot when it is missing.
    #[serde(default)]
    pub prompt: BTreeMap<Locale, String>,
}

/// A problem in a rule file, with where it is.
#[derive(Debug, Clone, PartialEq)]
pub struct Diagnostic {
    pub file: String,
    pub line: Option<usize>,
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(l) => write!(f, "{}:{}: {}", self.file, l, self.message),
            None => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

/// A rule file as read from disk: its definition and its text (for line numbers).
#[derive(Debug, Clone)]
pub struct Source {
    pub file: String,
    pub text: String,
    pub def: IntentDef,
}

impl Source {
    /// 1-based line of the first occurrence of `needle` in the file, if any.
    pub fn line_of(&self, needle: &str) -> Option<usize> {
        let pos = self.text.find(needle)?;
        Some(self.text[..pos].matches('\n').count() + 1)
    }

    pub fn diag(&self, needle: &str, message: impl Into<String>) -> Diagnostic {
        Diagnostic { file: self.file.clone(), line: self.line_of(needle), message: message.into() }
    }
}

/// Reads every `*.toml` in `dir` (sorted by name). Parse errors become diagnostics.
pub fn read_dir(dir: &Path) -> Result<Vec<Source>, Vec<Diagnostic>> {
    let entries = std::fs::read_dir(dir).map_err(|e| {
        vec![Diagnostic {
            file: dir.display().to_string(),
            line: None,
            message: format!("cannot read rule folder: {e}"),
        }]
    })?;
    let mut paths: Vec<_> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    paths.sort();
    let mut sources = Vec::new();
    let mut diags = Vec::new();
    for path in paths {
        let file = path.display().to_string();
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) => {
                diags.push(Diagnostic { file, line: None, message: format!("cannot read: {e}") });
                continue;
            }
        };
        match toml::from_str::<IntentDef>(&text) {
            Ok(def) => sources.push(Source { file, text, def }),
            Err(e) => {
                let line = e.span().map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1);
                diags.push(Diagnostic { file, line, message: e.message().to_string() });
            }
        }
    }
    if diags.is_empty() { Ok(sources) } else { Err(diags) }
}

/// Which intent/locale/pattern an entry of a `RegexSet` belongs to.
#[derive(Debug, Clone)]
struct PatternRef {
    intent: usize,
    locale: Locale,
    kind: PatternKind,
    /// The pattern as written (with its `~`, `...`), shown by try-a-message.
    raw: String,
    regex: Regex,
}

/// The compiled rule set, built once and shared.
#[derive(Debug)]
pub struct RuleSet {
    intents: Vec<IntentDef>,
    /// Plain patterns, matched against the normalised text.
    plain: RegexSet,
    /// Fuzzy patterns, matched against the text with misspellings corrected.
    fuzzy: RegexSet,
    /// `patterns[plain_refs[i]]` is entry `i` of `plain`; likewise for `fuzzy`.
    plain_refs: Vec<usize>,
    fuzzy_refs: Vec<usize>,
    patterns: Vec<PatternRef>,
    vocabulary: Vocabulary,
    /// Per intent: compiled slot patterns (slot name, regex).
    slot_regexes: Vec<Vec<(String, Regex)>>,
}

/// What a message means to the rules.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Classification {
    pub intent: Option<String>,
    /// Detected from the words, else from the matching patterns; `None` when undecided.
    pub locale: Option<Locale>,
    pub slots: BTreeMap<String, String>,
    /// The pattern that decided the intent.
    pub pattern: Option<String>,
    /// Intents whose patterns matched but an `unless` pattern ruled out.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub excluded: Vec<String>,
    /// The text fuzzy patterns saw, when correcting misspellings changed it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub corrected: Option<String>,
}

/// An example of one intent that another intent also claims, at an equal or higher priority.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Overlap {
    pub intent: String,
    pub locale: Locale,
    pub example: String,
    pub other: String,
}

/// The intents a message matches, before priorities decide.
struct Candidates {
    /// (pattern index, matched against the corrected text)
    hits: Vec<(usize, bool)>,
    excluded: Vec<usize>,
    corrected: Option<String>,
}

impl Candidates {
    fn intents<'a>(&'a self, patterns: &'a [PatternRef]) -> impl Iterator<Item = usize> + 'a {
        self.hits
            .iter()
            .map(|(i, _)| &patterns[*i])
            .filter(|p| p.kind == PatternKind::Match && !self.excluded.contains(&p.intent))
            .map(|p| p.intent)
    }
}

pub fn compile_one(pattern: &str) -> Result<Regex, regex::Error> {
    RegexBuilder::new(pattern).size_limit(PATTERN_SIZE_LIMIT).build()
}

/// Only the syntax of a pattern: it is parsed, then compilation stops at once (size limit 0),
/// so this costs microseconds however large the compiled pattern would be.
pub fn check_syntax(pattern: &str) -> Result<(), regex::Error> {
    match RegexBuilder::new(pattern).size_limit(0).build() {
        Err(e @ regex::Error::Syntax(_)) => Err(e),
        _ => Ok(()),
    }
}

/// Whether every pattern of a rule set (intent and slot patterns, already syntax-checked)
/// compiles within [`SET_SIZE_LIMIT`] in total. Compiling costs time in proportion to the
/// compiled size, even for a pattern refused at its own limit (~10 ms per MiB), so thousands
/// of patterns each just under (or over) [`PATTERN_SIZE_LIMIT`] took minutes to check one by
/// one. Built as one set, compilation stops as soon as the total is exceeded: about a second.
pub fn check_total_size<'a>(patterns: impl IntoIterator<Item = &'a str>) -> Result<(), String> {
    match RegexSetBuilder::new(patterns).size_limit(SET_SIZE_LIMIT).build() {
        Ok(_) => Ok(()),
        Err(regex::Error::CompiledTooBig(limit)) => Err(format!(
            "the rule set's patterns together compile to more than {} MiB; remove or simplify patterns \
             (large repetitions such as \\w{{100}} and big Unicode classes cost the most)",
            limit >> 20
        )),
        Err(e) => Err(format!("pattern does not compile: {e}")),
    }
}

/// A `RegexSet` over some of the compiled patterns (see `RuleSet::compile` for the limits).
fn build_set(patterns: &[PatternRef], refs: &[usize]) -> Result<RegexSet, Vec<Diagnostic>> {
    // The lazy DFA's cache must hold the whole set's states, or matching falls back to a slower
    // engine once the set grows past a few hundred patterns (measured: 0.3 µs per message at
    // 318 patterns, 476 µs at 1,322 with the default cache, 0.34 µs with this one). The cache
    // grows only as states are visited, so small rule sets do not pay for the limit.
    RegexSetBuilder::new(refs.iter().map(|i| patterns[*i].regex.as_str()))
        .size_limit(SET_SIZE_LIMIT)
        .dfa_size_limit(SET_DFA_CACHE_LIMIT)
        .build()
        .map_err(|e| {
            vec![Diagnostic { file: "<rule set>".into(), line: None, message: format!("rule set too large: {e}") }]
        })
}

impl RuleSet {
    /// Compiles intent definitions; every problem is reported, each with its file and line.
    pub fn compile(sources: &[Source]) -> Result<RuleSet, Vec<Diagnostic>> {
        let mut diags = Vec::new();
        let mut patterns = Vec::new();
        let mut slot_regexes = Vec::new();
        let mut seen = std::collections::HashSet::new();
        // Syntax first, then the total size, and only then each pattern on its own (see
        // `check_total_size` for why); the other checks run in any case.
        for src in sources {
            for e in src.def.pattern_entries() {
                if let Err(err) = check_syntax(&e.expanded.regex) {
                    diags.push(src.diag(e.raw, format!("pattern does not compile: {err}")));
                }
            }
            for p in src.def.slots.values().filter_map(|s| s.pattern.as_ref()) {
                if let Err(e) = check_syntax(p) {
                    diags.push(src.diag(p, format!("slot pattern does not compile: {e}")));
                }
            }
        }
        if diags.is_empty() {
            let all: Vec<String> = sources.iter().flat_map(|s| s.def.all_regexes()).collect();
            if let Err(message) = check_total_size(all.iter().map(String::as_str)) {
                diags.push(Diagnostic { file: "<rule set>".into(), line: None, message });
            }
        }
        let compile = diags.is_empty();
        for (i, src) in sources.iter().enumerate() {
            let def = &src.def;
            if !seen.insert(def.name.clone()) {
                diags.push(src.diag("name", format!("duplicate intent name {:?}", def.name)));
            }
            if def.name.is_empty()
                || !def.name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            {
                diags.push(
                    src.diag("name", format!("intent name {:?} must be lowercase letters, digits and _", def.name)),
                );
            }
            if let Some(label) = &def.label
                && (label.is_empty()
                    || label.chars().count() > 40
                    || !label.chars().all(|c| c.is_lowercase() || c.is_ascii_digit() || c == '-' || c == '_'))
            {
                diags
                    .push(src.diag("label", format!("label {label:?} must be 1–40 lowercase letters, digits, - or _")));
            }
            if def.patterns.values().all(Vec::is_empty) {
                diags.push(src.diag("[patterns]", "intent has no patterns"));
            }
            for e in def.pattern_entries().filter(|_| compile) {
                match compile_one(&e.expanded.regex) {
                    Ok(regex) => patterns.push((
                        e.expanded.fuzzy,
                        PatternRef { intent: i, locale: e.locale, kind: e.kind, raw: e.raw.to_string(), regex },
                    )),
                    Err(err) => diags.push(src.diag(e.raw, format!("pattern does not compile: {err}"))),
                }
            }
            let mut slots = Vec::new();
            for (name, slot) in def.slots.iter().filter(|_| compile) {
                if let Some(p) = &slot.pattern {
                    match compile_one(p) {
                        Ok(re) if re.capture_names().flatten().any(|n| n == name) => slots.push((name.clone(), re)),
                        Ok(_) => diags.push(src.diag(p, format!("slot pattern has no named group (?P<{name}>…)"))),
                        Err(e) => diags.push(src.diag(p, format!("slot pattern does not compile: {e}"))),
                    }
                }
            }
            slot_regexes.push(slots);
        }
        if !diags.is_empty() {
            return Err(diags);
        }
        let (fuzzy_refs, plain_refs): (Vec<usize>, Vec<usize>) = (0..patterns.len()).partition(|i| patterns[*i].0);
        let vocabulary = Vocabulary::new(
            fuzzy_refs.iter().map(|i| patterns[*i].1.regex.as_str()),
            plain_refs.iter().map(|i| patterns[*i].1.regex.as_str()),
            std::iter::empty(),
        );
        let patterns: Vec<PatternRef> = patterns.into_iter().map(|(_, p)| p).collect();
        Ok(RuleSet {
            intents: sources.iter().map(|s| s.def.clone()).collect(),
            plain: build_set(&patterns, &plain_refs)?,
            fuzzy: build_set(&patterns, &fuzzy_refs)?,
            plain_refs,
            fuzzy_refs,
            patterns,
            vocabulary,
            slot_regexes,
        })
    }
    pub fn intents(&self) -> &[IntentDef] {
        &self.intents
    }

    pub fn intent(&self, name: &str) -> Option<&IntentDef> {
        self.intents.iter().find(|i| i.name == name)
    }

    /// Classifies raw customer text.
    pub fn classify(&self, text: &str) -> Classification {
        let norm = normalize(text);
        self.classify_normalized(&norm)
    }

    fn candidates(&self, norm: &str) -> Candidates {
        let corrected = if self.fuzzy.is_empty() { None } else { self.vocabulary.correct(norm) };
        let fuzzy_text = corrected.as_deref().unwrap_or(norm);
        let mut hits: Vec<(usize, bool)> =
            self.plain.matches(norm).iter().map(|m| (self.plain_refs[m], false)).collect();
        if !self.fuzzy.is_empty() {
            hits.extend(self.fuzzy.matches(fuzzy_text).iter().map(|m| (self.fuzzy_refs[m], true)));
        }
        let mut excluded: Vec<usize> = hits
            .iter()
            .map(|(i, _)| &self.patterns[*i])
            .filter(|p| p.kind == PatternKind::Unless)
            .map(|p| p.intent)
            .collect();
        excluded.sort_unstable();
        excluded.dedup();
        Candidates { hits, excluded, corrected }
    }

    /// Highest priority wins; on a tie, the intent listed first (file order).
    fn best(&self, intents: impl Iterator<Item = usize>) -> Option<usize> {
        intents.max_by(|a, b| self.intents[*a].priority.cmp(&self.intents[*b].priority).then(b.cmp(a)))
    }

    pub fn classify_normalized(&self, norm: &str) -> Classification {
        let detected = detect_locale(norm);
        let c = self.candidates(norm);
        // Shown to admins: intents that matched but an `unless` pattern ruled out.
        let matched = |i: &usize| {
            c.hits.iter().any(|(p, _)| self.patterns[*p].intent == *i && self.patterns[*p].kind == PatternKind::Match)
        };
        let excluded: Vec<String> =
            c.excluded.iter().filter(|i| matched(i)).map(|i| self.intents[*i].name.clone()).collect();
        let Some(best) = self.best(c.intents(&self.patterns)) else {
            return Classification {
                intent: None,
                locale: detected,
                slots: BTreeMap::new(),
                pattern: None,
                excluded,
                corrected: c.corrected,
            };
        };
        let winning: Vec<(&PatternRef, bool)> = c
            .hits
            .iter()
            .map(|(i, fuzzy)| (&self.patterns[*i], *fuzzy))
            .filter(|(p, _)| p.intent == best && p.kind == PatternKind::Match)
            .collect();
        let first_locale = winning[0].0.locale;
        let pattern_locale =
            if winning.iter().all(|(p, _)| p.locale == first_locale) { Some(first_locale) } else { None };
        let mut slots = BTreeMap::new();
        for (p, fuzzy) in &winning {
            // Most patterns name no slot: a search for their groups would find nothing to keep.
            if p.regex.capture_names().flatten().next().is_none() {
                continue;
            }
            let text = if *fuzzy { c.corrected.as_deref().unwrap_or(norm) } else { norm };
            if let Some(caps) = p.regex.captures(text) {
                for name in p.regex.capture_names().flatten() {
                    if let Some(m) = caps.name(name) {
                        slots.entry(name.to_string()).or_insert_with(|| m.as_str().trim().to_string());
                    }
                }
            }
        }
        for (name, value) in self.extract_slots(best, norm) {
            slots.entry(name).or_insert(value);
        }
        Classification {
            intent: Some(self.intents[best].name.clone()),
            locale: detected.or(pattern_locale),
            slots,
            pattern: Some(winning[0].0.raw.clone()),
            excluded,
            corrected: c.corrected,
        }
    }

    /// Slot values found by the intent's slot patterns in normalised text.
    pub fn extract_slots(&self, intent: usize, norm: &str) -> Vec<(String, String)> {
        self.slot_regexes[intent]
            .iter()
            .filter_map(|(name, re)| {
                let caps = re.captures(norm)?;
                Some((name.clone(), caps.name(name)?.as_str().trim().to_string()))
            })
            .collect()
    }

    /// One slot of one intent, from normalised text.
    pub fn extract_slot(&self, intent: &str, slot: &str, norm: &str) -> Option<String> {
        let i = self.intents.iter().position(|d| d.name == intent)?;
        self.extract_slots(i, norm).into_iter().find(|(n, _)| n == slot).map(|(_, v)| v)
    }

    /// Every example that does not classify to its own intent: (intent, locale, example, got).
    pub fn broken_examples(&self) -> Vec<(String, Locale, String, Option<String>)> {
        let mut out = Vec::new();
        for def in &self.intents {
            for (locale, list) in &def.examples {
                for ex in list {
                    let got = self.classify(ex).intent;
                    if got.as_deref() != Some(def.name.as_str()) {
                        out.push((def.name.clone(), *locale, ex.clone(), got));
                    }
                }
            }
        }
        out
    }

    /// Every example that another intent also matches with an equal or higher priority (an
    /// `unless` pattern of the other intent settles it). Such an example is won by file order or
    /// by the other intent: a sign that two intents' patterns cover the same words.
    pub fn overlaps(&self) -> Vec<Overlap> {
        let mut out = Vec::new();
        for (i, def) in self.intents.iter().enumerate() {
            for (locale, list) in &def.examples {
                for ex in list {
                    let c = self.candidates(&normalize(ex));
                    let mut others: Vec<usize> = c
                        .intents(&self.patterns)
                        .filter(|o| *o != i && self.intents[*o].priority >= def.priority)
                        .collect();
                    others.sort_unstable();
                    others.dedup();
                    out.extend(others.into_iter().map(|o| Overlap {
                        intent: def.name.clone(),
                        locale: *locale,
                        example: ex.clone(),
                        other: self.intents[o].name.clone(),
                    }));
                }
            }
        }
        out
    }
}

#[cfg(test)]
#[path = "rules_tests.rs"]
mod tests;
