//! Gateway events → hub calls. Says where a Discord message was written (a DM, a new message in
//! the support channel, another channel of the server), creates the thread, shows typing, and
//! hands the message to the hub: its resolve finds the conversation (a support thread is answered
//! only for the customer it was opened for) and stores the message once per Discord message id
//! (`discord:<id>`) however often the gateway delivers it.

use crate::domain::{Channel, Verification};
use crate::hub::{Hub, Inbound, Resolution, Sender, Thread};
use serenity::all::{
    AutoArchiveDuration, ChannelId, Context, CreateThread, EventHandler, Interaction, Message, MessageType, Ready,
    ResumedEvent,
};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Discord's error code for "a thread has already been created for this message".
const THREAD_ALREADY_CREATED: isize = 160_004;
/// Discord limits thread names to 100 characters.
const THREAD_NAME_MAX: usize = 100;

pub struct Handler {
    hub: Arc<Hub>,
    support_channel: Option<ChannelId>,
    locks: KeyedLocks,
}

/// Where a message was written, as far as support goes.
enum Place {
    Dm,
    /// The support channel: the message starts a conversation in a thread of its own.
    Support,
    /// Any other channel of the server: ours only if it is one of our support threads and the
    /// writer the customer it was opened for (the hub decides).
    Thread,
}

#[derive(Debug, thiserror::Error)]
enum Error {
    #[error(transparent)]
    Hub(#[from] crate::hub::Error),
    #[error("Discord: {0}")]
    Discord(#[from] serenity::Error),
}

impl Handler {
    pub fn new(hub: Arc<Hub>, support_channel: Option<ChannelId>) -> Handler {
        Handler { hub, support_channel, locks: KeyedLocks::default() }
    }

    async fn on_message(&self, ctx: &Context, msg: &Message) -> Result<(), Error> {
        let me = ctx.cache.current_user().id;
        // Never answer ourselves, another bot, a webhook or Discord's system messages: two bots
        // answering each other would never stop.
        if msg.author.bot || msg.author.system || msg.author.id == me || msg.webhook_id.is_some() {
            return Ok(());
        }
        if !matches!(msg.kind, MessageType::Regular | MessageType::InlineReply) {
            return Ok(());
        }
        if msg.content.trim().is_empty() && msg.attachments.is_empty() {
            return Ok(());
        }
        let place = if msg.guild_id.is_none() {
            Place::Dm
        } else if Some(msg.channel_id) == self.support_channel {
            Place::Support
        } else {
            Place::Thread
        };
        // One message at a time per Discord channel, so two quick messages neither race to
        // create two conversations nor overtake each other more than the gateway already may.
        self.locks.run(msg.channel_id.get(), self.deliver(ctx, msg, place)).await
    }

    #[tracing::instrument(skip_all, fields(discord_message_id = %msg.id))]
    async fn deliver(&self, ctx: &Context, msg: &Message, place: Place) -> Result<(), Error> {
        let external_id = format!("discord:{}", msg.id);
        let user = msg.author.id.to_string();
        let (reply_channel, thread, kind) = match place {
            Place::Dm => (msg.channel_id, Thread::Key(format!("dm:{user}")), "dm"),
            Place::Support => {
                // A replay after a resume is answered already: asked before a second thread is
                // created for it (the hub's resolve below asks again, for every place).
                if self.hub.received(&external_id).await? {
                    tracing::debug!("message already stored; not answering twice");
                    return Ok(());
                }
                let thread = self.create_thread(ctx, msg).await?;
                (thread, Thread::Key(thread_key(thread)), "thread")
            }
            // Only the customer the thread was opened for talks to the bot there; others
            // (community members, staff typing in Discord) are left alone.
            Place::Thread => (msg.channel_id, Thread::Own(thread_key(msg.channel_id)), "thread"),
        };
        let meta =
            serde_json::json!({"discord_channel_id": reply_channel.to_string(), "discord_kind": kind}).to_string();
        let sender = Sender {
            kind: "discord",
            value: user,
            verification: Verification::None,
            name: Some(msg.author.name.clone()),
        };
        let resolved = self.hub.resolve(Channel::Discord, &sender, thread, Some(&external_id), &meta).await?;
        let (contact_id, conversation_id) = match resolved {
            Resolution::Open { contact_id, conversation_id, .. } => (contact_id, conversation_id),
            Resolution::Duplicate => {
                tracing::debug!("message already stored; not answering twice");
                return Ok(());
            }
            Resolution::NotOurs => {
                tracing::debug!("not a support thread, or someone else's; ignored");
                return Ok(());
            }
        };
        // Typing first: the reply (sent later by the outbox) ends it.
        if let Err(e) = reply_channel.broadcast_typing(&ctx.http).await {
            tracing::debug!(error = %e, "cannot show typing");
        }
        if let Err(e) = self.hub.set_contact_avatar(&contact_id, &msg.author.face()).await {
            tracing::warn!(error = %e, "cannot store the Discord avatar");
        }
        let (text, files) = super::attachments::keep(&self.hub, &conversation_id, &msg.content, &msg.attachments).await;
        let inbound =
            Inbound { text: &text, client_msg_id: None, external_id: Some(&external_id), channel_meta: Some(&meta) };
        self.hub.receive_with_files(&conversation_id, inbound, None, &files).await?;
        Ok(())
    }

    /// A public thread on the customer's message in the support channel.
    async fn create_thread(&self, ctx: &Context, msg: &Message) -> Result<ChannelId, Error> {
        let builder = CreateThread::new(thread_name(&msg.author.name, &msg.content))
            .auto_archive_duration(AutoArchiveDuration::OneDay);
        match msg.channel_id.create_thread_from_message(&ctx.http, msg.id, builder).await {
            Ok(thread) => Ok(thread.id),
            // A thread started from a message has the message's id.
            Err(serenity::Error::Http(serenity::http::HttpError::UnsuccessfulRequest(r)))
                if r.error.code == THREAD_ALREADY_CREATED =>
            {
                Ok(ChannelId::new(msg.id.get()))
            }
            Err(e) => Err(e.into()),
        }
    }
}

#[serenity::async_trait]
impl EventHandler for Handler {
    async fn ready(&self, _ctx: Context, ready: Ready) {
        tracing::info!(bot = %ready.user.name, bot_id = %ready.user.id, "Discord gateway ready");
        self.hub.metrics.set_connection("discord", true);
    }

    async fn resume(&self, _ctx: Context, _event: ResumedEvent) {
        tracing::info!("Discord gateway session resumed");
        self.hub.metrics.set_connection("discord", true);
    }

    async fn interaction_create(&self, ctx: Context, interaction: Interaction) {
        if let Interaction::Component(click) = interaction {
            super::rating::on_click(&self.hub, &ctx, &click).await;
        }
    }

    async fn message(&self, ctx: Context, msg: Message) {
        if let Err(e) = self.on_message(&ctx, &msg).await {
            tracing::warn!(error = %e, discord_message_id = %msg.id, "Discord message not handled");
        }
    }
}

fn thread_key(channel: ChannelId) -> String {
    format!("thread:{channel}")
}

/// "username: first words of the message", within Discord's 100 characters.
fn thread_name(username: &str, content: &str) -> String {
    let first = content.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or("support request");
    let name = format!("{username}: {first}");
    if name.chars().count() <= THREAD_NAME_MAX {
        return name;
    }
    name.chars().take(THREAD_NAME_MAX - 1).collect::<String>() + "…"
}

/// One async mutex per key, dropped when nobody holds or waits for it.
#[derive(Default)]
struct KeyedLocks {
    // A std mutex: held only to look up or remove an entry, never across an await.
    map: Mutex<HashMap<u64, Arc<tokio::sync::Mutex<()>>>>,
}

impl KeyedLocks {
    async fn run<F: Future>(&self, key: u64, work: F) -> F::Output {
        let lock = self.map.lock().expect("lock map poisoned: a holder panicked").entry(key).or_default().clone();
        let out = {
            let _held = lock.lock().await;
            work.await
        };
        let mut map = self.map.lock().expect("lock map poisoned: a holder panicked");
        // Only the map's copy and ours left: nobody is waiting.
        if Arc::strong_count(&lock) == 2 {
            map.remove(&key);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thread_names_fit_discord() {
        assert_eq!(thread_name("amina", "\n where is my order?\nthanks"), "amina: where is my order?");
        assert_eq!(thread_name("amina", ""), "amina: support request");
        let long = thread_name("amina", &"x".repeat(300));
        assert_eq!(long.chars().count(), THREAD_NAME_MAX);
        assert!(long.ends_with('…'));
    }

    #[tokio::test]
    async fn keyed_locks_serialise_per_key_and_clean_up() {
        let locks = Arc::new(KeyedLocks::default());
        let order = Arc::new(Mutex::new(Vec::new()));
        let (a, b) = (locks.clone(), locks.clone());
        let (oa, ob) = (order.clone(), order.clone());
        let first = tokio::spawn(async move {
            a.run(1, async {
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                oa.lock().unwrap().push("first");
            })
            .await
        });
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        let second = tokio::spawn(async move { b.run(1, async { ob.lock().unwrap().push("second") }).await });
        first.await.unwrap();
        second.await.unwrap();
        assert_eq!(*order.lock().unwrap(), ["first", "second"]);
        assert!(locks.map.lock().unwrap().is_empty());
    }
}
