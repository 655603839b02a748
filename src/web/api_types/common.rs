//! Shapes shared by many operations (and by the console socket): an agent, a conversation
//! summary, a message, the error body, and the enums they use. Each `From` maps a store row
//! to exactly the JSON the API has always sent.

use crate::domain::{AttachmentRef, MessageView, rfc3339};
use serde::Serialize;
use utoipa::ToSchema;

/// An optional stored time as RFC 3339, or null.
pub fn time(ms: Option<i64>) -> Option<String> {
    ms.map(rfc3339)
}

/// Every API error.
#[derive(Serialize, ToSchema)]
#[schema(as = Error)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Serialize, ToSchema)]
pub struct ErrorDetail {
    pub code: String,
    /// For `invalid`, starts with the field name.
    pub message: String,
}

/// The role of an agent or an API token.
#[derive(ToSchema)]
#[schema(as = Role)]
#[serde(rename_all = "lowercase")]
#[allow(dead_code)] // schema only: the value is `domain::Role`
pub enum RoleSchema {
    Agent,
    Admin,
}

/// An agent's availability.
#[derive(ToSchema)]
#[schema(as = Presence)]
#[serde(rename_all = "lowercase")]
#[allow(dead_code)] // schema only: the value is `domain::Presence`
pub enum PresenceSchema {
    Online,
    Away,
    Offline,
}

/// Who owns a conversation: bot → queued → assigned → resolved.
#[derive(ToSchema)]
#[schema(as = ConversationStatus)]
#[serde(rename_all = "lowercase")]
#[allow(dead_code)] // schema only: the value is `domain::ConversationStatus`
pub enum StatusSchema {
    Bot,
    Queued,
    Assigned,
    Resolved,
}

/// Who wrote a message.
#[derive(ToSchema)]
#[schema(as = Author)]
#[serde(rename_all = "lowercase")]
#[allow(dead_code)] // schema only: the value is `domain::Author`
pub enum AuthorSchema {
    Customer,
    Bot,
    Agent,
    System,
}

/// A staff member.
#[derive(Serialize, ToSchema)]
pub struct Agent {
    pub id: String,
    pub email: String,
    pub name: String,
    #[schema(value_type = RoleSchema)]
    pub role: crate::domain::Role,
    #[schema(value_type = PresenceSchema)]
    pub presence: crate::domain::Presence,
    /// Auto-assignment maximum.
    pub capacity: i64,
    /// Assigned open conversations.
    pub load: i64,
    pub active: bool,
    pub teams: Vec<String>,
}

impl From<&crate::store::Agent> for Agent {
    fn from(a: &crate::store::Agent) -> Agent {
        Agent {
            id: a.agent_id.clone(),
            email: a.email.clone(),
            name: a.name.clone(),
            role: a.role,
            presence: a.presence,
            capacity: a.capacity,
            load: a.load,
            active: a.active,
            teams: a.teams.clone(),
        }
    }
}

/// The caller and the CSRF token its cookie session needs.
#[derive(Serialize, ToSchema)]
pub struct SessionInfo {
    pub agent: Agent,
    /// Send as `X-CSRF-Token`; null for bearer tokens.
    #[schema(required)]
    pub csrf_token: Option<String>,
}

/// `{"agent": …}`
#[derive(Serialize, ToSchema)]
pub struct AgentResponse {
    pub agent: Agent,
}

/// A list of agents.
#[derive(Serialize, ToSchema)]
pub struct AgentList {
    pub agents: Vec<Agent>,
}

/// A stored file as a message carries it.
#[derive(Serialize, ToSchema)]
#[schema(as = Attachment)]
pub struct AttachmentJson {
    pub id: String,
    pub name: String,
    /// Found from the file's first bytes.
    pub content_type: String,
    pub size: i64,
    /// Where to fetch it (`/api/attachments/{id}` or `/api/email/attachments/{id}`).
    pub url: String,
}

impl From<&AttachmentRef> for AttachmentJson {
    fn from(a: &AttachmentRef) -> AttachmentJson {
        AttachmentJson {
            id: a.id.clone(),
            name: a.name.clone(),
            content_type: a.content_type.clone(),
            size: a.size,
            url: a.url.clone(),
        }
    }
}

/// A message of a conversation.
#[derive(Serialize, ToSchema)]
pub struct Message {
    pub id: String,
    pub conversation_id: String,
    /// +1 per message in a conversation.
    pub seq: i64,
    #[schema(value_type = AuthorSchema)]
    pub author: crate::domain::Author,
    pub author_name: String,
    pub text: String,
    /// Staff note.
    pub private: bool,
    pub created_at: String,
    /// `web`, `email` or `discord`.
    pub channel: String,
    /// `activity` on system messages that record what the bot did in the back office.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Files; absent when there are none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<AttachmentJson>,
}

impl Message {
    pub fn new(m: &MessageView, channel: &str) -> Message {
        Message {
            id: m.id.clone(),
            conversation_id: m.conversation_id.clone(),
            seq: m.seq,
            author: m.author,
            author_name: m.author_name.clone(),
            text: m.text.clone(),
            private: m.private,
            created_at: rfc3339(m.created_at),
            channel: channel.to_string(),
            kind: m.kind.clone(),
            attachments: m.attachments.iter().map(AttachmentJson::from).collect(),
        }
    }
}

/// `{"message": …}`
#[derive(Serialize, ToSchema)]
pub struct MessageResponse {
    pub message: Message,
}

/// The contact a conversation is with.
#[derive(Serialize, ToSchema)]
pub struct ContactRef {
    pub id: String,
    pub name: Option<String>,
    pub email: Option<String>,
    pub avatar_url: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct AssigneeRef {
    pub id: String,
    pub name: Option<String>,
}

/// One SLA clock.
#[derive(Serialize, ToSchema)]
pub struct SlaClock {
    pub target_s: i64,
    pub due_at: Option<String>,
    /// Business seconds left; negative once breached.
    pub left_s: i64,
    pub breached: bool,
    pub stopped: bool,
}

/// The conversation's SLA clocks (null where no target applies).
#[derive(Serialize, ToSchema)]
pub struct SlaClocks {
    pub first_response: Option<SlaClock>,
    pub resolution: Option<SlaClock>,
}

impl From<&crate::queue::sla::SlaView> for SlaClocks {
    fn from(v: &crate::queue::sla::SlaView) -> SlaClocks {
        let clock = |c: &Option<crate::queue::sla::ClockView>| {
            c.as_ref().map(|c| SlaClock {
                target_s: c.target_s,
                due_at: time(c.due_at),
                left_s: c.left_ms / 1000,
                breached: c.breached,
                stopped: c.stopped,
            })
        };
        SlaClocks { first_response: clock(&v.first_response), resolution: clock(&v.resolution) }
    }
}

#[derive(Serialize, ToSchema)]
pub struct LastMessage {
    pub text: String,
    pub author: String,
    pub created_at: String,
}

/// The customer's rating of a resolved conversation.
#[derive(Serialize, ToSchema)]
pub struct CsatRating {
    pub rating: i64,
    pub comment: Option<String>,
}

/// Why a conversation matched a search (`GET /api/conversations?q=`).
#[derive(Serialize, ToSchema)]
pub struct SearchInfo {
    pub score: f64,
    /// `contact` and/or `message`.
    pub matched: Vec<&'static str>,
    /// Plain text around the match.
    pub snippet: String,
    /// Character ranges `[start, end)` in `snippet` to mark.
    #[schema(value_type = Vec<Vec<u64>>)]
    pub highlights: Vec<[usize; 2]>,
}

/// A conversation as lists and the console show it.
#[derive(Serialize, ToSchema)]
pub struct ConversationSummary {
    pub id: String,
    #[schema(value_type = StatusSchema)]
    pub status: crate::domain::ConversationStatus,
    /// `web`, `email` or `discord`.
    pub channel: String,
    pub contact: ContactRef,
    pub assignee: Option<AssigneeRef>,
    pub team: Option<String>,
    /// Queue order, higher first: low -10, normal 0, high 10, urgent 20.
    pub priority: i64,
    /// `low`, `normal`, `high` or `urgent`.
    pub priority_name: &'static str,
    pub sla: Option<SlaClocks>,
    /// What the bot collected at handoff, in a line.
    pub summary: Option<String>,
    /// 1-based place in the queue, for queued conversations.
    pub queue_position: Option<i64>,
    pub unread: i64,
    pub last_message: Option<LastMessage>,
    pub queued_at: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    /// The conversation's labels (REST only; the console socket leaves them out).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub labels: Option<Vec<String>>,
    /// The customer's rating, or null (REST only).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<CsatRating>)]
    pub csat: Option<Option<CsatRating>>,
    /// Only in search results.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub search: Option<SearchInfo>,
}

impl From<&crate::store::ConversationSummary> for ConversationSummary {
    fn from(s: &crate::store::ConversationSummary) -> ConversationSummary {
        ConversationSummary {
            id: s.id.clone(),
            status: s.status,
            channel: s.channel.clone(),
            contact: ContactRef {
                id: s.contact_id.clone(),
                name: s.contact_name.clone(),
                email: s.contact_email.clone(),
                avatar_url: s.contact_avatar_url.clone(),
            },
            assignee: s.assignee_id.as_ref().map(|id| AssigneeRef { id: id.clone(), name: s.assignee_name.clone() }),
            team: s.team.clone(),
            priority: s.priority,
            priority_name: crate::queue::sla::priority_name(s.priority),
            sla: s.sla.as_ref().map(SlaClocks::from),
            summary: s.summary.clone(),
            queue_position: s.queue_position,
            unread: s.unread,
            last_message: s.last_message.as_ref().map(|(text, author, at)| LastMessage {
                text: text.clone(),
                author: author.clone(),
                created_at: rfc3339(*at),
            }),
            queued_at: time(s.queued_at),
            created_at: rfc3339(s.created_at),
            updated_at: rfc3339(s.updated_at),
            labels: Some(s.labels.clone()),
            csat: None,
            search: None,
        }
    }
}

/// `{"conversation": …}`
#[derive(Serialize, ToSchema)]
pub struct ConversationResponse {
    pub conversation: ConversationSummary,
}

/// `{"conversations": […]}`
#[derive(Serialize, ToSchema)]
pub struct ConversationList {
    pub conversations: Vec<ConversationSummary>,
}
