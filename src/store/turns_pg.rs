//! PostgreSQL: plain customer turns (messages, the conversation's new state and audit rows,
//! nothing else), and proofs' turns, committed without a transaction of their own.
//!
//! - **A batch of turns in one statement.** While [`WRITTEN_ALONE`] or more plain turns are
//!   being written, the next ones queue for [`COMMITTERS`] committers (like SQLite's group
//!   commit, see `turns`); each takes every turn waiting and writes them in one autocommitted
//!   data-modifying statement: the guarded update of every conversation, then the messages and
//!   audit rows of the turns whose conversation moved. The rows travel as JSON
//!   (`json_to_recordset`), so the statement's text is the same for any batch and stays
//!   prepared. One round trip, one commit and one log flush for the batch instead of one per
//!   turn. PostgreSQL commits it (durably, with `synchronous_commit` on) before it answers, and
//!   every caller is answered after that, so "ack = stored" holds. A conversation that moved on
//!   gets nothing inserted (`Conflict` for that turn only). A repeated `client_msg_id` fails the
//!   whole statement, which then changed nothing: the batch's turns are written one by one,
//!   which isolates the duplicate (`Duplicate`).
//! - **A turn alone in one statement**: the guarded update and, only if it matched, the
//!   multi-row inserts of its messages and audit rows, as one CTE: one round trip instead of
//!   four or five (begin, insert, update, audit, commit). The one-by-one path takes it, and so
//!   does a plain turn while fewer than [`WRITTEN_ALONE`] are being written, from its own task.
//!   At 1,000 messages a second that is most turns: the two task hand-offs to a committer and
//!   back cost more there than a batch of one or two saves (measured in README, round 8). At a
//!   human pace most turns come alone, and a third of them (the bot's disclosures) write an
//!   audit row.
//!
//!   A turn that also adds identities, deletes its forgiven proof attempt and names the contact
//!   (a successful email proof: the customer's email answering the bot) is one statement too,
//!   with more CTEs: it was a write of the name and then a transaction of six or seven round
//!   trips, the slowest of a conversation's usual turns.
//!
//! Turns that also write outbox, code, mail, label or channel rows take the transaction in
//! `turns`.

use super::turns::{
    AUDIT_COLUMNS, IDENTITY_ON_CONFLICT, IDENTITY_UPSERT, MESSAGE_COLUMNS, MESSAGE_PARAMS, TurnJob,
    UPDATE_CONVERSATION, bind_messages, bind_update, merged_identities, message_rows, stored_views, update_values,
};
use super::{Error, Placeholders, Result, Turn, is_unique_violation, value_tuples};
use crate::domain::{MessageView, new_ordered_id, now_ms};
use sqlx::{AnyPool, Row};
use std::borrow::Cow;
use std::collections::HashSet;
use std::sync::{Arc, OnceLock};
use tokio::sync::mpsc;

/// Parameters taken by [`UPDATE_CONVERSATION`]; the message rows' follow.
const UPDATE_PARAMS: usize = 18;

/// Commits a turn that fits one statement (see [`super::turns::fits_one_statement`]) in one
/// autocommitted statement.
pub(super) async fn commit_alone(writer: &AnyPool, turn: &Turn) -> Result<Vec<MessageView>> {
    let now = now_ms();
    let stored = stored_views(turn, now);
    let identities = merged_identities(&turn.identities);
    let shape = Shape {
        rows: stored.len(),
        audits: turn.audit.len(),
        identities: identities.len(),
        forgive: turn.forgive_attempt.is_some(),
        named: turn.contact_name.is_some(),
    };
    let mut query = bind_messages(
        bind_update(sqlx::query(sqlx::AssertSqlSafe(turn_sql(shape))), turn, now),
        &stored,
        turn,
        now,
        None,
    );
    for (actor, action, target, details) in &turn.audit {
        query = query.bind(new_ordered_id()).bind(now).bind(actor.as_str()).bind(action.as_str());
        query = query.bind(target.as_str()).bind(details.as_str());
    }
    for (kind, value, verification) in identities {
        query = query.bind(turn.contact_id.as_str()).bind(kind).bind(value).bind(verification.as_str()).bind(now);
    }
    if let Some(attempt) = &turn.forgive_attempt {
        query = query.bind(attempt.as_str());
    }
    if let Some(name) = &turn.contact_name {
        query = query.bind(name.as_str()).bind(turn.contact_id.as_str());
    }
    let inserted = match query.execute(writer).await {
        Err(e) if is_unique_violation(&e) => return Err(Error::Duplicate),
        other => other?,
    };
    // The count is the messages' (the other rows are written by CTEs beside them).
    if inserted.rows_affected() != stored.len() as u64 {
        // The update matched no row: the conversation moved on, and nothing was written.
        return Err(Error::Conflict);
    }
    Ok(stored)
}

/// Parameters of one audit row in [`turn_sql`].
const AUDIT_PARAMS: usize = 6;
/// Parameters of one identity row in [`turn_sql`].
const IDENTITY_PARAMS: usize = 5;

/// What a lone turn's statement writes.
#[derive(Debug, Clone, Copy)]
struct Shape {
    rows: usize,
    audits: usize,
    identities: usize,
    forgive: bool,
    named: bool,
}

/// The statement for a turn of this shape, built once per shape (turns have 1–4 messages, 0–2
/// audit rows, 0–1 identities): the guarded update, then, only if it matched, the audit rows,
/// the identities, the forgiven attempt's deletion, the contact's name (data-modifying CTEs,
/// which PostgreSQL runs whether or not they are read) and the messages. Parameters in that
/// order.
fn turn_sql(shape: Shape) -> Cow<'static, str> {
    const ROWS: usize = 8;
    const AUDITS: usize = 3;
    const IDENTITIES: usize = 3;
    // The last index: forgive + 2 × named.
    type Cells = [[[[OnceLock<String>; 4]; IDENTITIES]; AUDITS]; ROWS];
    static SQL: Cells = [const { [const { [const { [const { OnceLock::new() }; 4] }; IDENTITIES] }; AUDITS] }; ROWS];
    let Shape { rows, audits, identities, forgive, named } = shape;
    let build = || {
        let mut after = UPDATE_PARAMS + rows * MESSAGE_PARAMS;
        let mut ctes = String::new();
        if audits > 0 {
            ctes += &format!(
                ", audited as (
                    insert into audit_log ({AUDIT_COLUMNS})
                    select * from (values {}) as a ({AUDIT_COLUMNS})
                     where exists (select 1 from updated))",
                value_tuples(Placeholders::NumberedAfter(after), audits, AUDIT_PARAMS)
            );
            after += audits * AUDIT_PARAMS;
        }
        if identities > 0 {
            ctes += &format!(
                ", known as (
                    {IDENTITY_UPSERT}
                    select * from (values {}) as i (contact_id, kind, value, verification, created_at)
                     where exists (select 1 from updated)
                    {IDENTITY_ON_CONFLICT})",
                value_tuples(Placeholders::NumberedAfter(after), identities, IDENTITY_PARAMS)
            );
            after += identities * IDENTITY_PARAMS;
        }
        if forgive {
            ctes += &format!(
                ", forgiven as (
                    delete from proof_failures where attempt_id = ${} and exists (select 1 from updated))",
                after + 1
            );
            after += 1;
        }
        if named {
            ctes += &format!(
                ", named as (
                    update contacts set name = ${} where contact_id = ${} and (name is null or name = '')
                       and exists (select 1 from updated))",
                after + 1,
                after + 2
            );
        }
        format!(
            "with updated as ({UPDATE_CONVERSATION} returning 1){ctes}
             insert into messages ({MESSAGE_COLUMNS})
             select * from (values {}) as v ({MESSAGE_COLUMNS})
              where exists (select 1 from updated)",
            value_tuples(Placeholders::NumberedAfter(UPDATE_PARAMS), rows, MESSAGE_PARAMS)
        )
    };
    let cell = rows
        .checked_sub(1)
        .and_then(|i| SQL.get(i))
        .and_then(|by_audits| by_audits.get(audits))
        .and_then(|by_identities| by_identities.get(identities))
        .map(|by_flags| &by_flags[usize::from(forgive) + 2 * usize::from(named)]);
    match cell {
        Some(cell) => Cow::Borrowed(cell.get_or_init(build).as_str()),
        None => Cow::Owned(build()),
    }
}

/// Most turns in one batch statement.
const MAX_BATCH: usize = 64;
/// Batches in flight at once: while one waits for its commit's log flush, the next is sent.
const COMMITTERS: usize = 4;
/// Plain turns written by their own task, one statement each, while fewer than this many are
/// being written; the next ones queue for the committers. Half of the pool's 16 connections, so
/// the committers and the reads always find one. Measured at 1,000 messages a second against 1,
/// 4 and 16 (README, round 8): 8 and 16 had the lowest tail and PostgreSQL CPU, and 16 let
/// turns take every connection.
pub(super) const WRITTEN_ALONE: usize = 8;

/// Starts the committers of plain turns, and the search indexer beside them
/// (`after_commits::after_commits`); they stop when the last sender is dropped.
pub(super) fn spawn_committer(writer: AnyPool) -> mpsc::Sender<TurnJob> {
    let (tx, rx) = mpsc::channel::<TurnJob>(4 * MAX_BATCH);
    let rx = Arc::new(tokio::sync::Mutex::new(rx));
    let (wrote, written) = mpsc::channel::<()>(1);
    tokio::spawn(super::after_commits::after_commits(writer.clone(), None, written));
    for _ in 0..COMMITTERS {
        let (writer, rx, wrote) = (writer.clone(), rx.clone(), wrote.clone());
        tokio::spawn(async move {
            let mut batch = Vec::with_capacity(MAX_BATCH);
            // The lock is held only while taking a batch, so another committer takes the next.
            while rx.lock().await.recv_many(&mut batch, MAX_BATCH).await > 0 {
                commit_batch(&writer, std::mem::take(&mut batch)).await;
                // Full means a pass is already due.
                let _ = wrote.try_send(());
            }
        });
    }
    tx
}

/// Writes the batch in one statement and answers each caller after the commit. If the
/// statement fails (a repeated `client_msg_id`, or text PostgreSQL refuses), nothing of it was
/// stored and the turns are written one by one, so only the turn at fault is refused.
async fn commit_batch(writer: &AnyPool, jobs: Vec<TurnJob>) {
    let turns: Vec<&Turn> = jobs.iter().map(|j| &*j.turn).collect();
    // A lone turn is cheaper for PostgreSQL as its own statement with bound values: the batch's
    // JSON records cost it more to parse and plan than they save (open loop p50 +2 ms).
    if turns.len() >= 2 && super::turns_batch::batchable(&turns) {
        match apply_batch(writer, &turns).await {
            Ok(answers) => {
                for (job, answer) in jobs.into_iter().zip(answers) {
                    let _ = job.reply.send(answer);
                }
                return;
            }
            Err(e) if is_unique_violation(&e) => {}
            Err(e) => {
                tracing::warn!(error = %e, turns = jobs.len(), "a batch of turns failed; writing them one by one")
            }
        }
    }
    for job in jobs {
        let answer = super::turns::commit_alone(writer, &job.turn).await;
        let _ = job.reply.send(answer);
    }
}

/// One audit row of a batch, with the conversation whose move it depends on.
#[derive(serde::Serialize)]
struct AuditRow<'a> {
    conversation_id: &'a str,
    audit_id: String,
    at: i64,
    actor: &'a str,
    action: &'a str,
    target: &'a str,
    details: &'a str,
}

/// The batch statement: `$1` the conversation updates, `$2` the message rows, `$3` the audit
/// rows, each a JSON array of records; answers the ids of the conversations it moved.
const BATCH_SQL: &str = concat!(
    "with v as (
        select * from json_to_recordset($1::json) as v (n_seq bigint, n_status text, n_locale text,
            n_state text, n_now bigint, n_id text, n_expected bigint, n_assignee text, n_team text,
            n_cm bigint, n_handoff bigint, n_summary text, n_context text, n_priority bigint,
            n_from_status text, n_from_assignee text, n_meta text, n_from_team text)
    ), moved as (",
    update_conversations_from_v!(),
    "
    ), stored as (
        insert into messages (message_id, conversation_id, seq, author, author_name, body, client_msg_id,
                              private, created_at, external_id, quick_replies)
        select m.message_id, m.conversation_id, m.seq, m.author, m.author_name, m.body, m.client_msg_id,
               m.private, m.created_at, m.external_id, m.quick_replies
          from json_to_recordset($2::json) as m (message_id text, conversation_id text, seq bigint,
               author text, author_name text, body text, client_msg_id text, private integer,
               created_at bigint, external_id text, quick_replies text)
         where m.conversation_id in (select conversation_id from moved)
    ), audited as (
        insert into audit_log (audit_id, at, actor, action, target, details)
        select a.audit_id, a.at, a.actor, a.action, a.target, a.details
          from json_to_recordset($3::json) as a (conversation_id text, audit_id text, at bigint,
               actor text, action text, target text, details text)
         where a.conversation_id in (select conversation_id from moved)
    )
    select conversation_id from moved"
);

/// Writes `turns` (plain, each on its own conversation) in one statement.
/// One answer per turn, in order: its stored messages, or `Conflict`.
async fn apply_batch(writer: &AnyPool, turns: &[&Turn]) -> sqlx::Result<Vec<Result<Vec<MessageView>>>> {
    let now = now_ms();
    let stored: Vec<Vec<MessageView>> = turns.iter().map(|t| stored_views(t, now)).collect();
    let updates: Vec<_> = turns.iter().map(|t| update_values(t, now)).collect();
    let messages: Vec<_> = turns.iter().zip(&stored).flat_map(|(t, views)| message_rows(views, t, now)).collect();
    let audit: Vec<AuditRow<'_>> = turns
        .iter()
        .flat_map(|t| {
            t.audit.iter().map(|(actor, action, target, details)| AuditRow {
                conversation_id: &t.conversation_id,
                audit_id: new_ordered_id(),
                at: now,
                actor,
                action,
                target,
                details,
            })
        })
        .collect();
    let moved: HashSet<String> = sqlx::query(BATCH_SQL)
        .bind(to_json(&updates))
        .bind(to_json(&messages))
        .bind(to_json(&audit))
        .fetch_all(writer)
        .await?
        .iter()
        .map(|r| r.try_get::<String, _>(0))
        .collect::<sqlx::Result<_>>()?;
    Ok(turns
        .iter()
        .zip(stored)
        .map(|(turn, views)| if moved.contains(&turn.conversation_id) { Ok(views) } else { Err(Error::Conflict) })
        .collect())
}

fn to_json<T: serde::Serialize>(rows: &[T]) -> String {
    serde_json::to_string(rows).expect("records of strings and integers always serialise")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_placeholders_follow_the_update_ones() {
        let sql = turn_sql(Shape { rows: 2, audits: 0, identities: 0, forgive: false, named: false });
        assert!(sql.contains("($19, $20, $21, $22, $23, $24, $25, $26, $27, $28, $29), ($30,"));
        assert!(sql.contains("$40)"));
        assert!(!sql.contains("$41"));
        assert!(!sql.contains("audit_log"));
    }

    #[test]
    fn audit_placeholders_follow_the_message_ones() {
        let sql = turn_sql(Shape { rows: 2, audits: 2, identities: 0, forgive: false, named: false });
        assert!(sql.contains("($41, $42, $43, $44, $45, $46), ($47, $48, $49, $50, $51, $52)"));
        assert!(!sql.contains("$53"));
        // The messages stay the statement's own insert: its row count is theirs.
        assert!(sql.trim_end().ends_with("where exists (select 1 from updated)"));
        assert!(sql.find("audit_log") < sql.find("insert into messages"));
    }

    #[test]
    fn identity_and_forgive_placeholders_follow_the_audit_ones() {
        let sql = turn_sql(Shape { rows: 1, audits: 1, identities: 1, forgive: true, named: true });
        // 18 update, 11 message, 6 audit parameters, then the identity's 5 and the attempt.
        assert!(sql.contains("($36, $37, $38, $39, $40)"));
        assert!(sql.contains("attempt_id = $41 and exists (select 1 from updated)"));
        assert!(sql.contains("set name = $42 where contact_id = $43 and (name is null or name = '')"));
        assert!(!sql.contains("$44"));
        assert!(sql.find("audit_log") < sql.find("contact_identities"));
        assert!(sql.find("proof_failures") < sql.find("insert into messages"));
        assert!(sql.trim_end().ends_with("where exists (select 1 from updated)"));
        let without = turn_sql(Shape { rows: 1, audits: 0, identities: 2, forgive: false, named: false });
        assert!(without.contains("($30, $31, $32, $33, $34), ($35, $36, $37, $38, $39)"));
        assert!(!without.contains("proof_failures") && !without.contains("audit_log"));
        assert!(!without.contains("update contacts"));
    }

    #[test]
    fn identities_merge_as_upserts_one_after_another() {
        use crate::domain::Verification;
        use crate::store::NewIdentity;
        let id = |value: &str, verification| NewIdentity { kind: "email", value: value.to_string(), verification };
        let identities = [
            id("a@x.test", Verification::None),
            id("b@x.test", Verification::Hmac),
            id("a@x.test", Verification::OrderEmail),
            id("b@x.test", Verification::None),
        ];
        let merged = merged_identities(&identities);
        assert_eq!(
            merged,
            vec![("email", "a@x.test", Verification::OrderEmail), ("email", "b@x.test", Verification::Hmac)]
        );
        let web = NewIdentity { kind: "web", value: "a@x.test".to_string(), verification: Verification::None };
        let two_kinds = [id("a@x.test", Verification::Hmac), web];
        assert_eq!(merged_identities(&two_kinds).len(), 2);
    }
}
