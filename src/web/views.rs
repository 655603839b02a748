//! JSON shapes of the staff API and the console socket (one place, so REST and WebSocket agree).

use crate::domain::{MessageView, rfc3339};
use crate::store::{Agent, ConversationSummary};
use serde_json::{Value, json};

pub fn summary(s: &ConversationSummary) -> Value {
    json!({
        "id": s.id,
        "status": s.status,
        "channel": s.channel,
        "contact": {"id": s.contact_id, "name": s.contact_name, "email": s.contact_email, "avatar_url": s.contact_avatar_url},
        "assignee": s.assignee_id.as_ref().map(|id| json!({"id": id, "name": s.assignee_name})),
        "team": s.team,
        "priority": s.priority,
        "priority_name": crate::queue::sla::priority_name(s.priority),
        "sla": s.sla.as_ref().map(sla),
        "summary": s.summary,
        "queue_position": s.queue_position,
        "unread": s.unread,
        "last_message": s.last_message.as_ref().map(|(text, author, at)| json!({
            "text": text, "author": author, "created_at": rfc3339(*at)
        })),
        "queued_at": time(s.queued_at),
        "created_at": rfc3339(s.created_at),
        "updated_at": rfc3339(s.updated_at),
    })
}

/// SLA clocks: per kind, target, due time, business seconds left (negative once breached).
fn sla(v: &crate::queue::sla::SlaView) -> Value {
    let clock = |c: &Option<crate::queue::sla::ClockView>| {
        c.as_ref().map(|c| {
            json!({
                "target_s": c.target_s,
                "due_at": time(c.due_at),
                "left_s": c.left_ms / 1000,
                "breached": c.breached,
                "stopped": c.stopped,
            })
        })
    };
    json!({"first_response": clock(&v.first_response), "resolution": clock(&v.resolution)})
}

pub fn message(m: &MessageView, channel: &str) -> Value {
    let mut v = json!({
        "id": m.id,
        "conversation_id": m.conversation_id,
        "seq": m.seq,
        "author": m.author,
        "author_name": m.author_name,
        "text": m.text,
        "private": m.private,
        "created_at": rfc3339(m.created_at),
        "channel": channel,
    });
    if let Some(kind) = &m.kind {
        v["kind"] = json!(kind);
    }
    if !m.attachments.is_empty() {
        v["attachments"] = m.attachments.iter().map(super::attachments::attachment_json).collect();
    }
    v
}

pub fn agent(a: &Agent) -> Value {
    json!({
        "id": a.agent_id,
        "email": a.email,
        "name": a.name,
        "role": a.role,
        "presence": a.presence,
        "capacity": a.capacity,
        "load": a.load,
        "active": a.active,
        "teams": a.teams,
    })
}

/// An optional timestamp as RFC 3339 or null.
pub fn time(ms: Option<i64>) -> Value {
    ms.map_or(Value::Null, |t| Value::String(rfc3339(t)))
}
