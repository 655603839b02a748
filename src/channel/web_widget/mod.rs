//! The web chat widget's WebSocket (`GET /ws/chat`): frame parsing at the edge, per-connection
//! rate limiting, and delivery of the conversation's messages with seq/resume so a reconnecting
//! widget loses nothing. The protocol is documented in the README.
//!
//! Its own state ([`WidgetState`]): the hub (every read and write goes through it), the live
//! widget settings behind [`WidgetPolicy`], the per-address socket slots, the trusted proxies
//! and the shutdown token. The staff surface builds it from its `AppState` (`FromRef`), so this
//! module imports neither `web` nor `store`.
//!
//! - `frames`: the protocol's frames, parsed at the edge (no IO)
//! - `session`: one connection's loop: session, rate limit, messages, identify, ratings
//! - `history`: sending messages, resume, the agent's name and the rating request (hub reads)

mod frames;
mod history;
mod session;

pub use frames::decode_frame;

use crate::http::client_addr::{ClientIp, TrustedProxies};
use crate::http::ip_slots::IpSlots;
use crate::hub::Hub;
use crate::security::SecurityEvent;
use axum::Router;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::{FromRef, Query, State};
use axum::response::Response;
use axum::routing::get;
use frames::ServerFrame;
use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha256;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// Longest message text a customer may send (characters).
pub const MAX_TEXT_CHARS: usize = 4000;
/// Largest WebSocket message accepted at all; larger ones close the socket (1009).
pub const MAX_FRAME_BYTES: usize = 64 * 1024;

/// The widget settings admins change at run time, as the socket reads them.
pub trait WidgetPolicy: Send + Sync + 'static {
    /// Whether a widget on a page of `origin` may connect.
    fn origin_allowed(&self, origin: Option<&str>) -> bool;
    /// The secret that signs identities (`identify`), when one is configured.
    fn widget_secret(&self) -> Option<Arc<[u8]>>;
}

/// What the widget socket needs; cheap to clone.
#[derive(Clone)]
pub struct WidgetState {
    pub hub: Arc<Hub>,
    pub policy: Arc<dyn WidgetPolicy>,
    /// Widget sockets open per client address (`--max-sockets-per-ip`).
    pub slots: Arc<IpSlots>,
    pub trusted_proxies: TrustedProxies,
    pub shutdown: CancellationToken,
}

impl FromRef<WidgetState> for TrustedProxies {
    fn from_ref(state: &WidgetState) -> TrustedProxies {
        state.trusted_proxies.clone()
    }
}

pub fn router() -> Router<WidgetState> {
    Router::new().route("/ws/chat", get(upgrade))
}

#[derive(Deserialize)]
struct ConnectQuery {
    visitor_token: Option<String>,
}

async fn upgrade(
    ws: WebSocketUpgrade,
    Query(q): Query<ConnectQuery>,
    State(state): State<WidgetState>,
    ClientIp(ip): ClientIp,
    headers: axum::http::HeaderMap,
) -> Response {
    let origin = headers.get(axum::http::header::ORIGIN).and_then(|v| v.to_str().ok());
    if !state.policy.origin_allowed(origin) {
        use axum::response::IntoResponse;
        let hub = &state.hub;
        hub.security.record(&hub.metrics, SecurityEvent::OriginRefused, &ip.to_string(), "widget socket");
        return (axum::http::StatusCode::FORBIDDEN, "this site may not embed the chat widget").into_response();
    }
    let ws = ws
        .read_buffer_size(4 * 1024)
        .write_buffer_size(4 * 1024)
        .max_message_size(MAX_FRAME_BYTES)
        .max_frame_size(MAX_FRAME_BYTES);
    // One address holding too many sockets is told so in the protocol (the widget can show it;
    // a browser cannot read an HTTP refusal of an upgrade) and closed before any session exists.
    let Some(slot) = state.slots.acquire(ip) else {
        tracing::debug!(%ip, "widget socket refused: address at its limit");
        state.hub.metrics.count("kituo_widget_sockets_refused_total", "", 1);
        state.hub.security.record(&state.hub.metrics, SecurityEvent::SocketCap, &ip.to_string(), "widget sockets");
        let limit = state.slots.limit();
        return ws.on_upgrade(move |socket| refuse_socket(socket, limit));
    };
    ws.on_upgrade(move |socket| async move {
        let _slot = slot; // held while the socket lives
        let metrics_hub = state.hub.clone();
        crate::metrics::Metrics::gauge_add(&metrics_hub.metrics.widget_sockets, 1);
        let mut conn = session::Connection::new(socket, state, ip);
        if let Err(e) = conn.run(q.visitor_token).await {
            tracing::debug!(error = %e, "widget socket ended with an error");
        }
        crate::metrics::Metrics::gauge_add(&metrics_hub.metrics.widget_sockets, -1);
    })
}

/// Answers a socket over its address's limit with an error frame and closes it (1013, try again
/// later).
async fn refuse_socket(mut socket: WebSocket, limit: usize) {
    let message = format!(
        "too many chat connections from your address (at most {limit} at once); close another chat or try again later"
    );
    let frame = ServerFrame::Error { code: "too_many_connections", message: &message, client_msg_id: None };
    let text = serde_json::to_string(&frame).expect("server frames always serialise");
    let close = CloseFrame { code: 1013, reason: Utf8Bytes::from_static("too many connections from this address") };
    if socket.send(Message::Text(Utf8Bytes::from(text))).await.is_ok() {
        let _ = socket.send(Message::Close(Some(close))).await;
    }
}

/// HMAC-SHA256(secret, email) compared in constant time; `hmac_hex` is hex (any case).
pub fn hmac_matches(secret: &[u8], email: &str, hmac_hex: &str) -> bool {
    let Ok(expected) = hex::decode(hmac_hex.trim()) else {
        return false;
    };
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC accepts keys of any length");
    mac.update(email.as_bytes());
    mac.verify_slice(&expected).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_is_checked() {
        let mut mac = Hmac::<Sha256>::new_from_slice(b"s3cret").unwrap();
        mac.update(b"amina@example.co.tz");
        let good = hex::encode(mac.finalize().into_bytes());
        assert!(hmac_matches(b"s3cret", "amina@example.co.tz", &good));
        assert!(hmac_matches(b"s3cret", "amina@example.co.tz", &good.to_uppercase()));
        assert!(!hmac_matches(b"other", "amina@example.co.tz", &good));
        assert!(!hmac_matches(b"s3cret", "juma@example.com", &good));
        assert!(!hmac_matches(b"s3cret", "amina@example.co.tz", "zz"));
    }
}
