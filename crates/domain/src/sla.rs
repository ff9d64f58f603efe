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
}
