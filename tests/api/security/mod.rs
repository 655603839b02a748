//! Issue 11, the web side: security headers and framing, WebSocket close codes, login
//! throttling, security counters and the metrics token. Each test replays an attack and asserts
//! that it now fails, while the legitimate use keeps working.

mod counters;
mod csp_browser;
mod frames;
mod headers;
mod login;
