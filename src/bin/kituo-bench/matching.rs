//! `match`: microseconds per classification with the six shipped intents plus 10, 100 and 500
//! synthetic ones (2–3 patterns each, in the shipped style: word alternations, `.*` gaps,
//! anchors), over a fixed corpus of customer messages.

use crate::util::{Summary, Table, fmt_us};
use anyhow::Context;
use kituo::bot::rules::{self, IntentDef, RuleSet, Source};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::path::PathBuf;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, clap::Args)]
pub struct MatchOpts {
    /// Synthetic intents added to the shipped ones, one measurement each.
    #[arg(long, value_delimiter = ',', default_value = "0,10,100,500")]
    pub extra: Vec<usize>,
    /// Time spent measuring each rule-set size.
    #[arg(long, default_value_t = 3)]
    pub secs: u64,
    /// Folder of the shipped intent files.
    #[arg(long)]
    pub intents: Option<PathBuf>,
}

/// The corpus: what customers write, including misses, typos and long messages.
const CORPUS: &[&str] = &[
    "Where is my order 1001?",
    "wheres my order SO-2026-0042",
    "Hi, I still haven't recieved my parcel",
    "can you give me the traking number for ORD-88213",
    "my order S00417 hasn't arrived and it has been two weeks, what is going on? I paid already",
    "Oda yangu 1001 iko wapi?",
    "nimeagiza wiki iliyopita lakini bado haijafika",
    "hali ya oda 100000342 ikoje?",
    "has invoice INV-2026-0017 been paid?",
    "ankara namba INV-2026-0017 imelipwa?",
    "how much do I owe?",
    "Do you have the kikoi in stock?",
    "is KT-MUG-01 available?",
    "Mna kikoi?",
    "bei ya kikombe cha bluu ni kiasi gani?",
    "hello",
    "habari za asubuhi",
    "thanks a lot!",
    "asante sana",
    "I want to talk to a human",
    "nataka kuongea na mtu",
    "can I change the delivery address for my order to Arusha instead of Moshi?",
    "what are your opening hours",
    "do you ship to Kigali?",
    "my mug arrived broken, I want a refund",
    "lol",
    "Nimepokea kanga lakini rangi si ile niliyoagiza, naomba kubadilisha",
    "Good evening, I bought a solar lantern last month and the USB port stopped working. Can I return it?",
    "12/03/2026",
    "amina.mwakilema@example.co.tz",
];

/// Words the synthetic patterns are built from: shop vocabulary in English and Swahili, so
/// synthetic rules overlap with real messages the way a large rule set does.
const VOCAB: &[&str] = &[
    "refund",
    "return",
    "exchange",
    "broken",
    "damaged",
    "warranty",
    "repair",
    "address",
    "change",
    "cancel",
    "discount",
    "coupon",
    "voucher",
    "promo",
    "sale",
    "gift",
    "wrap",
    "card",
    "size",
    "colour",
    "color",
    "black",
    "blue",
    "red",
    "green",
    "small",
    "medium",
    "large",
    "fabric",
    "cotton",
    "leather",
    "wood",
    "coffee",
    "tea",
    "mug",
    "basket",
    "lantern",
    "solar",
    "charger",
    "speaker",
    "battery",
    "blanket",
    "necklace",
    "mask",
    "opening",
    "hours",
    "shop",
    "store",
    "branch",
    "nairobi",
    "arusha",
    "moshi",
    "kigali",
    "kampala",
    "dar",
    "mombasa",
    "ship",
    "abroad",
    "international",
    "customs",
    "duty",
    "vat",
    "tax",
    "mpesa",
    "m-pesa",
    "airtel",
    "tigo",
    "bank",
    "transfer",
    "card",
    "visa",
    "cash",
    "delivery",
    "pickup",
    "collect",
    "courier",
    "dhl",
    "posta",
    "weekend",
    "sunday",
    "holiday",
    "wholesale",
    "bulk",
    "supplier",
    "partner",
    "job",
    "career",
    "complaint",
    "manager",
    "feedback",
    "review",
    "account",
    "password",
    "login",
    "register",
    "newsletter",
    "unsubscribe",
    "rudisha",
    "badilisha",
    "imevunjika",
    "pesa",
    "marejesho",
    "punguzo",
    "zawadi",
    "rangi",
    "saizi",
    "kubwa",
    "ndogo",
    "nyeusi",
    "bluu",
    "nyekundu",
    "kahawa",
    "chai",
    "kikapu",
    "taa",
    "chaja",
    "spika",
    "blanketi",
    "duka",
    "tawi",
    "saa",
    "kufungua",
    "kufunga",
    "jumapili",
    "sikukuu",
    "jumla",
    "mfanyakazi",
    "kazi",
    "malalamiko",
    "meneja",
    "akaunti",
    "nenosiri",
    "usajili",
    "lipa",
    "benki",
    "kadi",
    "taslimu",
    "kuchukua",
];

fn word(rng: &mut StdRng) -> &'static str {
    VOCAB[rng.random_range(0..VOCAB.len())]
}

fn alternation(rng: &mut StdRng, n: usize) -> String {
    let words: Vec<&str> = (0..n).map(|_| word(rng)).collect();
    format!("(?:{})", words.join("|"))
}

/// `count` synthetic intents as TOML rule files (parsed like the shipped ones).
pub fn synthetic(count: usize) -> anyhow::Result<Vec<Source>> {
    let mut rng = StdRng::seed_from_u64(0x5eed_0500);
    let mut out = Vec::with_capacity(count);
    for i in 0..count {
        let mut patterns = vec![
            format!(r"\b{}\b.*\b{}\b", alternation(&mut rng, 3), alternation(&mut rng, 2)),
            format!(r"\b{} {}\b", word(&mut rng), word(&mut rng)),
        ];
        if rng.random_bool(0.5) {
            patterns.push(format!(r"^(?:je,? )?{}\b", alternation(&mut rng, 2)));
        }
        let locale = if rng.random_bool(0.5) { "en" } else { "sw" };
        let list: Vec<String> = patterns.iter().map(|p| format!("  '''{p}''',")).collect();
        let text = format!(
            "name = \"synthetic_{i:04}\"\npriority = {}\naction = \"reply\"\n\n[patterns]\n{locale} = [\n{}\n]\n\n\
             [reply]\nen = \"thanks\"\nsw = \"thanks\"\n",
            rng.random_range(1..10),
            list.join("\n")
        );
        let def: IntentDef = toml::from_str(&text).with_context(|| format!("synthetic intent {i}:\n{text}"))?;
        out.push(Source { file: format!("synthetic/{i:04}.toml"), text, def });
    }
    Ok(out)
}

pub struct MatchRow {
    pub intents: usize,
    pub patterns: usize,
    pub compile: Duration,
    pub latency: Summary,
    pub agree: (usize, usize),
    /// `RegexSet::matches` alone on normalised text: as Kituo builds it, and with a larger
    /// lazy-DFA cache (diagnosis: does the set outgrow the default cache?).
    pub set_default: Summary,
    pub set_big_cache: Summary,
}

/// Times `RegexSet::matches` over the normalised corpus.
fn time_set(set: &regex::RegexSet, corpus: &[String], budget: Duration) -> Summary {
    for t in corpus {
        std::hint::black_box(set.matches(t));
    }
    let mut samples = Vec::new();
    let started = Instant::now();
    while started.elapsed() < budget && samples.len() < 5_000_000 {
        for t in corpus {
            let s = Instant::now();
            std::hint::black_box(set.matches(t));
            samples.push(s.elapsed().as_nanos() as u64);
        }
    }
    Summary::of(&mut samples)
}

pub fn run(opts: &MatchOpts) -> anyhow::Result<Vec<MatchRow>> {
    println!("\n## match: intent classification time by rule-set size");
    let dir = opts.intents.clone().unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("intents"));
    let shipped = rules::read_dir(&dir).map_err(|d| anyhow::anyhow!("cannot read {}: {d:?}", dir.display()))?;
    let base = RuleSet::compile(&shipped).map_err(|d| anyhow::anyhow!("shipped rules do not compile: {d:?}"))?;
    let base_intents: Vec<Option<String>> = CORPUS.iter().map(|t| base.classify(t).intent).collect();
    let mut rows = Vec::new();
    for &extra in &opts.extra {
        let mut sources = shipped.clone();
        sources.extend(synthetic(extra)?);
        let patterns: usize = sources.iter().map(|s| s.def.patterns.values().map(Vec::len).sum::<usize>()).sum();
        let t0 = Instant::now();
        let set = RuleSet::compile(&sources).map_err(|d| anyhow::anyhow!("synthetic rules do not compile: {d:?}"))?;
        let compile = t0.elapsed();
        // Warm up (lazy DFA states are built on first use), then measure.
        for t in CORPUS {
            std::hint::black_box(set.classify(t));
        }
        let budget = Duration::from_secs(opts.secs);
        let mut samples = Vec::new();
        let started = Instant::now();
        while started.elapsed() < budget && samples.len() < 5_000_000 {
            for t in CORPUS {
                let s = Instant::now();
                std::hint::black_box(set.classify(t));
                samples.push(s.elapsed().as_nanos() as u64);
            }
        }
        let shipped_matches = base_intents.iter().filter(|i| i.is_some()).count();
        let agree =
            CORPUS.iter().zip(&base_intents).filter(|(t, b)| b.is_some() && set.classify(t).intent == **b).count();
        let all: Vec<&str> =
            sources.iter().flat_map(|s| s.def.patterns.values().flatten().map(String::as_str)).collect();
        let normalised: Vec<String> = CORPUS.iter().map(|t| kituo::bot::normalize::normalize(t)).collect();
        let set_default = regex::RegexSetBuilder::new(&all).size_limit(64 << 20).build()?;
        let set_big = regex::RegexSetBuilder::new(&all).size_limit(64 << 20).dfa_size_limit(64 << 20).build()?;
        let part = budget / 2;
        rows.push(MatchRow {
            intents: sources.len(),
            patterns,
            compile,
            latency: Summary::of(&mut samples),
            agree: (agree, shipped_matches),
            set_default: time_set(&set_default, &normalised, part),
            set_big_cache: time_set(&set_big, &normalised, part),
        });
    }
    let mut t = Table::new(&[
        "intents",
        "patterns",
        "compile",
        "mean/msg",
        "p50",
        "p99",
        "same intent as shipped-only",
        "RegexSet only, mean (p99)",
        "… with 64 MiB DFA cache",
    ]);
    for r in &rows {
        t.row(vec![
            format!("{} ({} shipped + {})", r.intents, shipped.len(), r.intents - shipped.len()),
            r.patterns.to_string(),
            format!("{:.1} ms", r.compile.as_secs_f64() * 1000.0),
            fmt_us(r.latency.mean_us),
            fmt_us(r.latency.p50_us),
            fmt_us(r.latency.p99_us),
            format!("{}/{}", r.agree.0, r.agree.1),
            format!("{} ({})", fmt_us(r.set_default.mean_us), fmt_us(r.set_default.p99_us)),
            format!("{} ({})", fmt_us(r.set_big_cache.mean_us), fmt_us(r.set_big_cache.p99_us)),
        ]);
    }
    t.print(&format!("Intent matching over {} messages (normalise + RegexSet + slots)", CORPUS.len()));
    Ok(rows)
}
