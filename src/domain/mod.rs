//! Pure domain types shared by every layer: ids, locales, authors, conversation status,
//! verification levels and the message view sent to clients. No IO lives here.

mod delivery;
pub mod files;
pub mod ownership;
pub mod records;
pub use delivery::OutboxItem;
pub use ownership::Ownership;

use serde::{Deserialize, Serialize};
use std::fmt;

/// Milliseconds since the Unix epoch: the one timestamp representation in storage.
pub type Millis = i64;

pub fn now_ms() -> Millis {
    let now = time::OffsetDateTime::now_utc();
    (now.unix_timestamp_nanos() / 1_000_000) as Millis
}

/// RFC 3339 rendering of a stored timestamp (UTC, millisecond precision).
pub fn rfc3339(ms: Millis) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let fmt = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");
    t.format(&fmt).unwrap_or_default()
}

/// A random identifier: 24 lowercase hex characters (96 bits).
pub fn new_id() -> String {
    hex::encode(rand::random::<[u8; 12]>())
}

/// An identifier that sorts by creation time: the Unix time in milliseconds (6 bytes, big-endian)
/// then 6 random bytes, as 24 lowercase hex characters like [`new_id`]. For rows written on the
/// hot path (messages, audit entries, proof attempts, window events): an index on a random key
/// takes each new row on a random page, and SQLite writes every page a commit touched to its
/// log; on a time-ordered key the rows of one commit share the index's last page (measured: the
/// message-id index was 30 % of the log's pages). It shows when the row was made and has only
/// 48 random bits, so never use it for anything that must be unguessable (tokens, attachments,
/// rating links).
pub fn new_ordered_id() -> String {
    let ms = u64::try_from(now_ms()).unwrap_or(0).to_be_bytes();
    let mut bytes = [0u8; 12];
    bytes[..6].copy_from_slice(&ms[2..]);
    bytes[6..].copy_from_slice(&rand::random::<[u8; 6]>());
    hex::encode(bytes)
}

/// Message text without control characters: tab, line feed and carriage return stay, every
/// other C0/C1 control and DEL goes (a NUL cannot be stored in PostgreSQL's `text`, and terminal
/// escapes have no place in a chat). Borrows when there is nothing to drop, as nearly always.
pub fn without_controls(text: &str) -> std::borrow::Cow<'_, str> {
    let unwanted = |c: char| c.is_control() && !matches!(c, '\t' | '\n' | '\r');
    if text.contains(unwanted) {
        std::borrow::Cow::Owned(text.chars().filter(|&c| !unwanted(c)).collect())
    } else {
        std::borrow::Cow::Borrowed(text)
    }
}

/// A secret token: 64 hex characters (256 bits).
pub fn new_secret() -> String {
    hex::encode(rand::random::<[u8; 32]>())
}

/// Languages the bot speaks. English is the default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Locale {
    #[default]
    En,
    Sw,
}

impl Locale {
    pub const ALL: [Locale; 2] = [Locale::En, Locale::Sw];

    pub fn as_str(self) -> &'static str {
        match self {
            Locale::En => "en",
            Locale::Sw => "sw",
        }
    }

    pub fn parse(s: &str) -> Option<Locale> {
        match s {
            "en" => Some(Locale::En),
            "sw" => Some(Locale::Sw),
            _ => None,
        }
    }
}

impl fmt::Display for Locale {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who wrote a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Author {
    Customer,
    Bot,
    Agent,
    System,
}

impl Author {
    pub fn as_str(self) -> &'static str {
        match self {
            Author::Customer => "customer",
            Author::Bot => "bot",
            Author::Agent => "agent",
            Author::System => "system",
        }
    }

    pub fn parse(s: &str) -> Option<Author> {
        match s {
            "customer" => Some(Author::Customer),
            "bot" => Some(Author::Bot),
            "agent" => Some(Author::Agent),
            "system" => Some(Author::System),
            _ => None,
        }
    }
}

/// Who owns a conversation right now: bot → queued → assigned → resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ConversationStatus {
    Bot,
    Queued,
    Assigned,
    Resolved,
}

impl ConversationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ConversationStatus::Bot => "bot",
            ConversationStatus::Queued => "queued",
            ConversationStatus::Assigned => "assigned",
            ConversationStatus::Resolved => "resolved",
        }
    }

    pub fn parse(s: &str) -> Option<ConversationStatus> {
        match s {
            "bot" => Some(ConversationStatus::Bot),
            "queued" => Some(ConversationStatus::Queued),
            "assigned" => Some(ConversationStatus::Assigned),
            "resolved" => Some(ConversationStatus::Resolved),
            _ => None,
        }
    }
}

/// Our channel kinds ("channel" is ours; Discord's channel is a `discord_channel_id`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    Web,
    Email,
    Discord,
}

impl Channel {
    pub fn parse(s: &str) -> Option<Channel> {
        match s {
            "web" => Some(Channel::Web),
            "email" => Some(Channel::Email),
            "discord" => Some(Channel::Discord),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Web => "web",
            Channel::Email => "email",
            Channel::Discord => "discord",
        }
    }
}

/// How strongly a contact's email identity is proven. Anything above `None` allows the bot to
/// disclose orders and invoices placed with that email.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verification {
    /// Claimed but not proven (e.g. typed into a form).
    None,
    /// The customer typed the email that is on an order or invoice together with its number.
    OrderEmail,
    /// The embedding site vouched for the email with an HMAC signed by the widget secret.
    Hmac,
    /// The message arrived from that address over the email channel.
    EmailChannel,
}

impl Verification {
    pub fn as_str(self) -> &'static str {
        match self {
            Verification::None => "none",
            Verification::OrderEmail => "order_email",
            Verification::Hmac => "hmac",
            Verification::EmailChannel => "email_channel",
        }
    }
}

/// What an agent may do: agents handle conversations; admins also manage the system.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Agent,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Agent => "agent",
            Role::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "agent" => Some(Role::Agent),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }
}

/// An agent's availability, set by the agent; `offline` also follows from closing the console.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Presence {
    Online,
    Away,
    Offline,
}

impl Presence {
    pub fn as_str(self) -> &'static str {
        match self {
            Presence::Online => "online",
            Presence::Away => "away",
            Presence::Offline => "offline",
        }
    }

    pub fn parse(s: &str) -> Option<Presence> {
        match s {
            "online" => Some(Presence::Online),
            "away" => Some(Presence::Away),
            "offline" => Some(Presence::Offline),
            _ => None,
        }
    }
}

/// A stored message as clients see it (the widget's `message` frame minus its `type`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MessageView {
    pub id: String,
    pub conversation_id: String,
    pub seq: i64,
    pub author: Author,
    pub author_name: String,
    pub text: String,
    pub private: bool,
    pub created_at: Millis,
    /// `"activity"` for what the bot did in the back office (see [`ACTIVITY_AUTHOR`]); absent
    /// for ordinary messages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Answers the bot offers with this message (the widget shows them as buttons that send
    /// the same text); empty for most messages.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub quick_replies: Vec<String>,
    /// Files sent with this message (an upload from the widget or the console); empty for most.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<AttachmentRef>,
}

/// A stored file as a message carries it: what clients need to show it and fetch it from
/// `/api/attachments/{id}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttachmentRef {
    pub id: String,
    /// The sanitised original file name (for display and downloads only; never a path).
    pub name: String,
    /// The type found in the file's first bytes (never the name's extension).
    pub content_type: String,
    pub size: i64,
    /// Where it is fetched: `/api/attachments/{id}` for uploads (staff and the owning
    /// visitor), `/api/email/attachments/{id}` for files kept from a mail (staff).
    pub url: String,
}

/// The author name of the `system` messages that record a bot action (an order cancelled, a
/// return opened, an invoice mailed). Stored like any message; the name marks its kind.
pub const ACTIVITY_AUTHOR: &str = "Kituo activity";

/// The kind of a stored message, from its author and author name.
pub fn message_kind(author: Author, author_name: &str) -> Option<String> {
    (author == Author::System && author_name == ACTIVITY_AUTHOR).then(|| "activity".to_string())
}

/// Lowercased, trimmed email address; `None` when the text is not shaped like one.
pub fn normalize_email(raw: &str) -> Option<String> {
    let s = raw.trim().trim_matches(|c: char| c == '<' || c == '>').to_lowercase();
    let (local, domain) = s.split_once('@')?;
    let ok = !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !s.chars().any(|c| c.is_whitespace() || c == ',' || c == ';')
        && !domain.contains('@')
        && s.len() <= 254;
    ok.then_some(s)
}

/// Lowercase without diacritics (`"Ñandú Café"` → `"nandu cafe"`).
pub fn fold(text: &str) -> String {
    unicode_normalization::UnicodeNormalization::nfd(text)
        .filter(|c| !unicode_normalization::char::is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_dropped_and_layout_kept() {
        assert!(matches!(without_controls("habari, é 🎉\tok\r\n"), std::borrow::Cow::Borrowed(_)));
        assert_eq!(without_controls("a\u{0}b\u{7}\u{1b}[1mc\u{7f}\u{85}d"), "ab[1mcd");
        assert_eq!(without_controls("\u{0}\u{0}"), "");
    }

    #[test]
    fn email_normalisation() {
        assert_eq!(normalize_email(" Amina@Example.CO.tz ").as_deref(), Some("amina@example.co.tz"));
        assert_eq!(normalize_email("<a@b.io>").as_deref(), Some("a@b.io"));
        assert_eq!(normalize_email("not an email"), None);
        assert_eq!(normalize_email("a@b"), None);
        assert_eq!(normalize_email("a@@b.com"), None);
    }

    #[test]
    fn timestamps_render_as_rfc3339() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339(1_790_000_000_123), "2026-09-21T14:13:20.123Z");
    }
}
