//! HTTP plumbing shared by the staff surface (`web`) and the customer sockets (`channel`), so
//! neither imports the other: the client's address behind trusted proxies, per-address socket
//! slots, and closing a socket on an oversized frame. It sits below both; it knows no routes,
//! no `AppState` and no store. Each extractor here reads what it needs from the handler's state
//! through `FromRef`, so any router's state can provide it.

pub mod client_addr;
pub mod ip_slots;
pub mod ws_close;
