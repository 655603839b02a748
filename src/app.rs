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
    /// PostgreSQL URL when nodes share the database: events fan out with LISTEN/NOTIFY.
    cluster_url: Option<String>,
    email: Option<crate::channel::email::EmailChannel>,
    discord: Option<crate::channel::discord::DiscordChannel>,
    listener: TcpListener,
    state: AppState,
    store: Store,
    /// This process's id in a cluster of nodes (events it announces, leases it holds).
    node_id: String,
    offline_grace: std::time::Duration,
    cluster_heartbeat: std::time::Duration,
    /// Set when demo data was loaded during this start: (orders, invoices, products).
    pub seeded: Option<(u64, u64, u64)>,
    /// Set when this start created the first admin: (email, password), shown once.
    pub initial_admin: Option<(String, String)>,
}

pub const INITIAL_ADMIN_EMAIL: &str = "admin@kituo.local";

impl App {
    /// Prepares everything and binds the listener (port 0 picks a free port).
    pub async fn build(args: &ServeArgs) -> anyhow::Result<App> {
        let store = Store::connect(&args.database_url)
            .await
            .with_context(|| format!("cannot open database {}", redact(&args.database_url)))?;
        store.migrate().await.context("database migration failed")?;
        let bot = load_rules(&store, args).await?;
        let seeded = if !args.no_demo && store.is_empty().await? {
            Some(crate::backoffice::demo::seed(&store).await.context("loading demo data failed")?)
        } else {
            None
        };
        let initial_admin = if store.admin_exists().await? {
            None
        } else {
            let password = crate::auth::generate_password();
            let hash = tokio::task::spawn_blocking({
                let p = password.clone();
                move || crate::auth::hash_password(&p)
            })
            .await?;
            store.create_agent(INITIAL_ADMIN_EMAIL, "Admin", crate::domain::Role::Admin, &hash).await?;
            Some((INITIAL_ADMIN_EMAIL.to_string(), password))
        };
        let settings = Arc::new(crate::web::settings::LiveSettings::new(
            args.widget_secret.as_ref().map(crate::config::Secret::expose),
            args.business_hours.as_deref(),
            &args.utc_offset,
        ));
        settings.apply_stored(&store.settings().await?);
        let hours = settings.parsed_hours().map_err(|e| anyhow::anyhow!("business hours: {e}"))?;
        let email = crate::channel::email::EmailChannel::from_args(&args.email).context("email channel")?;
        let discord =
            crate::channel::discord::DiscordChannel::from_args(&args.discord).await.context("Discord channel")?;
        let listener =
            TcpListener::bind(&args.listen).await.with_context(|| format!("cannot listen on {}", args.listen))?;
        let backoffice: Arc<dyn BackOffice> = crate::backoffice::source::open(&args.backoffice, &store).await?;
        let hub = Arc::new(Hub::new(store.clone(), backoffice, bot, hours));
        // One-time codes go out by mail: only when SMTP (the email channel) is configured.
        hub.set_codes_enabled(email.is_some());
        let public_url = match &args.public_url {
            Some(url) => url.clone(),
            None => format!("http://{}", listener.local_addr().context("listener address")?),
        };
        hub.set_public_url(&public_url);
        let files = Arc::new(crate::hub::channel_files::Files::new(
            crate::web::attachments::folder(args.attachments_dir.as_deref(), &args.database_url),
            args.max_upload_bytes,
        ));
        hub.set_files(files.clone());
        let state = AppState {
            queries: hub.queries(),
            hub,
            settings,
            shutdown: CancellationToken::new(),
            login_limiter: Arc::default(),
            secure_cookies: args.secure_cookies,
            agent_connections: Arc::default(),
            widget_slots: crate::web::ip_slots::IpSlots::new(args.max_sockets_per_ip),
            trusted_proxies: Arc::new(args.trusted_proxy.clone()),
            metrics_token: args
                .metrics_token
                .as_ref()
                .map(crate::config::Secret::expose)
                .filter(|t| !t.is_empty())
                .map(Arc::from),
            files: files.clone(),
        };
        let offline_grace = std::time::Duration::from_secs(args.offline_grace_secs);
        Ok(App {
            cluster_url: (store.backend() == crate::store::Backend::Postgres).then(|| args.database_url.clone()),
            email,
            discord,
            listener,
            state,
            store,
            node_id: crate::domain::new_id(),
            offline_grace,
            cluster_heartbeat: std::time::Duration::from_millis(args.cluster_heartbeat_ms),
            initial_admin,
            seeded,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().expect("a bound listener has an address")
    }

    pub fn hub(&self) -> Arc<Hub> {
        self.state.hub.clone()
    }

    /// Serves until `shutdown` completes, then closes sockets and the pool.
    pub async fn run_until(self, shutdown: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
        let token = self.state.shutdown.clone();
        let tracker = tokio_util::task::TaskTracker::new();
        let hub = self.state.hub.clone();
        tracker.spawn(crate::hub::dispatch::run_dispatcher(hub.clone(), self.offline_grace, token.clone()));
        tracker.spawn(crate::hub::run_housekeeping(hub.clone(), token.clone()));
        if let Some(url) = self.cluster_url {
            let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
            hub.bus().set_remote(self.node_id.clone(), tx.clone());
            let peers = Arc::new(crate::hub::cluster::Peers::new(self.node_id.clone(), self.cluster_heartbeat));
            tracker.spawn(crate::hub::cluster::run_notifier(hub.clone(), rx, peers.clone(), token.clone()));
            tracker.spawn(crate::hub::cluster::run_listener(hub.clone(), peers, tx, url, token.clone()));
        }
        if let Some(email) = self.email {
            tracker.spawn(crate::outbox::run_worker(hub.clone(), email.sender(hub.clone()), token.clone()));
            // Each node may send replies (the outbox is claimed row by row), but the mailboxes are
            // read by one node at a time.
            let work_hub = hub.clone();
            let (store, node) = (self.store.clone(), self.node_id.clone());
            tracker.spawn(crate::hub::lease::run_under_lease(store, node, "email".into(), token.clone(), move |t| {
                Box::pin(email.clone().run(work_hub.clone(), t))
            }));
        }
        if let Some(discord) = self.discord {
            tracker.spawn(crate::outbox::run_worker(hub.clone(), discord.sender(hub.clone()), token.clone()));
            // One gateway connection for the whole cluster.
            let work_hub = hub.clone();
            let (store, node) = (self.store.clone(), self.node_id.clone());
            tracker.spawn(crate::hub::lease::run_under_lease(store, node, "discord".into(), token.clone(), move |t| {
                Box::pin(discord.clone().run(work_hub.clone(), t))
            }));
        }
        tracker.close();
        let router = web::router(self.state).into_make_service_with_connect_info::<SocketAddr>();
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
        tracker.wait().await;
        self.store.close().await;
        result.context("server failed")
    }
}

pub use crate::config::redact;

/// The rule set in force: the newest stored version; on a database without one, the files in
/// `--intents`/`--templates`, stored as version 1. Edits in the admin pages are new versions,
/// so after the first start the database wins over the files (`kituo intents import` stores the
/// files as a new version again).
async fn load_rules(store: &Store, args: &ServeArgs) -> anyhow::Result<Bot> {
    if let Some(v) = store.latest_rule_version().await? {
        let bundle: crate::bot::bundle::RuleBundle =
            serde_json::from_str(v.bundle.as_deref().unwrap_or("{}")).context("stored rule set is unreadable")?;
        let mut bot = bundle
            .build()
            .map_err(|r| anyhow::anyhow!("stored rule set version {} is invalid: {}", v.version, r.summary()))?;
        bot.version = v.version;
        return Ok(bot);
    }
    let mut bot = Bot::load(&args.intents, &args.templates).map_err(|diags| {
        let lines: Vec<String> = diags.iter().map(|d| format!("  {d}")).collect();
        anyhow::anyhow!("the intent rules are invalid:\n{}", lines.join("\n"))
    })?;
    let json = serde_json::to_string(&bot.bundle)?;
    bot.version =
        match store.add_rule_version("files", "initial rule set from intents/ and templates/", &json, Some(0)).await {
            Ok(v) => v,
            // Another node stored the first version at the same moment: use theirs.
            Err(crate::store::Error::Conflict) => return Box::pin(load_rules(store, args)).await,
            Err(e) => return Err(e.into()),
        };
    Ok(bot)
}
