//! Staff API of the email channel (`/api/email/…`): the quarantine (mail that could not be
//! taken in, with its raw bytes), the original of a stored customer mail (what the console shows
//! is stripped of quotes and signatures) and its kept attachments.

use super::error::{ApiError, ApiResult};
use super::session::Staff;
use super::{AppState, views};
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/email/quarantine", get(list_quarantine))
        .route("/api/email/quarantine/{id}/raw", get(quarantined_raw))
        .route("/api/email/messages/{id}/original", get(original))
        .route("/api/email/attachments/{id}", get(attachment))
}

#[derive(Deserialize)]
struct ListQuery {
    limit: Option<i64>,
}

async fn list_quarantine(
    State(state): State<AppState>,
    Staff(_w): Staff,
    Query(q): Query<ListQuery>,
) -> ApiResult<Json<Value>> {
    let list = state.queries.email_quarantine(q.limit.unwrap_or(100).clamp(1, 1000)).await?;
    let items: Vec<Value> = list
        .iter()
        .map(|m| {
            json!({
                "id": m.quarantine_id, "mailbox": m.mailbox, "uid_validity": m.uid_validity, "uid": m.uid,
                "reason": m.reason, "sender": m.sender, "subject": m.subject, "message_id": m.rfc_message_id,
                "size": m.size, "created_at": views::time(Some(m.created_at)),
            })
        })
        .collect();
    Ok(Json(json!({ "quarantine": items })))
}

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

async fn original(State(state): State<AppState>, Staff(_w): Staff, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let o = state.queries.email_original(&id).await?.ok_or_else(|| ApiError::not_found("email original"))?;
    Ok(Json(json!({
        "message_id": o.message_id, "email_message_id": o.rfc_message_id, "from": o.sender, "subject": o.subject,
        "body": o.body, "from_html": o.from_html,
        "attachments": o.attachments.iter().map(|a| json!({
            "id": a.attachment_id, "name": a.name, "content_type": a.content_type, "size": a.size, "kept": a.kept,
        })).collect::<Vec<_>>(),
    })))
}

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
