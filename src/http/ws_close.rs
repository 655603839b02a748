//! Closing a WebSocket properly when a client sends a frame over the size limit: the library
//! stops reading at the frame's header and returns an error; here the socket answers with a close
//! frame 1009 (message too big) before the TCP connection goes, as the protocol promises, and the
//! event is recorded. Shared by `/ws/chat` and `/ws/agent`.

use crate::hub::Hub;
use crate::security::SecurityEvent;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use std::time::Duration;
use tokio_tungstenite::tungstenite;

/// How long the closing side waits for the rest of the refused frame and the client's close:
/// closing the TCP connection with unread bytes would reset it and could destroy the close frame
/// before the client reads it.
const DRAIN_FOR: Duration = Duration::from_secs(2);

/// Whether a read error means "frame or message over the limit".
pub fn is_too_large(error: &axum::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = source {
        if let Some(tungstenite::Error::Capacity(_)) = e.downcast_ref::<tungstenite::Error>() {
            return true;
        }
        source = e.source();
    }
    false
}

/// When `error` is an oversized frame: records it (`key` names the client: address or agent),
/// sends close 1009 and drains what the client still sends. Returns whether it was one.
pub async fn close_if_too_large(socket: &mut WebSocket, hub: &Hub, error: &axum::Error, key: &str, what: &str) -> bool {
    if !is_too_large(error) {
        return false;
    }
    hub.security.record(&hub.metrics, SecurityEvent::FrameTooLarge, key, what);
    let close = CloseFrame { code: 1009, reason: Utf8Bytes::from_static("frame too large (limit 64 KiB)") };
    if socket.send(Message::Close(Some(close))).await.is_ok() {
        let _ = tokio::time::timeout(DRAIN_FOR, async {
            while let Some(Ok(m)) = socket.recv().await {
                if matches!(m, Message::Close(_)) {
                    break;
                }
            }
        })
        .await;
    }
    true
}
