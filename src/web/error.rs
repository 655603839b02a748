//! The API's one error type: every failure maps to a status and a JSON body
//! `{"error":{"code","message"}}` here; internal causes are logged, never sent.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError { status, code, message: message.into() }
    }

    pub fn unauthorized() -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", "log in or send a valid bearer token")
    }

    pub fn forbidden(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    pub fn not_found(what: &str) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", format!("{what} not found"))
    }

    pub fn invalid(field: &str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", format!("{field}: {}", message.into()))
    }

    pub fn internal(e: impl std::fmt::Display) -> ApiError {
        tracing::error!(error = %e, "request failed");
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "something went wrong on our side")
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({"error": {"code": self.code, "message": self.message}});
        (self.status, Json(body)).into_response()
    }
}

impl From<crate::store::Error> for ApiError {
    fn from(e: crate::store::Error) -> ApiError {
        match e {
            crate::store::Error::Duplicate => ApiError::new(StatusCode::CONFLICT, "conflict", "that already exists"),
            other => ApiError::internal(other),
        }
    }
}

impl From<crate::backoffice::Error> for ApiError {
    fn from(e: crate::backoffice::Error) -> ApiError {
        match e {
            crate::backoffice::Error::Store(e) => e.into(),
            e if e.is_unavailable() => {
                tracing::warn!(error = %e, "back office unavailable");
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "backoffice_unavailable",
                    "the back office cannot be reached right now",
                )
            }
            e => ApiError::internal(e),
        }
    }
}

impl From<crate::hub::Error> for ApiError {
    fn from(e: crate::hub::Error) -> ApiError {
        use crate::domain::ownership::TransitionError as T;
        match e {
            crate::hub::Error::NotFound => ApiError::not_found("conversation"),
            crate::hub::Error::Busy => ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "busy", "try again"),
            crate::hub::Error::Transition(t) => {
                let code = match t {
                    T::AlreadyAssigned => "already_assigned",
                    T::Resolved => "resolved",
                    T::NotAssigned => "not_assigned",
                    T::NotResolved => "not_resolved",
                };
                ApiError::new(StatusCode::CONFLICT, code, t.to_string())
            }
            // A store error from a hub write maps as it did when the web wrote to the store.
            crate::hub::Error::Store(e) => e.into(),
            other => ApiError::internal(other),
        }
    }
}
