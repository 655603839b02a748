//! SQL for the login throttle: failed logins per throttle key, counted in sliding windows (the
//! policy lives in `auth`). Kept in the database so every node sees the same counts.

use super::{Result, Store};
use crate::domain::{Millis, new_id, now_ms};
use sqlx::Row;

/// Failures of one key inside a window.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FailureWindow {
    pub count: i64,
    /// When the oldest and newest counted failure happened.
    pub oldest: Option<Millis>,
    pub newest: Option<Millis>,
}

impl Store {
    /// Failures of `key` at or after `since`.
    pub async fn login_failures(&self, key: &str, since: Millis) -> Result<FailureWindow> {
        let row = sqlx::query(
            "select count(*), min(failed_at), max(failed_at) from login_failures \
             where throttle_key = $1 and failed_at >= $2",
        )
        .bind(key)
        .bind(since)
        .fetch_one(&self.pool)
        .await?;
        Ok(FailureWindow { count: row.try_get(0)?, oldest: row.try_get(1)?, newest: row.try_get(2)? })
    }

    /// Counts one failure under each key at `at`; drops rows from before `prune_before`.
    pub async fn record_login_failure(&self, keys: &[String], at: Millis, prune_before: Millis) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("delete from login_failures where failed_at < $1").bind(prune_before).execute(&mut *tx).await?;
        for key in keys {
            sqlx::query(
                "insert into login_failures (login_failure_id, throttle_key, failed_at, created_at) \
                 values ($1, $2, $3, $4)",
            )
            .bind(new_id())
            .bind(key)
            .bind(at)
            .bind(now_ms())
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Forgets the failures of `key` (after a successful login).
    pub async fn clear_login_failures(&self, key: &str) -> Result<()> {
        sqlx::query("delete from login_failures where throttle_key = $1").bind(key).execute(&self.writer).await?;
        Ok(())
    }
}
