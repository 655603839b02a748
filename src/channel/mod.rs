//! Channel adapters: they turn a channel's wire protocol into hub calls and hub events back
//! into the channel's frames. They never touch the store directly.

pub mod discord;
pub mod email;
pub mod web_widget;
