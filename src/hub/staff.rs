//! What staff change through the hub outside a conversation's ownership: sign-in sessions and
//! the login throttle's counts, a conversation's priority and read mark, label definitions,
//! saved views, notification preferences and retried deliveries. Also hands the web its
//! read-only [`Queries`]: the web reads through that and writes only through these methods.

use super::bus::AgentEvent;
use super::{Hub, Result};
use crate::auth::{self, LoginLimiter};
use crate::store::{NotificationPrefs, Principal, Queries, SavedView};
use serde_json::json;
use std::net::IpAddr;

impl Hub {
    /// A read-only handle on the store for the web (cheap to clone).
    pub fn queries(&self) -> Queries {
        Queries::new(self.store.clone())
    }

    /// Counts a failed sign-in against the address and the account (see [`LoginLimiter`]).
    pub async fn login_failed(&self, limiter: &LoginLimiter, ip: IpAddr, account: &str) -> Result<()> {
        limiter.failed(&self.store, ip, account).await?;
        Ok(())
    }

    /// A successful sign-in: forgets this address's failures on the account and opens a
    /// session. Returns (cookie value, CSRF token).
    pub async fn open_session(
        &self,
        limiter: &LoginLimiter,
        ip: IpAddr,
        account: &str,
        agent_id: &str,
    ) -> Result<(String, String)> {
        limiter.succeeded(&self.store, ip, account).await?;
        Ok(auth::create_session(&self.store, agent_id).await?)
    }

    /// Ends the session of `cookie_value` (if the request came with one); the consoles opened
    /// with `who`'s credential close.
    pub async fn close_session(&self, cookie_value: Option<&str>, who: &Principal) -> Result<()> {
        if let Some(value) = cookie_value {
            self.store.delete_session(&auth::sha256_hex(value)).await?;
        }
        self.bus.publish_agents(AgentEvent::Revoked {
            agent_id: who.agent_id.clone(),
            credential: Some(who.credential.clone()),
        });
        Ok(())
    }

    /// Sets a conversation's priority (`name` as the agent gave it, for the audit log); false
    /// for an unknown conversation.
    pub async fn set_priority(&self, actor: &str, conversation_id: &str, priority: i64, name: &str) -> Result<bool> {
        if !self.store.set_priority(conversation_id, priority).await? {
            return Ok(false);
        }
        let target = format!("conversation:{conversation_id}");
        self.audit(actor, "conversation.priority", &target, json!({"priority": name})).await;
        Ok(true)
    }

    /// Marks a conversation read; false for an unknown conversation.
    pub async fn mark_read(&self, conversation_id: &str) -> Result<bool> {
        Ok(self.store.mark_read(conversation_id).await?)
    }

    /// Creates or recolours a label.
    pub async fn save_label(&self, actor: &str, name: &str, color: &str) -> Result<()> {
        self.store.upsert_label(name, color).await?;
        self.audit(actor, "label.save", &format!("label:{name}"), json!({"color": color})).await;
        Ok(())
    }

    /// Saves an agent's view (a name, search text and filters as JSON).
    pub async fn create_saved_view(&self, agent_id: &str, name: &str, query: &str, filters: &str) -> Result<SavedView> {
        Ok(self.store.create_saved_view(agent_id, name, query, filters).await?)
    }

    /// Deletes one of the agent's own views; false for an unknown view or another agent's.
    pub async fn delete_saved_view(&self, agent_id: &str, view_id: &str) -> Result<bool> {
        Ok(self.store.delete_saved_view(agent_id, view_id).await?)
    }

    pub async fn set_notification_prefs(&self, agent_id: &str, prefs: NotificationPrefs) -> Result<()> {
        self.store.set_notification_prefs(agent_id, prefs).await?;
        Ok(())
    }

    /// Queues a failed delivery again and wakes the outbox workers; false when the delivery is
    /// not in the failed state.
    pub async fn retry_delivery(&self, outbox_id: &str) -> Result<bool> {
        if !self.store.outbox_retry(outbox_id).await? {
            return Ok(false);
        }
        self.outbox_signal.notify_waiters();
        Ok(true)
    }
}
