//! SQL for what each agent keeps for themselves: saved views (a name, search text and list
//! filters) and notification preferences. Every read and write is scoped by `agent_id`: one
//! agent never sees or deletes another's views.

use super::{Error, Result, Store, is_unique_violation};
use crate::domain::{new_id, now_ms};
use sqlx::Row;

/// A saved view; `filters` is a JSON object of list query parameters, validated by the API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedView {
    pub view_id: String,
    pub name: String,
    pub query: String,
    pub filters: String,
}

/// What the console notifies an agent of, and whether it plays a sound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotificationPrefs {
    pub assigned_to_me: bool,
    pub customer_message: bool,
    pub new_in_queue: bool,
    pub sound: bool,
}

impl Default for NotificationPrefs {
    /// Everything that is the agent's own is on; the queue too (small teams watch it); sound off.
    fn default() -> Self {
        NotificationPrefs { assigned_to_me: true, customer_message: true, new_in_queue: true, sound: false }
    }
}

impl Store {
    /// The agent's views, by name.
    pub async fn saved_views(&self, agent_id: &str) -> Result<Vec<SavedView>> {
        let rows = sqlx::query(
            "select view_id, name, query, filters from saved_views where agent_id = $1 order by name, view_id",
        )
        .bind(agent_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(SavedView {
                    view_id: r.try_get(0)?,
                    name: r.try_get(1)?,
                    query: r.try_get(2)?,
                    filters: r.try_get(3)?,
                })
            })
            .collect()
    }

    /// Saves a view; a name the agent already uses is `Error::Duplicate`.
    pub async fn create_saved_view(&self, agent_id: &str, name: &str, query: &str, filters: &str) -> Result<SavedView> {
        let view_id = new_id();
        sqlx::query(
            "insert into saved_views (view_id, agent_id, name, query, filters, created_at) values ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&view_id)
        .bind(agent_id)
        .bind(name)
        .bind(query)
        .bind(filters)
        .bind(now_ms())
        .execute(self.writer())
        .await
        .map_err(|e| if is_unique_violation(&e) { Error::Duplicate } else { e.into() })?;
        Ok(SavedView { view_id, name: name.into(), query: query.into(), filters: filters.into() })
    }

    /// Deletes one of the agent's views; false when the agent has no view with that id.
    pub async fn delete_saved_view(&self, agent_id: &str, view_id: &str) -> Result<bool> {
        let done = sqlx::query("delete from saved_views where view_id = $1 and agent_id = $2")
            .bind(view_id)
            .bind(agent_id)
            .execute(self.writer())
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// The agent's notification preferences (the defaults until they save their own).
    pub async fn notification_prefs(&self, agent_id: &str) -> Result<NotificationPrefs> {
        let row = sqlx::query(
            "select assigned_to_me, customer_message, new_in_queue, sound from notification_prefs where agent_id = $1",
        )
        .bind(agent_id)
        .fetch_optional(&self.pool)
        .await?;
        let Some(r) = row else { return Ok(NotificationPrefs::default()) };
        let flag = |i: usize| r.try_get::<i64, _>(i).map(|v| v != 0);
        Ok(NotificationPrefs {
            assigned_to_me: flag(0)?,
            customer_message: flag(1)?,
            new_in_queue: flag(2)?,
            sound: flag(3)?,
        })
    }

    pub async fn set_notification_prefs(&self, agent_id: &str, p: NotificationPrefs) -> Result<()> {
        let now = now_ms();
        sqlx::query(
            "insert into notification_prefs (agent_id, assigned_to_me, customer_message, new_in_queue, sound, updated_at, created_at)
             values ($1, $2, $3, $4, $5, $6, $6)
             on conflict (agent_id) do update set assigned_to_me = excluded.assigned_to_me,
               customer_message = excluded.customer_message, new_in_queue = excluded.new_in_queue,
               sound = excluded.sound, updated_at = excluded.updated_at",
        )
        .bind(agent_id)
        .bind(i64::from(p.assigned_to_me))
        .bind(i64::from(p.customer_message))
        .bind(i64::from(p.new_in_queue))
        .bind(i64::from(p.sound))
        .bind(now)
        .execute(self.writer())
        .await?;
        Ok(())
    }
}
