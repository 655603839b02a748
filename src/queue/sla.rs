//! SLA clocks, pure arithmetic (no IO): priority names over the stored integer priority, the
//! target that applies to a conversation (its team's, else the default), and each clock's due
//! time, business time left and breach — counted in business hours ([`super::hours`]).
//!
//! Both clocks start when the conversation reaches the queue (handed to people): first response
//! stops at the first agent reply, resolution at the resolution.

use super::hours::{BusinessHours, after_open_ms, open_ms_between};
use crate::domain::Millis;

/// A target: seconds of business time; `team` empty = the default for every team.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlaTarget {
    pub team: String,
    pub priority: String,
    pub first_response_secs: Option<i64>,
    pub resolution_secs: Option<i64>,
}

/// The two SLA clocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlaKind {
    FirstResponse,
    Resolution,
}

impl SlaKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SlaKind::FirstResponse => "first_response",
            SlaKind::Resolution => "resolution",
        }
    }
}

/// Priority names over the stored integer (0 = normal; an intent's `handoff_priority`, e.g. a
/// complaint's 10, counts as high). The API sets these values; any stored integer has a name.
pub const PRIORITIES: [(&str, i64); 4] = [("low", -10), ("normal", 0), ("high", 10), ("urgent", 20)];

pub fn parse_priority(name: &str) -> Option<i64> {
    PRIORITIES.iter().find(|(n, _)| *n == name).map(|(_, v)| *v)
}

pub fn priority_name(value: i64) -> &'static str {
    match value {
        v if v < 0 => "low",
        0 => "normal",
        v if v <= 10 => "high",
        _ => "urgent",
    }
}

/// One clock as the console shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct ClockView {
    pub target_s: i64,
    /// When the target is (or was) reached; `None` if the hours never open.
    pub due_at: Option<Millis>,
    /// Business time left (negative once breached); when stopped, left at the stop.
    pub left_ms: i64,
    pub breached: bool,
    /// The clock stopped (answered / resolved).
    pub stopped: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SlaView {
    pub first_response: Option<ClockView>,
    pub resolution: Option<ClockView>,
}

/// What a clock needs to know about the conversation.
#[derive(Debug, Clone, Copy)]
pub struct ClockInput<'a> {
    pub team: Option<&'a str>,
    pub priority: i64,
    pub queued_at: Option<Millis>,
    pub first_response_at: Option<Millis>,
    pub resolved_at: Option<Millis>,
    pub resolved: bool,
}

/// The target for a team and priority: the team's own, else the default (team "").
pub fn target_for<'a>(targets: &'a [SlaTarget], team: Option<&str>, priority: i64) -> Option<&'a SlaTarget> {
    let name = priority_name(priority);
    let team = team.unwrap_or("");
    targets
        .iter()
        .find(|t| t.team == team && t.priority == name)
        .or_else(|| targets.iter().find(|t| t.team.is_empty() && t.priority == name))
}

fn clock(hours: Option<&BusinessHours>, start: Millis, stop: Option<Millis>, target_s: i64, now: Millis) -> ClockView {
    let target_ms = target_s * 1000;
    let end = stop.unwrap_or(now);
    let left_ms = target_ms - open_ms_between(hours, start, end);
    ClockView {
        target_s,
        due_at: after_open_ms(hours, start, target_ms),
        left_ms,
        breached: left_ms < 0,
        stopped: stop.is_some(),
    }
}

/// The SLA clocks of a conversation at `now`; `None` when it never reached people or no target
/// applies.
pub fn view(targets: &[SlaTarget], hours: Option<&BusinessHours>, c: ClockInput<'_>, now: Millis) -> Option<SlaView> {
    let start = c.queued_at?;
    let t = target_for(targets, c.team, c.priority)?;
    let resolved_stop = if c.resolved { Some(c.resolved_at.unwrap_or(now)) } else { None };
    Some(SlaView {
        first_response: t.first_response_secs.map(|s| clock(hours, start, c.first_response_at, s, now)),
        resolution: t.resolution_secs.map(|s| clock(hours, start, resolved_stop, s, now)),
    })
}

/// The clocks of `view` that are breached.
pub fn breached(v: &SlaView) -> Vec<SlaKind> {
    let mut out = Vec::new();
    if v.first_response.as_ref().is_some_and(|c| c.breached) {
        out.push(SlaKind::FirstResponse);
    }
    if v.resolution.as_ref().is_some_and(|c| c.breached) {
        out.push(SlaKind::Resolution);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(team: &str, priority: &str, fr: i64, res: i64) -> SlaTarget {
        SlaTarget {
            team: team.into(),
            priority: priority.into(),
            first_response_secs: Some(fr),
            resolution_secs: Some(res),
        }
    }

    #[test]
    fn priorities_round_trip_and_keep_stored_values() {
        for (name, value) in PRIORITIES {
            assert_eq!(parse_priority(name), Some(value));
            assert_eq!(priority_name(value), name);
        }
        assert_eq!(priority_name(5), "high");
        assert_eq!(priority_name(99), "urgent");
        assert_eq!(parse_priority("critical"), None);
    }

    #[test]
    fn the_teams_target_wins_over_the_default() {
        let targets = vec![target("", "high", 60, 600), target("billing", "high", 30, 300)];
        assert_eq!(target_for(&targets, Some("billing"), 10).map(|t| t.first_response_secs), Some(Some(30)));
        assert_eq!(target_for(&targets, Some("sales"), 10).map(|t| t.first_response_secs), Some(Some(60)));
        assert!(target_for(&targets, None, 0).is_none());
    }

    #[test]
    fn clocks_count_down_stop_and_breach() {
        let targets = vec![target("", "normal", 60, 600)];
        let input = |fr: Option<Millis>| ClockInput {
            team: None,
            priority: 0,
            queued_at: Some(1_000_000),
            first_response_at: fr,
            resolved_at: None,
            resolved: false,
        };
        let v = view(&targets, None, input(None), 1_030_000).unwrap();
        let fr = v.first_response.unwrap();
        assert_eq!((fr.left_ms, fr.breached, fr.due_at), (30_000, false, Some(1_060_000)));
        let late = view(&targets, None, input(None), 1_070_000).unwrap();
        assert_eq!(breached(&late), vec![SlaKind::FirstResponse]);
        let answered = view(&targets, None, input(Some(1_050_000)), 9_000_000).unwrap();
        assert!(answered.first_response.as_ref().is_some_and(|c| c.stopped && !c.breached));
        assert_eq!(breached(&answered), vec![SlaKind::Resolution]);
        assert!(view(&targets, None, ClockInput { queued_at: None, ..input(None) }, 0).is_none());
    }
}
