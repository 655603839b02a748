//! Bodies of the search, email and attachment APIs (`search_api.rs`, `email_api.rs`,
//! `attachments.rs`).

use super::common::AttachmentJson;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The filter parameters of `GET /api/conversations`, with the same values.
#[derive(ToSchema)]
#[allow(dead_code)] // schema only: the value is `search_api::Filters`
pub struct ViewFilters {
    pub status: Option<String>,
    pub channel: Option<String>,
    pub team: Option<String>,
    pub label: Option<String>,
    pub assignee: Option<String>,
    pub since: Option<String>,
    pub until: Option<String>,
}

/// A saved view: a name for a search and its filters.
#[derive(Serialize, ToSchema)]
pub struct SavedView {
    pub id: String,
    pub name: String,
    pub q: String,
    #[schema(value_type = ViewFilters)]
    pub filters: serde_json::Value,
}

impl From<&crate::store::SavedView> for SavedView {
    fn from(v: &crate::store::SavedView) -> SavedView {
        SavedView {
            id: v.view_id.clone(),
            name: v.name.clone(),
            q: v.query.clone(),
            filters: serde_json::from_str(&v.filters).unwrap_or_else(|_| serde_json::json!({})),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct SavedViewList {
    pub views: Vec<SavedView>,
}

#[derive(Serialize, ToSchema)]
pub struct SavedViewResponse {
    pub view: SavedView,
}

/// `POST /api/views`
#[derive(ToSchema)]
#[allow(dead_code)] // schema only: the value is `search_api::ViewBody`
pub struct NewView {
    /// 1 to 60 characters, unique per agent.
    pub name: String,
    /// A search as `GET /api/conversations?q=` takes it.
    pub q: Option<String>,
    pub filters: Option<ViewFilters>,
}

/// What the console notifies an agent of, and whether it plays a sound.
#[derive(Serialize, Deserialize, ToSchema)]
#[schema(as = NotificationPrefs)]
pub struct Notifications {
    /// A conversation is assigned to me.
    pub assigned_to_me: bool,
    /// A customer writes in a conversation assigned to me.
    pub customer_message: bool,
    /// A conversation joins the queue.
    pub new_in_queue: bool,
    /// Play a short tone with each notification.
    pub sound: bool,
}

impl From<crate::store::NotificationPrefs> for Notifications {
    fn from(p: crate::store::NotificationPrefs) -> Notifications {
        Notifications {
            assigned_to_me: p.assigned_to_me,
            customer_message: p.customer_message,
            new_in_queue: p.new_in_queue,
            sound: p.sound,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct NotificationsResponse {
    pub notifications: Notifications,
}

/// `PUT /api/me/notifications`: any subset of the flags; the others keep their value.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NotificationsPatch {
    pub assigned_to_me: Option<bool>,
    pub customer_message: Option<bool>,
    pub new_in_queue: Option<bool>,
    pub sound: Option<bool>,
}

/// A mail that could not be taken in.
#[derive(Serialize, ToSchema)]
pub struct QuarantinedMail {
    pub id: String,
    pub mailbox: String,
    pub uid_validity: i64,
    pub uid: i64,
    pub reason: String,
    pub sender: Option<String>,
    pub subject: Option<String>,
    pub message_id: Option<String>,
    pub size: i64,
    pub created_at: String,
}

impl From<&crate::store::QuarantinedMail> for QuarantinedMail {
    fn from(m: &crate::store::QuarantinedMail) -> QuarantinedMail {
        QuarantinedMail {
            id: m.quarantine_id.clone(),
            mailbox: m.mailbox.clone(),
            uid_validity: m.uid_validity,
            uid: m.uid,
            reason: m.reason.clone(),
            sender: m.sender.clone(),
            subject: m.subject.clone(),
            message_id: m.rfc_message_id.clone(),
            size: m.size,
            created_at: crate::domain::rfc3339(m.created_at),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct QuarantineList {
    pub quarantine: Vec<QuarantinedMail>,
}

/// A file of a stored mail.
#[derive(Serialize, ToSchema)]
pub struct EmailAttachment {
    pub id: String,
    pub name: String,
    pub content_type: String,
    pub size: i64,
    /// false: over the size cap, not kept.
    pub kept: bool,
}

/// A customer mail as it arrived (the console shows it stripped of quotes and signatures).
#[derive(Serialize, ToSchema)]
pub struct EmailOriginal {
    pub message_id: String,
    /// RFC 5322 Message-ID.
    pub email_message_id: String,
    pub from: String,
    pub subject: String,
    pub body: String,
    /// Converted from HTML.
    pub from_html: bool,
    pub attachments: Vec<EmailAttachment>,
}

impl From<&crate::store::EmailOriginal> for EmailOriginal {
    fn from(o: &crate::store::EmailOriginal) -> EmailOriginal {
        EmailOriginal {
            message_id: o.message_id.clone(),
            email_message_id: o.rfc_message_id.clone(),
            from: o.sender.clone(),
            subject: o.subject.clone(),
            body: o.body.clone(),
            from_html: o.from_html,
            attachments: o
                .attachments
                .iter()
                .map(|a| EmailAttachment {
                    id: a.attachment_id.clone(),
                    name: a.name.clone(),
                    content_type: a.content_type.clone(),
                    size: a.size,
                    kept: a.kept,
                })
                .collect(),
        }
    }
}

/// The customer message an upload from the widget became.
#[derive(Serialize, ToSchema)]
pub struct UploadedMessage {
    pub id: String,
    pub seq: i64,
}

/// The stored file; `message` only for uploads from the widget.
#[derive(Serialize, ToSchema)]
pub struct Uploaded {
    pub attachment: AttachmentJson,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<UploadedMessage>,
}
