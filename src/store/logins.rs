//! SQL for the login throttle: failed logins per throttle key, counted in sliding windows
//! (`windows`; the policy lives in `auth`).

use super::{Result, Store};
use crate::domain::Millis;

use super::windows::EventTable;
use super::windows::EventWindow;

const FAILURES: EventTable =
    EventTable { table: "login_failures", id: "login_failure_id", key: "throttle_key", at: "failed_at" };

impl Store {
    /// Failures of `key` at or after `since`.
    pub async fn login_failures(&self, key: &str, since: Millis) -> Result<EventWindow> {
        FAILURES.window(self, key, since).await
    }

    /// Counts one failure under each key at `at`; drops rows from before `prune_before`.
    pub async fn record_login_failure(&self, keys: &[String], at: Millis, prune_before: Millis) -> Result<()> {
        FAILURES.record(self, keys, at, prune_before).await
    }

    /// Forgets the failures of `key` (after a successful login).
    pub async fn clear_login_failures(&self, key: &str) -> Result<()> {
        sqlx::query("delete from login_failures where throttle_key = $1").bind(key).execute(&self.writer).await?;
        Ok(())
    }
}
