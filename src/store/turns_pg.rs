//! PostgreSQL: a plain customer turn (messages and the conversation's new state, nothing else)
//! committed in one statement, so one network round trip instead of four (begin, insert,
//! update, commit). Turns that also write outbox, audit, identity, proof, mail or label rows
//! take the transaction in `turns`.
//!
//! The statement is a data-modifying CTE run outside an explicit transaction: PostgreSQL
//! commits it (durably, with `synchronous_commit` on) before it answers, so "ack = stored"
//! holds. The update runs first and the rows are inserted only if it matched (`exists`); a
//! conversation that moved on inserts nothing (`Conflict`); a repeated `client_msg_id` fails
//! the insert and with it the whole statement, update included (`Duplicate`).

use super::turns::{MESSAGE_COLUMNS, MESSAGE_PARAMS, UPDATE_CONVERSATION, bind_messages, bind_update, stored_views};
use super::{Error, Result, Turn, is_unique_violation};
use crate::domain::{MessageView, now_ms};
use sqlx::AnyPool;
use std::borrow::Cow;
use std::sync::OnceLock;

/// Parameters taken by [`UPDATE_CONVERSATION`]; the message rows' follow.
const UPDATE_PARAMS: usize = 18;

/// Commits a plain turn (see [`super::turns::is_plain`]) in one autocommitted statement.
pub(super) async fn commit_plain(writer: &AnyPool, turn: &Turn) -> Result<Vec<MessageView>> {
    let now = now_ms();
    let stored = stored_views(turn, now);
    let query = bind_update(sqlx::query(sqlx::AssertSqlSafe(plain_turn_sql(stored.len()))), turn, now);
    let inserted = match bind_messages(query, &stored, turn, now).execute(writer).await {
        Err(e) if is_unique_violation(&e) => return Err(Error::Duplicate),
        other => other?,
    };
    if inserted.rows_affected() != stored.len() as u64 {
        // The update matched no row: the conversation moved on, and nothing was inserted.
        return Err(Error::Conflict);
    }
    Ok(stored)
}

/// The statement for a turn of `rows` messages, built once per row count (turns have 1–4).
fn plain_turn_sql(rows: usize) -> Cow<'static, str> {
    const KEPT: usize = 8;
    static SQL: [OnceLock<String>; KEPT] = [const { OnceLock::new() }; KEPT];
    let build = || {
        let tuples: Vec<String> = (0..rows)
            .map(|r| {
                let first = UPDATE_PARAMS + r * MESSAGE_PARAMS + 1;
                let params: Vec<String> = (first..first + MESSAGE_PARAMS).map(|p| format!("${p}")).collect();
                format!("({})", params.join(", "))
            })
            .collect();
        format!(
            "with updated as ({UPDATE_CONVERSATION} returning 1)
             insert into messages ({MESSAGE_COLUMNS})
             select * from (values {}) as v ({MESSAGE_COLUMNS})
              where exists (select 1 from updated)",
            tuples.join(", ")
        )
    };
    match rows.checked_sub(1).and_then(|i| SQL.get(i)) {
        Some(cell) => Cow::Borrowed(cell.get_or_init(build).as_str()),
        None => Cow::Owned(build()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_placeholders_follow_the_update_ones() {
        let sql = plain_turn_sql(2);
        assert!(sql.contains("($19, $20, $21, $22, $23, $24, $25, $26, $27, $28, $29), ($30,"));
        assert!(sql.contains("$40)"));
        assert!(!sql.contains("$41"));
    }
}
