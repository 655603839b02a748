//! The hub: the one place an inbound message becomes state. It resolves the conversation,
//! asks the bot (or stays quiet when a person owns the conversation), commits the customer
//! message, the replies and the dialogue state in one transaction, and publishes the stored
//! messages to whoever watches the conversation.
//!
//! channel → hub (resolve → bot → store) → bus → channel

pub mod bus;

use crate::backoffice::BackOffice;
use crate::bot::{Bot, DialogueState, Input};
use crate::domain::{Author, ConversationStatus, MessageView, Verification, new_secret};
use crate::store::{self, NewIdentity, NewMessage, Store, Turn};
use bus::{Bus, Event};
use sha2::{Digest, Sha256};
use std::sync::{Arc, RwLock};

pub const BOT_NAME: &str = "Kituo";

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Store(#[from] store::Error),
    #[error(transparent)]
    Bot(#[from] crate::bot::dialogue::Error),
    #[error("conversation not found")]
    NotFound,
    #[error("conversation is too busy, try again")]
    Busy,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What the customer's client gets once its message is durably stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Ack {
    pub id: String,
    pub seq: i64,
}

/// A web visitor's session: who they are and which conversation they are in.
#[derive(Debug, Clone)]
pub struct VisitorSession {
    pub visitor_token: String,
    pub contact_id: String,
    pub conversation_id: String,
}

pub struct Hub {
    store: Store,
    backoffice: Arc<dyn BackOffice>,
    bot: RwLock<Arc<Bot>>,
    bus: Bus,
}

fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

impl Hub {
    pub fn new(store: Store, backoffice: Arc<dyn BackOffice>, bot: Bot) -> Hub {
        Hub {
            store,
            backoffice,
            bot: RwLock::new(Arc::new(bot)),
            bus: Bus::default(),
        }
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn bus(&self) -> &Bus {
        &self.bus
    }

    /// The rule set in force; a swap takes effect for the next message of every conversation.
    pub fn bot(&self) -> Arc<Bot> {
        self.bot
            .read()
            .expect("bot lock poisoned: a holder panicked")
            .clone()
    }

    pub fn swap_bot(&self, bot: Bot) {
        *self
            .bot
            .write()
            .expect("bot lock poisoned: a holder panicked") = Arc::new(bot);
    }

    /// Resumes the visitor of `token`, or starts a new visitor with a new token.
    pub async fn visitor_session(&self, token: Option<&str>) -> Result<VisitorSession> {
        if let Some(token) = token.filter(|t| !t.is_empty() && t.len() <= 128)
            && let Some((contact_id, conversation_id)) =
                self.store.web_visitor(&token_hash(token)).await?
        {
            return Ok(VisitorSession {
                visitor_token: token.to_string(),
                contact_id,
                conversation_id,
            });
        }
        let visitor_token = new_secret();
        let (contact_id, conversation_id) = self
            .store
            .create_web_visitor(&token_hash(&visitor_token))
            .await?;
        Ok(VisitorSession {
            visitor_token,
            contact_id,
            conversation_id,
        })
    }

    /// Records an email the embedding site vouched for (widget HMAC identify).
    pub async fn identify(&self, contact_id: &str, email: &str, name: Option<&str>) -> Result<()> {
        let identity = NewIdentity {
            kind: "email",
            value: email.to_string(),
            verification: Verification::Hmac,
        };
        self.store.add_identity(contact_id, &identity, name).await?;
        Ok(())
    }

    /// Stores a customer message with the bot's replies and publishes them. Idempotent per
    /// `client_msg_id`: a repeat returns the first ack and stores nothing.
    #[tracing::instrument(skip_all, fields(conversation_id = %conversation_id))]
    pub async fn customer_message(
        &self,
        conversation_id: &str,
        text: &str,
        client_msg_id: Option<&str>,
    ) -> Result<Ack> {
        if let Some(cmid) = client_msg_id
            && let Some(m) = self
                .store
                .message_by_client_id(conversation_id, cmid)
                .await?
        {
            return Ok(Ack {
                id: m.id,
                seq: m.seq,
            });
        }
        // Optimistic concurrency: recompute the turn if the conversation moved meanwhile.
        for _ in 0..16 {
            let turn = self
                .compute_turn(conversation_id, text, client_msg_id)
                .await?;
            match self.store.commit_turn(&turn).await {
                Ok(stored) => {
                    let ack = Ack {
                        id: stored[0].id.clone(),
                        seq: stored[0].seq,
                    };
                    self.publish(stored);
                    return Ok(ack);
                }
                Err(store::Error::Conflict) => continue,
                Err(store::Error::Duplicate) => {
                    let cmid = client_msg_id.unwrap_or_default();
                    let m = self
                        .store
                        .message_by_client_id(conversation_id, cmid)
                        .await?
                        .ok_or(Error::Busy)?;
                    return Ok(Ack {
                        id: m.id,
                        seq: m.seq,
                    });
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(Error::Busy)
    }

    async fn compute_turn(
        &self,
        conversation_id: &str,
        text: &str,
        client_msg_id: Option<&str>,
    ) -> Result<Turn> {
        let conv = self
            .store
            .conversation(conversation_id)
            .await?
            .ok_or(Error::NotFound)?;
        let state: DialogueState = serde_json::from_str(&conv.dialogue_state).unwrap_or_else(|e| {
            tracing::warn!(error = %e, "unreadable dialogue state; starting afresh");
            DialogueState::default()
        });
        // A customer writing into a resolved conversation reopens it with the bot.
        let status = match conv.status {
            ConversationStatus::Resolved => ConversationStatus::Bot,
            s => s,
        };
        let mut messages = vec![NewMessage {
            author: Author::Customer,
            author_name: "Customer".into(),
            text: text.to_string(),
            client_msg_id: client_msg_id.map(str::to_string),
            private: false,
        }];
        let mut turn = Turn {
            conversation_id: conv.conversation_id.clone(),
            contact_id: conv.contact_id.clone(),
            expected_seq: conv.last_seq,
            status,
            locale: conv.locale,
            dialogue_state: conv.dialogue_state.clone(),
            messages: Vec::new(),
            identities: Vec::new(),
        };
        if matches!(status, ConversationStatus::Bot | ConversationStatus::Queued) {
            let verified = self.store.verified_emails(&conv.contact_id).await?;
            let bot = self.bot();
            let outcome = bot
                .respond(
                    Input {
                        text,
                        state,
                        locale: conv.locale,
                        status,
                        verified_emails: &verified,
                    },
                    self.backoffice.as_ref(),
                )
                .await?;
            messages.extend(outcome.replies.into_iter().map(|text| NewMessage {
                author: Author::Bot,
                author_name: BOT_NAME.into(),
                text,
                client_msg_id: None,
                private: false,
            }));
            turn.status = outcome.status;
            turn.locale = outcome.locale;
            turn.dialogue_state =
                serde_json::to_string(&outcome.state).unwrap_or_else(|_| "{}".into());
            turn.identities = outcome
                .verified
                .into_iter()
                .map(|email| NewIdentity {
                    kind: "email",
                    value: email,
                    verification: Verification::OrderEmail,
                })
                .collect();
        }
        turn.messages = messages;
        Ok(turn)
    }

    fn publish(&self, stored: Vec<MessageView>) {
        for m in stored {
            let conversation_id = m.conversation_id.clone();
            self.bus
                .publish(&conversation_id, Event::Message(Arc::new(m)));
        }
    }

    /// Tells the conversation's other watchers that `author` is typing.
    pub fn typing(&self, conversation_id: &str, author: Author) {
        self.bus.publish(conversation_id, Event::Typing { author });
    }
}
