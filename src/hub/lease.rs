//! Work that must run on exactly one node at a time (each mailbox reader, the Discord gateway):
//! the node holding the database lease runs it and renews the lease; when it dies or stalls the
//! lease expires and another node takes the work over.
//!
//! Plumbing owned by `app` (which knows this node's id), not part of `Hub`: it needs only the
//! store's lease rows.

use crate::store::Store;
use futures_util::future::BoxFuture;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// How long a lease lasts without renewal.
const TTL: Duration = Duration::from_secs(15);
/// How often the holder renews, and others try to take it.
const EVERY: Duration = Duration::from_secs(5);

/// Runs `work` while node `node` holds lease `name`, restarting it when the lease comes back.
pub async fn run_under_lease<F>(store: Store, node: String, name: String, token: CancellationToken, work: F)
where
    F: Fn(CancellationToken) -> BoxFuture<'static, ()> + Send + 'static,
{
    let ttl = TTL.as_millis() as i64;
    loop {
        match store.try_lease(&name, &node, ttl).await {
            Ok(true) => {
                tracing::info!(lease = %name, "this node now runs it");
                let child = token.child_token();
                let mut task = tokio::spawn(work(child.clone()));
                loop {
                    tokio::select! {
                        _ = token.cancelled() => {
                            child.cancel();
                            let _ = task.await;
                            let _ = store.release_lease(&name, &node).await;
                            return;
                        }
                        _ = &mut task => break,
                        _ = tokio::time::sleep(EVERY) => {
                            if !matches!(store.try_lease(&name, &node, ttl).await, Ok(true)) {
                                tracing::warn!(lease = %name, "lease lost; stopping here");
                                child.cancel();
                                let _ = task.await;
                                break;
                            }
                        }
                    }
                }
            }
            Ok(false) => {}
            Err(e) => tracing::warn!(lease = %name, error = %e, "cannot take the lease"),
        }
        tokio::select! {
            _ = token.cancelled() => return,
            _ = tokio::time::sleep(EVERY) => {}
        }
    }
}
