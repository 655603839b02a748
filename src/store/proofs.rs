//! SQL for proof attempts and one-time codes (migration 0008): failures counted per key in a
//! sliding window, and the hashed codes a customer can prove an email with. The policy (limits,
//! delays, what is gated) lives in `bot::proof`; the writes are made by `hub::proofs`.

use super::{Result, Store};
use crate::domain::Millis;
use sqlx::Row;

/// Failures under one key inside the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ProofStats {
    pub failures: u32,
    /// When the newest of them happened.
    pub last_at: Option<Millis>,
}

/// A one-time code that may still be tried.
#[derive(Debug, Clone)]
pub struct ProofCode {
    pub proof_code_id: String,
    pub email: String,
    /// `order:<number>` or `invoice:<number>`.
    pub record: String,
    pub code_hash: String,
    pub tries: i64,
    /// Set when this code was already used by the same attempt (a recomputed turn).
    pub used_by: Option<String>,
}

/// A code to store with the turn that sends it, and its mail.
#[derive(Debug, Clone)]
pub struct ProofMail {
    pub proof_code_id: String,
    pub email: String,
    pub record: String,
    pub code_hash: String,
    pub expires_at: Millis,
    /// Which of the turn's messages (a private note) the outbox row hangs on.
    pub message_index: usize,
    /// The mail: JSON `{to, subject, body}` (holds the code until it is sent).
    pub payload: String,
}

impl Store {
    /// Counts `attempt` as a failure under each (scope, subject) key, once per scope.
    pub async fn proof_attempt_record(&self, attempt: &str, keys: &[(&str, &str)], now: Millis) -> Result<()> {
        if keys.is_empty() {
            return Ok(());
        }
        let sql = format!(
            "insert into proof_failures (attempt_id, scope, subject, created_at) values {}
             on conflict (attempt_id, scope) do nothing",
            super::value_tuples(super::Placeholders::Numbered, keys.len(), 4)
        );
        let mut insert = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (scope, subject) in keys {
            insert = insert.bind(attempt).bind(*scope).bind(*subject).bind(now);
        }
        insert.execute(self.writer()).await?;
        Ok(())
    }

    /// Failures under each key since `since`, not counting `attempt`'s own rows.
    pub async fn proof_failure_stats(
        &self,
        keys: &[(&str, &str)],
        since: Millis,
        attempt: &str,
    ) -> Result<Vec<ProofStats>> {
        // One query for every key (one round trip), a row per key in the keys' order.
        let sql = (0..keys.len())
            .map(|i| {
                let n = 4 * i;
                format!(
                    "select {i} as k, count(*), max(created_at) from proof_failures
                      where scope = ${} and subject = ${} and created_at >= ${} and attempt_id <> ${}",
                    n + 1,
                    n + 2,
                    n + 3,
                    n + 4
                )
            })
            .collect::<Vec<_>>()
            .join(" union all ");
        let mut query = sqlx::query(sqlx::AssertSqlSafe(format!("{sql} order by k")));
        for (scope, subject) in keys {
            query = query.bind(*scope).bind(*subject).bind(since).bind(attempt);
        }
        query
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|row| {
                let failures: i64 = row.try_get(1)?;
                let last_at: Option<i64> = row.try_get(2)?;
                Ok(ProofStats { failures: u32::try_from(failures).unwrap_or(u32::MAX), last_at })
            })
            .collect()
    }

    /// The attempt did not fail after all (it was refused unchecked, or its turn was a repeat).
    /// A success is forgiven in its turn's commit (`Turn::forgive_attempt`).
    pub async fn proof_attempt_forgive(&self, attempt: &str) -> Result<()> {
        sqlx::query(FORGIVE).bind(attempt).execute(self.writer()).await?;
        Ok(())
    }

    /// Drops failures and codes older than `before`.
    pub async fn prune_proofs(&self, before: Millis) -> Result<()> {
        sqlx::query("delete from proof_failures where created_at < $1").bind(before).execute(self.writer()).await?;
        sqlx::query("delete from proof_codes where expires_at < $1").bind(before).execute(self.writer()).await?;
        Ok(())
    }

    /// The conversation's newest code, if it is unexpired, has tries left and is unused (or used
    /// by `attempt` itself).
    pub async fn active_proof_code(
        &self,
        conversation_id: &str,
        now: Millis,
        max_tries: i64,
        attempt: &str,
    ) -> Result<Option<ProofCode>> {
        let row = sqlx::query(
            "select proof_code_id, email, record, code_hash, tries, used_by, expires_at from proof_codes
              where conversation_id = $1 order by created_at desc limit 1",
        )
        .bind(conversation_id)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let code = ProofCode {
            proof_code_id: row.try_get(0)?,
            email: row.try_get(1)?,
            record: row.try_get(2)?,
            code_hash: row.try_get(3)?,
            tries: row.try_get(4)?,
            used_by: row.try_get(5)?,
        };
        let expires_at: i64 = row.try_get(6)?;
        let usable = match &code.used_by {
            Some(by) => by == attempt,
            None => expires_at > now && code.tries < max_tries,
        };
        Ok(usable.then_some(code))
    }

    /// A wrong code was typed.
    pub async fn proof_code_tried(&self, proof_code_id: &str) -> Result<()> {
        sqlx::query("update proof_codes set tries = tries + 1 where proof_code_id = $1")
            .bind(proof_code_id)
            .execute(self.writer())
            .await?;
        Ok(())
    }

    /// The right code was typed: it cannot be used again (except by the same attempt).
    pub async fn proof_code_used(&self, proof_code_id: &str, attempt: &str) -> Result<()> {
        sqlx::query("update proof_codes set used_by = $1 where proof_code_id = $2 and used_by is null")
            .bind(attempt)
            .bind(proof_code_id)
            .execute(self.writer())
            .await?;
        Ok(())
    }

    /// Codes sent to `email` since `since` (a bound on mail one attacker can cause).
    pub async fn proof_codes_sent_since(&self, email: &str, since: Millis) -> Result<i64> {
        let row = sqlx::query("select count(*) from proof_codes where email = $1 and created_at >= $2")
            .bind(email)
            .bind(since)
            .fetch_one(&self.pool)
            .await?;
        Ok(row.try_get(0)?)
    }
}

/// Stores a code and queues its mail, inside the transaction of the turn that sent it.
pub(super) async fn insert_code(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    conversation_id: &str,
    code: &ProofMail,
    message_id: &str,
    now: Millis,
) -> Result<()> {
    sqlx::query(
        "insert into proof_codes (proof_code_id, conversation_id, email, record, code_hash, expires_at, tries, created_at)
         values ($1, $2, $3, $4, $5, $6, 0, $7)",
    )
    .bind(&code.proof_code_id)
    .bind(conversation_id)
    .bind(&code.email)
    .bind(&code.record)
    .bind(&code.code_hash)
    .bind(code.expires_at)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    insert_mail(tx, conversation_id, message_id, &code.payload, now).await
}

/// Queues a mail (JSON `{to, subject, body}`) in the email outbox, hanging on a (private) message.
pub(super) async fn insert_mail(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    conversation_id: &str,
    message_id: &str,
    payload: &str,
    now: Millis,
) -> Result<()> {
    sqlx::query(
        "insert into outbox (outbox_id, message_id, conversation_id, channel, status, attempts, next_attempt_at,
                             created_at, payload)
         values ($1, $2, $3, 'email', 'pending', 0, $4, $4, $5)",
    )
    .bind(crate::domain::new_id())
    .bind(message_id)
    .bind(conversation_id)
    .bind(now)
    .bind(payload)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

const FORGIVE: &str = "delete from proof_failures where attempt_id = $1";

/// [`Store::proof_attempt_forgive`] inside a turn's transaction.
pub(super) async fn forgive_in(tx: &mut sqlx::Transaction<'static, sqlx::Any>, attempt: &str) -> Result<()> {
    sqlx::query(FORGIVE).bind(attempt).execute(&mut **tx).await?;
    Ok(())
}
