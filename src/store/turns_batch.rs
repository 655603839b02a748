//! SQLite: the plain turns of one group commit written together, in two statements for the whole
//! batch instead of two per turn.
//!
//! Each statement is a round trip to sqlx's SQLite thread (a channel send and a thread wake-up
//! both ways), which costs more than SQLite's own work for a small row. Inside the batch's
//! `BEGIN IMMEDIATE … COMMIT` (see `turns`):
//!
//! 1. one multi-row insert of every plain turn's messages;
//! 2. one `update … from (values …) returning` that moves every conversation still at the version
//!    and owner its turn was computed against, and names the ones it moved;
//! 3. only if some did not move (`Conflict`), one delete of those turns' messages;
//! 4. only if some that moved carry audit rows (the bot's disclosures), one insert of those.
//!
//! A repeated `client_msg_id` fails the insert as a whole; SQLite backs out that statement only,
//! the transaction stays usable, and the caller writes the same turns one by one, which finds
//! the duplicate turn and stores the others. The batch is taken only when no two turns share a
//! conversation (the hub's turn lock already makes that the rule).

use super::turns::{MESSAGE_COLUMNS, MESSAGE_PARAMS, bind_messages, bind_update, stored_views};
use super::{Error, Placeholders, Result, Turn, is_unique_violation, value_tuples};
use crate::domain::{MessageView, new_ordered_id, now_ms};
use sqlx::Row;
use std::collections::HashSet;

/// Columns of the per-turn values the update joins, in [`bind_update`]'s binding order.
const UPDATE_VALUES: &str = "n_seq, n_status, n_locale, n_state, n_now, n_id, n_expected, n_assignee, n_team, n_cm, \
     n_handoff, n_summary, n_context, n_priority, n_from_status, n_from_assignee, n_meta, n_from_team";
const UPDATE_PARAMS: usize = 18;

/// Writes `turns` (all plain but for audit rows, each on its own conversation) inside `tx`. `None`: a message
/// collides with a stored one and nothing was written; the caller falls back to one turn at a
/// time. Otherwise one answer per turn, in order: its stored messages, or `Conflict`.
pub(super) async fn apply_plain(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    turns: &[&Turn],
) -> Result<Option<Vec<Result<Vec<MessageView>>>>> {
    let now = now_ms();
    let stored: Vec<Vec<MessageView>> = turns.iter().map(|t| stored_views(t, now)).collect();
    let rows: usize = stored.iter().map(Vec::len).sum();

    let sql = format!(
        "insert into messages ({MESSAGE_COLUMNS}) values {}",
        value_tuples(Placeholders::Anonymous, rows, MESSAGE_PARAMS)
    );
    let mut insert = sqlx::query(sqlx::AssertSqlSafe(sql));
    for (turn, views) in turns.iter().zip(&stored) {
        insert = bind_messages(insert, views, turn, now);
    }
    match insert.execute(&mut **tx).await {
        Err(e) if is_unique_violation(&e) => return Ok(None),
        other => other?,
    };

    let mut update = sqlx::query(sqlx::AssertSqlSafe(update_sql(turns.len())));
    for turn in turns {
        update = bind_update(update, turn, now);
    }
    let moved: HashSet<String> =
        update.fetch_all(&mut **tx).await?.iter().map(|r| r.try_get::<String, _>(0)).collect::<sqlx::Result<_>>()?;

    let stale: Vec<&MessageView> = turns
        .iter()
        .zip(&stored)
        .filter(|(turn, _)| !moved.contains(&turn.conversation_id))
        .flat_map(|(_, views)| views)
        .collect();
    if !stale.is_empty() {
        let sql = format!("delete from messages where message_id in ({})", vec!["?"; stale.len()].join(", "));
        let mut delete = sqlx::query(sqlx::AssertSqlSafe(sql));
        for view in &stale {
            delete = delete.bind(view.id.as_str());
        }
        delete.execute(&mut **tx).await?;
    }
    let audit: Vec<&(String, String, String, String)> =
        turns.iter().filter(|t| moved.contains(&t.conversation_id)).flat_map(|t| &t.audit).collect();
    if !audit.is_empty() {
        let sql = format!(
            "insert into audit_log (audit_id, at, actor, action, target, details) values {}",
            value_tuples(Placeholders::Anonymous, audit.len(), 6)
        );
        let mut insert = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (actor, action, target, details) in audit {
            insert = insert.bind(new_ordered_id()).bind(now).bind(actor).bind(action).bind(target).bind(details);
        }
        insert.execute(&mut **tx).await?;
    }
    Ok(Some(
        turns
            .iter()
            .zip(stored)
            .map(|(turn, views)| if moved.contains(&turn.conversation_id) { Ok(views) } else { Err(Error::Conflict) })
            .collect(),
    ))
}

/// The batch form of `turns::UPDATE_CONVERSATION`: the same assignments and guards, the values
/// of `turns` turns joined by conversation id.
fn update_sql(turns: usize) -> String {
    let mut sql = format!("with v ({UPDATE_VALUES}) as (values ");
    sql.push_str(&value_tuples(Placeholders::Anonymous, turns, UPDATE_PARAMS));
    sql.push_str(") ");
    sql.push_str(update_conversations_from_v!());
    sql
}

/// True when `turns` (already plain but for audit rows: see `turns::is_plain_but_audit`) can
/// go through [`apply_plain`] together: at least two, no conversation twice.
pub(super) fn batchable(turns: &[&Turn]) -> bool {
    let mut seen = HashSet::with_capacity(turns.len());
    turns.len() >= 2 && turns.iter().all(|t| seen.insert(t.conversation_id.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_update_binds_one_tuple_of_eighteen_per_turn() {
        let sql = update_sql(3);
        assert_eq!(sql.matches('?').count(), 3 * UPDATE_PARAMS);
        assert_eq!(UPDATE_VALUES.split(',').count(), UPDATE_PARAMS);
        assert!(sql.contains("returning conversation_id"));
    }
}
