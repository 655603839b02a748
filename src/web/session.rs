//! Who is calling: the `Staff` extractor accepts a console session cookie or a bearer API
//! token; `Admin` additionally requires the admin role. Cookie-authenticated requests that change
//! state must carry the session's CSRF token in `X-CSRF-Token` (a cross-site form cannot set
//! headers), so a forged form post fails even though the browser sends the cookie.

use super::AppState;
use super::error::ApiError;
use crate::auth::{self, CSRF_HEADER, SESSION_COOKIE};
use crate::domain::Role;
use crate::store::Principal;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{Method, header};

/// Any staff member (agent or admin).
#[derive(Debug, Clone)]
pub struct Staff(pub Principal);

/// An admin.
#[derive(Debug, Clone)]
pub struct Admin(pub Principal);

/// The principal of a request, without the CSRF rule (for pages and sockets).
pub async fn principal_of(parts: &Parts, state: &AppState) -> Result<Option<Principal>, ApiError> {
    let queries = &state.queries;
    if let Some(value) = parts.headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) {
        let Some(token) = value.strip_prefix("Bearer ").map(str::trim) else {
            return Err(ApiError::unauthorized());
        };
        return Ok(auth::bearer_principal(queries, token).await?);
    }
    let cookies = parts.headers.get_all(header::COOKIE);
    for c in cookies.iter().filter_map(|v| v.to_str().ok()) {
        if let Some(value) = auth::cookie_value(c, SESSION_COOKIE) {
            return Ok(auth::session_principal(queries, value).await?);
        }
    }
    Ok(None)
}

impl FromRequestParts<AppState> for Staff {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let principal = principal_of(parts, state).await?.ok_or_else(ApiError::unauthorized)?;
        let changes_state = !matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
        if changes_state && let Some(expected) = &principal.csrf_token {
            let sent = parts.headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok()).unwrap_or("");
            if sent.is_empty() || !constant_time_eq(sent.as_bytes(), expected.as_bytes()) {
                return Err(ApiError::forbidden("missing or wrong X-CSRF-Token header"));
            }
        }
        Ok(Staff(principal))
    }
}

impl FromRequestParts<AppState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let Staff(principal) = Staff::from_request_parts(parts, state).await?;
        if principal.role != Role::Admin {
            return Err(ApiError::forbidden("admins only"));
        }
        Ok(Admin(principal))
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
