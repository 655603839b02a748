//! SQL for admin data: rule-set versions, intent hits, misses, settings and the audit log.

use super::{Error, Result, Store};
use crate::domain::{Millis, new_id, new_ordered_id, now_ms};
use sqlx::Row;

#[derive(Debug, Clone, PartialEq)]
pub struct RuleVersion {
    pub version: i64,
    pub author: String,
    pub note: String,
    pub created_at: Millis,
    /// The rule bundle as JSON (absent in listings).
    pub bundle: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Miss {
    pub miss_id: String,
    pub sample: String,
    pub count: i64,
    pub last_at: Millis,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AuditEntry {
    pub at: Millis,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub details: String,
}

impl Store {
    /// Stores a new rule-set version. With `base`, only if the newest stored version is still
    /// `base` (no lost updates); `Error::Conflict` otherwise, or if another save took the number.
    pub async fn add_rule_version(&self, author: &str, note: &str, bundle: &str, base: Option<i64>) -> Result<i64> {
        let mut tx = self.begin_write().await?;
        let row = sqlx::query("select coalesce(max(version), 0) from rule_versions").fetch_one(&mut *tx).await?;
        let newest: i64 = row.try_get(0)?;
        if base.is_some_and(|b| b != newest) {
            return Err(Error::Conflict);
        }
        let version = newest + 1;
        let r = sqlx::query(
            "insert into rule_versions (version, author, note, bundle, created_at) values ($1, $2, $3, $4, $5)",
        )
        .bind(version)
        .bind(author)
        .bind(note)
        .bind(bundle)
        .bind(now_ms())
        .execute(&mut *tx)
        .await;
        match r {
            Err(e) if super::is_unique_violation(&e) => return Err(Error::Conflict),
            other => other?,
        };
        tx.commit().await?;
        Ok(version)
    }

    pub async fn latest_rule_version(&self) -> Result<Option<RuleVersion>> {
        let row = sqlx::query(
            "select version, author, note, created_at, bundle from rule_versions order by version desc limit 1",
        )
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(rule_version_from_row).transpose()
    }

    pub async fn latest_rule_version_number(&self) -> Result<i64> {
        let row = sqlx::query("select coalesce(max(version), 0) from rule_versions").fetch_one(&self.pool).await?;
        Ok(row.try_get(0)?)
    }

    pub async fn rule_version(&self, version: i64) -> Result<Option<RuleVersion>> {
        let row = sqlx::query("select version, author, note, created_at, bundle from rule_versions where version = $1")
            .bind(version)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(rule_version_from_row).transpose()
    }

    pub async fn rule_versions(&self) -> Result<Vec<RuleVersion>> {
        let rows = sqlx::query("select version, author, note, created_at from rule_versions order by version desc")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                Ok(RuleVersion {
                    version: r.try_get(0)?,
                    author: r.try_get(1)?,
                    note: r.try_get(2)?,
                    created_at: r.try_get(3)?,
                    bundle: None,
                })
            })
            .collect()
    }

    /// Adds counted hits per intent (flushed from memory in batches).
    pub async fn add_intent_hits(&self, hits: &[(String, i64)]) -> Result<()> {
        if hits.is_empty() {
            return Ok(());
        }
        let mut tx = self.begin_write().await?;
        for (intent, n) in hits {
            sqlx::query(
                "insert into intent_hits (intent, hits) values ($1, $2)
                 on conflict (intent) do update set hits = intent_hits.hits + excluded.hits",
            )
            .bind(intent)
            .bind(n)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn intent_hits(&self) -> Result<Vec<(String, i64)>> {
        Ok(sqlx::query_as("select intent, hits from intent_hits").fetch_all(&self.pool).await?)
    }

    /// Counts a message the bot did not understand, grouped by its normalised text.
    pub async fn record_miss(&self, text_key: &str, sample: &str) -> Result<()> {
        sqlx::query(
            "insert into bot_misses (miss_id, text_key, sample, count, dismissed, last_at) values ($1, $2, $3, 1, 0, $4)
             on conflict (text_key) do update set count = bot_misses.count + 1, last_at = excluded.last_at,
                                                  sample = excluded.sample, dismissed = 0",
        )
        .bind(new_id())
        .bind(text_key)
        .bind(sample)
        .bind(now_ms())
        .execute(self.writer())
        .await?;
        Ok(())
    }

    pub async fn misses(&self, limit: i64) -> Result<Vec<Miss>> {
        let rows = sqlx::query(
            "select miss_id, sample, count, last_at from bot_misses where dismissed = 0
              order by count desc, last_at desc limit $1",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Miss { miss_id: r.try_get(0)?, sample: r.try_get(1)?, count: r.try_get(2)?, last_at: r.try_get(3)? })
            })
            .collect()
    }

    pub async fn dismiss_miss(&self, miss_id: &str) -> Result<bool> {
        let r = sqlx::query("update bot_misses set dismissed = 1 where miss_id = $1")
            .bind(miss_id)
            .execute(self.writer())
            .await?;
        Ok(r.rows_affected() > 0)
    }

    pub async fn settings(&self) -> Result<Vec<(String, String)>> {
        Ok(sqlx::query_as("select key, value from settings order by key").fetch_all(&self.pool).await?)
    }

    pub async fn set_setting(&self, key: &str, value: Option<&str>) -> Result<()> {
        match value {
            Some(v) => {
                sqlx::query(
                    "insert into settings (key, value, updated_at) values ($1, $2, $3)
                     on conflict (key) do update set value = excluded.value, updated_at = excluded.updated_at",
                )
                .bind(key)
                .bind(v)
                .bind(now_ms())
                .execute(self.writer())
                .await?;
            }
            None => {
                sqlx::query("delete from settings where key = $1").bind(key).execute(self.writer()).await?;
            }
        }
        Ok(())
    }

    pub async fn audit(&self, actor: &str, action: &str, target: &str, details: &serde_json::Value) -> Result<()> {
        sqlx::query(
            "insert into audit_log (audit_id, at, actor, action, target, details) values ($1, $2, $3, $4, $5, $6)",
        )
        .bind(new_ordered_id())
        .bind(now_ms())
        .bind(actor)
        .bind(action)
        .bind(target)
        .bind(details.to_string())
        .execute(self.writer())
        .await?;
        Ok(())
    }

    /// Newest first; filters are exact matches when given.
    pub async fn audit_entries(
        &self,
        action: Option<&str>,
        actor: Option<&str>,
        limit: i64,
    ) -> Result<Vec<AuditEntry>> {
        let rows = sqlx::query(
            "select at, actor, action, target, details from audit_log
              where ($1 = '' or action = $1) and ($2 = '' or actor = $2)
              order by at desc limit $3",
        )
        .bind(action.unwrap_or(""))
        .bind(actor.unwrap_or(""))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(AuditEntry {
                    at: r.try_get(0)?,
                    actor: r.try_get(1)?,
                    action: r.try_get(2)?,
                    target: r.try_get(3)?,
                    details: r.try_get(4)?,
                })
            })
            .collect()
    }
}

/// Audit rows written inside another transaction (disclosures with the turn that made them).
pub(super) async fn audit_in(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    actor: &str,
    action: &str,
    target: &str,
    details: &str,
) -> Result<()> {
    sqlx::query("insert into audit_log (audit_id, at, actor, action, target, details) values ($1, $2, $3, $4, $5, $6)")
        .bind(new_ordered_id())
        .bind(now_ms())
        .bind(actor)
        .bind(action)
        .bind(target)
        .bind(details)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

impl Store {
    /// Takes or renews the lease `name` for `holder` until `ttl_ms` from now; false while
    /// another holder's lease is still running.
    pub async fn try_lease(&self, name: &str, holder: &str, ttl_ms: i64) -> Result<bool> {
        let now = now_ms();
        let r = sqlx::query(
            "insert into leases (name, holder, expires_at) values ($1, $2, $3)
             on conflict (name) do update set holder = excluded.holder, expires_at = excluded.expires_at
              where leases.holder = excluded.holder or leases.expires_at < $4",
        )
        .bind(name)
        .bind(holder)
        .bind(now + ttl_ms)
        .bind(now)
        .execute(self.writer())
        .await?;
        Ok(r.rows_affected() == 1)
    }

    pub async fn release_lease(&self, name: &str, holder: &str) -> Result<()> {
        sqlx::query("delete from leases where name = $1 and holder = $2")
            .bind(name)
            .bind(holder)
            .execute(self.writer())
            .await?;
        Ok(())
    }

    /// Who holds a live lease, if anyone.
    pub async fn lease_holder(&self, name: &str) -> Result<Option<String>> {
        let row = sqlx::query("select holder from leases where name = $1 and expires_at >= $2")
            .bind(name)
            .bind(now_ms())
            .fetch_optional(&self.pool)
            .await?;
        Ok(match row {
            Some(r) => Some(r.try_get(0)?),
            None => None,
        })
    }
}

/// A stored rule version with its bundle (`select version, author, note, created_at, bundle`).
fn rule_version_from_row(r: &sqlx::any::AnyRow) -> Result<RuleVersion> {
    Ok(RuleVersion {
        version: r.try_get("version")?,
        author: r.try_get("author")?,
        note: r.try_get("note")?,
        created_at: r.try_get("created_at")?,
        bundle: Some(r.try_get("bundle")?),
    })
}
