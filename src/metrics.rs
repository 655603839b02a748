//! Process metrics in the Prometheus text format (`/metrics`). Counters and gauges are plain
//! atomics updated where things happen; figures that live in the database (queue length,
//! waiting time, outbox backlog, first-response times) are read at scrape time.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, Ordering};

/// A one-label counter's values: label value → count.
type LabelValues = HashMap<String, i64>;

#[derive(Default)]
pub struct Metrics {
    /// (name, labels) → value, for labelled counters.
    counters: Mutex<BTreeMap<(&'static str, String), i64>>,
    /// (name, label name) → label value → value, for counters with one label counted per
    /// message: found without building the label text (rendered at scrape time).
    labelled: Mutex<HashMap<(&'static str, &'static str), LabelValues>>,
    pub widget_sockets: AtomicI64,
    pub agent_sockets: AtomicI64,
    /// 1 while connected, 0 while not, per channel connection ("imap:<mailbox>", "discord").
    connections: Mutex<BTreeMap<String, i64>>,
}

impl Metrics {
    pub fn count(&self, name: &'static str, labels: &str, by: i64) {
        *self
            .counters
            .lock()
            .expect("metrics mutex poisoned: a holder panicked")
            .entry((name, labels.to_string()))
            .or_default() += by;
    }

    /// Counts `name{label="value"}`; allocates only the first time a value is seen.
    pub fn count_label(&self, name: &'static str, label: &'static str, value: &str, by: i64) {
        let mut labelled = self.labelled.lock().expect("metrics mutex poisoned: a holder panicked");
        let values = labelled.entry((name, label)).or_default();
        match values.get_mut(value) {
            Some(v) => *v += by,
            None => {
                values.insert(value.to_string(), by);
            }
        }
    }

    pub fn set_connection(&self, name: &str, up: bool) {
        self.connections
            .lock()
            .expect("metrics mutex poisoned: a holder panicked")
            .insert(name.to_string(), i64::from(up));
    }

    pub fn gauge_add(g: &AtomicI64, by: i64) {
        g.fetch_add(by, Ordering::Relaxed);
    }

    /// Renders everything kept in memory; `extra` is appended (figures read from the database).
    pub fn render(&self, extra: &str) -> String {
        let mut out = String::new();
        let help = |out: &mut String, name: &str, kind: &str, text: &str| {
            let _ = writeln!(out, "# HELP {name} {text}\n# TYPE {name} {kind}");
        };
        let mut counters = self.counters.lock().expect("metrics mutex poisoned: a holder panicked").clone();
        for ((name, label), values) in self.labelled.lock().expect("metrics mutex poisoned: a holder panicked").iter() {
            for (value, n) in values {
                *counters.entry((*name, format!("{label}=\"{}\"", escape(value)))).or_default() += n;
            }
        }
        let mut last = "";
        for ((name, labels), value) in counters.iter() {
            if *name != last {
                help(&mut out, name, "counter", describe(name));
                last = name;
            }
            if labels.is_empty() {
                let _ = writeln!(out, "{name} {value}");
            } else {
                let _ = writeln!(out, "{name}{{{labels}}} {value}");
            }
        }
        drop(counters);
        help(&mut out, "kituo_websocket_connections", "gauge", "Open WebSocket connections.");
        let _ = writeln!(
            out,
            "kituo_websocket_connections{{kind=\"widget\"}} {}",
            self.widget_sockets.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            out,
            "kituo_websocket_connections{{kind=\"agent\"}} {}",
            self.agent_sockets.load(Ordering::Relaxed)
        );
        let conns = self.connections.lock().expect("metrics mutex poisoned: a holder panicked");
        if !conns.is_empty() {
            help(&mut out, "kituo_channel_connected", "gauge", "1 while a channel connection (IMAP, Discord) is up.");
            for (name, up) in conns.iter() {
                let _ = writeln!(out, "kituo_channel_connected{{connection=\"{}\"}} {up}", escape(name));
            }
        }
        out.push_str(extra);
        out
    }
}

fn describe(name: &str) -> &'static str {
    match name {
        "kituo_messages_in_total" => "Customer messages stored, per channel.",
        "kituo_messages_out_total" => "Bot and agent messages stored for customers, per channel.",
        "kituo_bot_matches_total" => "Customer messages the bot recognised, per intent.",
        "kituo_bot_misses_total" => "Customer messages the bot did not understand.",
        "kituo_bot_actions_total" => "Back-office actions the bot took, per action and result.",
        "kituo_turn_state_reads_total" => {
            "Customer turns that read their conversation from the database (the socket held no current copy)."
        }
        "kituo_outbox_deliveries_total" => "Outbox delivery attempts, per channel and result.",
        "kituo_security_events_total" => {
            "Security events (refused proofs, throttles, refused sockets and frames), per kind."
        }
        _ => "Kituo counter.",
    }
}

/// Escapes a Prometheus label value.
pub fn escape(v: &str) -> String {
    v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_prometheus_text() {
        let m = Metrics::default();
        m.count("kituo_messages_in_total", "channel=\"web\"", 2);
        m.count("kituo_messages_in_total", "channel=\"web\"", 1);
        m.count("kituo_bot_misses_total", "", 1);
        m.count_label("kituo_bot_matches_total", "intent", "order\"status", 2);
        m.count_label("kituo_bot_matches_total", "intent", "order\"status", 1);
        Metrics::gauge_add(&m.widget_sockets, 3);
        let text = m.render("");
        assert!(text.contains("kituo_messages_in_total{channel=\"web\"} 3"), "{text}");
        assert!(text.contains("# TYPE kituo_messages_in_total counter"), "{text}");
        assert!(text.contains("kituo_bot_misses_total 1"), "{text}");
        assert!(text.contains("kituo_bot_matches_total{intent=\"order\\\"status\"} 3"), "{text}");
        assert_eq!(text.matches("# TYPE kituo_bot_matches_total counter").count(), 1, "{text}");
        assert!(text.contains("kituo_websocket_connections{kind=\"widget\"} 3"), "{text}");
        assert_eq!(escape("a\"b"), "a\\\"b");
    }
}
