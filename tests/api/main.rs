//! Integration tests: the real server on 127.0.0.1:0, talked to as clients would.
//! Every storage-touching test runs on SQLite, and on PostgreSQL when
//! `KITUO_TEST_POSTGRES_URL` is set (`.ci/run` sets it, so in CI nothing skips).

mod action_browser;
mod action_dialogue;
mod actions;
mod admin_browser;
mod architecture;
mod attachments;
mod attachments_browser;
mod authz;
mod backoffice;
mod browser;
mod chat;
mod cli;
mod cluster;
mod console_keys;
mod console_socket;
mod console_tools;
mod csat;
mod csat_browser;
mod discord;
mod email;
mod helpers;
mod hot;
mod import;
mod intents;
mod labels;
mod openapi;
mod phone;
mod proofs;
mod protocol;
mod queue;
mod rough_edges;
mod rules;
mod search;
mod security;
mod sql_backoffice;
mod tryton;
mod upload_limits;
