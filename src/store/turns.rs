//! Committing a customer turn (the customer's message, the bot's replies, the conversation's new
//! state, outbox rows, audit rows and proven identities), all or nothing.
//!
//! Order inside the transaction: the messages are inserted first, then the conversation is
//! updated only if it is still at the version (and owner: status, assignee, team) the turn was
//! computed against. A repeated
//! `client_msg_id` (or a seq another writer took) fails the insert, which changes nothing; a
//! conversation that moved on fails the update, and the turn's messages are deleted again.
//! Either way the rest of the transaction is untouched, which is what lets SQLite commit many
//! turns at once.
//!
//! Group commit (SQLite): SQLite has one writer, and each statement is a round trip to sqlx's
//! connection thread. Turns go to one committer task, which takes every turn waiting (up to
//! `MAX_BATCH`) and writes them together: the begin, the commit and the wait for the write lock
//! are paid once per batch instead of once per message. It never waits for a batch to fill: a
//! lone turn is committed at once. The batch's plain turns (most of them) and proofs' turns go
//! to SQLite as one query, begin to commit in one hop (`turns_batch`); the others follow in a
//! transaction of their own, statement by statement. Each caller is answered only after the
//! commit that holds its turn, so an ack still means durably stored. On PostgreSQL, a plain
//! turn is written by its own task in one statement while fewer than eight are being written,
//! and beyond that queues for a few committers that write a batch in one statement
//! (`turns_pg`); a proof's turn alone is one statement too; the others have their own
//! transaction.

use super::conversations::upsert_identity;
use super::{Backend, Error, NewIdentity, Placeholders, Result, Store, Turn, is_unique_violation, value_tuples};
use crate::domain::{Author, MessageView, Verification, new_ordered_id, now_ms};
use sqlx::AnyPool;
use std::borrow::Cow;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use tokio::sync::{mpsc, oneshot};

/// Most turns in one SQLite transaction.
const MAX_BATCH: usize = 64;

pub(super) struct TurnJob {
    pub(super) turn: Arc<Turn>,
    pub(super) reply: oneshot::Sender<Result<Vec<MessageView>>>,
}

/// Starts the committer for a SQLite writer pool, and the search indexer and checkpointer
/// beside it; both stop when the last sender is dropped.
pub(super) fn spawn_committer(writer: AnyPool, readers: AnyPool) -> mpsc::Sender<TurnJob> {
    let (tx, mut rx) = mpsc::channel::<TurnJob>(4 * MAX_BATCH);
    let (wrote, written) = mpsc::channel::<()>(1);
    tokio::spawn(super::after_commits::after_commits(writer.clone(), Some(readers), written));
    tokio::spawn(async move {
        let mut batch = Vec::with_capacity(MAX_BATCH);
        while rx.recv_many(&mut batch, MAX_BATCH).await > 0 {
            commit_batch(&writer, std::mem::take(&mut batch)).await;
            // Full means a pass is already due.
            let _ = wrote.try_send(());
        }
    });
    tx
}

impl Store {
    /// Commits a turn: stores its messages and identities and bumps the conversation's seq (only
    /// if it is still `expected_seq`), status, locale and dialogue state, all or nothing.
    /// `Conflict`: the conversation moved on, recompute. `Duplicate`: a message of the turn
    /// collides with a stored one (its `client_msg_id` or external id).
    #[tracing::instrument(level = "debug", skip_all, fields(conversation_id = %turn.conversation_id))]
    pub async fn commit_turn(&self, turn: Arc<Turn>) -> Result<Vec<MessageView>> {
        match self.backend {
            // SQLite: every turn goes to the group commit.
            Backend::Sqlite => self.queue_turn(turn).await,
            // PostgreSQL: a plain turn is written by its own task while few are being written
            // (two task hand-offs fewer, measured at 1,000 messages a second), and by the
            // committers' batch statement beyond that (see `turns_pg`). The count includes the
            // queued ones, so a burst batches as before.
            Backend::Postgres if is_plain(&turn) => {
                let writing = InFlight::enter(&self.turns_in_flight);
                if writing.others < super::turns_pg::WRITTEN_ALONE {
                    commit_alone(&self.writer, &turn).await
                } else {
                    self.queue_turn(turn).await
                }
            }
            // The others have their own statement or transaction.
            Backend::Postgres => commit_alone(&self.writer, &turn).await,
        }
    }

    /// Hands the turn to the committers and waits for their answer.
    async fn queue_turn(&self, turn: Arc<Turn>) -> Result<Vec<MessageView>> {
        let stopped = || Error::Invalid("the turn committer has stopped".into());
        let (reply, answer) = oneshot::channel();
        self.committer.send(TurnJob { turn, reply }).await.map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

/// One turn counted in `Store::turns_in_flight` until dropped (also when its caller gives up).
struct InFlight<'a> {
    count: &'a AtomicUsize,
    /// How many were being written when this one entered.
    others: usize,
}

impl<'a> InFlight<'a> {
    fn enter(count: &'a AtomicUsize) -> InFlight<'a> {
        InFlight { count, others: count.fetch_add(1, Ordering::Relaxed) }
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.count.fetch_sub(1, Ordering::Relaxed);
    }
}

/// PostgreSQL: one turn on its own, in one statement when it can be (see
/// [`fits_one_statement`]), else in a transaction.
pub(super) async fn commit_alone(writer: &AnyPool, turn: &Turn) -> Result<Vec<MessageView>> {
    if fits_one_statement(turn) {
        return super::turns_pg::commit_alone(writer, turn).await;
    }
    let mut tx = writer.begin().await?;
    let stored = apply_turn(&mut tx, turn).await?;
    tx.commit().await?;
    Ok(stored)
}

/// Writes the waiting turns and answers each after its commit: the plain ones and the proofs'
/// (see [`fits_one_statement`]) together in one hop (`turns_batch`), the others (and those, if
/// that batch collided with a stored message) one by one in a second transaction.
async fn commit_batch(writer: &AnyPool, jobs: Vec<TurnJob>) {
    let (plain, mut rest): (Vec<TurnJob>, Vec<TurnJob>) = jobs.into_iter().partition(|j| fits_one_statement(&j.turn));
    let plain_turns: Vec<&Turn> = plain.iter().map(|j| &*j.turn).collect();
    if super::turns_batch::batchable(&plain_turns) {
        match super::turns_batch::commit_together(writer, &plain_turns).await {
            Ok(super::turns_batch::Outcome::Written(answers)) => {
                for (job, answer) in plain.into_iter().zip(answers) {
                    let _ = job.reply.send(answer);
                }
            }
            Ok(super::turns_batch::Outcome::Collided) => rest.extend(plain),
            Err(e) => {
                tracing::error!(error = %e, turns = plain.len(), "a batch of turns failed; it is rolled back");
                fail_all(plain, format!("not stored: {e}"));
            }
        }
    } else {
        rest.extend(plain);
    }
    if !rest.is_empty() {
        commit_one_by_one(writer, rest).await;
    }
}

fn fail_all(jobs: Vec<TurnJob>, why: String) {
    for job in jobs {
        let _ = job.reply.send(Err(Error::Invalid(why.clone())));
    }
}

/// Writes `jobs` turn by turn in one transaction; a turn that conflicts or collides is refused
/// alone, any other error refuses them all (the clients send again).
async fn commit_one_by_one(writer: &AnyPool, jobs: Vec<TurnJob>) {
    let mut tx = match writer.begin_with("begin immediate").await {
        Ok(tx) => tx,
        Err(e) => {
            tracing::error!(error = %e, "cannot start a write transaction for turns");
            return fail_all(jobs, format!("database unavailable: {e}"));
        }
    };
    let mut results = Vec::with_capacity(jobs.len());
    for job in &jobs {
        match apply_turn(&mut tx, &job.turn).await {
            Ok(stored) => results.push(Ok(stored)),
            Err(e @ (Error::Conflict | Error::Duplicate)) => results.push(Err(e)),
            Err(e) => {
                // Anything else leaves the transaction in an unknown state: none of the batch is
                // stored, every caller is told, and their clients send again.
                tracing::error!(error = %e, turns = jobs.len(), "a turn failed; the batch is rolled back");
                drop(tx);
                return fail_all(jobs, format!("not stored: {e}"));
            }
        }
    }
    if let Err(e) = tx.commit().await {
        tracing::error!(error = %e, turns = jobs.len(), "committing turns failed");
        return fail_all(jobs, format!("not stored: {e}"));
    }
    for (job, result) in jobs.into_iter().zip(results) {
        let _ = job.reply.send(result);
    }
}

/// True when the turn writes nothing but its messages, the conversation row and audit rows (the
/// bot's disclosures and actions write one): no outbox, identity, proof, forgiven attempt,
/// contact name, mail, label or channel-state rows. Most widget messages; PostgreSQL's batch
/// statement takes only these.
pub(super) fn is_plain(turn: &Turn) -> bool {
    turn.identities.is_empty()
        && turn.forgive_attempt.is_none()
        && turn.contact_name.is_none()
        && fits_one_statement(turn)
}

/// True when the turn writes at most, besides a plain turn's rows, identities, the contact's
/// name and the deletion of its forgiven proof attempt: a successful email proof (the email
/// answering the bot's "which email is on the order?"). PostgreSQL writes these alone in one
/// statement (`turns_pg::commit_alone`), SQLite in its batch's one query (`turns_batch`);
/// outbox, code, mail, label and channel-state rows take a transaction.
pub(super) fn fits_one_statement(turn: &Turn) -> bool {
    turn.outbound_channel.is_none()
        && turn.proof_mail.is_none()
        && turn.mails.is_empty()
        && turn.labels.is_empty()
        && turn.channel_state.is_none()
        && !turn.messages.is_empty()
}

/// The one-statement writes' identity upsert (after `merged_identities`): `none` never lowers a
/// stored verification (`on conflict do nothing` in `conversations::upsert_identity`); any other
/// replaces it.
pub(super) const IDENTITY_UPSERT: &str =
    "insert into contact_identities (contact_id, kind, value, verification, created_at)";
/// The conflict clause that goes with [`IDENTITY_UPSERT`].
pub(super) const IDENTITY_ON_CONFLICT: &str = "on conflict (contact_id, kind, value) do update set verification = \
     case when excluded.verification = 'none' then contact_identities.verification else excluded.verification end";

/// A turn's identities with one entry per (kind, value), as the transaction's upserts one after
/// another leave them: the last verified one wins, an unverified one never lowers a stored one
/// (see `conversations::upsert_identity`): what the one-statement writes (`turns_pg`,
/// `turns_batch`) store, since one statement's upsert cannot touch a row twice on PostgreSQL.
pub(super) fn merged_identities(identities: &[NewIdentity]) -> Vec<(&'static str, &str, Verification)> {
    let mut merged: Vec<(&'static str, &str, Verification)> = Vec::with_capacity(identities.len());
    for identity in identities {
        match merged.iter_mut().find(|(kind, value, _)| *kind == identity.kind && *value == identity.value) {
            Some(entry) if identity.verification != Verification::None => entry.2 = identity.verification,
            Some(_) => {}
            None => merged.push((identity.kind, &identity.value, identity.verification)),
        }
    }
    merged
}

/// The multi-row insert of a turn's messages, built once per row count (turns have 1–4).
fn insert_messages_sql(rows: usize) -> Cow<'static, str> {
    const KEPT: usize = 8;
    static SQL: [OnceLock<String>; KEPT] = [const { OnceLock::new() }; KEPT];
    let build = || {
        format!(
            "insert into messages ({MESSAGE_COLUMNS}) values {}",
            value_tuples(Placeholders::Numbered, rows, MESSAGE_PARAMS)
        )
    };
    match rows.checked_sub(1).and_then(|i| SQL.get(i)) {
        Some(cell) => Cow::Borrowed(cell.get_or_init(build).as_str()),
        None => Cow::Owned(build()),
    }
}

/// The conversation update of a turn: only if it is still at the version and owner the turn was
/// computed against. Binds `$1`–`$18` through [`bind_update`].
pub(super) const UPDATE_CONVERSATION: &str = "update conversations
            set last_seq = $1, status = $2, locale = $3, dialogue_state = $4, updated_at = $5,
                assignee_id = $8, team = $9,
                unread = unread + $10, customer_messages = customer_messages + $10,
                queued_at = case when $11 = 1 then $5 else queued_at end,
                summary = coalesce($12, summary), handoff = coalesce($13, handoff),
                priority = case when $11 = 1 then $14 else priority end,
                agent_replied = case when $2 = 'bot' then 0 else agent_replied end,
                channel_meta = coalesce($17, channel_meta)
          where conversation_id = $6 and last_seq = $7
            and status = $15 and coalesce(assignee_id, '') = $16 and coalesce(team, '') = $18";

/// Columns of the turn's message rows, bound by [`bind_messages`].
pub(super) const MESSAGE_COLUMNS: &str = "message_id, conversation_id, seq, author, author_name, body, client_msg_id, \
     private, created_at, external_id, quick_replies";
pub(super) const MESSAGE_PARAMS: usize = 11;
/// Columns of a turn's audit rows, in the order the batch statements bind them.
pub(super) const AUDIT_COLUMNS: &str = "audit_id, at, actor, action, target, details";

type AnyQuery<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>;

/// The rows a turn stores, as the events will show them.
pub(super) fn stored_views(turn: &Turn, now: i64) -> Vec<MessageView> {
    turn.messages
        .iter()
        .enumerate()
        .map(|(i, m)| MessageView {
            id: new_ordered_id(),
            conversation_id: turn.conversation_id.clone(),
            seq: turn.expected_seq + 1 + i as i64,
            author: m.author,
            author_name: m.author_name.clone(),
            text: m.text.clone(),
            private: m.private,
            created_at: now,
            kind: crate::domain::message_kind(m.author, &m.author_name),
            quick_replies: m.quick_replies.clone(),
            attachments: Vec::new(),
        })
        .collect()
}

/// One stored message row, in [`MESSAGE_COLUMNS`] order (bound one by one, or sent as JSON to
/// PostgreSQL's batch statement, whose record columns carry the same names).
#[derive(serde::Serialize)]
pub(super) struct MessageRow<'a> {
    pub message_id: &'a str,
    pub conversation_id: &'a str,
    pub seq: i64,
    pub author: &'a str,
    pub author_name: &'a str,
    pub body: &'a str,
    pub client_msg_id: Option<&'a str>,
    pub private: i64,
    pub created_at: i64,
    pub external_id: Option<&'a str>,
    pub quick_replies: Option<String>,
}

/// The rows of a turn's messages.
pub(super) fn message_rows<'a>(stored: &'a [MessageView], turn: &'a Turn, now: i64) -> Vec<MessageRow<'a>> {
    stored
        .iter()
        .zip(&turn.messages)
        .map(|(view, m)| MessageRow {
            message_id: &view.id,
            conversation_id: &view.conversation_id,
            seq: view.seq,
            author: view.author.as_str(),
            author_name: &view.author_name,
            body: &view.text,
            client_msg_id: m.client_msg_id.as_deref(),
            private: i64::from(m.private),
            created_at: now,
            external_id: m.external_id.as_deref(),
            quick_replies: (!m.quick_replies.is_empty()).then(|| serde_json::json!(m.quick_replies).to_string()),
        })
        .collect()
}

/// Binds every row of `stored` in [`MESSAGE_COLUMNS`] order, each followed by `then` if given.
pub(super) fn bind_messages<'q>(
    mut q: AnyQuery<'q>,
    stored: &[MessageView],
    turn: &Turn,
    now: i64,
    then: Option<i64>,
) -> AnyQuery<'q> {
    for r in message_rows(stored, turn, now) {
        q = q
            .bind(r.message_id)
            .bind(r.conversation_id)
            .bind(r.seq)
            .bind(r.author)
            .bind(r.author_name)
            .bind(r.body)
            .bind(r.client_msg_id)
            .bind(r.private)
            .bind(r.created_at)
            .bind(r.external_id)
            .bind(r.quick_replies);
        if let Some(value) = then {
            q = q.bind(value);
        }
    }
    q
}

/// The values of a turn's conversation update: `$1`–`$18` of [`UPDATE_CONVERSATION`] in order
/// (and the record columns of the batch forms).
#[derive(serde::Serialize)]
pub(super) struct UpdateValues<'a> {
    pub n_seq: i64,
    pub n_status: &'a str,
    pub n_locale: &'a str,
    pub n_state: &'a str,
    pub n_now: i64,
    pub n_id: &'a str,
    pub n_expected: i64,
    pub n_assignee: Option<&'a str>,
    pub n_team: Option<&'a str>,
    pub n_cm: i64,
    pub n_handoff: i64,
    pub n_summary: Option<&'a str>,
    pub n_context: Option<&'a str>,
    pub n_priority: i64,
    pub n_from_status: &'a str,
    pub n_from_assignee: &'a str,
    pub n_meta: Option<&'a str>,
    pub n_from_team: &'a str,
}

pub(super) fn update_values(turn: &Turn, now: i64) -> UpdateValues<'_> {
    let handoff = turn.handoff.as_ref();
    UpdateValues {
        n_seq: turn.new_seq(),
        n_status: turn.to.status.as_str(),
        n_locale: turn.locale.as_str(),
        n_state: &turn.dialogue_state,
        n_now: now,
        n_id: &turn.conversation_id,
        n_expected: turn.expected_seq,
        n_assignee: turn.to.assignee.as_deref(),
        n_team: turn.to.team.as_deref(),
        n_cm: turn.messages.iter().filter(|m| m.author == Author::Customer).count() as i64,
        n_handoff: i64::from(handoff.is_some()),
        n_summary: handoff.map(|h| h.summary.as_str()),
        n_context: handoff.map(|h| h.context.as_str()),
        n_priority: handoff.map_or(0, |h| h.priority),
        n_from_status: turn.from.status.as_str(),
        n_from_assignee: turn.from.assignee.as_deref().unwrap_or(""),
        n_meta: turn.channel_meta.as_deref(),
        n_from_team: turn.from.team.as_deref().unwrap_or(""),
    }
}

/// Binds `$1`–`$18` of [`UPDATE_CONVERSATION`].
pub(super) fn bind_update<'q>(q: AnyQuery<'q>, turn: &Turn, now: i64) -> AnyQuery<'q> {
    let v = update_values(turn, now);
    q.bind(v.n_seq)
        .bind(v.n_status)
        .bind(v.n_locale)
        .bind(v.n_state)
        .bind(v.n_now)
        .bind(v.n_id)
        .bind(v.n_expected)
        .bind(v.n_assignee)
        .bind(v.n_team)
        .bind(v.n_cm)
        .bind(v.n_handoff)
        .bind(v.n_summary)
        .bind(v.n_context)
        .bind(v.n_priority)
        .bind(v.n_from_status)
        .bind(v.n_from_assignee)
        .bind(v.n_meta)
        .bind(v.n_from_team)
}

/// One turn's statements inside `tx`. On `Conflict` and `Duplicate` nothing of the turn remains.
async fn apply_turn(tx: &mut sqlx::Transaction<'static, sqlx::Any>, turn: &Turn) -> Result<Vec<MessageView>> {
    let now = now_ms();
    let stored = stored_views(turn, now);
    // All of the turn's messages in one statement: one round trip however many replies.
    let insert = sqlx::query(sqlx::AssertSqlSafe(insert_messages_sql(stored.len())));
    match bind_messages(insert, &stored, turn, now, None).execute(&mut **tx).await {
        Err(e) if is_unique_violation(&e) => return Err(Error::Duplicate),
        other => other?,
    };
    let updated = bind_update(sqlx::query(UPDATE_CONVERSATION), turn, now).execute(&mut **tx).await?;
    if updated.rows_affected() != 1 {
        // The inserted messages can only collide on seq with a turn that already moved the
        // conversation, so this is the usual way a concurrent write shows; undo them.
        let sql = format!(
            "delete from messages where (message_id) in ({})",
            value_tuples(Placeholders::Numbered, stored.len(), 1)
        );
        let mut delete = sqlx::query(sqlx::AssertSqlSafe(sql));
        for m in &stored {
            delete = delete.bind(m.id.as_str());
        }
        delete.execute(&mut **tx).await?;
        return Err(Error::Conflict);
    }
    if let Some(channel) = &turn.outbound_channel {
        for (view, m) in stored.iter().zip(&turn.messages) {
            if m.author != Author::Customer && m.author != Author::System && !m.private {
                super::outbox::enqueue(tx, view, channel).await?;
            }
        }
    }
    for (actor, action, target, details) in &turn.audit {
        super::admin::audit_in(tx, actor, action, target, details).await?;
    }
    for identity in &turn.identities {
        upsert_identity(tx, &turn.contact_id, identity).await?;
    }
    if let Some(mail) = &turn.proof_mail
        && let Some(note) = stored.get(mail.message_index)
    {
        super::proofs::insert_code(tx, &turn.conversation_id, mail, &note.id, now).await?;
    }
    for (index, payload) in &turn.mails {
        if let Some(note) = stored.get(*index) {
            super::proofs::insert_mail(tx, &turn.conversation_id, &note.id, payload, now).await?;
        }
    }
    if let Some(attempt) = &turn.forgive_attempt {
        super::proofs::forgive_in(tx, attempt).await?;
    }
    if let Some(name) = &turn.contact_name {
        sqlx::query(super::conversations::NAME_IF_UNNAMED)
            .bind(name.as_str())
            .bind(turn.contact_id.as_str())
            .execute(&mut **tx)
            .await?;
    }
    for label in &turn.labels {
        super::labels::add_label_in(tx, &turn.conversation_id, label, now).await?;
    }
    if let (Some(state), Some(customer)) = (&turn.channel_state, stored.first()) {
        state.write(tx, &customer.id, now).await?;
    }
    Ok(stored)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_turn_in_flight_counts_until_dropped() {
        let count = AtomicUsize::new(0);
        let first = InFlight::enter(&count);
        let second = InFlight::enter(&count);
        assert_eq!((first.others, second.others), (0, 1));
        drop(first);
        assert_eq!(InFlight::enter(&count).others, 1, "the second is still counted");
        drop(second);
        assert_eq!(count.load(Ordering::Relaxed), 0);
    }
}
