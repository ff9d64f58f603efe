//! 催办 (urging): a resident, or a tip's reporter, may nudge a case that has
//! waited past its first-response target without an answer; a coordinator
//! may nudge any open case in their subtree at any time. Either way the
//! person who has the case (its owner, or whoever holds its open offer) is
//! told on their event stream. This module decides whether someone may
//! urge now; the store applies it.

use crate::calendar::BusinessCalendar;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// A resident urges a case at most once per this period (wall-clock hours:
/// it limits how often staff are nudged, not how long they have to work).
pub const URGE_PERIOD_HOURS: i64 = 24;

/// The first-response target of a case not (yet) placed on a workflow: the
/// shipped catalogue's default.
pub const FIRST_RESPONSE_MINUTES_WITHOUT_WORKFLOW: i64 = 120;

/// Who urged, as the history and the staff event say it. Never who the
/// resident or reporter is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UrgedBy {
    /// The resident who filed the case, or a tip's reporter (named or not).
    Resident,
    Coordinator,
}

impl UrgedBy {
    pub fn as_str(self) -> &'static str {
        match self {
            UrgedBy::Resident => "resident",
            UrgedBy::Coordinator => "coordinator",
        }
    }
}

/// What a resident's urge is measured against: the case's first-response
/// target in business minutes, counted from submission (the resident waits
/// for an answer, however the case got to whoever gives it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UrgeState {
    pub submitted_at: DateTime<Utc>,
    pub first_response_at: Option<DateTime<Utc>>,
    pub first_response_minutes: i64,
    pub last_urged_at: Option<DateTime<Utc>>,
    /// Resolved, closed or withdrawn: nothing left to urge.
    pub finished: bool,
}

/// Why an urge is refused, with when one may urge, if ever.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UrgeRefusal {
    /// The case is no longer open.
    Finished,
    /// Someone already answered; the conversation goes on in the thread.
    Answered,
    /// The first-response target has not passed yet; it passes at `from`
    /// (`None`: the calendar has no working time ahead).
    TooEarly { from: Option<DateTime<Utc>> },
    /// Urged within the period; the next urge is possible at `from`.
    TooSoon { from: DateTime<Utc> },
}

/// May a coordinator urge now? Any time while the case is open.
pub fn coordinator_may_urge(state: &UrgeState) -> Result<(), UrgeRefusal> {
    if state.finished {
        return Err(UrgeRefusal::Finished);
    }
    Ok(())
}

/// May the case's resident (or a tip's reporter) urge now? Only while the
/// case is open and unanswered, once its first-response target has passed
/// in business time, and at most once per [`URGE_PERIOD_HOURS`] per case
/// (counting any urge: the person told was just told).
pub fn resident_may_urge(
    state: &UrgeState,
    calendar: &BusinessCalendar,
    now: DateTime<Utc>,
) -> Result<(), UrgeRefusal> {
    coordinator_may_urge(state)?;
    if state.first_response_at.is_some() {
        return Err(UrgeRefusal::Answered);
    }
    let target = Duration::minutes(state.first_response_minutes);
    if calendar.between(state.submitted_at, now) < target {
        return Err(UrgeRefusal::TooEarly {
            from: calendar.add(state.submitted_at, target),
        });
    }
    if let Some(last) = state.last_urged_at {
        let next = last + Duration::hours(URGE_PERIOD_HOURS);
        if now < next {
            return Err(UrgeRefusal::TooSoon { from: next });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{FixedOffset, TimeZone};

    fn bj(d: u32, h: u32, m: u32) -> DateTime<Utc> {
        FixedOffset::east_opt(8 * 3600)
            .unwrap()
            .with_ymd_and_hms(2026, 11, d, h, m, 0)
            .unwrap()
            .with_timezone(&Utc)
    }

    fn state() -> UrgeState {
        UrgeState {
            // Tuesday 24 Nov 16:00, a 2 business hour target: 1.5 h that
            // day (to 17:30), 0.5 h on Wednesday from 09:00 → 09:30.
            submitted_at: bj(24, 16, 0),
            first_response_at: None,
            first_response_minutes: 120,
            last_urged_at: None,
            finished: false,
        }
    }

    #[test]
    fn a_resident_waits_for_the_target_in_business_time() {
        let cal = BusinessCalendar::china_office_hours();
        // 17.5 wall-clock hours later but under 2 business hours.
        assert_eq!(
            resident_may_urge(&state(), &cal, bj(25, 9, 29)),
            Err(UrgeRefusal::TooEarly {
                from: Some(bj(25, 9, 30))
            })
        );
        assert_eq!(resident_may_urge(&state(), &cal, bj(25, 9, 30)), Ok(()));
    }

    #[test]
    fn a_resident_urges_once_per_period() {
        let cal = BusinessCalendar::china_office_hours();
        let urged = UrgeState {
            last_urged_at: Some(bj(25, 11, 0)),
            ..state()
        };
        assert_eq!(
            resident_may_urge(&urged, &cal, bj(26, 10, 59)),
            Err(UrgeRefusal::TooSoon {
                from: bj(26, 11, 0)
            })
        );
        assert_eq!(resident_may_urge(&urged, &cal, bj(26, 11, 0)), Ok(()));
    }

    #[test]
    fn answered_or_finished_cases_are_not_urged_by_residents() {
        let cal = BusinessCalendar::china_office_hours();
        let answered = UrgeState {
            first_response_at: Some(bj(25, 9, 0)),
            ..state()
        };
        assert_eq!(
            resident_may_urge(&answered, &cal, bj(27, 9, 0)),
            Err(UrgeRefusal::Answered)
        );
        let finished = UrgeState {
            finished: true,
            ..state()
        };
        assert_eq!(
            resident_may_urge(&finished, &cal, bj(27, 9, 0)),
            Err(UrgeRefusal::Finished)
        );
    }

    #[test]
    fn a_coordinator_urges_any_open_case_any_time() {
        let just_urged = UrgeState {
            last_urged_at: Some(bj(24, 16, 1)),
            first_response_at: Some(bj(24, 16, 1)),
            ..state()
        };
        assert_eq!(coordinator_may_urge(&just_urged), Ok(()));
        let finished = UrgeState {
            finished: true,
            ..state()
        };
        assert_eq!(coordinator_may_urge(&finished), Err(UrgeRefusal::Finished));
    }
}
