//! Finding conversations: `GET /api/conversations` with its filters and full-text `q=`, saved
//! views per agent (`GET/POST /api/views`, `DELETE /api/views/{id}`) and the agent's
//! notification preferences (`GET/PUT /api/me/notifications`).
//!
//! Query parameters are parsed here into a [`ListFilter`] (and a [`SearchQuery`]); a bad value
//! is a 422 naming the parameter. Without `q` the list is ordered as before (the queue by
//! priority then age, others by last update); with `q` by relevance (see `store::search`).
//! Saved views store the same parameters and are checked by the same parser when saved.

use super::AppState;
use super::api_types::{
    self as t, ConversationList, NotificationsResponse, SavedViewList, SavedViewResponse, SearchInfo,
};
use super::error::{ApiError, ApiResult};
use super::openapi::{Invalid, NotFound, Unauthorized};
use super::session::Staff;
use crate::domain::{Channel, ConversationStatus};
use crate::search::SearchQuery;
use crate::store::{ListFilter, NotificationPrefs, Queries, SearchHit};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_conversations))
        .routes(routes!(list_views, create_view))
        .routes(routes!(delete_view))
        .routes(routes!(get_notifications, put_notifications))
}

/// Default number of search results (a plain list keeps its default of 200).
const SEARCH_LIMIT: i64 = 50;
/// Longest saved view name, in characters.
const MAX_VIEW_NAME: usize = 60;
/// Most views one agent may keep.
const MAX_VIEWS: usize = 50;

/// The list's filters as query parameters (and as a saved view's `filters` object).
#[derive(Debug, Default, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Filters {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub team: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assignee: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub since: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub until: Option<String>,
}

/// The list's query string: `q`, the filters and `limit` (no `flatten`: it breaks numbers in
/// query strings).
#[derive(Deserialize, IntoParams)]
struct ListQuery {
    /// Full-text search: words (all must match), `"a phrase"`, `-word` to exclude; results by
    /// relevance, each with `search`.
    q: Option<String>,
    /// `bot`, `queued`, `assigned`, `resolved`, `open` (the first three) or `all`.
    status: Option<String>,
    /// `web`, `email` or `discord`.
    channel: Option<String>,
    /// An existing team.
    team: Option<String>,
    /// A label name.
    label: Option<String>,
    /// `me`, `none` or an agent id.
    assignee: Option<String>,
    /// Updated at or after: a date (`2026-12-01`) or an RFC 3339 time.
    since: Option<String>,
    /// Updated before: a date (the end of that day) or an RFC 3339 time.
    until: Option<String>,
    /// Most results: default 200 (50 with `q`).
    limit: Option<i64>,
}

impl ListQuery {
    fn filters(&self) -> Filters {
        Filters {
            status: self.status.clone(),
            channel: self.channel.clone(),
            team: self.team.clone(),
            label: self.label.clone(),
            assignee: self.assignee.clone(),
            since: self.since.clone(),
            until: self.until.clone(),
        }
    }
}

/// A parameter's value, `None` when absent or blank.
fn given(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

/// An instant as epoch ms: RFC 3339 (`2026-12-01T08:00:00Z`, `…+03:00`) or a date (`2026-12-01`,
/// midnight UTC). For `until` a date means the end of that day: the bound is exclusive.
fn parse_instant(field: &str, value: &str, end_of_day: bool) -> ApiResult<i64> {
    let bad = || ApiError::invalid(field, "a date (2026-12-01) or an RFC 3339 time (2026-12-01T08:00:00Z)");
    if let Ok(t) = time::OffsetDateTime::parse(value, &Rfc3339) {
        return i64::try_from(t.unix_timestamp_nanos() / 1_000_000).map_err(|_| bad());
    }
    let date =
        time::Date::parse(value, time::macros::format_description!("[year]-[month]-[day]")).map_err(|_| bad())?;
    let date = if end_of_day { date.next_day().ok_or_else(bad)? } else { date };
    Ok(date.midnight().assume_utc().unix_timestamp() * 1000)
}

impl Filters {
    /// The store's filter, or a 422 naming the first bad parameter.
    pub async fn parse(&self, queries: &Queries, me: &str, limit: i64) -> ApiResult<ListFilter> {
        let statuses = match given(&self.status) {
            None | Some("all") => None,
            Some("open") => {
                Some(vec![ConversationStatus::Bot, ConversationStatus::Queued, ConversationStatus::Assigned])
            }
            Some(s) => Some(vec![
                ConversationStatus::parse(s)
                    .ok_or_else(|| ApiError::invalid("status", "one of bot, queued, assigned, resolved, open"))?,
            ]),
        };
        let assignee = match given(&self.assignee) {
            None => None,
            Some("me") => Some(Some(me.to_string())),
            Some("none") => Some(None),
            Some(id) => Some(Some(id.to_string())),
        };
        let label = given(&self.label).map(str::to_lowercase);
        let channel = match given(&self.channel) {
            None => None,
            Some(c) => Some(
                Channel::parse(c)
                    .ok_or_else(|| ApiError::invalid("channel", "one of web, email, discord"))?
                    .as_str()
                    .to_string(),
            ),
        };
        let team = match given(&self.team) {
            Some(t) if !queries.team_exists(t).await? => return Err(ApiError::invalid("team", "no such team")),
            t => t.map(str::to_string),
        };
        let since = given(&self.since).map(|v| parse_instant("since", v, false)).transpose()?;
        let until = given(&self.until).map(|v| parse_instant("until", v, true)).transpose()?;
        if let (Some(s), Some(u)) = (since, until)
            && u <= s
        {
            return Err(ApiError::invalid("until", "must be after since"));
        }
        Ok(ListFilter { statuses, assignee, label, channel, team, since, until, limit })
    }
}

fn parse_query(q: Option<&str>) -> ApiResult<Option<SearchQuery>> {
    match q.map(str::trim).filter(|q| !q.is_empty()) {
        None => Ok(None),
        Some(q) => SearchQuery::parse(q).map(Some).map_err(|e| ApiError::invalid("q", e.to_string())),
    }
}

/// List, filter and search conversations
///
/// Without `q` the queue is ordered by priority then age, others by last update; with `q` by
/// relevance, and each conversation also carries `search`.
#[utoipa::path(get, path = "/api/conversations", tag = "conversations", operation_id = "listConversations",
    params(ListQuery),
    responses(
        (status = 200, description = "OK", body = ConversationList),
        (status = 401, response = Unauthorized),
        (status = 422, response = Invalid),
    ))]
async fn list_conversations(
    State(state): State<AppState>,
    Staff(who): Staff,
    Query(q): Query<ListQuery>,
) -> ApiResult<Json<ConversationList>> {
    let queries = &state.queries;
    let search = parse_query(q.q.as_deref())?;
    let default_limit = if search.is_some() { SEARCH_LIMIT } else { 200 };
    let filter = q.filters().parse(queries, &who.agent_id, q.limit.unwrap_or(default_limit)).await?;
    let mut conversations: Vec<t::ConversationSummary> = match &search {
        None => {
            let mut list = queries.list_conversations(&filter).await?;
            state.hub.with_sla(&mut list).await?;
            list.iter().map(t::ConversationSummary::from).collect()
        }
        Some(query) => {
            let mut hits = queries.search_conversations(query, &filter).await?;
            // One read of the SLA targets for the whole page, not one per hit.
            state.hub.with_sla(hits.iter_mut().map(|h| &mut h.summary)).await?;
            hits.iter().map(|h| hit(query, h)).collect()
        }
    };
    super::csat_api::attach(queries, &mut conversations).await?;
    Ok(Json(ConversationList { conversations }))
}

/// A conversation found by a search: its summary plus `"search": {score, matched, snippet,
/// highlights}` (character ranges in `snippet` to mark; the snippet is plain text).
fn hit(query: &SearchQuery, h: &SearchHit) -> t::ConversationSummary {
    let mut v = t::ConversationSummary::from(&h.summary);
    let mut matched = Vec::new();
    if h.contact_matched {
        matched.push("contact");
    }
    let text = match &h.message {
        Some(body) => {
            matched.push("message");
            body.clone()
        }
        None => [h.summary.contact_name.as_deref(), h.summary.contact_email.as_deref()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" · "),
    };
    let snippet = query.snippet(&text);
    v.search = Some(SearchInfo {
        score: h.score,
        matched,
        snippet: snippet.text,
        highlights: snippet.highlights.iter().map(|(a, b)| [*a, *b]).collect(),
    });
    v
}

/// My saved views
#[utoipa::path(get, path = "/api/views", tag = "conversations", operation_id = "listViews",
    responses((status = 200, description = "OK", body = SavedViewList), (status = 401, response = Unauthorized)))]
async fn list_views(State(state): State<AppState>, Staff(who): Staff) -> ApiResult<Json<SavedViewList>> {
    let list = state.queries.saved_views(&who.agent_id).await?;
    Ok(Json(SavedViewList { views: list.iter().map(t::SavedView::from).collect() }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ViewBody {
    name: String,
    #[serde(default)]
    q: String,
    #[serde(default)]
    filters: Filters,
}

/// Save a view
///
/// The query and filters are checked as the list would check them.
#[utoipa::path(post, path = "/api/views", tag = "conversations", operation_id = "createView",
    request_body = t::NewView,
    responses(
        (status = 201, description = "Saved", body = SavedViewResponse),
        (status = 401, response = Unauthorized),
        (status = 422, response = Invalid),
    ))]
async fn create_view(
    State(state): State<AppState>,
    Staff(who): Staff,
    Json(b): Json<ViewBody>,
) -> ApiResult<(StatusCode, Json<SavedViewResponse>)> {
    let queries = &state.queries;
    let name = b.name.trim();
    if name.is_empty() || name.chars().count() > MAX_VIEW_NAME {
        return Err(ApiError::invalid("name", format!("1–{MAX_VIEW_NAME} characters")));
    }
    parse_query(Some(&b.q))?;
    b.filters.parse(queries, &who.agent_id, 1).await?;
    // Keep only what was given, trimmed: the view replays exactly these parameters.
    let trimmed = |v: &Option<String>| given(v).map(str::to_string);
    let f = &b.filters;
    let filters = Filters {
        status: trimmed(&f.status),
        channel: trimmed(&f.channel),
        team: trimmed(&f.team),
        label: trimmed(&f.label),
        assignee: trimmed(&f.assignee),
        since: trimmed(&f.since),
        until: trimmed(&f.until),
    };
    if queries.saved_views(&who.agent_id).await?.len() >= MAX_VIEWS {
        return Err(ApiError::invalid("name", format!("at most {MAX_VIEWS} views per agent; delete one first")));
    }
    let filters = serde_json::to_string(&filters).map_err(ApiError::internal)?;
    let view = match state.hub.create_saved_view(&who.agent_id, name, b.q.trim(), &filters).await {
        Err(crate::hub::Error::Store(crate::store::Error::Duplicate)) => {
            return Err(ApiError::invalid("name", "you already have a view with that name"));
        }
        other => other?,
    };
    Ok((StatusCode::CREATED, Json(SavedViewResponse { view: t::SavedView::from(&view) })))
}

/// Delete one of my views
#[utoipa::path(delete, path = "/api/views/{id}", tag = "conversations", operation_id = "deleteView",
    params(("id" = String, Path, description = "View id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound),
    ))]
async fn delete_view(
    State(state): State<AppState>,
    Staff(who): Staff,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    // Another agent's view answers like a missing one: its existence is not revealed.
    if state.hub.delete_saved_view(&who.agent_id, &id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found("view"))
    }
}

fn prefs_json(p: NotificationPrefs) -> Json<NotificationsResponse> {
    Json(NotificationsResponse { notifications: p.into() })
}

/// My notification preferences
#[utoipa::path(get, path = "/api/me/notifications", tag = "agents", operation_id = "getNotifications",
    responses((status = 200, description = "OK", body = NotificationsResponse), (status = 401, response = Unauthorized)))]
async fn get_notifications(State(state): State<AppState>, Staff(who): Staff) -> ApiResult<Json<NotificationsResponse>> {
    Ok(prefs_json(state.queries.notification_prefs(&who.agent_id).await?))
}

/// Change my notification preferences
///
/// Any subset of the flags; the others keep their value.
#[utoipa::path(put, path = "/api/me/notifications", tag = "agents", operation_id = "setNotifications",
    request_body = t::NotificationsPatch,
    responses(
        (status = 200, description = "The preferences now", body = NotificationsResponse),
        (status = 401, response = Unauthorized),
        (status = 422, response = Invalid),
    ))]
async fn put_notifications(
    State(state): State<AppState>,
    Staff(who): Staff,
    Json(b): Json<t::NotificationsPatch>,
) -> ApiResult<Json<NotificationsResponse>> {
    let queries = &state.queries;
    let old = queries.notification_prefs(&who.agent_id).await?;
    let new = NotificationPrefs {
        assigned_to_me: b.assigned_to_me.unwrap_or(old.assigned_to_me),
        customer_message: b.customer_message.unwrap_or(old.customer_message),
        new_in_queue: b.new_in_queue.unwrap_or(old.new_in_queue),
        sound: b.sound.unwrap_or(old.sound),
    };
    state.hub.set_notification_prefs(&who.agent_id, new).await?;
    Ok(prefs_json(new))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_are_dates_or_rfc3339() {
        assert_eq!(parse_instant("since", "2026-12-01", false).unwrap(), 1_796_083_200_000);
        assert_eq!(parse_instant("until", "2026-12-01", true).unwrap(), 1_796_083_200_000 + 86_400_000);
        assert_eq!(parse_instant("since", "2026-12-01T03:00:00+03:00", false).unwrap(), 1_796_083_200_000);
        let e = parse_instant("until", "yesterday", true).unwrap_err();
        assert_eq!(e.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(e.message.starts_with("until:"), "{}", e.message);
    }
}
