//! The web chat widget's WebSocket (`GET /ws/chat`): frame parsing at the edge, per-connection
//! rate limiting, and delivery of the conversation's messages with seq/resume so a reconnecting
//! widget loses nothing. The protocol is documented in the README.

use crate::domain::{Author, MessageView, normalize_email, rfc3339};
use crate::hub::bus::Event;
use crate::hub::{self, VisitorSession};
use crate::security::SecurityEvent;
use crate::store::RateRefusal;
use crate::web::AppState;
use crate::web::client_addr::ClientIp;
use axum::Router;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::get;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use std::net::IpAddr;
use std::time::Instant;
use tokio::sync::broadcast::error::RecvError;

/// Longest message text a customer may send (characters).
pub const MAX_TEXT_CHARS: usize = 4000;
/// Largest WebSocket message accepted at all; larger ones close the socket (1009).
pub const MAX_FRAME_BYTES: usize = 64 * 1024;
const MAX_CLIENT_MSG_ID: usize = 128;
/// Message frames: burst and sustained rate per connection.
const BURST: f64 = 20.0;
const PER_SECOND: f64 = 5.0;
/// Bad or refused frames tolerated before the socket is closed (each good frame forgives one).
const MAX_VIOLATIONS: u32 = 50;
const RESUME_PAGE: i64 = 500;

pub fn router() -> Router<AppState> {
    Router::new().route("/ws/chat", get(upgrade))
}

#[derive(Deserialize)]
struct ConnectQuery {
    visitor_token: Option<String>,
}

async fn upgrade(
    ws: WebSocketUpgrade,
    Query(q): Query<ConnectQuery>,
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: axum::http::HeaderMap,
) -> Response {
    let origin = headers.get(axum::http::header::ORIGIN).and_then(|v| v.to_str().ok());
    if !state.settings.origin_allowed(origin) {
        use axum::response::IntoResponse;
        let hub = &state.hub;
        hub.security.record(&hub.metrics, SecurityEvent::OriginRefused, &ip.to_string(), "widget socket");
        return (axum::http::StatusCode::FORBIDDEN, "this site may not embed the chat widget").into_response();
    }
    let ws = ws
        .read_buffer_size(4 * 1024)
        .write_buffer_size(4 * 1024)
        .max_message_size(MAX_FRAME_BYTES)
        .max_frame_size(MAX_FRAME_BYTES);
    // One address holding too many sockets is told so in the protocol (the widget can show it;
    // a browser cannot read an HTTP refusal of an upgrade) and closed before any session exists.
    let Some(slot) = state.widget_slots.acquire(ip) else {
        tracing::debug!(%ip, "widget socket refused: address at its limit");
        state.hub.metrics.count("kituo_widget_sockets_refused_total", "", 1);
        state.hub.security.record(&state.hub.metrics, SecurityEvent::SocketCap, &ip.to_string(), "widget sockets");
        let limit = state.widget_slots.limit();
        return ws.on_upgrade(move |socket| refuse_socket(socket, limit));
    };
    ws.on_upgrade(move |socket| async move {
        let _slot = slot; // held while the socket lives
        let metrics_hub = state.hub.clone();
        crate::metrics::Metrics::gauge_add(&metrics_hub.metrics.widget_sockets, 1);
        let mut conn = Connection::new(socket, state, ip);
        if let Err(e) = conn.run(q.visitor_token).await {
            tracing::debug!(error = %e, "widget socket ended with an error");
        }
        crate::metrics::Metrics::gauge_add(&metrics_hub.metrics.widget_sockets, -1);
    })
}

/// Frames a widget sends, parsed at the edge.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
enum ClientFrame {
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
enum ServerFrame<'a> {
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
        attachments: Option<serde_json::Value>,
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

/// Answers a socket over its address's limit with an error frame and closes it (1013, try again
/// later).
async fn refuse_socket(mut socket: WebSocket, limit: usize) {
    let message = format!(
        "too many chat connections from your address (at most {limit} at once); close another chat or try again later"
    );
    let frame = ServerFrame::Error { code: "too_many_connections", message: &message, client_msg_id: None };
    let text = serde_json::to_string(&frame).expect("server frames always serialise");
    let close = CloseFrame { code: 1013, reason: Utf8Bytes::from_static("too many connections from this address") };
    if socket.send(Message::Text(Utf8Bytes::from(text))).await.is_ok() {
        let _ = socket.send(Message::Close(Some(close))).await;
    }
}

/// A refused frame: its error code and a human-readable message.
struct Refusal {
    code: &'static str,
    message: String,
}

fn refuse(code: &'static str, message: impl Into<String>) -> Refusal {
    Refusal { code, message: message.into() }
}

/// Parses one text frame, distinguishing bad JSON, unknown types and malformed frames.
fn parse_frame(text: &str) -> Result<ClientFrame, Refusal> {
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

struct Connection {
    socket: WebSocket,
    state: AppState,
    /// The client's address (the key of its security events).
    peer: IpAddr,
    session: Option<VisitorSession>,
    /// The conversation's turn state, so a message needs no read (see `hub::HeldState`).
    held: hub::HeldState,
    max_sent_seq: i64,
    tokens: f64,
    refilled: Instant,
    violations: u32,
    last_typing: Option<Instant>,
    /// The agent name last sent in an `agent` frame (frames go out only on a change).
    agent_sent: Option<String>,
}

type SocketResult = Result<(), axum::Error>;

impl Connection {
    fn new(socket: WebSocket, state: AppState, peer: IpAddr) -> Connection {
        Connection {
            socket,
            state,
            peer,
            session: None,
            held: hub::HeldState::default(),
            max_sent_seq: 0,
            tokens: BURST,
            refilled: Instant::now(),
            violations: 0,
            last_typing: None,
            agent_sent: None,
        }
    }

    async fn send(&mut self, frame: &ServerFrame<'_>) -> SocketResult {
        let text = serde_json::to_string(frame).expect("server frames always serialise");
        self.socket.send(Message::Text(Utf8Bytes::from(text))).await
    }

    async fn send_error(&mut self, code: &str, message: &str) -> SocketResult {
        self.send(&ServerFrame::Error { code, message, client_msg_id: None }).await
    }

    async fn refuse_message(&mut self, code: &str, message: &str, client_msg_id: Option<&str>) -> SocketResult {
        self.send(&ServerFrame::Error { code, message, client_msg_id }).await
    }

    async fn close(&mut self, code: u16, reason: &'static str) -> SocketResult {
        self.socket.send(Message::Close(Some(CloseFrame { code, reason: Utf8Bytes::from_static(reason) }))).await
    }

    async fn send_message(&mut self, m: &MessageView) -> SocketResult {
        if m.private {
            return Ok(());
        }
        self.max_sent_seq = self.max_sent_seq.max(m.seq);
        let frame = ServerFrame::Message {
            id: &m.id,
            seq: m.seq,
            author: m.author,
            author_name: &m.author_name,
            text: &m.text,
            created_at: rfc3339(m.created_at),
            quick_replies: &m.quick_replies,
            attachments: (!m.attachments.is_empty()).then(|| {
                m.attachments.iter().map(crate::web::attachments::attachment_json).collect::<serde_json::Value>()
            }),
        };
        let text = serde_json::to_string(&frame).expect("server frames always serialise");
        self.socket.send(Message::Text(Utf8Bytes::from(text))).await?;
        if m.author == Author::System && m.kind.is_none() {
            // A system line marks a change of hands or a resolution: say who helps now, and
            // ask for the rating if this line is the pending request's notice.
            Box::pin(self.after_system_message(&m.id)).await?;
        }
        Ok(())
    }

    async fn after_system_message(&mut self, message_id: &str) -> SocketResult {
        let Some(conversation_id) = self.session.as_ref().map(|s| s.conversation_id.clone()) else {
            return Ok(());
        };
        self.send_agent().await?;
        match self.state.hub.store().latest_csat(&conversation_id).await {
            Ok(Some(r)) if r.message_id == message_id && r.rating.is_none() => {
                self.send(&ServerFrame::CsatRequest { conversation_id: &conversation_id }).await
            }
            Ok(_) => Ok(()),
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the rating request");
                Ok(())
            }
        }
    }

    /// Tells the widget who is helping when that changed (the header shows the agent's name);
    /// nothing while no agent ever joined.
    async fn send_agent(&mut self) -> SocketResult {
        let Some(conversation_id) = self.session.as_ref().map(|s| s.conversation_id.clone()) else {
            return Ok(());
        };
        let store = self.state.hub.store();
        let name = match store.conversation(&conversation_id).await {
            Ok(Some(c)) => match c.assignee_id {
                Some(id) => store.agent(&id).await.ok().flatten().map(|a| a.name),
                None => None,
            },
            _ => None,
        };
        if name == self.agent_sent {
            return Ok(());
        }
        self.agent_sent = name;
        let frame = ServerFrame::Agent { name: self.agent_sent.as_deref() };
        let text = serde_json::to_string(&frame).expect("server frames always serialise");
        self.socket.send(Message::Text(Utf8Bytes::from(text))).await
    }

    /// The hub's futures are boxed where they are awaited: the connection's own future lives as
    /// long as the socket, and an unboxed call would embed the largest of them (several KiB)
    /// in every idle connection's state (measured: 10,000 idle sockets 179 → 140 MiB).
    async fn run(&mut self, token: Option<String>) -> SocketResult {
        let session = match Box::pin(self.state.hub.visitor_session(token.as_deref())).await {
            Ok(s) => s,
            Err(e) => {
                tracing::error!(error = %e, "cannot start a widget session");
                self.send_error("unavailable", "chat is temporarily unavailable, please retry").await?;
                return self.close(1011, "unavailable").await;
            }
        };
        let conversation_id = session.conversation_id.clone();
        // Subscribe before announcing the session so nothing stored afterwards is missed.
        let mut events = self.state.hub.bus().subscribe(&conversation_id);
        self.send(&ServerFrame::Session {
            visitor_token: &session.visitor_token,
            conversation_id: &session.conversation_id,
        })
        .await?;
        self.session = Some(session);
        Box::pin(self.send_agent()).await?;
        let shutdown = self.state.shutdown.clone();
        let result = loop {
            tokio::select! {
                _ = shutdown.cancelled() => break self.close(1001, "server shutting down").await,
                incoming = self.socket.recv() => match incoming {
                    None => break Ok(()),
                    Some(Err(e)) => {
                        let (hub, key) = (self.state.hub.clone(), self.peer.to_string());
                        if crate::web::ws_close::close_if_too_large(&mut self.socket, &hub, &e, &key, "widget frame").await {
                            break Ok(());
                        }
                        break Err(e);
                    }
                    Some(Ok(Message::Text(text))) => {
                        if let Err(e) = Box::pin(self.on_text(text.as_str())).await { break Err(e) }
                        if self.violations > MAX_VIOLATIONS {
                            break self.close(1008, "too many bad or rate-limited frames").await;
                        }
                    }
                    Some(Ok(Message::Binary(_))) => {
                        self.violations += 1;
                        if let Err(e) = self.send_error("bad_frame", "binary frames are not supported; send JSON text").await {
                            break Err(e);
                        }
                    }
                    Some(Ok(Message::Close(_))) => break Ok(()),
                    Some(Ok(_)) => {} // ping/pong are answered by the library
                },
                event = events.recv() => { self.held.note(&event); match event {
                    // A gap (events from another node can arrive out of order): send from the store, in order.
                    Ok(Event::Message(m)) if m.seq > self.max_sent_seq + 1 => {
                        let after = self.max_sent_seq;
                        if let Err(e) = Box::pin(self.resume(after)).await { break Err(e) }
                    }
                    Ok(Event::Message(m)) if m.seq > self.max_sent_seq => {
                        if let Err(e) = Box::pin(self.send_message(&m)).await { break Err(e) }
                    }
                    Ok(Event::Resync) => {
                        let after = self.max_sent_seq;
                        if let Err(e) = Box::pin(self.resume(after)).await { break Err(e) }
                    }
                    Ok(Event::Message(_)) => {}
                    Ok(Event::Typing { author }) if author != Author::Customer => {
                        if let Err(e) = self.send(&ServerFrame::Typing { author }).await { break Err(e) }
                    }
                    Ok(Event::Typing { .. }) => {}
                    Err(RecvError::Lagged(_)) => {
                        let after = self.max_sent_seq;
                        if let Err(e) = Box::pin(self.resume(after)).await { break Err(e) }
                    }
                    Err(RecvError::Closed) => break Ok(()),
                }},
            }
        };
        drop(events);
        self.state.hub.bus().release(&conversation_id);
        result
    }

    fn take_token(&mut self) -> bool {
        let now = Instant::now();
        self.tokens = (self.tokens + now.duration_since(self.refilled).as_secs_f64() * PER_SECOND).min(BURST);
        self.refilled = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    async fn on_text(&mut self, text: &str) -> SocketResult {
        let frame = match parse_frame(text) {
            Ok(f) => f,
            Err(r) => {
                self.violations += 1;
                return self.send_error(r.code, &r.message).await;
            }
        };
        match frame {
            ClientFrame::Message { text, client_msg_id } => self.on_message(text, client_msg_id).await,
            ClientFrame::Resume { after_seq } => {
                self.forgive();
                self.resume(after_seq.max(0)).await
            }
            ClientFrame::Identify { email, name, hmac } => self.on_identify(&email, name, &hmac).await,
            ClientFrame::Typing {} => {
                let now = Instant::now();
                if self.last_typing.is_none_or(|t| now.duration_since(t).as_millis() >= 1000) {
                    self.last_typing = Some(now);
                    if let Some(s) = &self.session {
                        self.state.hub.typing(&s.conversation_id, Author::Customer, "Customer", None);
                    }
                }
                Ok(())
            }
            ClientFrame::Csat { rating, comment } => self.on_csat(rating, comment).await,
        }
    }

    async fn on_csat(&mut self, rating: i64, comment: Option<String>) -> SocketResult {
        if !(1..=5).contains(&rating) {
            self.violations += 1;
            return self.send_error("bad_frame", "rating must be a whole number from 1 to 5").await;
        }
        let comment = match crate::hub::csat::parse_comment(comment.as_deref()) {
            Ok(c) => c,
            Err(message) => {
                self.violations += 1;
                return self.send_error("too_long", &message).await;
            }
        };
        let Some(conversation_id) = self.session.as_ref().map(|s| s.conversation_id.clone()) else {
            return Ok(());
        };
        let hub = self.state.hub.clone();
        let request = match hub.store().latest_csat(&conversation_id).await {
            Ok(r) => r,
            Err(e) => {
                tracing::error!(error = %e, "reading the rating request failed");
                return self.send_error("unavailable", "your rating was not stored; please try again").await;
            }
        };
        let Some(request) = request else {
            self.violations += 1;
            return self.send_error("no_csat_request", "there is nothing to rate yet").await;
        };
        match hub.rate(&request.csat_id, Some(&conversation_id), rating, comment.as_deref()).await {
            Ok(Ok(_)) => {
                self.forgive();
                self.send(&ServerFrame::CsatRecorded { rating }).await
            }
            Ok(Err(RateRefusal::AlreadyRated)) => {
                self.violations += 1;
                self.send_error("already_rated", "this conversation was rated already; thank you").await
            }
            Ok(Err(_)) => {
                self.violations += 1;
                self.send_error("no_csat_request", "there is nothing to rate yet").await
            }
            Err(e) => {
                tracing::error!(error = %e, "storing a rating failed");
                self.send_error("unavailable", "your rating was not stored; please try again").await
            }
        }
    }

    fn forgive(&mut self) {
        self.violations = self.violations.saturating_sub(1);
    }

    async fn on_message(&mut self, text: String, client_msg_id: Option<String>) -> SocketResult {
        let trimmed = text.trim();
        if trimmed.is_empty() {
            self.violations += 1;
            return self.refuse_message("empty", "message text is empty", client_msg_id.as_deref()).await;
        }
        let chars = trimmed.chars().count();
        if chars > MAX_TEXT_CHARS {
            self.violations += 1;
            let msg = format!("message is {chars} characters; the limit is {MAX_TEXT_CHARS}");
            return self.refuse_message("too_long", &msg, client_msg_id.as_deref()).await;
        }
        if client_msg_id.as_ref().is_some_and(|c| c.is_empty() || c.len() > MAX_CLIENT_MSG_ID) {
            self.violations += 1;
            return self.send_error("bad_frame", "client_msg_id must be 1 to 128 characters").await;
        }
        if !self.take_token() {
            self.violations += 1;
            let hub = &self.state.hub;
            hub.security.record(&hub.metrics, SecurityEvent::RateLimited, &self.peer.to_string(), "widget messages");
            return self.send_error("rate_limited", "you are sending messages too fast; wait a moment").await;
        }
        self.forgive();
        let Some(conversation_id) = self.session.as_ref().map(|s| s.conversation_id.clone()) else {
            return Ok(());
        };
        let cmid = client_msg_id.as_deref();
        let hub = self.state.hub.clone();
        let stored = hub.customer_message_held(&conversation_id, trimmed, cmid, self.peer, &mut self.held).await;
        match stored {
            Ok(ack) => {
                self.send(&ServerFrame::Ack { client_msg_id: client_msg_id.as_deref(), id: &ack.id, seq: ack.seq })
                    .await
            }
            Err(hub::Error::Busy) => self.send_error("busy", "conversation is busy; send the message again").await,
            Err(e) => {
                tracing::error!(error = %e, "storing a widget message failed");
                self.send_error("unavailable", "your message was not stored; please send it again").await
            }
        }
    }

    async fn on_identify(&mut self, email: &str, name: Option<String>, hmac_hex: &str) -> SocketResult {
        let Some(secret) = self.state.settings.widget_secret() else {
            self.violations += 1;
            return self.send_error("identify_disabled", "identity verification is not configured").await;
        };
        let Some(normalized) = normalize_email(email) else {
            self.violations += 1;
            return self.send_error("bad_frame", "email is not an email address").await;
        };
        if !hmac_matches(&secret, email.trim(), hmac_hex) {
            self.violations += 1;
            return self.send_error("bad_hmac", "identity signature does not match; nothing changed").await;
        }
        self.forgive();
        let Some(contact_id) = self.session.as_ref().map(|s| s.contact_id.clone()) else {
            return Ok(());
        };
        let name = name.map(|n| n.trim().chars().take(200).collect::<String>()).filter(|n| !n.is_empty());
        match self.state.hub.identify(&contact_id, &normalized, name.as_deref()).await {
            Ok(()) => self.send(&ServerFrame::Identified { email: &normalized }).await,
            Err(e) => {
                tracing::error!(error = %e, "storing an identity failed");
                self.send_error("unavailable", "could not verify right now; please retry").await
            }
        }
    }

    async fn resume(&mut self, after_seq: i64) -> SocketResult {
        let Some(conversation_id) = self.session.as_ref().map(|s| s.conversation_id.clone()) else {
            return Ok(());
        };
        let mut after = after_seq;
        loop {
            let store = self.state.hub.store();
            let mut page = match store.messages_after(&conversation_id, after, RESUME_PAGE, false).await {
                Ok(p) => p,
                Err(e) => {
                    tracing::error!(error = %e, "resume failed");
                    return self.send_error("unavailable", "could not load history; reconnect to retry").await;
                }
            };
            if let Err(e) = crate::web::attachments::fill(store, page.iter_mut().collect()).await {
                tracing::warn!(error = %e, "resume: attachments not shown");
            }
            let n = page.len() as i64;
            for m in &page {
                after = m.seq;
                self.send_message(m).await?;
            }
            if n < RESUME_PAGE {
                return Ok(());
            }
        }
    }
}

/// HMAC-SHA256(secret, email) compared in constant time; `hmac_hex` is hex (any case).
pub fn hmac_matches(secret: &[u8], email: &str, hmac_hex: &str) -> bool {
    let Ok(expected) = hex::decode(hmac_hex.trim()) else {
        return false;
    };
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC accepts keys of any length");
    mac.update(email.as_bytes());
    mac.verify_slice(&expected).is_ok()
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
    fn hmac_is_checked() {
        let mut mac = Hmac::<Sha256>::new_from_slice(b"s3cret").unwrap();
        mac.update(b"amina@example.co.tz");
        let good = hex::encode(mac.finalize().into_bytes());
        assert!(hmac_matches(b"s3cret", "amina@example.co.tz", &good));
        assert!(hmac_matches(b"s3cret", "amina@example.co.tz", &good.to_uppercase()));
        assert!(!hmac_matches(b"other", "amina@example.co.tz", &good));
        assert!(!hmac_matches(b"s3cret", "juma@example.com", &good));
        assert!(!hmac_matches(b"s3cret", "amina@example.co.tz", "zz"));
    }
}
