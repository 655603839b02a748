//! Opens the configured back office (`--backoffice`): the built-in tables (answers kept in
//! memory until the tables change, see `memo`), or an external source (Tryton, an SQL database
//! with a mapping) behind the cache/timeout/breaker wrapper, checked at start unless lazy.

use super::BackOffice;
use super::guard::Guarded;
use super::sql::{Sql, is_sql_url};
use super::tryton::{Tryton, rpc::Target};
use crate::config::BackofficeArgs;
use crate::store::Store;
use anyhow::Context;
use std::sync::Arc;
use std::time::Duration;

/// The external source `--backoffice` names, unchecked (`None`: the built-in tables). A bad URL
/// or mapping file is an error even with `--backoffice-lazy`: waiting will not fix it.
pub fn external(args: &BackofficeArgs) -> anyhow::Result<Option<Arc<dyn BackOffice>>> {
    let source = args.source.trim();
    if source.is_empty() || source == "builtin" {
        return Ok(None);
    }
    if source.starts_with("tryton://") || source.starts_with("trytons://") {
        let target = Target::parse(source).map_err(|e| anyhow::anyhow!("--backoffice: {e}"))?;
        return Ok(Some(Arc::new(Tryton::new(target))));
    }
    if is_sql_url(source) {
        let map = args.map.as_ref().ok_or_else(|| {
            anyhow::anyhow!(
                "--backoffice {}: an SQL source needs --backoffice-map FILE (KITUO_BACKOFFICE_MAP)",
                crate::config::redact(source)
            )
        })?;
        let sql = Sql::open(source, map).map_err(|e| anyhow::anyhow!("--backoffice-map: {e}"))?;
        return Ok(Some(Arc::new(sql)));
    }
    anyhow::bail!(
        "--backoffice: unsupported source (use builtin, tryton://USER:PASSWORD@HOST:PORT/DATABASE, trytons://…, \
         or postgres://, mysql://, sqlite:// with --backoffice-map)"
    )
}

pub async fn open(args: &BackofficeArgs, store: &Store) -> anyhow::Result<Arc<dyn BackOffice>> {
    let Some(inner) = external(args)? else { return Ok(Arc::new(super::memo::Memo::new(store.clone()))) };
    let timeout = Duration::from_millis(args.timeout_ms.max(1));
    let guarded = Guarded::new(inner, Duration::from_secs(args.cache_secs), timeout);
    if let Err(e) = guarded.check().await {
        let why = e.to_string();
        if !args.lazy {
            return Err(anyhow::anyhow!("{why}"))
                .context("the back office is not usable (start anyway with --backoffice-lazy)");
        }
        tracing::warn!(source = guarded.source(), error = %why, "back office down at start; serving anyway (--backoffice-lazy)");
        guarded.mark_down(why);
    }
    Ok(Arc::new(guarded))
}
