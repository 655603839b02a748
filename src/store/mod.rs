//! The store: the only module that speaks SQL. One code path over sqlx's `Any` driver serves
//! SQLite (embedded default) and PostgreSQL (scale-out); migrations are embedded per backend.
//!
//! Portability rules (see NOTES): `$n` placeholders, timestamps as bigint epoch ms, ids and JSON
//! as text, flags as integers, money as integer minor units.
//!
//! Concurrency: a conversation's `last_seq` is its optimistic-concurrency version. A customer turn
//! is computed outside any transaction and committed in one short write transaction that only
//! succeeds if `last_seq` is unchanged ([`Store::commit_turn`]; on SQLite several turns share one
//! transaction, see `turns`); on SQLite write transactions start with `BEGIN IMMEDIATE` on the one
//! writer connection, so writers queue in the pool instead of in SQLite's busy handler.

/// The batch form of `turns::UPDATE_CONVERSATION` (SQLite's `turns_batch`, PostgreSQL's
/// `turns_pg`): every conversation of a relation `v` of per-turn values (columns as in
/// `turns::UpdateValues`) moved, with the same guards per row, if it is still at the version and
/// owner its turn was computed against. A macro so both statements stay `&'static str`.
macro_rules! update_conversations_from_v {
    () => {
        "update conversations
           set last_seq = v.n_seq, status = v.n_status, locale = v.n_locale, dialogue_state = v.n_state,
               updated_at = v.n_now, assignee_id = v.n_assignee, team = v.n_team,
               unread = unread + v.n_cm, customer_messages = customer_messages + v.n_cm,
               queued_at = case when v.n_handoff = 1 then v.n_now else queued_at end,
               summary = coalesce(v.n_summary, summary), handoff = coalesce(v.n_context, handoff),
               priority = case when v.n_handoff = 1 then v.n_priority else priority end,
               agent_replied = case when v.n_status = 'bot' then 0 else agent_replied end,
               channel_meta = coalesce(v.n_meta, channel_meta)
          from v
         where conversations.conversation_id = v.n_id and conversations.last_seq = v.n_expected
           and conversations.status = v.n_from_status
           and coalesce(conversations.assignee_id, '') = v.n_from_assignee
           and coalesce(conversations.team, '') = v.n_from_team
        returning conversation_id"
    };
}

mod admin;
mod after_commits;
mod agents;
mod attachments;
mod backoffice;
mod bulk;
mod conversations;
mod csat;
mod email;
mod labels;
mod logins;
mod order_detail;
mod outbox;
mod proofs;
mod queries;
mod queue;
mod reports;
mod search;
mod search_pg;
mod sla;
mod turns;
mod turns_batch;
mod turns_pg;
mod uploads;
mod views;
mod windows;

pub use admin::{AuditEntry, Miss, RuleVersion};
pub use agents::{Agent, ApiToken, Principal};
pub use attachments::{NewStoredFile, StoredFile};
pub use backoffice::Table;
pub use bulk::BulkConversation;
pub use conversations::{ConversationRow, Handoff, NewIdentity, NewMessage, ProvenEmails, Turn};
pub use csat::{CsatGroup, CsatReport, CsatRequest, NewCsat, RateRefusal};
pub use email::{
    AttachmentInfo, ChannelState, EmailOriginal, MailAttachment, MailOriginal, NewAttachment, NewQuarantine,
    QuarantinedMail,
};
pub use labels::Label;
pub use outbox::{DeliveryState, OutboxItem};
pub use proofs::{ProofCode, ProofMail, ProofStats};
pub use queries::Queries;
pub use queue::{ConversationSummary, ListFilter, TransitionWrite};
pub use reports::{ActionCounts, FIRST_RESPONSE_BOUNDS, MetricsSnapshot, ReportRow};
pub use search::SearchHit;
pub use sla::{SlaClock, SlaDay, SlaKind, SlaTarget};
pub use views::{NotificationPrefs, SavedView};
pub use windows::EventWindow;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("unsupported database url {0:?}: use sqlite://PATH or postgres://…")]
    BadUrl(String),
    /// The conversation moved on while this turn was being computed; recompute and retry.
    #[error("conversation changed concurrently")]
    Conflict,
    /// A message with this client_msg_id is already stored in the conversation.
    #[error("duplicate client_msg_id")]
    Duplicate,
    #[error("{0}")]
    Invalid(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Cheap to clone: pool handles and the backend kind.
///
/// On SQLite, writes go through `writer`, a pool of one connection: SQLite has one writer at a
/// time, and a second connection that wants the write lock waits in SQLite's busy handler,
/// which sleeps in steps of milliseconds. One writer connection turns that into an ordered,
/// wake-on-release wait in the pool (measured in `kituo-bench chat`). Reads use `pool` (WAL lets
/// them run beside the writer). On PostgreSQL both are the same pool.
#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    writer: AnyPool,
    backend: Backend,
    /// The tasks that commit customer turns in groups: SQLite's group commit, PostgreSQL's
    /// committers (see `turns`).
    committer: tokio::sync::mpsc::Sender<turns::TurnJob>,
    /// PostgreSQL: plain turns being written now, by their own task or by a committer (see
    /// `Store::commit_turn`).
    turns_in_flight: Arc<std::sync::atomic::AtomicUsize>,
}

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("src/store/migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("src/store/migrations/postgres");

impl Store {
    /// Connects to `sqlite://PATH` (creating the file and its folder) or `postgres://…`.
    pub async fn connect(url: &str) -> Result<Store> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            return Err(Error::BadUrl(url.to_string()));
        };
        let url = match backend {
            Backend::Sqlite => sqlite_url(url)?,
            Backend::Postgres => url.to_string(),
        };
        let options = AnyConnectOptions::from_str(&url)?;
        let pool_of = |max: u32| {
            AnyPoolOptions::new()
                .max_connections(max)
                .acquire_timeout(Duration::from_secs(10))
                // sqlx pings every connection it hands out by default: one extra round trip per
                // query. Only a connection idle for a while is checked (a restarted PostgreSQL,
                // a dropped socket); a failed check makes the pool open a fresh one.
                .test_before_acquire(false)
                .before_acquire(|conn, meta| {
                    Box::pin(async move {
                        if meta.idle_for > Duration::from_secs(10) {
                            sqlx::Connection::ping(conn).await?;
                        }
                        Ok(true)
                    })
                })
                .after_connect(move |conn, _meta| {
                    Box::pin(async move {
                        if backend == Backend::Sqlite {
                            // temp_store: a statement inside a transaction keeps its undo
                            // journal in memory (a batch's multi-row insert spilled it to a
                            // temporary file: open, write, close, unlink per batch).
                            // wal_autocheckpoint: a backstop; checkpoints run beside the writer
                            // and let the log start again (see `after_commits`).
                            conn.execute(sqlx::AssertSqlSafe(format!(
                                "pragma busy_timeout = 10000; pragma synchronous = normal; \
                                 pragma foreign_keys = on; pragma temp_store = memory; \
                                 pragma wal_autocheckpoint = {};",
                                after_commits::BACKSTOP_FRAMES
                            )))
                            .await?;
                        } else {
                            // JIT compiling takes 50-150 ms and PostgreSQL starts it from cost
                            // estimates: a search walking messages newest first is estimated
                            // far above what it reads (it stops early), and pays it every time.
                            conn.execute("set jit = off").await?;
                        }
                        Ok(())
                    })
                })
        };
        let pool = pool_of(match backend {
            Backend::Sqlite => 8,
            Backend::Postgres => 16,
        })
        .connect_with(options.clone())
        .await?;
        let writer = match backend {
            // An in-memory database exists once per connection set: keep one pool there.
            Backend::Sqlite if !url.contains(":memory:") => pool_of(1).connect_with(options).await?,
            _ => pool.clone(),
        };
        if backend == Backend::Sqlite {
            let mode: (String,) = sqlx::query_as("pragma journal_mode = wal").fetch_one(&writer).await?;
            if !mode.0.eq_ignore_ascii_case("wal") && !url.contains(":memory:") {
                tracing::warn!(journal_mode = %mode.0, "SQLite did not switch to WAL");
            }
        }
        let committer = match backend {
            Backend::Sqlite => turns::spawn_committer(writer.clone(), pool.clone()),
            Backend::Postgres => turns_pg::spawn_committer(writer.clone()),
        };
        Ok(Store { pool, writer, backend, committer, turns_in_flight: Arc::default() })
    }

    /// Where single write statements run (see the type's doc).
    fn writer(&self) -> &AnyPool {
        &self.writer
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Applies the embedded migrations of this backend.
    pub async fn migrate(&self) -> Result<()> {
        match self.backend {
            Backend::Sqlite => SQLITE_MIGRATIONS.run(&self.writer).await?,
            Backend::Postgres => POSTGRES_MIGRATIONS.run(&self.writer).await?,
        }
        Ok(())
    }

    /// True when the database holds no back-office rows and no conversations (demo seeding).
    pub async fn is_empty(&self) -> Result<bool> {
        let row: (i64,) = sqlx::query_as(
            "select (select count(*) from (select 1 from orders limit 1) a)
                  + (select count(*) from (select 1 from products limit 1) b)
                  + (select count(*) from (select 1 from conversations limit 1) c)",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok(row.0 == 0)
    }

    pub async fn close(&self) {
        self.pool.close().await;
        self.writer.close().await;
    }

    /// A write transaction; on SQLite it takes the write lock up front.
    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>> {
        Ok(match self.backend {
            Backend::Sqlite => self.writer.begin_with("begin immediate").await?,
            Backend::Postgres => self.writer.begin().await?,
        })
    }
}

/// Ensures the folder exists and the file is created on first use.
fn sqlite_url(url: &str) -> Result<String> {
    let rest = url.trim_start_matches("sqlite://").trim_start_matches("sqlite:");
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    if path.is_empty() {
        return Err(Error::BadUrl(url.to_string()));
    }
    if path != ":memory:"
        && let Some(parent) = std::path::Path::new(path).parent()
        && !parent.as_os_str().is_empty()
    {
        std::fs::create_dir_all(parent)
            .map_err(|e| Error::Invalid(format!("cannot create {}: {e}", parent.display())))?;
    }
    let query = if query.contains("mode=") {
        query.to_string()
    } else if query.is_empty() {
        "mode=rwc".to_string()
    } else {
        format!("{query}&mode=rwc")
    };
    Ok(format!("sqlite://{path}?{query}"))
}

/// How a statement's placeholders are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Placeholders {
    /// `$1, $2, …`: both backends.
    Numbered,
    /// `$n+1, $n+2, …`: numbered after a statement's first `n` parameters.
    NumberedAfter(usize),
    /// `?`: SQLite only; binds in order without SQLite looking parameter names up.
    Anonymous,
}

/// `rows` tuples of `columns` placeholders for a multi-row `values` list: `($1, $2), ($3, $4)`.
pub(crate) fn value_tuples(style: Placeholders, rows: usize, columns: usize) -> String {
    use std::fmt::Write as _;
    let first = match style {
        Placeholders::Numbered => Some(0),
        Placeholders::NumberedAfter(n) => Some(n),
        Placeholders::Anonymous => None,
    };
    let mut out = String::with_capacity(rows * columns * if first.is_some() { 6 } else { 3 } + rows * 2);
    for r in 0..rows {
        out.push_str(if r == 0 { "(" } else { ", (" });
        for c in 1..=columns {
            if c > 1 {
                out.push_str(", ");
            }
            match first {
                Some(n) => write!(out, "${}", n + r * columns + c).expect("writing to a String cannot fail"),
                None => out.push('?'),
            }
        }
        out.push(')');
    }
    out
}

/// Runs `query`, several statements from `begin` to `commit`, on one connection of `writer`: one
/// hop to sqlx's SQLite thread for the whole transaction (`turns_batch`, search indexing).
/// Answers the rows its statements return. A failing statement stops the query inside its
/// transaction, which is rolled back on the same connection before the error is answered (a
/// failure at `begin` leaves nothing to roll back, and that rollback fails harmlessly).
pub(super) async fn fetch_in_one_hop(
    writer: &AnyPool,
    query: sqlx::query::Query<'_, sqlx::Any, sqlx::any::AnyArguments>,
) -> sqlx::Result<Vec<sqlx::any::AnyRow>> {
    let mut conn = writer.acquire().await?;
    let fetched = query.fetch_all(&mut *conn).await;
    if fetched.is_err() {
        let _ = sqlx::query("rollback").execute(&mut *conn).await;
    }
    fetched
}

pub(crate) fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.kind() == sqlx::error::ErrorKind::UniqueViolation)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn value_tuples_number_or_leave_anonymous_their_placeholders() {
        assert_eq!(value_tuples(Placeholders::Numbered, 2, 2), "($1, $2), ($3, $4)");
        assert_eq!(value_tuples(Placeholders::NumberedAfter(3), 2, 1), "($4), ($5)");
        assert_eq!(value_tuples(Placeholders::Anonymous, 2, 3), "(?, ?, ?), (?, ?, ?)");
        assert_eq!(value_tuples(Placeholders::Numbered, 0, 3), "");
    }
}
