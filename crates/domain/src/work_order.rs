//! What every service's case shares: the routing part of its life
//! (submitted → offered / pooled → owned), driven by one engine. Each
//! service's own machine says where a routing move leads from a given
//! status; this module speaks for all of them, so the store and the router
//! never branch on the service themselves.

use crate::catalog::Service;
use crate::consultation::{self, ConsultationAction, ConsultationStatus};
use crate::mediation::{self, MediationAction, MediationStatus};
use crate::tip::{self, TipAction, TipStatus};
use std::fmt;

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

/// The status of a case of any service: one `cases.status` column is shared
/// by the three services, so the same word (`submitted`) means a state of
/// whichever machine the case's service runs. Parsed with its service at the
/// row boundary ([`CaseStatus::parse`]); everything past it compares enums.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CaseStatus {
    Consultation(ConsultationStatus),
    Mediation(MediationStatus),
    Tip(TipStatus),
}

impl CaseStatus {
    /// Where every service's machine starts (`work_order` tests it).
    pub fn submitted(service: Service) -> CaseStatus {
        match service {
            Service::Consultation => ConsultationStatus::Submitted.into(),
            Service::Mediation => MediationStatus::Submitted.into(),
            Service::Tip => TipStatus::Submitted.into(),
        }
    }

    /// The status column `status` of a case of `service`.
    pub fn parse(service: Service, status: &str) -> Result<CaseStatus, MoveError> {
        let unknown = |_| MoveError::UnknownStatus {
            service,
            status: status.to_owned(),
        };
        Ok(match service {
            Service::Consultation => CaseStatus::Consultation(status.parse().map_err(unknown)?),
            Service::Mediation => CaseStatus::Mediation(status.parse().map_err(unknown)?),
            Service::Tip => CaseStatus::Tip(status.parse().map_err(unknown)?),
        })
    }

    pub fn service(&self) -> Service {
        match self {
            CaseStatus::Consultation(_) => Service::Consultation,
            CaseStatus::Mediation(_) => Service::Mediation,
            CaseStatus::Tip(_) => Service::Tip,
        }
    }

    /// The name stored in `cases.status`.
    pub fn as_str(&self) -> &'static str {
        match self {
            CaseStatus::Consultation(s) => s.as_str(),
            CaseStatus::Mediation(s) => s.as_str(),
            CaseStatus::Tip(s) => s.as_str(),
        }
    }

    /// Not yet routed for the first time (its `RouteCase` is still owed).
    pub fn is_submitted(&self) -> bool {
        matches!(
            self,
            CaseStatus::Consultation(ConsultationStatus::Submitted)
                | CaseStatus::Mediation(MediationStatus::Submitted)
                | CaseStatus::Tip(TipStatus::Submitted)
        )
    }

    /// Waiting in a queue on its ladder step (after a first routing, a
    /// decline, a lapse, a hand-back).
    pub fn is_pooled(&self) -> bool {
        matches!(
            self,
            CaseStatus::Consultation(ConsultationStatus::Pooled)
                | CaseStatus::Mediation(MediationStatus::Pooled)
                | CaseStatus::Tip(TipStatus::Pooled)
        )
    }

    /// Waiting for the engine (not offered, not owned).
    pub fn is_waiting(&self) -> bool {
        self.is_submitted() || self.is_pooled()
    }

    /// No longer counts against its owner's capacity ([`FINISHED_STATUSES`]).
    pub fn is_finished(&self) -> bool {
        FINISHED_STATUSES.contains(&self.as_str())
    }
}

impl fmt::Display for CaseStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<ConsultationStatus> for CaseStatus {
    fn from(s: ConsultationStatus) -> Self {
        CaseStatus::Consultation(s)
    }
}

impl From<MediationStatus> for CaseStatus {
    fn from(s: MediationStatus) -> Self {
        CaseStatus::Mediation(s)
    }
}

impl From<TipStatus> for CaseStatus {
    fn from(s: TipStatus) -> Self {
        CaseStatus::Tip(s)
    }
}

/// A move as it is applied: the new status and the event to record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Move {
    pub from: CaseStatus,
    pub to: CaseStatus,
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

/// Where `mv` takes a case that is `from` (its own service's machine decides).
pub fn routing_move(from: CaseStatus, mv: RoutingMove) -> Result<Move, MoveError> {
    let (to, action, public): (CaseStatus, &'static str, bool) = match from {
        CaseStatus::Consultation(from) => {
            let action = consultation_action(mv);
            let to = consultation::transition(from, action)
                .map_err(|e| MoveError::Forbidden(e.to_string()))?;
            (to.into(), action.as_str(), action.is_public())
        }
        CaseStatus::Mediation(from) => {
            let action = mediation_action(mv);
            let to = mediation::transition(from, action)
                .map_err(|e| MoveError::Forbidden(e.to_string()))?;
            (to.into(), action.as_str(), action.is_public())
        }
        CaseStatus::Tip(from) => {
            let action = tip_action(mv);
            let to =
                tip::transition(from, action).map_err(|e| MoveError::Forbidden(e.to_string()))?;
            (to.into(), action.as_str(), action.is_public())
        }
    };
    Ok(Move {
        from,
        to,
        action,
        public,
    })
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
                    let at = |service| CaseStatus::parse(service, from).unwrap();
                    let c = routing_move(at(Service::Consultation), mv).map(|m| m.to.as_str());
                    let m = routing_move(at(other), mv).map(|m| m.to.as_str());
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
    fn a_case_status_reads_back_as_its_own_service_and_name() {
        for service in Service::ALL {
            assert!(CaseStatus::submitted(service).is_submitted());
            assert_eq!(CaseStatus::submitted(service).service(), service);
        }
        let all = ConsultationStatus::ALL
            .map(CaseStatus::from)
            .into_iter()
            .chain(MediationStatus::ALL.map(CaseStatus::from))
            .chain(TipStatus::ALL.map(CaseStatus::from));
        for status in all {
            assert_eq!(
                CaseStatus::parse(status.service(), status.as_str()),
                Ok(status)
            );
            assert_eq!(
                status.is_waiting(),
                matches!(status.as_str(), "submitted" | "pooled"),
                "{status}"
            );
        }
    }

    #[test]
    fn moves_carry_the_event_name_and_its_visibility() {
        let accept = routing_move(MediationStatus::Offered.into(), RoutingMove::Accept).unwrap();
        assert_eq!(
            accept,
            Move {
                from: MediationStatus::Offered.into(),
                to: MediationStatus::Accepted.into(),
                action: "accept",
                public: true
            }
        );
        let offer = routing_move(ConsultationStatus::Pooled.into(), RoutingMove::Offer).unwrap();
        assert!(!offer.public, "who was offered a case is staff-only");
        assert!(matches!(
            CaseStatus::parse(Service::Consultation, "sideways"),
            Err(MoveError::UnknownStatus { .. })
        ));
        assert!(matches!(
            CaseStatus::parse(Service::Consultation, "agreed"),
            Err(MoveError::UnknownStatus { .. })
        ));
        assert!(matches!(
            routing_move(MediationStatus::Closed.into(), RoutingMove::Offer),
            Err(MoveError::Forbidden(_))
        ));
    }
}
