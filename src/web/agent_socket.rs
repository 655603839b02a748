//! The console's live socket (`/ws/agent`): every conversation change, message (notes
//! included), typing and presence, as they happen. Resume is per conversation by seq; after a
//! reconnect the console re-reads its lists over REST, so an agent misses nothing. A console
//! that falls too far behind is closed (4000) so it reconnects and re-reads.

use super::AppState;
use super::client_addr::ClientIp;
use super::session::principal_of;
use super::views;
use crate::domain::{Author, Presence};
use crate::hub::bus::AgentEvent;
use crate::security::SecurityEvent;
use crate::store::Principal;
use axum::Router;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tokio::sync::broadcast::error::RecvError;

pub fn router() -> Router<AppState> {
    Router::new().route("/ws/agent", get(upgrade))
}

/// Open console sockets per agent: the last one closing sets the agent offline.
#[derive(Default)]
pub struct Connections(Mutex<HashMap<String, usize>>);

impl Connections {
    fn open(&self, agent_id: &str) -> usize {
        let mut m = self.0.lock().expect("connections mutex poisoned: a holder panicked");
        let n = m.entry(agent_id.to_string()).or_default();
        *n += 1;
        *n
    }

    fn close(&self, agent_id: &str) -> usize {
        let mut m = self.0.lock().expect("connections mutex poisoned: a holder panicked");
        let n = m.entry(agent_id.to_string()).or_default();
        *n = n.saturating_sub(1);
        let left = *n;
        if left == 0 {
            m.remove(agent_id);
        }
        left
    }
}

/// A cross-site page must not open a socket with the agent's cookie: Origin, when sent, must
/// name this host.
fn same_origin(parts: &Parts) -> bool {
    let Some(origin) = parts.headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else { return true };
    let host = parts.headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("");
    origin.split_once("://").is_some_and(|(_, rest)| rest.trim_end_matches('/') == host)
}

async fn upgrade(State(state): State<AppState>, ClientIp(ip): ClientIp, request: axum::extract::Request) -> Response {
    let (mut parts, _body) = request.into_parts();
    if !same_origin(&parts) {
        let hub = &state.hub;
        hub.security.record(&hub.metrics, SecurityEvent::OriginRefused, &ip.to_string(), "console socket");
        return (StatusCode::FORBIDDEN, "cross-origin console sockets are refused").into_response();
    }
    let principal = match principal_of(&parts, &state).await {
        Ok(Some(p)) => p,
        Ok(None) => return super::error::ApiError::unauthorized().into_response(),
        Err(e) => return e.into_response(),
    };
    let ws = match WebSocketUpgrade::from_request_parts(&mut parts, &state).await {
        Ok(ws) => ws,
        Err(e) => return e.into_response(),
    };
    ws.read_buffer_size(4 * 1024)
        .max_message_size(64 * 1024)
        .on_upgrade(move |socket| async move { run(socket, state, principal).await })
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum ConsoleFrame {
    Typing { conversation_id: String },
    Resume { conversation_id: String, after_seq: i64 },
}

async fn send(socket: &mut WebSocket, v: Value) -> Result<(), axum::Error> {
    socket.send(Message::Text(Utf8Bytes::from(v.to_string()))).await
}

/// The console frame of an event (the same for every console: per-console filtering happens
/// before). `Revoked` never reaches a console as a frame.
fn console_frame(event: &AgentEvent) -> String {
    let v = match event {
        AgentEvent::Conversation(s) => json!({"type": "conversation", "conversation": views::summary(s)}),
        AgentEvent::Message { message, channel } => {
            json!({"type": "message", "message": views::message(message, channel)})
        }
        AgentEvent::Typing { conversation_id, author, name, .. } => {
            json!({"type": "typing", "conversation_id": conversation_id, "author": author, "name": name})
        }
        AgentEvent::Presence { agent_id, presence } => {
            json!({"type": "presence", "agent_id": agent_id, "presence": presence})
        }
        AgentEvent::Delivery { conversation_id, message_id, outbox_id, status, error } => json!({
            "type": "delivery", "conversation_id": conversation_id, "message_id": message_id,
            "outbox_id": outbox_id, "status": status, "error": error,
        }),
        AgentEvent::Revoked { .. } => json!({"type": "revoked"}),
    };
    v.to_string()
}

async fn run(mut socket: WebSocket, state: AppState, me: Principal) {
    let hub = state.hub.clone();
    crate::metrics::Metrics::gauge_add(&hub.metrics.agent_sockets, 1);
    let mut events = hub.bus().subscribe_agents();
    let mut resyncs = hub.bus().subscribe_resync();
    if state.agent_connections.open(&me.agent_id) == 1
        && let Ok(Some(agent)) = state.queries.agent(&me.agent_id).await
        && agent.presence == Presence::Offline
        && let Err(e) = hub.set_presence(&me.agent_id, Presence::Online).await
    {
        tracing::warn!(error = %e, "cannot set presence");
    }
    let mut last_typing: Option<Instant> = None;
    let shutdown = state.shutdown.clone();
    if send(&mut socket, json!({"type": "hello", "agent_id": me.agent_id})).await.is_ok() {
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => {
                    let _ = socket.send(Message::Close(Some(CloseFrame { code: 1001, reason: Utf8Bytes::from_static("server shutting down") }))).await;
                    break;
                }
                _ = resyncs.recv() => {
                    let _ = socket.send(Message::Close(Some(CloseFrame { code: 4000, reason: Utf8Bytes::from_static("events may have been missed; reconnect and re-read") }))).await;
                    break;
                }
                event = events.recv() => {
                    let frame = match event {
                        Ok(p) => match &p.event {
                            AgentEvent::Typing { agent_id, .. } if agent_id.as_deref() == Some(me.agent_id.as_str()) => continue,
                            AgentEvent::Revoked { agent_id, credential } => {
                                if *agent_id == me.agent_id && credential.as_ref().is_none_or(|c| *c == me.credential) {
                                    let _ = socket.send(Message::Close(Some(CloseFrame { code: 4001, reason: Utf8Bytes::from_static("signed out") }))).await;
                                    break;
                                }
                                continue;
                            }
                            _ => p.frame(console_frame),
                        },
                        Err(RecvError::Lagged(_)) => {
                            let _ = socket.send(Message::Close(Some(CloseFrame { code: 4000, reason: Utf8Bytes::from_static("fell behind; reconnect and re-read") }))).await;
                            break;
                        }
                        Err(RecvError::Closed) => break,
                    };
                    if socket.send(Message::Text(Utf8Bytes::from(&*frame))).await.is_err() { break }
                }
                incoming = socket.recv() => match incoming {
                    Some(Err(e)) => {
                        super::ws_close::close_if_too_large(&mut socket, &hub, &e, &format!("agent:{}", me.agent_id), "console frame").await;
                        break;
                    }
                    None | Some(Ok(Message::Close(_))) => break,
                    Some(Ok(Message::Text(text))) => {
                        let reply = handle(&state, &me, text.as_str(), &mut last_typing, &mut socket).await;
                        if reply.is_err() { break }
                    }
                    Some(Ok(_)) => {}
                },
            }
        }
    }
    crate::metrics::Metrics::gauge_add(&hub.metrics.agent_sockets, -1);
    if state.agent_connections.close(&me.agent_id) == 0
        && let Err(e) = hub.set_presence(&me.agent_id, Presence::Offline).await
    {
        tracing::warn!(error = %e, "cannot set presence");
    }
}

async fn handle(
    state: &AppState,
    me: &Principal,
    text: &str,
    last_typing: &mut Option<Instant>,
    socket: &mut WebSocket,
) -> Result<(), axum::Error> {
    let frame: ConsoleFrame = match serde_json::from_str(text) {
        Ok(f) => f,
        Err(e) => {
            return send(socket, json!({"type": "error", "code": "bad_frame", "message": format!("{e}")})).await;
        }
    };
    match frame {
        ConsoleFrame::Typing { conversation_id } => {
            if last_typing.is_none_or(|t| t.elapsed().as_millis() >= 1000) {
                *last_typing = Some(Instant::now());
                state.hub.typing(&conversation_id, Author::Agent, &me.name, Some(&me.agent_id));
            }
            Ok(())
        }
        ConsoleFrame::Resume { conversation_id, after_seq } => {
            let queries = &state.queries;
            let channel = match queries.conversation(&conversation_id).await {
                Ok(Some(c)) => c.channel,
                _ => {
                    return send(
                        socket,
                        json!({"type": "error", "code": "not_found", "message": "no such conversation"}),
                    )
                    .await;
                }
            };
            let mut history = state.hub.history(&conversation_id, after_seq.max(0), true);
            loop {
                let page = match history.next_page().await {
                    Ok(Some(page)) => page,
                    Ok(None) => return Ok(()),
                    Err(e) => {
                        tracing::error!(error = %e, "console resume failed");
                        return send(
                            socket,
                            json!({"type": "error", "code": "unavailable", "message": "could not load messages"}),
                        )
                        .await;
                    }
                };
                for m in &page {
                    send(socket, json!({"type": "message", "message": views::message(m, &channel)})).await?;
                }
            }
        }
    }
}

pub type SharedConnections = Arc<Connections>;
