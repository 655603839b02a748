//! `Queries`: the read-only face of the store, for the web. It owns no logic: each method
//! delegates to the store's function of the same name, and none of them writes. Writes go
//! through the hub (only the hub writes state); the web holds this, never a `Store`.

use super::{
    ActionCounts, Agent, ApiToken, AuditEntry, ConversationRow, ConversationSummary, CsatReport, CsatRequest,
    DeliveryState, EmailOriginal, EventWindow, Label, ListFilter, MetricsSnapshot, Miss, NotificationPrefs, Principal,
    QuarantinedMail, ReportRow, Result, RuleVersion, SavedView, SearchHit, SlaDay, SlaTarget, Store, StoredFile,
};
use crate::domain::{AttachmentRef, MessageView, Millis};
use crate::search::SearchQuery;
use std::collections::{BTreeMap, HashMap};

/// Cheap to clone (a store handle); only reads.
#[derive(Clone)]
pub struct Queries {
    store: Store,
}

impl Queries {
    pub fn new(store: Store) -> Queries {
        Queries { store }
    }
}

/// Each line becomes `pub async fn name(&self, args) -> Result<T>` calling `Store::name`.
macro_rules! reads {
    ($( $(#[$doc:meta])* fn $name:ident($($arg:ident: $ty:ty),*) -> $ret:ty; )*) => {
        impl Queries {
            $(
                $(#[$doc])*
                pub async fn $name(&self, $($arg: $ty),*) -> Result<$ret> {
                    self.store.$name($($arg),*).await
                }
            )*
        }
    };
}

// Staff, sessions and tokens.
reads! {
    fn agents() -> Vec<Agent>;
    fn agent(agent_id: &str) -> Option<Agent>;
    /// (agent id, password hash, active) of the account with this email.
    fn agent_credentials(email: &str) -> Option<(String, String, bool)>;
    fn api_tokens() -> Vec<ApiToken>;
    fn session_principal(session_hash: &str) -> Option<Principal>;
    fn token_principal(token_hash: &str) -> Option<Principal>;
    fn login_failures(key: &str, since: Millis) -> EventWindow;
    fn team_exists(team: &str) -> bool;
    fn teams() -> Vec<(String, i64)>;
    fn canned_responses() -> Vec<(String, String)>;
    fn saved_views(agent_id: &str) -> Vec<SavedView>;
    fn notification_prefs(agent_id: &str) -> NotificationPrefs;
}

// Conversations, contacts and messages.
reads! {
    fn conversation(conversation_id: &str) -> Option<ConversationRow>;
    fn conversation_summary(id: &str) -> Option<ConversationSummary>;
    fn list_conversations(filter: &ListFilter) -> Vec<ConversationSummary>;
    fn search_conversations(query: &SearchQuery, filter: &ListFilter) -> Vec<SearchHit>;
    fn messages_after(conversation_id: &str, after_seq: i64, limit: i64, include_private: bool) -> Vec<MessageView>;
    fn contact_history(contact_id: &str, limit: i64) -> Vec<(MessageView, String)>;
    fn handoff_context(conversation_id: &str) -> Option<String>;
    fn delivery_states(conversation_id: &str) -> Vec<DeliveryState>;
    fn contact(contact_id: &str) -> Option<(Option<String>, Millis)>;
    fn contact_avatar(contact_id: &str) -> Option<String>;
    fn identities(contact_id: &str) -> Vec<(String, String, String)>;
    fn conversations_of_contact(contact_id: &str) -> Vec<(String, String, String, Millis, Millis)>;
    fn labels() -> Vec<Label>;
    fn labels_of(conversation_ids: &[String]) -> HashMap<String, Vec<String>>;
    fn csat_of(ids: &[String]) -> HashMap<String, (i64, Option<String>)>;
    fn csat_request(csat_id: &str) -> Option<CsatRequest>;
    fn attachment(attachment_id: &str) -> Option<StoredFile>;
    fn attachments_of(message_ids: &[String]) -> HashMap<String, Vec<AttachmentRef>>;
    /// Puts each message's stored files on it.
    fn fill_attachments(messages: Vec<&mut MessageView>) -> ();
}

// Email, rules, SLA, reports and health.
reads! {
    fn email_quarantine(limit: i64) -> Vec<QuarantinedMail>;
    fn quarantined_email_raw(quarantine_id: &str) -> Option<Vec<u8>>;
    fn email_original(message_id: &str) -> Option<EmailOriginal>;
    /// (file name, content type, bytes).
    fn email_attachment(attachment_id: &str) -> Option<(String, String, Vec<u8>)>;
    fn intent_hits() -> Vec<(String, i64)>;
    fn rule_versions() -> Vec<RuleVersion>;
    fn rule_version(version: i64) -> Option<RuleVersion>;
    fn misses(limit: i64) -> Vec<Miss>;
    fn audit_entries(action: Option<&str>, actor: Option<&str>, limit: i64) -> Vec<AuditEntry>;
    fn sla_targets() -> Vec<SlaTarget>;
    fn report(since: Millis) -> Vec<ReportRow>;
    fn sla_report(since: Millis) -> Vec<SlaDay>;
    fn bot_actions_since(since: Millis) -> BTreeMap<String, ActionCounts>;
    fn csat_report(since: Millis) -> CsatReport;
    fn label_report(since: Millis) -> Vec<(String, String, i64)>;
    fn metrics_snapshot() -> MetricsSnapshot;
    /// The number of applied migrations, or the database's error.
    fn ready() -> i64;
}

// The widget's upload limit.
reads! {
    /// Uploads counted under a limit key since an instant, and when the oldest of them was.
    fn uploads_since(key: &str, since: Millis) -> EventWindow;
}
