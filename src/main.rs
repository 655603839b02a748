//! `kituo`: parse the command line, set up logging, run the chosen command.

use clap::Parser;
use kituo::app::App;
use kituo::config::{AgentsCommand, Cli, Command, IntentsCommand, ServeArgs};
use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing();
    let outcome = match cli.command {
        None => serve(cli.serve).await,
        Some(Command::Serve(args)) => serve(*args).await,
        Some(Command::Import(args)) => kituo::commands::import(&args).await.map(|()| true),
        Some(Command::Intents { command: IntentsCommand::Check(args) }) => Ok(kituo::commands::intents_check(&args)),
        Some(Command::Intents { command: IntentsCommand::Classify(args) }) => kituo::commands::intents_classify(&args),
        Some(Command::Intents { command: IntentsCommand::Import(args) }) => {
            kituo::commands::intents_import(&args).await
        }
        Some(Command::Intents { command: IntentsCommand::Export(args) }) => {
            kituo::commands::intents_export(&args).await
        }
        Some(Command::Agents { command: AgentsCommand::Add(args) }) => {
            kituo::commands::agents_add(&args).await.map(|()| true)
        }
    };
    match outcome {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("KITUO_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    // KITUO_LOG_FORMAT=json: one JSON object per line, for log collectors.
    if std::env::var("KITUO_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json")) {
        tracing_subscriber::fmt().json().with_env_filter(filter).with_writer(std::io::stderr).init();
    } else {
        tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();
    }
}

async fn serve(args: ServeArgs) -> anyhow::Result<bool> {
    let started = std::time::Instant::now();
    let app = App::build(&args).await?;
    let addr = app.local_addr();
    if let Some((orders, invoices, products)) = app.seeded {
        println!("Loaded demo data: {orders} orders, {invoices} invoices, {products} products.");
    }
    if let Some((email, password)) = &app.initial_admin {
        println!("Created the first admin (shown once): email {email}  password {password}");
    }
    println!("Kituo is serving (ready in {} ms):", started.elapsed().as_millis());
    println!("  demo shop with the chat widget  http://{addr}/");
    println!("  agent console                   http://{addr}/console  (log in at /login)");
    println!("  admin (rules, agents, settings) http://{addr}/admin");
    println!("  widget script (embed anywhere)  http://{addr}/widget.js");
    println!("  chat WebSocket                  ws://{addr}/ws/chat");
    println!("  health                          http://{addr}/health");
    println!("  database                        {}", kituo::app::redact(&args.database_url));
    app.run_until(shutdown_signal()).await?;
    Ok(true)
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}
