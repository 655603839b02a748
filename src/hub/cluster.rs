//! Several `kituo serve` nodes on one PostgreSQL: every event a node publishes on its bus is
//! also announced with `NOTIFY kituo_events` carrying ids only; the other nodes read the rows
//! and publish them on their own buses. The database stays the source of truth: a notification
//! lost while a listener reconnects is repaired by seq/resume (widgets resume, consoles are
//! asked to reconnect and re-read). The wire form of an event is the bus's ([`Wire`]); this
//! module depends on `bus`, never the other way.
//!
//! **A node alone announces nothing.** Announcing cost a statement per event and woke this
//! node's own listener for each (about a tenth of the CPU per message at 1,000 messages a
//! second), which a node with no peers pays for nothing. So nodes say they are there
//! (`hello`, every heartbeat: `--cluster-heartbeat-ms`, 10 s) and keep a list of the others
//! ([`Peers`]). A node announces its events:
//! - while its listener is not listening (it cannot tell who is there);
//! - for two heartbeats after it starts listening (an existing peer's hello is due by then);
//! - while any other node was heard (any notification) within three heartbeats.
//!
//! A node that starts hearing a peer after it left events out (it believed itself alone, or
//! the peer had gone silent) sends that peer a `welcome`, and the peer re-reads, as after a
//! reconnect: whatever the welcoming node left out is in the store. So a node that joins a
//! lone node is repaired within milliseconds of its first hello, usually before its first
//! socket. Nodes from before this change send no hello: they count as present only while they
//! publish events, so run one version across the nodes.

use super::Hub;
use super::bus::{AgentEvent, Event, Wire};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

pub const CHANNEL: &str = "kituo_events";

/// Most notifications sent in one statement.
const NOTIFY_BATCH: usize = 64;

/// What this node knows of the others; shared by the notifier and the listener.
pub struct Peers {
    node: String,
    heartbeat: Duration,
    // A std mutex: held for a few map operations, never across an await.
    state: Mutex<PeerState>,
}

#[derive(Default)]
struct PeerState {
    /// Other nodes, and when each was last heard.
    heard: HashMap<String, Instant>,
    /// When the listener last started listening; `None` while it is not listening.
    listening_since: Option<Instant>,
    /// When this node last left an event out.
    last_dropped: Option<Instant>,
}

impl Peers {
    pub fn new(node: String, heartbeat: Duration) -> Peers {
        Peers { node, heartbeat, state: Mutex::default() }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, PeerState> {
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// True when this node's events are to be announced at `now` (see the module doc).
    pub fn announcing(&self, now: Instant) -> bool {
        let s = self.state();
        match s.listening_since {
            None => true,
            Some(since) if now.saturating_duration_since(since) < 2 * self.heartbeat => true,
            Some(_) => s.heard.values().any(|at| now.saturating_duration_since(*at) < 3 * self.heartbeat),
        }
    }

    /// The listener (re)started listening at `now`.
    pub fn listening(&self, now: Instant) {
        self.state().listening_since = Some(now);
    }

    /// The listener lost its connection.
    pub fn not_listening(&self) {
        self.state().listening_since = None;
    }

    /// This node left an event out at `now`.
    pub fn dropped(&self, now: Instant) {
        self.state().last_dropped = Some(now);
    }

    /// Notes that `node` was heard at `now`. True when this node left an event out since it
    /// last heard that node (or ever, for a node it does not know): that node must re-read.
    pub fn heard(&self, node: &str, now: Instant) -> bool {
        let mut s = self.state();
        let before = s.heard.insert(node.to_string(), now);
        // Nodes silent for long (restarted nodes get new ids) are forgotten.
        let ttl = 3 * self.heartbeat;
        s.heard.retain(|_, at| now.saturating_duration_since(*at) < ttl);
        s.last_dropped.is_some_and(|dropped| before.is_none_or(|heard| dropped > heard))
    }
}

/// Sends this node's events to the others, after the commit that made them: one notification
/// per event, but every event waiting at that moment in one statement (one round trip). Sends a
/// hello every heartbeat; leaves events out while no one else is there (see [`Peers`]).
pub async fn run_notifier(
    hub: Arc<Hub>,
    mut rx: mpsc::UnboundedReceiver<Wire>,
    peers: Arc<Peers>,
    token: CancellationToken,
) {
    let mut wires = Vec::with_capacity(NOTIFY_BATCH);
    let mut beat = tokio::time::interval(peers.heartbeat);
    beat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = token.cancelled() => return,
            _ = beat.tick() => wires.push(Wire::Hello { node: peers.node.clone() }),
            n = rx.recv_many(&mut wires, NOTIFY_BATCH) => if n == 0 { return },
        }
        let now = Instant::now();
        if !peers.announcing(now) {
            let before = wires.len();
            wires.retain(Wire::is_control);
            if wires.len() < before {
                peers.dropped(now);
            }
        }
        if wires.is_empty() {
            continue;
        }
        let payloads: Vec<String> =
            wires.drain(..).map(|w| serde_json::to_string(&w).expect("wire events serialise")).collect();
        if let Err(e) = hub.store().notify_all(CHANNEL, &payloads).await {
            tracing::warn!(error = %e, "NOTIFY failed; other nodes catch up by resume");
        }
    }
}

/// Receives the other nodes' events (any node but this one) and publishes them locally;
/// answers a hello with a welcome when this node left events out that the new peer needed.
pub async fn run_listener(
    hub: Arc<Hub>,
    peers: Arc<Peers>,
    tx: mpsc::UnboundedSender<Wire>,
    database_url: String,
    token: CancellationToken,
) {
    let me = peers.node.clone();
    let started = |peers: &Peers| {
        peers.listening(Instant::now());
        // Anything announced while we were not listening is repaired by a resync.
        hub.bus().resync();
        let _ = tx.send(Wire::Hello { node: me.clone() });
    };
    loop {
        peers.not_listening();
        let mut listener = match sqlx::postgres::PgListener::connect(&database_url).await {
            Ok(l) => l,
            Err(e) => {
                tracing::warn!(error = %e, "cannot LISTEN; retrying");
                tokio::select! { _ = token.cancelled() => return, _ = tokio::time::sleep(Duration::from_secs(2)) => {} }
                continue;
            }
        };
        if let Err(e) = listener.listen(CHANNEL).await {
            tracing::warn!(error = %e, "LISTEN failed; retrying");
            continue;
        }
        started(&peers);
        loop {
            let n = tokio::select! {
                _ = token.cancelled() => return,
                n = listener.try_recv() => n,
            };
            match n {
                Ok(Some(n)) => match serde_json::from_str::<Wire>(n.payload()) {
                    Ok(w) if w.node() != me => {
                        if peers.heard(w.node(), Instant::now()) {
                            let _ = tx.send(Wire::Welcome { node: me.clone(), to: w.node().to_string() });
                        }
                        apply(&hub, &me, w).await;
                    }
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "unreadable cluster event"),
                },
                // The connection was lost and re-established inside sqlx: events may be missing.
                Ok(None) => started(&peers),
                Err(e) => {
                    tracing::warn!(error = %e, "cluster listener failed; reconnecting");
                    break;
                }
            }
        }
    }
}

async fn apply(hub: &Hub, me: &str, w: Wire) {
    let bus = hub.bus();
    match w {
        Wire::Hello { .. } => {}
        // The sender left out events this node may have needed: re-read them from the store.
        Wire::Welcome { to, .. } => {
            if to == me {
                bus.resync();
            }
        }
        Wire::Message { conversation_id, message_id, .. } => {
            let store = hub.store();
            let (Ok(Some(m)), Ok(Some(conv))) =
                (store.message_by_id(&message_id).await, store.conversation(&conversation_id).await)
            else {
                return;
            };
            let m = Arc::new(m);
            bus.publish(&conversation_id, Event::Message(m.clone()));
            bus.publish_agents_local(AgentEvent::Message { message: m, channel: conv.channel });
        }
        Wire::Conversation { conversation_id, .. } => {
            if let Ok(Some(mut s)) = hub.store().conversation_summary(&conversation_id).await {
                let _ = hub.with_sla(std::slice::from_mut(&mut s)).await;
                bus.publish_agents_local(AgentEvent::Conversation(Arc::new(s)));
            }
        }
        Wire::Typing { conversation_id, author, name, agent_id, .. } => {
            bus.publish(&conversation_id, Event::Typing { author });
            bus.publish_agents_local(AgentEvent::Typing { conversation_id, author, name, agent_id });
        }
        Wire::Presence { agent_id, presence, .. } => {
            bus.publish_agents_local(AgentEvent::Presence { agent_id, presence })
        }
        Wire::Revoked { agent_id, credential, .. } => {
            bus.publish_agents_local(AgentEvent::Revoked { agent_id, credential })
        }
        Wire::Delivery { conversation_id, message_id, outbox_id, status, .. } => {
            let status = match status.as_str() {
                "sent" => "sent",
                "failed" => "failed",
                _ => "retrying",
            };
            bus.publish_agents_local(AgentEvent::Delivery {
                conversation_id,
                message_id,
                outbox_id,
                status,
                error: None,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BEAT: Duration = Duration::from_secs(10);

    fn at(t0: Instant, secs: u64) -> Instant {
        t0 + Duration::from_secs(secs)
    }

    #[test]
    fn a_node_announces_until_it_knows_it_is_alone() {
        let (peers, t0) = (Peers::new("me".into(), BEAT), Instant::now());
        assert!(peers.announcing(t0), "not listening yet: it cannot tell");
        peers.listening(t0);
        assert!(peers.announcing(at(t0, 19)), "a peer's hello may still be on its way");
        assert!(!peers.announcing(at(t0, 20)), "two heartbeats and no one: alone");
        peers.not_listening();
        assert!(peers.announcing(at(t0, 21)), "the listener is down: announce");
    }

    #[test]
    fn a_peer_keeps_the_node_announcing_for_three_heartbeats() {
        let (peers, t0) = (Peers::new("me".into(), BEAT), Instant::now());
        peers.listening(t0);
        assert!(!peers.heard("n2", at(t0, 5)), "nothing was left out yet");
        assert!(peers.announcing(at(t0, 34)));
        assert!(!peers.announcing(at(t0, 35)), "silent for three heartbeats: gone");
    }

    #[test]
    fn a_peer_heard_after_events_were_left_out_is_welcomed_once() {
        let (peers, t0) = (Peers::new("me".into(), BEAT), Instant::now());
        peers.listening(t0);
        peers.dropped(at(t0, 25));
        assert!(peers.heard("n2", at(t0, 30)), "a new peer after a drop must re-read");
        assert!(!peers.heard("n2", at(t0, 40)), "nothing left out since");
        assert!(peers.heard("n3", at(t0, 41)), "a node never heard may have missed that drop");
        // n2 goes silent, the node drops again, then n2 is back.
        peers.dropped(at(t0, 80));
        assert!(peers.heard("n2", at(t0, 85)));
    }
}
