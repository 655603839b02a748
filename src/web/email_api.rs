//! Staff API of the email channel (`/api/email/…`): the quarantine (mail that could not be
//! taken in, with its raw bytes), the original of a stored customer mail (what the console shows
//! is stripped of quotes and signatures) and its kept attachments.

use super::AppState;
use super::api_types::{EmailOriginal, QuarantineList, QuarantinedMail};
use super::error::{ApiError, ApiResult};
use super::openapi::{NotFound, Unauthorized};
use super::session::Staff;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_quarantine))
        .routes(routes!(quarantined_raw))
        .routes(routes!(original))
        .routes(routes!(attachment))
}

#[derive(Deserialize, IntoParams)]
struct ListQuery {
    /// 1 to 1000; default 100.
    limit: Option<i64>,
}

/// Mail that could not be taken in
#[utoipa::path(get, path = "/api/email/quarantine", tag = "email", operation_id = "listQuarantine",
    params(ListQuery),
    responses((status = 200, description = "OK", body = QuarantineList), (status = 401, response = Unauthorized)))]
async fn list_quarantine(
    State(state): State<AppState>,
    Staff(_w): Staff,
    Query(q): Query<ListQuery>,
) -> ApiResult<Json<QuarantineList>> {
    let list = state.queries.email_quarantine(q.limit.unwrap_or(100).clamp(1, 1000)).await?;
    Ok(Json(QuarantineList { quarantine: list.iter().map(QuarantinedMail::from).collect() }))
}

/// Download a quarantined mail as it arrived
#[utoipa::path(get, path = "/api/email/quarantine/{id}/raw", tag = "email", operation_id = "getQuarantinedRaw",
    params(("id" = String, Path, description = "Quarantine id")),
    responses(
        (status = 200, description = "The raw message, as download `quarantine-{id}.eml`",
            content_type = "message/rfc822", body = Vec<u8>),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound),
    ))]
async fn quarantined_raw(
    State(state): State<AppState>,
    Staff(_w): Staff,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let raw = state.queries.quarantined_email_raw(&id).await?.ok_or_else(|| ApiError::not_found("quarantined mail"))?;
    let disposition = format!("attachment; filename=\"quarantine-{id}.eml\"");
    Ok(([(header::CONTENT_TYPE, "message/rfc822".to_string()), (header::CONTENT_DISPOSITION, disposition)], raw)
        .into_response())
}

/// The original of a stored customer mail
#[utoipa::path(get, path = "/api/email/messages/{id}/original", tag = "email", operation_id = "getEmailOriginal",
    params(("id" = String, Path, description = "Message id")),
    responses(
        (status = 200, description = "OK", body = EmailOriginal),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound),
    ))]
async fn original(
    State(state): State<AppState>,
    Staff(_w): Staff,
    Path(id): Path<String>,
) -> ApiResult<Json<EmailOriginal>> {
    let o = state.queries.email_original(&id).await?.ok_or_else(|| ApiError::not_found("email original"))?;
    Ok(Json(EmailOriginal::from(&o)))
}

/// Download a kept attachment
#[utoipa::path(get, path = "/api/email/attachments/{id}", tag = "email", operation_id = "getEmailAttachment",
    params(("id" = String, Path, description = "Attachment id")),
    responses(
        (status = 200, description = "The bytes with their stored content type, always as a download (nosniff)",
            content_type = "application/octet-stream", body = Vec<u8>),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound),
    ))]
async fn attachment(State(state): State<AppState>, Staff(_w): Staff, Path(id): Path<String>) -> ApiResult<Response> {
    let (name, content_type, content) =
        state.queries.email_attachment(&id).await?.ok_or_else(|| ApiError::not_found("attachment"))?;
    let safe_name: String =
        name.chars().map(|c| if c.is_control() || c == '"' || c == '\\' { '_' } else { c }).collect();
    // Served as a download, never rendered inline: it is customer-supplied content.
    let disposition = format!("attachment; filename=\"{}\"", safe_name.replace(|c: char| !c.is_ascii(), "_"));
    Ok((
        [
            (header::CONTENT_TYPE, content_type),
            (header::CONTENT_DISPOSITION, disposition),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_string()),
        ],
        content,
    )
        .into_response())
}
