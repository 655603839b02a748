//! The conversation ownership state machine, in one place for every channel:
//!
//! ```text
//!            handoff / assign team            claim / assign agent / agent reply
//!   bot ──────────────────────────▶ queued ─────────────────────────────────▶ assigned
//!    ▲  ◀──────── handback ──────── (any open) ◀────── unassign / agent offline ──┘
//!    │                                   │ resolve (from any open state)
//!    └──── customer writes ◀──── resolved ◀┘        reopen (agent) ─▶ assigned to them
//! ```
//!
//! Pure: the store applies a transition only if the conversation is still in the state it was
//! computed from, so concurrent claims of one conversation have exactly one winner.

use crate::domain::ConversationStatus as S;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ownership {
    pub status: S,
    pub assignee: Option<String>,
    pub team: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// The bot hands over (customer asked, misses, failed verification).
    Handoff {
        team: Option<String>,
    },
    Claim {
        agent: String,
    },
    AssignAgent {
        agent: String,
    },
    AssignTeam {
        team: String,
    },
    Unassign,
    Resolve,
    /// An agent reopens a resolved conversation and takes it.
    Reopen {
        agent: String,
    },
    Handback,
    /// A customer writes into a resolved conversation: it goes back to the bot.
    CustomerWrites,
    /// An agent sends a (non-private) reply: an unowned conversation becomes theirs.
    AgentReply {
        agent: String,
    },
    /// The assignee went offline past the grace period.
    Requeue,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    #[error("the conversation is already assigned to another agent")]
    AlreadyAssigned,
    #[error("the conversation is resolved; reopen it first")]
    Resolved,
    #[error("the conversation is not assigned")]
    NotAssigned,
    #[error("the conversation is not resolved")]
    NotResolved,
}

/// The state after `action`, or why it is not allowed now.
pub fn transition(cur: &Ownership, action: &Action) -> Result<Ownership, TransitionError> {
    use TransitionError as E;
    let open = cur.status != S::Resolved;
    let next = |status, assignee: Option<&String>, team: Option<&String>| Ownership {
        status,
        assignee: assignee.cloned(),
        team: team.cloned(),
    };
    match action {
        Action::Handoff { team } => match cur.status {
            S::Bot => Ok(next(S::Queued, None, team.as_ref().or(cur.team.as_ref()))),
            S::Queued | S::Assigned => Ok(cur.clone()),
            S::Resolved => Err(E::Resolved),
        },
        Action::Claim { agent } => match (&cur.status, &cur.assignee) {
            (S::Resolved, _) => Err(E::Resolved),
            (S::Assigned, Some(a)) if a != agent => Err(E::AlreadyAssigned),
            _ => Ok(next(S::Assigned, Some(agent), cur.team.as_ref())),
        },
        Action::AssignAgent { agent } if open => Ok(next(S::Assigned, Some(agent), cur.team.as_ref())),
        Action::AssignTeam { team } if open => Ok(next(S::Queued, None, Some(team))),
        Action::AssignAgent { .. } | Action::AssignTeam { .. } => Err(E::Resolved),
        Action::Unassign | Action::Requeue => match cur.status {
            S::Assigned => Ok(next(S::Queued, None, cur.team.as_ref())),
            _ => Err(E::NotAssigned),
        },
        Action::Resolve if open => Ok(next(S::Resolved, cur.assignee.as_ref(), cur.team.as_ref())),
        Action::Resolve => Err(E::Resolved),
        Action::Reopen { agent } if !open => Ok(next(S::Assigned, Some(agent), cur.team.as_ref())),
        Action::Reopen { .. } => Err(E::NotResolved),
        Action::Handback if open => Ok(next(S::Bot, None, None)),
        Action::Handback => Err(E::Resolved),
        Action::CustomerWrites if !open => Ok(next(S::Bot, None, None)),
        Action::CustomerWrites => Ok(cur.clone()),
        Action::AgentReply { agent } => match cur.status {
            S::Assigned => Ok(cur.clone()),
            _ => Ok(next(S::Assigned, Some(agent), cur.team.as_ref())),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn own(status: S, assignee: Option<&str>) -> Ownership {
        Ownership { status, assignee: assignee.map(str::to_string), team: None }
    }

    #[test]
    fn the_happy_path() {
        let q = transition(&own(S::Bot, None), &Action::Handoff { team: Some("billing".into()) }).unwrap();
        assert_eq!((q.status, q.team.as_deref()), (S::Queued, Some("billing")));
        let a = transition(&q, &Action::Claim { agent: "a1".into() }).unwrap();
        assert_eq!((a.status, a.assignee.as_deref()), (S::Assigned, Some("a1")));
        let r = transition(&a, &Action::Resolve).unwrap();
        assert_eq!(r.status, S::Resolved);
        let back = transition(&r, &Action::CustomerWrites).unwrap();
        assert_eq!((back.status, back.assignee), (S::Bot, None));
    }

    #[test]
    fn a_claimed_conversation_cannot_be_claimed_by_another() {
        let a = own(S::Assigned, Some("a1"));
        assert_eq!(transition(&a, &Action::Claim { agent: "a2".into() }), Err(TransitionError::AlreadyAssigned));
        assert!(transition(&a, &Action::Claim { agent: "a1".into() }).is_ok());
        assert_eq!(
            transition(&a, &Action::AssignAgent { agent: "a2".into() }).unwrap().assignee.as_deref(),
            Some("a2")
        );
    }

    #[test]
    fn resolved_conversations_only_reopen() {
        let r = own(S::Resolved, Some("a1"));
        assert_eq!(transition(&r, &Action::Claim { agent: "a2".into() }), Err(TransitionError::Resolved));
        assert_eq!(transition(&r, &Action::Resolve), Err(TransitionError::Resolved));
        assert_eq!(transition(&r, &Action::Reopen { agent: "a2".into() }).unwrap().assignee.as_deref(), Some("a2"));
        assert_eq!(
            transition(&own(S::Bot, None), &Action::Reopen { agent: "x".into() }),
            Err(TransitionError::NotResolved)
        );
    }

    #[test]
    fn unassign_handback_and_agent_reply() {
        let a = own(S::Assigned, Some("a1"));
        assert_eq!(transition(&a, &Action::Unassign).unwrap().status, S::Queued);
        assert_eq!(transition(&own(S::Queued, None), &Action::Unassign), Err(TransitionError::NotAssigned));
        assert_eq!(transition(&a, &Action::Handback).unwrap(), own(S::Bot, None));
        let taken = transition(&own(S::Queued, None), &Action::AgentReply { agent: "a2".into() }).unwrap();
        assert_eq!(taken, own(S::Assigned, Some("a2")));
        assert_eq!(
            transition(&a, &Action::AgentReply { agent: "a2".into() }).unwrap(),
            a,
            "a colleague's reply keeps the owner"
        );
    }
}
