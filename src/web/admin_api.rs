//! Admin-only API (`/api/admin/…`): agents, teams, canned responses and API tokens.

use super::error::{ApiError, ApiResult};
use super::session::Admin;
use super::{AppState, views};
use crate::auth;
use crate::domain::{Role, new_secret, normalize_email};
use crate::store::Queries;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, get, patch, post, put};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/admin/agents", get(list_agents).post(create_agent))
        .route("/api/admin/agents/{id}", patch(update_agent))
        .route("/api/admin/teams/{team}/members", post(add_member))
        .route("/api/admin/canned_responses/{shortcut}", put(put_canned).delete(delete_canned))
        .route("/api/admin/tokens", get(list_tokens).post(create_token))
        .route("/api/admin/tokens/{id}", delete(revoke_token))
}

fn parse_role(s: &str) -> ApiResult<Role> {
    Role::parse(s).ok_or_else(|| ApiError::invalid("role", "agent or admin"))
}

async fn list_agents(State(queries): State<Queries>, Admin(_a): Admin) -> ApiResult<Json<Value>> {
    let agents = queries.agents().await?;
    Ok(Json(json!({"agents": agents.iter().map(views::agent).collect::<Vec<_>>()})))
}

#[derive(Deserialize)]
struct NewAgent {
    email: String,
    name: String,
    role: String,
    password: Option<String>,
}

async fn create_agent(
    State(state): State<AppState>,
    Admin(who): Admin,
    Json(b): Json<NewAgent>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let email = normalize_email(&b.email).ok_or_else(|| ApiError::invalid("email", "not an email address"))?;
    let role = parse_role(&b.role)?;
    if b.name.trim().is_empty() {
        return Err(ApiError::invalid("name", "must not be empty"));
    }
    let generated = b.password.is_none();
    let password = b.password.unwrap_or_else(auth::generate_password);
    if password.chars().count() < 10 {
        return Err(ApiError::invalid("password", "at least 10 characters"));
    }
    let hash = tokio::task::spawn_blocking({
        let p = password.clone();
        move || auth::hash_password(&p)
    })
    .await
    .map_err(ApiError::internal)?;
    let agent = state
        .hub
        .create_agent(&who.agent_id, &email, b.name.trim(), role, &hash)
        .await?
        .ok_or_else(|| ApiError::not_found("agent"))?;
    let mut body = json!({"agent": views::agent(&agent)});
    if generated {
        body["password"] = json!(password);
    }
    Ok((StatusCode::CREATED, Json(body)))
}

#[derive(Deserialize)]
struct AgentPatch {
    capacity: Option<i64>,
    role: Option<String>,
    active: Option<bool>,
}

async fn update_agent(
    State(state): State<AppState>,
    Admin(who): Admin,
    Path(id): Path<String>,
    Json(b): Json<AgentPatch>,
) -> ApiResult<Json<Value>> {
    if b.capacity.is_some_and(|c| !(0..=1000).contains(&c)) {
        return Err(ApiError::invalid("capacity", "0 to 1000"));
    }
    let role = b.role.as_deref().map(parse_role).transpose()?;
    let agent = state
        .hub
        .update_agent(&who.agent_id, &id, b.capacity, role, b.active)
        .await?
        .ok_or_else(|| ApiError::not_found("agent"))?;
    Ok(Json(json!({"agent": views::agent(&agent)})))
}

#[derive(Deserialize)]
struct Member {
    agent_id: String,
}

async fn add_member(
    State(state): State<AppState>,
    Admin(who): Admin,
    Path(team): Path<String>,
    Json(b): Json<Member>,
) -> ApiResult<Json<Value>> {
    let team = team.trim().to_lowercase();
    if team.is_empty() || team.len() > 64 {
        return Err(ApiError::invalid("team", "1 to 64 characters"));
    }
    state.queries.agent(&b.agent_id).await?.ok_or_else(|| ApiError::invalid("agent_id", "no such agent"))?;
    state.hub.add_team_member(&who.agent_id, &team, &b.agent_id).await?;
    Ok(Json(json!({"team": team, "agent_id": b.agent_id})))
}

#[derive(Deserialize)]
struct Canned {
    text: String,
}

async fn put_canned(
    State(state): State<AppState>,
    Admin(who): Admin,
    Path(shortcut): Path<String>,
    Json(b): Json<Canned>,
) -> ApiResult<Json<Value>> {
    let shortcut = shortcut.trim_start_matches('/').to_lowercase();
    if shortcut.is_empty() || !shortcut.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
        return Err(ApiError::invalid("shortcut", "letters, digits, - and _"));
    }
    if b.text.trim().is_empty() {
        return Err(ApiError::invalid("text", "must not be empty"));
    }
    state.hub.save_canned_response(&who.agent_id, &shortcut, b.text.trim()).await?;
    Ok(Json(json!({"shortcut": shortcut, "text": b.text.trim()})))
}

async fn delete_canned(
    State(state): State<AppState>,
    Admin(who): Admin,
    Path(shortcut): Path<String>,
) -> ApiResult<StatusCode> {
    if !state.hub.delete_canned_response(&who.agent_id, &shortcut).await? {
        return Err(ApiError::not_found("canned response"));
    }
    Ok(StatusCode::NO_CONTENT)
}

async fn list_tokens(State(queries): State<Queries>, Admin(_a): Admin) -> ApiResult<Json<Value>> {
    let tokens = queries.api_tokens().await?;
    Ok(Json(json!({"tokens": tokens.iter().map(|t| json!({
        "id": t.token_id, "name": t.name, "role": t.role, "agent_id": t.agent_id,
        "created_at": views::time(Some(t.created_at)), "revoked_at": views::time(t.revoked_at),
    })).collect::<Vec<_>>()})))
}

#[derive(Deserialize)]
struct NewToken {
    name: String,
    role: Option<String>,
}

async fn create_token(
    State(state): State<AppState>,
    Admin(who): Admin,
    Json(b): Json<NewToken>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    if b.name.trim().is_empty() {
        return Err(ApiError::invalid("name", "must not be empty"));
    }
    let role = b.role.as_deref().map(parse_role).transpose()?.unwrap_or(Role::Agent);
    let token = format!("kt_{}", new_secret());
    let id = state.hub.create_api_token(&who.agent_id, &auth::sha256_hex(&token), b.name.trim(), role).await?;
    // The token itself is shown once, here; only its hash is kept.
    Ok((StatusCode::CREATED, Json(json!({"id": id, "name": b.name.trim(), "role": role, "token": token}))))
}

async fn revoke_token(
    State(state): State<AppState>,
    Admin(who): Admin,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    if !state.hub.revoke_api_token(&who.agent_id, &id).await? {
        return Err(ApiError::not_found("token"));
    }
    Ok(StatusCode::NO_CONTENT)
}
