//! Work that follows commits, off the writer's path: search indexing on both backends, and on
//! SQLite the write-ahead log's checkpoints, including the writer's short step that lets the log
//! start again from its beginning (see [`checkpoint_beside`] for why it is needed and how often
//! it runs).

use sqlx::AnyPool;
use tokio::sync::mpsc;

/// Least time between two passes of [`after_commits`] while turns are being written.
const PASS_EVERY: std::time::Duration = std::time::Duration::from_millis(100);

/// Work that follows commits, off the writer: search indexing on both backends, and SQLite's
/// checkpoint.
///
/// SQLite: copies the write-ahead log's new pages into the database file. SQLite's own
/// automatic checkpoint runs inside the commit that crosses the threshold, so one batch of turns
/// in every few hundred waited for page writes and an `fsync` of the database file: that was the
/// open-loop tail. A passive checkpoint on another connection (`sqlite_readers`) runs beside the
/// writer (it never blocks it, nor readers) on the other core, and now and then the writer takes
/// a short step that lets the log start again ([`checkpoint_beside`]). The writer's own
/// threshold ([`BACKSTOP_FRAMES`]) stays as a backstop. Pages a batch rewrites often (index
/// leaves, conversation rows) are copied once per checkpoint, not once per commit.
///
/// Each pass first indexes the messages written since the last one for search
/// (`Store::index_pending`): on SQLite one FTS5 transaction for a hundred milliseconds of turns
/// instead of one per commit, where it cost a sixth of the CPU per message; on PostgreSQL one
/// bulk merge of the GIN index's pending list instead of a posting-list rewrite per message.
/// `sqlite_readers` is SQLite's reader pool (for the checkpoint), `None` on PostgreSQL.
pub(super) async fn after_commits(writer: AnyPool, sqlite_readers: Option<AnyPool>, mut written: mpsc::Receiver<()>) {
    let mut warned = false;
    while written.recv().await.is_some() {
        tokio::time::sleep(PASS_EVERY).await;
        let indexed = match sqlite_readers {
            Some(_) => super::search::index_pending(&writer).await,
            None => super::search_pg::merge_pending(&writer).await,
        };
        // Said once: a failing pass fails the same way every 100 ms.
        if let Err(e) = indexed
            && !std::mem::replace(&mut warned, true)
        {
            tracing::warn!(error = %e, "indexing new messages for search failed; searches index first");
        }
        if let Some(readers) = &sqlite_readers
            && let Err(e) = checkpoint_beside(&writer, readers, RESTART_AFTER_FRAMES).await
        {
            tracing::warn!(error = %e, "a background checkpoint failed; the writer's own will run");
        }
    }
}

/// Frames in SQLite's write-ahead log past which a pass lets the log start again: 16,000 pages
/// (about 64 MB), a second or more of turns at 1,000 messages a second (a lone turn's commit
/// writes about 14 pages).
const RESTART_AFTER_FRAMES: i64 = 16_000;

/// SQLite's own threshold for a checkpoint inside a commit (`wal_autocheckpoint`, set in
/// `Store::connect`): only reached when the passes cannot let the log start again.
pub(super) const BACKSTOP_FRAMES: i64 = 2 * RESTART_AFTER_FRAMES;

/// SQLite: one background checkpoint, and, once the log is past `restart_after` frames, the
/// writer's short step that lets the log start again from its beginning.
///
/// The log starts again only when a write transaction begins with every frame copied into the
/// database file. A checkpoint on another connection never gets there under a steady load: it
/// copies what was committed when it started, and the writer commits more while it runs. So the
/// log grew until the writer's backstop ran a checkpoint inside a commit, and every turn
/// waiting behind that commit waited for it and its two `fsync`s. At 1,000 messages a second
/// that was every half second: 16 commits of a 20-second run took over 10 ms, and the open loop's
/// p99 was 11.3 ms (6.6 ms with the backstop off, which lets the log grow without end).
///
/// Now the copying stays beside the writer, and once the log is past `restart_after` frames the
/// writer copies only what was committed while the pass ran (a median of 5.3 ms with its
/// `fsync`s, 2.6–13 ms, measured over 54 steps), so its next transaction starts the log again.
/// Rare on purpose: the turns that wait behind that step are a fraction of a percent of a
/// second's turns.
async fn checkpoint_beside(writer: &AnyPool, readers: &AnyPool, restart_after: i64) -> sqlx::Result<()> {
    if copy_beside(readers, restart_after).await? {
        let_log_restart(writer).await?;
    }
    Ok(())
}

/// A passive checkpoint on a reader connection; true when the log is past `restart_after`
/// frames and all of them were copied. Fewer copied than logged means a reader still needs
/// older frames, and the writer's step would be held up by the same reader: the next pass
/// tries again.
async fn copy_beside(readers: &AnyPool, restart_after: i64) -> sqlx::Result<bool> {
    // (busy, frames in the log, frames copied)
    let (_, log, copied): (i64, i64, i64) = sqlx::query_as("pragma wal_checkpoint(passive)").fetch_one(readers).await?;
    Ok(log >= restart_after && copied == log)
}

/// The writer's step: a checkpoint on the writer connection, between two of its commits, copies
/// what was committed since [`copy_beside`], so the writer's next transaction starts the log
/// again.
async fn let_log_restart(writer: &AnyPool) -> sqlx::Result<()> {
    sqlx::query("pragma wal_checkpoint(passive)").execute(writer).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    /// A few pages of log: a row of 40,000 characters.
    async fn write_some(conn: &mut sqlx::AnyConnection) {
        sqlx::query("insert into log_restart_test (body) values ($1)")
            .bind("x".repeat(40_000))
            .execute(conn)
            .await
            .unwrap();
    }

    /// Commits while a checkpoint beside the writer runs: the race a steady load always wins
    /// against the checkpoint. Answers what the checkpoint said about restarting.
    async fn commit_during_copy(writer: &AnyPool, readers: &AnyPool) -> bool {
        let mut tx = writer.begin_with("begin immediate").await.unwrap();
        write_some(&mut tx).await;
        let wants = copy_beside(readers, 1).await.unwrap();
        tx.commit().await.unwrap();
        wants
    }

    #[tokio::test]
    async fn the_writers_step_starts_the_log_again_after_a_lost_race() {
        let dir = std::env::temp_dir().join(format!("kituo-log-restart-{}", crate::domain::new_ordered_id()));
        let db = dir.join("k.db");
        let store = Store::connect(&format!("sqlite://{}", db.display())).await.unwrap();
        let (writer, readers) = (store.writer().clone(), store.pool.clone());
        sqlx::query("create table log_restart_test (body text)").execute(&writer).await.unwrap();
        let wal = dir.join("k.db-wal");
        let wal_bytes = || std::fs::metadata(&wal).unwrap().len();
        let mut conn = writer.acquire().await.unwrap();
        for _ in 0..4 {
            write_some(&mut conn).await;
        }
        drop(conn);
        // The reader connection opened before the database went to WAL: a read makes it see that.
        sqlx::query("select count(*) from log_restart_test").fetch_one(&readers).await.unwrap();

        // Without the writer's step the log goes on growing: new frames are appended.
        assert!(commit_during_copy(&writer, &readers).await, "everything committed was copied");
        let before = wal_bytes();
        write_some(&mut writer.acquire().await.unwrap()).await;
        assert!(wal_bytes() > before, "no step: the log grew");

        // With it, the next commit writes from the log's beginning: the file does not grow.
        assert!(commit_during_copy(&writer, &readers).await);
        let_log_restart(&writer).await.unwrap();
        let before = wal_bytes();
        write_some(&mut writer.acquire().await.unwrap()).await;
        assert_eq!(wal_bytes(), before, "the step: the log started again");

        // Below the threshold the pass only copies.
        assert!(!copy_beside(&readers, i64::MAX).await.unwrap());
        drop(store);
        let _ = std::fs::remove_dir_all(dir);
    }
}
