//! What a staff member is told on their event stream (`GET /staff/events`):
//! one small value per change, with ids and times only. Never a name, a
//! phone number, a message's text or anything of a tip's reporter: the
//! stream says *that* something happened; the case's own endpoints (scoped
//! as ever) say what.

use crate::catalog::Service;
use crate::ids::{CaseId, ExtensionId, MessageId, OfferId};
use crate::notify::NotificationEvent;
use crate::sla::SlaKind;
use crate::supervision::ExtensionStatus;
use crate::urge::UrgedBy;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;

/// The event's type, the SSE `event:` line and the stored `kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StaffEventKind {
    /// A case is offered to you, until `expires_at`.
    Offer,
    /// An offer to you lapsed unanswered.
    OfferExpired,
    /// A case was given to you or taken from you by hand.
    Reassigned,
    /// A resident (or a tip's reporter) wrote on a case you own.
    FollowUp,
    /// Someone else (staff) wrote on a case you own.
    Message,
    /// A resident or a coordinator urged (催办) a case you own or hold an
    /// offer for.
    Urge,
    /// A case you own was put under 督办 (supervision) with a deadline; or,
    /// for coordinators, a supervision climbed to your unit (its deadline
    /// was missed below).
    Supervised,
    /// A case you own passed a response-time target (to the coordinators
    /// over its community).
    Overdue,
    /// Your 延期 (extension) request was granted or refused.
    Extension,
    /// For coordinators over the case's community: its owner asks for a
    /// 延期 (extension) that waits for their decision.
    ExtensionRequested,
    /// The resident answered your proposal to turn their consultation into
    /// a mediation (consented, with the new case, or refused).
    ConversionAnswered,
}

impl StaffEventKind {
    pub const ALL: [StaffEventKind; 11] = [
        StaffEventKind::Offer,
        StaffEventKind::OfferExpired,
        StaffEventKind::Reassigned,
        StaffEventKind::FollowUp,
        StaffEventKind::Message,
        StaffEventKind::Urge,
        StaffEventKind::Supervised,
        StaffEventKind::Overdue,
        StaffEventKind::Extension,
        StaffEventKind::ExtensionRequested,
        StaffEventKind::ConversionAnswered,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            StaffEventKind::Offer => "offer",
            StaffEventKind::OfferExpired => "offer_expired",
            StaffEventKind::Reassigned => "reassigned",
            StaffEventKind::FollowUp => "follow_up",
            StaffEventKind::Message => "message",
            StaffEventKind::Urge => "urge",
            StaffEventKind::Supervised => "supervised",
            StaffEventKind::Overdue => "overdue",
            StaffEventKind::Extension => "extension",
            StaffEventKind::ExtensionRequested => "extension_requested",
            StaffEventKind::ConversionAnswered => "conversion_answered",
        }
    }
}

impl fmt::Display for StaffEventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for StaffEventKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| format!("unknown staff event kind {s:?}"))
    }
}

/// Which way a reassignment went, for the person told.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// The case is now yours.
    Given,
    /// The case is no longer yours.
    Taken,
}

/// One thing to tell one staff member. `data()` is the JSON of the SSE
/// `data:` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StaffEvent {
    Offer {
        case_id: CaseId,
        service: Service,
        offer_id: OfferId,
        expires_at: DateTime<Utc>,
    },
    OfferExpired {
        case_id: CaseId,
        service: Service,
        offer_id: OfferId,
    },
    Reassigned {
        case_id: CaseId,
        service: Service,
        direction: Direction,
    },
    FollowUp {
        case_id: CaseId,
        service: Service,
        message_id: MessageId,
    },
    Message {
        case_id: CaseId,
        service: Service,
        message_id: MessageId,
    },
    Urge {
        case_id: CaseId,
        service: Service,
        by: UrgedBy,
    },
    Supervised {
        case_id: CaseId,
        service: Service,
        deadline: DateTime<Utc>,
        /// 0 where it was put; one more for each level it climbed.
        level: i32,
    },
    Overdue {
        case_id: CaseId,
        service: Service,
        clock: SlaKind,
    },
    Extension {
        case_id: CaseId,
        service: Service,
        extension_id: ExtensionId,
        status: ExtensionStatus,
    },
    ExtensionRequested {
        case_id: CaseId,
        service: Service,
        extension_id: ExtensionId,
        extra_minutes: i64,
    },
    ConversionAnswered {
        case_id: CaseId,
        consent: bool,
        /// The mediation filed on consent.
        mediation_id: Option<CaseId>,
    },
}

impl StaffEvent {
    pub fn kind(&self) -> StaffEventKind {
        match self {
            StaffEvent::Offer { .. } => StaffEventKind::Offer,
            StaffEvent::OfferExpired { .. } => StaffEventKind::OfferExpired,
            StaffEvent::Reassigned { .. } => StaffEventKind::Reassigned,
            StaffEvent::FollowUp { .. } => StaffEventKind::FollowUp,
            StaffEvent::Message { .. } => StaffEventKind::Message,
            StaffEvent::Urge { .. } => StaffEventKind::Urge,
            StaffEvent::Supervised { .. } => StaffEventKind::Supervised,
            StaffEvent::Overdue { .. } => StaffEventKind::Overdue,
            StaffEvent::Extension { .. } => StaffEventKind::Extension,
            StaffEvent::ExtensionRequested { .. } => StaffEventKind::ExtensionRequested,
            StaffEvent::ConversionAnswered { .. } => StaffEventKind::ConversionAnswered,
        }
    }

    /// The event's fields as one JSON object (RFC 3339 UTC times).
    pub fn data(&self) -> serde_json::Value {
        use serde_json::json;
        match self {
            StaffEvent::Offer {
                case_id,
                service,
                offer_id,
                expires_at,
            } => json!({
                "case_id": case_id,
                "service": service,
                "offer_id": offer_id,
                "expires_at": expires_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            }),
            StaffEvent::OfferExpired {
                case_id,
                service,
                offer_id,
            } => json!({ "case_id": case_id, "service": service, "offer_id": offer_id }),
            StaffEvent::Reassigned {
                case_id,
                service,
                direction,
            } => json!({ "case_id": case_id, "service": service, "direction": direction }),
            StaffEvent::FollowUp {
                case_id,
                service,
                message_id,
            }
            | StaffEvent::Message {
                case_id,
                service,
                message_id,
            } => json!({ "case_id": case_id, "service": service, "message_id": message_id }),
            StaffEvent::Urge {
                case_id,
                service,
                by,
            } => json!({ "case_id": case_id, "service": service, "by": by }),
            StaffEvent::Supervised {
                case_id,
                service,
                deadline,
                level,
            } => json!({
                "case_id": case_id,
                "service": service,
                "deadline": deadline.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                "level": level,
            }),
            StaffEvent::Overdue {
                case_id,
                service,
                clock,
            } => json!({ "case_id": case_id, "service": service, "clock": clock.as_str() }),
            StaffEvent::Extension {
                case_id,
                service,
                extension_id,
                status,
            } => json!({
                "case_id": case_id,
                "service": service,
                "extension_id": extension_id,
                "status": status,
            }),
            StaffEvent::ExtensionRequested {
                case_id,
                service,
                extension_id,
                extra_minutes,
            } => json!({
                "case_id": case_id,
                "service": service,
                "extension_id": extension_id,
                "extra_minutes": extra_minutes,
            }),
            StaffEvent::ConversionAnswered {
                case_id,
                consent,
                mediation_id,
            } => json!({
                "case_id": case_id,
                "service": Service::Consultation,
                "consent": consent,
                "mediation_id": mediation_id,
            }),
        }
    }
}

/// The subscribe message a staff member with WeChat bound is also sent for
/// an event: the events that call for action away from the desk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StaffNotice {
    pub event: NotificationEvent,
    pub case_id: CaseId,
    /// The deadline the message shows, if the event has one.
    pub deadline: Option<DateTime<Utc>>,
}

impl StaffEvent {
    /// The subscribe message this event also sends, if any: an offer (with
    /// its expiry), an urge, a supervision (with its deadline), an overdue
    /// case and a decided extension. The rest stay on the stream.
    pub fn notice(&self) -> Option<StaffNotice> {
        let (event, case_id, deadline) = match self {
            StaffEvent::Offer {
                case_id,
                expires_at,
                ..
            } => (NotificationEvent::StaffOffer, *case_id, Some(*expires_at)),
            StaffEvent::Urge { case_id, .. } => (NotificationEvent::StaffUrge, *case_id, None),
            StaffEvent::Supervised {
                case_id, deadline, ..
            } => (
                NotificationEvent::StaffSupervised,
                *case_id,
                Some(*deadline),
            ),
            StaffEvent::Overdue { case_id, .. } => {
                (NotificationEvent::StaffOverdue, *case_id, None)
            }
            StaffEvent::Extension {
                case_id, status, ..
            } => match status {
                ExtensionStatus::Granted => {
                    (NotificationEvent::StaffExtensionGranted, *case_id, None)
                }
                ExtensionStatus::Refused => {
                    (NotificationEvent::StaffExtensionRefused, *case_id, None)
                }
                ExtensionStatus::Pending => return None,
            },
            StaffEvent::OfferExpired { .. }
            | StaffEvent::Reassigned { .. }
            | StaffEvent::FollowUp { .. }
            | StaffEvent::Message { .. }
            | StaffEvent::ExtensionRequested { .. }
            | StaffEvent::ConversionAnswered { .. } => return None,
        };
        Some(StaffNotice {
            event,
            case_id,
            deadline,
        })
    }
}

/// How long a stream's heartbeat says its owner is connected: a stream
/// writes one on connecting and at every keep-alive (15 s), so two missed
/// keep-alives and a margin.
pub const STREAM_SEEN_GRACE_SECONDS: i64 = 45;

/// Whether someone who let an offer lapse is set away: only if they could
/// have been told of it, i.e. a stream of theirs was seen connected at some
/// time from (just before) the offer's making to its lapse. Someone never
/// told stays available; the case moves on either way.
pub fn away_after_lapse(offered_at: DateTime<Utc>, stream_seen_at: Option<DateTime<Utc>>) -> bool {
    stream_seen_at.is_some_and(|seen| {
        seen >= offered_at - chrono::Duration::seconds(STREAM_SEEN_GRACE_SECONDS)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip() {
        for kind in StaffEventKind::ALL {
            assert_eq!(kind.as_str().parse::<StaffEventKind>(), Ok(kind));
        }
    }

    #[test]
    fn only_someone_who_could_have_been_told_is_set_away() {
        let offered = Utc::now();
        assert!(!away_after_lapse(offered, None));
        assert!(!away_after_lapse(
            offered,
            Some(offered - chrono::Duration::minutes(5))
        ));
        assert!(away_after_lapse(
            offered,
            Some(offered - chrono::Duration::seconds(10))
        ));
        assert!(away_after_lapse(
            offered,
            Some(offered + chrono::Duration::seconds(30))
        ));
    }

    #[test]
    fn an_offer_says_no_more_than_ids_and_its_deadline() {
        let event = StaffEvent::Offer {
            case_id: CaseId::new(),
            service: Service::Tip,
            offer_id: OfferId::new(),
            expires_at: Utc::now(),
        };
        let data = event.data();
        let keys: Vec<&str> = data
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(keys.len(), 4, "{keys:?}");
        assert_eq!(data["service"], "tip");
    }
}
