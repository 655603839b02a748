//! Sliding-window counters kept in the database, so every node and a restarted one see the same
//! counts: a table of timestamped events per key (failed logins, widget uploads). The policies
//! (limits, windows) live with their callers (`auth`, `web::upload_limits`).

use super::{Result, Store};
use crate::domain::{Millis, new_ordered_id, now_ms};
use sqlx::Row;

/// Events of one key inside a window.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EventWindow {
    pub count: i64,
    /// When the oldest and newest counted event happened.
    pub oldest: Option<Millis>,
    pub newest: Option<Millis>,
}

/// A table of events: its name and its id, key and time columns (all constants, never input).
pub(super) struct EventTable {
    pub table: &'static str,
    pub id: &'static str,
    pub key: &'static str,
    pub at: &'static str,
}

impl EventTable {
    /// Events of `key` at or after `since`.
    pub async fn window(&self, store: &Store, key: &str, since: Millis) -> Result<EventWindow> {
        let (table, k, at) = (self.table, self.key, self.at);
        let sql = format!("select count(*), min({at}), max({at}) from {table} where {k} = $1 and {at} >= $2");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(key).bind(since).fetch_one(&store.pool).await?;
        Ok(EventWindow { count: row.try_get(0)?, oldest: row.try_get(1)?, newest: row.try_get(2)? })
    }

    /// Counts one event under each key at `at`; drops rows from before `prune_before`.
    pub async fn record(&self, store: &Store, keys: &[String], at: Millis, prune_before: Millis) -> Result<()> {
        let (table, id, k, at_col) = (self.table, self.id, self.key, self.at);
        let mut tx = store.begin_write().await?;
        sqlx::query(sqlx::AssertSqlSafe(format!("delete from {table} where {at_col} < $1")))
            .bind(prune_before)
            .execute(&mut *tx)
            .await?;
        let insert = format!("insert into {table} ({id}, {k}, {at_col}, created_at) values ($1, $2, $3, $4)");
        for key in keys {
            sqlx::query(sqlx::AssertSqlSafe(insert.clone()))
                .bind(new_ordered_id())
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
