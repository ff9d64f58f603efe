//! What every service's case shares: the routing part of its life
//! (submitted → offered / pooled → owned), driven by one engine. Each
//! service's own machine says where a routing move leads from a given
//! status; this module speaks for all of them, so the store and the router
//! never branch on the service themselves.

use crate::catalog::Service;
use crate::consultation::{self, ConsultationAction, ConsultationStatus};
use crate::mediation::{self, MediationAction, MediationStatus};
use crate::tip::{self, TipAction, TipStatus};

/// The moves the routing engine, its timers and staff make on any case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RoutingMove {
    Offer,
    Pool,
    Escalate,
    Unroute,
    /// Take the offer (accept / 受理).
    Accept,
    Decline,
    ExpireOffer,
    /// Take it from the queue (pool claim, next case).
    Claim,
    HandBack,
    Reassign,
    Reopen,
    SlaBreach,
}

/// A move as it is applied: the new status and the event to record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Move {
    pub from: &'static str,
    pub to: &'static str,
    /// The event's action name.
    pub action: &'static str,
    /// Whether the resident (or party) sees the event.
    pub public: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoveError {
    #[error("{0}")]
    Forbidden(String),
    #[error("`{status}` is not a status of a {service} case")]
    UnknownStatus { service: Service, status: String },
}

/// Where `mv` takes a case of `service` that is `from`.
pub fn routing_move(service: Service, from: &str, mv: RoutingMove) -> Result<Move, MoveError> {
    let unknown = || MoveError::UnknownStatus {
        service,
        status: from.to_owned(),
    };
    match service {
        Service::Consultation => {
            let from: ConsultationStatus = from.parse().map_err(|_| unknown())?;
            let action = consultation_action(mv);
            let to = consultation::transition(from, action)
                .map_err(|e| MoveError::Forbidden(e.to_string()))?;
            Ok(Move {
                from: from.as_str(),
                to: to.as_str(),
                action: action.as_str(),
                public: action.is_public(),
            })
        }
        Service::Mediation => {
            let from: MediationStatus = from.parse().map_err(|_| unknown())?;
            let action = mediation_action(mv);
            let to = mediation::transition(from, action)
                .map_err(|e| MoveError::Forbidden(e.to_string()))?;
            Ok(Move {
                from: from.as_str(),
                to: to.as_str(),
                action: action.as_str(),
                public: action.is_public(),
            })
        }
        Service::Tip => {
            let from: TipStatus = from.parse().map_err(|_| unknown())?;
            let action = tip_action(mv);
            let to =
                tip::transition(from, action).map_err(|e| MoveError::Forbidden(e.to_string()))?;
            Ok(Move {
                from: from.as_str(),
                to: to.as_str(),
                action: action.as_str(),
                public: action.is_public(),
            })
        }
    }
}

fn tip_action(mv: RoutingMove) -> TipAction {
    match mv {
        RoutingMove::Offer => TipAction::Offer,
        RoutingMove::Pool => TipAction::Pool,
        RoutingMove::Escalate => TipAction::Escalate,
        RoutingMove::Unroute => TipAction::Unroute,
        RoutingMove::Accept => TipAction::Accept,
        RoutingMove::Decline => TipAction::Decline,
        RoutingMove::ExpireOffer => TipAction::ExpireOffer,
        RoutingMove::Claim => TipAction::Claim,
        RoutingMove::HandBack => TipAction::HandBack,
        RoutingMove::Reassign => TipAction::Reassign,
        RoutingMove::Reopen => TipAction::Reopen,
        RoutingMove::SlaBreach => TipAction::SlaBreach,
    }
}

fn consultation_action(mv: RoutingMove) -> ConsultationAction {
    match mv {
        RoutingMove::Offer => ConsultationAction::Offer,
        RoutingMove::Pool => ConsultationAction::Pool,
        RoutingMove::Escalate => ConsultationAction::Escalate,
        RoutingMove::Unroute => ConsultationAction::Unroute,
        RoutingMove::Accept => ConsultationAction::Accept,
        RoutingMove::Decline => ConsultationAction::Decline,
        RoutingMove::ExpireOffer => ConsultationAction::ExpireOffer,
        RoutingMove::Claim => ConsultationAction::Claim,
        RoutingMove::HandBack => ConsultationAction::HandBack,
        RoutingMove::Reassign => ConsultationAction::Reassign,
        RoutingMove::Reopen => ConsultationAction::Reopen,
        RoutingMove::SlaBreach => ConsultationAction::SlaBreach,
    }
}

fn mediation_action(mv: RoutingMove) -> MediationAction {
    match mv {
        RoutingMove::Offer => MediationAction::Offer,
        RoutingMove::Pool => MediationAction::Pool,
        RoutingMove::Escalate => MediationAction::Escalate,
        RoutingMove::Unroute => MediationAction::Unroute,
        RoutingMove::Accept => MediationAction::Accept,
        RoutingMove::Decline => MediationAction::Decline,
        RoutingMove::ExpireOffer => MediationAction::ExpireOffer,
        RoutingMove::Claim => MediationAction::Claim,
        RoutingMove::HandBack => MediationAction::HandBack,
        RoutingMove::Reassign => MediationAction::Reassign,
        RoutingMove::Reopen => MediationAction::Reopen,
        RoutingMove::SlaBreach => MediationAction::SlaBreach,
    }
}

/// Statuses, of any service, in which a case no longer counts against its
/// owner's capacity (nothing more to do, or waiting on a follow-up visit
/// that is not daily work).
pub const FINISHED_STATUSES: [&str; 12] = [
    "resolved",
    "closed",
    "withdrawn",
    "rejected",
    "archived",
    "refused",
    "terminated",
    "agreed",
    "unfounded",
    "referred",
    "duplicate",
    "converted",
];

/// Statuses in which a case waits for the engine (not offered, not owned).
pub fn is_waiting(status: &str) -> bool {
    matches!(status, "submitted" | "pooled")
}

#[cfg(test)]
mod tests {
    use super::*;

    const MOVES: [RoutingMove; 12] = [
        RoutingMove::Offer,
        RoutingMove::Pool,
        RoutingMove::Escalate,
        RoutingMove::Unroute,
        RoutingMove::Accept,
        RoutingMove::Decline,
        RoutingMove::ExpireOffer,
        RoutingMove::Claim,
        RoutingMove::HandBack,
        RoutingMove::Reassign,
        RoutingMove::Reopen,
        RoutingMove::SlaBreach,
    ];

    #[test]
    fn the_routing_part_of_life_is_the_same_for_every_service() {
        // From every waiting status, each routing move either leads to the
        // same status in every machine or is forbidden in all of them.
        for other in [Service::Mediation, Service::Tip] {
            for from in ["submitted", "offered", "pooled"] {
                for mv in MOVES {
                    let c = routing_move(Service::Consultation, from, mv).map(|m| m.to);
                    let m = routing_move(other, from, mv).map(|m| m.to);
                    let owned = |to: &str| matches!(to, "assigned" | "accepted" | "acknowledged");
                    match (c, m) {
                        (Ok(a), Ok(b)) => assert!(
                            a == b || (owned(a) && owned(b)),
                            "{other} {from} {mv:?}: {a} vs {b}"
                        ),
                        (Err(_), Err(_)) => {}
                        (a, b) => panic!("{other} {from} {mv:?}: {a:?} vs {b:?}"),
                    }
                }
            }
        }
    }

    #[test]
    fn every_finished_tip_and_ended_mediation_frees_its_owner() {
        for status in crate::tip::TipStatus::ALL {
            assert_eq!(
                FINISHED_STATUSES.contains(&status.as_str()),
                status.is_finished(),
                "{status}"
            );
        }
        for status in MediationStatus::ALL {
            let ended = status.is_terminal()
                || matches!(
                    status,
                    MediationStatus::Agreed | MediationStatus::Terminated | MediationStatus::Closed
                );
            assert_eq!(
                FINISHED_STATUSES.contains(&status.as_str()),
                ended,
                "{status}"
            );
        }
    }

    #[test]
    fn moves_carry_the_event_name_and_its_visibility() {
        let accept = routing_move(Service::Mediation, "offered", RoutingMove::Accept).unwrap();
        assert_eq!(
            accept,
            Move {
                from: "offered",
                to: "accepted",
                action: "accept",
                public: true
            }
        );
        let offer = routing_move(Service::Consultation, "pooled", RoutingMove::Offer).unwrap();
        assert!(!offer.public, "who was offered a case is staff-only");
        assert!(matches!(
            routing_move(Service::Consultation, "sideways", RoutingMove::Offer),
            Err(MoveError::UnknownStatus { .. })
        ));
        assert!(matches!(
            routing_move(Service::Mediation, "closed", RoutingMove::Offer),
            Err(MoveError::Forbidden(_))
        ));
    }
}
