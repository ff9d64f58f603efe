//! Routing decisions for consultations: a pure function over a snapshot.
//!
//! First version of the engine (the routing-engine issue generalises it to
//! every service with ladders, skills and capacity): offer a new consultation
//! to the community's signed lawyer; when there is none, they are inactive,
//! or they already had it (declined or let the offer expire), it goes to the
//! pool of the law firms signed to the community's street or district.

use crate::consultation::ConsultationStatus;
use crate::ids::StaffId;
use chrono::{DateTime, Duration, Utc};

/// The community's signed lawyer, as the router sees them now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignedLawyer {
    pub id: StaffId,
    /// A deactivated account is never offered anything.
    pub active: bool,
}

/// What the router knows about one consultation when it decides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoutingSnapshot {
    pub status: ConsultationStatus,
    pub signed_lawyer: Option<SignedLawyer>,
    /// Staff who already had an offer for this case (declined or expired).
    pub previously_offered: Vec<StaffId>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PoolReason {
    NoSignedLawyer,
    SignedLawyerInactive,
    SignedLawyerAlreadyOffered,
}

impl PoolReason {
    pub fn as_str(&self) -> &'static str {
        match self {
            PoolReason::NoSignedLawyer => "no signed lawyer for this community",
            PoolReason::SignedLawyerInactive => "the signed lawyer is not active",
            PoolReason::SignedLawyerAlreadyOffered => "the signed lawyer already had this case",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoutingDecision {
    Offer {
        to: StaffId,
        expires_at: DateTime<Utc>,
    },
    Pool(PoolReason),
    /// The case is past routing (a duplicate delivery of its route event, or
    /// withdrawn meanwhile): do nothing. This is what makes the handler idempotent.
    AlreadyRouted,
}

pub fn route_consultation(
    snapshot: &RoutingSnapshot,
    now: DateTime<Utc>,
    offer_timeout: Duration,
) -> RoutingDecision {
    if snapshot.status != ConsultationStatus::Submitted {
        return RoutingDecision::AlreadyRouted;
    }
    match snapshot.signed_lawyer {
        None => RoutingDecision::Pool(PoolReason::NoSignedLawyer),
        Some(lawyer) if !lawyer.active => RoutingDecision::Pool(PoolReason::SignedLawyerInactive),
        Some(lawyer) if snapshot.previously_offered.contains(&lawyer.id) => {
            RoutingDecision::Pool(PoolReason::SignedLawyerAlreadyOffered)
        }
        Some(lawyer) => RoutingDecision::Offer {
            to: lawyer.id,
            expires_at: now + offer_timeout,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ConsultationStatus as S;

    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_790_000_000 + secs, 0).unwrap()
    }

    #[test]
    fn routing_table() {
        let lawyer = StaffId::new();
        let other = StaffId::new();
        let active = Some(SignedLawyer {
            id: lawyer,
            active: true,
        });
        let timeout = Duration::minutes(30);
        let offer = RoutingDecision::Offer {
            to: lawyer,
            expires_at: at(1800),
        };
        let cases: Vec<(&str, RoutingSnapshot, RoutingDecision)> = vec![
            (
                "new case, signed lawyer available → offer with deadline",
                RoutingSnapshot {
                    status: S::Submitted,
                    signed_lawyer: active,
                    previously_offered: vec![],
                },
                offer,
            ),
            (
                "someone else had it before → still offer the signed lawyer",
                RoutingSnapshot {
                    status: S::Submitted,
                    signed_lawyer: active,
                    previously_offered: vec![other],
                },
                offer,
            ),
            (
                "no signed lawyer → pool",
                RoutingSnapshot {
                    status: S::Submitted,
                    signed_lawyer: None,
                    previously_offered: vec![],
                },
                RoutingDecision::Pool(PoolReason::NoSignedLawyer),
            ),
            (
                "signed lawyer deactivated → pool",
                RoutingSnapshot {
                    status: S::Submitted,
                    signed_lawyer: Some(SignedLawyer {
                        id: lawyer,
                        active: false,
                    }),
                    previously_offered: vec![],
                },
                RoutingDecision::Pool(PoolReason::SignedLawyerInactive),
            ),
            (
                "signed lawyer declined before → pool, never offered twice",
                RoutingSnapshot {
                    status: S::Submitted,
                    signed_lawyer: active,
                    previously_offered: vec![lawyer],
                },
                RoutingDecision::Pool(PoolReason::SignedLawyerAlreadyOffered),
            ),
        ];
        for (name, snapshot, want) in cases {
            assert_eq!(
                route_consultation(&snapshot, at(0), timeout),
                want,
                "{name}"
            );
        }
    }

    #[test]
    fn duplicate_route_events_change_nothing() {
        for status in S::ALL.into_iter().filter(|s| *s != S::Submitted) {
            let snapshot = RoutingSnapshot {
                status,
                signed_lawyer: Some(SignedLawyer {
                    id: StaffId::new(),
                    active: true,
                }),
                previously_offered: vec![],
            };
            assert_eq!(
                route_consultation(&snapshot, at(0), Duration::seconds(5)),
                RoutingDecision::AlreadyRouted,
                "{status}"
            );
        }
    }
}
