//! What the bot collects when an intent hands the conversation to a person (`change_order`,
//! `account_help`, `complaint`, …): the values its reply may mention, and what the agent is
//! told the customer wants. Pure functions; the hub stores the result with the handoff.

use super::dialogue::{HandoffReason, Outcome};
use minijinja::Value;
use std::collections::BTreeMap;

/// The handoff reply's variables: every slot the message gave (`order_number`, …).
pub fn reply_context(slots: &BTreeMap<String, String>) -> Value {
    Value::from_serialize(slots)
}

/// What the customer wants, in words for the agent, when an intent hands over by itself.
pub fn request(intent: &str) -> Option<&'static str> {
    Some(match intent {
        "cancel_order" => "Wants an order cancelled",
        "change_order" => "Wants an order changed",
        "return_refund" => "Wants a return or refund",
        "invoice_copy" => "Wants a copy of an invoice",
        "account_help" => "Needs help with their account",
        "complaint" => "Complaint",
        _ => return None,
    })
}

/// One line for the agent who takes over: why, and what the customer last said.
pub fn summary(reason: HandoffReason, outcome: &Outcome, text: &str) -> String {
    let why = match reason {
        HandoffReason::Asked => outcome.intent.as_deref().and_then(request).unwrap_or("Asked for a person").to_string(),
        HandoffReason::AfterMisses => "Bot did not understand; customer accepted a person".to_string(),
        HandoffReason::VerificationFailed => {
            format!("Failed the identity check {} times", outcome.state.verify_failures)
        }
    };
    let slots: Vec<String> = outcome.slots.iter().map(|(k, v)| format!("{k} {v}")).collect();
    let mut said: String = text.chars().take(80).collect();
    if text.chars().count() > 80 {
        said.push('…');
    }
    if slots.is_empty() {
        format!("{why}: “{said}”")
    } else {
        format!("{why} ({}): “{said}”", slots.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_named_and_slots_reach_the_reply() {
        assert_eq!(request("change_order"), Some("Wants an order changed"));
        assert_eq!(request("human_handoff"), None);
        let slots = BTreeMap::from([("order_number".to_string(), "1001".to_string())]);
        let env = minijinja::Environment::new();
        let out = env.render_str("order {{ order_number }}", reply_context(&slots)).unwrap();
        assert_eq!(out, "order 1001");
    }
}
