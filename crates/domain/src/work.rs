//! Work: everything that flows outbox → queue → worker, as one type.
//!
//! A store transaction appends a [`Work`] to the outbox together with the
//! change that calls for it; the relay moves it to the queue as a job named by
//! [`Work::job_id`]; the router decodes it once and matches on it. Timers the
//! worker arms itself (offer, step, SLA) are the same type. The wire form is
//! the one the outbox and the queue have always held: a kind (the outbox
//! `topic`, the job `kind`) and a JSON payload of the variant's fields, so
//! rows and jobs written before this type existed still decode.
//!
//! Adding a kind of work is one variant here (and its arm in the router).

use crate::ids::{CaseId, MessageId, OfferId, StaffId, SupervisionId};
use crate::notify::{NotificationEvent, message_key};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// One unit of background work.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "payload", rename_all = "snake_case")]
pub enum Work {
    /// Decide who gets this case now (new, declined, lapsed, handed back,
    /// reopened, released by moderation).
    RouteCase { case_id: CaseId },
    /// This person can take more work: route the cases waiting in their queues.
    StaffAvailable { staff_id: StaffId },
    /// Send the resident the subscribe message owed for this event.
    Notify {
        event: NotificationEvent,
        case_id: CaseId,
        /// Tells apart two occurrences of an event owed once per
        /// occurrence (a second booking): drawn when the event is
        /// recorded, so a redelivered job still sends one message. `None`
        /// for events owed once per case (and rows written before it).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        occurrence: Option<Uuid>,
    },
    /// Send a staff member the subscribe message owed for something they
    /// were told on their event stream (an offer, an urge, ...). Appended
    /// with the stream's event, only for someone with WeChat bound.
    NotifyStaff {
        /// One of the staff events ([`NotificationEvent::is_staff`]).
        event: NotificationEvent,
        staff_id: StaffId,
        case_id: CaseId,
        /// Drawn when the event is told: a redelivered job sends once.
        occurrence: Uuid,
        /// The deadline the message shows (an offer's expiry, a
        /// supervision's deadline).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        deadline: Option<DateTime<Utc>>,
    },
    /// Check resident text that could not be checked when it was written.
    Moderate(ModerationSubject),
    /// An offer's time is up: expire it and route the case on.
    OfferTimeout { offer_id: OfferId },
    /// A case's ladder step ends: decide again (escalate if still waiting).
    StepTimeout {
        case_id: CaseId,
        /// Only part of the job id (one timer per step, so it never
        /// displaces a route job due sooner). Jobs queued before the step was
        /// in the payload lack it; they decode as step 0 and act the same.
        #[serde(default)]
        step: usize,
    },
    /// A case's earliest SLA deadline: record breaches, escalate, re-arm.
    SlaCheck { case_id: CaseId },
    /// A 督办 (supervision) deadline: if missed, the supervision climbs a
    /// level. Appended when the supervision is made (due at once); the
    /// worker re-arms it at the deadline.
    SupervisionDue { supervision_id: SupervisionId },
}

/// Resident text whose content check is still owed. On the wire
/// `{"kind": "case" | "message", "id": ...}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum ModerationSubject {
    /// A case's question.
    Case(CaseId),
    /// A resident's follow-up message.
    Message(MessageId),
}

/// A stored or queued piece of work that does not decode.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WorkError {
    #[error("unknown kind of work `{0}`")]
    UnknownKind(String),
    #[error("malformed `{kind}` payload: {reason}")]
    Malformed { kind: String, reason: String },
}

impl Work {
    /// Every kind, as written in the outbox `topic` and the job `kind`.
    pub const KINDS: [&'static str; 9] = [
        "route_case",
        "staff_available",
        "notify",
        "notify_staff",
        "moderate",
        "offer_timeout",
        "step_timeout",
        "sla_check",
        "supervision_due",
    ];

    /// The kind: the outbox `topic` and the queue job's `kind`.
    pub fn kind(&self) -> &'static str {
        match self {
            Work::RouteCase { .. } => "route_case",
            Work::StaffAvailable { .. } => "staff_available",
            Work::Notify { .. } => "notify",
            Work::NotifyStaff { .. } => "notify_staff",
            Work::Moderate(_) => "moderate",
            Work::OfferTimeout { .. } => "offer_timeout",
            Work::StepTimeout { .. } => "step_timeout",
            Work::SlaCheck { .. } => "sla_check",
            Work::SupervisionDue { .. } => "supervision_due",
        }
    }

    /// The queue job id. Derived from what the work acts on, so publishing
    /// the same work twice (relay retry, reconciler) leaves one job.
    pub fn job_id(&self) -> String {
        let kind = self.kind();
        match self {
            Work::RouteCase { case_id } | Work::SlaCheck { case_id } => format!("{kind}:{case_id}"),
            Work::StaffAvailable { staff_id } => format!("{kind}:{staff_id}"),
            Work::Notify {
                event,
                case_id,
                occurrence,
            } => format!("{kind}:{}", message_key(*event, *case_id, *occurrence)),
            Work::NotifyStaff {
                event,
                case_id,
                occurrence,
                ..
            } => format!(
                "{kind}:{}",
                message_key(*event, *case_id, Some(*occurrence))
            ),
            Work::Moderate(ModerationSubject::Case(id)) => format!("{kind}:case:{id}"),
            Work::Moderate(ModerationSubject::Message(id)) => format!("{kind}:message:{id}"),
            Work::OfferTimeout { offer_id } => format!("{kind}:{offer_id}"),
            Work::StepTimeout { case_id, step } => format!("{kind}:{case_id}:{step}"),
            Work::SupervisionDue { supervision_id } => format!("{kind}:{supervision_id}"),
        }
    }

    /// The payload stored beside [`kind`](Self::kind): the variant's fields.
    pub fn encode(&self) -> serde_json::Value {
        // Ids and unit enums always serialise; the adjacent tag puts the
        // fields under "payload".
        serde_json::to_value(self)
            .ok()
            .and_then(|mut tagged| tagged.get_mut("payload").map(serde_json::Value::take))
            .unwrap_or_default()
    }

    /// The work a stored `kind` and payload stand for.
    pub fn decode(kind: &str, payload: &serde_json::Value) -> Result<Work, WorkError> {
        if !Self::KINDS.contains(&kind) {
            return Err(WorkError::UnknownKind(kind.to_owned()));
        }
        let tagged = serde_json::json!({ "kind": kind, "payload": payload });
        serde_json::from_value(tagged).map_err(|e| WorkError::Malformed {
            kind: kind.to_owned(),
            reason: e.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const U: &str = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b";

    fn uuid() -> Uuid {
        U.parse().unwrap()
    }

    fn every_variant() -> Vec<Work> {
        vec![
            Work::RouteCase {
                case_id: uuid().into(),
            },
            Work::StaffAvailable {
                staff_id: uuid().into(),
            },
            Work::Notify {
                event: NotificationEvent::ConsultationAccepted,
                case_id: uuid().into(),
                occurrence: None,
            },
            Work::Notify {
                event: NotificationEvent::ConsultationAnswered,
                case_id: uuid().into(),
                occurrence: None,
            },
            Work::Notify {
                event: NotificationEvent::TipReopened,
                case_id: uuid().into(),
                occurrence: Some(uuid()),
            },
            Work::NotifyStaff {
                event: NotificationEvent::StaffOffer,
                staff_id: uuid().into(),
                case_id: uuid().into(),
                occurrence: uuid(),
                deadline: Some(
                    DateTime::parse_from_rfc3339("2026-12-05T10:00:00Z")
                        .unwrap()
                        .to_utc(),
                ),
            },
            Work::Moderate(ModerationSubject::Case(uuid().into())),
            Work::Moderate(ModerationSubject::Message(uuid().into())),
            Work::OfferTimeout {
                offer_id: uuid().into(),
            },
            Work::StepTimeout {
                case_id: uuid().into(),
                step: 2,
            },
            Work::SlaCheck {
                case_id: uuid().into(),
            },
            Work::SupervisionDue {
                supervision_id: uuid().into(),
            },
        ]
    }

    #[test]
    fn every_variant_round_trips() {
        for work in every_variant() {
            let decoded = Work::decode(work.kind(), &work.encode());
            assert_eq!(decoded, Ok(work), "{work:?}");
            // And through the outbox's text column.
            let text = work.encode().to_string();
            let value: serde_json::Value = serde_json::from_str(&text).unwrap();
            assert_eq!(Work::decode(work.kind(), &value), Ok(work));
        }
    }

    #[test]
    fn kinds_are_listed() {
        for work in every_variant() {
            assert!(Work::KINDS.contains(&work.kind()), "{}", work.kind());
        }
    }

    #[test]
    fn job_ids_are_stable() {
        let ids: Vec<String> = every_variant().iter().map(Work::job_id).collect();
        assert_eq!(
            ids,
            [
                format!("route_case:{U}"),
                format!("staff_available:{U}"),
                format!("notify:consultation_accepted:{U}"),
                format!("notify:consultation_answered:{U}"),
                format!("notify:tip_reopened:{U}"),
                format!("notify_staff:staff_offer:{U}"),
                format!("moderate:case:{U}"),
                format!("moderate:message:{U}"),
                format!("offer_timeout:{U}"),
                format!("step_timeout:{U}:2"),
                format!("sla_check:{U}"),
                format!("supervision_due:{U}"),
            ]
        );
    }

    /// The payloads are the ones the outbox and queue held before this
    /// type: rows and jobs already written keep working.
    #[test]
    fn wire_form_is_unchanged() {
        let case = |kind, payload| Work::decode(kind, &payload).unwrap();
        assert_eq!(
            case("route_case", json!({ "case_id": U })),
            Work::RouteCase {
                case_id: uuid().into()
            }
        );
        assert_eq!(
            case("staff_available", json!({ "staff_id": U })),
            Work::StaffAvailable {
                staff_id: uuid().into()
            }
        );
        assert_eq!(
            case(
                "notify",
                json!({ "event": "consultation_answered", "case_id": U })
            ),
            Work::Notify {
                event: NotificationEvent::ConsultationAnswered,
                case_id: uuid().into(),
                occurrence: None,
            }
        );
        assert_eq!(
            case("moderate", json!({ "kind": "message", "id": U })),
            Work::Moderate(ModerationSubject::Message(uuid().into()))
        );
        assert_eq!(
            case("offer_timeout", json!({ "offer_id": U })),
            Work::OfferTimeout {
                offer_id: uuid().into()
            }
        );
        // Step timers queued before the step was in the payload.
        assert_eq!(
            case("step_timeout", json!({ "case_id": U })),
            Work::StepTimeout {
                case_id: uuid().into(),
                step: 0
            }
        );
        assert_eq!(
            case("sla_check", json!({ "case_id": U })),
            Work::SlaCheck {
                case_id: uuid().into()
            }
        );
        assert_eq!(
            Work::Moderate(ModerationSubject::Case(uuid().into())).encode(),
            json!({ "kind": "case", "id": U })
        );
        assert_eq!(
            Work::StepTimeout {
                case_id: uuid().into(),
                step: 1
            }
            .encode(),
            json!({ "case_id": U, "step": 1 })
        );
    }

    #[test]
    fn malformed_work_is_a_typed_error() {
        assert_eq!(
            Work::decode("launch_missiles", &json!({})),
            Err(WorkError::UnknownKind("launch_missiles".into()))
        );
        for (kind, payload) in [
            ("route_case", json!({})),
            ("route_case", json!({ "case_id": "not a uuid" })),
            ("route_case", json!(null)),
            ("route_case", json!("text")),
            ("staff_available", json!({ "case_id": U })),
            ("notify", json!({ "event": "party_time", "case_id": U })),
            ("notify", json!({ "case_id": U })),
            ("moderate", json!({ "kind": "photo", "id": U })),
            ("moderate", json!({ "id": U })),
            ("offer_timeout", json!([U])),
            ("step_timeout", json!({ "case_id": U, "step": -1 })),
            ("sla_check", json!({ "case_id": 7 })),
        ] {
            match Work::decode(kind, &payload) {
                Err(WorkError::Malformed { kind: k, .. }) => assert_eq!(k, kind),
                other => panic!("{kind} {payload}: {other:?}"),
            }
        }
    }
}
