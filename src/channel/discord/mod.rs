//! The Discord channel: a serenity bot. Inbound, the gateway's MESSAGE_CREATE events become hub
//! calls ([`handler`]), their files kept like uploads ([`attachments`]); outbound, the outbox
//! worker delivers bot and agent replies, with the agent's files, through serenity's REST
//! client ([`outbound`]); a resolution notice carries rating buttons, whose clicks arrive as
//! INTERACTION_CREATE ([`rating`]). Optionally, conversations queued for a person are announced
//! in a staff channel.
//!
//! - Direct messages: one conversation per Discord user (thread key `dm:<user id>`).
//! - The support channel: every message there gets its own Discord thread, created by the bot,
//!   and its own conversation (thread key `thread:<thread id>`); later messages of the same user
//!   in that thread continue it.
//!
//! This module owns the Discord wire protocol and never touches the store's tables: writes go
//! through the hub, reads through the store's query methods.

mod attachments;
mod handler;
mod outbound;
mod rating;

pub use outbound::split_message;

use crate::config::DiscordArgs;
use crate::domain::ConversationStatus;
use crate::hub::Hub;
use crate::hub::bus::AgentEvent;
use crate::outbox::ChannelSender;
use anyhow::Context;
use serenity::all::{
    ChannelId, ClientBuilder, CreateAllowedMentions, CreateMessage, GatewayIntents, Http, HttpBuilder,
};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;
use tokio_util::sync::CancellationToken;

/// Where Discord's REST API lives; any other base is used as a proxy (tests, API proxies).
pub const DISCORD_API: &str = "https://discord.com";

/// What the bot asks the gateway for. MESSAGE_CONTENT is privileged: it must be enabled for the
/// bot in the developer portal, or Discord closes the connection (4014).
pub fn intents() -> GatewayIntents {
    GatewayIntents::GUILD_MESSAGES | GatewayIntents::DIRECT_MESSAGES | GatewayIntents::MESSAGE_CONTENT
}

/// The parsed configuration. Not `Debug`: it holds the token.
#[derive(Clone)]
pub struct Settings {
    token: String,
    /// `None` for Discord itself.
    api_base: Option<String>,
    pub support_channel_id: Option<ChannelId>,
    pub staff_channel_id: Option<ChannelId>,
}

impl Settings {
    /// `Ok(None)` when no token is set (Discord is off).
    pub fn from_args(args: &DiscordArgs) -> anyhow::Result<Option<Settings>> {
        let Some(token) = args.token.as_ref().map(|t| t.expose().trim()).filter(|t| !t.is_empty()) else {
            return Ok(None);
        };
        if token.chars().any(char::is_whitespace) && !token.starts_with("Bot ") {
            anyhow::bail!("KITUO_DISCORD_TOKEN contains whitespace: paste the bot token alone");
        }
        let api_base = match args.api_base.as_deref().map(str::trim).filter(|b| !b.is_empty()) {
            None => None,
            Some(base) => {
                let base = base.trim_end_matches('/');
                let base = base.strip_suffix("/api/v10").unwrap_or(base).trim_end_matches('/');
                if !(base.starts_with("http://") || base.starts_with("https://")) || base.len() < "http://x".len() {
                    anyhow::bail!("KITUO_DISCORD_API_BASE must be an http:// or https:// URL, got {base:?}");
                }
                (base != DISCORD_API).then(|| base.to_string())
            }
        };
        let channel = |id: Option<u64>, name: &str| match id {
            Some(0) => anyhow::bail!("{name} must not be 0"),
            other => Ok(other.map(ChannelId::new)),
        };
        Ok(Some(Settings {
            token: token.to_string(),
            api_base,
            support_channel_id: channel(args.support_channel_id, "KITUO_DISCORD_SUPPORT_CHANNEL_ID")?,
            staff_channel_id: channel(args.staff_channel_id, "KITUO_DISCORD_STAFF_CHANNEL_ID")?,
        }))
    }

    /// A REST client for these settings. With a custom API base every request goes there, and
    /// serenity's own rate limiter is off (it ignores the base otherwise): rate limits then come
    /// back as 429 errors, which the outbox retries.
    pub fn http(&self) -> Http {
        let builder = HttpBuilder::new(&self.token)
            .default_allowed_mentions(CreateAllowedMentions::new().all_users(false).everyone(false));
        match &self.api_base {
            Some(base) => builder.proxy(base.clone()).ratelimiter_disabled(true).build(),
            None => builder.build(),
        }
    }
}

/// The gateway URL the bot will connect to, as `GET /api/v10/gateway` on the configured API
/// answers it. Tests use it to check they point at their own server before starting.
pub async fn gateway_url(args: &DiscordArgs) -> anyhow::Result<String> {
    let settings = Settings::from_args(args)?.context("no Discord token configured")?;
    Ok(settings.http().get_gateway().await.context("GET /api/v10/gateway failed")?.url)
}

/// A configured Discord channel.
#[derive(Clone)]
pub struct DiscordChannel {
    settings: Settings,
    /// The outbox sender's and staff announcements' REST client.
    http: Arc<Http>,
}

impl DiscordChannel {
    /// `Ok(None)` when Discord is not configured.
    pub async fn from_args(args: &DiscordArgs) -> anyhow::Result<Option<DiscordChannel>> {
        let Some(settings) = Settings::from_args(args)? else { return Ok(None) };
        let http = Arc::new(settings.http());
        Ok(Some(DiscordChannel { settings, http }))
    }

    pub fn sender(&self, hub: Arc<Hub>) -> Arc<dyn ChannelSender> {
        Arc::new(outbound::DiscordSender::new(self.http.clone(), hub))
    }

    /// Runs the gateway connection (serenity reconnects and resumes by itself) and the staff
    /// announcements until `token` is cancelled. A failed start is retried with backoff, except
    /// when Discord refuses the token or the intents: that needs a person.
    pub async fn run(self, hub: Arc<Hub>, token: CancellationToken) {
        let announcements = async {
            if let Some(staff) = self.settings.staff_channel_id {
                announce_queued(hub.bus().subscribe_agents(), self.http.clone(), staff, token.clone()).await;
            }
        };
        tokio::join!(announcements, self.gateway(&hub, &token));
    }

    async fn gateway(&self, hub: &Arc<Hub>, token: &CancellationToken) {
        let mut delay = Duration::from_secs(1);
        loop {
            match self.connect_once(hub, token).await {
                Ok(()) => return,
                Err(Stop::Fatal(e)) => {
                    tracing::error!(error = %e, "Discord channel stopped; fix the configuration and restart");
                    return;
                }
                Err(Stop::Retry(e)) => tracing::warn!(error = %e, retry_in = ?delay, "Discord gateway unavailable"),
            }
            tokio::select! {
                _ = token.cancelled() => return,
                _ = tokio::time::sleep(delay) => {}
            }
            delay = (delay * 2).min(Duration::from_secs(300));
        }
    }

    async fn connect_once(&self, hub: &Arc<Hub>, token: &CancellationToken) -> Result<(), Stop> {
        // Ask for the gateway ourselves first: serenity falls back to Discord's public gateway
        // when its own request fails, which must never happen behind a custom API base.
        let http = self.settings.http();
        let expected = http.get_gateway().await.map_err(classify)?.url;
        let handler = handler::Handler::new(hub.clone(), self.settings.support_channel_id);
        let mut client = ClientBuilder::new_with_http(http, intents())
            .event_handler(handler)
            .await
            .map_err(|e| Stop::Retry(e.to_string()))?;
        let actual = client.ws_url.lock().await.clone();
        if actual != expected {
            return Err(Stop::Retry(format!("gateway URL changed between requests ({expected} → {actual})")));
        }
        tracing::info!(gateway = %actual, "connecting to the Discord gateway");
        let shards = client.shard_manager.clone();
        let outcome = tokio::select! {
            result = client.start() => match result {
                Ok(()) => Err(Stop::Retry("the gateway connection ended".into())),
                Err(e) => Err(classify(e)),
            },
            _ = token.cancelled() => {
                shards.shutdown_all().await;
                Ok(())
            }
        };
        hub.metrics.set_connection("discord", false);
        outcome
    }
}

enum Stop {
    Retry(String),
    Fatal(String),
}

fn classify(e: serenity::Error) -> Stop {
    use serenity::gateway::GatewayError;
    use serenity::http::HttpError;
    match &e {
        serenity::Error::Gateway(
            GatewayError::InvalidAuthentication
            | GatewayError::InvalidGatewayIntents
            | GatewayError::DisallowedGatewayIntents,
        ) => Stop::Fatal(format!("{e} (check the token and that MESSAGE CONTENT intent is enabled)")),
        serenity::Error::Http(HttpError::UnsuccessfulRequest(r)) if r.status_code.as_u16() == 401 => {
            Stop::Fatal(format!("Discord refused the bot token: {e}"))
        }
        _ => Stop::Retry(e.to_string()),
    }
}

/// Posts a short note in the staff channel when a Discord conversation enters the queue. Each
/// queueing is announced once per process (keyed by the time it was queued).
async fn announce_queued(
    mut events: tokio::sync::broadcast::Receiver<Arc<crate::hub::bus::Published>>,
    http: Arc<Http>,
    staff: ChannelId,
    token: CancellationToken,
) {
    let mut announced: HashMap<String, i64> = HashMap::new();
    loop {
        let event = tokio::select! {
            _ = token.cancelled() => return,
            e = events.recv() => e,
        };
        let s = match event {
            Ok(p) => match &p.event {
                AgentEvent::Conversation(s) => s.clone(),
                _ => continue,
            },
            Err(RecvError::Lagged(n)) => {
                tracing::warn!(missed = n, "staff announcements fell behind; some may be missing");
                continue;
            }
            Err(RecvError::Closed) => return,
        };
        if s.channel != crate::domain::Channel::Discord.as_str() {
            continue;
        }
        let queued_at = match (s.status, s.queued_at) {
            (ConversationStatus::Queued, Some(at)) => at,
            _ => {
                announced.remove(&s.id);
                continue;
            }
        };
        if announced.insert(s.id.clone(), queued_at) == Some(queued_at) {
            continue;
        }
        let text = staff_note(&s);
        let note = CreateMessage::new().content(text).allowed_mentions(CreateAllowedMentions::new());
        if let Err(e) = staff.send_message(&http, note).await {
            tracing::warn!(error = %e, conversation_id = %s.id, "cannot announce a queued conversation");
        }
    }
}

fn staff_note(s: &crate::hub::ConversationSummary) -> String {
    let who = s.contact_name.as_deref().unwrap_or("A customer");
    let place = s.queue_position.map(|p| format!(" (#{p} in the queue)")).unwrap_or_default();
    let why = s.summary.as_deref().map(|t| format!("\n> {}", t.replace('\n', " "))).unwrap_or_default();
    let mut note = format!("New Discord conversation waiting for a person: **{who}**{place}, id `{}`{why}", s.id);
    if note.chars().count() > 1_900 {
        note = note.chars().take(1_900).collect::<String>() + "…";
    }
    note
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(token: Option<&str>, base: Option<&str>) -> DiscordArgs {
        DiscordArgs {
            token: token.map(Into::into),
            api_base: base.map(str::to_string),
            support_channel_id: Some(5),
            staff_channel_id: None,
        }
    }

    #[test]
    fn no_token_means_off() {
        assert!(Settings::from_args(&args(None, None)).unwrap().is_none());
        assert!(Settings::from_args(&args(Some("  "), None)).unwrap().is_none());
    }

    #[test]
    fn api_base_is_normalised_and_discord_itself_is_no_proxy() {
        let s = Settings::from_args(&args(Some("t"), Some("http://127.0.0.1:9/api/v10/"))).unwrap().unwrap();
        assert_eq!(s.api_base.as_deref(), Some("http://127.0.0.1:9"));
        let s = Settings::from_args(&args(Some("t"), Some("https://discord.com/"))).unwrap().unwrap();
        assert_eq!(s.api_base, None);
        assert!(Settings::from_args(&args(Some("t"), Some("ftp://x"))).is_err());
        assert_eq!(s.support_channel_id, Some(ChannelId::new(5)));
    }
}
