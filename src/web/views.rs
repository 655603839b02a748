//! JSON shapes of the staff API and the console socket (one place, so REST and WebSocket agree):
//! the typed shapes in `api_types`, as JSON values for the socket's frames.

use super::api_types;
use crate::domain::MessageView;
use crate::store::{Agent, ConversationSummary};
use serde::Serialize;
use serde_json::Value;

/// A typed shape as a JSON value (plain structs of strings and numbers: this cannot fail).
fn value(v: impl Serialize) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

pub fn summary(s: &ConversationSummary) -> Value {
    value(api_types::ConversationSummary::from(s))
}

pub fn message(m: &MessageView, channel: &str) -> Value {
    value(api_types::Message::new(m, channel))
}

pub fn agent(a: &Agent) -> Value {
    value(api_types::Agent::from(a))
}

/// An optional timestamp as RFC 3339 or null.
pub fn time(ms: Option<i64>) -> Value {
    value(api_types::time(ms))
}
