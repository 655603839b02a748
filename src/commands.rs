//! The non-serving commands: `kituo import …` and `kituo intents check|classify`.

use crate::backoffice::import::{Kind, import_csv};
use crate::bot::Bot;
use crate::bot::rules::{self, Diagnostic, RuleSet};
use crate::config::{ImportArgs, IntentsArgs};
use crate::domain::Locale;
use crate::store::Store;
use anyhow::Context;
use std::io::{BufRead, IsTerminal, Write};
use std::time::Instant;

/// `kituo import orders|invoices|products|order_lines|shipments FILE.csv`: prints counts; exit code 1 on a bad row.
pub async fn import(args: &ImportArgs) -> anyhow::Result<()> {
    let kind = Kind::parse(&args.kind).context("kind must be orders, invoices, products, order_lines or shipments")?;
    let file = std::fs::File::open(&args.file).with_context(|| format!("cannot open {}", args.file.display()))?;
    let total = file.metadata().map(|m| m.len()).unwrap_or(0);
    let store = Store::connect(&args.database_url).await?;
    store.migrate().await?;
    let reader = std::io::BufReader::with_capacity(1 << 20, file);
    let started = Instant::now();
    let tty = std::io::stderr().is_terminal();
    let mut progress = |rows: u64, bytes: u64| {
        if tty {
            let pct = (bytes * 100).checked_div(total).unwrap_or(0);
            let rate = rows as f64 / started.elapsed().as_secs_f64().max(0.001);
            let bar = "#".repeat((pct / 4) as usize);
            eprint!("\r[{bar:<25}] {pct:>3}%  {rows} rows  {rate:.0} rows/s ");
        }
    };
    let result = import_csv(&store, kind, reader, Some(&mut progress)).await;
    if tty {
        eprintln!();
    }
    let report = result.with_context(|| format!("{}: nothing was imported", args.file.display()))?;
    let count = store.count(kind.table()).await?;
    let secs = report.elapsed.as_secs_f64().max(0.001);
    println!(
        "imported {} {} rows ({} distinct keys) in {:.2}s ({:.0} rows/s); {} now holds {} rows",
        report.rows,
        args.kind,
        report.records,
        secs,
        report.rows as f64 / secs,
        args.kind,
        count
    );
    store.close().await;
    Ok(())
}

/// `kituo intents check`: prints every problem as `file:line: message`; false when any.
pub fn intents_check(args: &IntentsArgs) -> bool {
    let templates = args.templates_dir();
    let result = rules::read_dir(&args.intents)
        .and_then(|sources| Bot::load(&args.intents, &templates).map(|bot| (sources, bot)));
    match result {
        Ok((sources, bot)) => {
            let overlaps = bot.rules.overlaps();
            if !overlaps.is_empty() {
                let diags: Vec<Diagnostic> = overlaps
                    .iter()
                    .map(|o| {
                        let message = format!(
                            "overlap: example {:?} ({}) of {} is also matched by {} at an equal or higher priority",
                            o.example, o.locale, o.intent, o.other
                        );
                        match sources.iter().find(|s| s.def.name == o.intent) {
                            Some(s) => s.diag(&o.example, message),
                            None => Diagnostic { file: o.intent.clone(), line: None, message },
                        }
                    })
                    .collect();
                print_diagnostics(&diags);
                return false;
            }
            let examples: usize = sources.iter().map(|s| s.def.examples.values().map(Vec::len).sum::<usize>()).sum();
            println!(
                "ok: {} intents, {} examples, {} templates in {} and {}",
                sources.len(),
                examples,
                bot.templates.names().len(),
                args.intents.display(),
                templates.display()
            );
            true
        }
        Err(diags) => {
            print_diagnostics(&diags);
            false
        }
    }
}

fn print_diagnostics(diags: &[Diagnostic]) {
    let mut err = std::io::stderr().lock();
    for d in diags {
        let _ = writeln!(err, "error: {d}");
    }
    let _ = writeln!(err, "{} problem(s) found", diags.len());
}

/// `kituo intents classify`: one message per stdin line → one JSON object per stdout line.
pub fn intents_classify(args: &IntentsArgs) -> anyhow::Result<bool> {
    let sources = match rules::read_dir(&args.intents) {
        Ok(s) => s,
        Err(diags) => {
            print_diagnostics(&diags);
            return Ok(false);
        }
    };
    let rules = match RuleSet::compile(&sources) {
        Ok(r) => r,
        Err(diags) => {
            print_diagnostics(&diags);
            return Ok(false);
        }
    };
    let stdin = std::io::stdin();
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for line in stdin.lock().lines() {
        let text = line.context("reading stdin")?;
        let c = rules.classify(&text);
        let json = serde_json::json!({
            "text": text,
            "intent": c.intent,
            "locale": c.locale.unwrap_or(Locale::En),
            "slots": c.slots,
            "excluded": c.excluded,
            "corrected": c.corrected,
        });
        writeln!(out, "{json}")?;
    }
    out.flush()?;
    Ok(true)
}

/// `kituo agents add EMAIL --name NAME --role agent|admin [--password-stdin]`.
pub async fn agents_add(args: &crate::config::AgentAddArgs) -> anyhow::Result<()> {
    let email = crate::domain::normalize_email(&args.email).context("EMAIL is not an email address")?;
    let role = crate::domain::Role::parse(&args.role).context("role must be agent or admin")?;
    let (password, generated) = if args.password_stdin {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line).context("reading the password from stdin")?;
        let p = line.trim_end_matches(['\r', '\n']).to_string();
        anyhow::ensure!(p.chars().count() >= 10, "the password must have at least 10 characters");
        (p, false)
    } else {
        (crate::auth::generate_password(), true)
    };
    let store = Store::connect(&args.database_url).await?;
    store.migrate().await?;
    let hash = crate::auth::hash_password(&password);
    match store.create_agent(&email, args.name.trim(), role, &hash).await {
        Ok(id) => {
            println!("added {} {email} ({}) with id {id}", role.as_str(), args.name.trim());
            if generated {
                println!("password (shown once): {password}");
            }
        }
        Err(crate::store::Error::Duplicate) => anyhow::bail!("an agent with email {email} already exists"),
        Err(e) => return Err(e.into()),
    }
    store.close().await;
    Ok(())
}

/// `kituo intents import`: validates the files and stores them as the newest rule-set version
/// (running servers pick it up within seconds).
pub async fn intents_import(args: &crate::config::IntentsDbArgs) -> anyhow::Result<bool> {
    let bundle = crate::bot::bundle::RuleBundle::from_files(&args.files.intents, &args.files.templates_dir())
        .map_err(|e| anyhow::anyhow!("cannot read the rule files:\n  {}", e.join("\n  ")))?;
    if let Err(r) = bundle.build() {
        eprintln!("error: the rule files are invalid; nothing was stored: {}", r.summary());
        return Ok(false);
    }
    let store = Store::connect(&args.database_url).await?;
    store.migrate().await?;
    let version = store
        .add_rule_version(
            "kituo intents import",
            &format!("import from {}", args.files.intents.display()),
            &serde_json::to_string(&bundle)?,
            None,
        )
        .await?;
    store
        .audit("cli", "rules.import", &format!("version:{version}"), &serde_json::json!({"from": args.files.intents}))
        .await?;
    println!("stored the rule files as version {version}");
    store.close().await;
    Ok(true)
}

/// `kituo intents export DIR`: the rule set in force, as files.
pub async fn intents_export(args: &crate::config::IntentsExportArgs) -> anyhow::Result<bool> {
    let store = Store::connect(&args.database_url).await?;
    store.migrate().await?;
    let Some(v) = store.latest_rule_version().await? else {
        eprintln!("error: the database holds no rule set yet (it is stored on the first start)");
        return Ok(false);
    };
    let bundle: crate::bot::bundle::RuleBundle = serde_json::from_str(v.bundle.as_deref().unwrap_or("{}"))?;
    for (path, text) in bundle.export() {
        let target = args.dir.join(&path);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&target, text).with_context(|| format!("writing {}", target.display()))?;
    }
    println!("wrote version {} to {}", v.version, args.dir.display());
    store.close().await;
    Ok(true)
}
