//! A frame over 64 KiB on either socket gets a close frame with code 1009 before the connection
//! goes (the client reads it), and the event shows in `/metrics`.

use crate::helpers::{Console, Socket, admin, backends, http, spawn_app};
use futures_util::{SinkExt, StreamExt};
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

/// Sends one oversized text frame and returns the close code the server answers with.
async fn close_code_after_oversized_frame(ws: &mut Socket) -> u16 {
    let big = format!("{{\"type\":\"message\",\"text\":\"{}\"}}", "x".repeat(100 * 1024));
    ws.send(Message::Text(big.into())).await.expect("the frame is sent");
    let read = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match ws.next().await {
                Some(Ok(Message::Close(Some(frame)))) => return u16::from(frame.code),
                Some(Ok(Message::Close(None))) => panic!("a close frame without a code"),
                Some(Ok(_)) => continue,
                Some(Err(e)) => panic!("the connection failed before a close frame arrived: {e}"),
                None => panic!("the connection ended without a close frame"),
            }
        }
    });
    read.await.expect("the server answers in time")
}

#[tokio::test]
async fn oversized_frames_are_answered_with_close_1009_on_both_sockets() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let mut chat = app.chat().await;
        assert_eq!(close_code_after_oversized_frame(&mut chat.ws).await, u16::from(CloseCode::Size));

        let staff = admin(&app, "Baraka").await;
        let mut console = Console::connect(&staff).await;
        assert_eq!(close_code_after_oversized_frame(&mut console.ws).await, 1009);

        // A frame under the limit still works on a new socket.
        let mut chat = app.chat().await;
        assert!(!chat.ask("habari").await.is_empty());
        let metrics = http(app.addr, "GET", "/metrics", &[], None).await.text;
        assert!(metrics.contains("kituo_security_events_total{kind=\"frame_too_large\"} 2"), "{metrics}");
    }
}
