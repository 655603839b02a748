//! HTTP surface: the router that merges every resource's routes, the shared `AppState`, and the
//! static pages (demo shop, widget script). Channel sockets live in `channel/`.

use crate::hub::Hub;
use axum::Router;
use axum::http::header;
use axum::response::{Html, IntoResponse};
use axum::routing::get;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

const DEMO_HTML: &str = include_str!("assets/demo.html");
const WIDGET_JS: &str = include_str!("assets/widget.js");

/// Shared by every handler; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub hub: Arc<Hub>,
    /// `KITUO_WIDGET_SECRET`: key for the widget's HMAC identify; identify is refused without it.
    pub widget_secret: Option<Arc<[u8]>>,
    pub shutdown: CancellationToken,
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/", get(|| async { Html(DEMO_HTML) }))
        .route("/widget.js", get(widget_js))
        .route("/health", get(|| async { "ok" }))
        .merge(crate::channel::web_widget::router())
        .with_state(state)
}

async fn widget_js() -> impl IntoResponse {
    (
        [
            (
                header::CONTENT_TYPE,
                "application/javascript; charset=utf-8",
            ),
            (header::CACHE_CONTROL, "public, max-age=300"),
            (header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"),
        ],
        WIDGET_JS,
    )
}
