//! The staff REST API (`/api/…`): login and session, a conversation and its ownership,
//! replies and notes, the contact's 360° view, stock search, agents, teams, canned responses and
//! reports. Every route needs a console session or a bearer token; see `session.rs`. Lists,
//! search and saved views are in `search_api.rs`.

use super::client_addr::ClientIp;
use super::error::{ApiError, ApiResult};
use super::session::Staff;
use super::{AppState, views};
use crate::auth::{self, LoginVerdict};
use crate::bot::render::money;
use crate::domain::ownership::Action;
use crate::domain::{Presence, now_ms};
use crate::security::SecurityEvent;
use crate::store::Queries;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/login", post(login))
        .route("/api/logout", post(logout))
        .route("/api/me", get(me))
        .route("/api/me/presence", put(set_presence))
        .route("/api/conversations/{id}", get(get_conversation))
        .route("/api/conversations/{id}/claim", post(claim))
        .route("/api/conversations/{id}/assign", post(assign))
        .route("/api/conversations/{id}/unassign", post(unassign))
        .route("/api/conversations/{id}/resolve", post(resolve))
        .route("/api/conversations/{id}/reopen", post(reopen))
        .route("/api/conversations/{id}/handback", post(handback))
        .route("/api/conversations/{id}/read", post(mark_read))
        .route("/api/conversations/{id}/messages", post(post_message))
        .route("/api/contacts/{id}", get(get_contact))
        .route("/api/stock", get(stock))
        .route("/api/agents", get(agents))
        .route("/api/teams", get(teams))
        .route("/api/canned_responses", get(canned_responses))
        .route("/api/reports", get(reports))
        .route("/api/outbox/{id}/retry", post(retry_delivery))
}

#[derive(Deserialize)]
struct LoginBody {
    email: String,
    password: String,
}

async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Json(body): Json<LoginBody>,
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
    let body = json!({"agent": views::agent(&agent), "csrf_token": csrf});
    Ok(([(header::SET_COOKIE, cookie)], Json(body)).into_response())
}

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

async fn me(State(queries): State<Queries>, Staff(who): Staff) -> ApiResult<Json<Value>> {
    let agent = queries.agent(&who.agent_id).await?.ok_or_else(ApiError::unauthorized)?;
    Ok(Json(json!({"agent": views::agent(&agent), "csrf_token": who.csrf_token})))
}

#[derive(Deserialize)]
struct PresenceBody {
    presence: String,
}

async fn set_presence(
    State(state): State<AppState>,
    Staff(who): Staff,
    Json(b): Json<PresenceBody>,
) -> ApiResult<Json<Value>> {
    let presence =
        Presence::parse(&b.presence).ok_or_else(|| ApiError::invalid("presence", "online, away or offline"))?;
    state.hub.set_presence(&who.agent_id, presence).await?;
    Ok(Json(json!({"presence": presence})))
}

async fn get_conversation(
    State(state): State<AppState>,
    Staff(_who): Staff,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let queries = &state.queries;
    let mut summary = queries.conversation_summary(&id).await?.ok_or_else(|| ApiError::not_found("conversation"))?;
    state.hub.with_sla(std::slice::from_mut(&mut summary)).await?;
    let mut history = queries.contact_history(&summary.contact_id, 1000).await?;
    super::attachments::fill(queries, history.iter_mut().map(|(m, _)| m).collect()).await?;
    let messages: Vec<Value> = history.iter().map(|(m, channel)| views::message(m, channel)).collect();
    let handoff =
        queries.handoff_context(&id).await?.and_then(|h| serde_json::from_str::<Value>(&h).ok()).map(|mut h| {
            h["summary"] = json!(summary.summary);
            h
        });
    let deliveries: Vec<Value> = queries
        .delivery_states(&id)
        .await?
        .iter()
        .map(|d| {
            json!({"outbox_id": d.outbox_id, "message_id": d.message_id, "status": d.status,
                   "attempts": d.attempts, "last_error": d.last_error})
        })
        .collect();
    let mut conversation = views::summary(&summary);
    super::labels_api::attach(queries, std::slice::from_mut(&mut conversation)).await?;
    super::csat_api::attach(queries, std::slice::from_mut(&mut conversation)).await?;
    Ok(Json(json!({"conversation": conversation, "messages": messages, "handoff": handoff, "deliveries": deliveries})))
}

async fn respond(state: &AppState, id: &str, action: Action) -> ApiResult<Json<Value>> {
    let s = state.hub.transition(id, action).await?;
    Ok(Json(json!({"conversation": views::summary(&s)})))
}

async fn claim(State(state): State<AppState>, Staff(who): Staff, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    respond(&state, &id, Action::Claim { agent: who.agent_id }).await
}

#[derive(Deserialize)]
struct AssignBody {
    agent_id: Option<String>,
    team: Option<String>,
}

async fn assign(
    State(state): State<AppState>,
    Staff(_who): Staff,
    Path(id): Path<String>,
    Json(b): Json<AssignBody>,
) -> ApiResult<Json<Value>> {
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

async fn unassign(State(state): State<AppState>, Staff(_w): Staff, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    respond(&state, &id, Action::Unassign).await
}

async fn resolve(State(state): State<AppState>, Staff(_w): Staff, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    respond(&state, &id, Action::Resolve).await
}

async fn reopen(State(state): State<AppState>, Staff(who): Staff, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    respond(&state, &id, Action::Reopen { agent: who.agent_id }).await
}

async fn handback(State(state): State<AppState>, Staff(_w): Staff, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    respond(&state, &id, Action::Handback).await
}

async fn mark_read(State(state): State<AppState>, Staff(_w): Staff, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    if !state.hub.mark_read(&id).await? {
        return Err(ApiError::not_found("conversation"));
    }
    let s = state.hub.summary(&id).await?;
    Ok(Json(json!({"conversation": views::summary(&s)})))
}

#[derive(Deserialize)]
struct MessageBody {
    text: String,
    #[serde(default)]
    private: bool,
    /// Ids of files uploaded to this conversation (`POST /api/widget/attachments` as staff).
    #[serde(default)]
    attachments: Vec<String>,
}

async fn post_message(
    State(state): State<AppState>,
    Staff(who): Staff,
    Path(id): Path<String>,
    Json(b): Json<MessageBody>,
) -> ApiResult<(StatusCode, Json<Value>)> {
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
    Ok((StatusCode::CREATED, Json(json!({"message": views::message(&m, &channel)}))))
}

async fn get_contact(
    State(state): State<AppState>,
    Staff(_w): Staff,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
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
            let requests: Vec<Value> = backoffice
                .requests_of(&o.order_number)
                .await?
                .iter()
                .map(|r| {
                    json!({"request_id": r.request_id, "kind": r.kind.as_str(), "state": r.state,
                           "skus": r.skus, "reason": r.reason, "created_at": views::time(Some(r.created_at))})
                })
                .collect();
            orders.push(json!({
                "lines": lines, "requests": requests,
                "order_number": o.order_number, "customer_email": o.customer_email, "customer_name": o.customer_name,
                "status": o.status, "placed_at": views::time(o.placed_at), "shipped_at": views::time(o.shipped_at),
                "carrier": o.carrier, "tracking_number": o.tracking_number,
                "total": o.total_minor.map(|m| money(m, o.currency.as_deref().unwrap_or(""))),
            }));
        }
        for i in backoffice.invoices_of(email).await? {
            invoices.push(json!({
                "invoice_number": i.invoice_number, "order_number": i.order_number, "status": i.status,
                "amount": money(i.amount_minor, &i.currency), "issued_at": views::time(i.issued_at),
                "due_at": views::time(i.due_at), "paid_at": views::time(i.paid_at),
            }));
        }
    }
    let conversations: Vec<Value> = queries
        .conversations_of_contact(&id)
        .await?
        .into_iter()
        .map(|(cid, status, channel, created, updated)| {
            json!({"id": cid, "status": status, "channel": channel,
                   "created_at": views::time(Some(created)), "updated_at": views::time(Some(updated))})
        })
        .collect();
    Ok(Json(json!({
        "contact": {"id": id, "name": name, "avatar_url": avatar_url, "created_at": views::time(Some(created_at))},
        "identities": identities.iter().filter(|(kind, _, _)| kind != "web").map(|(kind, value, verification)| {
            json!({"kind": kind, "value": value, "verification": verification})
        }).collect::<Vec<_>>(),
        "orders": orders,
        "invoices": invoices,
        "conversations": conversations,
    })))
}

/// The order's lines for the 360° panel, each with the current stock of its product.
async fn order_lines_with_stock(
    backoffice: &dyn crate::backoffice::BackOffice,
    number: &str,
) -> Result<Vec<Value>, crate::backoffice::Error> {
    let Some(detail) = backoffice.order_detail(number).await? else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for l in detail.lines {
        let stock = backoffice.stock(&l.sku).await?.into_iter().find(|p| p.sku.eq_ignore_ascii_case(&l.sku));
        out.push(json!({
            "sku": l.sku, "name": l.name, "quantity": l.quantity,
            "unit_price": l.unit_price_minor.map(|m| money(m, detail.order.currency.as_deref().unwrap_or(""))),
            "stock": stock.map(|p| json!({"quantity_on_hand": p.quantity_on_hand, "available": p.sellable()})),
        }));
    }
    Ok(out)
}

#[derive(Deserialize)]
struct StockQuery {
    q: String,
}

async fn stock(State(state): State<AppState>, Staff(_w): Staff, Query(q): Query<StockQuery>) -> ApiResult<Json<Value>> {
    let products = state.hub.backoffice().stock(&q.q).await?;
    Ok(Json(json!({"products": products.iter().map(|p| json!({
        "sku": p.sku, "name": p.name, "quantity_on_hand": p.quantity_on_hand,
        "restock_date": views::time(p.restock_date),
        "price": p.price_minor.map(|m| money(m, p.currency.as_deref().unwrap_or(""))),
    })).collect::<Vec<_>>()})))
}

async fn agents(State(queries): State<Queries>, Staff(_w): Staff) -> ApiResult<Json<Value>> {
    let agents = queries.agents().await?;
    Ok(Json(json!({"agents": agents.iter().filter(|a| a.active).map(views::agent).collect::<Vec<_>>()})))
}

async fn teams(State(queries): State<Queries>, Staff(_w): Staff) -> ApiResult<Json<Value>> {
    let teams = queries.teams().await?;
    Ok(Json(json!({"teams": teams.iter().map(|(name, n)| json!({"name": name, "members": n})).collect::<Vec<_>>()})))
}

async fn canned_responses(State(queries): State<Queries>, Staff(_w): Staff) -> ApiResult<Json<Value>> {
    let list = queries.canned_responses().await?;
    Ok(Json(
        json!({"canned_responses": list.iter().map(|(s, t)| json!({"shortcut": s, "text": t})).collect::<Vec<_>>()}),
    ))
}

#[derive(Deserialize)]
struct ReportQuery {
    days: Option<i64>,
}

async fn reports(
    State(queries): State<Queries>,
    Staff(_w): Staff,
    Query(q): Query<ReportQuery>,
) -> ApiResult<Json<Value>> {
    let days = q.days.unwrap_or(14).clamp(1, 366);
    let today = now_ms() / 86_400_000;
    let since = (today - days + 1) * 86_400_000;
    let rows = queries.report(since).await?;
    let breaches = queries.sla_report(since).await?;
    let out: Vec<Value> = rows
        .iter()
        .map(|r| {
            let date = crate::domain::rfc3339(r.day * 86_400_000);
            json!({
                "date": &date[..10],
                "channel": r.channel,
                "conversations": r.conversations,
                "bot_resolved": r.bot_resolved,
                "containment_rate": if r.conversations > 0 { Some(r.bot_resolved as f64 / r.conversations as f64) } else { None },
                "first_response_avg_s": r.first_response_avg_ms.map(|ms| ms / 1000.0),
                "resolution_avg_s": r.resolution_avg_ms.map(|ms| ms / 1000.0),
                "sla_breaches": breaches.iter().find(|b| b.day == r.day && b.channel == r.channel).map_or(
                    json!({"first_response": 0, "resolution": 0}),
                    |b| json!({"first_response": b.first_response, "resolution": b.resolution})
                ),
            })
        })
        .collect();
    // Containment: what the bot finished without a person, in conversations and in actions.
    let conversations: i64 = rows.iter().map(|r| r.conversations).sum();
    let bot_resolved: i64 = rows.iter().map(|r| r.bot_resolved).sum();
    let actions = queries.bot_actions_since(since).await?;
    let bot_actions: serde_json::Map<String, Value> = ["cancel_order", "return_refund", "invoice_copy"]
        .into_iter()
        .map(|a| {
            let c = actions.get(a).cloned().unwrap_or_default();
            (a.to_string(), json!({"done": c.done, "refused": c.refused, "failed": c.failed}))
        })
        .collect();
    let csat = queries.csat_report(since).await?;
    let groups = |list: &[crate::store::CsatGroup], key: &str| -> Vec<Value> {
        list.iter()
            .map(|g| {
                let mut v = json!({"ratings": g.ratings, "average": g.average, "satisfied": g.satisfied,
                                   "satisfied_rate": if g.ratings > 0 { Some(g.satisfied as f64 / g.ratings as f64) } else { None }});
                v[key] = json!(g.key);
                if key == "agent_id" {
                    v["agent_name"] = json!(g.name);
                }
                v
            })
            .collect()
    };
    let (fr, res) = breaches.iter().fold((0, 0), |(a, b), d| (a + d.first_response, b + d.resolution));
    let labels: Vec<Value> = queries
        .label_report(since)
        .await?
        .into_iter()
        .map(|(name, color, n)| json!({"name": name, "color": color, "conversations": n}))
        .collect();
    Ok(Json(json!({
        "days": out,
        "totals": {"conversations": conversations, "bot_resolved": bot_resolved,
                   "bot_actions_done": actions.values().map(|c| c.done).sum::<i64>()},
        "bot_actions": bot_actions,
        "csat": {
            "by_agent": groups(&csat.by_agent, "agent_id"),
            "by_team": groups(&csat.by_team, "team"),
            "by_channel": groups(&csat.by_channel, "channel"),
            "by_day": groups(&csat.by_day, "date"),
        },
        "sla_breaches": {"first_response": fr, "resolution": res},
        "labels": labels,
    })))
}

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
