//! Bodies of the admin API (`admin_api.rs`, `settings.rs`, `labels_api.rs`, the SLA part of
//! `csat_api.rs`): agents, teams, canned responses, API tokens, settings, audit log, labels, SLA
//! targets and priorities.

use super::common::{Agent, RoleSchema};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// `POST /api/admin/agents`
#[derive(Deserialize, ToSchema)]
pub struct NewAgent {
    pub email: String,
    pub name: String,
    /// `agent` or `admin`.
    #[schema(value_type = RoleSchema)]
    pub role: String,
    /// At least 10 characters; generated (and returned once) when absent.
    pub password: Option<String>,
}

/// The new agent; `password` only when it was generated (shown once).
#[derive(Serialize, ToSchema)]
pub struct CreatedAgent {
    pub agent: Agent,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
}

/// `PATCH /api/admin/agents/{id}`: any subset.
#[derive(Deserialize, ToSchema)]
pub struct AgentPatch {
    /// 0 to 1000.
    pub capacity: Option<i64>,
    #[schema(value_type = Option<RoleSchema>)]
    pub role: Option<String>,
    /// false: deactivate (logged out everywhere, offline).
    pub active: Option<bool>,
}

/// `POST /api/admin/teams/{team}/members`
#[derive(Deserialize, Serialize, ToSchema)]
pub struct Member {
    pub agent_id: String,
}

/// The membership added.
#[derive(Serialize, ToSchema)]
pub struct TeamMember {
    /// Lower-cased.
    pub team: String,
    pub agent_id: String,
}

/// `PUT /api/admin/canned_responses/{shortcut}`
#[derive(Deserialize, ToSchema)]
pub struct CannedText {
    pub text: String,
}

#[derive(Serialize, ToSchema)]
pub struct ApiToken {
    pub id: String,
    pub name: String,
    #[schema(value_type = RoleSchema)]
    pub role: crate::domain::Role,
    /// The admin who made it.
    pub agent_id: String,
    pub created_at: String,
    pub revoked_at: Option<String>,
}

impl From<&crate::store::ApiToken> for ApiToken {
    fn from(t: &crate::store::ApiToken) -> ApiToken {
        ApiToken {
            id: t.token_id.clone(),
            name: t.name.clone(),
            role: t.role,
            agent_id: t.agent_id.clone(),
            created_at: crate::domain::rfc3339(t.created_at),
            revoked_at: super::common::time(t.revoked_at),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct ApiTokenList {
    pub tokens: Vec<ApiToken>,
}

/// `POST /api/admin/tokens`
#[derive(Deserialize, ToSchema)]
pub struct NewToken {
    pub name: String,
    /// Default `agent`.
    #[schema(value_type = Option<RoleSchema>)]
    pub role: Option<String>,
}

/// The new token; `token` is shown this once (only its hash is kept).
#[derive(Serialize, ToSchema)]
pub struct CreatedToken {
    pub id: String,
    pub name: String,
    #[schema(value_type = RoleSchema)]
    pub role: crate::domain::Role,
    /// `kt_…`: send as `Authorization: Bearer …`.
    pub token: String,
}

/// The back office as the admin sees it (no credentials).
#[derive(Serialize, ToSchema)]
pub struct BackofficeState {
    /// `builtin`, `tryton` or `sql`.
    pub source: String,
    /// Where it is (no password).
    pub location: String,
    /// `up`, or the source's own state word.
    pub state: String,
    pub last_error: Option<String>,
}

/// "Test connection": the back office's state plus this check's outcome.
#[derive(Serialize, ToSchema)]
pub struct BackofficeTest {
    #[serde(flatten)]
    pub backoffice: BackofficeState,
    pub ok: bool,
    pub latency_ms: u64,
    pub error: Option<String>,
}

/// Settings admins change in the browser.
#[derive(Serialize, ToSchema)]
pub struct Settings {
    /// null: always open.
    pub business_hours: Option<String>,
    pub utc_offset: String,
    pub widget_secret_set: bool,
    pub allowed_origins: Vec<String>,
    pub backoffice: BackofficeState,
}

/// `PUT /api/admin/settings`: any subset; `business_hours: null` clears them.
#[derive(ToSchema)]
#[allow(dead_code)] // schema only: `settings::SettingsBody` tells null from absent
pub struct SettingsBody {
    /// e.g. `mon-fri 08:00-17:00`; null or empty: always open.
    pub business_hours: Option<String>,
    /// Like `+03:00` (within ±14:00).
    pub utc_offset: Option<String>,
    /// At least 16 characters; empty turns verification off.
    pub widget_secret: Option<String>,
    /// Origins like `https://shop.example.com`; empty: any.
    pub allowed_origins: Option<Vec<String>>,
}

/// One audit-log entry.
#[derive(Serialize, ToSchema)]
pub struct AuditEntry {
    pub at: String,
    /// e.g. `agent:<id>`.
    pub actor: String,
    pub action: String,
    /// e.g. `intent:order_status`.
    pub target: String,
    /// The actor's name when it is an agent.
    pub actor_name: Option<String>,
    /// The target's name when it is an agent.
    pub target_name: Option<String>,
    /// Action-specific JSON.
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
}

#[derive(Serialize, ToSchema)]
pub struct AuditList {
    pub entries: Vec<AuditEntry>,
}

/// A label (lower-case name, colour `#rgb` or `#rrggbb`).
#[derive(Serialize, Deserialize, ToSchema)]
pub struct Label {
    pub name: String,
    pub color: String,
}

#[derive(Serialize, ToSchema)]
pub struct LabelResponse {
    pub label: Label,
}

#[derive(Serialize, ToSchema)]
pub struct LabelList {
    pub labels: Vec<Label>,
}

/// `POST /api/conversations/{id}/labels`: replaces the set.
#[derive(Deserialize, ToSchema)]
pub struct SetLabels {
    pub labels: Vec<String>,
}

/// `PUT /api/conversations/{id}/priority`
#[derive(Deserialize, ToSchema)]
pub struct PriorityBody {
    /// `low`, `normal`, `high` or `urgent`.
    pub priority: String,
}

/// An SLA target of a team (null: the default for every team) and priority.
#[derive(Serialize, ToSchema)]
pub struct SlaTarget {
    pub team: Option<String>,
    /// `low`, `normal`, `high` or `urgent`.
    pub priority: String,
    /// Business seconds; null: no target.
    pub first_response_secs: Option<i64>,
    pub resolution_secs: Option<i64>,
}

impl From<&crate::store::SlaTarget> for SlaTarget {
    fn from(t: &crate::store::SlaTarget) -> SlaTarget {
        SlaTarget {
            team: (!t.team.is_empty()).then(|| t.team.clone()),
            priority: t.priority.clone(),
            first_response_secs: t.first_response_secs,
            resolution_secs: t.resolution_secs,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct SlaTargetList {
    pub targets: Vec<SlaTarget>,
}

#[derive(Serialize, ToSchema)]
pub struct SlaTargetResponse {
    pub target: SlaTarget,
}

/// `PUT /api/admin/sla`: both targets null removes it.
#[derive(Deserialize, ToSchema)]
pub struct TargetBody {
    #[serde(default)]
    pub team: Option<String>,
    pub priority: String,
    /// 1 to 2,592,000 business seconds, or null for no target.
    #[serde(default)]
    pub first_response_secs: Option<i64>,
    #[serde(default)]
    pub resolution_secs: Option<i64>,
}
