//! What admins change through the hub: agents, team members, canned responses, API tokens, SLA
//! targets, settings and the bot's unmatched messages. Each write records its audit entry and
//! tells whoever must know (consoles of a deactivated agent, the queue dispatcher).

use super::bus::AgentEvent;
use super::{Hub, Result};
use crate::domain::{Presence, Role};
use crate::store::{Agent, SlaTarget};
use serde_json::{Value, json};

/// An SLA target as the API shows it and the audit log records it (`team` null: every team).
pub fn sla_target_json(t: &SlaTarget) -> Value {
    json!({
        "team": if t.team.is_empty() { Value::Null } else { json!(t.team) },
        "priority": t.priority,
        "first_response_secs": t.first_response_secs,
        "resolution_secs": t.resolution_secs,
    })
}

impl Hub {
    /// Writes an audit entry for an agent's action; a failure is logged, never fatal to the
    /// change that already happened.
    pub async fn audit(&self, agent_id: &str, action: &str, target: &str, details: Value) {
        if let Err(e) = self.store.audit(&format!("agent:{agent_id}"), action, target, &details).await {
            tracing::error!(error = %e, action, "cannot write the audit log");
        }
    }

    /// Creates an agent account; `None` when it cannot be read back.
    pub async fn create_agent(
        &self,
        actor: &str,
        email: &str,
        name: &str,
        role: Role,
        password_hash: &str,
    ) -> Result<Option<Agent>> {
        let id = self.store.create_agent(email, name, role, password_hash).await?;
        let Some(agent) = self.store.agent(&id).await? else { return Ok(None) };
        self.audit(actor, "agent.create", &format!("agent:{id}"), json!({"email": email, "role": role})).await;
        Ok(Some(agent))
    }

    /// Changes an agent's capacity, role or active flag; `None` for an unknown agent. A
    /// deactivated agent goes offline and their consoles close; the dispatcher looks again.
    pub async fn update_agent(
        &self,
        actor: &str,
        agent_id: &str,
        capacity: Option<i64>,
        role: Option<Role>,
        active: Option<bool>,
    ) -> Result<Option<Agent>> {
        if !self.store.update_agent(agent_id, capacity, role, active).await? {
            return Ok(None);
        }
        if active == Some(false) {
            self.set_presence(agent_id, Presence::Offline).await?;
            self.bus.publish_agents(AgentEvent::Revoked { agent_id: agent_id.to_string(), credential: None });
        }
        self.dispatch.notify_one();
        self.audit(
            actor,
            "agent.update",
            &format!("agent:{agent_id}"),
            json!({"capacity": capacity, "role": role, "active": active}),
        )
        .await;
        Ok(self.store.agent(agent_id).await?)
    }

    /// Adds an agent to a team (created by its first member); the dispatcher looks again.
    pub async fn add_team_member(&self, actor: &str, team: &str, agent_id: &str) -> Result<()> {
        self.store.add_to_team(team, agent_id).await?;
        self.audit(actor, "team.member", &format!("team:{team}"), json!({"added": agent_id})).await;
        self.dispatch.notify_one();
        Ok(())
    }

    /// Removes an agent from a team; false when they were not in it.
    pub async fn remove_team_member(&self, actor: &str, team: &str, agent_id: &str) -> Result<bool> {
        if !self.store.remove_from_team(team, agent_id).await? {
            return Ok(false);
        }
        self.audit(actor, "team.member", &format!("team:{team}"), json!({"removed": agent_id})).await;
        Ok(true)
    }

    pub async fn save_canned_response(&self, actor: &str, shortcut: &str, text: &str) -> Result<()> {
        self.store.upsert_canned_response(shortcut, text).await?;
        self.audit(actor, "canned.update", &format!("canned:{shortcut}"), json!({})).await;
        Ok(())
    }

    /// False when there was no such canned response.
    pub async fn delete_canned_response(&self, actor: &str, shortcut: &str) -> Result<bool> {
        if !self.store.delete_canned_response(shortcut).await? {
            return Ok(false);
        }
        self.audit(actor, "canned.delete", &format!("canned:{shortcut}"), json!({})).await;
        Ok(true)
    }

    /// Stores a new API token (by its hash) for `actor`; returns its id.
    pub async fn create_api_token(&self, actor: &str, token_hash: &str, name: &str, role: Role) -> Result<String> {
        let id = self.store.create_api_token(token_hash, name, role, actor).await?;
        self.audit(actor, "token.create", &format!("token:{id}"), json!({"name": name, "role": role})).await;
        Ok(id)
    }

    /// Revokes a token; consoles opened with it close. False for an unknown token.
    pub async fn revoke_api_token(&self, actor: &str, token_id: &str) -> Result<bool> {
        if !self.store.revoke_api_token(token_id).await? {
            return Ok(false);
        }
        self.audit(actor, "token.revoke", &format!("token:{token_id}"), json!({})).await;
        if let Some(t) = self.store.api_tokens().await?.into_iter().find(|t| t.token_id == token_id) {
            self.bus.publish_agents(AgentEvent::Revoked {
                agent_id: t.agent_id,
                credential: Some(format!("token:{token_id}")),
            });
        }
        Ok(true)
    }

    /// Sets (or, with both targets empty, removes) the SLA target of a team and priority.
    pub async fn set_sla_target(&self, actor: &str, target: &SlaTarget) -> Result<()> {
        self.store.set_sla_target(target).await?;
        let details = sla_target_json(target);
        self.audit(actor, "sla.save", &format!("sla:{}/{}", target.team, target.priority), details).await;
        Ok(())
    }

    /// Stores one run-time setting (`None` clears it). The caller applies it and audits the
    /// whole change once.
    pub async fn set_setting(&self, key: &str, value: Option<&str>) -> Result<()> {
        self.store.set_setting(key, value).await?;
        Ok(())
    }

    /// Drops a message the bot did not understand from the review list; false if unknown.
    pub async fn dismiss_miss(&self, miss_id: &str) -> Result<bool> {
        Ok(self.store.dismiss_miss(miss_id).await?)
    }
}
