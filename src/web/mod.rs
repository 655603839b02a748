//! HTTP surface: the router that merges every resource's routes, the shared `AppState`, and the
//! static pages (demo shop, widget script, login, console). Customer channel sockets live in
//! `channel/`; the staff API and console socket here.

pub mod admin_api;
pub mod agent_socket;
pub mod email_api;
pub mod error;
pub mod session;
pub mod staff_api;
pub mod views;

use crate::auth::LoginLimiter;
use crate::hub::Hub;
use axum::Router;
use axum::http::header;
use axum::response::{Html, IntoResponse};
use axum::routing::get;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

const DEMO_HTML: &str = include_str!("assets/demo.html");
const WIDGET_JS: &str = include_str!("assets/widget.js");
const LOGIN_HTML: &str = include_str!("assets/login.html");
const CONSOLE_HTML: &str = include_str!("assets/console.html");
const CONSOLE_JS: &str = include_str!("assets/console.js");
const CONSOLE_CSS: &str = include_str!("assets/console.css");

/// Shared by every handler; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub hub: Arc<Hub>,
    /// `KITUO_WIDGET_SECRET`: key for the widget's HMAC identify; identify is refused without it.
    pub widget_secret: Option<Arc<[u8]>>,
    pub shutdown: CancellationToken,
    pub login_limiter: Arc<LoginLimiter>,
    /// Mark session cookies `Secure` (serving behind TLS).
    pub secure_cookies: bool,
    pub agent_connections: agent_socket::SharedConnections,
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/", get(|| async { Html(DEMO_HTML) }))
        .route("/widget.js", get(widget_js))
        .route("/health", get(|| async { "ok" }))
        .route("/login", get(|| async { Html(LOGIN_HTML) }))
        .route("/console", get(|| async { Html(CONSOLE_HTML) }))
        .route("/console.js", get(|| async { asset("application/javascript; charset=utf-8", CONSOLE_JS) }))
        .route("/console.css", get(|| async { asset("text/css; charset=utf-8", CONSOLE_CSS) }))
        .merge(crate::channel::web_widget::router())
        .merge(staff_api::router())
        .merge(admin_api::router())
        .merge(agent_socket::router())
        .merge(email_api::router())
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
