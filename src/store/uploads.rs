//! SQL for the widget upload limit: uploads per limit key (`visitor:<conversation>`,
//! `ip:<address>`) in a sliding window (the policy lives in `web::upload_limits`). Kept in the
//! database so every node and a restarted one see the same counts.

use super::{Result, Store};
use crate::domain::{Millis, new_id, now_ms};
use sqlx::Row;

impl Store {
    /// Uploads counted under `key` at or after `since`, and when the oldest of them happened.
    pub async fn uploads_since(&self, key: &str, since: Millis) -> Result<(i64, Option<Millis>)> {
        let row = sqlx::query(
            "select count(*), min(uploaded_at) from upload_events where limit_key = $1 and uploaded_at >= $2",
        )
        .bind(key)
        .bind(since)
        .fetch_one(&self.pool)
        .await?;
        Ok((row.try_get(0)?, row.try_get(1)?))
    }

    /// Counts one upload under each key at `at`; drops rows from before `prune_before`.
    pub async fn record_upload(&self, keys: &[String], at: Millis, prune_before: Millis) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("delete from upload_events where uploaded_at < $1").bind(prune_before).execute(&mut *tx).await?;
        for key in keys {
            sqlx::query(
                "insert into upload_events (upload_event_id, limit_key, uploaded_at, created_at) values ($1, $2, $3, $4)",
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
}
