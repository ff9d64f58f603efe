//! SLA clocks: accept, first response and resolution targets measured in
//! business time, paused while the case waits on the resident.

use crate::calendar::BusinessCalendar;
use chrono::{DateTime, Duration, Utc};

/// An interval during which the clock does not run (waiting on the resident).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pause {
    pub from: DateTime<Utc>,
    /// `None` while still paused.
    pub until: Option<DateTime<Utc>>,
}

/// One SLA window of one case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlaClock {
    pub started_at: DateTime<Utc>,
    /// The target, in business time.
    pub target: Duration,
    /// In order, not overlapping.
    pub pauses: Vec<Pause>,
    /// When the clock's event happened (accepted, answered, resolved).
    pub stopped_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlaState {
    /// Running; breached at `deadline` unless stopped first.
    Running { deadline: DateTime<Utc> },
    /// Waiting on the resident; `remaining` business time when it resumes.
    Paused { remaining: Duration },
    /// Stopped within the target.
    Met,
    /// The target passed (while running or before it was stopped).
    Breached,
}

impl SlaClock {
    pub fn new(started_at: DateTime<Utc>, target: Duration) -> Self {
        Self {
            started_at,
            target,
            pauses: Vec::new(),
            stopped_at: None,
        }
    }

    /// Business time the clock has run up to `now`.
    pub fn elapsed(&self, calendar: &BusinessCalendar, now: DateTime<Utc>) -> Duration {
        let end = self.stopped_at.map_or(now, |s| s.min(now));
        let gross = calendar.between(self.started_at, end);
        let paused: Duration = self
            .pauses
            .iter()
            .map(|p| {
                let from = p.from.max(self.started_at);
                let until = p.until.unwrap_or(end).min(end);
                calendar.between(from, until)
            })
            .sum();
        gross - paused
    }

    pub fn state(&self, calendar: &BusinessCalendar, now: DateTime<Utc>) -> SlaState {
        let elapsed = self.elapsed(calendar, now);
        if elapsed >= self.target && !(self.stopped_at.is_some() && elapsed == self.target) {
            // Stopping exactly on the deadline still meets it.
            return SlaState::Breached;
        }
        if self.stopped_at.is_some_and(|s| s <= now) {
            return SlaState::Met;
        }
        let remaining = self.target - elapsed;
        if self.pauses.last().is_some_and(|p| p.until.is_none()) {
            return SlaState::Paused { remaining };
        }
        match calendar.add(now, remaining) {
            Some(deadline) => SlaState::Running { deadline },
            // A calendar with no working time ahead can never breach.
            None => SlaState::Paused { remaining },
        }
    }
}

/// The three response-time targets of a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SlaKind {
    /// Submitted → someone took it.
    Accept,
    /// Taken → first public answer.
    FirstResponse,
    /// Submitted → resolved, paused while waiting on the resident.
    Resolution,
}

impl SlaKind {
    pub const ALL: [SlaKind; 3] = [SlaKind::Accept, SlaKind::FirstResponse, SlaKind::Resolution];

    pub fn as_str(&self) -> &'static str {
        match self {
            SlaKind::Accept => "accept",
            SlaKind::FirstResponse => "first_response",
            SlaKind::Resolution => "resolution",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        SlaKind::ALL.into_iter().find(|k| k.as_str() == text)
    }
}

/// The moments of a case that start and stop its clocks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseTimes {
    pub created_at: DateTime<Utc>,
    pub accepted_at: Option<DateTime<Utc>>,
    pub first_response_at: Option<DateTime<Utc>>,
    pub resolved_at: Option<DateTime<Utc>>,
    /// Intervals spent waiting on the resident.
    pub waiting_on_resident: Vec<Pause>,
    /// Business minutes added to the resolution target by granted 延期
    /// (extensions); 0 without one.
    pub resolution_extension_minutes: i64,
}

/// Target minutes per clock (business minutes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlaMinutes {
    pub accept: i64,
    pub first_response: i64,
    pub resolution: i64,
}

impl From<&crate::catalog::SlaTargets> for SlaMinutes {
    fn from(targets: &crate::catalog::SlaTargets) -> Self {
        SlaMinutes {
            accept: targets.accept_minutes,
            first_response: targets.first_response_minutes,
            resolution: targets.resolution_minutes,
        }
    }
}

/// When a case created at `created_at` first needs its clocks checked: its
/// earliest deadline (`None`: no clock runs).
pub fn first_check(
    created_at: DateTime<Utc>,
    targets: SlaMinutes,
    calendar: &BusinessCalendar,
) -> Option<DateTime<Utc>> {
    let times = CaseTimes {
        created_at,
        accepted_at: None,
        first_response_at: None,
        resolved_at: None,
        waiting_on_resident: Vec::new(),
        resolution_extension_minutes: 0,
    };
    review(&clocks_of(&times, targets), &[], calendar, created_at).next_check
}

/// The clocks of a case as they stand. The first-response clock exists only
/// once someone took the case; only the resolution clock pauses.
pub fn clocks_of(times: &CaseTimes, targets: SlaMinutes) -> Vec<(SlaKind, SlaClock)> {
    let mut clocks = vec![(
        SlaKind::Accept,
        SlaClock {
            stopped_at: times.accepted_at,
            ..SlaClock::new(times.created_at, Duration::minutes(targets.accept))
        },
    )];
    if let Some(accepted) = times.accepted_at {
        clocks.push((
            SlaKind::FirstResponse,
            SlaClock {
                stopped_at: times.first_response_at,
                ..SlaClock::new(accepted, Duration::minutes(targets.first_response))
            },
        ));
    }
    clocks.push((
        SlaKind::Resolution,
        SlaClock {
            stopped_at: times.resolved_at,
            pauses: times.waiting_on_resident.clone(),
            ..SlaClock::new(
                times.created_at,
                Duration::minutes(targets.resolution + times.resolution_extension_minutes.max(0)),
            )
        },
    ));
    clocks
}

/// What an SLA check finds: clocks newly breached, and when to look again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlaReview {
    pub breached: Vec<SlaKind>,
    /// The earliest deadline of a running clock; `None` when nothing runs
    /// (all stopped, breached or paused; a pause ends with an event that
    /// asks for a new check).
    pub next_check: Option<DateTime<Utc>>,
}

pub fn review(
    clocks: &[(SlaKind, SlaClock)],
    already_breached: &[SlaKind],
    calendar: &BusinessCalendar,
    now: DateTime<Utc>,
) -> SlaReview {
    let mut breached = Vec::new();
    let mut next_check: Option<DateTime<Utc>> = None;
    for (kind, clock) in clocks {
        if already_breached.contains(kind) {
            continue;
        }
        match clock.state(calendar, now) {
            SlaState::Breached => breached.push(*kind),
            SlaState::Running { deadline } => {
                next_check = Some(next_check.map_or(deadline, |n| n.min(deadline)));
            }
            SlaState::Met | SlaState::Paused { .. } => {}
        }
    }
    SlaReview {
        breached,
        next_check,
    }
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

    #[test]
    fn a_running_clock_has_a_business_time_deadline() {
        let cal = BusinessCalendar::china_office_hours();
        // Tuesday 24 Nov 16:00, 4 business hours: 1.5 h today, 2.5 h Wednesday → 11:30.
        let clock = SlaClock::new(bj(24, 16, 0), Duration::hours(4));
        assert_eq!(
            clock.state(&cal, bj(24, 16, 0)),
            SlaState::Running {
                deadline: bj(25, 11, 30)
            }
        );
        assert_eq!(
            clock.state(&cal, bj(25, 11, 29)),
            SlaState::Running {
                deadline: bj(25, 11, 30)
            }
        );
        assert_eq!(clock.state(&cal, bj(25, 11, 30)), SlaState::Breached);
    }

    #[test]
    fn waiting_on_the_resident_pauses_the_clock() {
        let cal = BusinessCalendar::china_office_hours();
        let mut clock = SlaClock::new(bj(24, 9, 0), Duration::hours(2));
        clock.pauses.push(Pause {
            from: bj(24, 10, 0),
            until: None,
        });
        // Paused for a whole day: no breach, one hour left.
        assert_eq!(
            clock.state(&cal, bj(25, 17, 0)),
            SlaState::Paused {
                remaining: Duration::hours(1)
            }
        );
        // The resident answers Thursday 10:00: the last hour runs to 11:00.
        clock.pauses[0].until = Some(bj(26, 10, 0));
        assert_eq!(
            clock.state(&cal, bj(26, 10, 0)),
            SlaState::Running {
                deadline: bj(26, 11, 0)
            }
        );
        assert_eq!(clock.elapsed(&cal, bj(26, 10, 30)), Duration::minutes(90));
    }

    #[test]
    fn a_stopped_clock_is_met_or_breached_for_good() {
        let cal = BusinessCalendar::china_office_hours();
        let mut met = SlaClock::new(bj(24, 9, 0), Duration::hours(1));
        met.stopped_at = Some(bj(24, 10, 0));
        assert_eq!(
            met.state(&cal, bj(30, 9, 0)),
            SlaState::Met,
            "stopping on the deadline meets it"
        );
        let mut late = SlaClock::new(bj(24, 9, 0), Duration::hours(1));
        late.stopped_at = Some(bj(24, 10, 1));
        assert_eq!(late.state(&cal, bj(30, 9, 0)), SlaState::Breached);
    }

    fn office_calendar() -> BusinessCalendar {
        BusinessCalendar::china_office_hours()
    }

    fn targets() -> SlaMinutes {
        SlaMinutes {
            accept: 60,
            first_response: 120,
            resolution: 480,
        }
    }

    #[test]
    fn review_reports_each_breach_once_and_the_next_deadline() {
        // Tuesday 24 Nov 2026, 09:00 Beijing time.
        let times = CaseTimes {
            created_at: bj(24, 9, 0),
            accepted_at: None,
            first_response_at: None,
            resolved_at: None,
            waiting_on_resident: vec![],
            resolution_extension_minutes: 0,
        };
        let clocks = clocks_of(&times, targets());
        assert_eq!(
            clocks.len(),
            2,
            "no first-response clock before someone takes it"
        );
        let cal = office_calendar();
        let early = review(&clocks, &[], &cal, bj(24, 9, 30));
        assert_eq!(early.breached, vec![]);
        assert_eq!(early.next_check, Some(bj(24, 10, 0)));
        let late = review(&clocks, &[], &cal, bj(24, 10, 1));
        assert_eq!(late.breached, vec![SlaKind::Accept]);
        // Resolution: 8 business hours; a working day is 7 (09:00–12:00,
        // 13:30–17:30), so one more hour on Wednesday.
        assert_eq!(late.next_check, Some(bj(25, 10, 0)));
        let again = review(&clocks, &[SlaKind::Accept], &cal, bj(24, 10, 1));
        assert_eq!(again.breached, vec![]);
    }

    #[test]
    fn taking_the_case_stops_accept_and_starts_first_response() {
        let times = CaseTimes {
            created_at: bj(24, 9, 0),
            accepted_at: Some(bj(24, 9, 20)),
            first_response_at: None,
            resolved_at: None,
            waiting_on_resident: vec![],
            resolution_extension_minutes: 0,
        };
        let clocks = clocks_of(&times, targets());
        let r = review(&clocks, &[], &office_calendar(), bj(24, 10, 30));
        assert_eq!(r.breached, vec![]);
        assert_eq!(r.next_check, Some(bj(24, 11, 20)));
    }

    #[test]
    fn waiting_on_the_resident_pauses_resolution_only() {
        let times = CaseTimes {
            created_at: bj(24, 9, 0),
            accepted_at: Some(bj(24, 9, 10)),
            first_response_at: Some(bj(24, 9, 30)),
            resolved_at: None,
            waiting_on_resident: vec![Pause {
                from: bj(24, 9, 30),
                until: None,
            }],
            resolution_extension_minutes: 0,
        };
        let clocks = clocks_of(&times, targets());
        // Days later, still waiting on the resident: nothing breaches, nothing to check.
        let r = review(&clocks, &[], &office_calendar(), bj(30, 9, 0));
        assert_eq!(
            r,
            SlaReview {
                breached: vec![],
                next_check: None
            }
        );
    }

    #[test]
    fn a_granted_extension_moves_the_resolution_deadline_only() {
        let mut times = CaseTimes {
            created_at: bj(24, 9, 0),
            accepted_at: Some(bj(24, 9, 10)),
            first_response_at: Some(bj(24, 9, 30)),
            resolved_at: None,
            waiting_on_resident: vec![],
            resolution_extension_minutes: 0,
        };
        let cal = office_calendar();
        // 8 business hours: Wednesday 10:00.
        let at = bj(25, 10, 1);
        assert_eq!(
            review(&clocks_of(&times, targets()), &[], &cal, at).breached,
            vec![SlaKind::Resolution]
        );
        // Two more business hours: Wednesday 12:00, not breached at 10:01.
        times.resolution_extension_minutes = 120;
        let r = review(&clocks_of(&times, targets()), &[], &cal, at);
        assert_eq!(r.breached, vec![]);
        assert_eq!(r.next_check, Some(bj(25, 12, 0)));
    }

    #[test]
    fn a_new_case_is_first_checked_at_its_accept_deadline_in_business_time() {
        let targets = SlaMinutes {
            accept: 240,
            first_response: 480,
            resolution: 4200,
        };
        let office = BusinessCalendar::china_office_hours();
        // Tuesday 24 Nov 16:00, 4 business hours to accept → Wednesday 11:30.
        assert_eq!(
            first_check(bj(24, 16, 0), targets, &office),
            Some(bj(25, 11, 30))
        );
        let always = BusinessCalendar::round_the_clock();
        assert_eq!(
            first_check(bj(24, 16, 0), targets, &always),
            Some(bj(24, 20, 0))
        );
    }
}
