//! The hub's side of the rule set: saving edits as new versions (serialised, on the newest
//! version, checked off the async threads), picking up versions stored by other nodes, and
//! flushing intent hit counts — plus the housekeeping task that runs the periodic parts.

use super::{Error, Hub, Result};
use crate::store;
use std::sync::Arc;

impl Hub {
    /// Intent hits counted in memory and not yet flushed.
    pub fn pending_hits(&self) -> Vec<(String, i64)> {
        self.hits.lock().expect("hits mutex poisoned: a holder panicked").iter().map(|(k, v)| (k.clone(), *v)).collect()
    }

    async fn flush_hits(&self) -> Result<()> {
        let hits: Vec<(String, i64)> =
            std::mem::take(&mut *self.hits.lock().expect("hits mutex poisoned: a holder panicked"))
                .into_iter()
                .collect();
        if let Err(e) = self.store.add_intent_hits(&hits).await {
            // Put them back for the next flush.
            let mut map = self.hits.lock().expect("hits mutex poisoned: a holder panicked");
            for (k, v) in hits {
                *map.entry(k).or_default() += v;
            }
            return Err(e.into());
        }
        Ok(())
    }

    /// Edits the rule set in force and saves the result as a new version, in force at once for
    /// every conversation (no restart, no dropped connection). Edits are serialised and applied
    /// to the newest stored version, so concurrent saves never lose each other's changes; a
    /// refused save (invalid rules) changes nothing.
    pub async fn edit_rules<R>(
        &self,
        author: &str,
        note: &str,
        edit: impl FnOnce(&mut crate::bot::bundle::RuleBundle) -> std::result::Result<R, crate::bot::bundle::Rejection>,
    ) -> std::result::Result<(i64, R, crate::bot::bundle::RuleBundle), SaveError> {
        let _one_at_a_time = self.rules_lock.lock().await;
        self.reload_rules_if_newer().await.map_err(|e| match e {
            Error::Store(s) => SaveError::Store(s),
            other => SaveError::Store(store::Error::Invalid(other.to_string())),
        })?;
        let current = self.bot();
        let mut bundle = current.bundle.clone();
        let result = edit(&mut bundle).map_err(SaveError::Invalid)?;
        // Compiling and checking a whole rule set is CPU work: keep it off the async threads.
        let (mut bot, bundle) = tokio::task::spawn_blocking(move || bundle.build().map(|b| (b, bundle)))
            .await
            .map_err(|e| SaveError::Store(store::Error::Invalid(e.to_string())))?
            .map_err(SaveError::Invalid)?;
        let json =
            serde_json::to_string(&bot.bundle).map_err(|e| SaveError::Store(store::Error::Invalid(e.to_string())))?;
        let version =
            self.store.add_rule_version(author, note, &json, Some(current.version)).await.map_err(SaveError::Store)?;
        bot.version = version;
        self.swap_bot(bot);
        Ok((version, result, bundle))
    }

    /// Picks up a version another node (or an import) stored.
    async fn reload_rules_if_newer(&self) -> Result<()> {
        let latest = self.store.latest_rule_version_number().await?;
        if latest <= self.bot().version {
            return Ok(());
        }
        if let Some(v) = self.store.rule_version(latest).await? {
            let bundle: crate::bot::bundle::RuleBundle = serde_json::from_str(v.bundle.as_deref().unwrap_or("{}"))
                .map_err(|e| store::Error::Invalid(e.to_string()))?;
            match bundle.build() {
                Ok(mut bot) => {
                    bot.version = latest;
                    self.swap_bot(bot);
                    tracing::info!(version = latest, "rule set reloaded");
                }
                Err(r) => {
                    tracing::error!(version = latest, problems = %r.summary(), "stored rule set is invalid; keeping the current one")
                }
            }
        }
        Ok(())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SaveError {
    #[error("the rule set is invalid")]
    Invalid(crate::bot::bundle::Rejection),
    #[error(transparent)]
    Store(store::Error),
}

/// Periodic chores: flush intent hit counts, pick up rule versions stored elsewhere, and every
/// 30 s mark SLA breaches and, when the node was quiet, give freed heap back (`memory`).
pub async fn run_housekeeping(hub: Arc<Hub>, token: tokio_util::sync::CancellationToken) {
    let mut rounds: u32 = 0;
    let mut trimmer = Some(crate::memory::Trimmer::default());
    loop {
        tokio::select! {
            _ = token.cancelled() => {
                let _ = hub.flush_hits().await;
                return;
            }
            _ = tokio::time::sleep(std::time::Duration::from_secs(2)) => {}
        }
        if let Err(e) = hub.flush_hits().await {
            tracing::warn!(error = %e, "flushing intent hits failed");
        }
        if let Err(e) = hub.reload_rules_if_newer().await {
            tracing::warn!(error = %e, "checking for a newer rule set failed");
        }
        rounds = rounds.wrapping_add(1);
        if rounds.is_multiple_of(15)
            && let Err(e) = hub.sla_sweep().await
        {
            tracing::warn!(error = %e, "the SLA sweep failed");
        }
        if rounds.is_multiple_of(15)
            && let Some(mut t) = trimmer.take()
        {
            let hub = hub.clone();
            trimmer = tokio::task::spawn_blocking(move || {
                if t.tick(|| hub.shed_idle_state()) {
                    tracing::debug!("quiet: freed heap given back to the system");
                }
                t
            })
            .await
            .ok();
        }
    }
}
