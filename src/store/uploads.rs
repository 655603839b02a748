//! SQL for the widget upload limit: uploads per limit key (`visitor:<conversation>`,
//! `ip:<address>`) in a sliding window (`windows`; the policy lives in `web::upload_limits`).

use super::windows::{EventTable, EventWindow};
use super::{Result, Store};
use crate::domain::Millis;

const UPLOADS: EventTable =
    EventTable { table: "upload_events", id: "upload_event_id", key: "limit_key", at: "uploaded_at" };

impl Store {
    /// Uploads counted under `key` at or after `since` (with the oldest and newest).
    pub async fn uploads_since(&self, key: &str, since: Millis) -> Result<EventWindow> {
        UPLOADS.window(self, key, since).await
    }

    /// Counts one upload under each key at `at`; drops rows from before `prune_before`.
    pub async fn record_upload(&self, keys: &[String], at: Millis, prune_before: Millis) -> Result<()> {
        UPLOADS.record(self, keys, at, prune_before).await
    }
}
