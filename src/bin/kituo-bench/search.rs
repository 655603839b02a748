//! `search`: full-text search latency (`Store::search_conversations`, the query behind
//! `GET /api/conversations?q=`) at 10 thousand and 1 million messages, on SQLite and, when given,
//! PostgreSQL. The history is bulk-loaded (`Store::bulk_load`, one multi-row insert per chunk):
//! conversations of ten messages, customers and the bot taking turns, every conversation naming
//! its own order number, a word that is rare (~0.1 % of messages), one that is common (~30 %).

use crate::backoffice::{FIRST, LAST, backends, with_fresh_store};
use crate::util::{Summary, Table, TempDir, fmt_int, fmt_us, secs};
use kituo::search::SearchQuery;
use kituo::store::{BulkConversation, ListFilter, Store};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::time::{Duration, Instant};

#[derive(Debug, Clone, clap::Args)]
pub struct SearchOpts {
    /// Messages in the database, one measurement each.
    #[arg(long, value_delimiter = ',', default_value = "10000,1000000")]
    pub sizes: Vec<usize>,
    /// PostgreSQL server to measure too (a fresh database `kituo_bench_<random>` per size, dropped after).
    #[arg(long)]
    pub postgres: Option<String>,
    /// Searches per kind of query (bounded by --secs as well).
    #[arg(long, default_value_t = 200)]
    pub queries: usize,
    /// Time bound of each kind's measurement.
    #[arg(long, default_value_t = 10)]
    pub secs: u64,
}

#[derive(Debug, Clone)]
pub struct SearchRow {
    pub backend: &'static str,
    pub messages: usize,
    pub kind: &'static str,
    pub hits: usize,
    pub latency: Summary,
}

const MESSAGES_PER_CONVERSATION: usize = 10;
/// Conversations per `bulk_load` call (one transaction).
const BATCH: usize = 2000;
const CUSTOMER: &[&str] = &[
    "Habari, where is my order {order}? It was supposed to arrive on Monday",
    "I want to return the {item}, the box was open",
    "Can I pay the invoice by M-Pesa? Asante",
    "Do you have the {item} in stock in Nairobi?",
    "My order {order} came without the {item}",
    "Thank you, that helps a lot",
    "Is delivery to Kisumu free this month?",
    "The {item} stopped working after two days",
];
const BOT: &[&str] = &[
    "Order {order} is on its way with G4S Courier.",
    "I can help with that. Could you tell me your order number?",
    "We have the {item} in stock: 14 left in Nairobi.",
    "An agent will join shortly.",
    "You can pay by card or M-Pesa from the invoice page.",
];
const ITEMS: &[&str] = &["solar lantern", "kettle", "phone charger", "school bag", "water filter", "radio", "blender"];
/// In about one message in a thousand.
const RARE: &str = "umbrella";
/// In about 30 % of messages.
const COMMON: &str = "order";

fn order_of(conversation: usize) -> String {
    format!("SO-2026-{conversation:07}")
}

fn email_of(conversation: usize) -> String {
    let (first, last) = name_parts(conversation);
    format!("{}.{}{conversation}@example.co.ke", first.to_lowercase(), last.to_lowercase())
}

fn name_parts(conversation: usize) -> (&'static str, &'static str) {
    (FIRST[conversation % FIRST.len()], LAST[(conversation / FIRST.len()) % LAST.len()])
}

/// Conversation `n` of the corpus, the same on every run.
fn conversation(n: usize, rng: &mut StdRng, start: i64) -> BulkConversation {
    let (first, last) = name_parts(n);
    let order = order_of(n);
    let messages = (0..MESSAGES_PER_CONVERSATION)
        .map(|i| {
            let (author, templates) = if i.is_multiple_of(2) { ("customer", CUSTOMER) } else { ("bot", BOT) };
            // The first message always names the conversation's order.
            let template = if i == 0 { CUSTOMER[0] } else { templates[rng.random_range(0..templates.len())] };
            let mut text =
                template.replace("{order}", &order).replace("{item}", ITEMS[rng.random_range(0..ITEMS.len())]);
            if rng.random_range(0..1000) == 0 {
                text.push_str(&format!(" Also, is the {RARE} waterproof?"));
            }
            (author, text)
        })
        .collect();
    let status = match n % 10 {
        0 => "queued",
        1 => "bot",
        _ => "resolved",
    };
    BulkConversation {
        contact_name: format!("{first} {last}"),
        email: email_of(n),
        channel: if n.is_multiple_of(3) { "email" } else { "web" },
        status,
        created_at: start + n as i64 * 60_000,
        messages,
    }
}

async fn seed(store: &Store, messages: usize) -> anyhow::Result<usize> {
    let conversations = (messages / MESSAGES_PER_CONVERSATION).max(1);
    let mut rng = StdRng::seed_from_u64(7);
    let start = kituo::domain::now_ms() - conversations as i64 * 60_000;
    let t = Instant::now();
    let mut done = 0;
    while done < conversations {
        let n = BATCH.min(conversations - done);
        let batch: Vec<BulkConversation> = (done..done + n).map(|i| conversation(i, &mut rng, start)).collect();
        store.bulk_load(&batch).await?;
        done += n;
        if done.is_multiple_of(BATCH * 10) {
            println!(
                "    {} of {} conversations ({})",
                fmt_int(done as f64),
                fmt_int(conversations as f64),
                secs(t.elapsed())
            );
        }
    }
    // SQLite indexes new messages beside the writer; the load's are indexed here, so the
    // first timed search does not pay for them.
    store.index_pending().await?;
    store.analyze().await?;
    println!(
        "  loaded {} messages in {} conversations in {} ({} messages/s, search indexes and analyze included)",
        fmt_int((conversations * MESSAGES_PER_CONVERSATION) as f64),
        fmt_int(conversations as f64),
        secs(t.elapsed()),
        fmt_int((conversations * MESSAGES_PER_CONVERSATION) as f64 / t.elapsed().as_secs_f64().max(1e-9))
    );
    Ok(conversations)
}

/// A kind of search measured: its name, the text of its i-th query, the filter.
type Kind = (&'static str, Box<dyn Fn(usize) -> String>, ListFilter);

fn kinds(conversations: usize) -> Vec<Kind> {
    let any = ListFilter { limit: 50, ..ListFilter::default() };
    let queued = ListFilter {
        statuses: Some(vec![kituo::domain::ConversationStatus::Queued]),
        limit: 50,
        ..ListFilter::default()
    };
    let pick = move |i: usize| (i * 7919) % conversations;
    vec![
        ("an order number", Box::new(move |i| order_of(pick(i))), any.clone()),
        ("an email address", Box::new(move |i| email_of(pick(i))), any.clone()),
        ("a rare word (~0.1 %)", Box::new(|_| RARE.to_string()), any.clone()),
        ("a common word (~30 %)", Box::new(|_| COMMON.to_string()), any.clone()),
        ("a common word + status=queued", Box::new(|_| COMMON.to_string()), queued),
        ("a first name (10 % of contacts)", Box::new(|i| FIRST[i % FIRST.len()].to_string()), any.clone()),
        ("a word found nowhere", Box::new(|_| "kilimanjaro".to_string()), any),
    ]
}

async fn measure(
    store: &Store,
    backend: &'static str,
    messages: usize,
    conversations: usize,
    opts: &SearchOpts,
) -> anyhow::Result<Vec<SearchRow>> {
    let mut rows = Vec::new();
    for (kind, text, filter) in kinds(conversations) {
        // Warm-up: statements prepared, pages in memory.
        for i in 0..5 {
            store.search_conversations(&SearchQuery::parse(&text(i))?, &filter).await?;
        }
        let budget = Duration::from_secs(opts.secs);
        let started = Instant::now();
        let mut samples = Vec::new();
        let mut hits = 0;
        for i in 0..opts.queries {
            let q = SearchQuery::parse(&text(i))?;
            let s = Instant::now();
            let found = store.search_conversations(&q, &filter).await?;
            samples.push(s.elapsed().as_nanos() as u64);
            hits = hits.max(found.len());
            if started.elapsed() > budget {
                break;
            }
        }
        if kind == "an order number" || kind == "an email address" {
            anyhow::ensure!(hits == 1, "{kind}: expected exactly one conversation, found {hits}");
        }
        rows.push(SearchRow { backend, messages, kind, hits, latency: Summary::of(&mut samples) });
    }
    Ok(rows)
}

pub async fn run(opts: &SearchOpts) -> anyhow::Result<Vec<SearchRow>> {
    println!("\n## search: latency of GET /api/conversations?q= (store query), by database size");
    let dir = TempDir::new("search")?;
    let mut all = Vec::new();
    for backend in backends(opts.postgres.as_deref()) {
        for &size in &opts.sizes {
            println!("  {backend}, {} messages", fmt_int(size as f64));
            let rows = with_fresh_store(backend, opts.postgres.as_deref(), &dir, async |store: &Store| {
                let conversations = seed(store, size).await?;
                measure(store, backend, size, conversations, opts).await
            })
            .await?;
            all.extend(rows);
        }
    }
    let mut t = Table::new(&["backend", "messages", "query", "results", "mean", "p50", "p95", "p99"]);
    for r in &all {
        t.row(vec![
            r.backend.to_string(),
            fmt_int(r.messages as f64),
            r.kind.to_string(),
            r.hits.to_string(),
            fmt_us(r.latency.mean_us),
            fmt_us(r.latency.p50_us),
            fmt_us(r.latency.p95_us),
            fmt_us(r.latency.p99_us),
        ]);
    }
    t.print("Search latency (50 results at most, ranked, filters applied in the query)");
    Ok(all)
}
