//! Fuzz target `widget_frame`: what a hostile web chat widget can send on `/ws/chat`.
//!
//! Covers the edge of `channel::web_widget`: the size limit and UTF-8 check a text frame passes
//! before it reaches us (done by the WebSocket library; mirrored here so the decoder sees only
//! what it can really get), the frame decoder (`parse_frame`, through `decode_frame`), and for
//! `identify` frames the pure checks that follow (`normalize_email`, `hmac_matches`). The
//! connection's async handling (rate limits, storing, acks) is covered by tests/api/protocol.rs.

#![no_main]

use kituo::channel::web_widget::{MAX_FRAME_BYTES, decode_frame, hmac_matches};
use kituo::domain::normalize_email;
use libfuzzer_sys::fuzz_target;

const CODES: &[&str] = &["bad_json", "bad_frame", "unknown_type"];
const TYPES: &[&str] = &["message", "resume", "identify", "typing"];

fuzz_target!(|data: &[u8]| {
    // Larger messages close the socket (1009); binary or invalid UTF-8 never becomes a text frame.
    if data.len() > MAX_FRAME_BYTES {
        return;
    }
    let Ok(text) = std::str::from_utf8(data) else { return };
    match decode_frame(text) {
        Ok(kind) => {
            assert!(TYPES.contains(&kind));
            // An accepted frame is a JSON object whose "type" is the decoded one.
            let value: serde_json::Value = serde_json::from_str(text).expect("accepted frames are JSON");
            assert_eq!(value["type"].as_str(), Some(kind));
            if kind == "identify" {
                let email = value["email"].as_str().unwrap_or_default();
                let hmac = value["hmac"].as_str().unwrap_or_default();
                if let Some(normalized) = normalize_email(email) {
                    assert!(normalized.contains('@') && normalized.len() <= 254);
                }
                let _ = hmac_matches(b"fuzz-secret", email.trim(), hmac);
            }
        }
        Err((code, message)) => {
            assert!(CODES.contains(&code), "unexpected refusal code {code}");
            assert!(!message.is_empty());
        }
    }
});
