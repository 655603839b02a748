//! Satisfaction and SLA over HTTP. Public: the rating page a resolution mail links to
//! (`GET /csat/{token}` shows the form, `POST /csat/{token}` stores the one rating; the token is
//! the request id signed by the hub). Staff: a conversation's priority (`PUT
//! /api/conversations/{id}/priority`); admins: SLA targets (`GET`/`PUT /api/admin/sla`). Also
//! adds `"csat"` to conversation JSON ([`attach`]).

use super::AppState;
use super::api_types::{self as t, ConversationResponse, SlaTargetList, SlaTargetResponse};
use super::error::{ApiError, ApiResult};
use super::openapi::{Forbidden, NotFound, Unauthorized};
use super::session::{Admin, Staff};
use crate::queue::sla::{PRIORITIES, parse_priority};
use crate::store::{Queries, RateRefusal, SlaTarget};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

const CSAT_CSS: &str = "body{font:16px/1.5 system-ui,Arial,sans-serif;color:#1f2933;max-width:32rem;margin:3rem auto;padding:0 1rem}\
fieldset{border:0;padding:0;margin:1rem 0;display:flex;gap:.5rem}label.r{border:1px solid #cbd2d9;border-radius:6px;padding:.4rem .8rem;cursor:pointer}\
textarea{width:100%;min-height:5rem}button{margin-top:1rem;padding:.5rem 1.2rem;background:#0f766e;color:#fff;border:0;border-radius:6px}";

/// Longest target accepted: 30 days of business time.
const MAX_TARGET_SECS: i64 = 30 * 86_400;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(page, submit))
        .route("/csat.css", get(|| async { ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], CSAT_CSS) }))
        .routes(routes!(set_priority))
        .routes(routes!(targets, set_target))
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

fn html_page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" \
         content=\"width=device-width,initial-scale=1\"><title>{t}</title><link rel=\"stylesheet\" href=\"/csat.css\">\
         </head><body><h1>{t}</h1>{body}</body></html>",
        t = escape(title)
    );
    (status, [(header::CACHE_CONTROL, "no-store")], Html(html)).into_response()
}

fn thanks_page(rating: i64) -> Response {
    html_page(StatusCode::OK, "Thank you", &format!("<p id=\"csat-done\">You rated us {rating} out of 5. Asante!</p>"))
}

/// The request a token names, if its signature holds.
async fn request_of(state: &AppState, token: &str) -> ApiResult<Option<crate::store::CsatRequest>> {
    let Some(id) = state.hub.csat_id_of_token(token).await? else { return Ok(None) };
    Ok(state.queries.csat_request(&id).await?)
}

fn invalid_link() -> Response {
    html_page(StatusCode::NOT_FOUND, "Link not valid", "<p>This rating link is not valid.</p>")
}

#[derive(Deserialize, IntoParams)]
struct PageQuery {
    /// The rating the mail's link chose (1 to 5), preselected.
    rating: Option<String>,
}

/// The public rating page (HTML); stores nothing
///
/// The form, with the rating the mail's link chose selected. Showing it stores nothing (mail
/// scanners open links).
#[utoipa::path(get, path = "/csat/{token}", tag = "satisfaction", operation_id = "csatPage", security(()),
    params(("token" = String, Path, description = "The signed request id from the mail"), PageQuery),
    responses(
        (status = 200, description = "The form (or: already rated)", content_type = "text/html", body = String),
        (status = 404, description = "Bad signature", content_type = "text/html", body = String),
        (status = 410, description = "A newer resolution replaced this request", content_type = "text/html", body = String),
    ))]
async fn page(State(state): State<AppState>, Path(token): Path<String>, Query(q): Query<PageQuery>) -> Response {
    let request = match request_of(&state, &token).await {
        Ok(Some(r)) => r,
        Ok(None) => return invalid_link(),
        Err(e) => return e.into_response(),
    };
    if let Some(rating) = request.rating {
        return html_page(
            StatusCode::OK,
            "Already rated",
            &format!("<p>You rated us {rating} out of 5. Thank you!</p>"),
        );
    }
    if request.superseded {
        return html_page(StatusCode::GONE, "Link expired", "<p>A newer rating request replaced this one.</p>");
    }
    let chosen = q.rating.and_then(|r| r.parse::<i64>().ok()).filter(|r| (1..=5).contains(r));
    let mut radios = String::new();
    for n in 1..=5 {
        let checked = if chosen == Some(n) { " checked" } else { "" };
        radios.push_str(&format!(
            "<label class=\"r\"><input type=\"radio\" name=\"rating\" value=\"{n}\" required{checked}> {n}</label>"
        ));
    }
    let body = format!(
        "<p>How did we do? 1 is poor, 5 is excellent. / Tulikuhudumiaje?</p>\
         <form method=\"post\" action=\"/csat/{}\"><fieldset>{radios}</fieldset>\
         <label for=\"comment\">Comment (optional)</label><textarea id=\"comment\" name=\"comment\" maxlength=\"1000\"></textarea>\
         <button type=\"submit\">Send rating</button></form>",
        escape(&token)
    );
    html_page(StatusCode::OK, "Rate our help", &body)
}

/// Rate a resolution (once)
///
/// Stores the rating sent by the form (`rating=1..5&comment=…`, form-encoded).
#[utoipa::path(post, path = "/csat/{token}", tag = "satisfaction", operation_id = "csatRate", security(()),
    params(("token" = String, Path, description = "The signed request id from the mail")),
    request_body(content = String, content_type = "application/x-www-form-urlencoded",
        description = "`rating=1..5&comment=…` (comment optional, at most 1,000 characters)"),
    responses(
        (status = 200, description = "Stored (HTML thanks)", content_type = "text/html", body = String),
        (status = 404, description = "Bad signature", content_type = "text/html", body = String),
        (status = 409, description = "Rated already", content_type = "text/html", body = String),
        (status = 410, description = "A newer resolution replaced this request", content_type = "text/html", body = String),
        (status = 422, description = "No rating from 1 to 5, or a comment over 1,000 characters", content_type = "text/html", body = String),
    ))]
async fn submit(State(state): State<AppState>, Path(token): Path<String>, body: String) -> Response {
    let request = match request_of(&state, &token).await {
        Ok(Some(r)) => r,
        Ok(None) => return invalid_link(),
        Err(e) => return e.into_response(),
    };
    let mut rating = None;
    let mut comment = None;
    for (k, v) in url::form_urlencoded::parse(body.as_bytes()) {
        match k.as_ref() {
            "rating" => rating = v.trim().parse::<i64>().ok().filter(|r| (1..=5).contains(r)),
            "comment" => comment = Some(v.into_owned()),
            _ => {}
        }
    }
    let Some(rating) = rating else {
        return html_page(StatusCode::UNPROCESSABLE_ENTITY, "Pick a rating", "<p>Choose a rating from 1 to 5.</p>");
    };
    let comment = match crate::hub::csat::parse_comment(comment.as_deref()) {
        Ok(c) => c,
        Err(m) => {
            return html_page(StatusCode::UNPROCESSABLE_ENTITY, "Comment too long", &format!("<p>{}</p>", escape(&m)));
        }
    };
    match state.hub.rate(&request.csat_id, None, rating, comment.as_deref()).await {
        Ok(Ok(_)) => thanks_page(rating),
        Ok(Err(RateRefusal::AlreadyRated)) => html_page(
            StatusCode::CONFLICT,
            "Already rated",
            "<p id=\"csat-already\">This conversation was rated already.</p>",
        ),
        Ok(Err(_)) => html_page(StatusCode::GONE, "Link expired", "<p>A newer rating request replaced this one.</p>"),
        Err(e) => ApiError::from(e).into_response(),
    }
}

/// Fills in `"csat":{"rating","comment"}` (or null) of conversations.
pub async fn attach(queries: &Queries, conversations: &mut [t::ConversationSummary]) -> ApiResult<()> {
    let ids: Vec<String> = conversations.iter().map(|c| c.id.clone()).collect();
    let ratings = queries.csat_of(&ids).await?;
    for c in conversations.iter_mut() {
        let rated = ratings.get(&c.id);
        c.csat = Some(rated.map(|(rating, comment)| t::CsatRating { rating: *rating, comment: comment.clone() }));
    }
    Ok(())
}

/// Set a conversation's priority
#[utoipa::path(put, path = "/api/conversations/{id}/priority", tag = "conversations",
    operation_id = "setConversationPriority",
    params(("id" = String, Path, description = "Conversation id")),
    request_body = t::PriorityBody,
    responses(
        (status = 200, description = "The conversation", body = ConversationResponse),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound),
        (status = 422, description = "Not one of low, normal, high, urgent", body = t::ErrorBody),
    ))]
async fn set_priority(
    State(state): State<AppState>,
    Staff(who): Staff,
    Path(id): Path<String>,
    Json(b): Json<t::PriorityBody>,
) -> ApiResult<Json<ConversationResponse>> {
    let value = parse_priority(b.priority.trim()).ok_or_else(|| ApiError::invalid("priority", priority_help()))?;
    if !state.hub.set_priority(&who.agent_id, &id, value, b.priority.trim()).await? {
        return Err(ApiError::not_found("conversation"));
    }
    let s = state.hub.summary(&id).await?;
    let mut conversation = t::ConversationSummary::from(&s);
    attach(&state.queries, std::slice::from_mut(&mut conversation)).await?;
    Ok(Json(ConversationResponse { conversation }))
}

fn priority_help() -> String {
    let names: Vec<&str> = PRIORITIES.iter().map(|(n, _)| *n).collect();
    format!("one of {}", names.join(", "))
}

/// SLA targets
#[utoipa::path(get, path = "/api/admin/sla", tag = "admin: settings", operation_id = "getSlaTargets",
    responses(
        (status = 200, description = "OK", body = SlaTargetList),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
    ))]
async fn targets(State(queries): State<Queries>, Admin(_w): Admin) -> ApiResult<Json<SlaTargetList>> {
    let list = queries.sla_targets().await?;
    Ok(Json(SlaTargetList { targets: list.iter().map(t::SlaTarget::from).collect() }))
}

fn check_secs(field: &str, v: Option<i64>) -> ApiResult<Option<i64>> {
    match v {
        Some(s) if !(1..=MAX_TARGET_SECS).contains(&s) => {
            Err(ApiError::invalid(field, format!("seconds from 1 to {MAX_TARGET_SECS}, or null for no target")))
        }
        v => Ok(v),
    }
}

/// Set (or, with both targets null, remove) the target of a team and priority
///
/// The team null is the default for every team.
#[utoipa::path(put, path = "/api/admin/sla", tag = "admin: settings", operation_id = "setSlaTarget",
    request_body = t::TargetBody,
    responses(
        (status = 200, description = "The stored target", body = SlaTargetResponse),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 422, description = "Unknown priority or team, or seconds outside 1…2,592,000 (`invalid`)", body = t::ErrorBody),
    ))]
async fn set_target(
    State(state): State<AppState>,
    Admin(who): Admin,
    Json(b): Json<t::TargetBody>,
) -> ApiResult<Json<SlaTargetResponse>> {
    let priority = b.priority.trim().to_string();
    if parse_priority(&priority).is_none() {
        return Err(ApiError::invalid("priority", priority_help()));
    }
    let team = b.team.map(|t| t.trim().to_string()).unwrap_or_default();
    if !team.is_empty() && !state.queries.team_exists(&team).await? {
        return Err(ApiError::invalid("team", "no such team"));
    }
    let target = SlaTarget {
        team,
        priority,
        first_response_secs: check_secs("first_response_secs", b.first_response_secs)?,
        resolution_secs: check_secs("resolution_secs", b.resolution_secs)?,
    };
    state.hub.set_sla_target(&who.agent_id, &target).await?;
    Ok(Json(SlaTargetResponse { target: t::SlaTarget::from(&target) }))
}
