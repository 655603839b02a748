//! Resolve: which contact wrote, and which conversation an inbound message on a channel belongs
//! to — once, here, for every channel. The channel parses its wire format into a [`Thread`]
//! (a key, the clues of a mail's headers); the hub does the lookups:
//!
//! - de-duplication by the channel's message id (`email:<Message-ID>`, `discord:<id>`): a
//!   redelivered message resolves to [`Resolution::Duplicate`];
//! - threading: a thread key, or the clues in order (our own message ids signed with the
//!   conversation's secret, the customer side's earlier message ids, reply tokens);
//! - the owner check: a conversation of another contact is never joined. Where the channel
//!   says so ([`Thread::Own`]: a Discord support thread) the message is then not ours at all;
//!   elsewhere it starts a new conversation, so a forged header can at worst do that.
//!
//! Reads, and the contact and conversation rows a first message creates; the message itself is
//! stored by `receive`.

use super::{Hub, Result};
use crate::domain::{Channel, Verification};
use crate::store::NewIdentity;

/// Who sent an inbound message, as the channel knows them.
#[derive(Debug, Clone)]
pub struct Sender {
    /// Identity kind: "email" or "discord".
    pub kind: &'static str,
    /// Lowercase email address or Discord user id.
    pub value: String,
    /// What the channel proves: the email channel proves the sender's address.
    pub verification: Verification,
    pub name: Option<String>,
}

/// How a channel points at the conversation a message belongs to.
#[derive(Debug, Clone)]
pub enum Thread {
    /// Found by the adapter (e.g. an email's In-Reply-To).
    Existing(String),
    /// The channel's stable key for an ongoing conversation (e.g. a Discord DM or thread).
    Key(String),
    /// The key of a conversation the sender must own: an unknown key, or a conversation of
    /// another contact, makes the message not ours (a Discord support thread where others talk).
    Own(String),
    /// Evidence from the message's headers, strongest first (email threading).
    Clues(Vec<Clue>),
    New,
}

/// One piece of threading evidence a channel parsed from a message.
#[derive(Debug, Clone, PartialEq)]
pub enum Clue {
    /// One of our own messages (`message_id`), signed with its conversation's secret.
    Ours { message_id: String, token: ReplyToken },
    /// An earlier message of the customer's side, by its external id (`email:<Message-ID>`).
    External(String),
    /// A reply token, tried once no message clue matched (from a plus address or one of our
    /// Message-IDs).
    Token(ReplyToken),
}

/// A conversation named together with its secret: believed only when the secret matches the
/// `token` the channel keeps in the conversation's channel data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplyToken {
    pub secret: String,
    pub conversation_id: String,
}

/// Where an inbound message goes.
#[derive(Debug, Clone, PartialEq)]
pub enum Resolution {
    /// Stored before (the channel redelivered it): nothing to do.
    Duplicate,
    /// Not a message for support (see [`Thread::Own`]).
    NotOurs,
    Open {
        contact_id: String,
        conversation_id: String,
        /// The message continues the conversation its thread named (false: a new one).
        continues: bool,
    },
}

impl Hub {
    /// Whether a message with this channel id is stored already (a channel asks before a side
    /// effect of its own, e.g. creating a Discord thread; `resolve` checks it again).
    pub async fn received(&self, external_id: &str) -> Result<bool> {
        Ok(self.store.message_by_external_id(external_id).await?.is_some())
    }

    /// Resolves an inbound message (see the module docs). `external_id` is the channel's id of
    /// the message; `channel_meta` the channel data a new conversation starts with.
    #[tracing::instrument(level = "debug", skip_all, fields(channel = channel.as_str()))]
    pub async fn resolve(
        &self,
        channel: Channel,
        sender: &Sender,
        thread: Thread,
        external_id: Option<&str>,
        channel_meta: &str,
    ) -> Result<Resolution> {
        let thread = match thread {
            Thread::Own(key) => match self.store.conversation_by_thread_key(channel, &key).await? {
                Some(id) => Thread::Own(id),
                None => return Ok(Resolution::NotOurs),
            },
            other => other,
        };
        if let Some(ext) = external_id
            && self.store.message_by_external_id(ext).await?.is_some()
        {
            return Ok(Resolution::Duplicate);
        }
        if let Thread::Own(id) = &thread {
            let owner = self.store.conversation(id).await?.map(|c| c.contact_id);
            let writer = self.store.contact_by_identity(sender.kind, &sender.value).await?;
            if owner.is_none() || owner != writer {
                return Ok(Resolution::NotOurs);
            }
        }
        let thread = match thread {
            Thread::Clues(clues) => self.follow_clues(channel, &clues).await?.map_or(Thread::New, Thread::Existing),
            Thread::Own(id) => Thread::Existing(id),
            other => other,
        };
        let (contact_id, conversation_id, continues) = self.open(channel, sender, thread, channel_meta).await?;
        Ok(Resolution::Open { contact_id, conversation_id, continues })
    }

    /// The conversation the clues lead to, if any: the first clue that names a message (ours,
    /// with a good secret, or the customer side's), else the first good reply token (only
    /// [`Clue::Token`]s are tried as tokens).
    async fn follow_clues(&self, channel: Channel, clues: &[Clue]) -> Result<Option<String>> {
        for clue in clues {
            match clue {
                Clue::Ours { message_id, token } => {
                    if let Some(conv) = self.store.conversation_of_message(message_id).await?
                        && conv == token.conversation_id
                        && self.token_valid(channel, token).await?
                    {
                        return Ok(Some(conv));
                    }
                }
                Clue::External(id) => {
                    if let Some(m) = self.store.message_by_external_id(id).await? {
                        return Ok(Some(m.conversation_id));
                    }
                }
                Clue::Token(_) => {}
            }
        }
        let tokens = clues.iter().filter_map(|c| match c {
            Clue::Token(token) => Some(token),
            _ => None,
        });
        for token in tokens {
            if self.token_valid(channel, token).await? {
                return Ok(Some(token.conversation_id.clone()));
            }
        }
        Ok(None)
    }

    async fn token_valid(&self, channel: Channel, token: &ReplyToken) -> Result<bool> {
        #[derive(serde::Deserialize)]
        struct Secret {
            #[serde(default)]
            token: String,
        }
        Ok(match self.store.channel_meta(&token.conversation_id).await? {
            Some((of, meta)) if of == channel.as_str() => {
                let kept = serde_json::from_str::<Secret>(&meta).map(|s| s.token).unwrap_or_default();
                !kept.is_empty() && kept == token.secret
            }
            _ => false,
        })
    }

    /// Finds or starts the conversation an inbound message on `channel` belongs to: the
    /// contact by the sender's identity (created on first contact), then the conversation by
    /// `thread`. A thread of another contact is never joined: that starts a new conversation.
    pub async fn open_conversation(
        &self,
        channel: Channel,
        sender: &Sender,
        thread: Thread,
        channel_meta: &str,
    ) -> Result<(String, String)> {
        let (contact_id, conversation_id, _) = self.open(channel, sender, thread, channel_meta).await?;
        Ok((contact_id, conversation_id))
    }

    /// [`Hub::open_conversation`], and whether the conversation the thread named was joined.
    async fn open(
        &self,
        channel: Channel,
        sender: &Sender,
        thread: Thread,
        channel_meta: &str,
    ) -> Result<(String, String, bool)> {
        let contact_id = match self.store.contact_by_identity(sender.kind, &sender.value).await? {
            Some(id) => {
                if sender.verification != Verification::None {
                    let identity = NewIdentity {
                        kind: sender.kind,
                        value: sender.value.clone(),
                        verification: sender.verification,
                    };
                    self.store.add_identity(&id, &identity, None).await?;
                    self.identities_added(&id);
                }
                id
            }
            None => {
                self.store
                    .create_contact(sender.kind, &sender.value, sender.verification, sender.name.as_deref())
                    .await?
            }
        };
        let existing = match &thread {
            Thread::Existing(id) => Some(id.clone()),
            Thread::Key(key) | Thread::Own(key) => self.store.conversation_by_thread_key(channel, key).await?,
            Thread::Clues(clues) => self.follow_clues(channel, clues).await?,
            Thread::New => None,
        };
        if let Some(id) = existing
            && let Some(conv) = self.store.conversation(&id).await?
            && conv.contact_id == contact_id
        {
            return Ok((contact_id, id, true));
        }
        let key = match &thread {
            Thread::Key(k) | Thread::Own(k) => Some(k.as_str()),
            _ => None,
        };
        let id = self.store.create_conversation(&contact_id, channel, key, channel_meta).await?;
        Ok((contact_id, id, false))
    }
}
