//! Channel adapters: they turn a channel's wire protocol into hub calls and hub events back
//! into the channel's frames. They call the hub only (resolve, receive, reads); they import
//! neither `store` nor `web` (the widget socket has its own state, built by `web` via `FromRef`;
//! shared HTTP plumbing is in `http`).

pub mod discord;
pub mod email;
pub mod web_widget;
