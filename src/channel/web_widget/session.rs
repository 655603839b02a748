//! One widget connection: the session (visitor token → conversation), the loop that selects on
//! frames, bus events and shutdown, per-connection rate limiting, and the frames that change
//! state (message, identify, rating), each handed to the hub.

use super::frames::{ClientFrame, ServerFrame, parse_frame};
use super::{MAX_TEXT_CHARS, WidgetState, hmac_matches};
use crate::domain::{Author, normalize_email};
use crate::http::ws_close::close_if_too_large;
use crate::hub::bus::Event;
use crate::hub::{self, RateRefusal, VisitorSession};
use crate::security::SecurityEvent;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use futures_util::SinkExt;
use std::net::IpAddr;
use std::time::Instant;
use tokio::sync::broadcast::error::RecvError;

const MAX_CLIENT_MSG_ID: usize = 128;
/// Message frames: burst and sustained rate per connection.
const BURST: f64 = 20.0;
const PER_SECOND: f64 = 5.0;
/// Frames fed before the loop flushes even though more events are queued.
const MAX_UNFLUSHED: u8 = 16;
/// Bad or refused frames tolerated before the socket is closed (each good frame forgives one).
const MAX_VIOLATIONS: u32 = 50;

pub(super) struct Connection {
    pub(super) socket: WebSocket,
    pub(super) state: WidgetState,
    /// The client's address (the key of its security events).
    peer: IpAddr,
    pub(super) session: Option<VisitorSession>,
    /// The conversation's turn state, so a message needs no read (see `hub::HeldState`).
    held: hub::HeldState,
    pub(super) max_sent_seq: i64,
    tokens: f64,
    refilled: Instant,
    violations: u32,
    last_typing: Option<Instant>,
    /// The agent name last sent in an `agent` frame (frames go out only on a change).
    pub(super) agent_sent: Option<String>,
    /// Frames written but not yet flushed (see [`Connection::feed`]).
    unflushed: u8,
}

pub(super) type SocketResult = Result<(), axum::Error>;

impl Connection {
    pub(super) fn new(socket: WebSocket, state: WidgetState, peer: IpAddr) -> Connection {
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
            unflushed: 0,
        }
    }

    /// Writes a frame and flushes it, with any fed before it.
    pub(super) async fn send(&mut self, frame: &ServerFrame<'_>) -> SocketResult {
        self.feed(frame).await?;
        self.flush().await
    }

    /// Writes a frame without flushing it: the loop flushes before it waits, so an ack and
    /// the messages its turn published (already queued for this socket) leave in one write.
    pub(super) async fn feed(&mut self, frame: &ServerFrame<'_>) -> SocketResult {
        let text = serde_json::to_string(frame).expect("server frames always serialise");
        self.unflushed = self.unflushed.saturating_add(1);
        self.socket.feed(Message::Text(Utf8Bytes::from(text))).await
    }

    pub(super) async fn flush(&mut self) -> SocketResult {
        self.unflushed = 0;
        self.socket.flush().await
    }

    pub(super) async fn send_error(&mut self, code: &str, message: &str) -> SocketResult {
        self.send(&ServerFrame::Error { code, message, client_msg_id: None }).await
    }

    async fn refuse_message(&mut self, code: &str, message: &str, client_msg_id: Option<&str>) -> SocketResult {
        self.send(&ServerFrame::Error { code, message, client_msg_id }).await
    }

    async fn close(&mut self, code: u16, reason: &'static str) -> SocketResult {
        self.socket.send(Message::Close(Some(CloseFrame { code, reason: Utf8Bytes::from_static(reason) }))).await
    }

    /// The hub's futures are boxed where they are awaited: the connection's own future lives as
    /// long as the socket, and an unboxed call would embed the largest of them (several KiB)
    /// in every idle connection's state (measured: 10,000 idle sockets 179 → 140 MiB).
    pub(super) async fn run(&mut self, token: Option<String>) -> SocketResult {
        let session = match Box::pin(self.state.hub.visitor_session(token.as_deref(), &mut self.held)).await {
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
        let created = session.created;
        self.session = Some(session);
        // A conversation created just now has no agent to name.
        if !created {
            Box::pin(self.send_agent()).await?;
        }
        let shutdown = self.state.shutdown.clone();
        let result = loop {
            // Fed frames leave before the loop waits; while more events are queued they wait
            // for those (up to a few), so a turn's ack, echo and reply are one write.
            if self.unflushed > 0
                && (events.is_empty() || self.unflushed >= MAX_UNFLUSHED)
                && let Err(e) = self.flush().await
            {
                break Err(e);
            }
            tokio::select! {
                _ = shutdown.cancelled() => break self.close(1001, "server shutting down").await,
                incoming = self.socket.recv() => match incoming {
                    None => break Ok(()),
                    Some(Err(e)) => {
                        let (hub, key) = (self.state.hub.clone(), self.peer.to_string());
                        if close_if_too_large(&mut self.socket, &hub, &e, &key, "widget frame").await {
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
        let request = match hub.latest_csat(&conversation_id).await {
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
        let text = crate::domain::without_controls(&text);
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
        let Some(session) = self.session.as_ref() else {
            return Ok(());
        };
        let cmid = client_msg_id.as_deref();
        let hub = self.state.hub.clone();
        let stored = hub.customer_message_held(session, trimmed, cmid, self.peer, &mut self.held).await;
        match stored {
            Ok(ack) => {
                self.feed(&ServerFrame::Ack { client_msg_id: client_msg_id.as_deref(), id: &ack.id, seq: ack.seq })
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
        let Some(secret) = self.state.policy.widget_secret() else {
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
        let Some(session) = self.session.as_ref() else {
            return Ok(());
        };
        let name = name.map(|n| n.trim().chars().take(200).collect::<String>()).filter(|n| !n.is_empty());
        let hub = self.state.hub.clone();
        match hub.identify_held(session, &normalized, name.as_deref(), &mut self.held).await {
            Ok(()) => self.send(&ServerFrame::Identified { email: &normalized }).await,
            Err(e) => {
                tracing::error!(error = %e, "storing an identity failed");
                self.send_error("unavailable", "could not verify right now; please retry").await
            }
        }
    }
}
