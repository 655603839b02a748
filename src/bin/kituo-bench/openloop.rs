//! `chat --interval-ms N`: the open loop. Each customer sends one message every N ms on a fixed
//! schedule (the first at a random moment within one interval), whether or not the previous
//! reply has come back, so a slow server cannot slow the load down (no coordinated omission). A
//! round trip's latency runs from the moment the message was *due* to the moment its `ack` and
//! the bot's reply (Kituo) or its echo (bare server) are back.

use crate::chat::{Frame, Plan, SessionOutcome, Target, Ws};
use anyhow::{Context, bail};
use futures_util::{SinkExt, StreamExt};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::collections::VecDeque;
use std::time::Duration;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;

/// A message sent and not yet answered.
struct Pending {
    due: Instant,
    /// The frame as sent (an echo comes back equal).
    index: usize,
    /// Kituo: the seq of the stored customer message, once acked.
    acked: Option<i64>,
    /// Kituo: a bot message with a seq above the ack was seen.
    replied: bool,
}

/// One customer's open loop over `plan.frames`.
pub async fn converse(
    target: Target,
    ws: &mut Ws,
    plan: &Plan,
    interval: Duration,
    timeout: Duration,
    seed: u64,
    out: &mut SessionOutcome,
) -> anyhow::Result<()> {
    let mut rng = StdRng::seed_from_u64(seed);
    let start = Instant::now() + interval.mul_f64(rng.random_range(0.0..1.0));
    let due = |k: usize| start + interval * k as u32;
    let total = plan.frames.len();
    let mut next = 0;
    let mut pending: VecDeque<Pending> = VecDeque::new();
    // Bot replies seen before their message's ack (the ack normally comes first).
    let mut early_replies: Vec<i64> = Vec::new();
    let mut resends = 0;
    while out.latencies.len() < total {
        let deadline = pending.front().map_or(due(next), |p| p.due) + timeout;
        tokio::select! {
            _ = tokio::time::sleep_until(due(next.min(total.saturating_sub(1)))), if next < total => {
                ws.send(Message::text(plan.frames[next].0.clone())).await?;
                pending.push_back(Pending { due: due(next), index: next, acked: None, replied: false });
                next += 1;
            }
            _ = tokio::time::sleep_until(deadline) => bail!("timed out waiting for a reply"),
            frame = ws.next() => {
                let text = match frame {
                    None => bail!("socket closed"),
                    Some(Err(e)) => bail!("socket error: {e}"),
                    Some(Ok(Message::Text(t))) => t,
                    Some(Ok(Message::Close(c))) => bail!("closed by server: {c:?}"),
                    Some(Ok(_)) => continue,
                };
                match target {
                    Target::Echo => {
                        // Echoes come back in order.
                        if let Some(p) = pending.front()
                            && plan.frames[p.index].0.len() == text.len()
                        {
                            let ns = p.due.elapsed().as_nanos() as u64;
                            out.latencies.push(ns);
                            out.timeline.push((p.due, p.index, ns));
                            pending.pop_front();
                        }
                    }
                    Target::Kituo => {
                        let f: Frame = serde_json::from_str(&text).with_context(|| format!("unreadable frame {text}"))?;
                        match f.kind {
                            "ack" => {
                                if let Some(p) =
                                    pending.iter_mut().find(|p| Some(plan.frames[p.index].1.as_str()) == f.client_msg_id)
                                {
                                    p.acked = f.seq;
                                }
                            }
                            "message" if f.author == Some("bot") => early_replies.push(f.seq.unwrap_or(0)),
                            "error" => {
                                let code = f.code.unwrap_or("");
                                if !matches!(code, "busy" | "unavailable" | "rate_limited") {
                                    bail!("message refused: {text}");
                                }
                                let Some(p) = pending.iter().find(|p| Some(plan.frames[p.index].1.as_str()) == f.client_msg_id)
                                else {
                                    bail!("refusal without a pending message: {text}");
                                };
                                resends += 1;
                                out.retries += 1;
                                if resends > 20 * total {
                                    bail!("gave up after {resends} refusals: {text}");
                                }
                                tokio::time::sleep(Duration::from_millis(20)).await;
                                // Same client_msg_id: stored at most once.
                                ws.send(Message::text(plan.frames[p.index].0.clone())).await?;
                            }
                            _ => {}
                        }
                        settle(&mut pending, &mut early_replies, out);
                    }
                }
            }
        }
    }
    let _ = ws.close(None).await;
    Ok(())
}

/// Marks replies against acked messages (a bot reply belongs to the latest customer message
/// stored before it) and records every message whose ack and reply are both in.
fn settle(pending: &mut VecDeque<Pending>, replies: &mut Vec<i64>, out: &mut SessionOutcome) {
    replies.retain(|&seq| {
        let owner = pending.iter_mut().filter(|p| p.acked.is_some_and(|a| a < seq)).max_by_key(|p| p.acked);
        match owner {
            Some(p) => {
                p.replied = true;
                false
            }
            None => true,
        }
    });
    pending.retain(|p| {
        if p.replied {
            let ns = p.due.elapsed().as_nanos() as u64;
            out.latencies.push(ns);
            out.timeline.push((p.due, p.index, ns));
        }
        !p.replied
    });
}

/// `--latency-csv`: one line per round trip, in the order they were due, with the text the
/// customer sent (to tell an order question or an email proof from small talk).
pub fn write_timeline(
    path: &std::path::Path,
    timeline: &[(usize, usize, tokio::time::Instant, u64)],
    plans: &[crate::chat::Plan],
) -> anyhow::Result<()> {
    use std::fmt::Write;
    let Some(first) = timeline.iter().map(|t| t.2).min() else { return Ok(()) };
    let mut rows: Vec<_> = timeline.iter().map(|&(s, m, due, ns)| (due - first, s, m, ns)).collect();
    rows.sort_unstable();
    let mut text = String::from("session,message,due_ms,latency_us,text\n");
    for (due, session, message, ns) in rows {
        let said = plans.get(session).and_then(|p| p.frames.get(message)).map_or(String::new(), |(frame, _)| {
            let frame: serde_json::Value = serde_json::from_str(frame).unwrap_or_default();
            frame["text"].as_str().unwrap_or_default().replace('"', "\"\"")
        });
        let _ = writeln!(text, "{session},{message},{:.3},{:.1},\"{said}\"", due.as_secs_f64() * 1e3, ns as f64 / 1e3);
    }
    std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
}
