//! Labels: admins define them (`POST /api/admin/labels {"name","color"}`), staff list them
//! (`GET /api/labels`) and set a conversation's labels (`POST /api/conversations/{id}/labels
//! {"labels":[…]}` replaces the set; an unknown name is a 422 naming it). The conversation JSON
//! of the staff API carries `"labels":[…]` ([`attach`]); `GET /api/conversations?label=` filters.

use super::error::{ApiError, ApiResult};
use super::session::{Admin, Staff};
use super::{AppState, views};
use crate::store::Queries;
use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/admin/labels", post(create))
        .route("/api/labels", get(list))
        .route("/api/conversations/{id}/labels", post(set))
}

/// Longest label name accepted.
const MAX_NAME: usize = 40;

#[derive(Deserialize)]
struct LabelBody {
    name: String,
    color: String,
}

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

async fn create(State(state): State<AppState>, Admin(who): Admin, Json(b): Json<LabelBody>) -> ApiResult<Json<Value>> {
    let name = parse_name(&b.name)
        .ok_or_else(|| ApiError::invalid("name", "1–40 letters, digits, '-' or '_' (e.g. refund)"))?;
    let color = parse_color(&b.color).ok_or_else(|| ApiError::invalid("color", "a colour like #c0392b"))?;
    state.hub.save_label(&who.agent_id, &name, &color).await?;
    Ok(Json(json!({"label": {"name": name, "color": color}})))
}

async fn list(State(queries): State<Queries>, Staff(_w): Staff) -> ApiResult<Json<Value>> {
    let labels = queries.labels().await?;
    Ok(Json(json!({"labels": labels.iter().map(|l| json!({"name": l.name, "color": l.color})).collect::<Vec<_>>()})))
}

#[derive(Deserialize)]
struct SetBody {
    labels: Vec<String>,
}

async fn set(
    State(state): State<AppState>,
    Staff(_w): Staff,
    Path(id): Path<String>,
    Json(b): Json<SetBody>,
) -> ApiResult<Json<Value>> {
    let queries = &state.queries;
    let mut names: Vec<String> = b.labels.iter().map(|n| n.trim().to_lowercase()).collect();
    names.sort();
    names.dedup();
    let summary = queries.conversation_summary(&id).await?.ok_or_else(|| ApiError::not_found("conversation"))?;
    match state.hub.set_labels(&id, &names).await {
        Err(crate::hub::Error::Store(crate::store::Error::Invalid(unknown))) => {
            return Err(ApiError::invalid("labels", format!("unknown label {unknown:?}")));
        }
        other => other?,
    }
    let mut conversation = views::summary(&summary);
    attach(queries, std::slice::from_mut(&mut conversation)).await?;
    Ok(Json(json!({"conversation": conversation})))
}

/// Adds `"labels":[…]` to conversation JSON objects (each with an `"id"`).
pub async fn attach(queries: &Queries, conversations: &mut [Value]) -> ApiResult<()> {
    let ids: Vec<String> = conversations.iter().filter_map(|c| c["id"].as_str().map(str::to_string)).collect();
    let mut labels = queries.labels_of(&ids).await?;
    for c in conversations.iter_mut() {
        let mine = c["id"].as_str().and_then(|id| labels.remove(id)).unwrap_or_default();
        c["labels"] = json!(mine);
    }
    Ok(())
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
