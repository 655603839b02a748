//! Settings admins change in the browser (business hours, widget secret, allowed widget
//! origins): stored in the database, which wins over flags and environment once set, and in
//! force at once. Also the back office as the admin sees it (source without credentials, its
//! state, "test connection"), the audit-log reader and team membership removal.

use super::AppState;
use super::api_types::{self as t, AuditList, BackofficeState, BackofficeTest, Settings};
use super::error::{ApiError, ApiResult};
use super::openapi::{Forbidden, Invalid, NotFound, Unauthorized};
use super::rules_api::audit;
use super::session::Admin;
use crate::queue::hours::BusinessHours;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::{Arc, RwLock};
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Settings read on every use (cheap clones behind locks held only to copy).
#[derive(Default)]
pub struct LiveSettings {
    widget_secret: RwLock<Option<Arc<[u8]>>>,
    allowed_origins: RwLock<Vec<String>>,
    business_hours: RwLock<(Option<String>, String)>,
}

impl LiveSettings {
    pub fn new(widget_secret: Option<&str>, business_hours: Option<&str>, utc_offset: &str) -> LiveSettings {
        let s = LiveSettings::default();
        s.set_widget_secret(widget_secret);
        *s.business_hours.write().expect("settings lock poisoned") =
            (business_hours.filter(|h| !h.trim().is_empty()).map(str::to_string), utc_offset.to_string());
        s
    }

    pub fn widget_secret(&self) -> Option<Arc<[u8]>> {
        self.widget_secret.read().expect("settings lock poisoned").clone()
    }

    pub fn set_widget_secret(&self, secret: Option<&str>) {
        *self.widget_secret.write().expect("settings lock poisoned") =
            secret.filter(|s| !s.is_empty()).map(|s| Arc::from(s.as_bytes()));
    }

    pub fn allowed_origins(&self) -> Vec<String> {
        self.allowed_origins.read().expect("settings lock poisoned").clone()
    }

    /// Whether a widget on a page of `origin` may connect (any origin while the list is empty).
    pub fn origin_allowed(&self, origin: Option<&str>) -> bool {
        let list = self.allowed_origins.read().expect("settings lock poisoned");
        list.is_empty() || origin.is_some_and(|o| list.iter().any(|a| a.eq_ignore_ascii_case(o.trim_end_matches('/'))))
    }

    pub fn business_hours(&self) -> (Option<String>, String) {
        self.business_hours.read().expect("settings lock poisoned").clone()
    }

    /// Applies stored settings (database wins over flags and environment).
    pub fn apply_stored(&self, stored: &[(String, String)]) {
        for (key, value) in stored {
            match key.as_str() {
                "widget_secret" => self.set_widget_secret(Some(value)),
                "allowed_origins" => {
                    *self.allowed_origins.write().expect("settings lock poisoned") =
                        serde_json::from_str(value).unwrap_or_default();
                }
                "business_hours" => {
                    self.business_hours.write().expect("settings lock poisoned").0 = Some(value.clone())
                }
                "utc_offset" => self.business_hours.write().expect("settings lock poisoned").1 = value.clone(),
                _ => {}
            }
        }
    }

    /// The business hours in force, parsed.
    pub fn parsed_hours(&self) -> Result<Option<BusinessHours>, String> {
        let (spec, offset) = self.business_hours();
        spec.filter(|s| !s.trim().is_empty()).map(|s| BusinessHours::parse(&s, &offset)).transpose()
    }
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_settings, put_settings))
        .routes(routes!(test_backoffice))
        .routes(routes!(get_audit))
        .routes(routes!(remove_member))
}

fn settings_json(state: &AppState) -> Json<Settings> {
    let s = &state.settings;
    let (hours, offset) = s.business_hours();
    Json(Settings {
        business_hours: hours,
        utc_offset: offset,
        widget_secret_set: s.widget_secret().is_some(),
        allowed_origins: s.allowed_origins(),
        backoffice: backoffice_json(state.hub.backoffice()),
    })
}

/// The source (`builtin`, `tryton`, `sql`), where it is (no password) and its state.
fn backoffice_json(bo: &dyn crate::backoffice::BackOffice) -> BackofficeState {
    let health = bo.health();
    BackofficeState {
        source: bo.source().into(),
        location: bo.location(),
        state: health.as_ref().map_or("up", |h| h.state).into(),
        last_error: health.and_then(|h| h.last_error),
    }
}

/// Settings in force
#[utoipa::path(get, path = "/api/admin/settings", tag = "admin: settings", operation_id = "getSettings",
    responses(
        (status = 200, description = "OK", body = Settings),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
    ))]
async fn get_settings(State(state): State<AppState>, Admin(_a): Admin) -> Json<Settings> {
    settings_json(&state)
}

/// Test the back-office connection
///
/// The source's own start-up check, now, timed. Errors name what is wrong, never a credential.
#[utoipa::path(post, path = "/api/admin/backoffice/test", tag = "admin: settings", operation_id = "testBackoffice",
    responses(
        (status = 200, description = "The check's outcome (also when it failed)", body = BackofficeTest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
    ))]
async fn test_backoffice(State(state): State<AppState>, Admin(_a): Admin) -> Json<BackofficeTest> {
    let bo = state.hub.backoffice();
    let started = std::time::Instant::now();
    let result = bo.check().await;
    let latency_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    Json(BackofficeTest {
        backoffice: backoffice_json(bo),
        ok: result.is_ok(),
        latency_ms,
        error: result.err().map(|e| e.to_string()),
    })
}

/// `Some(None)` for an explicit `null` (clear), `None` when the field is absent (keep).
fn explicit<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Ok(Some(Option::deserialize(d)?))
}

#[derive(Deserialize)]
struct SettingsBody {
    #[serde(default, deserialize_with = "explicit")]
    business_hours: Option<Option<String>>,
    utc_offset: Option<String>,
    widget_secret: Option<String>,
    allowed_origins: Option<Vec<String>>,
}

/// Change settings (in force at once)
#[utoipa::path(put, path = "/api/admin/settings", tag = "admin: settings", operation_id = "putSettings",
    request_body = t::SettingsBody,
    responses(
        (status = 200, description = "The settings now in force", body = Settings),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 422, response = Invalid),
    ))]
async fn put_settings(
    State(state): State<AppState>,
    Admin(who): Admin,
    Json(b): Json<SettingsBody>,
) -> ApiResult<Json<Settings>> {
    let (cur_hours, cur_offset) = state.settings.business_hours();
    let hours = match &b.business_hours {
        Some(explicit) => explicit.clone().filter(|h| !h.trim().is_empty()),
        None => cur_hours,
    };
    // The offset is checked on its own, not only when business hours happen to be set.
    if let Some(o) = &b.utc_offset
        && crate::queue::hours::parse_offset(o).is_none()
    {
        return Err(ApiError::invalid("utc_offset", format!("{o:?} is not a UTC offset like +03:00 (within ±14:00)")));
    }
    let offset = b.utc_offset.clone().unwrap_or(cur_offset);
    let parsed = match hours.as_deref().filter(|h| !h.trim().is_empty()) {
        Some(h) => Some(BusinessHours::parse(h, &offset).map_err(|e| ApiError::invalid("business_hours", e))?),
        None => None,
    };
    if let Some(origins) = &b.allowed_origins
        && let Some(bad) = origins.iter().find(|o| !(o.starts_with("http://") || o.starts_with("https://")))
    {
        return Err(ApiError::invalid(
            "allowed_origins",
            format!("{bad:?} is not an origin like https://shop.example.com"),
        ));
    }
    if b.widget_secret.as_ref().is_some_and(|s| !s.is_empty() && s.len() < 16) {
        return Err(ApiError::invalid("widget_secret", "at least 16 characters"));
    }
    let hub = &state.hub;
    if b.business_hours.is_some() || b.utc_offset.is_some() {
        hub.set_setting("business_hours", hours.as_deref().filter(|h| !h.trim().is_empty())).await?;
        hub.set_setting("utc_offset", Some(&offset)).await?;
        state.settings.apply_stored(&[("utc_offset".into(), offset.clone())]);
        *state.settings.business_hours.write().expect("settings lock poisoned") =
            (hours.clone().filter(|h| !h.trim().is_empty()), offset.clone());
        state.hub.set_hours(parsed);
    }
    if let Some(secret) = &b.widget_secret {
        hub.set_setting("widget_secret", Some(secret)).await?;
        state.settings.set_widget_secret(Some(secret));
    }
    if let Some(origins) = &b.allowed_origins {
        let cleaned: Vec<String> = origins.iter().map(|o| o.trim_end_matches('/').to_lowercase()).collect();
        hub.set_setting("allowed_origins", Some(&serde_json::to_string(&cleaned).unwrap_or_default())).await?;
        *state.settings.allowed_origins.write().expect("settings lock poisoned") = cleaned;
    }
    let changed: Vec<&str> = [
        b.business_hours.as_ref().map(|_| "business_hours"),
        b.utc_offset.as_ref().map(|_| "utc_offset"),
        b.widget_secret.as_ref().map(|_| "widget_secret"),
        b.allowed_origins.as_ref().map(|_| "allowed_origins"),
    ]
    .into_iter()
    .flatten()
    .collect();
    audit(&state, &who.agent_id, "settings.update", "settings", json!({"changed": changed})).await;
    Ok(settings_json(&state))
}

#[derive(Deserialize, IntoParams)]
struct AuditQuery {
    /// Only this action (e.g. `rules.save`).
    action: Option<String>,
    /// Only this actor: `agent:<id>`, or an agent's email, name or id.
    actor: Option<String>,
    /// 1 to 1000; default 200.
    limit: Option<i64>,
}

/// The audit log, newest first
#[utoipa::path(get, path = "/api/admin/audit", tag = "admin: settings", operation_id = "getAuditLog",
    params(AuditQuery),
    responses(
        (status = 200, description = "OK", body = AuditList),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
    ))]
async fn get_audit(
    State(state): State<AppState>,
    Admin(_a): Admin,
    Query(q): Query<AuditQuery>,
) -> ApiResult<Json<AuditList>> {
    // The page offers "email, name or id": resolve those to the stored actor `agent:<id>`.
    let actor = match q.actor.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(a) if a.contains(':') => Some(a.to_string()),
        Some(a) => {
            let agents = state.queries.agents().await?;
            let found = agents
                .iter()
                .find(|x| x.agent_id == a || x.email.eq_ignore_ascii_case(a) || x.name.eq_ignore_ascii_case(a));
            Some(found.map_or_else(|| a.to_string(), |x| format!("agent:{}", x.agent_id)))
        }
        None => None,
    };
    let entries = state
        .queries
        .audit_entries(
            q.action.as_deref().filter(|s| !s.is_empty()),
            actor.as_deref(),
            q.limit.unwrap_or(200).clamp(1, 1000),
        )
        .await?;
    // Names for the ids the log stores ("agent:<id>"), so the page reads as who did what to whom.
    let names: std::collections::HashMap<String, String> =
        state.queries.agents().await?.into_iter().map(|a| (format!("agent:{}", a.agent_id), a.name)).collect();
    let name_of = |v: &str| names.get(v).cloned();
    Ok(Json(AuditList {
        entries: entries
            .iter()
            .map(|e| t::AuditEntry {
                at: crate::domain::rfc3339(e.at),
                actor: e.actor.clone(),
                action: e.action.clone(),
                target: e.target.clone(),
                actor_name: name_of(&e.actor),
                target_name: name_of(&e.target),
                details: serde_json::from_str::<Value>(&e.details).unwrap_or(Value::Null),
            })
            .collect(),
    }))
}

/// Remove an agent from a team
#[utoipa::path(delete, path = "/api/admin/teams/{team}/members/{agent_id}", tag = "admin: agents",
    operation_id = "removeTeamMember",
    params(("team" = String, Path, description = "Team name"), ("agent_id" = String, Path, description = "Agent id")),
    responses(
        (status = 204, description = "Removed"),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    ))]
async fn remove_member(
    State(state): State<AppState>,
    Admin(who): Admin,
    Path((team, agent_id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    if !state.hub.remove_team_member(&who.agent_id, &team, &agent_id).await? {
        return Err(ApiError::not_found("team member"));
    }
    Ok(StatusCode::NO_CONTENT)
}
