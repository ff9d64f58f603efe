//! 督办 (supervision) and 延期 (extension), the coordinators' hold on a
//! case, as pure rules.
//!
//! - A coordinator (or administrator) puts an open case under supervision
//!   with a deadline and a note. The supervision belongs to the coordinators
//!   of a unit (first the one who put it: their own unit). A deadline that
//!   passes while the case is still open "climbs a level": the supervision
//!   passes to the coordinators of the parent unit. It ends when the case
//!   finishes, or when a coordinator lifts it.
//! - The case's owner asks for more time (an extension) on its resolution
//!   target, with a reason; a coordinator grants or refuses it. A granted
//!   extension adds business minutes to the resolution clock
//!   (`sla::CaseTimes::resolution_extension_minutes`).

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;

/// How far ahead a supervision's deadline may lie.
pub const MAX_SUPERVISION_DAYS: i64 = 90;

/// The most business hours one extension may ask for.
pub const MAX_EXTENSION_HOURS: i64 = 240;

/// Why a case cannot be put under supervision now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SupervisionRefusal {
    /// The case is finished (resolved, closed, withdrawn).
    Finished,
    /// It is under supervision already (lift it first to set a new one).
    AlreadySupervised,
    /// The deadline is not ahead of now.
    DeadlineNotAhead,
    /// The deadline lies beyond [`MAX_SUPERVISION_DAYS`].
    DeadlineTooFar,
}

/// Whether `deadline` is one a supervision may take at `now`.
pub fn check_deadline(
    deadline: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<(), SupervisionRefusal> {
    if deadline <= now {
        return Err(SupervisionRefusal::DeadlineNotAhead);
    }
    if deadline > now + Duration::days(MAX_SUPERVISION_DAYS) {
        return Err(SupervisionRefusal::DeadlineTooFar);
    }
    Ok(())
}

/// What a supervision's timer finds when it fires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SupervisionDue {
    /// Ended (lifted, or the case finished) or already climbed for this
    /// deadline: nothing to do.
    Nothing,
    /// The deadline lies ahead (the timer fired early): look again then.
    NotYet(DateTime<Utc>),
    /// Missed: climb a level.
    Missed,
}

/// The timer's decision for a supervision as it stands.
pub fn due(
    deadline: DateTime<Utc>,
    ended: bool,
    missed_already: bool,
    now: DateTime<Utc>,
) -> SupervisionDue {
    if ended || missed_already {
        SupervisionDue::Nothing
    } else if deadline > now {
        SupervisionDue::NotYet(deadline)
    } else {
        SupervisionDue::Missed
    }
}

/// Where an extension request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExtensionStatus {
    Pending,
    Granted,
    Refused,
}

impl ExtensionStatus {
    pub const ALL: [ExtensionStatus; 3] = [
        ExtensionStatus::Pending,
        ExtensionStatus::Granted,
        ExtensionStatus::Refused,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ExtensionStatus::Pending => "pending",
            ExtensionStatus::Granted => "granted",
            ExtensionStatus::Refused => "refused",
        }
    }
}

impl fmt::Display for ExtensionStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for ExtensionStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| format!("unknown extension status {s:?}"))
    }
}

/// Why an extension cannot be asked for or decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExtensionRefusal {
    /// The case is finished.
    Finished,
    /// A request on this case still waits for a decision.
    Pending,
    /// This request was decided already.
    Decided,
}

/// The business minutes `hours` asks for, if within 1 to
/// [`MAX_EXTENSION_HOURS`].
pub fn extension_minutes(hours: i64) -> Option<i64> {
    (1..=MAX_EXTENSION_HOURS)
        .contains(&hours)
        .then_some(hours * 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_deadline_lies_ahead_and_not_too_far() {
        let now = Utc::now();
        assert_eq!(
            check_deadline(now, now),
            Err(SupervisionRefusal::DeadlineNotAhead)
        );
        assert_eq!(check_deadline(now + Duration::hours(1), now), Ok(()));
        assert_eq!(
            check_deadline(now + Duration::days(MAX_SUPERVISION_DAYS + 1), now),
            Err(SupervisionRefusal::DeadlineTooFar)
        );
    }

    #[test]
    fn a_missed_deadline_climbs_once() {
        let now = Utc::now();
        let past = now - Duration::minutes(1);
        assert_eq!(due(past, false, false, now), SupervisionDue::Missed);
        assert_eq!(due(past, false, true, now), SupervisionDue::Nothing);
        assert_eq!(due(past, true, false, now), SupervisionDue::Nothing);
        let ahead = now + Duration::hours(2);
        assert_eq!(due(ahead, false, false, now), SupervisionDue::NotYet(ahead));
    }

    #[test]
    fn extensions_ask_for_whole_hours_within_bounds() {
        assert_eq!(extension_minutes(0), None);
        assert_eq!(extension_minutes(8), Some(480));
        assert_eq!(extension_minutes(MAX_EXTENSION_HOURS + 1), None);
        for s in ExtensionStatus::ALL {
            assert_eq!(s.as_str().parse::<ExtensionStatus>(), Ok(s));
        }
    }
}
