//! What the hub does with the bot's back-office actions of a turn: count them in
//! `kituo_bot_actions_total`, audit them, and store an activity message for agents (author
//! `system`, private, `"kind":"activity"`), all in the turn's transaction.

use super::Hub;
use crate::bot::actions::ActionRecord;
use crate::domain::{ACTIVITY_AUTHOR, Author};
use crate::store::{NewMessage, Turn};

pub(super) fn record(hub: &Hub, turn: &mut Turn, contact_id: &str, conversation_id: &str, actions: &[ActionRecord]) {
    for a in actions {
        let labels = format!("action=\"{}\",result=\"{}\"", a.action, a.result);
        hub.metrics.count("kituo_bot_actions_total", &labels, 1);
        turn.audit.push((
            format!("contact:{contact_id}"),
            format!("bot_action:{}", a.action),
            format!("order:{}", a.number),
            serde_json::json!({"result": a.result, "email": a.email, "conversation_id": conversation_id}).to_string(),
        ));
        turn.messages.push(NewMessage::ours(Author::System, ACTIVITY_AUTHOR, &a.note, true));
    }
}
