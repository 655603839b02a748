//! The queue dispatcher: offers waiting conversations to agents — priority, then oldest first;
//! to an online agent with spare capacity, least loaded first, round robin on ties; only to the
//! conversation's team when that team has members. It also returns the conversations of agents
//! who stayed offline past the grace period to the queue. Every change is a hub transition.

use crate::domain::ownership::Action;
use crate::hub::{self, Hub};
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// How often the dispatcher looks even when nothing woke it (timers, missed wake-ups).
const SWEEP_EVERY: Duration = Duration::from_secs(5);

/// Runs until `token` is cancelled.
pub async fn run_dispatcher(hub: Arc<Hub>, offline_grace: Duration, token: CancellationToken) {
    let wake = hub.dispatch_signal();
    // A steady tick, so frequent wake-ups cannot postpone the offline sweep forever.
    let mut sweep = tokio::time::interval(SWEEP_EVERY);
    sweep.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = token.cancelled() => return,
            _ = wake.notified() => {}
            _ = sweep.tick() => {
                if let Err(e) = requeue_offline(&hub, offline_grace).await {
                    tracing::warn!(error = %e, "returning offline agents' conversations failed");
                }
            }
        }
        if let Err(e) = dispatch_once(&hub).await {
            tracing::warn!(error = %e, "queue dispatch failed");
        }
    }
}

/// Assigns waiting conversations while some agent has room. Returns how many were assigned.
pub async fn dispatch_once(hub: &Hub) -> hub::Result<usize> {
    let store = hub.store();
    let mut assigned = 0;
    loop {
        let agents = store.available_agents().await?;
        if agents.is_empty() {
            return Ok(assigned);
        }
        let staffed: Vec<String> = store.teams().await?.into_iter().filter(|(_, n)| *n > 0).map(|(t, _)| t).collect();
        let mut progressed = false;
        for (conversation_id, team) in store.queued_for_dispatch(200).await? {
            let team = team.filter(|t| staffed.contains(t));
            let Some(agent) = agents.iter().find(|a| team.as_ref().is_none_or(|t| a.teams.contains(t))) else {
                continue;
            };
            match hub.auto_assign(&conversation_id, &agent.agent_id).await {
                Ok(_) => {
                    assigned += 1;
                    progressed = true;
                    // Loads changed: pick again from a fresh list.
                    break;
                }
                Err(hub::Error::Transition(_)) => continue, // claimed meanwhile
                Err(e) => return Err(e),
            }
        }
        if !progressed {
            return Ok(assigned);
        }
    }
}

/// Conversations of agents offline for longer than `grace` go back to the queue.
pub async fn requeue_offline(hub: &Hub, grace: Duration) -> hub::Result<usize> {
    let cutoff = crate::domain::now_ms() - grace.as_millis() as i64;
    let mut moved = 0;
    for agent in hub.store().offline_agents_holding_conversations(cutoff).await? {
        for conversation_id in hub.store().assigned_to(&agent).await? {
            match hub.transition(&conversation_id, Action::Requeue).await {
                Ok(_) => moved += 1,
                Err(hub::Error::Transition(_)) => {}
                Err(e) => return Err(e),
            }
        }
    }
    Ok(moved)
}
