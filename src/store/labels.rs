//! SQL for labels: the admin-managed list (name + colour) and the set on each conversation.

use super::{Error, Result, Store};
use crate::domain::now_ms;
use sqlx::Row;
use std::collections::HashMap;

/// The colour of a label the bot creates (an intent's `label` that no admin defined yet).
pub const DEFAULT_COLOR: &str = "#7f8c8d";

/// Adds `name` to a conversation inside a turn's transaction, creating the label if missing.
pub(super) async fn add_label_in(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    conversation_id: &str,
    name: &str,
    now: i64,
) -> Result<()> {
    sqlx::query("insert into labels (name, color, created_at) values ($1, $2, $3) on conflict (name) do nothing")
        .bind(name)
        .bind(DEFAULT_COLOR)
        .bind(now)
        .execute(&mut **tx)
        .await?;
    label_conversation(tx, conversation_id, name, now).await
}

/// Puts an existing label on a conversation (once).
async fn label_conversation(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    conversation_id: &str,
    name: &str,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "insert into conversation_labels (conversation_id, name, created_at) values ($1, $2, $3)
         on conflict (conversation_id, name) do nothing",
    )
    .bind(conversation_id)
    .bind(name)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// A label as admins define it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    pub name: String,
    pub color: String,
}

impl Store {
    /// Creates a label, or changes the colour of an existing one.
    pub async fn upsert_label(&self, name: &str, color: &str) -> Result<()> {
        sqlx::query(
            "insert into labels (name, color, created_at) values ($1, $2, $3)
             on conflict (name) do update set color = excluded.color",
        )
        .bind(name)
        .bind(color)
        .bind(now_ms())
        .execute(self.writer())
        .await?;
        Ok(())
    }

    /// Every label, by name.
    pub async fn labels(&self) -> Result<Vec<Label>> {
        let rows = sqlx::query("select name, color from labels order by name").fetch_all(&self.pool).await?;
        rows.iter().map(|r| Ok(Label { name: r.try_get(0)?, color: r.try_get(1)? })).collect()
    }

    /// Replaces a conversation's labels. Every name must exist: the first unknown one is
    /// returned as `Error::Invalid(name)` and nothing changes.
    pub async fn set_conversation_labels(&self, conversation_id: &str, names: &[String]) -> Result<()> {
        let known: Vec<String> = self.labels().await?.into_iter().map(|l| l.name).collect();
        if let Some(unknown) = names.iter().find(|n| !known.contains(n)) {
            return Err(Error::Invalid(unknown.clone()));
        }
        let mut tx = self.begin_write().await?;
        sqlx::query("delete from conversation_labels where conversation_id = $1")
            .bind(conversation_id)
            .execute(&mut *tx)
            .await?;
        let now = now_ms();
        for name in names {
            label_conversation(&mut tx, conversation_id, name, now).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The labels of these conversations (sorted by name); conversations without any are absent.
    pub async fn labels_of(&self, conversation_ids: &[String]) -> Result<HashMap<String, Vec<String>>> {
        let mut out: HashMap<String, Vec<String>> = HashMap::new();
        // Chunks keep the placeholder count well under either backend's limit.
        for chunk in conversation_ids.chunks(500) {
            let marks: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
            let sql = format!(
                "select conversation_id, name from conversation_labels where conversation_id in ({}) order by name",
                marks.join(", ")
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for id in chunk {
                q = q.bind(id);
            }
            for r in q.fetch_all(&self.pool).await? {
                out.entry(r.try_get(0)?).or_default().push(r.try_get(1)?);
            }
        }
        Ok(out)
    }
}
