//! Ratings given with a channel's own controls (Discord's buttons under the resolution
//! notice), beside the widget card, the rating page and a number sent as a reply
//! ([`super::csat`]). One rating per resolution holds here too: the store refuses a second.

use super::csat::CSAT_AUTHOR;
use super::{Hub, Result};
use crate::domain::{Author, Locale, MessageView};
use crate::store::RateRefusal;
use minijinja::context;

/// Why a rating from a channel control was not stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ControlRefusal {
    /// Someone other than the conversation's customer pressed it.
    NotTheCustomer,
    Refused(RateRefusal),
}

impl Hub {
    /// The rating request `message` asks for, when it is a resolution notice whose request is
    /// still open: the channel then offers rating controls with it.
    pub async fn open_rating_of(&self, message: &MessageView) -> Result<Option<String>> {
        if message.author != Author::System || message.author_name != CSAT_AUTHOR {
            return Ok(None);
        }
        let Some(request) = self.store.latest_csat(&message.conversation_id).await? else { return Ok(None) };
        Ok((request.message_id == message.id && request.rating.is_none()).then_some(request.csat_id))
    }

    /// Rates request `csat_id` for the channel identity `(kind, value)` that pressed a control;
    /// only the conversation's customer may. Returns the thanks to show them.
    pub async fn rate_by_control(
        &self,
        csat_id: &str,
        (kind, value): (&str, &str),
        rating: i64,
    ) -> Result<std::result::Result<String, ControlRefusal>> {
        let Some(request) = self.store.csat_request(csat_id).await? else {
            return Ok(Err(ControlRefusal::Refused(RateRefusal::NoRequest)));
        };
        let Some(conv) = self.store.conversation(&request.conversation_id).await? else {
            return Ok(Err(ControlRefusal::Refused(RateRefusal::NoRequest)));
        };
        if self.store.contact_by_identity(kind, value).await?.as_deref() != Some(conv.contact_id.as_str()) {
            return Ok(Err(ControlRefusal::NotTheCustomer));
        }
        if let Err(refused) = self.rate(csat_id, Some(&conv.conversation_id), rating, None).await? {
            return Ok(Err(ControlRefusal::Refused(refused)));
        }
        Ok(Ok(self.csat_thanks(conv.locale, rating)))
    }

    /// The thanks for a rating, in the conversation's language.
    pub(super) fn csat_thanks(&self, locale: Locale, rating: i64) -> String {
        self.bot().templates.render(locale, "csat_thanks", context! { rating => rating }).unwrap_or_else(|e| {
            tracing::error!(error = %e, "csat_thanks template failed");
            "Thank you for your rating.".into()
        })
    }
}
