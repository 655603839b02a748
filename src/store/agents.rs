//! SQL for agents, teams, console sessions, API tokens and canned responses.

use super::{Error, Result, Store};
use crate::domain::{Millis, Presence, Role, new_id, now_ms};
use sqlx::Row;
use sqlx::any::AnyRow;

#[derive(Debug, Clone, PartialEq)]
pub struct Agent {
    pub agent_id: String,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub capacity: i64,
    pub presence: Presence,
    pub presence_changed_at: Millis,
    pub active: bool,
    pub teams: Vec<String>,
    /// Conversations assigned and open right now.
    pub load: i64,
}

/// Who a session cookie or bearer token stands for.
#[derive(Debug, Clone, PartialEq)]
pub struct Principal {
    pub agent_id: String,
    pub name: String,
    pub role: Role,
    /// Set for cookie sessions: the token state-changing requests must echo.
    pub csrf_token: Option<String>,
    /// Which credential this is (`session:<csrf token>` or `token:<token id>`), so revoking it
    /// can close the sockets it opened.
    pub credential: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ApiToken {
    pub token_id: String,
    pub name: String,
    pub role: Role,
    pub agent_id: String,
    pub created_at: Millis,
    pub revoked_at: Option<Millis>,
}

const AGENT_COLUMNS: &str = "a.agent_id, a.email, a.name, a.role, a.capacity, a.presence, \
     a.presence_changed_at, a.active, \
     (select count(*) from conversations c where c.assignee_id = a.agent_id and c.status = 'assigned') as load";

fn agent_from_row(r: &AnyRow) -> Result<Agent> {
    let role: String = r.try_get("role")?;
    let presence: String = r.try_get("presence")?;
    Ok(Agent {
        agent_id: r.try_get("agent_id")?,
        email: r.try_get("email")?,
        name: r.try_get("name")?,
        role: Role::parse(&role).ok_or_else(|| Error::Invalid(format!("unknown role {role:?}")))?,
        capacity: r.try_get("capacity")?,
        presence: Presence::parse(&presence).unwrap_or(Presence::Offline),
        presence_changed_at: r.try_get("presence_changed_at")?,
        active: r.try_get::<i64, _>("active")? != 0,
        teams: Vec::new(),
        load: r.try_get("load")?,
    })
}

impl Store {
    /// Creates an agent; `Error::Duplicate` when the email is taken.
    pub async fn create_agent(&self, email: &str, name: &str, role: Role, password_hash: &str) -> Result<String> {
        let id = new_id();
        let now = now_ms();
        let result = sqlx::query(
            "insert into agents (agent_id, email, name, role, password_hash, capacity, presence, presence_changed_at, active, created_at)
             values ($1, $2, $3, $4, $5, 5, 'offline', $6, 1, $6)",
        )
        .bind(&id)
        .bind(email.to_lowercase())
        .bind(name)
        .bind(role.as_str())
        .bind(password_hash)
        .bind(now)
        .execute(self.writer())
        .await;
        match result {
            Err(e) if super::is_unique_violation(&e) => Err(Error::Duplicate),
            other => other.map(|_| id).map_err(Error::from),
        }
    }

    pub async fn admin_exists(&self) -> Result<bool> {
        let row = sqlx::query("select count(*) from agents where role = 'admin' and active = 1")
            .fetch_one(&self.pool)
            .await?;
        Ok(row.try_get::<i64, _>(0)? > 0)
    }

    /// (agent_id, password_hash, active) for a login attempt.
    pub async fn agent_credentials(&self, email: &str) -> Result<Option<(String, String, bool)>> {
        let row = sqlx::query("select agent_id, password_hash, active from agents where email = $1")
            .bind(email.trim().to_lowercase())
            .fetch_optional(&self.pool)
            .await?;
        Ok(match row {
            Some(r) => Some((r.try_get(0)?, r.try_get(1)?, r.try_get::<i64, _>(2)? != 0)),
            None => None,
        })
    }

    pub async fn agent(&self, agent_id: &str) -> Result<Option<Agent>> {
        let sql = format!("select {AGENT_COLUMNS} from agents a where a.agent_id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(agent_id).fetch_optional(&self.pool).await?;
        let Some(row) = row else { return Ok(None) };
        let mut agent = agent_from_row(&row)?;
        agent.teams = self.teams_of(agent_id).await?;
        Ok(Some(agent))
    }

    pub async fn agents(&self) -> Result<Vec<Agent>> {
        let sql = format!("select {AGENT_COLUMNS} from agents a order by a.name");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(&self.pool).await?;
        self.with_teams(&rows).await
    }

    pub async fn teams_of(&self, agent_id: &str) -> Result<Vec<String>> {
        let rows: Vec<(String,)> = sqlx::query_as("select team from team_members where agent_id = $1 order by team")
            .bind(agent_id)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.into_iter().map(|r| r.0).collect())
    }

    /// Teams with their member counts.
    pub async fn teams(&self) -> Result<Vec<(String, i64)>> {
        let rows = sqlx::query(
            "select t.name, (select count(*) from team_members m where m.team = t.name) as members
               from teams t order by t.name",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| Ok((r.try_get(0)?, r.try_get(1)?))).collect()
    }

    pub async fn add_to_team(&self, team: &str, agent_id: &str) -> Result<()> {
        let now = now_ms();
        sqlx::query("insert into teams (name, created_at) values ($1, $2) on conflict (name) do nothing")
            .bind(team)
            .bind(now)
            .execute(self.writer())
            .await?;
        sqlx::query(
            "insert into team_members (team, agent_id, created_at) values ($1, $2, $3) on conflict (team, agent_id) do nothing",
        )
        .bind(team)
        .bind(agent_id)
        .bind(now)
        .execute(self.writer())
        .await?;
        Ok(())
    }

    pub async fn remove_from_team(&self, team: &str, agent_id: &str) -> Result<bool> {
        let r = sqlx::query("delete from team_members where team = $1 and agent_id = $2")
            .bind(team)
            .bind(agent_id)
            .execute(self.writer())
            .await?;
        Ok(r.rows_affected() > 0)
    }

    pub async fn team_exists(&self, team: &str) -> Result<bool> {
        let row = sqlx::query("select count(*) from teams where name = $1").bind(team).fetch_one(&self.pool).await?;
        Ok(row.try_get::<i64, _>(0)? > 0)
    }

    pub async fn set_presence(&self, agent_id: &str, presence: Presence) -> Result<bool> {
        let r = sqlx::query(
            "update agents set presence = $1, presence_changed_at = $2 where agent_id = $3 and presence <> $1",
        )
        .bind(presence.as_str())
        .bind(now_ms())
        .bind(agent_id)
        .execute(self.writer())
        .await?;
        Ok(r.rows_affected() > 0)
    }

    /// Updates capacity, role and active flag (each when given).
    pub async fn update_agent(
        &self,
        agent_id: &str,
        capacity: Option<i64>,
        role: Option<Role>,
        active: Option<bool>,
    ) -> Result<bool> {
        let r = sqlx::query(
            "update agents set capacity = coalesce($1, capacity), role = coalesce($2, role),
                    active = coalesce($3, active)
              where agent_id = $4",
        )
        .bind(capacity)
        .bind(role.map(Role::as_str))
        .bind(active.map(i64::from))
        .bind(agent_id)
        .execute(self.writer())
        .await?;
        if active == Some(false) {
            sqlx::query("delete from sessions where agent_id = $1").bind(agent_id).execute(self.writer()).await?;
        }
        Ok(r.rows_affected() > 0)
    }

    pub async fn mark_assigned(&self, agent_id: &str) -> Result<()> {
        sqlx::query("update agents set last_assigned_at = $1 where agent_id = $2")
            .bind(now_ms())
            .bind(agent_id)
            .execute(self.writer())
            .await?;
        Ok(())
    }

    /// Online, active agents with spare capacity: least loaded first, then the one assigned
    /// longest ago (round robin on ties).
    pub async fn available_agents(&self) -> Result<Vec<Agent>> {
        let sql = format!(
            "select * from (select {AGENT_COLUMNS}, a.capacity as cap, a.last_assigned_at as last_assigned
                              from agents a where a.active = 1 and a.presence = 'online') x
              where x.load < x.cap
              order by x.load, x.last_assigned, x.agent_id"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(&self.pool).await?;
        self.with_teams(&rows).await
    }

    /// Agents offline since before `cutoff` who still hold assigned conversations.
    pub async fn offline_agents_holding_conversations(&self, cutoff: Millis) -> Result<Vec<String>> {
        let rows: Vec<(String,)> = sqlx::query_as(
            "select a.agent_id from agents a
              where a.presence = 'offline' and a.presence_changed_at < $1
                and exists (select 1 from conversations c where c.assignee_id = a.agent_id and c.status = 'assigned')",
        )
        .bind(cutoff)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|r| r.0).collect())
    }

    pub async fn create_session(
        &self,
        session_hash: &str,
        agent_id: &str,
        csrf: &str,
        expires_at: Millis,
    ) -> Result<()> {
        sqlx::query(
            "insert into sessions (session_hash, agent_id, csrf_token, expires_at, created_at) values ($1, $2, $3, $4, $5)",
        )
        .bind(session_hash)
        .bind(agent_id)
        .bind(csrf)
        .bind(expires_at)
        .bind(now_ms())
        .execute(self.writer())
        .await?;
        Ok(())
    }

    pub async fn delete_session(&self, session_hash: &str) -> Result<()> {
        sqlx::query("delete from sessions where session_hash = $1").bind(session_hash).execute(self.writer()).await?;
        Ok(())
    }

    /// The active agent behind a live session.
    pub async fn session_principal(&self, session_hash: &str) -> Result<Option<Principal>> {
        let row = sqlx::query(
            "select a.agent_id, a.name, a.role, s.csrf_token from sessions s join agents a on a.agent_id = s.agent_id
              where s.session_hash = $1 and s.expires_at > $2 and a.active = 1",
        )
        .bind(session_hash)
        .bind(now_ms())
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            let role: String = r.try_get(2)?;
            Ok(Principal {
                agent_id: r.try_get(0)?,
                name: r.try_get(1)?,
                role: Role::parse(&role).unwrap_or(Role::Agent),
                csrf_token: Some(r.try_get(3)?),
                credential: format!("session:{}", r.try_get::<String, _>(3)?),
            })
        })
        .transpose()
    }

    pub async fn create_api_token(&self, token_hash: &str, name: &str, role: Role, agent_id: &str) -> Result<String> {
        let id = new_id();
        sqlx::query(
            "insert into api_tokens (token_id, token_hash, name, role, agent_id, created_at) values ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&id)
        .bind(token_hash)
        .bind(name)
        .bind(role.as_str())
        .bind(agent_id)
        .bind(now_ms())
        .execute(self.writer())
        .await?;
        Ok(id)
    }

    pub async fn revoke_api_token(&self, token_id: &str) -> Result<bool> {
        let r = sqlx::query("update api_tokens set revoked_at = $1 where token_id = $2 and revoked_at is null")
            .bind(now_ms())
            .bind(token_id)
            .execute(self.writer())
            .await?;
        Ok(r.rows_affected() > 0)
    }

    pub async fn api_tokens(&self) -> Result<Vec<ApiToken>> {
        let rows = sqlx::query(
            "select token_id, name, role, agent_id, created_at, revoked_at from api_tokens order by created_at",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let role: String = r.try_get(2)?;
                Ok(ApiToken {
                    token_id: r.try_get(0)?,
                    name: r.try_get(1)?,
                    role: Role::parse(&role).unwrap_or(Role::Agent),
                    agent_id: r.try_get(3)?,
                    created_at: r.try_get(4)?,
                    revoked_at: r.try_get(5)?,
                })
            })
            .collect()
    }

    /// The principal of a live (not revoked) API token; it acts as the agent who created it,
    /// with the token's role.
    pub async fn token_principal(&self, token_hash: &str) -> Result<Option<Principal>> {
        let row = sqlx::query(
            "select t.agent_id, t.name, t.role, t.token_id from api_tokens t join agents a on a.agent_id = t.agent_id
              where t.token_hash = $1 and t.revoked_at is null and a.active = 1",
        )
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            let role: String = r.try_get(2)?;
            Ok(Principal {
                agent_id: r.try_get(0)?,
                name: r.try_get(1)?,
                role: Role::parse(&role).unwrap_or(Role::Agent),
                csrf_token: None,
                credential: format!("token:{}", r.try_get::<String, _>(3)?),
            })
        })
        .transpose()
    }

    pub async fn canned_responses(&self) -> Result<Vec<(String, String)>> {
        Ok(sqlx::query_as("select shortcut, body from canned_responses order by shortcut")
            .fetch_all(&self.pool)
            .await?)
    }

    pub async fn upsert_canned_response(&self, shortcut: &str, body: &str) -> Result<()> {
        sqlx::query(
            "insert into canned_responses (shortcut, body, created_at) values ($1, $2, $3)
             on conflict (shortcut) do update set body = excluded.body",
        )
        .bind(shortcut)
        .bind(body)
        .bind(now_ms())
        .execute(self.writer())
        .await?;
        Ok(())
    }

    pub async fn delete_canned_response(&self, shortcut: &str) -> Result<bool> {
        let r = sqlx::query("delete from canned_responses where shortcut = $1")
            .bind(shortcut)
            .execute(self.writer())
            .await?;
        Ok(r.rows_affected() > 0)
    }

    /// Agents from their rows, each with its teams (in team order).
    async fn with_teams(&self, rows: &[sqlx::any::AnyRow]) -> Result<Vec<Agent>> {
        let members: Vec<(String, String)> =
            sqlx::query_as("select agent_id, team from team_members order by team").fetch_all(&self.pool).await?;
        let mut agents = rows.iter().map(agent_from_row).collect::<Result<Vec<_>>>()?;
        for a in &mut agents {
            a.teams = members.iter().filter(|(id, _)| *id == a.agent_id).map(|(_, t)| t.clone()).collect();
        }
        Ok(agents)
    }
}
