//! Admin-only API (`/api/admin/…`): agents, teams, canned responses and API tokens.

use super::AppState;
use super::api_types::{
    self as t, AgentList, AgentResponse, ApiTokenList, CannedResponse, CreatedAgent, CreatedToken, TeamMember,
};
use super::error::{ApiError, ApiResult};
use super::openapi::{Forbidden, Invalid, NotFound, Unauthorized};
use super::session::Admin;
use crate::auth;
use crate::domain::{Role, new_secret, normalize_email};
use crate::store::Queries;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_agents, create_agent))
        .routes(routes!(update_agent))
        .routes(routes!(add_member))
        .routes(routes!(put_canned, delete_canned))
        .routes(routes!(list_tokens, create_token))
        .routes(routes!(revoke_token))
}

fn parse_role(s: &str) -> ApiResult<Role> {
    Role::parse(s).ok_or_else(|| ApiError::invalid("role", "agent or admin"))
}

/// All agents, inactive included
#[utoipa::path(get, path = "/api/admin/agents", tag = "admin: agents", operation_id = "adminListAgents",
    responses(
        (status = 200, description = "OK", body = AgentList),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
    ))]
async fn list_agents(State(queries): State<Queries>, Admin(_a): Admin) -> ApiResult<Json<AgentList>> {
    let agents = queries.agents().await?;
    Ok(Json(AgentList { agents: agents.iter().map(t::Agent::from).collect() }))
}

/// Create an agent
#[utoipa::path(post, path = "/api/admin/agents", tag = "admin: agents", operation_id = "createAgent",
    request_body = t::NewAgent,
    responses(
        (status = 201, description = "Created", body = CreatedAgent),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 409, description = "The email is taken (`conflict`)", body = t::ErrorBody),
        (status = 422, response = Invalid),
    ))]
async fn create_agent(
    State(state): State<AppState>,
    Admin(who): Admin,
    Json(b): Json<t::NewAgent>,
) -> ApiResult<(StatusCode, Json<CreatedAgent>)> {
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
    let body = CreatedAgent { agent: t::Agent::from(&agent), password: generated.then_some(password) };
    Ok((StatusCode::CREATED, Json(body)))
}

/// Change capacity, role or active flag
#[utoipa::path(patch, path = "/api/admin/agents/{id}", tag = "admin: agents", operation_id = "updateAgent",
    params(("id" = String, Path, description = "Agent id")),
    request_body = t::AgentPatch,
    responses(
        (status = 200, description = "OK", body = AgentResponse),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 422, response = Invalid),
    ))]
async fn update_agent(
    State(state): State<AppState>,
    Admin(who): Admin,
    Path(id): Path<String>,
    Json(b): Json<t::AgentPatch>,
) -> ApiResult<Json<AgentResponse>> {
    if b.capacity.is_some_and(|c| !(0..=1000).contains(&c)) {
        return Err(ApiError::invalid("capacity", "0 to 1000"));
    }
    let role = b.role.as_deref().map(parse_role).transpose()?;
    let agent = state
        .hub
        .update_agent(&who.agent_id, &id, b.capacity, role, b.active)
        .await?
        .ok_or_else(|| ApiError::not_found("agent"))?;
    Ok(Json(AgentResponse { agent: t::Agent::from(&agent) }))
}

/// Add an agent to a team (creating the team)
#[utoipa::path(post, path = "/api/admin/teams/{team}/members", tag = "admin: agents", operation_id = "addTeamMember",
    params(("team" = String, Path, description = "Team name (lower-cased, 1 to 64 characters)")),
    request_body = t::Member,
    responses(
        (status = 200, description = "OK", body = TeamMember),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 422, response = Invalid),
    ))]
async fn add_member(
    State(state): State<AppState>,
    Admin(who): Admin,
    Path(team): Path<String>,
    Json(b): Json<t::Member>,
) -> ApiResult<Json<TeamMember>> {
    let team = team.trim().to_lowercase();
    if team.is_empty() || team.len() > 64 {
        return Err(ApiError::invalid("team", "1 to 64 characters"));
    }
    state.queries.agent(&b.agent_id).await?.ok_or_else(|| ApiError::invalid("agent_id", "no such agent"))?;
    state.hub.add_team_member(&who.agent_id, &team, &b.agent_id).await?;
    Ok(Json(TeamMember { team, agent_id: b.agent_id }))
}

/// Create or replace a canned response
#[utoipa::path(put, path = "/api/admin/canned_responses/{shortcut}", tag = "admin: settings",
    operation_id = "putCannedResponse",
    params(("shortcut" = String, Path, description = "Letters, digits, - and _ (a leading / is dropped)")),
    request_body = t::CannedText,
    responses(
        (status = 200, description = "OK", body = CannedResponse),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 422, response = Invalid),
    ))]
async fn put_canned(
    State(state): State<AppState>,
    Admin(who): Admin,
    Path(shortcut): Path<String>,
    Json(b): Json<t::CannedText>,
) -> ApiResult<Json<CannedResponse>> {
    let shortcut = shortcut.trim_start_matches('/').to_lowercase();
    if shortcut.is_empty() || !shortcut.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
        return Err(ApiError::invalid("shortcut", "letters, digits, - and _"));
    }
    if b.text.trim().is_empty() {
        return Err(ApiError::invalid("text", "must not be empty"));
    }
    state.hub.save_canned_response(&who.agent_id, &shortcut, b.text.trim()).await?;
    Ok(Json(CannedResponse { shortcut, text: b.text.trim().to_string() }))
}

/// Delete a canned response
#[utoipa::path(delete, path = "/api/admin/canned_responses/{shortcut}", tag = "admin: settings",
    operation_id = "deleteCannedResponse",
    params(("shortcut" = String, Path, description = "The shortcut")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    ))]
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

/// API tokens (never their secrets)
#[utoipa::path(get, path = "/api/admin/tokens", tag = "admin: agents", operation_id = "listApiTokens",
    responses(
        (status = 200, description = "OK", body = ApiTokenList),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
    ))]
async fn list_tokens(State(queries): State<Queries>, Admin(_a): Admin) -> ApiResult<Json<ApiTokenList>> {
    let tokens = queries.api_tokens().await?;
    Ok(Json(ApiTokenList { tokens: tokens.iter().map(t::ApiToken::from).collect() }))
}

/// Create a bearer API token
///
/// The token acts with its role for the admin who made it; it is shown once, here.
#[utoipa::path(post, path = "/api/admin/tokens", tag = "admin: agents", operation_id = "createApiToken",
    request_body = t::NewToken,
    responses(
        (status = 201, description = "Created", body = CreatedToken),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 422, response = Invalid),
    ))]
async fn create_token(
    State(state): State<AppState>,
    Admin(who): Admin,
    Json(b): Json<t::NewToken>,
) -> ApiResult<(StatusCode, Json<CreatedToken>)> {
    if b.name.trim().is_empty() {
        return Err(ApiError::invalid("name", "must not be empty"));
    }
    let role = b.role.as_deref().map(parse_role).transpose()?.unwrap_or(Role::Agent);
    let token = format!("kt_{}", new_secret());
    let id = state.hub.create_api_token(&who.agent_id, &auth::sha256_hex(&token), b.name.trim(), role).await?;
    // The token itself is shown once, here; only its hash is kept.
    Ok((StatusCode::CREATED, Json(CreatedToken { id, name: b.name.trim().to_string(), role, token })))
}

/// Revoke a token
#[utoipa::path(delete, path = "/api/admin/tokens/{id}", tag = "admin: agents", operation_id = "revokeApiToken",
    params(("id" = String, Path, description = "Token id")),
    responses(
        (status = 204, description = "Revoked"),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    ))]
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
