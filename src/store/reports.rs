//! SQL for reports and health: daily figures per channel, the bot's actions, the snapshot
//! `/metrics` reads, and the readiness check.

use super::{Error, Result, Store};
use crate::domain::{Millis, now_ms};
use sqlx::Row;

/// One row of the daily report.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportRow {
    /// Days since the Unix epoch (UTC).
    pub day: i64,
    pub channel: String,
    pub conversations: i64,
    pub bot_resolved: i64,
    pub first_response_avg_ms: Option<f64>,
    pub resolution_avg_ms: Option<f64>,
}

impl Store {
    /// Daily figures per channel for conversations created since `since` that a customer wrote in.
    pub async fn report(&self, since: Millis) -> Result<Vec<ReportRow>> {
        let rows = sqlx::query(
            "select created_at / 86400000 as day, channel, count(*) as conversations,
                    sum(case when queued_at is null then 1 else 0 end) as bot_resolved,
                    cast(avg(case when first_response_at is not null then first_response_at - queued_at end) as double precision) as frt,
                    cast(avg(case when status = 'resolved' and resolved_at is not null then resolved_at - created_at end) as double precision) as rt
               from conversations
              where created_at >= $1 and customer_messages > 0
              group by created_at / 86400000, channel
              order by day, channel",
        )
        .bind(since)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(ReportRow {
                    day: r.try_get("day")?,
                    channel: r.try_get("channel")?,
                    conversations: r.try_get("conversations")?,
                    bot_resolved: r.try_get("bot_resolved")?,
                    first_response_avg_ms: r.try_get("frt")?,
                    resolution_avg_ms: r.try_get("rt")?,
                })
            })
            .collect()
    }
}

/// What the bot did in the back office in a report's window: per action, how often it was
/// done, refused and failed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ActionCounts {
    pub done: i64,
    pub refused: i64,
    pub failed: i64,
}

impl Store {
    /// Bot actions since `since`, per action (`cancel_order`, `return_refund`, `invoice_copy`),
    /// from the audit rows the hub writes with each action's turn.
    pub async fn bot_actions_since(&self, since: Millis) -> Result<std::collections::BTreeMap<String, ActionCounts>> {
        let rows = sqlx::query("select action, details from audit_log where action like 'bot_action:%' and at >= $1")
            .bind(since)
            .fetch_all(&self.pool)
            .await?;
        let mut out: std::collections::BTreeMap<String, ActionCounts> = Default::default();
        for r in &rows {
            let action: String = r.try_get(0)?;
            let details: String = r.try_get(1)?;
            let result = serde_json::from_str::<serde_json::Value>(&details)
                .ok()
                .and_then(|d| d["result"].as_str().map(str::to_string))
                .unwrap_or_default();
            let counts = out.entry(action.trim_start_matches("bot_action:").to_string()).or_default();
            match result.as_str() {
                "done" => counts.done += 1,
                "refused" => counts.refused += 1,
                _ => counts.failed += 1,
            }
        }
        Ok(out)
    }
}

/// Figures `/metrics` reads from the database at scrape time.
#[derive(Debug, Clone, Default)]
pub struct MetricsSnapshot {
    pub queued: i64,
    pub oldest_queued_at: Option<Millis>,
    pub outbox_pending: i64,
    pub outbox_failed: i64,
    /// Cumulative counts of first responses within each bound (seconds), the last bound +Inf.
    pub first_response_buckets: Vec<(f64, i64)>,
    pub first_response_sum_s: f64,
    pub first_response_count: i64,
    /// SLA breaches ever marked: (first response, resolution).
    pub sla_breaches: (i64, i64),
}

pub const FIRST_RESPONSE_BOUNDS: [f64; 7] = [10.0, 30.0, 60.0, 300.0, 900.0, 3600.0, 14400.0];

impl Store {
    pub async fn metrics_snapshot(&self) -> Result<MetricsSnapshot> {
        let q = sqlx::query("select count(*), min(queued_at) from conversations where status = 'queued'")
            .fetch_one(&self.pool)
            .await?;
        let (pending, failed) = self.outbox_backlog().await?;
        let since = now_ms() - 7 * 86_400_000;
        let mut cases = Vec::new();
        for b in FIRST_RESPONSE_BOUNDS {
            cases.push(format!(
                "sum(case when first_response_at - queued_at <= {} then 1 else 0 end)",
                (b * 1000.0) as i64
            ));
        }
        let sql = format!(
            "select {}, count(*), cast(coalesce(sum(first_response_at - queued_at), 0) as double precision)
               from conversations where created_at >= $1 and first_response_at is not null and queued_at is not null",
            cases.join(", ")
        );
        let r = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(since).fetch_one(&self.pool).await?;
        let n = FIRST_RESPONSE_BOUNDS.len();
        let mut buckets = Vec::with_capacity(n);
        for (i, b) in FIRST_RESPONSE_BOUNDS.iter().enumerate() {
            buckets.push((*b, r.try_get::<Option<i64>, _>(i)?.unwrap_or(0)));
        }
        let count: i64 = r.try_get(n)?;
        let sum_ms: f64 = r.try_get(n + 1)?;
        Ok(MetricsSnapshot {
            queued: q.try_get(0)?,
            oldest_queued_at: q.try_get(1)?,
            outbox_pending: pending,
            outbox_failed: failed,
            first_response_buckets: buckets,
            first_response_sum_s: sum_ms / 1000.0,
            first_response_count: count,
            sla_breaches: self.sla_breach_totals().await?,
        })
    }

    /// Readiness: the database answers and every embedded migration is applied.
    pub async fn ready(&self) -> Result<i64> {
        let r = sqlx::query("select count(*) from _sqlx_migrations where success").fetch_one(&self.pool).await?;
        let applied: i64 = r.try_get(0)?;
        let expected = match self.backend {
            super::Backend::Sqlite => super::SQLITE_MIGRATIONS.iter().count(),
            super::Backend::Postgres => super::POSTGRES_MIGRATIONS.iter().count(),
        } as i64;
        if applied < expected {
            return Err(Error::Invalid(format!("{applied} of {expected} migrations applied")));
        }
        Ok(applied)
    }
}
