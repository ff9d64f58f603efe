//! What residents are told, and when: events of their case mapped onto
//! WeChat subscribe-message templates by configuration.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Events that send a subscribe message to the resident.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotificationEvent {
    /// A lawyer took the consultation.
    ConsultationAccepted,
    /// The lawyer's first answer arrived.
    ConsultationAnswered,
}

impl NotificationEvent {
    pub fn as_str(&self) -> &'static str {
        match self {
            NotificationEvent::ConsultationAccepted => "consultation_accepted",
            NotificationEvent::ConsultationAnswered => "consultation_answered",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [
            NotificationEvent::ConsultationAccepted,
            NotificationEvent::ConsultationAnswered,
        ]
        .into_iter()
        .find(|e| e.as_str() == text)
    }

    /// The status word shown in the message.
    pub fn status_label(&self) -> &'static str {
        match self {
            NotificationEvent::ConsultationAccepted => "律师已受理",
            NotificationEvent::ConsultationAnswered => "律师已答复",
        }
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
    /// The lawyer's display name.
    Lawyer,
    /// When it happened, Beijing time.
    Time,
    /// The first 8 characters of the case id.
    CaseNo,
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
                Placeholder::Lawyer => facts.lawyer.clone().unwrap_or_else(|| "律师".to_owned()),
                Placeholder::Time => facts.time.clone(),
                Placeholder::CaseNo => facts.case_id.chars().take(8).collect(),
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
        for e in [
            NotificationEvent::ConsultationAccepted,
            NotificationEvent::ConsultationAnswered,
        ] {
            assert_eq!(NotificationEvent::parse(e.as_str()), Some(e));
        }
        assert_eq!(NotificationEvent::parse("nope"), None);
    }
}
