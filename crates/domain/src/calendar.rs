//! Business time: the working calendar that SLA clocks run on.
//!
//! A calendar has working intervals per weekday (several a day, e.g.
//! 09:00–12:00 and 13:30–17:30), in local time at a fixed UTC offset (China
//! has no daylight saving), plus per-date overrides: public holidays (no
//! work) and make-up working days (调休: a weekend day worked on a normal
//! weekday's schedule). Deadlines are computed by walking working intervals,
//! so "8 business hours" submitted on Friday 16:00 before a holiday ends on
//! the first working day after it.

use chrono::{
    DateTime, Datelike, Duration, FixedOffset, NaiveDate, NaiveTime, TimeZone, Utc, Weekday,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A half-open interval `[start, end)` of local time within one day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct WorkInterval {
    pub start: NaiveTime,
    pub end: NaiveTime,
}

impl WorkInterval {
    pub fn new(start: NaiveTime, end: NaiveTime) -> Result<Self, CalendarError> {
        if start >= end {
            return Err(CalendarError::EmptyInterval(start, end));
        }
        Ok(Self { start, end })
    }

    /// `"09:00-12:00"`.
    pub fn parse(text: &str) -> Result<Self, CalendarError> {
        let bad = || CalendarError::BadInterval(text.to_owned());
        let (a, b) = text.split_once('-').ok_or_else(bad)?;
        let time = |s: &str| NaiveTime::parse_from_str(s.trim(), "%H:%M").map_err(|_| bad());
        Self::new(time(a)?, time(b)?)
    }

    fn length(&self) -> Duration {
        self.end - self.start
    }
}

/// What a particular date is, overriding its weekday's schedule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum DayOverride {
    /// A public holiday: no working time.
    Holiday,
    /// A make-up working day: the standard working day's intervals.
    Workday,
}

impl DayOverride {
    /// The name stored in `calendar_days.kind` (its serde tag).
    pub fn as_str(&self) -> &'static str {
        match self {
            DayOverride::Holiday => "holiday",
            DayOverride::Workday => "workday",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [DayOverride::Holiday, DayOverride::Workday]
            .into_iter()
            .find(|k| k.as_str() == text)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    #[error("interval {0}–{1} is empty")]
    EmptyInterval(NaiveTime, NaiveTime),
    #[error("`{0}` is not an interval like 09:00-12:00")]
    BadInterval(String),
    #[error("intervals on {0:?} overlap or are out of order")]
    Overlapping(Weekday),
    #[error("the calendar has no working time at all")]
    NoWorkingTime,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BusinessCalendar {
    offset: FixedOffset,
    /// Monday first.
    weekly: [Vec<WorkInterval>; 7],
    /// The schedule of a make-up working day.
    standard_day: Vec<WorkInterval>,
    overrides: BTreeMap<NaiveDate, DayOverride>,
}

/// How far a deadline search may look ahead before concluding that the
/// calendar has no working time (guards against an all-holiday calendar).
const MAX_DAYS_AHEAD: i64 = 3 * 366;

impl BusinessCalendar {
    /// `weekly[0]` is Monday. The standard day (for make-up working days) is
    /// the schedule of the first weekday that has one.
    pub fn new(offset: FixedOffset, weekly: [Vec<WorkInterval>; 7]) -> Result<Self, CalendarError> {
        for (i, day) in weekly.iter().enumerate() {
            if day.windows(2).any(|w| w[0].end > w[1].start) {
                return Err(CalendarError::Overlapping(
                    Weekday::try_from(i as u8).expect("0..7"),
                ));
            }
        }
        let standard_day = weekly
            .iter()
            .find(|d| !d.is_empty())
            .cloned()
            .ok_or(CalendarError::NoWorkingTime)?;
        Ok(Self {
            offset,
            weekly,
            standard_day,
            overrides: BTreeMap::new(),
        })
    }

    /// Monday to Friday 09:00–12:00 and 13:30–17:30, Beijing time: the
    /// office hours of a community legal-service point.
    pub fn china_office_hours() -> Self {
        let day = vec![
            WorkInterval::parse("09:00-12:00").expect("valid"),
            WorkInterval::parse("13:30-17:30").expect("valid"),
        ];
        let offset = FixedOffset::east_opt(8 * 3600).expect("UTC+8");
        Self::new(
            offset,
            [
                day.clone(),
                day.clone(),
                day.clone(),
                day.clone(),
                day,
                vec![],
                vec![],
            ],
        )
        .expect("valid")
    }

    /// Every hour of every day, Beijing time (the last nanosecond of a day
    /// excepted: an interval ends within its day). For a demo walked at any
    /// hour (`sansuo serve --demo --round-the-clock`): business time then
    /// runs like the wall clock, so targets pass while someone watches.
    pub fn round_the_clock() -> Self {
        let day = vec![WorkInterval {
            start: NaiveTime::MIN,
            end: NaiveTime::from_hms_nano_opt(23, 59, 59, 999_999_999).expect("valid"),
        }];
        let offset = FixedOffset::east_opt(8 * 3600).expect("UTC+8");
        Self::new(offset, std::array::from_fn(|_| day.clone())).expect("valid")
    }

    pub fn set_override(&mut self, date: NaiveDate, day: DayOverride) {
        self.overrides.insert(date, day);
    }

    pub fn overrides(&self) -> &BTreeMap<NaiveDate, DayOverride> {
        &self.overrides
    }

    /// The working intervals of a local date.
    pub fn intervals_on(&self, date: NaiveDate) -> &[WorkInterval] {
        match self.overrides.get(&date) {
            Some(DayOverride::Holiday) => &[],
            Some(DayOverride::Workday) => &self.standard_day,
            None => &self.weekly[date.weekday().num_days_from_monday() as usize],
        }
    }

    fn local(&self, t: DateTime<Utc>) -> DateTime<FixedOffset> {
        t.with_timezone(&self.offset)
    }

    fn utc(&self, date: NaiveDate, time: NaiveTime) -> DateTime<Utc> {
        self.offset
            .from_local_datetime(&date.and_time(time))
            .single()
            .expect("a fixed offset has no gaps")
            .with_timezone(&Utc)
    }

    pub fn is_working_time(&self, t: DateTime<Utc>) -> bool {
        let local = self.local(t);
        let time = local.time();
        self.intervals_on(local.date_naive())
            .iter()
            .any(|i| i.start <= time && time < i.end)
    }

    /// The instant `amount` of business time after `start`. `None` only if
    /// the calendar has no working time within three years.
    pub fn add(&self, start: DateTime<Utc>, amount: Duration) -> Option<DateTime<Utc>> {
        let local = self.local(start);
        let mut date = local.date_naive();
        let mut from = local.time();
        let mut left = amount.max(Duration::zero());
        for _ in 0..MAX_DAYS_AHEAD {
            for interval in self.intervals_on(date) {
                if interval.end <= from {
                    continue;
                }
                let begin = interval.start.max(from);
                let available = interval.end - begin;
                if left <= available {
                    // Nothing left lands on the next working instant, never
                    // outside working time (a deadline at 12:00 reads 13:30).
                    if left.is_zero() {
                        return Some(self.utc(date, begin));
                    }
                    return Some(self.utc(date, begin) + left);
                }
                left -= available;
            }
            date = date.succ_opt()?;
            from = NaiveTime::MIN;
        }
        None
    }

    /// Business time between two instants (zero if `to` is not after `from`).
    pub fn between(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Duration {
        if to <= from {
            return Duration::zero();
        }
        let (a, b) = (self.local(from), self.local(to));
        let mut total = Duration::zero();
        let mut date = a.date_naive();
        let last = b.date_naive();
        while date <= last {
            for interval in self.intervals_on(date) {
                let lo = if date == a.date_naive() {
                    interval.start.max(a.time())
                } else {
                    interval.start
                };
                let hi = if date == last {
                    interval.end.min(b.time())
                } else {
                    interval.end
                };
                if hi > lo {
                    total += hi - lo;
                }
            }
            match date.succ_opt() {
                Some(next) => date = next,
                None => break,
            }
        }
        total
    }

    /// The business time of one whole local date.
    pub fn working_time_on(&self, date: NaiveDate) -> Duration {
        self.intervals_on(date)
            .iter()
            .map(WorkInterval::length)
            .sum()
    }
}

/// A public calendar year as published (e.g. the State Council notice):
/// holiday ranges and make-up working days, as checked-in data
/// (`data/calendar/<year>.json`) or imported by an administrator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublishedYear {
    pub year: i32,
    pub source: String,
    /// Not yet the official notice (e.g. statutory holidays only, before the
    /// State Council publishes the year): counted as a warning by
    /// [`coverage`] until the notice is imported over it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub provisional: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Inclusive ranges `[first, last]`.
    pub holidays: Vec<(NaiveDate, NaiveDate)>,
    pub workdays: Vec<NaiveDate>,
}

/// A year's notice as written in a file or a request body, before it is
/// checked: dates are text, so that every bad one can be named at once.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublishedYearText {
    pub year: i32,
    pub source: String,
    #[serde(default)]
    pub provisional: bool,
    #[serde(default)]
    pub note: Option<String>,
    /// Inclusive ranges `["first", "last"]`, `YYYY-MM-DD`.
    pub holidays: Vec<(String, String)>,
    /// Make-up working days (调休), `YYYY-MM-DD`.
    #[serde(default)]
    pub workdays: Vec<String>,
}

/// The longest holiday range a notice may hold (the Spring Festival break is
/// at most nine days; a month means a typo).
const MAX_HOLIDAY_RANGE_DAYS: i64 = 31;
const MAX_SOURCE_CHARS: usize = 256;
const MAX_NOTE_CHARS: usize = 2000;

impl PublishedYearText {
    /// Check the whole notice; `Err` lists every problem, each naming its
    /// entry (`holidays[3]`, `workdays[1]`), and nothing is half-accepted.
    /// The year that comes out is canonical: ranges and workdays sorted, so
    /// the same notice always reads the same (imports compare it).
    pub fn check(self) -> Result<PublishedYear, Vec<String>> {
        let mut problems = Vec::new();
        let year = self.year;
        if !(2000..=2100).contains(&year) {
            problems.push(format!("year: {year} is not between 2000 and 2100"));
        }
        let source = self.source.trim().to_owned();
        if source.is_empty() || source.chars().count() > MAX_SOURCE_CHARS {
            problems.push(format!(
                "source: must be 1 to {MAX_SOURCE_CHARS} characters (the notice's title and date)"
            ));
        }
        let note = self
            .note
            .map(|n| n.trim().to_owned())
            .filter(|n| !n.is_empty());
        if note
            .as_ref()
            .is_some_and(|n| n.chars().count() > MAX_NOTE_CHARS)
        {
            problems.push(format!("note: at most {MAX_NOTE_CHARS} characters"));
        }
        let date = |text: &str, at: &str, problems: &mut Vec<String>| -> Option<NaiveDate> {
            match NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d") {
                Ok(d) if d.year() == year => Some(d),
                Ok(_) => {
                    problems.push(format!("{at}: {text} is not in {year}"));
                    None
                }
                Err(_) => {
                    problems.push(format!("{at}: `{text}` is not a date (YYYY-MM-DD)"));
                    None
                }
            }
        };
        if self.holidays.is_empty() {
            problems.push("holidays: a notice has at least one holiday".to_owned());
        }
        let mut holidays: Vec<(usize, NaiveDate, NaiveDate)> = Vec::new();
        for (i, (first, last)) in self.holidays.iter().enumerate() {
            let at = format!("holidays[{i}]");
            let (Some(a), Some(b)) = (
                date(first, &at, &mut problems),
                date(last, &at, &mut problems),
            ) else {
                continue;
            };
            if a > b {
                problems.push(format!("{at}: {a} is after {b}"));
                continue;
            }
            if (b - a).num_days() >= MAX_HOLIDAY_RANGE_DAYS {
                problems.push(format!(
                    "{at}: {a} to {b} is longer than {MAX_HOLIDAY_RANGE_DAYS} days"
                ));
                continue;
            }
            if let Some((j, _, _)) = holidays.iter().find(|(_, c, d)| a <= *d && *c <= b) {
                problems.push(format!("{at}: {a} to {b} overlaps holidays[{j}]"));
                continue;
            }
            holidays.push((i, a, b));
        }
        let mut workdays: Vec<(usize, NaiveDate)> = Vec::new();
        for (i, text) in self.workdays.iter().enumerate() {
            let at = format!("workdays[{i}]");
            let Some(d) = date(text, &at, &mut problems) else {
                continue;
            };
            if let Some((j, _)) = workdays.iter().find(|(_, w)| *w == d) {
                problems.push(format!("{at}: {d} is already workdays[{j}]"));
            } else if let Some((j, _, _)) = holidays.iter().find(|(_, a, b)| *a <= d && d <= *b) {
                problems.push(format!("{at}: {d} lies inside holidays[{j}]"));
            } else if !matches!(d.weekday(), Weekday::Sat | Weekday::Sun) {
                problems.push(format!(
                    "{at}: {d} is a {:?}, a working day already; a make-up working day (调休) is a Saturday or Sunday",
                    d.weekday()
                ));
            } else {
                workdays.push((i, d));
            }
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        let mut holidays: Vec<(NaiveDate, NaiveDate)> =
            holidays.into_iter().map(|(_, a, b)| (a, b)).collect();
        holidays.sort();
        let mut workdays: Vec<NaiveDate> = workdays.into_iter().map(|(_, d)| d).collect();
        workdays.sort();
        Ok(PublishedYear {
            year,
            source,
            provisional: self.provisional,
            note,
            holidays,
            workdays,
        })
    }
}

/// Warn when the confirmed calendar ends in fewer days than this: the next
/// year's notice is usually published in November.
pub const CALENDAR_WARNING_DAYS: i64 = 60;

/// How far ahead the business calendar is known, as of a local date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Coverage {
    /// The last day of the last confirmed year in an unbroken run from
    /// today's year; `None` when today's own year is not confirmed.
    pub covered_until: Option<NaiveDate>,
    /// Days from today to `covered_until` (0 when not covered).
    pub days_left: i64,
    /// How far the calendar reaches when provisional years (right after
    /// the confirmed ones) count too; `None` when none follow.
    pub provisional_until: Option<NaiveDate>,
    /// Set when fewer than [`CALENDAR_WARNING_DAYS`] days are left.
    pub warning: Option<String>,
}

/// The local (Beijing) date of an instant: the calendar's own date.
pub fn china_date(t: DateTime<Utc>) -> NaiveDate {
    t.with_timezone(&FixedOffset::east_opt(8 * 3600).expect("UTC+8"))
        .date_naive()
}

/// How far the calendar reaches from `today`, given the stored years and
/// whether each is provisional. Pure, so "today" is the caller's.
pub fn coverage(years: &[(i32, bool)], today: NaiveDate) -> Coverage {
    let confirmed = |y: i32| years.iter().any(|(year, prov)| *year == y && !prov);
    let known = |y: i32| years.iter().any(|(year, _)| *year == y);
    let last_day = |y: i32| NaiveDate::from_ymd_opt(y, 12, 31).expect("a valid year");
    let this_year = today.year();
    let mut next = this_year;
    while confirmed(next) {
        next += 1;
    }
    let covered_until = (next > this_year).then(|| last_day(next - 1));
    let mut after = next;
    while known(after) {
        after += 1;
    }
    let provisional_until = (after > next).then(|| last_day(after - 1));
    let days_left = covered_until.map_or(0, |end| (end - today).num_days());
    let warning = (days_left < CALENDAR_WARNING_DAYS).then(|| {
        let until = match covered_until {
            Some(end) => format!("the business calendar is confirmed only until {end} ({days_left} days left)"),
            None => format!("the business calendar has no confirmed notice for {this_year}: SLA clocks see only weekends"),
        };
        let provisional = match provisional_until {
            Some(_) => format!("; {next} is provisional (statutory holidays only, no make-up working days)"),
            None => String::new(),
        };
        format!(
            "{until}{provisional}; import the State Council notice for {next} (`sansuo calendar import FILE` or POST /api/v1/admin/calendar/import)"
        )
    });
    Coverage {
        covered_until,
        days_left,
        provisional_until,
        warning,
    }
}

impl PublishedYear {
    /// Every override this year makes, in date order.
    pub fn overrides(&self) -> Vec<(NaiveDate, DayOverride)> {
        let mut out: Vec<(NaiveDate, DayOverride)> = Vec::new();
        for (first, last) in &self.holidays {
            let mut d = *first;
            while d <= *last {
                out.push((d, DayOverride::Holiday));
                d = d.succ_opt().expect("in range");
            }
        }
        out.extend(self.workdays.iter().map(|d| (*d, DayOverride::Workday)));
        out.sort_by_key(|(d, _)| *d);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_the_clock_counts_nights_and_weekends_like_the_wall_clock() {
        let cal = BusinessCalendar::round_the_clock();
        // Saturday 04:30 Beijing time (Friday 20:30 UTC).
        let night = Utc.with_ymd_and_hms(2026, 12, 4, 20, 30, 0).unwrap();
        let later = night + Duration::minutes(90);
        assert_eq!(cal.between(night, later), Duration::minutes(90));
        assert_eq!(
            cal.add(night, Duration::minutes(1)),
            Some(night + Duration::minutes(1))
        );
        // Across midnight, only the last nanosecond of the day is missing.
        let day = Duration::days(1) - cal.between(night, night + Duration::days(1));
        assert!(day <= Duration::nanoseconds(1), "{day:?}");
    }

    fn cal() -> BusinessCalendar {
        let mut cal = BusinessCalendar::china_office_hours();
        let year: PublishedYear = PublishedYear {
            year: 2026,
            source: "test".into(),
            provisional: false,
            note: None,
            holidays: vec![
                (d(2026, 1, 1), d(2026, 1, 3)),
                (d(2026, 10, 1), d(2026, 10, 7)),
            ],
            workdays: vec![d(2026, 1, 4), d(2026, 10, 10)],
        };
        for (date, day) in year.overrides() {
            cal.set_override(date, day);
        }
        cal
    }

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    /// Beijing local time → UTC instant.
    fn bj(y: i32, m: u32, day: u32, h: u32, min: u32) -> DateTime<Utc> {
        FixedOffset::east_opt(8 * 3600)
            .unwrap()
            .with_ymd_and_hms(y, m, day, h, min, 0)
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn adding_within_one_interval() {
        // Tuesday 2026-11-24 09:30 + 1 h = 10:30.
        assert_eq!(
            cal().add(bj(2026, 11, 24, 9, 30), Duration::hours(1)),
            Some(bj(2026, 11, 24, 10, 30))
        );
    }

    #[test]
    fn the_lunch_break_does_not_count() {
        // 11:30 + 1 h = 30 min before lunch, 30 min after: 14:00.
        assert_eq!(
            cal().add(bj(2026, 11, 24, 11, 30), Duration::hours(1)),
            Some(bj(2026, 11, 24, 14, 0))
        );
        // Submitted during lunch: the clock starts at 13:30.
        assert_eq!(
            cal().add(bj(2026, 11, 24, 12, 15), Duration::minutes(10)),
            Some(bj(2026, 11, 24, 13, 40))
        );
        assert_eq!(
            cal().between(bj(2026, 11, 24, 11, 0), bj(2026, 11, 24, 14, 0)),
            Duration::minutes(90)
        );
    }

    #[test]
    fn evenings_and_midnight_are_skipped() {
        // Tuesday 17:00 + 1 h: 30 min today, then Wednesday 09:30.
        assert_eq!(
            cal().add(bj(2026, 11, 24, 17, 0), Duration::hours(1)),
            Some(bj(2026, 11, 25, 9, 30))
        );
        // Submitted at 23:59 (15:59 UTC the same day): starts next morning.
        assert_eq!(
            cal().add(bj(2026, 11, 24, 23, 59), Duration::minutes(5)),
            Some(bj(2026, 11, 25, 9, 5))
        );
        // The UTC date differs from the local date before 08:00 Beijing time.
        assert_eq!(
            cal().add(bj(2026, 11, 25, 7, 0), Duration::minutes(5)),
            Some(bj(2026, 11, 25, 9, 5))
        );
    }

    #[test]
    fn weekends_are_skipped() {
        // Friday 2026-11-27 17:00 + 1 h → Monday 2026-11-30 09:30.
        assert_eq!(
            cal().add(bj(2026, 11, 27, 17, 0), Duration::hours(1)),
            Some(bj(2026, 11, 30, 9, 30))
        );
        assert_eq!(
            cal().between(bj(2026, 11, 27, 17, 0), bj(2026, 11, 30, 9, 30)),
            Duration::hours(1)
        );
    }

    #[test]
    fn holidays_and_make_up_days_follow_the_published_calendar() {
        // 2026-09-30 (Wed) 17:00 + 1 h: National Day 1–7 Oct is off; Thu 8 Oct is a normal day.
        assert_eq!(
            cal().add(bj(2026, 9, 30, 17, 0), Duration::hours(1)),
            Some(bj(2026, 10, 8, 9, 30))
        );
        // Saturday 10 Oct is a make-up working day.
        assert!(cal().is_working_time(bj(2026, 10, 10, 10, 0)));
        assert!(
            !cal().is_working_time(bj(2026, 10, 11, 10, 0)),
            "Sunday 11 Oct is not"
        );
        assert!(
            !cal().is_working_time(bj(2026, 10, 5, 10, 0)),
            "a Monday inside the holiday"
        );
        assert_eq!(cal().working_time_on(d(2026, 10, 10)), Duration::hours(7));
        assert_eq!(cal().working_time_on(d(2026, 10, 2)), Duration::zero());
    }

    #[test]
    fn crossing_a_year_end() {
        // Thursday 2025-12-31 17:00 + 2 h: 30 min on 31 Dec, 1–3 Jan 2026 are
        // holidays, Sunday 4 Jan is a make-up working day.
        assert_eq!(
            cal().add(bj(2025, 12, 31, 17, 0), Duration::hours(2)),
            Some(bj(2026, 1, 4, 10, 30))
        );
    }

    #[test]
    fn a_full_business_day_is_seven_hours() {
        assert_eq!(
            cal().add(bj(2026, 11, 24, 9, 0), Duration::hours(7)),
            Some(bj(2026, 11, 24, 17, 30))
        );
        assert_eq!(
            cal().add(
                bj(2026, 11, 24, 9, 0),
                Duration::hours(7) + Duration::minutes(1)
            ),
            Some(bj(2026, 11, 25, 9, 1))
        );
        assert_eq!(
            cal().between(bj(2026, 11, 23, 0, 0), bj(2026, 11, 30, 0, 0)),
            Duration::hours(35)
        );
    }

    #[test]
    fn zero_and_negative_amounts_move_to_the_next_working_instant_at_most() {
        assert_eq!(
            cal().add(bj(2026, 11, 24, 10, 0), Duration::zero()),
            Some(bj(2026, 11, 24, 10, 0))
        );
        assert_eq!(
            cal().add(bj(2026, 11, 28, 10, 0), Duration::seconds(-5)),
            Some(bj(2026, 11, 30, 9, 0))
        );
        assert_eq!(
            cal().between(bj(2026, 11, 24, 12, 0), bj(2026, 11, 24, 10, 0)),
            Duration::zero()
        );
    }

    #[test]
    fn a_calendar_without_working_time_is_refused_or_never_ends() {
        let offset = FixedOffset::east_opt(8 * 3600).unwrap();
        assert_eq!(
            BusinessCalendar::new(offset, Default::default()),
            Err(CalendarError::NoWorkingTime)
        );
        let mut only_one_day = BusinessCalendar::china_office_hours();
        for i in 0..(MAX_DAYS_AHEAD + 10) {
            only_one_day.set_override(d(2026, 1, 1) + Duration::days(i), DayOverride::Holiday);
        }
        assert_eq!(
            only_one_day.add(bj(2026, 1, 1, 9, 0), Duration::hours(1)),
            None
        );
    }

    fn text(holidays: &[(&str, &str)], workdays: &[&str]) -> PublishedYearText {
        PublishedYearText {
            year: 2027,
            source: "test notice".into(),
            provisional: false,
            note: None,
            holidays: holidays
                .iter()
                .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
                .collect(),
            workdays: workdays.iter().map(|d| (*d).to_owned()).collect(),
        }
    }

    #[test]
    fn a_notice_is_checked_whole_and_every_bad_entry_is_named() {
        let good = text(
            &[("2027-10-01", "2027-10-07"), ("2027-01-01", "2027-01-01")],
            &["2027-10-09"],
        )
        .check()
        .unwrap();
        assert_eq!(
            good.holidays[0],
            (d(2027, 1, 1), d(2027, 1, 1)),
            "sorted: the same notice always reads the same"
        );
        assert_eq!(good.overrides().len(), 7 + 1 + 1);

        let problems = text(
            &[
                ("2027-01-01", "2027-01-01"),
                ("2027-02-30", "2027-03-01"),
                ("2027-05-05", "2027-05-01"),
                ("2026-12-31", "2027-01-02"),
                ("2027-09-15", "2027-09-15"),
                ("2027-09-14", "2027-09-16"),
            ],
            &["2027-09-15", "2027-06-09", "2027-06-12", "2027-06-12"],
        )
        .check()
        .unwrap_err();
        let all = problems.join("\n");
        for expected in [
            "holidays[1]: `2027-02-30` is not a date",
            "holidays[2]: 2027-05-05 is after 2027-05-01",
            "holidays[3]: 2026-12-31 is not in 2027",
            "holidays[5]: 2027-09-14 to 2027-09-16 overlaps holidays[4]",
            "workdays[0]: 2027-09-15 lies inside holidays[4]",
            "workdays[1]: 2027-06-09 is a Wed",
            "workdays[3]: 2027-06-12 is already workdays[2]",
        ] {
            assert!(all.contains(expected), "missing {expected} in\n{all}");
        }
        assert_eq!(problems.len(), 7, "{all}");
        let empty = text(&[], &[]).check().unwrap_err();
        assert!(empty[0].starts_with("holidays:"), "{empty:?}");
    }

    #[test]
    fn coverage_warns_under_sixty_days_and_not_above() {
        let years = [(2026, false)];
        let early = coverage(&years, d(2026, 11, 1));
        assert_eq!(early.covered_until, Some(d(2026, 12, 31)));
        assert_eq!(early.days_left, 60);
        assert_eq!(early.warning, None, "60 days left: no warning yet");
        let late = coverage(&years, d(2026, 11, 2));
        assert_eq!(late.days_left, 59);
        let warning = late.warning.expect("59 days left warns");
        assert!(
            warning.contains("2026-12-31") && warning.contains("2027"),
            "{warning}"
        );

        // A provisional next year does not count as covered.
        let with_draft = coverage(&[(2026, false), (2027, true)], d(2026, 12, 2));
        assert_eq!(with_draft.covered_until, Some(d(2026, 12, 31)));
        assert_eq!(with_draft.days_left, 29);
        assert_eq!(with_draft.provisional_until, Some(d(2027, 12, 31)));
        assert!(with_draft.warning.unwrap().contains("2027 is provisional"));

        // The notice imported over it: a year ahead, no warning.
        let confirmed = coverage(&[(2026, false), (2027, false)], d(2026, 12, 2));
        assert_eq!(confirmed.covered_until, Some(d(2027, 12, 31)));
        assert_eq!(confirmed.days_left, 394);
        assert_eq!(confirmed.warning, None);
        assert_eq!(confirmed.provisional_until, None);

        // Nothing for this year at all.
        let none = coverage(&[(2025, false)], d(2026, 3, 1));
        assert_eq!((none.covered_until, none.days_left), (None, 0));
        assert!(
            none.warning
                .unwrap()
                .contains("no confirmed notice for 2026")
        );
    }

    #[test]
    fn the_calendars_date_is_beijings() {
        assert_eq!(china_date(bj(2026, 12, 31, 23, 30)), d(2026, 12, 31));
        assert_eq!(china_date(bj(2027, 1, 1, 0, 30)), d(2027, 1, 1));
    }

    #[test]
    fn intervals_parse_and_must_not_overlap() {
        assert!(WorkInterval::parse("09:00-12:00").is_ok());
        assert!(WorkInterval::parse("12:00-09:00").is_err());
        assert!(WorkInterval::parse("9-12").is_err());
        let offset = FixedOffset::east_opt(8 * 3600).unwrap();
        let overlapping = vec![
            WorkInterval::parse("09:00-12:00").unwrap(),
            WorkInterval::parse("11:00-13:00").unwrap(),
        ];
        let mut week: [Vec<WorkInterval>; 7] = Default::default();
        week[0] = overlapping;
        assert_eq!(
            BusinessCalendar::new(offset, week),
            Err(CalendarError::Overlapping(Weekday::Mon))
        );
    }
}
