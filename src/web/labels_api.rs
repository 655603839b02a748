//! Labels: admins define them (`POST /api/admin/labels {"name","color"}`), staff list them
//! (`GET /api/labels`) and set a conversation's labels (`POST /api/conversations/{id}/labels
//! {"labels":[…]}` replaces the set; an unknown name is a 422 naming it). The conversation JSON
//! of the staff API carries `"labels":[…]` ([`attach`]); `GET /api/conversations?label=` filters.

use super::AppState;
use super::api_types::{self as t, ConversationResponse, Label, LabelList, LabelResponse};
use super::error::{ApiError, ApiResult};
use super::openapi::{Forbidden, NotFound, Unauthorized};
use super::session::{Admin, Staff};
use crate::store::Queries;
use axum::Json;
use axum::extract::{Path, State};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(create)).routes(routes!(list)).routes(routes!(set))
}

/// Longest label name accepted.
const MAX_NAME: usize = 40;

/// A colour as `#rgb` or `#rrggbb`, lower-cased.
fn parse_color(color: &str) -> Option<String> {
    let hex = color.trim().strip_prefix('#')?;
    ((hex.len() == 3 || hex.len() == 6) && hex.chars().all(|c| c.is_ascii_hexdigit()))
        .then(|| format!("#{}", hex.to_ascii_lowercase()))
}

/// A label name: trimmed, lower-case, 1–40 characters of letters, digits, `-` and `_`.
fn parse_name(name: &str) -> Option<String> {
    let name = name.trim().to_lowercase();
    let ok = !name.is_empty()
        && name.chars().count() <= MAX_NAME
        && name.chars().all(|c| c.is_alphanumeric() || c == '-' || c == '_');
    ok.then_some(name)
}

/// Create a label, or change its colour
#[utoipa::path(post, path = "/api/admin/labels", tag = "labels", operation_id = "saveLabel",
    request_body = Label,
    responses(
        (status = 200, description = "OK", body = LabelResponse),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 422, description = "Bad name or colour (`invalid`)", body = t::ErrorBody),
    ))]
async fn create(
    State(state): State<AppState>,
    Admin(who): Admin,
    Json(b): Json<Label>,
) -> ApiResult<Json<LabelResponse>> {
    let name = parse_name(&b.name)
        .ok_or_else(|| ApiError::invalid("name", "1–40 letters, digits, '-' or '_' (e.g. refund)"))?;
    let color = parse_color(&b.color).ok_or_else(|| ApiError::invalid("color", "a colour like #c0392b"))?;
    state.hub.save_label(&who.agent_id, &name, &color).await?;
    Ok(Json(LabelResponse { label: Label { name, color } }))
}

/// Every label with its colour
#[utoipa::path(get, path = "/api/labels", tag = "labels", operation_id = "listLabels",
    responses((status = 200, description = "OK", body = LabelList), (status = 401, response = Unauthorized)))]
async fn list(State(queries): State<Queries>, Staff(_w): Staff) -> ApiResult<Json<LabelList>> {
    let labels = queries.labels().await?;
    Ok(Json(LabelList { labels: labels.into_iter().map(|l| Label { name: l.name, color: l.color }).collect() }))
}

/// Replace a conversation's labels
#[utoipa::path(post, path = "/api/conversations/{id}/labels", tag = "labels", operation_id = "setConversationLabels",
    params(("id" = String, Path, description = "Conversation id")),
    request_body = t::SetLabels,
    responses(
        (status = 200, description = "The conversation with its labels", body = ConversationResponse),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound),
        (status = 422, description = "An unknown label (named in the message)", body = t::ErrorBody),
    ))]
async fn set(
    State(state): State<AppState>,
    Staff(_w): Staff,
    Path(id): Path<String>,
    Json(b): Json<t::SetLabels>,
) -> ApiResult<Json<ConversationResponse>> {
    let queries = &state.queries;
    let mut names: Vec<String> = b.labels.iter().map(|n| n.trim().to_lowercase()).collect();
    names.sort();
    names.dedup();
    queries.conversation_summary(&id).await?.ok_or_else(|| ApiError::not_found("conversation"))?;
    let summary = match state.hub.set_labels(&id, &names).await {
        Err(crate::hub::Error::Store(crate::store::Error::Invalid(unknown))) => {
            return Err(ApiError::invalid("labels", format!("unknown label {unknown:?}")));
        }
        other => other?,
    };
    let mut conversation = t::ConversationSummary::from(&summary);
    super::csat_api::attach(queries, std::slice::from_mut(&mut conversation)).await?;
    Ok(Json(ConversationResponse { conversation }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_colours_are_parsed_at_the_edge() {
        assert_eq!(parse_color("#C0392B").as_deref(), Some("#c0392b"));
        assert_eq!(parse_color("#abc").as_deref(), Some("#abc"));
        assert!(parse_color("red").is_none() && parse_color("#12345").is_none() && parse_color("#ggg").is_none());
        assert_eq!(parse_name(" VIP ").as_deref(), Some("vip"));
        assert!(parse_name("").is_none() && parse_name("two words").is_none() && parse_name(&"x".repeat(41)).is_none());
    }
}
