//! Kituo: an omnichannel customer-interaction hub.
//!
//! Crate map (data flows one way:
//! channel → hub → bot | agent queue → store → bus → channel):
//!
//! - [`config`]     command line and environment (`kituo serve|import|intents`); secrets never print
//! - [`app`]        assembly: store, bot, hub, listener; owns this node's id (cluster events, leases) and hands
//!   the web its customer routes from `channel`; runs until shutdown
//! - [`domain`]     pure types at the bottom: ids, locales, authors, statuses, verification levels, the
//!   conversation ownership state machine, back-office records (orders, invoices, stock, requests),
//!   stored files' rules (type by content, safe names)
//! - [`store`]      the only module with SQL (SQLite and PostgreSQL through sqlx `Any`); `Queries` is its
//!   read-only face, the web's only way to read
//! - [`backoffice`] one interface to orders (lines, shipments), invoices, stock and return requests, read
//!   and write: the built-in tables (CSV import, demo data; answers held in memory until an import or
//!   a write changes them), Tryton over JSON-RPC, or any ERP database (PostgreSQL, MySQL/MariaDB,
//!   SQLite) read through a TOML mapping, behind a cache, a whole-answer timeout and a circuit breaker
//! - [`bot`]        intent rules (TOML: patterns, unless, fuzzy words, gaps), matching, dialogue, proofs
//!   (limits, one-time codes), actions on a strong proof, reply templates (minijinja)
//! - [`http`]       HTTP plumbing below `web` and `channel`: client address (trusted proxies), socket
//!   slots per address, closing a socket on an oversized frame
//! - [`hub`]        inbound message → resolve (dedupe, threading, owner check) → bot → one transaction
//!   (with the channel's own state: the original mail) → event bus; agent replies, transitions;
//!   history pages and the reads channels and the outbox need;
//!   the resolution notice and its rating (CSAT), SLA clocks and the breach sweep; the widget socket
//!   holds its conversation's turn state (`HeldState`), so a message needs no read; the queue
//!   dispatcher (auto-assign, requeue) over the domain's ownership rules; the attachments folder,
//!   files channels bring in or take out, ratings from channel controls. The only writer: the web's
//!   changes (admin, staff settings, sessions, audit entries) go through hub methods
//! - [`queue`]      agent-queue rules, pure: business hours, SLA targets and arithmetic, priority names
//! - [`auth`]       staff passwords (argon2), sessions, API tokens, login throttle (counted in the store)
//! - [`channel`]    channel adapters: web widget WebSocket; Discord bot (serenity gateway in, REST out;
//!   attachments kept, agents' files uploaded, rating buttons); email (IMAP in with IDLE + UID
//!   tracking, MIME, reply stripping, threading, quarantine; threaded SMTP replies through the outbox,
//!   agents' files as MIME attachments)
//! - [`search`]     search text parsed into phrases (FTS5 and tsquery forms), snippets with hit ranges
//! - [`metrics`]    Prometheus counters and gauges (`/metrics`)
//! - [`memory`]     freed heap given back to the system when the node is quiet (glibc `malloc_trim`)
//! - [`net`]        outbound TLS (rustls, webpki roots) for the IMAP reader and the Tryton client
//! - [`security`]   security events: counted per kind, logged summarised (target `kituo::security`)
//! - [`outbox`]     durable delivery of replies on email and Discord: claim, send, retry
//! - [`web`]        axum router, shared state, pages (security headers), staff REST API (incl. email
//!   quarantine, labels, search and saved views, notification preferences, priority, SLA targets,
//!   attachments: upload, type by content, serving), the public rating page (`/csat/{token}`),
//!   console socket, client address (trusted proxies); reads through `store::Queries`, writes through the
//!   hub; typed request/response shapes (`web::api_types`) from which the OpenAPI document is
//!   generated (`web::openapi`)
//! - [`commands`]   `kituo import` and `kituo intents check|classify`

pub mod app;
pub mod auth;
pub mod backoffice;
pub mod bot;
pub mod channel;
pub mod commands;
pub mod config;
pub mod domain;
pub mod http;
pub mod hub;
pub mod memory;
pub mod metrics;
pub mod net;
pub mod outbox;
pub mod queue;
pub mod search;
pub mod security;
pub mod store;
pub mod web;
