//! SQL for SLA and priority: targets per team and priority, a conversation's priority, the
//! clocks the SLA sweep reads, breach marks (each set once), and the breach and label counts the
//! reports and `/metrics` show.

use super::{Result, Store};
use crate::domain::{Millis, now_ms};
pub use crate::queue::sla::{SlaKind, SlaTarget};
use sqlx::Row;

/// What the SLA clocks of one conversation need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlaClock {
    pub conversation_id: String,
    pub team: Option<String>,
    pub priority: i64,
    pub queued_at: Millis,
    pub first_response_at: Option<Millis>,
    pub resolved_at: Option<Millis>,
    pub resolved: bool,
    pub first_response_breached: bool,
    pub resolution_breached: bool,
}

/// Breaches and labels per day of the conversation's creation (days since the epoch).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SlaDay {
    pub day: i64,
    pub channel: String,
    pub first_response: i64,
    pub resolution: i64,
}

const CLOCK_SELECT: &str = "select conversation_id, team, priority, queued_at, first_response_at, resolved_at, status,
        sla_first_response_breached_at, sla_resolution_breached_at from conversations";

fn clock_from_row(r: &sqlx::any::AnyRow) -> Result<SlaClock> {
    Ok(SlaClock {
        conversation_id: r.try_get(0)?,
        team: r.try_get(1)?,
        priority: r.try_get(2)?,
        queued_at: r.try_get::<Option<i64>, _>(3)?.unwrap_or(0),
        first_response_at: r.try_get(4)?,
        resolved_at: r.try_get(5)?,
        resolved: r.try_get::<String, _>(6)? == "resolved",
        first_response_breached: r.try_get::<Option<i64>, _>(7)?.is_some(),
        resolution_breached: r.try_get::<Option<i64>, _>(8)?.is_some(),
    })
}

impl Store {
    pub async fn sla_targets(&self) -> Result<Vec<SlaTarget>> {
        let rows = sqlx::query(
            "select team, priority, first_response_secs, resolution_secs from sla_targets order by team, priority",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(SlaTarget {
                    team: r.try_get(0)?,
                    priority: r.try_get(1)?,
                    first_response_secs: r.try_get(2)?,
                    resolution_secs: r.try_get(3)?,
                })
            })
            .collect()
    }

    /// Sets (or, with both targets `None`, removes) the target of a team and priority.
    pub async fn set_sla_target(&self, t: &SlaTarget) -> Result<()> {
        if t.first_response_secs.is_none() && t.resolution_secs.is_none() {
            sqlx::query("delete from sla_targets where team = $1 and priority = $2")
                .bind(&t.team)
                .bind(&t.priority)
                .execute(self.writer())
                .await?;
            return Ok(());
        }
        sqlx::query(
            "insert into sla_targets (team, priority, first_response_secs, resolution_secs, created_at)
             values ($1, $2, $3, $4, $5)
             on conflict (team, priority) do update
                set first_response_secs = excluded.first_response_secs, resolution_secs = excluded.resolution_secs",
        )
        .bind(&t.team)
        .bind(&t.priority)
        .bind(t.first_response_secs)
        .bind(t.resolution_secs)
        .bind(now_ms())
        .execute(self.writer())
        .await?;
        Ok(())
    }

    /// Sets a conversation's queue priority; false when there is no such conversation.
    pub async fn set_priority(&self, conversation_id: &str, priority: i64) -> Result<bool> {
        let r = sqlx::query("update conversations set priority = $1, updated_at = $2 where conversation_id = $3")
            .bind(priority)
            .bind(now_ms())
            .bind(conversation_id)
            .execute(self.writer())
            .await?;
        Ok(r.rows_affected() > 0)
    }

    /// Moves a conversation's clocks: when it was queued and first answered. For tests and
    /// demos that need an SLA clock in a given state without waiting for it.
    pub async fn set_sla_times(
        &self,
        conversation_id: &str,
        queued_at: Millis,
        first_response_at: Option<Millis>,
    ) -> Result<bool> {
        // Keep created_at no later than queued_at: `min` on SQLite, `least` on PostgreSQL.
        let sql = match self.backend {
            super::Backend::Sqlite => {
                "update conversations set queued_at = $1, first_response_at = $2,
                    created_at = min($1, created_at) where conversation_id = $3"
            }
            super::Backend::Postgres => {
                "update conversations set queued_at = $1, first_response_at = $2,
                    created_at = least($1, created_at) where conversation_id = $3"
            }
        };
        let r = sqlx::query(sql)
            .bind(queued_at)
            .bind(first_response_at)
            .bind(conversation_id)
            .execute(self.writer())
            .await?;
        Ok(r.rows_affected() > 0)
    }

    /// One conversation's SLA clock (None when it never reached the queue).
    pub async fn sla_clock(&self, conversation_id: &str) -> Result<Option<SlaClock>> {
        let sql = format!("{CLOCK_SELECT} where conversation_id = $1 and queued_at is not null");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(conversation_id).fetch_optional(&self.pool).await?;
        row.as_ref().map(clock_from_row).transpose()
    }

    /// Clocks that may still breach: handed to people, not yet marked on both kinds, updated
    /// in the last `window_ms`.
    pub async fn sla_open_clocks(&self, window_ms: i64, limit: i64) -> Result<Vec<SlaClock>> {
        let sql = format!(
            "{CLOCK_SELECT} where queued_at is not null and updated_at >= $1
                and (sla_first_response_breached_at is null or sla_resolution_breached_at is null)
              order by updated_at desc limit $2"
        );
        let rows =
            sqlx::query(sqlx::AssertSqlSafe(sql)).bind(now_ms() - window_ms).bind(limit).fetch_all(&self.pool).await?;
        rows.iter().map(clock_from_row).collect()
    }

    /// Marks a breach once; true when this call marked it.
    pub async fn mark_sla_breach(&self, conversation_id: &str, kind: SlaKind, at: Millis) -> Result<bool> {
        let sql = match kind {
            SlaKind::FirstResponse => {
                "update conversations set sla_first_response_breached_at = $1
                  where conversation_id = $2 and sla_first_response_breached_at is null"
            }
            SlaKind::Resolution => {
                "update conversations set sla_resolution_breached_at = $1
                  where conversation_id = $2 and sla_resolution_breached_at is null"
            }
        };
        let r = sqlx::query(sql).bind(at).bind(conversation_id).execute(self.writer()).await?;
        Ok(r.rows_affected() > 0)
    }

    /// Breaches ever marked: (first response, resolution). Monotonic, so `/metrics` shows them
    /// as counters the same on every node.
    pub async fn sla_breach_totals(&self) -> Result<(i64, i64)> {
        let r = sqlx::query(
            "select count(sla_first_response_breached_at), count(sla_resolution_breached_at) from conversations",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok((r.try_get(0)?, r.try_get(1)?))
    }

    /// Breaches per day of creation and channel, for conversations created since `since`.
    pub async fn sla_report(&self, since: Millis) -> Result<Vec<SlaDay>> {
        let rows = sqlx::query(
            "select created_at / 86400000 as day, channel, count(sla_first_response_breached_at) as fr,
                    count(sla_resolution_breached_at) as res
               from conversations where created_at >= $1 and customer_messages > 0
              group by created_at / 86400000, channel order by day, channel",
        )
        .bind(since)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(SlaDay {
                    day: r.try_get("day")?,
                    channel: r.try_get("channel")?,
                    first_response: r.try_get("fr")?,
                    resolution: r.try_get("res")?,
                })
            })
            .collect()
    }

    /// Conversations created since `since` per label: (name, colour, conversations).
    pub async fn label_report(&self, since: Millis) -> Result<Vec<(String, String, i64)>> {
        Ok(sqlx::query_as(
            "select l.name, l.color, count(c.conversation_id)
               from labels l
               left join conversation_labels cl on cl.name = l.name
               left join conversations c on c.conversation_id = cl.conversation_id and c.created_at >= $1
              group by l.name, l.color order by l.name",
        )
        .bind(since)
        .fetch_all(&self.pool)
        .await?)
    }
}
