//! A delivery the outbox hands to a channel: the stored reply with what the channel needs to
//! address it (read by the store, sent by a `ChannelSender`).

use super::MessageView;

/// One reply to deliver, with what the channel needs to address it.
#[derive(Debug, Clone)]
pub struct OutboxItem {
    pub outbox_id: String,
    pub attempts: i64,
    pub message: MessageView,
    pub channel: String,
    pub thread_key: Option<String>,
    /// The conversation's channel data (JSON), e.g. subject and references for email.
    pub channel_meta: String,
    /// The contact's identity on this channel (email address, Discord user id).
    pub recipient: Option<String>,
    pub contact_name: Option<String>,
    /// A mail that is not a reply (a one-time code): JSON `{to, subject, body}`.
    pub payload: Option<String>,
}
