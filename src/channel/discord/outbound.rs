//! Outbox → Discord: posts a stored reply into the conversation's DM or thread, split at
//! Discord's 2,000-character limit on line boundaries. Each part carries a nonce derived from the
//! outbox row with `enforce_nonce`, so when a retry repeats parts that already went out, Discord
//! answers with the earlier message instead of posting it again (for a few minutes).

use crate::domain::{Author, Channel, MessageView, OutboxItem};
use crate::hub::Hub;
use crate::hub::channel_files::OutgoingFile;
use crate::outbox::{ChannelSender, SendError, Sent};
use futures_util::future::BoxFuture;
use serenity::all::{ChannelId, CreateMessage, Http, Nonce, UserId};
use std::sync::Arc;

/// Discord's limit for one message's content.
pub const MESSAGE_LIMIT: usize = 2_000;
/// Discord's limit of files on one message.
const FILES_PER_MESSAGE: usize = 10;
/// "Cannot send messages to this user" (DMs closed, or the bot shares no server with them).
const CANNOT_MESSAGE_USER: isize = 50_007;

pub struct DiscordSender {
    http: Arc<Http>,
    hub: Arc<Hub>,
}

impl DiscordSender {
    pub fn new(http: Arc<Http>, hub: Arc<Hub>) -> DiscordSender {
        DiscordSender { http, hub }
    }

    async fn deliver(&self, item: &OutboxItem) -> Result<Sent, SendError> {
        let (channel, channel_meta) = self.target(item).await?;
        let parts = split_message(&body(&item.message), MESSAGE_LIMIT);
        let files = self.hub.message_files(&item.message.id).await.map_err(|e| SendError::Retry(e.to_string()))?;
        let rating = self.hub.open_rating_of(&item.message).await.map_err(|e| SendError::Retry(e.to_string()))?;
        for (i, message) in compose(parts, files, rating.as_deref()).into_iter().enumerate() {
            let message = message.nonce(Nonce::String(nonce(&item.outbox_id, i))).enforce_nonce(true);
            channel.send_message(&self.http, message).await.map_err(send_error)?;
        }
        Ok(Sent { channel_meta })
    }

    /// The Discord channel to post in, and new channel data when it had to be looked up.
    async fn target(&self, item: &OutboxItem) -> Result<(ChannelId, Option<String>), SendError> {
        let meta: serde_json::Value = serde_json::from_str(&item.channel_meta).unwrap_or_default();
        if let Some(id) = meta["discord_channel_id"].as_str().and_then(|s| s.parse::<u64>().ok()).filter(|id| *id != 0)
        {
            return Ok((ChannelId::new(id), None));
        }
        let key = item.thread_key.as_deref().unwrap_or("");
        if let Some(id) = key.strip_prefix("thread:").and_then(|s| s.parse::<u64>().ok()).filter(|id| *id != 0) {
            return Ok((ChannelId::new(id), None));
        }
        // A DM conversation without a channel id (e.g. started by an agent): open the DM.
        let user = item.recipient.as_deref().and_then(|s| s.parse::<u64>().ok()).filter(|id| *id != 0);
        match (key.starts_with("dm:"), user) {
            (true, Some(user)) => {
                let dm = UserId::new(user).create_dm_channel(&self.http).await.map_err(send_error)?;
                let mut meta = if meta.is_object() { meta } else { serde_json::json!({}) };
                meta["discord_channel_id"] = dm.id.to_string().into();
                meta["discord_kind"] = "dm".into();
                Ok((dm.id, Some(meta.to_string())))
            }
            _ => Err(SendError::Permanent("no Discord channel or user to reply to".into())),
        }
    }
}

impl ChannelSender for DiscordSender {
    fn channel(&self) -> Channel {
        Channel::Discord
    }

    fn send<'a>(&'a self, item: &'a OutboxItem) -> BoxFuture<'a, Result<Sent, SendError>> {
        Box::pin(self.deliver(item))
    }
}

/// What the customer reads: agents sign their replies (every message comes from the bot's account).
fn body(message: &MessageView) -> String {
    match message.author {
        Author::Agent => format!("**{}:** {}", message.author_name.replace('*', ""), message.text),
        _ => message.text.clone(),
    }
}

/// The messages of one reply: its text parts; the agent's files with the last part, at most
/// [`FILES_PER_MESSAGE`] a message (more follow in messages of their own); a resolution notice's
/// rating buttons on the last message.
fn compose(parts: Vec<String>, files: Vec<OutgoingFile>, rating: Option<&str>) -> Vec<CreateMessage> {
    let mut messages: Vec<CreateMessage> = parts.into_iter().map(|p| CreateMessage::new().content(p)).collect();
    let mut files = files.into_iter().peekable();
    let mut first = true;
    while files.peek().is_some() {
        let batch = super::attachments::uploads(files.by_ref().take(FILES_PER_MESSAGE).collect());
        let message = match messages.pop() {
            Some(last) if first => last.add_files(batch),
            other => {
                messages.extend(other);
                CreateMessage::new().add_files(batch)
            }
        };
        messages.push(message);
        first = false;
    }
    if let Some(csat_id) = rating
        && let Some(last) = messages.pop()
    {
        messages.push(last.components(super::rating::buttons(csat_id)));
    }
    messages
}

/// Discord accepts a string nonce of up to 25 characters: the outbox id (24) and the part.
fn nonce(outbox_id: &str, part: usize) -> String {
    let id: String = outbox_id.chars().take(24).collect();
    let digit = char::from_digit((part % 36) as u32, 36).unwrap_or('0');
    format!("{id}{digit}")
}

/// Retry unless Discord says it will never work: no such channel, a request it rejects as
/// malformed, or a user who does not accept the bot's DMs. Rate limits (429), server errors,
/// network trouble and missing permissions (which an admin can grant meanwhile) are retried.
fn send_error(e: serenity::Error) -> SendError {
    use serenity::http::HttpError;
    if let serenity::Error::Http(HttpError::UnsuccessfulRequest(r)) = &e {
        let status = r.status_code.as_u16();
        let text = format!("Discord answered {status} (code {}): {}", r.error.code, r.error.message);
        return if matches!(status, 400 | 404) || r.error.code == CANNOT_MESSAGE_USER {
            SendError::Permanent(text)
        } else {
            SendError::Retry(text)
        };
    }
    SendError::Retry(format!("Discord: {e}"))
}

fn utf16_len(s: &str) -> usize {
    s.chars().map(char::len_utf16).sum()
}

/// Splits `text` into parts of at most `limit` UTF-16 units (how Discord counts), breaking
/// between lines where possible, else at a space, else anywhere between characters. The line
/// break at a cut is dropped; nothing else is lost.
pub fn split_message(text: &str, limit: usize) -> Vec<String> {
    let limit = limit.max(1);
    let mut parts = Vec::new();
    let mut current = String::new();
    for line in text.split_inclusive('\n') {
        if utf16_len(&current) + utf16_len(line) <= limit {
            current.push_str(line);
            continue;
        }
        if !current.is_empty() {
            parts.push(std::mem::take(&mut current));
        }
        let mut rest = line;
        while utf16_len(rest) > limit {
            let cut = cut_point(rest, limit);
            parts.push(rest[..cut].to_string());
            rest = &rest[cut..];
        }
        current.push_str(rest);
    }
    if !current.is_empty() {
        parts.push(current);
    }
    parts
        .into_iter()
        .map(|p| p.strip_suffix('\n').map(str::to_string).unwrap_or(p))
        .filter(|p| !p.trim().is_empty())
        .collect()
}

/// Byte index to cut an over-long line at: after the last space that fits, else at the limit.
fn cut_point(line: &str, limit: usize) -> usize {
    let mut units = 0;
    let mut hard = 0;
    let mut soft = None;
    for (i, c) in line.char_indices() {
        units += c.len_utf16();
        if units > limit {
            break;
        }
        hard = i + c.len_utf8();
        if c == ' ' {
            soft = Some(hard);
        }
    }
    soft.filter(|s| *s > 0).unwrap_or(hard.max(line.chars().next().map_or(0, char::len_utf8)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_text_is_one_part() {
        assert_eq!(split_message("hello\nworld", 2000), ["hello\nworld"]);
        assert!(split_message("", 2000).is_empty());
    }

    #[test]
    fn splits_on_line_boundaries() {
        let line = format!("{}\n", "a".repeat(49));
        let text = line.repeat(90); // 4,500 characters
        let parts = split_message(&text, 2000);
        assert_eq!(parts.len(), 3);
        assert!(parts.iter().all(|p| p.chars().count() <= 2000));
        assert!(parts.iter().all(|p| p.lines().all(|l| l.len() == 49)), "no line is cut");
        assert_eq!(parts.join("\n") + "\n", text);
    }

    #[test]
    fn long_lines_break_at_spaces_then_anywhere() {
        let words = "word ".repeat(10); // 50 characters
        let parts = split_message(&words, 12);
        assert!(parts.iter().all(|p| p.len() <= 12), "{parts:?}");
        assert_eq!(parts.concat(), words);
        let solid = "x".repeat(25);
        assert_eq!(split_message(&solid, 10), ["x".repeat(10), "x".repeat(10), "x".repeat(5)]);
    }

    #[test]
    fn counts_like_discord() {
        let emoji = "😀".repeat(3); // 2 UTF-16 units each
        assert_eq!(split_message(&emoji, 4), ["😀😀", "😀"]);
    }

    #[test]
    fn files_ride_on_the_last_part_ten_at_a_time() {
        let file =
            |i: usize| OutgoingFile { name: format!("{i}.png"), content_type: "image/png".into(), bytes: vec![1] };
        let json = |m: &CreateMessage| serde_json::to_value(m).unwrap();
        let parts = vec!["one".to_string(), "two".to_string()];
        let messages = compose(parts, (0..12).map(file).collect(), Some("req"));
        assert_eq!(messages.len(), 3);
        let (a, b, c) = (json(&messages[0]), json(&messages[1]), json(&messages[2]));
        assert_eq!(a["attachments"].as_array().map_or(0, Vec::len), 0, "{a}");
        assert_eq!((b["content"].as_str(), b["attachments"].as_array().map(Vec::len)), (Some("two"), Some(10)), "{b}");
        assert_eq!(c["attachments"].as_array().map(Vec::len), Some(2), "{c}");
        assert_eq!(c["components"][0]["components"].as_array().map(Vec::len), Some(5), "buttons last: {c}");
        assert_eq!(compose(Vec::new(), vec![file(0)], None).len(), 1, "files alone make a message");
        assert!(compose(Vec::new(), Vec::new(), Some("req")).is_empty());
    }

    #[test]
    fn nonces_fit_and_differ_per_part() {
        let id = "0123456789abcdef01234567";
        assert_eq!(nonce(id, 0).len(), 25);
        assert_ne!(nonce(id, 1), nonce(id, 2));
    }
}
