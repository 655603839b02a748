//! The widget protocol's frames, parsed at the edge: what a widget may send ([`ClientFrame`],
//! each refusal with its code) and what the server sends ([`ServerFrame`]). No IO.

use crate::domain::{AttachmentRef, Author};
use serde::{Deserialize, Serialize};

/// Frames a widget sends, parsed at the edge.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub(super) enum ClientFrame {
    Message {
        text: String,
        #[serde(default)]
        client_msg_id: Option<String>,
    },
    Resume {
        after_seq: i64,
    },
    Identify {
        email: String,
        #[serde(default)]
        name: Option<String>,
        hmac: String,
    },
    Typing {},
    /// The customer's rating of the resolution (`rating` 1–5, optional `comment`).
    Csat {
        rating: i64,
        #[serde(default)]
        comment: Option<String>,
    },
}

const CLIENT_TYPES: &[&str] = &["message", "resume", "identify", "typing", "csat"];

/// Frames the server sends.
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(super) enum ServerFrame<'a> {
    Session {
        visitor_token: &'a str,
        conversation_id: &'a str,
    },
    Ack {
        client_msg_id: Option<&'a str>,
        id: &'a str,
        seq: i64,
    },
    Message {
        id: &'a str,
        seq: i64,
        author: Author,
        author_name: &'a str,
        text: &'a str,
        created_at: String,
        /// Answers offered as buttons; a click sends the same text as a message. Absent when
        /// none (older widgets ignore the field).
        #[serde(skip_serializing_if = "none_offered")]
        quick_replies: &'a [String],
        /// Files the message carries (`id`, `name`, `content_type`, `size`, `url`); absent when none.
        #[serde(skip_serializing_if = "Option::is_none")]
        attachments: Option<&'a [AttachmentRef]>,
    },
    Typing {
        author: Author,
    },
    Identified {
        email: &'a str,
    },
    /// The conversation was resolved: the customer may rate it (one rating per resolution).
    CsatRequest {
        conversation_id: &'a str,
    },
    /// The rating was stored.
    CsatRecorded {
        rating: i64,
    },
    /// Who is helping: the assigned agent's display name (null when nobody is).
    Agent {
        name: Option<&'a str>,
    },
    Error {
        code: &'a str,
        message: &'a str,
        /// Set when the refused frame was a message that carried one.
        #[serde(skip_serializing_if = "Option::is_none")]
        client_msg_id: Option<&'a str>,
    },
}

fn none_offered(quick_replies: &&[String]) -> bool {
    quick_replies.is_empty()
}

/// A refused frame: its error code and a human-readable message.
pub(super) struct Refusal {
    pub code: &'static str,
    pub message: String,
}

fn refuse(code: &'static str, message: impl Into<String>) -> Refusal {
    Refusal { code, message: message.into() }
}

/// Parses one text frame, distinguishing bad JSON, unknown types and malformed frames.
pub(super) fn parse_frame(text: &str) -> Result<ClientFrame, Refusal> {
    // A good frame is parsed once; only a refused one is looked at again to say what is wrong.
    if let Ok(frame) = serde_json::from_str::<ClientFrame>(text) {
        return Ok(frame);
    }
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| refuse("bad_json", format!("frame is not valid JSON: {e}")))?;
    let Some(kind) = value.get("type").and_then(|t| t.as_str()).map(str::to_string) else {
        return Err(refuse("bad_frame", "frame needs a string \"type\""));
    };
    if !CLIENT_TYPES.contains(&kind.as_str()) {
        return Err(refuse("unknown_type", format!("unknown frame type {kind:?}")));
    }
    serde_json::from_value(value).map_err(|e| refuse("bad_frame", format!("malformed {kind} frame: {e}")))
}

/// [`parse_frame`] for the fuzz targets (`fuzz/`): the frame's type, or the refusal's code and
/// message. Not part of the API.
#[doc(hidden)]
pub fn decode_frame(text: &str) -> Result<&'static str, (&'static str, String)> {
    let kind = match parse_frame(text).map_err(|r| (r.code, r.message))? {
        ClientFrame::Message { .. } => "message",
        ClientFrame::Resume { .. } => "resume",
        ClientFrame::Identify { .. } => "identify",
        ClientFrame::Typing {} => "typing",
        ClientFrame::Csat { .. } => "csat",
    };
    Ok(kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_classified_at_the_edge() {
        assert!(matches!(
            parse_frame(r#"{"type":"message","text":"hi","client_msg_id":"a"}"#),
            Ok(ClientFrame::Message { .. })
        ));
        assert_eq!(parse_frame("not json").err().map(|r| r.code), Some("bad_json"));
        assert_eq!(parse_frame(r#"{"type":"dance"}"#).err().map(|r| r.code), Some("unknown_type"));
        assert_eq!(parse_frame(r#"{"type":"message"}"#).err().map(|r| r.code), Some("bad_frame"));
        assert_eq!(parse_frame(r#"{"text":"x"}"#).err().map(|r| r.code), Some("bad_frame"));
        assert_eq!(parse_frame(r#"{"type":"resume","after_seq":"x"}"#).err().map(|r| r.code), Some("bad_frame"));
        assert!(matches!(parse_frame(r#"{"type":"typing"}"#), Ok(ClientFrame::Typing {})));
        assert!(matches!(parse_frame(r#"{"type":"csat","rating":5}"#), Ok(ClientFrame::Csat { rating: 5, .. })));
        assert_eq!(parse_frame(r#"{"type":"csat","rating":"five"}"#).err().map(|r| r.code), Some("bad_frame"));
        assert_eq!(parse_frame(r#"{"type":"csat","rating":4.5}"#).err().map(|r| r.code), Some("bad_frame"));
    }

    #[test]
    fn attachments_serialise_as_the_protocol_names_them() {
        let file = AttachmentRef {
            id: "a1".into(),
            name: "photo.png".into(),
            content_type: "image/png".into(),
            size: 3,
            url: "/api/attachments/a1".into(),
        };
        let files = [file];
        let frame = ServerFrame::Message {
            id: "m",
            seq: 1,
            author: Author::Customer,
            author_name: "Customer",
            text: "📎 photo.png",
            created_at: String::new(),
            quick_replies: &[],
            attachments: Some(&files),
        };
        let json = serde_json::to_value(&frame).unwrap();
        assert_eq!(
            json["attachments"],
            serde_json::json!([{"id": "a1", "name": "photo.png", "content_type": "image/png", "size": 3,
                                "url": "/api/attachments/a1"}])
        );
    }
}
