//! Where a Kituo round trip's time goes: the chat scenario's in-process breakdown (matcher alone,
//! bot with the back office in memory and in the store, one lookup, the hub's read, the hub end
//! to end one at a time and under the same load as the sockets).

use crate::chat::ChatOpts;
use crate::chat::{LoadResult, SessionOutcome};
use crate::corpus::{self, Customer};
use crate::util::{Summary, Table, fmt_int, fmt_us};
use kituo::hub::Hub;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub struct Phases {
    classify: Summary,
    respond_memory: Summary,
    respond_store: Summary,
    lookup: Summary,
    hub_reads: Summary,
    hub_serial: Summary,
    hub_load: LoadResult,
}

/// Runs `f` over `items` repeatedly (at most 200 rounds, about 2 s) and summarises each call.
async fn time_each<T, R>(items: &[T], mut f: impl AsyncFnMut(&T) -> anyhow::Result<R>) -> anyhow::Result<Summary> {
    let budget = Duration::from_secs(2);
    let mut samples = Vec::new();
    let started = Instant::now();
    for _ in 0..200 {
        for item in items {
            let s = Instant::now();
            std::hint::black_box(f(item).await?);
            samples.push(s.elapsed().as_nanos() as u64);
        }
        if started.elapsed() > budget {
            break;
        }
    }
    Ok(Summary::of(&mut samples))
}

/// Where a bot round trip's time goes, measured on the running instance: the hub without any
/// socket (one at a time, then the same N×M load), the bot with the back office in memory and
/// in the store, the matcher alone, one order lookup, and the hub's own reads per message.
pub async fn phases(hub: &Arc<Hub>, opts: &ChatOpts, customers: &[Customer]) -> anyhow::Result<Phases> {
    let bot = hub.bot();
    // The messages of ten identified customers' scripts: the same mix the sessions send.
    let scripts: Vec<(&Customer, Vec<String>)> = (0..10)
        .map(|s| {
            let c = &customers[s % customers.len()];
            (c, corpus::script(s, 20, true, c))
        })
        .collect();
    let cases: Vec<(String, Vec<String>)> =
        scripts.iter().flat_map(|(c, texts)| texts.iter().map(|t| (t.clone(), vec![c.email.to_lowercase()]))).collect();
    let texts: Vec<String> = cases.iter().map(|(t, _)| t.clone()).collect();

    let classify = time_each(&texts, async |t: &String| Ok(bot.rules.classify(t))).await?;

    // The bot's whole decision (match, dialogue, lookups, render) for a verified customer.
    let memo = memo::Memo::new(hub.clone());
    for (text, verified) in &cases {
        respond_once(&bot, &memo, text, verified).await?; // fills the memo
    }
    let respond_memory = time_each(&cases, async |(text, verified): &(String, Vec<String>)| {
        respond_once(&bot, &memo, text, verified).await
    })
    .await?;
    let respond_store = time_each(&cases, async |(text, verified): &(String, Vec<String>)| {
        respond_once(&bot, hub.backoffice(), text, verified).await
    })
    .await?;

    // One back-office order lookup through the store.
    let keys: Vec<String> =
        customers.iter().flat_map(|c| c.orders.iter().map(|o| kituo::backoffice::record_key(o))).collect();
    let lookup = time_each(&keys, async |k: &String| Ok(hub.store().order_by_key(k.clone()).await?)).await?;

    // The read the hub makes before the bot for every message: the conversation with the
    // contact's verified emails (no console watches here, so no summary is read after it).
    let session = hub.visitor_session(None, &mut Default::default()).await?;
    let store = hub.store();
    let one = [()];
    let hub_reads =
        time_each(&one, async |_: &()| Ok(store.conversation_for_turn(&session.conversation_id).await?)).await?;

    // The hub end to end (store in, match, lookup, render, store out, publish), no socket:
    // first one message at a time, then the same N×M load as the sockets.
    let mut samples = Vec::new();
    for (s, (customer, script)) in scripts.iter().enumerate() {
        let session = hub.visitor_session(None, &mut Default::default()).await?;
        hub.identify(&session.contact_id, &customer.email.to_lowercase(), Some(&customer.name)).await?;
        for (i, text) in script.iter().enumerate() {
            let st = Instant::now();
            hub.customer_message(&session.conversation_id, text, Some(&format!("serial-{s}-{i}"))).await?;
            samples.push(st.elapsed().as_nanos() as u64);
        }
    }
    let hub_serial = Summary::of(&mut samples);
    let hub_load = hub_direct_load(hub, opts, customers).await?;
    Ok(Phases { classify, respond_memory, respond_store, lookup, hub_reads, hub_serial, hub_load })
}

async fn respond_once(
    bot: &kituo::bot::Bot,
    backoffice: &dyn kituo::backoffice::BackOffice,
    text: &str,
    verified: &[String],
) -> anyhow::Result<kituo::bot::Outcome> {
    use kituo::bot::{DialogueState, Input};
    use kituo::domain::{ConversationStatus, Locale};
    let input = Input {
        text,
        state: DialogueState::default(),
        locale: Locale::En,
        status: ConversationStatus::Bot,
        verified_emails: verified,
        strong_emails: &[],
    };
    Ok(bot.respond(input, backoffice).await?)
}

async fn hub_direct_load(hub: &Arc<Hub>, opts: &ChatOpts, customers: &[Customer]) -> anyhow::Result<LoadResult> {
    let n = opts.sessions;
    let connect_started = Instant::now();
    let mut sessions = Vec::with_capacity(n);
    for s in 0..n {
        let customer = &customers[s % customers.len()];
        let identified = s % 2 == 0;
        let session = hub.visitor_session(None, &mut Default::default()).await?;
        if identified {
            hub.identify(&session.contact_id, &customer.email.to_lowercase(), Some(&customer.name)).await?;
        }
        sessions.push((session.conversation_id, corpus::script(s, opts.messages, identified, customer)));
    }
    let connect = connect_started.elapsed();
    let started = Instant::now();
    let deadline = started + Duration::from_secs(opts.max_secs);
    let think = Duration::from_millis(opts.think_ms);
    let mut tasks = Vec::with_capacity(n);
    for (s, (conversation_id, script)) in sessions.into_iter().enumerate() {
        let hub = hub.clone();
        tasks.push(tokio::spawn(async move {
            let mut out = SessionOutcome::default();
            let mut rng = StdRng::seed_from_u64(s as u64);
            if !think.is_zero() {
                tokio::time::sleep(think.mul_f64(rng.random_range(0.0..1.0))).await;
            }
            for (i, text) in script.iter().enumerate() {
                if Instant::now() > deadline {
                    out.error = Some("time bound reached".into());
                    break;
                }
                let st = Instant::now();
                if let Err(e) = hub.customer_message(&conversation_id, text, Some(&format!("direct-{s}-{i}"))).await {
                    out.error = Some(format!("session {s}: {e}"));
                    break;
                }
                out.latencies.push(st.elapsed().as_nanos() as u64);
                if !think.is_zero() {
                    tokio::time::sleep(think.mul_f64(rng.random_range(0.5..1.5))).await;
                }
            }
            out
        }));
    }
    let mut latencies = Vec::new();
    let mut first_error = None;
    for t in tasks {
        let out = t.await?;
        latencies.extend(out.latencies);
        first_error = first_error.or(out.error);
    }
    let elapsed = started.elapsed();
    Ok(LoadResult {
        label: "Kituo hub, no socket".into(),
        sessions_ok: n,
        sessions: n,
        round_trips: latencies.len(),
        elapsed,
        connect,
        latency: Summary::of(&mut latencies),
        retries: 0,
        first_error,
        // On the generator's runtime: its CPU time cannot be told apart from the server's.
        server_cpu: None,
    })
}

pub fn print_phases(p: &Phases, ws: &LoadResult, backend: &str) {
    let mut t = Table::new(&["part of the round trip", "mean", "p50", "p99", "msgs/s"]);
    let row = |t: &mut Table, name: &str, s: &Summary, rate: f64| {
        t.row(vec![name.to_string(), fmt_us(s.mean_us), fmt_us(s.p50_us), fmt_us(s.p99_us), fmt_int(rate)]);
    };
    let per_sec = |s: &Summary| if s.mean_us > 0.0 { 1e6 / s.mean_us } else { 0.0 };
    row(&mut t, "intent match only (normalise + RegexSet + slots)", &p.classify, per_sec(&p.classify));
    row(
        &mut t,
        "bot decision, back office in memory (match + dialogue + render)",
        &p.respond_memory,
        per_sec(&p.respond_memory),
    );
    row(
        &mut t,
        &format!("bot decision, back office in {backend} (+ lookups)"),
        &p.respond_store,
        per_sec(&p.respond_store),
    );
    row(&mut t, &format!("one order lookup (store.order_by_key, {backend})"), &p.lookup, per_sec(&p.lookup));
    row(&mut t, "the hub's read per message (conversation + verified emails)", &p.hub_reads, per_sec(&p.hub_reads));
    row(&mut t, &format!("hub.customer_message, one at a time ({backend})"), &p.hub_serial, per_sec(&p.hub_serial));
    row(
        &mut t,
        &format!("hub.customer_message, {} concurrent sessions, no socket", p.hub_load.sessions),
        &p.hub_load.latency,
        p.hub_load.rate(),
    );
    row(&mut t, "the same load over the widget WebSocket", &ws.latency, ws.rate());
    t.print("Where a Kituo round trip's time goes (same process, same database)");
    let rest = p.hub_serial.mean_us - p.respond_store.mean_us - p.hub_reads.mean_us;
    println!(
        "  one message at a time: {} = bot with lookups {} + hub read {} + rest {} \
         (the write transaction: conversation update, the turn's messages in one insert, audit; and publishing)",
        fmt_us(p.hub_serial.mean_us),
        fmt_us(p.respond_store.mean_us),
        fmt_us(p.hub_reads.mean_us),
        fmt_us(rest.max(0.0)),
    );
    if let Some(e) = &p.hub_load.first_error {
        println!("  hub load: first error: {e}");
    }
}

/// A back office answering from memory after the first lookup of each key (for timing the bot
/// without the database).
mod memo {
    use futures_util::future::BoxFuture;
    use kituo::backoffice::{
        BackOffice, CancelOutcome, Invoice, NewRequest, Order, OrderDetail, Product, Request, Result,
    };
    use kituo::hub::Hub;
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex};

    pub struct Memo {
        hub: Arc<Hub>,
        orders: Mutex<HashMap<String, Option<Order>>>,
        invoices: Mutex<HashMap<String, Option<Invoice>>>,
        stock: Mutex<HashMap<String, Vec<Product>>>,
    }

    impl Memo {
        pub fn new(hub: Arc<Hub>) -> Memo {
            Memo { hub, orders: Mutex::default(), invoices: Mutex::default(), stock: Mutex::default() }
        }
    }

    fn cached<'a, T: Clone + Send + 'a>(
        map: &'a Mutex<HashMap<String, T>>,
        key: &'a str,
        load: impl FnOnce() -> BoxFuture<'a, Result<T>> + Send + 'a,
    ) -> BoxFuture<'a, Result<T>> {
        if let Some(v) = map.lock().expect("memo lock").get(key) {
            let v = v.clone();
            return Box::pin(async move { Ok(v) });
        }
        Box::pin(async move {
            let v = load().await?;
            map.lock().expect("memo lock").insert(key.to_string(), v.clone());
            Ok(v)
        })
    }

    impl BackOffice for Memo {
        fn order<'a>(&'a self, number: &'a str) -> BoxFuture<'a, Result<Option<Order>>> {
            cached(&self.orders, number, || self.hub.backoffice().order(number))
        }

        fn invoice<'a>(&'a self, number: &'a str) -> BoxFuture<'a, Result<Option<Invoice>>> {
            cached(&self.invoices, number, || self.hub.backoffice().invoice(number))
        }

        fn orders_of<'a>(&'a self, email: &'a str) -> BoxFuture<'a, Result<Vec<Order>>> {
            self.hub.backoffice().orders_of(email)
        }

        fn invoices_of<'a>(&'a self, email: &'a str) -> BoxFuture<'a, Result<Vec<Invoice>>> {
            self.hub.backoffice().invoices_of(email)
        }

        fn stock<'a>(&'a self, query: &'a str) -> BoxFuture<'a, Result<Vec<Product>>> {
            cached(&self.stock, query, || self.hub.backoffice().stock(query))
        }

        fn order_detail<'a>(&'a self, number: &'a str) -> BoxFuture<'a, Result<Option<OrderDetail>>> {
            self.hub.backoffice().order_detail(number)
        }

        fn cancel_order<'a>(&'a self, number: &'a str) -> BoxFuture<'a, Result<CancelOutcome>> {
            self.hub.backoffice().cancel_order(number)
        }

        fn open_request<'a>(&'a self, request: &'a NewRequest) -> BoxFuture<'a, Result<Option<Request>>> {
            self.hub.backoffice().open_request(request)
        }

        fn request<'a>(&'a self, request_id: &'a str) -> BoxFuture<'a, Result<Option<Request>>> {
            self.hub.backoffice().request(request_id)
        }

        fn requests_of<'a>(&'a self, order_number: &'a str) -> BoxFuture<'a, Result<Vec<Request>>> {
            self.hub.backoffice().requests_of(order_number)
        }
    }
}
