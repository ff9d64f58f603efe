//! The consultation (法律咨询) state machine.
//!
//! ```text
//! submitted ──offer──▶ offered ──accept──▶ assigned ──reply──▶ answered ──resolve──▶ resolved
//!     │                  │ decline/expire      ▲                  │                     │
//!     └──pool──▶ pooled ◀┘                     │                  └──────rate──▶ closed ◀┘
//!                  └───────────claim───────────┘
//! withdraw: from submitted, offered, pooled, assigned (before any answer) ──▶ withdrawn
//! reject (moderation: the question is not acceptable): submitted ──▶ rejected
//! convert (三所联动: it became a mediation or a tip): assigned, answered, resolved ──▶ converted
//! ```
//! The routing engine adds: `pooled` is "waiting on its ladder step" (the
//! router offers it again from there: pooled ──offer──▶ offered); escalate
//! and unroute keep it waiting one step higher or at the coordinator's;
//! hand-back (退单) returns an owned case to the queue; a coordinator may
//! reassign a waiting or owned case; reopen sends a resolved case back to
//! routing; an SLA breach is recorded in any open state.
//! Every move is a pure function of (status, action); the store applies it
//! with a guarded update so concurrent moves cannot both win.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsultationStatus {
    /// Written, its routing event not yet handled.
    Submitted,
    /// Offered to one lawyer, waiting for accept/decline until the offer expires.
    Offered,
    /// Waiting in the law-firm pool for any eligible lawyer to claim it.
    Pooled,
    /// A lawyer owns it (签收) and owes the resident an answer.
    Assigned,
    /// The lawyer has replied publicly; the resident can rate it.
    Answered,
    /// The lawyer marked it done (办结).
    Resolved,
    /// The resident rated the answer; nothing more happens.
    Closed,
    /// The resident withdrew it before it was answered.
    Withdrawn,
    /// Content moderation refused the question; it never reached a lawyer.
    Rejected,
    /// Its lawyer turned it into a mediation (with the resident's consent)
    /// or a tip; the new case carries it on.
    Converted,
}

impl ConsultationStatus {
    pub const ALL: [ConsultationStatus; 10] = [
        ConsultationStatus::Submitted,
        ConsultationStatus::Offered,
        ConsultationStatus::Pooled,
        ConsultationStatus::Assigned,
        ConsultationStatus::Answered,
        ConsultationStatus::Resolved,
        ConsultationStatus::Closed,
        ConsultationStatus::Withdrawn,
        ConsultationStatus::Rejected,
        ConsultationStatus::Converted,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            ConsultationStatus::Submitted => "submitted",
            ConsultationStatus::Offered => "offered",
            ConsultationStatus::Pooled => "pooled",
            ConsultationStatus::Assigned => "assigned",
            ConsultationStatus::Answered => "answered",
            ConsultationStatus::Resolved => "resolved",
            ConsultationStatus::Closed => "closed",
            ConsultationStatus::Withdrawn => "withdrawn",
            ConsultationStatus::Rejected => "rejected",
            ConsultationStatus::Converted => "converted",
        }
    }

    pub fn is_terminal(&self) -> bool {
        matches!(
            self,
            ConsultationStatus::Closed
                | ConsultationStatus::Withdrawn
                | ConsultationStatus::Rejected
                | ConsultationStatus::Converted
        )
    }

    /// Waiting for a lawyer to take it (the resident sees "waiting for a lawyer").
    pub fn is_waiting_for_owner(&self) -> bool {
        matches!(
            self,
            ConsultationStatus::Submitted
                | ConsultationStatus::Offered
                | ConsultationStatus::Pooled
        )
    }
}

impl fmt::Display for ConsultationStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ConsultationStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ConsultationStatus::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| format!("unknown consultation status `{s}`"))
    }
}

/// Everything that can happen to a consultation. The name of the action is
/// the name of the event appended to the case history.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsultationAction {
    /// Router: offer it to one lawyer.
    Offer,
    /// Router: nobody to offer it to; put it in the pool.
    Pool,
    /// Lawyer: take the offer.
    Accept,
    /// Lawyer: refuse the offer, with a reason.
    Decline,
    /// Timer: the offer's deadline passed.
    ExpireOffer,
    /// Lawyer: take it from the pool.
    Claim,
    /// Lawyer: public reply in the thread.
    Reply,
    /// Lawyer: internal note, never shown to the resident.
    Note,
    /// Resident: follow-up question in the thread.
    FollowUp,
    /// Lawyer: mark it done.
    Resolve,
    /// Resident: rate the answer.
    Rate,
    /// Resident: withdraw before an answer.
    Withdraw,
    /// Moderation: the question is refused before anyone sees it.
    Reject,
    /// Router: the step timed out or had nobody; climb one step.
    Escalate,
    /// Router: past the last step; the coordinator's unrouted queue.
    Unroute,
    /// Owner: "not mine" (退单), with a reason; the case is routed again.
    HandBack,
    /// Coordinator: give the case to a named person.
    Reassign,
    /// Resident or coordinator: a resolved case needs more work.
    Reopen,
    /// Timer: a response-time target passed; recorded, and the case escalates.
    SlaBreach,
    /// Owner: the case became a mediation (the resident consented) or a tip.
    Convert,
}

impl ConsultationAction {
    pub const ALL: [ConsultationAction; 20] = [
        ConsultationAction::Offer,
        ConsultationAction::Pool,
        ConsultationAction::Accept,
        ConsultationAction::Decline,
        ConsultationAction::ExpireOffer,
        ConsultationAction::Claim,
        ConsultationAction::Reply,
        ConsultationAction::Note,
        ConsultationAction::FollowUp,
        ConsultationAction::Resolve,
        ConsultationAction::Rate,
        ConsultationAction::Withdraw,
        ConsultationAction::Reject,
        ConsultationAction::Escalate,
        ConsultationAction::Unroute,
        ConsultationAction::HandBack,
        ConsultationAction::Reassign,
        ConsultationAction::Reopen,
        ConsultationAction::SlaBreach,
        ConsultationAction::Convert,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            ConsultationAction::Offer => "offer",
            ConsultationAction::Pool => "pool",
            ConsultationAction::Accept => "accept",
            ConsultationAction::Decline => "decline",
            ConsultationAction::ExpireOffer => "expire_offer",
            ConsultationAction::Claim => "claim",
            ConsultationAction::Reply => "reply",
            ConsultationAction::Note => "note",
            ConsultationAction::FollowUp => "follow_up",
            ConsultationAction::Resolve => "resolve",
            ConsultationAction::Rate => "rate",
            ConsultationAction::Withdraw => "withdraw",
            ConsultationAction::Reject => "reject",
            ConsultationAction::Escalate => "escalate",
            ConsultationAction::Unroute => "unroute",
            ConsultationAction::HandBack => "hand_back",
            ConsultationAction::Reassign => "reassign",
            ConsultationAction::Reopen => "reopen",
            ConsultationAction::SlaBreach => "sla_breach",
            ConsultationAction::Convert => "convert",
        }
    }

    /// Whether the resident sees this event in their history. Routing
    /// internals (who was offered it, who declined) and internal notes are
    /// staff-only.
    pub fn is_public(&self) -> bool {
        !matches!(
            self,
            ConsultationAction::Offer
                | ConsultationAction::Pool
                | ConsultationAction::Decline
                | ConsultationAction::ExpireOffer
                | ConsultationAction::Note
                | ConsultationAction::Escalate
                | ConsultationAction::Unroute
                | ConsultationAction::HandBack
                | ConsultationAction::Reassign
                | ConsultationAction::SlaBreach
        )
    }
}

impl fmt::Display for ConsultationAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a consultation that is {from} cannot {action}")]
pub struct TransitionError {
    pub from: ConsultationStatus,
    pub action: ConsultationAction,
}

/// The status after `action`, or why the move is forbidden.
pub fn transition(
    from: ConsultationStatus,
    action: ConsultationAction,
) -> Result<ConsultationStatus, TransitionError> {
    use ConsultationAction as A;
    use ConsultationStatus as S;
    let to = match (from, action) {
        (S::Submitted | S::Pooled, A::Offer) => S::Offered,
        (S::Submitted, A::Pool) => S::Pooled,
        (S::Offered, A::Accept) => S::Assigned,
        (S::Offered, A::Decline | A::ExpireOffer) => S::Pooled,
        (S::Pooled, A::Claim) => S::Assigned,
        (S::Assigned | S::Answered, A::Reply) => S::Answered,
        (S::Assigned | S::Answered | S::Resolved, A::Note) => from,
        // Residents may add detail while waiting and after an answer; a
        // resolved case takes a new question instead.
        (S::Submitted | S::Offered | S::Pooled | S::Assigned | S::Answered, A::FollowUp) => from,
        (S::Answered, A::Resolve) => S::Resolved,
        (S::Answered | S::Resolved, A::Rate) => S::Closed,
        (S::Submitted | S::Offered | S::Pooled | S::Assigned, A::Withdraw) => S::Withdrawn,
        (S::Submitted, A::Reject) => S::Rejected,
        (S::Submitted | S::Pooled, A::Escalate | A::Unroute) => S::Pooled,
        (S::Assigned, A::HandBack) => S::Pooled,
        (S::Submitted | S::Offered | S::Pooled | S::Assigned, A::Reassign) => S::Assigned,
        (S::Resolved, A::Reopen) => S::Pooled,
        (S::Submitted | S::Offered | S::Pooled | S::Assigned | S::Answered, A::SlaBreach) => from,
        // Only a lawyer who took it can judge it belongs elsewhere.
        (S::Assigned | S::Answered | S::Resolved, A::Convert) => S::Converted,
        _ => return Err(TransitionError { from, action }),
    };
    Ok(to)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ConsultationAction as A;
    use ConsultationStatus as S;

    /// The complete table of allowed moves. Anything not listed is forbidden;
    /// the test below walks every (status, action) pair against it.
    const ALLOWED: &[(S, A, S)] = &[
        (S::Submitted, A::Offer, S::Offered),
        (S::Submitted, A::Pool, S::Pooled),
        (S::Submitted, A::FollowUp, S::Submitted),
        (S::Submitted, A::Withdraw, S::Withdrawn),
        (S::Offered, A::Accept, S::Assigned),
        (S::Offered, A::Decline, S::Pooled),
        (S::Offered, A::ExpireOffer, S::Pooled),
        (S::Offered, A::FollowUp, S::Offered),
        (S::Offered, A::Withdraw, S::Withdrawn),
        (S::Pooled, A::Claim, S::Assigned),
        (S::Pooled, A::FollowUp, S::Pooled),
        (S::Pooled, A::Withdraw, S::Withdrawn),
        (S::Assigned, A::Reply, S::Answered),
        (S::Assigned, A::Note, S::Assigned),
        (S::Assigned, A::FollowUp, S::Assigned),
        (S::Assigned, A::Withdraw, S::Withdrawn),
        (S::Answered, A::Reply, S::Answered),
        (S::Answered, A::Note, S::Answered),
        (S::Answered, A::FollowUp, S::Answered),
        (S::Answered, A::Resolve, S::Resolved),
        (S::Answered, A::Rate, S::Closed),
        (S::Resolved, A::Note, S::Resolved),
        (S::Resolved, A::Rate, S::Closed),
        (S::Submitted, A::Reject, S::Rejected),
        (S::Pooled, A::Offer, S::Offered),
        (S::Submitted, A::Escalate, S::Pooled),
        (S::Pooled, A::Escalate, S::Pooled),
        (S::Submitted, A::Unroute, S::Pooled),
        (S::Pooled, A::Unroute, S::Pooled),
        (S::Assigned, A::HandBack, S::Pooled),
        (S::Submitted, A::Reassign, S::Assigned),
        (S::Offered, A::Reassign, S::Assigned),
        (S::Pooled, A::Reassign, S::Assigned),
        (S::Assigned, A::Reassign, S::Assigned),
        (S::Resolved, A::Reopen, S::Pooled),
        (S::Submitted, A::SlaBreach, S::Submitted),
        (S::Offered, A::SlaBreach, S::Offered),
        (S::Pooled, A::SlaBreach, S::Pooled),
        (S::Assigned, A::SlaBreach, S::Assigned),
        (S::Answered, A::SlaBreach, S::Answered),
        (S::Assigned, A::Convert, S::Converted),
        (S::Answered, A::Convert, S::Converted),
        (S::Resolved, A::Convert, S::Converted),
    ];

    #[test]
    fn every_status_action_pair_matches_the_table() {
        let mut checked = 0;
        for from in S::ALL {
            for action in A::ALL {
                let expected = ALLOWED
                    .iter()
                    .find(|(f, a, _)| *f == from && *a == action)
                    .map(|(_, _, to)| *to);
                match (transition(from, action), expected) {
                    (Ok(to), Some(want)) => assert_eq!(to, want, "{from} --{action}-->"),
                    (Err(e), None) => assert_eq!((e.from, e.action), (from, action)),
                    (got, want) => panic!("{from} --{action}--> got {got:?}, table says {want:?}"),
                }
                checked += 1;
            }
        }
        assert_eq!(checked, 10 * 20);
    }

    #[test]
    fn terminal_states_allow_nothing() {
        for from in S::ALL.into_iter().filter(S::is_terminal) {
            for action in A::ALL {
                assert!(transition(from, action).is_err(), "{from} --{action}");
            }
        }
    }

    #[test]
    fn an_answered_consultation_can_no_longer_be_withdrawn() {
        let err = transition(S::Answered, A::Withdraw).unwrap_err();
        assert_eq!(
            err.to_string(),
            "a consultation that is answered cannot withdraw"
        );
    }

    #[test]
    fn routing_internals_are_not_public() {
        assert!(!A::Offer.is_public());
        assert!(!A::Decline.is_public());
        assert!(!A::Note.is_public());
        assert!(A::Accept.is_public());
        assert!(A::Reply.is_public());
    }

    #[test]
    fn statuses_round_trip_through_strings() {
        for st in S::ALL {
            assert_eq!(st.as_str().parse::<S>(), Ok(st));
            assert_eq!(serde_json::to_value(st).unwrap(), st.as_str());
        }
    }
}
