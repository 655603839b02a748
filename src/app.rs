//! Application assembly: connect and migrate the store, seed demo data, load the bot, bind the
//! listener, and run every task under one cancellation token until shutdown.

use crate::backoffice::BackOffice;
use crate::bot::Bot;
use crate::config::ServeArgs;
use crate::hub::Hub;
use crate::store::Store;
use crate::web::{self, AppState};
use anyhow::Context;
use axum::serve::ListenerExt;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

pub struct App {
    listener: TcpListener,
    state: AppState,
    store: Store,
    /// Set when demo data was loaded during this start: (orders, invoices, products).
    pub seeded: Option<(u64, u64, u64)>,
}

impl App {
    /// Prepares everything and binds the listener (port 0 picks a free port).
    pub async fn build(args: &ServeArgs) -> anyhow::Result<App> {
        let bot = Bot::load(&args.intents, &args.templates).map_err(|diags| {
            let lines: Vec<String> = diags.iter().map(|d| format!("  {d}")).collect();
            anyhow::anyhow!("the intent rules are invalid:\n{}", lines.join("\n"))
        })?;
        let store = Store::connect(&args.database_url)
            .await
            .with_context(|| format!("cannot open database {}", redact(&args.database_url)))?;
        store.migrate().await.context("database migration failed")?;
        let seeded = if !args.no_demo && store.is_empty().await? {
            Some(
                crate::backoffice::demo::seed(&store)
                    .await
                    .context("loading demo data failed")?,
            )
        } else {
            None
        };
        let listener = TcpListener::bind(&args.listen)
            .await
            .with_context(|| format!("cannot listen on {}", args.listen))?;
        let backoffice: Arc<dyn BackOffice> = Arc::new(store.clone());
        let hub = Arc::new(Hub::new(store.clone(), backoffice, bot));
        let state = AppState {
            hub,
            widget_secret: args
                .widget_secret
                .as_ref()
                .filter(|s| !s.is_empty())
                .map(|s| Arc::from(s.as_bytes())),
            shutdown: CancellationToken::new(),
        };
        Ok(App {
            listener,
            state,
            store,
            seeded,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    pub fn hub(&self) -> Arc<Hub> {
        self.state.hub.clone()
    }

    /// Serves until `shutdown` completes, then closes sockets and the pool.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let token = self.state.shutdown.clone();
        let router = web::router(self.state);
        let serve_token = token.clone();
        // Small chat frames must not wait for Nagle's algorithm.
        let listener = self.listener.tap_io(|tcp| {
            if let Err(e) = tcp.set_nodelay(true) {
                tracing::debug!(error = %e, "cannot set TCP_NODELAY");
            }
        });
        let result = axum::serve(listener, router)
            .with_graceful_shutdown(async move {
                shutdown.await;
                serve_token.cancel();
            })
            .await;
        token.cancel();
        self.store.close().await;
        result.context("server failed")
    }
}

/// The URL without its password, for messages.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}
