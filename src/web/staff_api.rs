//! The staff REST API (`/api/…`): login and session, a conversation and its ownership,
//! replies and notes, the contact's 360° view, stock search, agents, teams and canned responses.
//! Every route needs a console session or a bearer token; see `session.rs`. Lists, search and
//! saved views are in `search_api.rs`, reports in `reports_api.rs`.

use super::AppState;
use super::api_types::{
    self as t, AgentList, CannedResponse, CannedResponseList, ConversationDetail, ConversationResponse,
    MessageResponse, PresenceResponse, ProductList, SessionInfo, TeamList,
};
use super::client_addr::ClientIp;
use super::error::{ApiError, ApiResult};
use super::openapi::{Busy, Conflict, Forbidden, Invalid, NotFound, RateLimited, Unauthorized};
use super::session::Staff;
use crate::auth::{self, LoginVerdict};
use crate::bot::render::money;
use crate::domain::Presence;
use crate::domain::ownership::Action;
use crate::security::SecurityEvent;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::Value;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(login))
        .routes(routes!(logout))
        .routes(routes!(me))
        .routes(routes!(set_presence))
        .routes(routes!(get_conversation))
        .routes(routes!(claim))
        .routes(routes!(assign))
        .routes(routes!(unassign))
        .routes(routes!(resolve))
        .routes(routes!(reopen))
        .routes(routes!(handback))
        .routes(routes!(mark_read))
        .routes(routes!(post_message))
        .routes(routes!(get_contact))
        .routes(routes!(stock))
        .routes(routes!(agents))
        .routes(routes!(teams))
        .routes(routes!(canned_responses))
        .routes(routes!(retry_delivery))
}

/// Log in with email and password
///
/// No credentials needed. Failures are limited per IP (20) and per account (5) in 15 minutes,
/// then 429. The session cookie (`kituo_session`, HttpOnly, SameSite=Lax, 12 h) is set; keep
/// `csrf_token`.
#[utoipa::path(post, path = "/api/login", tag = "auth", operation_id = "login", security(()),
    request_body = t::LoginBody,
    responses(
        (status = 200, description = "Logged in; the session cookie is set", body = SessionInfo,
            headers(("Set-Cookie" = String, description = "`kituo_session=…; HttpOnly; SameSite=Lax; Max-Age=43200`"))),
        (status = 401, description = "Wrong email or password, or inactive account (`bad_credentials`)", body = t::ErrorBody),
        (status = 429, response = RateLimited),
    ))]
async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Json(body): Json<t::LoginBody>,
) -> ApiResult<Response> {
    let limiter = &state.login_limiter;
    let queries = &state.queries;
    let hub = &state.hub;
    match limiter.check(queries, ip, &body.email).await? {
        LoginVerdict::Refuse { retry_after_secs, per_address } => {
            let detail = if per_address { "too many failures from this address" } else { "delay after failures" };
            hub.security.record(&hub.metrics, SecurityEvent::LoginThrottled, &ip.to_string(), detail);
            let mut response = ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                "too many failed sign-ins; wait and retry",
            )
            .into_response();
            response.headers_mut().insert(header::RETRY_AFTER, retry_after_secs.into());
            return Ok(response);
        }
        LoginVerdict::Check { slowdown } if !slowdown.is_zero() => tokio::time::sleep(slowdown).await,
        LoginVerdict::Check { .. } => {}
    }
    let creds = queries.agent_credentials(&body.email).await?;
    // Verify even for unknown accounts so timing does not reveal which emails exist.
    let (hash, agent) = match &creds {
        Some((id, hash, true)) => (hash.clone(), Some(id.clone())),
        _ => (auth::dummy_hash().to_string(), None),
    };
    let password = body.password.clone();
    let ok = tokio::task::spawn_blocking(move || auth::verify_password(&hash, &password))
        .await
        .map_err(ApiError::internal)?;
    let Some(agent_id) = agent.filter(|_| ok) else {
        hub.login_failed(limiter, ip, &body.email).await?;
        // The key is the address: the account name a guesser typed is not logged.
        hub.security.record(&hub.metrics, SecurityEvent::LoginFailure, &ip.to_string(), "wrong email or password");
        return Err(ApiError::new(StatusCode::UNAUTHORIZED, "bad_credentials", "wrong email or password"));
    };
    let (token, csrf) = hub.open_session(limiter, ip, &body.email, &agent_id).await?;
    let agent = queries.agent(&agent_id).await?.ok_or_else(|| ApiError::not_found("agent"))?;
    let secure = headers.get("x-forwarded-proto").is_some_and(|v| v == "https") || state.secure_cookies;
    let cookie = format!(
        "{}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{}",
        auth::SESSION_COOKIE,
        auth::SESSION_TTL.as_secs(),
        if secure { "; Secure" } else { "" }
    );
    let body = SessionInfo { agent: t::Agent::from(&agent), csrf_token: Some(csrf) };
    Ok(([(header::SET_COOKIE, cookie)], Json(body)).into_response())
}

/// End the cookie session
#[utoipa::path(post, path = "/api/logout", tag = "auth", operation_id = "logout",
    responses(
        (status = 204, description = "Session deleted, cookie cleared"),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
    ))]
async fn logout(State(state): State<AppState>, Staff(who): Staff, headers: HeaderMap) -> ApiResult<Response> {
    let session = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|c| auth::cookie_value(c, auth::SESSION_COOKIE));
    state.hub.close_session(session, &who).await?;
    let clear = format!("{}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0", auth::SESSION_COOKIE);
    Ok((StatusCode::NO_CONTENT, [(header::SET_COOKIE, clear)]).into_response())
}

/// The caller and its CSRF token
#[utoipa::path(get, path = "/api/me", tag = "auth", operation_id = "getMe",
    responses((status = 200, description = "OK", body = SessionInfo), (status = 401, response = Unauthorized)))]
async fn me(State(state): State<AppState>, Staff(who): Staff) -> ApiResult<Json<SessionInfo>> {
    let agent = state.queries.agent(&who.agent_id).await?.ok_or_else(ApiError::unauthorized)?;
    Ok(Json(SessionInfo { agent: t::Agent::from(&agent), csrf_token: who.csrf_token }))
}

/// Set the caller's presence
///
/// Going online may take waiting conversations.
#[utoipa::path(put, path = "/api/me/presence", tag = "agents", operation_id = "setPresence",
    request_body = t::PresenceBody,
    responses(
        (status = 200, description = "OK", body = PresenceResponse),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 422, response = Invalid),
    ))]
async fn set_presence(
    State(state): State<AppState>,
    Staff(who): Staff,
    Json(b): Json<t::PresenceBody>,
) -> ApiResult<Json<PresenceResponse>> {
    let presence =
        Presence::parse(&b.presence).ok_or_else(|| ApiError::invalid("presence", "online, away or offline"))?;
    state.hub.set_presence(&who.agent_id, presence).await?;
    Ok(Json(PresenceResponse { presence }))
}

/// A conversation with the contact's whole history
///
/// The history is the contact's, across conversations (up to 1,000 messages), with the bot's
/// handoff context and the delivery state of replies.
#[utoipa::path(get, path = "/api/conversations/{id}", tag = "conversations", operation_id = "getConversation",
    params(("id" = String, Path, description = "Conversation id")),
    responses(
        (status = 200, description = "OK", body = ConversationDetail),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound),
    ))]
async fn get_conversation(
    State(state): State<AppState>,
    Staff(_who): Staff,
    Path(id): Path<String>,
) -> ApiResult<Json<ConversationDetail>> {
    let queries = &state.queries;
    let mut summary = queries.conversation_summary(&id).await?.ok_or_else(|| ApiError::not_found("conversation"))?;
    state.hub.with_sla(std::slice::from_mut(&mut summary)).await?;
    let mut history = queries.contact_history(&summary.contact_id, 1000).await?;
    queries.fill_attachments(history.iter_mut().map(|(m, _)| m).collect()).await?;
    let messages: Vec<t::Message> = history.iter().map(|(m, channel)| t::Message::new(m, channel)).collect();
    let handoff =
        queries.handoff_context(&id).await?.and_then(|h| serde_json::from_str::<Value>(&h).ok()).map(|mut h| {
            h["summary"] = Value::from(summary.summary.clone());
            h
        });
    let deliveries: Vec<t::Delivery> = queries.delivery_states(&id).await?.iter().map(t::Delivery::from).collect();
    let mut conversation = t::ConversationSummary::from(&summary);
    super::csat_api::attach(queries, std::slice::from_mut(&mut conversation)).await?;
    Ok(Json(ConversationDetail { conversation, messages, handoff, deliveries }))
}

async fn respond(state: &AppState, id: &str, action: Action) -> ApiResult<Json<ConversationResponse>> {
    let s = state.hub.transition(id, action).await?;
    Ok(Json(ConversationResponse { conversation: t::ConversationSummary::from(&s) }))
}

/// Take a conversation
///
/// From the queue (or from the bot): assigned to the caller. 409 `already_assigned` when
/// another agent has it, `resolved` when it is resolved.
#[utoipa::path(post, path = "/api/conversations/{id}/claim", tag = "conversations", operation_id = "claimConversation",
    params(("id" = String, Path, description = "Conversation id")),
    responses(
        (status = 200, description = "The conversation after the change", body = ConversationResponse),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 503, response = Busy),
    ))]
async fn claim(
    State(state): State<AppState>,
    Staff(who): Staff,
    Path(id): Path<String>,
) -> ApiResult<Json<ConversationResponse>> {
    respond(&state, &id, Action::Claim { agent: who.agent_id }).await
}

/// Transfer to an agent or a team
///
/// Give exactly one of `agent_id` (an active agent) or `team` (an existing team).
#[utoipa::path(post, path = "/api/conversations/{id}/assign", tag = "conversations",
    operation_id = "assignConversation",
    params(("id" = String, Path, description = "Conversation id")),
    request_body = t::AssignBody,
    responses(
        (status = 200, description = "The conversation after the change", body = ConversationResponse),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 422, response = Invalid),
        (status = 503, response = Busy),
    ))]
async fn assign(
    State(state): State<AppState>,
    Staff(_who): Staff,
    Path(id): Path<String>,
    Json(b): Json<t::AssignBody>,
) -> ApiResult<Json<ConversationResponse>> {
    let queries = &state.queries;
    match (b.agent_id, b.team) {
        (Some(agent), None) => {
            let a = queries
                .agent(&agent)
                .await?
                .filter(|a| a.active)
                .ok_or_else(|| ApiError::invalid("agent_id", "no such active agent"))?;
            respond(&state, &id, Action::AssignAgent { agent: a.agent_id }).await
        }
        (None, Some(team)) => {
            if !queries.team_exists(&team).await? {
                return Err(ApiError::invalid("team", "no such team"));
            }
            respond(&state, &id, Action::AssignTeam { team }).await
        }
        _ => Err(ApiError::invalid("agent_id", "give exactly one of agent_id or team")),
    }
}

/// Return an assigned conversation to the queue
#[utoipa::path(post, path = "/api/conversations/{id}/unassign", tag = "conversations", operation_id = "unassignConversation",
    params(("id" = String, Path, description = "Conversation id")),
    responses(
        (status = 200, description = "The conversation after the change", body = ConversationResponse),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, description = "Not allowed in the current state (`not_assigned`)", body = t::ErrorBody),
        (status = 503, response = Busy),
    ))]
async fn unassign(
    State(state): State<AppState>,
    Staff(_w): Staff,
    Path(id): Path<String>,
) -> ApiResult<Json<ConversationResponse>> {
    respond(&state, &id, Action::Unassign).await
}

/// Resolve
#[utoipa::path(post, path = "/api/conversations/{id}/resolve", tag = "conversations", operation_id = "resolveConversation",
    params(("id" = String, Path, description = "Conversation id")),
    responses(
        (status = 200, description = "The conversation after the change", body = ConversationResponse),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, description = "Not allowed in the current state (`resolved`)", body = t::ErrorBody),
        (status = 503, response = Busy),
    ))]
async fn resolve(
    State(state): State<AppState>,
    Staff(_w): Staff,
    Path(id): Path<String>,
) -> ApiResult<Json<ConversationResponse>> {
    respond(&state, &id, Action::Resolve).await
}

/// Reopen a resolved conversation and take it
#[utoipa::path(post, path = "/api/conversations/{id}/reopen", tag = "conversations", operation_id = "reopenConversation",
    params(("id" = String, Path, description = "Conversation id")),
    responses(
        (status = 200, description = "The conversation after the change", body = ConversationResponse),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, description = "Not allowed in the current state (`not_resolved`)", body = t::ErrorBody),
        (status = 503, response = Busy),
    ))]
async fn reopen(
    State(state): State<AppState>,
    Staff(who): Staff,
    Path(id): Path<String>,
) -> ApiResult<Json<ConversationResponse>> {
    respond(&state, &id, Action::Reopen { agent: who.agent_id }).await
}

/// Hand the conversation back to the bot
#[utoipa::path(post, path = "/api/conversations/{id}/handback", tag = "conversations", operation_id = "handBackConversation",
    params(("id" = String, Path, description = "Conversation id")),
    responses(
        (status = 200, description = "The conversation after the change", body = ConversationResponse),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, description = "Not allowed in the current state (`resolved`)", body = t::ErrorBody),
        (status = 503, response = Busy),
    ))]
async fn handback(
    State(state): State<AppState>,
    Staff(_w): Staff,
    Path(id): Path<String>,
) -> ApiResult<Json<ConversationResponse>> {
    respond(&state, &id, Action::Handback).await
}

/// Mark the conversation read
#[utoipa::path(post, path = "/api/conversations/{id}/read", tag = "conversations", operation_id = "markConversationRead",
    params(("id" = String, Path, description = "Conversation id")),
    responses(
        (status = 200, description = "The conversation after the change", body = ConversationResponse),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    ))]
async fn mark_read(
    State(state): State<AppState>,
    Staff(_w): Staff,
    Path(id): Path<String>,
) -> ApiResult<Json<ConversationResponse>> {
    if !state.hub.mark_read(&id).await? {
        return Err(ApiError::not_found("conversation"));
    }
    let s = state.hub.summary(&id).await?;
    Ok(Json(ConversationResponse { conversation: t::ConversationSummary::from(&s) }))
}

/// Reply to the customer or add a private note
///
/// A reply is stored with its delivery (outbox) row and sent on the conversation's channel; a
/// note (`private`) is only stored.
#[utoipa::path(post, path = "/api/conversations/{id}/messages", tag = "conversations", operation_id = "postMessage",
    params(("id" = String, Path, description = "Conversation id")),
    request_body = t::MessageBody,
    responses(
        (status = 201, description = "Stored", body = MessageResponse),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 422, response = Invalid),
        (status = 503, response = Busy),
    ))]
async fn post_message(
    State(state): State<AppState>,
    Staff(who): Staff,
    Path(id): Path<String>,
    Json(b): Json<t::MessageBody>,
) -> ApiResult<(StatusCode, Json<MessageResponse>)> {
    let text = b.text.trim();
    if text.is_empty() && b.attachments.is_empty() {
        return Err(ApiError::invalid("text", "must not be empty"));
    }
    if b.attachments.len() > 10 {
        return Err(ApiError::invalid("attachments", "at most 10 files per message"));
    }
    // A file sent alone still shows as a line of text on channels that do not carry files.
    let text = if text.is_empty() { "📎" } else { text };
    if text.chars().count() > 10_000 {
        return Err(ApiError::invalid("text", "at most 10,000 characters"));
    }
    let m = state.hub.agent_message_with_files(&id, &who, text, b.private, &b.attachments).await?;
    let channel = state.queries.conversation(&id).await?.map(|c| c.channel).unwrap_or_default();
    Ok((StatusCode::CREATED, Json(MessageResponse { message: t::Message::new(&m, &channel) })))
}

/// The contact's 360° view
///
/// Identities, the back office's orders (with lines, stock and return/refund requests) and
/// invoices for every email identity, and the contact's conversations.
#[utoipa::path(get, path = "/api/contacts/{id}", tag = "contacts", operation_id = "getContact",
    params(("id" = String, Path, description = "Contact id")),
    responses(
        (status = 200, description = "OK", body = t::Contact360),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound),
        (status = 503, response = Busy),
    ))]
async fn get_contact(
    State(state): State<AppState>,
    Staff(_w): Staff,
    Path(id): Path<String>,
) -> ApiResult<Json<t::Contact360>> {
    let queries = &state.queries;
    let (name, created_at) = queries.contact(&id).await?.ok_or_else(|| ApiError::not_found("contact"))?;
    let avatar_url = queries.contact_avatar(&id).await?;
    let identities = queries.identities(&id).await?;
    let backoffice = state.hub.backoffice();
    let mut orders = Vec::new();
    let mut invoices = Vec::new();
    for (_, email, _) in identities.iter().filter(|(kind, _, _)| kind == "email") {
        for o in backoffice.orders_of(email).await? {
            let lines = order_lines_with_stock(backoffice, &o.order_number).await?;
            // Return/refund requests (the bot's or an agent's), newest first.
            let requests = backoffice.requests_of(&o.order_number).await?.iter().map(t::OrderRequest::from).collect();
            orders.push(t::Order {
                lines,
                requests,
                order_number: o.order_number,
                customer_email: o.customer_email,
                customer_name: o.customer_name,
                status: o.status,
                placed_at: t::time(o.placed_at),
                shipped_at: t::time(o.shipped_at),
                carrier: o.carrier,
                tracking_number: o.tracking_number,
                total: o.total_minor.map(|m| money(m, o.currency.as_deref().unwrap_or(""))),
            });
        }
        invoices.extend(backoffice.invoices_of(email).await?.iter().map(t::Invoice::from));
    }
    let conversations = queries
        .conversations_of_contact(&id)
        .await?
        .into_iter()
        .map(|(cid, status, channel, created, updated)| t::ContactConversation {
            id: cid,
            status,
            channel,
            created_at: crate::domain::rfc3339(created),
            updated_at: crate::domain::rfc3339(updated),
        })
        .collect();
    let identities = identities
        .into_iter()
        .filter(|(kind, _, _)| kind != "web")
        .map(|(kind, value, verification)| t::Identity { kind, value, verification })
        .collect();
    Ok(Json(t::Contact360 {
        contact: t::ContactInfo { id, name, avatar_url, created_at: crate::domain::rfc3339(created_at) },
        identities,
        orders,
        invoices,
        conversations,
    }))
}

/// The order's lines for the 360° panel, each with the current stock of its product.
async fn order_lines_with_stock(
    backoffice: &dyn crate::backoffice::BackOffice,
    number: &str,
) -> Result<Vec<t::OrderLine>, crate::backoffice::Error> {
    let Some(detail) = backoffice.order_detail(number).await? else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for l in detail.lines {
        let stock = backoffice.stock(&l.sku).await?.into_iter().find(|p| p.sku.eq_ignore_ascii_case(&l.sku));
        out.push(t::OrderLine {
            unit_price: l.unit_price_minor.map(|m| money(m, detail.order.currency.as_deref().unwrap_or(""))),
            stock: stock.map(|p| t::LineStock { quantity_on_hand: p.quantity_on_hand, available: p.sellable() }),
            sku: l.sku,
            name: l.name,
            quantity: l.quantity,
        });
    }
    Ok(out)
}

#[derive(Deserialize, IntoParams)]
struct StockQuery {
    /// SKU or words of the product name.
    q: String,
}

/// Search the stock
#[utoipa::path(get, path = "/api/stock", tag = "back office", operation_id = "searchStock",
    params(StockQuery),
    responses(
        (status = 200, description = "OK", body = ProductList),
        (status = 400, description = "`q` missing (plain text)"),
        (status = 401, response = Unauthorized),
        (status = 503, response = Busy),
    ))]
async fn stock(
    State(state): State<AppState>,
    Staff(_w): Staff,
    Query(q): Query<StockQuery>,
) -> ApiResult<Json<ProductList>> {
    let products = state.hub.backoffice().stock(&q.q).await?;
    Ok(Json(ProductList { products: products.iter().map(t::Product::from).collect() }))
}

/// Active agents (for transfers and presence)
#[utoipa::path(get, path = "/api/agents", tag = "agents", operation_id = "listActiveAgents",
    responses((status = 200, description = "OK", body = AgentList), (status = 401, response = Unauthorized)))]
async fn agents(State(state): State<AppState>, Staff(_w): Staff) -> ApiResult<Json<AgentList>> {
    let agents = state.queries.agents().await?;
    Ok(Json(AgentList { agents: agents.iter().filter(|a| a.active).map(t::Agent::from).collect() }))
}

/// Teams with their member counts
#[utoipa::path(get, path = "/api/teams", tag = "agents", operation_id = "listTeams",
    responses((status = 200, description = "OK", body = TeamList), (status = 401, response = Unauthorized)))]
async fn teams(State(state): State<AppState>, Staff(_w): Staff) -> ApiResult<Json<TeamList>> {
    let teams = state.queries.teams().await?;
    Ok(Json(TeamList { teams: teams.into_iter().map(|(name, members)| t::Team { name, members }).collect() }))
}

/// Canned responses (`/shortcut` texts)
#[utoipa::path(get, path = "/api/canned_responses", tag = "conversations", operation_id = "listCannedResponses",
    responses((status = 200, description = "OK", body = CannedResponseList), (status = 401, response = Unauthorized)))]
async fn canned_responses(State(state): State<AppState>, Staff(_w): Staff) -> ApiResult<Json<CannedResponseList>> {
    let list = state.queries.canned_responses().await?;
    Ok(Json(CannedResponseList {
        canned_responses: list.into_iter().map(|(shortcut, text)| CannedResponse { shortcut, text }).collect(),
    }))
}

/// Retry a failed outbound delivery
#[utoipa::path(post, path = "/api/outbox/{id}/retry", tag = "conversations", operation_id = "retryDelivery",
    params(("id" = String, Path, description = "Outbox id (from `deliveries`)")),
    responses(
        (status = 202, description = "Pending again, attempts reset"),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 409, description = "Not a failed delivery, or unknown id (`not_failed`)", body = t::ErrorBody),
    ))]
async fn retry_delivery(
    State(state): State<AppState>,
    Staff(_w): Staff,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    if state.hub.retry_delivery(&id).await? {
        Ok(StatusCode::ACCEPTED)
    } else {
        Err(ApiError::new(StatusCode::CONFLICT, "not_failed", "only a failed delivery can be retried"))
    }
}
