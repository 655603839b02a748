//! Files in messages: an uploaded file's row is recorded through the hub, and the message that
//! carries it (a customer's upload, an agent's reply) is linked to it before it is published,
//! so consoles and the widget receive the message with its `attachments`.

use super::{Ack, Hub, Inbound, Result};
use crate::domain::MessageView;

impl Hub {
    /// [`Hub::receive_from`] for a message that carries uploaded files (`attachments`: ids of
    /// files already stored for this conversation and not yet sent). The files are linked to
    /// the customer's message before it is published, so every watcher sees them with it.
    pub async fn receive_with_files(
        &self,
        conversation_id: &str,
        inbound: Inbound<'_>,
        client: Option<std::net::IpAddr>,
        attachments: &[String],
    ) -> Result<Ack> {
        self.receive_inner(conversation_id, inbound, client, &mut super::HeldState::default(), attachments, None).await
    }

    /// Records an uploaded file's row (the bytes are already on disk); a message carries it
    /// later ([`Hub::receive_with_files`], [`Hub::agent_message_with_files`]).
    pub async fn store_attachment(&self, file: &crate::store::NewStoredFile) -> Result<()> {
        self.store.insert_attachment(file).await?;
        Ok(())
    }

    /// Gives `attachments` to the just-committed `message` (before it is published). A failure
    /// leaves the message without its files (logged): the message itself is already stored.
    pub(super) async fn link_files(&self, message: &mut MessageView, attachments: &[String]) {
        if attachments.is_empty() {
            return;
        }
        match self.store.link_attachments(&message.conversation_id, &message.id, attachments).await {
            Ok(linked) => message.attachments = linked,
            Err(e) => tracing::error!(error = %e, message_id = %message.id, "cannot link attachments to their message"),
        }
    }

    /// The conversation of an existing widget visitor (`None` for an unknown token; unlike
    /// [`Hub::visitor_session`] this never starts a visitor).
    pub async fn visitor_conversation(&self, token: &str) -> Result<Option<String>> {
        if token.is_empty() || token.len() > 128 {
            return Ok(None);
        }
        Ok(self.store.web_visitor(&super::token_hash(token)).await?.map(|(_, conversation_id)| conversation_id))
    }
}

impl Hub {
    /// Counts one widget upload under each limit key (see `web::upload_limits`), forgetting
    /// counts from before `prune_before`.
    pub async fn record_upload(
        &self,
        keys: &[String],
        at: crate::domain::Millis,
        prune_before: crate::domain::Millis,
    ) -> Result<()> {
        Ok(self.store.record_upload(keys, at, prune_before).await?)
    }
}
