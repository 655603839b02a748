//! HTTP surface: the router that merges every resource's routes, the shared `AppState`, and the
//! static pages (demo shop, widget script, login, console). Every response passes through
//! `headers` (CSP, framing, nosniff). Customer channel sockets live in `channel/`; the staff API
//! and console socket here.
//!
//! The web reads through `Queries` (read-only; handlers that only read take `State<Queries>`)
//! and changes state only through `Hub` methods: it never holds a `Store`.

pub mod admin_api;
pub mod agent_socket;
pub mod api_types;
pub mod attachments;
pub mod csat_api;
pub mod email_api;
pub mod error;
pub mod headers;
pub mod labels_api;
pub mod openapi;
pub mod reports_api;
pub mod rules_api;
pub mod search_api;
pub mod session;
pub mod settings;
pub mod staff_api;
pub mod upload_limits;
pub mod views;
pub use crate::http::{client_addr, ip_slots, ws_close};

use crate::auth::LoginLimiter;
use crate::channel::web_widget::{WidgetPolicy, WidgetState};
use crate::http::client_addr::TrustedProxies;
use crate::hub::Hub;
use crate::store::Queries;
use axum::Router;
use axum::extract::FromRef;
use axum::http::header;
use axum::response::{Html, IntoResponse};
use axum::routing::get;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

const DEMO_HTML: &str = include_str!("assets/demo.html");
const WIDGET_JS: &str = include_str!("assets/widget.js");
const LOGIN_HTML: &str = include_str!("assets/login.html");
const LOGIN_JS: &str = include_str!("assets/login.js");
const LOGIN_CSS: &str = include_str!("assets/login.css");
const DEMO_JS: &str = include_str!("assets/demo.js");
const CONSOLE_HTML: &str = include_str!("assets/console.html");
const CONSOLE_JS: &str = include_str!("assets/console.js");
const CONSOLE_CSS: &str = include_str!("assets/console.css");
const CONSOLE_TOOLS_JS: &str = include_str!("assets/console-tools.js");
const CONSOLE_TOOLS_CSS: &str = include_str!("assets/console-tools.css");
const ADMIN_HTML: &str = include_str!("assets/admin.html");
const ADMIN_JS: &str = include_str!("assets/admin.js");
const ADMIN_CSS: &str = include_str!("assets/admin.css");

/// Shared by every handler; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub hub: Arc<Hub>,
    /// Read-only access to the store; every write goes through `hub`.
    pub queries: Queries,
    /// Settings admins can change at run time (widget secret, allowed origins, business hours).
    pub settings: Arc<settings::LiveSettings>,
    pub shutdown: CancellationToken,
    pub login_limiter: Arc<LoginLimiter>,
    /// Mark session cookies `Secure` (serving behind TLS).
    pub secure_cookies: bool,
    pub agent_connections: agent_socket::SharedConnections,
    /// Widget sockets open per client address (`--max-sockets-per-ip`).
    pub widget_slots: Arc<ip_slots::IpSlots>,
    /// Proxies whose `X-Forwarded-For` is believed (`--trusted-proxy`); see `client_addr`.
    pub trusted_proxies: Arc<Vec<std::net::IpAddr>>,
    /// Bearer token `/metrics` requires (`--metrics-token`); open when `None`.
    pub metrics_token: Option<Arc<str>>,
    /// Where uploaded files live and how large they may be (see `attachments`).
    pub files: Arc<attachments::Files>,
}

/// The widget socket's state, taken from the shared one.
impl FromRef<AppState> for WidgetState {
    fn from_ref(state: &AppState) -> WidgetState {
        WidgetState {
            hub: state.hub.clone(),
            policy: state.settings.clone(),
            slots: state.widget_slots.clone(),
            trusted_proxies: TrustedProxies::from_ref(state),
            shutdown: state.shutdown.clone(),
        }
    }
}

impl FromRef<AppState> for TrustedProxies {
    fn from_ref(state: &AppState) -> TrustedProxies {
        TrustedProxies(state.trusted_proxies.clone())
    }
}

impl WidgetPolicy for settings::LiveSettings {
    fn origin_allowed(&self, origin: Option<&str>) -> bool {
        settings::LiveSettings::origin_allowed(self, origin)
    }

    fn widget_secret(&self) -> Option<Arc<[u8]>> {
        settings::LiveSettings::widget_secret(self)
    }
}

/// Handlers that only read take `State<Queries>`.
impl FromRef<AppState> for Queries {
    fn from_ref(state: &AppState) -> Queries {
        state.queries.clone()
    }
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/", get(|| async { Html(DEMO_HTML) }))
        .route("/widget.js", get(widget_js))
        .route("/health", get(|| async { "ok" }))
        .route("/ready", get(ready))
        .route("/metrics", get(metrics))
        .route("/demo.js", get(|| async { asset("application/javascript; charset=utf-8", DEMO_JS) }))
        .route("/login", get(|| async { Html(LOGIN_HTML) }))
        .route("/login.js", get(|| async { asset("application/javascript; charset=utf-8", LOGIN_JS) }))
        .route("/login.css", get(|| async { asset("text/css; charset=utf-8", LOGIN_CSS) }))
        .route("/console", get(|| async { Html(CONSOLE_HTML) }))
        .route("/console.js", get(|| async { asset("application/javascript; charset=utf-8", CONSOLE_JS) }))
        .route("/console.css", get(|| async { asset("text/css; charset=utf-8", CONSOLE_CSS) }))
        .route("/console-tools.js", get(|| async { asset("application/javascript; charset=utf-8", CONSOLE_TOOLS_JS) }))
        .route("/console-tools.css", get(|| async { asset("text/css; charset=utf-8", CONSOLE_TOOLS_CSS) }))
        .route("/admin", get(|| async { Html(ADMIN_HTML) }))
        .route("/admin.js", get(|| async { asset("application/javascript; charset=utf-8", ADMIN_JS) }))
        .route("/admin.css", get(|| async { asset("text/css; charset=utf-8", ADMIN_CSS) }))
        .merge(crate::channel::web_widget::router().with_state(WidgetState::from_ref(&state)))
        .merge(agent_socket::router())
        // Every documented route (the staff API, attachments, the rating page); see `openapi`.
        .merge(Router::from(openapi::api_routes()))
        .layer(axum::middleware::from_fn(headers::security_headers))
        .with_state(state)
}

async fn widget_js() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "application/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=300"),
            (header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"),
        ],
        WIDGET_JS,
    )
}

fn asset(content_type: &'static str, body: &'static str) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, content_type), (header::CACHE_CONTROL, "no-cache")], body)
}

async fn ready(axum::extract::State(state): axum::extract::State<AppState>) -> axum::response::Response {
    let bo = state.hub.backoffice();
    let backoffice =
        bo.health().map_or_else(|| serde_json::json!({"source": bo.source(), "state": "up"}), |h| serde_json::json!(h));
    match state.queries.ready().await {
        Ok(n) => axum::Json(
            serde_json::json!({"status": "ready", "database": "ok", "migrations": n, "backoffice": backoffice}),
        )
        .into_response(),
        Err(e) => {
            // The cause (which may name hosts, users or files) goes to the log, not to whoever asks.
            tracing::warn!(error = %e, "readiness check failed: database");
            (
                axum::http::StatusCode::SERVICE_UNAVAILABLE,
                axum::Json(serde_json::json!({"status": "not_ready", "reason": "database unavailable"})),
            )
                .into_response()
        }
    }
}

/// Whether the request may read `/metrics`: always when no `--metrics-token` is set, otherwise
/// only with `Authorization: Bearer <token>`.
fn metrics_allowed(state: &AppState, headers: &axum::http::HeaderMap) -> bool {
    let Some(expected) = &state.metrics_token else { return true };
    let sent = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "));
    // Compare hashes: equal length, so the comparison time says nothing about the token.
    sent.is_some_and(|t| crate::auth::sha256_hex(t.trim()) == crate::auth::sha256_hex(expected))
}

async fn metrics(
    axum::extract::State(state): axum::extract::State<AppState>,
    headers: axum::http::HeaderMap,
) -> axum::response::Response {
    use std::fmt::Write;
    if !metrics_allowed(&state, &headers) {
        let mut refused = error::ApiError::unauthorized().into_response();
        refused.headers_mut().insert(header::WWW_AUTHENTICATE, axum::http::HeaderValue::from_static("Bearer"));
        return refused;
    }
    let mut extra = String::new();
    match state.queries.metrics_snapshot().await {
        Ok(s) => {
            let now = crate::domain::now_ms();
            let wait = s.oldest_queued_at.map_or(0.0, |t| (now - t) as f64 / 1000.0);
            let _ = write!(
                extra,
                "# HELP kituo_queue_length Conversations waiting for an agent.\n# TYPE kituo_queue_length gauge\n\
                 kituo_queue_length {}\n\
                 # HELP kituo_queue_oldest_wait_seconds How long the longest-waiting conversation has waited.\n\
                 # TYPE kituo_queue_oldest_wait_seconds gauge\nkituo_queue_oldest_wait_seconds {wait:.3}\n\
                 # HELP kituo_outbox_backlog Replies waiting for delivery, by state.\n# TYPE kituo_outbox_backlog gauge\n\
                 kituo_outbox_backlog{{state=\"pending\"}} {}\nkituo_outbox_backlog{{state=\"failed\"}} {}\n\
                 # HELP kituo_first_response_seconds Time from handoff to an agent's first reply (last 7 days).\n\
                 # TYPE kituo_first_response_seconds histogram\n",
                s.queued, s.outbox_pending, s.outbox_failed
            );
            for (bound, count) in &s.first_response_buckets {
                let _ = writeln!(extra, "kituo_first_response_seconds_bucket{{le=\"{bound}\"}} {count}");
            }
            let _ = writeln!(extra, "kituo_first_response_seconds_bucket{{le=\"+Inf\"}} {}", s.first_response_count);
            let _ = writeln!(extra, "kituo_first_response_seconds_sum {:.3}", s.first_response_sum_s);
            let _ = writeln!(extra, "kituo_first_response_seconds_count {}", s.first_response_count);
            let _ = write!(
                extra,
                "# HELP kituo_sla_breaches_total Conversations that missed an SLA target, by clock.\n\
                 # TYPE kituo_sla_breaches_total counter\n\
                 kituo_sla_breaches_total{{kind=\"first_response\"}} {}\n\
                 kituo_sla_breaches_total{{kind=\"resolution\"}} {}\n",
                s.sla_breaches.0, s.sla_breaches.1
            );
        }
        Err(e) => tracing::warn!(error = %e, "metrics: database figures unavailable"),
    }
    extra.push_str(&state.hub.backoffice().metrics_text());
    let body = state.hub.metrics.render(&extra);
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], body).into_response()
}
