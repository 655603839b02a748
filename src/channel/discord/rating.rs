//! Rating a resolution on Discord with buttons. The resolution notice carries five buttons,
//! 1 to 5 (`csat:<request id>:<rating>`); a click arrives as INTERACTION_CREATE and is stored
//! through the hub, which takes one rating per resolution and only from the conversation's
//! customer. A number sent as a reply still works too (see `hub::csat`).
//!
//! Why buttons and not reactions: a click is one event naming the user and the rating, and
//! needs no extra gateway intents (reactions need the GUILD_MESSAGE_REACTIONS and
//! DIRECT_MESSAGE_REACTIONS intents, five REST calls from the bot to seed the emoji on every
//! notice, and a removed or second reaction would need its own meaning). Discord also requires
//! an answer to a click, so the customer sees the rating taken: the notice loses its buttons
//! and says thanks.

use crate::hub::Hub;
use crate::hub::RateRefusal;
use crate::hub::channel_rating::ControlRefusal;
use serenity::all::{
    ButtonStyle, ComponentInteraction, Context, CreateActionRow, CreateButton, CreateInteractionResponse,
    CreateInteractionResponseMessage,
};

const PREFIX: &str = "csat:";

/// The five rating buttons for request `csat_id`.
pub fn buttons(csat_id: &str) -> Vec<CreateActionRow> {
    let row = (1..=5)
        .map(|n| CreateButton::new(format!("{PREFIX}{csat_id}:{n}")).label(n.to_string()).style(ButtonStyle::Secondary))
        .collect();
    vec![CreateActionRow::Buttons(row)]
}

/// (request id, rating) of a rating button's custom id.
pub fn parse_custom_id(custom_id: &str) -> Option<(&str, i64)> {
    let (csat_id, rating) = custom_id.strip_prefix(PREFIX)?.rsplit_once(':')?;
    let rating: i64 = rating.parse().ok().filter(|r| (1..=5).contains(r))?;
    (!csat_id.is_empty()).then_some((csat_id, rating))
}

/// Handles a click on a rating button (other components are not ours and are left alone).
pub async fn on_click(hub: &Hub, ctx: &Context, click: &ComponentInteraction) {
    let Some((csat_id, rating)) = parse_custom_id(&click.data.custom_id) else { return };
    let user = click.user.id.to_string();
    let response = match hub.rate_by_control(csat_id, ("discord", &user), rating).await {
        Ok(Ok(thanks)) => CreateInteractionResponse::UpdateMessage(
            CreateInteractionResponseMessage::new()
                .content(format!("{}\n\n{thanks}", click.message.content))
                .components(Vec::new()),
        ),
        Ok(Err(ControlRefusal::NotTheCustomer)) => only_you("Only the customer of this conversation can rate it."),
        Ok(Err(ControlRefusal::Refused(RateRefusal::AlreadyRated))) => {
            only_you("This conversation has been rated already. Thank you!")
        }
        Ok(Err(ControlRefusal::Refused(_))) => only_you("This rating request is no longer open."),
        Err(e) => {
            tracing::warn!(error = %e, "cannot store a Discord rating");
            only_you("Your rating could not be saved; please try again.")
        }
    };
    if let Err(e) = click.create_response(&ctx.http, response).await {
        tracing::warn!(error = %e, "cannot answer a Discord rating click");
    }
}

/// An answer only the clicking user sees.
fn only_you(text: &str) -> CreateInteractionResponse {
    CreateInteractionResponse::Message(CreateInteractionResponseMessage::new().content(text).ephemeral(true))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn custom_ids_name_the_request_and_the_rating() {
        assert_eq!(parse_custom_id("csat:abc123:4"), Some(("abc123", 4)));
        for not in ["csat:abc:0", "csat:abc:6", "csat::3", "other:abc:3", "csat:abc", "csat:abc:x"] {
            assert_eq!(parse_custom_id(not), None, "{not}");
        }
    }
}
