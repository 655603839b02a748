//! SQLite: the plain turns of one group commit written together, in one round trip to sqlx's
//! SQLite thread for the whole batch.
//!
//! sqlx runs each statement on the connection's own thread: a channel send and a thread
//! wake-up both ways, which costs more than SQLite's own work for a small row. So a batch's
//! plain turns (messages and the conversation update, audit rows allowed) and proofs' turns
//! (also identities, a forgiven attempt, the contact's name; see `turns::fits_one_statement`)
//! go to SQLite as one multi-statement query, one hop:
//!
//! 1. `begin immediate`;
//! 2. one `update conversations … from (values …) returning conversation_id` that moves every
//!    conversation still at the version and owner its turn was computed against, and names the
//!    ones it moved (the query's only rows);
//! 3. one multi-row insert of the messages of the turns whose conversation moved;
//! 4. only if some turns carry audit rows (the bot's disclosures), one insert of those, again
//!    only for the conversations that moved; the same for identities (an upsert), forgiven
//!    proof attempts (a delete) and contacts' names (an update of unnamed contacts);
//! 5. `commit`.
//!
//! "Moved" in steps 3 and 4 is `last_seq` = the turn's new seq. That is exact because seq is
//! unique per conversation and every writer that raises `last_seq` stores a message at the new
//! seq: if another writer had raised it to ours, our insert collides with its message.
//!
//! Any error (a repeated `client_msg_id` or external id, such a collision, the disk) fails the
//! query; it is rolled back on the same connection and the caller writes the same turns one by
//! one, which finds the turn at fault and stores the others. The batch is taken only when no
//! two turns share a conversation (the hub's turn lock already makes that the rule).

use super::turns::{
    AUDIT_COLUMNS, IDENTITY_ON_CONFLICT, IDENTITY_UPSERT, MESSAGE_COLUMNS, MESSAGE_PARAMS, bind_messages, bind_update,
    merged_identities, stored_views,
};
use super::{Error, Placeholders, Result, Turn, fetch_in_one_hop, is_unique_violation, value_tuples};
use crate::domain::{MessageView, new_ordered_id, now_ms};
use sqlx::{AnyPool, Row};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, LazyLock, Mutex};

/// Columns of the per-turn values the update joins, in [`bind_update`]'s binding order.
const UPDATE_VALUES: &str = "n_seq, n_status, n_locale, n_state, n_now, n_id, n_expected, n_assignee, n_team, n_cm, \
     n_handoff, n_summary, n_context, n_priority, n_from_status, n_from_assignee, n_meta, n_from_team";
const UPDATE_PARAMS: usize = 18;

/// What a one-hop batch did.
pub(super) enum Outcome {
    /// Committed: one answer per turn, in order (its stored messages, or `Conflict`).
    Written(Vec<Result<Vec<MessageView>>>),
    /// A message collides with a stored one; nothing was written. Write the turns one by one.
    Collided,
}

/// How many rows of each kind a batch writes besides its turns' messages.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
struct Extras {
    audits: usize,
    identities: usize,
    forgiven: usize,
    names: usize,
}

/// Writes `turns` (each fits one statement and has its own conversation) in one transaction,
/// sent to SQLite's thread as one query.
pub(super) async fn commit_together(writer: &AnyPool, turns: &[&Turn]) -> Result<Outcome> {
    let now = now_ms();
    let stored: Vec<Vec<MessageView>> = turns.iter().map(|t| stored_views(t, now)).collect();
    let identities: Vec<_> = turns.iter().map(|t| merged_identities(&t.identities)).collect();
    let rows: usize = stored.iter().map(Vec::len).sum();
    let extras = Extras {
        audits: turns.iter().map(|t| t.audit.len()).sum(),
        identities: identities.iter().map(Vec::len).sum(),
        forgiven: turns.iter().filter(|t| t.forgive_attempt.is_some()).count(),
        names: turns.iter().filter(|t| t.contact_name.is_some()).count(),
    };
    let sql = shared_batch_sql(turns.len(), rows, extras);

    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
    for turn in turns {
        query = bind_update(query, turn, now);
    }
    for (turn, views) in turns.iter().zip(&stored) {
        query = bind_messages(query, views, turn, now, Some(turn.new_seq()));
    }
    for turn in turns {
        for (actor, action, target, details) in &turn.audit {
            query = query
                .bind(new_ordered_id())
                .bind(now)
                .bind(actor.as_str())
                .bind(action.as_str())
                .bind(target.as_str())
                .bind(details.as_str())
                .bind(turn.conversation_id.as_str())
                .bind(turn.new_seq());
        }
    }
    for (turn, merged) in turns.iter().zip(&identities) {
        for (kind, value, verification) in merged {
            query = query.bind(turn.contact_id.as_str()).bind(*kind).bind(*value).bind(verification.as_str());
            query = query.bind(now).bind(turn.conversation_id.as_str()).bind(turn.new_seq());
        }
    }
    for turn in turns {
        if let Some(attempt) = &turn.forgive_attempt {
            query = query.bind(attempt.as_str()).bind(turn.conversation_id.as_str()).bind(turn.new_seq());
        }
    }
    for turn in turns {
        if let Some(name) = &turn.contact_name {
            query = query.bind(name.as_str()).bind(turn.contact_id.as_str());
            query = query.bind(turn.conversation_id.as_str()).bind(turn.new_seq());
        }
    }
    let moved: HashSet<String> = match fetch_in_one_hop(writer, query).await {
        Ok(rows) => rows.iter().map(|r| r.try_get::<String, _>(0)).collect::<sqlx::Result<_>>()?,
        Err(e) if is_unique_violation(&e) => return Ok(Outcome::Collided),
        Err(e) => return Err(e.into()),
    };
    Ok(Outcome::Written(
        turns
            .iter()
            .zip(stored)
            .map(|(turn, views)| if moved.contains(&turn.conversation_id) { Ok(views) } else { Err(Error::Conflict) })
            .collect(),
    ))
}

/// The whole batch as one multi-statement query: `turns` update tuples of 18, `rows` message
/// tuples of 12 (the row and its turn's new seq), then for each extra row its own values and
/// its turn's conversation and new seq: audit tuples of 8, identity tuples of 7, forgiven
/// attempts of 3, names of 4 (the name and the contact).
fn batch_sql(turns: usize, rows: usize, extras: Extras) -> String {
    let Extras { audits, identities, forgiven, names } = extras;
    let mut sql = String::from("begin immediate; with v (");
    sql.push_str(UPDATE_VALUES);
    sql.push_str(") as (values ");
    sql.push_str(&value_tuples(Placeholders::Anonymous, turns, UPDATE_PARAMS));
    sql.push_str(") ");
    sql.push_str(update_conversations_from_v!());
    sql.push_str("; insert into messages (");
    sql.push_str(MESSAGE_COLUMNS);
    sql.push_str(") select ");
    sql.push_str(&numbered_columns(MESSAGE_PARAMS));
    sql.push_str(" from (values ");
    sql.push_str(&value_tuples(Placeholders::Anonymous, rows, MESSAGE_PARAMS + 1));
    // column2: the conversation id (`MESSAGE_COLUMNS` order); the last: the turn's new seq.
    sql.push_str(") where ");
    sql.push_str(&moved("column2", &format!("column{}", MESSAGE_PARAMS + 1)));
    if audits > 0 {
        sql.push_str("; insert into audit_log (");
        sql.push_str(AUDIT_COLUMNS);
        sql.push_str(") select ");
        sql.push_str(&numbered_columns(6));
        sql.push_str(" from (values ");
        sql.push_str(&value_tuples(Placeholders::Anonymous, audits, 8));
        sql.push_str(") where ");
        sql.push_str(&moved("column7", "column8"));
    }
    if identities > 0 {
        sql.push_str("; ");
        sql.push_str(IDENTITY_UPSERT);
        sql.push_str(" select column1, column2, column3, column4, column5 from (values ");
        sql.push_str(&value_tuples(Placeholders::Anonymous, identities, 7));
        sql.push_str(") where ");
        sql.push_str(&moved("column6", "column7"));
        sql.push(' ');
        sql.push_str(IDENTITY_ON_CONFLICT);
    }
    if forgiven > 0 {
        sql.push_str("; delete from proof_failures where attempt_id in (select column1 from (values ");
        sql.push_str(&value_tuples(Placeholders::Anonymous, forgiven, 3));
        sql.push_str(") where ");
        sql.push_str(&moved("column2", "column3"));
        sql.push(')');
    }
    if names > 0 {
        sql.push_str("; update contacts set name = v.column1 from (values ");
        sql.push_str(&value_tuples(Placeholders::Anonymous, names, 4));
        sql.push_str(
            ") as v where contacts.contact_id = v.column2 and (contacts.name is null or contacts.name = '') and ",
        );
        sql.push_str(&moved("v.column3", "v.column4"));
    }
    sql.push_str("; commit");
    sql
}

/// How many batch shapes [`shared_batch_sql`] keeps; past that it starts again.
const SHAPES_KEPT: usize = 256;

/// [`batch_sql`], built once per shape: under a steady load the same few shapes repeat, and
/// building one costs a few µs per batch.
fn shared_batch_sql(turns: usize, rows: usize, extras: Extras) -> Arc<str> {
    type Shapes = Mutex<HashMap<(usize, usize, Extras), Arc<str>>>;
    static SHAPES: LazyLock<Shapes> = LazyLock::new(Shapes::default);
    let key = (turns, rows, extras);
    let mut shapes = SHAPES.lock().expect("batch shapes mutex poisoned: a holder panicked");
    if let Some(sql) = shapes.get(&key) {
        return sql.clone();
    }
    if shapes.len() >= SHAPES_KEPT {
        shapes.clear();
    }
    let sql: Arc<str> = batch_sql(turns, rows, extras).into();
    shapes.insert(key, sql.clone());
    sql
}

/// True for a row whose conversation the batch's update moved (see the module's note).
fn moved(conversation: &str, new_seq: &str) -> String {
    format!(
        "exists (select 1 from conversations c where c.conversation_id = {conversation} and c.last_seq = {new_seq})"
    )
}

/// `column1, …, columnN`: the columns SQLite names a `values` list's.
fn numbered_columns(n: usize) -> String {
    (1..=n).map(|i| format!("column{i}")).collect::<Vec<_>>().join(", ")
}

/// True when `turns` (each already fits one statement: see `turns::fits_one_statement`) can
/// go through [`commit_together`] together: at least one, no conversation twice.
pub(super) fn batchable(turns: &[&Turn]) -> bool {
    let mut seen = HashSet::with_capacity(turns.len());
    !turns.is_empty() && turns.iter().all(|t| seen.insert(t.conversation_id.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_batch_binds_eighteen_per_turn_twelve_per_message_and_eight_per_audit_row() {
        let sql = batch_sql(3, 5, Extras { audits: 2, ..Extras::default() });
        assert_eq!(sql.matches('?').count(), 3 * UPDATE_PARAMS + 5 * (MESSAGE_PARAMS + 1) + 2 * 8);
        assert_eq!(UPDATE_VALUES.split(',').count(), UPDATE_PARAMS);
        assert_eq!(MESSAGE_COLUMNS.split(',').count(), MESSAGE_PARAMS);
        assert!(sql.starts_with("begin immediate;") && sql.ends_with("; commit"));
        assert!(sql.contains("returning conversation_id"));
        let plain = batch_sql(1, 2, Extras::default());
        assert!(!plain.contains("audit_log") && !plain.contains("contact_identities"));
        assert!(!plain.contains("proof_failures") && !plain.contains("update contacts"));
    }

    #[test]
    fn a_shape_is_built_once_and_shared() {
        let extras = Extras { audits: 1, ..Extras::default() };
        let first = shared_batch_sql(2, 4, extras);
        assert_eq!(*first, batch_sql(2, 4, extras));
        assert!(Arc::ptr_eq(&first, &shared_batch_sql(2, 4, extras)));
        assert_eq!(*shared_batch_sql(2, 4, Extras::default()), batch_sql(2, 4, Extras::default()));
    }

    #[test]
    fn a_proofs_rows_follow_the_audit_rows_in_binding_order() {
        let sql = batch_sql(2, 4, Extras { audits: 1, identities: 2, forgiven: 1, names: 1 });
        let expected = 2 * UPDATE_PARAMS + 4 * (MESSAGE_PARAMS + 1) + 8 + 2 * 7 + 3 + 4;
        assert_eq!(sql.matches('?').count(), expected);
        let at = |what: &str| sql.find(what).unwrap_or_else(|| panic!("{what} missing"));
        assert!(at("audit_log") < at("contact_identities"));
        assert!(at("contact_identities") < at("proof_failures"));
        assert!(at("proof_failures") < at("update contacts"));
        assert!(sql.ends_with("; commit"));
    }
}
