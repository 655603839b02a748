//! Web visitors: the widget's visitor token (stored only hashed) and the session it resumes, and
//! the identity the embedding site vouches for (HMAC identify), named from the back office.

use super::{HeldState, Hub, Result};
use crate::domain::{Verification, new_secret};
use crate::store::NewIdentity;
use sha2::{Digest, Sha256};

/// A web visitor's session: who they are and which conversation they are in.
#[derive(Debug, Clone)]
pub struct VisitorSession {
    pub visitor_token: String,
    pub contact_id: String,
    pub conversation_id: String,
    /// The conversation was created for this session (so it has no agent and no messages yet).
    pub created: bool,
}

/// What the store keeps of a visitor token (never the token).
pub(super) fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

impl Hub {
    /// Resumes the visitor of `token`, or starts a new visitor with a new token; a new visitor's
    /// socket `held` is given the new conversation's turn state.
    pub async fn visitor_session(&self, token: Option<&str>, held: &mut HeldState) -> Result<VisitorSession> {
        if let Some(token) = token.filter(|t| !t.is_empty() && t.len() <= 128)
            && let Some((contact_id, conversation_id)) = self.store.web_visitor(&token_hash(token)).await?
        {
            return Ok(VisitorSession {
                visitor_token: token.to_string(),
                contact_id,
                conversation_id,
                created: false,
            });
        }
        let visitor_token = new_secret();
        let (contact_id, conv) = self.store.create_web_visitor(&token_hash(&visitor_token)).await?;
        let conversation_id = conv.conversation_id;
        // The socket holds the conversation as created, so its first message needs no read.
        // Nobody else knows the new contact yet to add an identity: its slot's generation now
        // is safe to keep (a later move only costs a read).
        held.created(self.identities.current(&contact_id));
        Ok(VisitorSession { visitor_token, contact_id, conversation_id, created: true })
    }

    /// Records an email the embedding site vouched for (widget HMAC identify).
    pub async fn identify(&self, contact_id: &str, email: &str, name: Option<&str>) -> Result<()> {
        let identity = NewIdentity { kind: "email", value: email.to_string(), verification: Verification::Hmac };
        self.store.add_identity(contact_id, &identity, name).await?;
        self.identities_added(contact_id);
        if name.is_none() {
            self.name_from_backoffice(contact_id, email).await;
        }
        Ok(())
    }

    /// Once an email is proven or vouched for, the contact is called by the name the back office
    /// has for it (not "Visitor"). Best effort: a back-office outage costs only the name.
    async fn name_from_backoffice(&self, contact_id: &str, email: &str) {
        if let Some(name) = self.backoffice_name(email).await
            && let Err(e) = self.store.name_contact_if_unnamed(contact_id, &name).await
        {
            tracing::warn!(error = %e, "cannot name the contact");
        }
    }

    /// The name the back office has on `email`'s orders, trimmed. Best effort: `None` when it
    /// has none or cannot be read (logged).
    pub(super) async fn backoffice_name(&self, email: &str) -> Option<String> {
        match self.backoffice.orders_of(email).await {
            Ok(orders) => {
                orders.into_iter().find_map(|o| o.customer_name.map(|n| n.trim().to_string()).filter(|n| !n.is_empty()))
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the back office for the contact's name");
                None
            }
        }
    }
}
