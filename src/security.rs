//! Security events: one place that counts and logs what an attacker does.
//!
//! Every refused proof, throttled login, refused origin, oversized frame, flood or socket-cap hit is
//! reported here as a [`SecurityEvent`] with a *key* (a client address, an account, a claimed
//! email — never a secret, a password, a code or a message text). Each event moves
//! `kituo_security_events_total{kind="…"}` and produces a structured log line with target
//! `kituo::security`. Bursts are summarised: the first event per (kind, key) in a minute is logged at
//! once; further ones in the same minute are only counted, and the count is reported with the next
//! event after the minute has passed. An attack therefore writes at most one line per key per minute
//! and cannot fill the disk. The table of keys is pruned as minutes pass, so it stays small.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::metrics::Metrics;

/// What happened. The `kind` label of `kituo_security_events_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SecurityEvent {
    /// A wrong order/invoice number + email, or a wrong one-time code.
    FailedProof,
    /// A proof was not even checked: a limit per address, email or record was reached.
    ProofThrottled,
    /// A wrong staff password (or second factor).
    LoginFailure,
    /// A login attempt refused by the throttle (429).
    LoginThrottled,
    /// A WebSocket upgrade refused for its `Origin`.
    OriginRefused,
    /// A WebSocket frame over the size limit (closed with 1009).
    FrameTooLarge,
    /// Messages over the per-socket rate limit.
    RateLimited,
    /// A socket refused because its address holds too many.
    SocketCap,
}

impl SecurityEvent {
    pub fn kind(self) -> &'static str {
        match self {
            Self::FailedProof => "failed_proof",
            Self::ProofThrottled => "proof_throttled",
            Self::LoginFailure => "login_failure",
            Self::LoginThrottled => "login_throttled",
            Self::OriginRefused => "origin_refused",
            Self::FrameTooLarge => "frame_too_large",
            Self::RateLimited => "rate_limited",
            Self::SocketCap => "socket_cap",
        }
    }
}

/// How often one (kind, key) may write a log line.
const SUMMARY_WINDOW: Duration = Duration::from_secs(60);
/// Above this many tracked keys, expired entries are pruned before inserting.
const PRUNE_ABOVE: usize = 4096;

/// Per (kind, key): when its current window began and how many events were not logged in it.
#[derive(Default)]
pub struct SecurityLog {
    windows: Mutex<HashMap<(SecurityEvent, String), (Instant, u64)>>,
}

impl SecurityLog {
    /// Counts the event and logs it unless this (kind, key) already logged within the minute.
    /// `key` identifies the source (address, account, claimed email); `detail` is a short, fixed
    /// description. Neither may carry a secret or a customer's message text.
    pub fn record(&self, metrics: &Metrics, event: SecurityEvent, key: &str, detail: &str) {
        metrics.count("kituo_security_events_total", event_label(event), 1);
        let now = Instant::now();
        let suppressed = {
            let mut windows = self.windows.lock().expect("security log mutex poisoned: a holder panicked");
            if windows.len() > PRUNE_ABOVE {
                windows.retain(|_, (start, _)| now.duration_since(*start) < SUMMARY_WINDOW);
            }
            match windows.get_mut(&(event, key.to_string())) {
                Some((start, count)) if now.duration_since(*start) < SUMMARY_WINDOW => {
                    *count += 1;
                    return;
                }
                Some(entry) => {
                    let suppressed = entry.1;
                    *entry = (now, 0);
                    suppressed
                }
                None => {
                    windows.insert((event, key.to_string()), (now, 0));
                    0
                }
            }
        };
        tracing::warn!(
            target: "kituo::security",
            kind = event.kind(),
            key = %clip(key),
            detail,
            suppressed_in_last_minute = suppressed,
            "security event"
        );
    }
}

fn event_label(event: SecurityEvent) -> &'static str {
    match event {
        SecurityEvent::FailedProof => "kind=\"failed_proof\"",
        SecurityEvent::ProofThrottled => "kind=\"proof_throttled\"",
        SecurityEvent::LoginFailure => "kind=\"login_failure\"",
        SecurityEvent::LoginThrottled => "kind=\"login_throttled\"",
        SecurityEvent::OriginRefused => "kind=\"origin_refused\"",
        SecurityEvent::FrameTooLarge => "kind=\"frame_too_large\"",
        SecurityEvent::RateLimited => "kind=\"rate_limited\"",
        SecurityEvent::SocketCap => "kind=\"socket_cap\"",
    }
}

/// Keys come from clients (a claimed email, an account name): bound what reaches the log.
fn clip(key: &str) -> String {
    key.chars().filter(|c| !c.is_control()).take(120).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_event_is_counted_but_a_burst_logs_once() {
        let metrics = Metrics::default();
        let log = SecurityLog::default();
        for _ in 0..50 {
            log.record(&metrics, SecurityEvent::FailedProof, "127.0.0.1", "wrong order number");
        }
        log.record(&metrics, SecurityEvent::FrameTooLarge, "127.0.0.1", "widget frame");
        let text = metrics.render("");
        assert!(text.contains("kituo_security_events_total{kind=\"failed_proof\"} 50"), "{text}");
        assert!(text.contains("kituo_security_events_total{kind=\"frame_too_large\"} 1"), "{text}");
        let windows = log.windows.lock().unwrap();
        assert_eq!(windows[&(SecurityEvent::FailedProof, "127.0.0.1".to_string())].1, 49);
        assert_eq!(windows[&(SecurityEvent::FrameTooLarge, "127.0.0.1".to_string())].1, 0);
    }

    #[test]
    fn labels_match_kinds() {
        for e in [
            SecurityEvent::FailedProof,
            SecurityEvent::ProofThrottled,
            SecurityEvent::LoginFailure,
            SecurityEvent::LoginThrottled,
            SecurityEvent::OriginRefused,
            SecurityEvent::FrameTooLarge,
            SecurityEvent::RateLimited,
            SecurityEvent::SocketCap,
        ] {
            assert_eq!(event_label(e), format!("kind=\"{}\"", e.kind()));
        }
        assert_eq!(clip("a\nb"), "ab");
    }
}
