//! What the hub does with the bot's back-office actions of a turn: count them in
//! `kituo_bot_actions_total`, audit them, and store an activity message for agents (author
//! `system`, private, `"kind":"activity"`), all in the turn's transaction.

use super::Hub;
use crate::bot::Bot;
use crate::bot::actions::ActionRecord;
use crate::bot::dialogue::Outcome;
use crate::domain::{ACTIVITY_AUTHOR, Author};
use crate::store::{self, NewMessage, Turn};
use minijinja::context;

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

/// Queues the invoice copy the bot promised, to the address on the invoice, hanging on the
/// turn's last activity message.
pub(super) fn invoice_mail(turn: &mut Turn, outcome: &Outcome, bot: &Bot) -> store::Result<()> {
    let Some(invoice) = &outcome.invoice_mail else { return Ok(()) };
    let locale = outcome.locale;
    let ctx = context! {
        invoice => crate::bot::render::invoice_value(invoice, locale), locale => locale.as_str(),
    };
    let render = |name: &str| {
        bot.templates
            .render(locale, name, ctx.clone())
            .map_err(|e| store::Error::Invalid(format!("template {name}: {e}")))
    };
    let payload = serde_json::json!({
        "to": invoice.customer_email.to_lowercase(),
        "subject": render("invoice_copy_subject")?,
        "body": render("invoice_copy_email")?,
    })
    .to_string();
    let index = turn.messages.iter().rposition(|m| m.author_name == ACTIVITY_AUTHOR).unwrap_or(turn.messages.len() - 1);
    turn.mails.push((index, payload));
    Ok(())
}
