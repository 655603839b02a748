//! The widget's upload door: how many files a visitor (and a client address) may send in a
//! window, counted in the store so the limit holds across sockets, nodes and restarts; and CORS
//! for a widget embedded on another site (the admin's allowed widget origins, echoed one at a
//! time, never `*`; no credentials: the visitor token travels in a header). Staff uploads are
//! neither limited nor cross-origin. Must not touch files or messages (`attachments` does).

use super::AppState;
use super::error::{ApiError, ApiResult};
use crate::domain::{Millis, now_ms};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::net::IpAddr;

/// Files one visitor (one conversation) may upload per window.
pub const PER_VISITOR: i64 = 10;
/// Files one client address may upload per window (visitors behind one NAT share it).
pub const PER_ADDRESS: i64 = 30;
/// The sliding window, in milliseconds.
pub const WINDOW_MS: Millis = 10 * 60 * 1000;

/// Counts this upload for the visitor of `conversation_id` at `ip`, or refuses it with 429 and
/// `Retry-After` (seconds until the oldest counted upload leaves the window).
pub async fn admit(state: &AppState, conversation_id: &str, ip: IpAddr) -> ApiResult<Option<Response>> {
    let now = now_ms();
    let since = now - WINDOW_MS;
    let keys = [(format!("visitor:{conversation_id}"), PER_VISITOR), (format!("ip:{ip}"), PER_ADDRESS)];
    for (key, limit) in &keys {
        let crate::store::EventWindow { count, oldest, .. } = state.queries.uploads_since(key, since).await?;
        if count >= *limit {
            let wait_ms = oldest.map_or(WINDOW_MS, |o| o + WINDOW_MS - now).max(1000);
            let mut response =
                ApiError::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", "too many files; wait and retry")
                    .into_response();
            response.headers_mut().insert(header::RETRY_AFTER, ((wait_ms + 999) / 1000).into());
            return Ok(Some(response));
        }
    }
    let keys: Vec<String> = keys.into_iter().map(|(k, _)| k).collect();
    state.hub.record_upload(&keys, now, since).await?;
    Ok(None)
}

/// The origin to echo in `Access-Control-Allow-Origin`: the request's own, if it is an allowed
/// widget origin (any while the list is empty, as for the widget socket).
pub fn allowed_origin(state: &AppState, headers: &HeaderMap) -> Option<HeaderValue> {
    let origin = headers.get(header::ORIGIN)?;
    state.settings.origin_allowed(origin.to_str().ok()).then(|| origin.clone())
}

/// Adds the CORS headers an allowed origin (from [`allowed_origin`]) gets to an upload's answer.
pub fn with_cors(origin: Option<HeaderValue>, mut response: Response) -> Response {
    let h = response.headers_mut();
    h.append(header::VARY, HeaderValue::from_static("origin"));
    if let Some(origin) = origin {
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        h.insert(header::ACCESS_CONTROL_EXPOSE_HEADERS, HeaderValue::from_static("retry-after"));
    }
    response
}

/// Preflight for a widget upload
///
/// The browser asks before a widget on another site uploads (the visitor token travels in a
/// header). An allowed widget origin is echoed back (never `*`, no credentials); any other
/// origin is refused.
#[utoipa::path(options, path = "/api/widget/attachments", tag = "conversations", operation_id = "uploadPreflight",
    security(()),
    params(("Origin" = String, Header, description = "The page's origin")),
    responses(
        (status = 204, description = "Allowed: CORS headers for `POST` with `X-Visitor-Token`"),
        (status = 403, description = "Not an allowed widget origin"),
    ))]
pub async fn preflight(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let Some(origin) = allowed_origin(&state, &headers) else {
        return (StatusCode::FORBIDDEN, [(header::VARY, "origin")]).into_response();
    };
    let mut response = StatusCode::NO_CONTENT.into_response();
    let h = response.headers_mut();
    h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    h.insert(header::ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static("POST"));
    h.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, HeaderValue::from_static("content-type, x-visitor-token"));
    h.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("600"));
    h.insert(header::VARY, HeaderValue::from_static("origin"));
    response
}
