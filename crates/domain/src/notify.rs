//! What residents are told, and when: events of their case mapped onto
//! WeChat subscribe-message templates by configuration.

use crate::ids::CaseId;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use uuid::Uuid;

/// Events that send a subscribe message to the resident.
///
/// Every service's states a resident cares about. Consultations'
/// `accepted` and `answered` are owed once per case; every other event
/// once per time it happens (a second booking, a second reopen is news),
/// told apart by the occurrence the store gives it ([`Self::once_per_case`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotificationEvent {
    /// A lawyer took the consultation.
    ConsultationAccepted,
    /// The lawyer's first answer arrived.
    ConsultationAnswered,
    /// The lawyer marked the consultation done (办结).
    ConsultationResolved,
    /// The lawyer proposes turning the consultation into a mediation; it
    /// waits for the resident's consent (三所联动).
    ConsultationConversionProposed,
    /// The lawyer handed the consultation to the community officer as a tip.
    ConsultationConvertedToTip,
    /// A mediator accepted the mediation (受理).
    MediationAccepted,
    /// A session was booked.
    MediationSessionBooked,
    /// A session was moved to another time or room.
    MediationSessionRescheduled,
    /// A session was cancelled.
    MediationSessionCancelled,
    /// The outcome: an agreement was reached.
    MediationAgreed,
    /// The outcome: the mediation ended without agreement.
    MediationTerminated,
    /// The follow-up visit (回访) was recorded.
    MediationVisited,
    /// The case went up a tier (to the street, the district).
    MediationEscalated,
    /// An officer signed for the tip (签收).
    TipAcknowledged,
    /// Triaged: a real police matter, being handled.
    TipValid,
    /// Triaged: checked, no grounds found.
    TipUnfounded,
    /// Triaged: not a police matter, referred to the body responsible.
    TipReferred,
    /// The officer closed the tip.
    TipClosed,
    /// The tip is being handled again (the reporter wrote after it was closed).
    TipReopened,
    /// To a staff member: a case is offered to you, until its deadline.
    StaffOffer,
    /// To a staff member: a case of yours was urged (催办).
    StaffUrge,
    /// To a staff member: a case of yours was put under 督办, or a
    /// supervision climbed to you.
    StaffSupervised,
    /// To a staff member: a case passed a response-time target.
    StaffOverdue,
    /// To a staff member: your 延期 request was granted.
    StaffExtensionGranted,
    /// To a staff member: your 延期 request was refused.
    StaffExtensionRefused,
}

impl NotificationEvent {
    pub const ALL: [NotificationEvent; 25] = [
        NotificationEvent::ConsultationAccepted,
        NotificationEvent::ConsultationAnswered,
        NotificationEvent::ConsultationResolved,
        NotificationEvent::ConsultationConversionProposed,
        NotificationEvent::ConsultationConvertedToTip,
        NotificationEvent::MediationAccepted,
        NotificationEvent::MediationSessionBooked,
        NotificationEvent::MediationSessionRescheduled,
        NotificationEvent::MediationSessionCancelled,
        NotificationEvent::MediationAgreed,
        NotificationEvent::MediationTerminated,
        NotificationEvent::MediationVisited,
        NotificationEvent::MediationEscalated,
        NotificationEvent::TipAcknowledged,
        NotificationEvent::TipValid,
        NotificationEvent::TipUnfounded,
        NotificationEvent::TipReferred,
        NotificationEvent::TipClosed,
        NotificationEvent::TipReopened,
        NotificationEvent::StaffOffer,
        NotificationEvent::StaffUrge,
        NotificationEvent::StaffSupervised,
        NotificationEvent::StaffOverdue,
        NotificationEvent::StaffExtensionGranted,
        NotificationEvent::StaffExtensionRefused,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            NotificationEvent::ConsultationAccepted => "consultation_accepted",
            NotificationEvent::ConsultationAnswered => "consultation_answered",
            NotificationEvent::ConsultationResolved => "consultation_resolved",
            NotificationEvent::ConsultationConversionProposed => "consultation_conversion_proposed",
            NotificationEvent::ConsultationConvertedToTip => "consultation_converted_to_tip",
            NotificationEvent::MediationAccepted => "mediation_accepted",
            NotificationEvent::MediationSessionBooked => "mediation_session_booked",
            NotificationEvent::MediationSessionRescheduled => "mediation_session_rescheduled",
            NotificationEvent::MediationSessionCancelled => "mediation_session_cancelled",
            NotificationEvent::MediationAgreed => "mediation_agreed",
            NotificationEvent::MediationTerminated => "mediation_terminated",
            NotificationEvent::MediationVisited => "mediation_visited",
            NotificationEvent::MediationEscalated => "mediation_escalated",
            NotificationEvent::TipAcknowledged => "tip_acknowledged",
            NotificationEvent::TipValid => "tip_valid",
            NotificationEvent::TipUnfounded => "tip_unfounded",
            NotificationEvent::TipReferred => "tip_referred",
            NotificationEvent::TipClosed => "tip_closed",
            NotificationEvent::TipReopened => "tip_reopened",
            NotificationEvent::StaffOffer => "staff_offer",
            NotificationEvent::StaffUrge => "staff_urge",
            NotificationEvent::StaffSupervised => "staff_supervised",
            NotificationEvent::StaffOverdue => "staff_overdue",
            NotificationEvent::StaffExtensionGranted => "staff_extension_granted",
            NotificationEvent::StaffExtensionRefused => "staff_extension_refused",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|e| e.as_str() == text)
    }

    /// Owed once per case however often it happens (the first acceptance,
    /// the first answer); every other event once per occurrence.
    pub fn once_per_case(&self) -> bool {
        matches!(
            self,
            NotificationEvent::ConsultationAccepted | NotificationEvent::ConsultationAnswered
        )
    }

    /// The status word shown in the message: at most five Chinese
    /// characters, as WeChat's `phrase` fields take.
    pub fn status_label(&self) -> &'static str {
        match self {
            NotificationEvent::ConsultationAccepted => "律师已受理",
            NotificationEvent::ConsultationAnswered => "律师已答复",
            NotificationEvent::ConsultationResolved => "咨询已办结",
            NotificationEvent::ConsultationConversionProposed => "建议转调解",
            NotificationEvent::ConsultationConvertedToTip => "已转交民警",
            NotificationEvent::MediationAccepted => "调解已受理",
            NotificationEvent::MediationSessionBooked => "调解已预约",
            NotificationEvent::MediationSessionRescheduled => "调解已改期",
            NotificationEvent::MediationSessionCancelled => "调解已取消",
            NotificationEvent::MediationAgreed => "达成协议",
            NotificationEvent::MediationTerminated => "调解已终止",
            NotificationEvent::MediationVisited => "已回访",
            NotificationEvent::MediationEscalated => "已移交上级",
            NotificationEvent::TipAcknowledged => "民警已签收",
            NotificationEvent::TipValid => "已受理核查",
            NotificationEvent::TipUnfounded => "经查不属实",
            NotificationEvent::TipReferred => "已转交部门",
            NotificationEvent::TipClosed => "线索已办结",
            NotificationEvent::TipReopened => "已重新办理",
            NotificationEvent::StaffOffer => "新工单待接",
            NotificationEvent::StaffUrge => "收到催办",
            NotificationEvent::StaffSupervised => "已列入督办",
            NotificationEvent::StaffOverdue => "工单已超时",
            NotificationEvent::StaffExtensionGranted => "延期已批准",
            NotificationEvent::StaffExtensionRefused => "延期未批准",
        }
    }

    /// Sent to a staff member (with a staff credit, to the openid they
    /// bound), not to a case's resident.
    pub fn is_staff(&self) -> bool {
        matches!(
            self,
            NotificationEvent::StaffOffer
                | NotificationEvent::StaffUrge
                | NotificationEvent::StaffSupervised
                | NotificationEvent::StaffOverdue
                | NotificationEvent::StaffExtensionGranted
                | NotificationEvent::StaffExtensionRefused
        )
    }

    /// Who handles it, when the template shows the handler but the case
    /// has none (or their name is unknown).
    pub fn handler_fallback(&self) -> &'static str {
        match self.as_str().split('_').next() {
            Some("mediation") => "调解员",
            Some("tip") => "民警",
            Some("staff") => "工作人员",
            _ => "律师",
        }
    }
}

/// The one message owed for an event of a case: `event:case_id` for events
/// owed once per case, `event:occurrence` for the others (the occurrence
/// is unique on its own; the row keeps the case id beside it, and the key
/// stays within the 96 characters of `notifications.id`). The
/// notification row's id and (prefixed `notify:`) the job's.
pub fn message_key(event: NotificationEvent, case_id: CaseId, occurrence: Option<Uuid>) -> String {
    match occurrence {
        Some(occurrence) => format!("{}:{occurrence}", event.as_str()),
        None => format!("{}:{case_id}", event.as_str()),
    }
}

/// Where the one message owed for an event stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NotificationStatus {
    /// Owed, not yet sent (or to be retried).
    Pending,
    /// Claimed by an instance that is sending it.
    Sending,
    Sent,
    /// The resident had no credit for the template left: not sent.
    NoCredit,
    /// Given up after the configured attempts.
    Dead,
}

impl NotificationStatus {
    pub const ALL: [NotificationStatus; 5] = [
        NotificationStatus::Pending,
        NotificationStatus::Sending,
        NotificationStatus::Sent,
        NotificationStatus::NoCredit,
        NotificationStatus::Dead,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            NotificationStatus::Pending => "pending",
            NotificationStatus::Sending => "sending",
            NotificationStatus::Sent => "sent",
            NotificationStatus::NoCredit => "no_credit",
            NotificationStatus::Dead => "dead",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

/// What a template field shows. Only these: nothing personal can be
/// configured into a message by mistake.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Placeholder {
    /// The category's Chinese name.
    Category,
    /// What happened (`律师已受理`).
    Status,
    /// The handler's display name (lawyer, mediator, officer).
    Lawyer,
    /// When it happened, Beijing time.
    Time,
    /// The first 8 characters of the case id.
    CaseNo,
    /// When the latest booked mediation session still standing starts
    /// (the one just booked, or where one was moved to), Beijing time;
    /// `待定` if none.
    SessionTime,
    /// The deadline the event carries (an offer's expiry, a supervision's
    /// deadline), Beijing time; `无` if none.
    Deadline,
}

/// One template, as configured.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemplateSettings {
    pub template_id: String,
    /// The mini-program page opened from the message; `{case_id}` is replaced.
    pub page: String,
    /// Template data key (`thing1`, `time2`, ...) → what it shows.
    pub fields: BTreeMap<String, Placeholder>,
}

/// The facts a message can draw on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageFacts {
    pub case_id: String,
    pub category: String,
    pub lawyer: Option<String>,
    /// Already formatted in Beijing time.
    pub time: String,
    /// The latest booked session still standing, already formatted in
    /// Beijing time.
    pub session_time: Option<String>,
    /// The event's deadline (staff messages), already formatted in
    /// Beijing time.
    pub deadline: Option<String>,
}

/// The page and the raw field values of a message (the WeChat client
/// then trims each value to its field's limits).
pub fn render(
    event: NotificationEvent,
    template: &TemplateSettings,
    facts: &MessageFacts,
) -> (String, Vec<(String, String)>) {
    let page = template.page.replace("{case_id}", &facts.case_id);
    let fields = template
        .fields
        .iter()
        .map(|(key, placeholder)| {
            let value = match placeholder {
                Placeholder::Category => facts.category.clone(),
                Placeholder::Status => event.status_label().to_owned(),
                Placeholder::Lawyer => facts
                    .lawyer
                    .clone()
                    .unwrap_or_else(|| event.handler_fallback().to_owned()),
                Placeholder::Time => facts.time.clone(),
                Placeholder::CaseNo => facts.case_id.chars().take(8).collect(),
                Placeholder::SessionTime => facts
                    .session_time
                    .clone()
                    .unwrap_or_else(|| "待定".to_owned()),
                Placeholder::Deadline => facts.deadline.clone().unwrap_or_else(|| "无".to_owned()),
            };
            (key.clone(), value)
        })
        .collect();
    (page, fields)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notification_statuses_read_back_as_written() {
        for status in NotificationStatus::ALL {
            assert_eq!(NotificationStatus::parse(status.as_str()), Some(status));
        }
        assert_eq!(NotificationStatus::parse("queued"), None);
    }

    #[test]
    fn messages_are_rendered_from_configured_placeholders_only() {
        let template = TemplateSettings {
            template_id: "t1".into(),
            page: "pages/consultation/detail?id={case_id}".into(),
            fields: BTreeMap::from([
                ("thing1".into(), Placeholder::Category),
                ("phrase2".into(), Placeholder::Status),
                ("name3".into(), Placeholder::Lawyer),
                ("character_string4".into(), Placeholder::CaseNo),
            ]),
        };
        let facts = MessageFacts {
            case_id: "0192f5c4-7e1a-7cc0".into(),
            category: "噪音扰民".into(),
            lawyer: Some("张律师".into()),
            time: "2026-11-24 10:00".into(),
            session_time: None,
            deadline: None,
        };
        let (page, fields) = render(NotificationEvent::ConsultationAnswered, &template, &facts);
        assert_eq!(page, "pages/consultation/detail?id=0192f5c4-7e1a-7cc0");
        assert_eq!(
            fields,
            vec![
                ("character_string4".to_owned(), "0192f5c4".to_owned()),
                ("name3".to_owned(), "张律师".to_owned()),
                ("phrase2".to_owned(), "律师已答复".to_owned()),
                ("thing1".to_owned(), "噪音扰民".to_owned()),
            ]
        );
    }

    #[test]
    fn event_names_round_trip() {
        for e in NotificationEvent::ALL {
            assert_eq!(NotificationEvent::parse(e.as_str()), Some(e));
            let label = e.status_label();
            // A `phrase` field: five Chinese characters at most.
            assert!(
                label.chars().count() <= 5 && label.chars().all(|c| !c.is_ascii()),
                "{e:?}: {label}"
            );
        }
        assert_eq!(NotificationEvent::parse("nope"), None);
        assert_eq!(
            NotificationEvent::MediationAgreed.handler_fallback(),
            "调解员"
        );
        assert_eq!(NotificationEvent::TipClosed.handler_fallback(), "民警");
    }
}
