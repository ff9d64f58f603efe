//! Retention of records and the erasure of a resident (issue 18, item 6):
//! how long each kind of record is kept, and the pure decision of which
//! records are due for anonymising or deleting at a given moment.
//! docs/retention.md says what each kind covers and what is kept.

use chrono::{DateTime, Duration, Utc};

/// What stands in a field that identified a resident who is gone (account
/// deleted, or their closed case past its personal-data period). Stored as
/// is, also in the columns that otherwise hold sealed data: readers show it
/// instead of opening it ([`is_erased`]).
pub const ERASED: &str = "已注销用户";

/// Whether a stored (sealed or masked) value is the erasure placeholder.
pub fn is_erased(stored: &str) -> bool {
    stored == ERASED
}

/// The reason recorded in `case_event_purges` for a retention purge.
pub const PURGE_REASON: &str = "retention";

/// A kind of record with a retention period of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RecordKind {
    /// Personal data of a closed case (resident link, parties' and
    /// in-person residents' names and contacts), counted from its closing.
    CasePersonalData,
    /// A whole closed case with its history (events go through
    /// `case_event_purges`), counted from its closing.
    Case,
    /// Photos of a closed tip, counted from the tip's closing.
    Photos,
    /// Sent or given-up subscribe messages (residents' and staff's),
    /// counted from their last change.
    Notifications,
    /// Outbox rows already published, counted from their creation.
    Outbox,
    /// Decided content-review flags, counted from the decision.
    ContentFlags,
    /// Expired refresh tokens (login sessions), counted from their expiry.
    Sessions,
    /// Finished WeChat media checks, counted from their creation.
    MediaChecks,
    /// Audit rows of staff seeing unmasked personal data
    /// (`personal_data_views`), counted from the viewing. They outlive the
    /// data they are about: who saw a person's data stays answerable after
    /// the case is gone.
    DataViews,
}

impl RecordKind {
    pub const ALL: [RecordKind; 9] = [
        RecordKind::CasePersonalData,
        RecordKind::Case,
        RecordKind::Photos,
        RecordKind::Notifications,
        RecordKind::Outbox,
        RecordKind::ContentFlags,
        RecordKind::Sessions,
        RecordKind::MediaChecks,
        RecordKind::DataViews,
    ];

    /// The environment variable that sets the period, in days.
    pub fn variable(self) -> &'static str {
        match self {
            RecordKind::CasePersonalData => "SANSUO_RETENTION_CASE_PERSONAL_DAYS",
            RecordKind::Case => "SANSUO_RETENTION_CASE_DAYS",
            RecordKind::Photos => "SANSUO_RETENTION_PHOTO_DAYS",
            RecordKind::Notifications => "SANSUO_RETENTION_NOTIFICATION_DAYS",
            RecordKind::Outbox => "SANSUO_RETENTION_OUTBOX_DAYS",
            RecordKind::ContentFlags => "SANSUO_RETENTION_CONTENT_FLAG_DAYS",
            RecordKind::Sessions => "SANSUO_RETENTION_SESSION_DAYS",
            RecordKind::MediaChecks => "SANSUO_RETENTION_MEDIA_CHECK_DAYS",
            RecordKind::DataViews => "SANSUO_RETENTION_DATA_VIEW_DAYS",
        }
    }

    /// The default period in days (docs/retention.md gives the reasons).
    pub fn default_days(self) -> u32 {
        match self {
            RecordKind::CasePersonalData => 3 * 365,
            RecordKind::Case => 10 * 365,
            RecordKind::Photos => 365,
            RecordKind::Notifications => 90,
            RecordKind::Outbox => 30,
            RecordKind::ContentFlags => 365,
            RecordKind::Sessions => 7,
            RecordKind::MediaChecks => 30,
            RecordKind::DataViews => 3 * 365,
        }
    }

    /// The shortest period allowed: personal data goes no earlier than
    /// a month after closing (a reopening or complaint comes first), and a
    /// whole case no earlier than a year.
    pub fn min_days(self) -> u32 {
        match self {
            RecordKind::CasePersonalData => 30,
            RecordKind::Case => 365,
            // PIPL art. 56 keeps the record of a processing's assessment
            // three years; the audit of who saw what is kept no shorter.
            RecordKind::DataViews => 3 * 365,
            _ => 1,
        }
    }

    /// The longest: a hundred years.
    pub const MAX_DAYS: u32 = 36_500;
}

/// The period of every kind of record, in days.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetentionPolicy {
    days: [u32; RecordKind::ALL.len()],
}

impl Default for RetentionPolicy {
    fn default() -> Self {
        Self {
            days: RecordKind::ALL.map(RecordKind::default_days),
        }
    }
}

fn index(kind: RecordKind) -> usize {
    RecordKind::ALL
        .iter()
        .position(|k| *k == kind)
        .expect("every kind is listed")
}

impl RetentionPolicy {
    /// Reads each period with `get(variable)` (unset: the default). Every
    /// bad value is reported, named, and the whole case must outlive its
    /// personal data.
    pub fn read(get: impl Fn(&str) -> Option<String>) -> Result<Self, Vec<String>> {
        let mut policy = Self::default();
        let mut problems = Vec::new();
        for kind in RecordKind::ALL {
            let Some(raw) = get(kind.variable()) else {
                continue;
            };
            match raw.trim().parse::<u32>() {
                Ok(days) if (kind.min_days()..=RecordKind::MAX_DAYS).contains(&days) => {
                    policy.days[index(kind)] = days;
                }
                _ => problems.push(format!(
                    "{}=`{raw}` must be a whole number of days from {} to {} (default {})",
                    kind.variable(),
                    kind.min_days(),
                    RecordKind::MAX_DAYS,
                    kind.default_days()
                )),
            }
        }
        if problems.is_empty()
            && policy.days(RecordKind::Case) < policy.days(RecordKind::CasePersonalData)
        {
            problems.push(format!(
                "{} ({}) must not be shorter than {} ({}): a case outlives its personal data",
                RecordKind::Case.variable(),
                policy.days(RecordKind::Case),
                RecordKind::CasePersonalData.variable(),
                policy.days(RecordKind::CasePersonalData),
            ));
        }
        if problems.is_empty() {
            Ok(policy)
        } else {
            Err(problems)
        }
    }

    pub fn with(mut self, kind: RecordKind, days: u32) -> Self {
        self.days[index(kind)] = days;
        self
    }

    pub fn days(&self, kind: RecordKind) -> u32 {
        self.days[index(kind)]
    }

    pub fn period(&self, kind: RecordKind) -> Duration {
        Duration::days(i64::from(self.days(kind)))
    }

    /// Whether a record of `kind` whose clock started at `at` is due at `now`.
    pub fn is_due(&self, kind: RecordKind, at: DateTime<Utc>, now: DateTime<Utc>) -> bool {
        at <= self.cutoff(kind, now)
    }

    /// The latest start a record of `kind` may have to be due at `now`:
    /// records whose clock started at or before it are due.
    pub fn cutoff(&self, kind: RecordKind, now: DateTime<Utc>) -> DateTime<Utc> {
        now - self.period(kind)
    }

    /// Every kind's cutoff at `now`.
    pub fn cutoffs(&self, now: DateTime<Utc>) -> Cutoffs {
        Cutoffs {
            case_personal_data: self.cutoff(RecordKind::CasePersonalData, now),
            case: self.cutoff(RecordKind::Case, now),
            photos: self.cutoff(RecordKind::Photos, now),
            notifications: self.cutoff(RecordKind::Notifications, now),
            outbox: self.cutoff(RecordKind::Outbox, now),
            content_flags: self.cutoff(RecordKind::ContentFlags, now),
            sessions: self.cutoff(RecordKind::Sessions, now),
            media_checks: self.cutoff(RecordKind::MediaChecks, now),
            data_views: self.cutoff(RecordKind::DataViews, now),
        }
    }
}

/// For each kind, the latest clock start that is due (inclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cutoffs {
    pub case_personal_data: DateTime<Utc>,
    pub case: DateTime<Utc>,
    pub photos: DateTime<Utc>,
    pub notifications: DateTime<Utc>,
    pub outbox: DateTime<Utc>,
    pub content_flags: DateTime<Utc>,
    pub sessions: DateTime<Utc>,
    pub media_checks: DateTime<Utc>,
    pub data_views: DateTime<Utc>,
}

/// What a resident's case becomes when they delete their account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnAccountDeletion {
    /// An open consultation, or a mediation before any session was held:
    /// withdrawn for them (as they could have done themselves).
    Withdraw,
    /// Kept open for the staff, unlinked from the resident (a tip the
    /// police still act on, a mediation already heard).
    KeepUnlinked,
    /// Closed or otherwise finished: only unlinked.
    Unlink,
}

/// The decision for one case of a deleted resident, by service and status.
pub fn on_account_deletion(status: crate::work_order::CaseStatus) -> OnAccountDeletion {
    use crate::ConsultationStatus as C;
    use crate::mediation::MediationStatus as M;
    use crate::work_order::CaseStatus;
    match status {
        CaseStatus::Consultation(C::Submitted | C::Offered | C::Pooled | C::Assigned) => {
            OnAccountDeletion::Withdraw
        }
        CaseStatus::Mediation(
            M::Submitted | M::Offered | M::Pooled | M::Accepted | M::Scheduled,
        ) => OnAccountDeletion::Withdraw,
        CaseStatus::Mediation(M::Heard | M::Agreed | M::Terminated) => {
            OnAccountDeletion::KeepUnlinked
        }
        CaseStatus::Tip(s) if !s.is_finished() => OnAccountDeletion::KeepUnlinked,
        _ => OnAccountDeletion::Unlink,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn due_one_day_after_the_period_and_not_one_day_before() {
        let policy = RetentionPolicy::default();
        let closed = Utc.with_ymd_and_hms(2026, 1, 10, 8, 0, 0).unwrap();
        for kind in RecordKind::ALL {
            let period = policy.period(kind);
            let day = Duration::days(1);
            assert!(
                policy.is_due(kind, closed, closed + period + day),
                "{kind:?}"
            );
            assert!(
                !policy.is_due(kind, closed, closed + period - day),
                "{kind:?}"
            );
            assert!(policy.is_due(kind, closed, closed + period), "{kind:?}");
        }
    }

    #[test]
    fn every_bad_value_is_named() {
        let vars = [
            ("SANSUO_RETENTION_PHOTO_DAYS", "soon"),
            ("SANSUO_RETENTION_OUTBOX_DAYS", "0"),
            ("SANSUO_RETENTION_CASE_DAYS", "40000"),
            ("SANSUO_RETENTION_NOTIFICATION_DAYS", "30"),
        ];
        let get = |name: &str| {
            vars.iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| (*v).to_owned())
        };
        let problems = RetentionPolicy::read(get).unwrap_err();
        assert_eq!(problems.len(), 3, "{problems:?}");
        for name in [
            "SANSUO_RETENTION_PHOTO_DAYS",
            "SANSUO_RETENTION_OUTBOX_DAYS",
            "SANSUO_RETENTION_CASE_DAYS",
        ] {
            assert!(problems.iter().any(|p| p.starts_with(name)), "{name}");
        }
    }

    #[test]
    fn defaults_and_a_case_outliving_its_personal_data() {
        assert_eq!(
            RetentionPolicy::read(|_| None).unwrap(),
            RetentionPolicy::default()
        );
        let set = RetentionPolicy::read(|n| {
            (n == "SANSUO_RETENTION_NOTIFICATION_DAYS").then(|| " 30 ".to_owned())
        })
        .unwrap();
        assert_eq!(set.days(RecordKind::Notifications), 30);
        let problems = RetentionPolicy::read(|n| match n {
            "SANSUO_RETENTION_CASE_DAYS" => Some("400".into()),
            "SANSUO_RETENTION_CASE_PERSONAL_DAYS" => Some("500".into()),
            _ => None,
        })
        .unwrap_err();
        assert!(problems[0].contains("outlives"), "{problems:?}");
    }

    #[test]
    fn open_work_is_withdrawn_tips_stay_for_the_police() {
        use crate::ConsultationStatus as C;
        use crate::mediation::MediationStatus as M;
        use crate::work_order::CaseStatus;
        assert_eq!(
            on_account_deletion(CaseStatus::Consultation(C::Assigned)),
            OnAccountDeletion::Withdraw
        );
        assert_eq!(
            on_account_deletion(CaseStatus::Consultation(C::Answered)),
            OnAccountDeletion::Unlink
        );
        assert_eq!(
            on_account_deletion(CaseStatus::Mediation(M::Scheduled)),
            OnAccountDeletion::Withdraw
        );
        assert_eq!(
            on_account_deletion(CaseStatus::Mediation(M::Heard)),
            OnAccountDeletion::KeepUnlinked
        );
        assert_eq!(
            on_account_deletion(CaseStatus::Mediation(M::Closed)),
            OnAccountDeletion::Unlink
        );
    }
}
