//! Opens the configured back office (`--backoffice`): the built-in tables (answers kept in
//! memory until the tables change, see `memo`), or an
//! external source behind the cache/timeout/breaker wrapper, checked at start unless lazy.

use super::BackOffice;
use super::guard::Guarded;
use super::tryton::{Tryton, rpc::Target};
use crate::config::BackofficeArgs;
use crate::store::Store;
use anyhow::Context;
use std::sync::Arc;
use std::time::Duration;

pub async fn open(args: &BackofficeArgs, store: &Store) -> anyhow::Result<Arc<dyn BackOffice>> {
    let source = args.source.trim();
    if source.is_empty() || source == "builtin" {
        return Ok(Arc::new(super::memo::Memo::new(store.clone())));
    }
    let inner: Arc<Tryton> = if source.starts_with("tryton://") || source.starts_with("trytons://") {
        let target = Target::parse(source).map_err(|e| anyhow::anyhow!("--backoffice: {e}"))?;
        Arc::new(Tryton::new(target))
    } else {
        anyhow::bail!(
            "--backoffice: unsupported source (use builtin, tryton://USER:PASSWORD@HOST:PORT/DATABASE or trytons://…)"
        );
    };
    let timeout = Duration::from_millis(args.timeout_ms.max(1));
    let guarded = Guarded::new(inner.clone(), Duration::from_secs(args.cache_secs), timeout);
    let checked = tokio::time::timeout(timeout.max(Duration::from_secs(5)), inner.check()).await;
    let problem = match checked {
        Ok(Ok(())) => None,
        Ok(Err(e)) => Some(e.to_string()),
        Err(_) => Some("no answer within the timeout".to_string()),
    };
    if let Some(why) = problem {
        if !args.lazy {
            return Err(anyhow::anyhow!("{why}"))
                .context("the back office is not usable (start anyway with --backoffice-lazy)");
        }
        tracing::warn!(source = inner.source(), error = %why, "back office down at start; serving anyway (--backoffice-lazy)");
        guarded.mark_down(why);
    }
    Ok(Arc::new(guarded))
}
