//! Tests of the rule format: compilation, diagnostics, priorities, `unless`, fuzzy words, overlaps.
use super::*;

fn source(toml_text: &str) -> Source {
    Source { file: "t.toml".into(), text: toml_text.into(), def: toml::from_str(toml_text).unwrap() }
}

fn sample() -> RuleSet {
    let order = source(
        r#"
name = "order_status"
priority = 50
action = "order_status"
[patterns]
en = ['''\border\b''']
sw = ['''\boda\b''']
[slots.order_number]
pattern = '''\b(?P<order_number>(?:[a-z]{1,4}-?)?\d{3,}(?:-\d{2,})*)\b'''
required = true
"#,
    );
    let greet = source(
        r#"
name = "greeting"
priority = 10
action = "reply"
[patterns]
en = ['''^(hi|hello)\b''']
sw = ['''^(habari|mambo)\b''']
"#,
    );
    RuleSet::compile(&[greet, order]).unwrap()
}

#[test]
fn priority_breaks_ties_and_slots_are_extracted() {
    let rules = sample();
    let c = rules.classify("Hi, where is my ORDER #SO-2026-0042?");
    assert_eq!(c.intent.as_deref(), Some("order_status"));
    assert_eq!(c.slots.get("order_number").map(String::as_str), Some("so-2026-0042"));
    assert_eq!(c.locale, Some(Locale::En));
    assert_eq!(rules.classify("hello").intent.as_deref(), Some("greeting"));
}

#[test]
fn a_match_pattern_that_names_a_group_fills_that_slot() {
    let stock = source(
        r#"
name = "stock_check"
priority = 20
action = "stock_check"
[patterns]
en = ['''\bdo you have (?P<product>[a-z]+)\b''', '''\bin stock\b''']
"#,
    );
    let rules = RuleSet::compile(&[stock]).unwrap();
    let c = rules.classify("Do you have kikoi in stock?");
    assert_eq!(c.intent.as_deref(), Some("stock_check"));
    assert_eq!(c.slots.get("product").map(String::as_str), Some("kikoi"));
    let c = rules.classify("is the kikoi in stock?");
    assert!(c.slots.is_empty(), "the winning pattern names nothing: {:?}", c.slots);
}

#[test]
fn order_number_shapes_are_recognised() {
    let rules = sample();
    for (text, want) in [
        ("order 1001", "1001"),
        ("order #1001", "1001"),
        ("order S00417", "s00417"),
        ("order 100000342", "100000342"),
        ("oder SO-2026-0042 please", "so-2026-0042"),
    ] {
        let c = rules.classify(text);
        assert_eq!(c.slots.get("order_number").map(String::as_str), Some(want), "{text}");
    }
}

#[test]
fn swahili_is_detected_and_nothing_matches_gibberish() {
    let rules = sample();
    let c = rules.classify("Oda yangu 1001 iko wapi?");
    assert_eq!(c.intent.as_deref(), Some("order_status"));
    assert_eq!(c.locale, Some(Locale::Sw));
    let none = rules.classify("qwerty zxcv");
    assert_eq!(none.intent, None);
}

#[test]
fn bad_patterns_are_reported_with_lines() {
    let bad = source("name = \"x\"\naction = \"reply\"\n[patterns]\nen = ['''(unclosed''']\n");
    let diags = RuleSet::compile(&[bad]).unwrap_err();
    assert_eq!(diags.len(), 1);
    assert_eq!(diags[0].line, Some(4));
    assert!(diags[0].message.contains("does not compile"), "{}", diags[0].message);
}

// Found by fuzzing (fuzz/corpus/intent_rules): 1,500 patterns like \w{60}7, each refused at
// its own size limit after ~10 ms of compiling, took minutes to check.
#[test]
fn thousands_of_huge_patterns_are_refused_quickly_and_as_a_whole() {
    let list: Vec<String> = (0..1_500).map(|i| format!(r"'\w{{60}}{i}'")).collect();
    let text = format!("name = \"x\"\naction = \"reply\"\n[patterns]\nen = [{}]\n", list.join(","));
    let started = std::time::Instant::now();
    let diags = RuleSet::compile(&[source(&text)]).unwrap_err();
    assert!(started.elapsed() < std::time::Duration::from_secs(20), "{:?}", started.elapsed());
    assert_eq!(diags.len(), 1, "{diags:?}");
    assert!(diags[0].message.contains("MiB"), "{}", diags[0].message);
    // Syntax errors are still found pattern by pattern, with their lines.
    let bad = source("name = \"x\"\naction = \"reply\"\n[patterns]\nen = ['\\w{60}', '(x']\n");
    let diags = RuleSet::compile(&[bad]).unwrap_err();
    assert_eq!((diags.len(), diags[0].line), (1, Some(4)), "{diags:?}");
}

#[test]
fn slot_pattern_must_name_its_group() {
    let bad = source("name = \"x\"\naction = \"reply\"\n[patterns]\nen = ['a']\n[slots.sku]\npattern = '''(\\d+)'''\n");
    let diags = RuleSet::compile(&[bad]).unwrap_err();
    assert!(diags[0].message.contains("(?P<sku>"), "{}", diags[0].message);
}

#[test]
fn unless_patterns_rule_an_intent_out_and_fuzzy_patterns_forgive_typos() {
    let order = source(
        r#"
name = "order_status"
priority = 50
action = "order_status"
[patterns]
en = ['''\border\b''']
[unless]
en = ['''\b(?:cancel|edit|change)\b''']
"#,
    );
    let human = source(
        r#"
name = "human_handoff"
priority = 60
action = "handoff"
[patterns]
en = ['''~\b(?:talk|speak) ... (?:someone|somebody|person)\b''']
[examples]
en = ["can I talkk to somone?"]
"#,
    );
    let rules = RuleSet::compile(&[order, human]).unwrap();
    assert_eq!(rules.classify("where is my order").intent.as_deref(), Some("order_status"));
    let c = rules.classify("please cancel order 123");
    assert_eq!(c.intent, None);
    assert_eq!(c.excluded, ["order_status"]);
    let c = rules.classify("can I talkk to somone?");
    assert_eq!(c.intent.as_deref(), Some("human_handoff"));
    assert_eq!(c.corrected.as_deref(), Some("can i talk to someone?"));
    assert_eq!(rules.classify("I want to talk with a real live person").intent.as_deref(), Some("human_handoff"));
    assert_eq!(rules.classify("talk about the weather, person").intent, None, "a gap holds words, not commas");
    assert!(rules.overlaps().is_empty());
}

#[test]
fn overlaps_name_the_other_intent() {
    let a = source(
        "name = \"a\"\npriority = 5\naction = \"reply\"\n[patterns]\nen = ['refund']\n[examples]\nen = ['refund please']\n",
    );
    let b = source("name = \"b\"\npriority = 5\naction = \"reply\"\n[patterns]\nen = ['please']\n");
    let rules = RuleSet::compile(&[a, b]).unwrap();
    let o = rules.overlaps();
    assert_eq!(o.len(), 1, "{o:?}");
    assert_eq!((o[0].intent.as_str(), o[0].other.as_str()), ("a", "b"));
}

#[test]
fn intent_round_trips_through_json() {
    let rules = sample();
    let json = serde_json::to_string(&rules.intents()[1]).unwrap();
    assert!(json.contains(r#""patterns":{"en":["\\border\\b"],"sw":["\\boda\\b"]}"#), "{json}");
    let back: IntentDef = serde_json::from_str(&json).unwrap();
    assert_eq!(&back, &rules.intents()[1]);
}
