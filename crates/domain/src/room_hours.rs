//! When a mediation room is open, and which session times in it are free.
//!
//! A room's opening hours are the text an administrator typed
//! (`"周一至周五 09:00-12:00, 13:30-17:30"`): [`OpeningHours::parse`] reads
//! the weekdays and the daily intervals out of it. A room whose hours say
//! nothing readable keeps the business calendar's working intervals. Either
//! way the official calendar has the last word on a date: a public holiday
//! closes the room, a make-up working day (调休) opens it as on a weekday.
//!
//! [`free_slots`] is the lookup a mediator makes before booking: session
//! starts on the half-hour grid, within the open hours of one local
//! (Asia/Shanghai) day, not in the past, and not overlapping any slot that
//! is already booked (the room's or the mediator's own, the same slots the
//! database refuses a double booking on).

use crate::calendar::{BusinessCalendar, DayOverride, WorkInterval};
use crate::mediation::{MAX_SESSION_MINUTES, SLOT_MINUTES};
use chrono::{DateTime, Datelike, Duration, FixedOffset, NaiveDate, NaiveTime, TimeZone, Utc};
use std::collections::BTreeSet;

/// The weekdays a room opens (Monday first) and its daily intervals.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpeningHours {
    days: [bool; 7],
    intervals: Vec<WorkInterval>,
}

const WEEKDAY_NAMES: [char; 7] = ['一', '二', '三', '四', '五', '六', '日'];

fn weekday_index(c: char) -> Option<usize> {
    if c == '天' {
        return Some(6);
    }
    WEEKDAY_NAMES.iter().position(|&d| d == c)
}

impl OpeningHours {
    /// Reads `周一至周五 09:00-12:00, 13:30-17:30`, `每天 08:30-20:00`,
    /// `周一、周三 14:00-17:00`, `09:00-17:00` (every day). `None` when no
    /// time interval can be read: the caller falls back to the calendar.
    pub fn parse(text: &str) -> Option<Self> {
        let intervals = Self::intervals_in(text);
        if intervals.is_empty() {
            return None;
        }
        Some(Self {
            days: Self::days_in(text),
            intervals,
        })
    }

    /// Every `HH:MM-HH:MM` (also with `–`, `—`, `~`, `～`, `至` between).
    fn intervals_in(text: &str) -> Vec<WorkInterval> {
        let chars: Vec<char> = text.chars().collect();
        let time_at = |i: usize| -> Option<(NaiveTime, usize)> {
            // H:MM or HH:MM, with an ASCII or full-width colon.
            let mut j = i;
            let mut digits = String::new();
            while j < chars.len() && chars[j].is_ascii_digit() && digits.len() < 2 {
                digits.push(chars[j]);
                j += 1;
            }
            if digits.is_empty() || j >= chars.len() || !matches!(chars[j], ':' | '：') {
                return None;
            }
            let hour: u32 = digits.parse().ok()?;
            let minute: String = chars.get(j + 1..j + 3)?.iter().collect();
            if !minute.chars().all(|c| c.is_ascii_digit()) {
                return None;
            }
            let time = if hour == 24 && minute == "00" {
                NaiveTime::from_hms_opt(23, 59, 59)?
            } else {
                NaiveTime::from_hms_opt(hour, minute.parse().ok()?, 0)?
            };
            Some((time, j + 3))
        };
        let mut found = Vec::new();
        let mut i = 0;
        while i < chars.len() {
            let starts_number =
                chars[i].is_ascii_digit() && (i == 0 || !chars[i - 1].is_ascii_digit());
            if starts_number && let Some((start, after)) = time_at(i) {
                let mut k = after;
                while k < chars.len() && chars[k] == ' ' {
                    k += 1;
                }
                if k < chars.len() && matches!(chars[k], '-' | '–' | '—' | '~' | '～' | '至')
                {
                    k += 1;
                    while k < chars.len() && chars[k] == ' ' {
                        k += 1;
                    }
                    if let Some((end, after_end)) = time_at(k) {
                        if let Ok(interval) = WorkInterval::new(start, end) {
                            found.push(interval);
                        }
                        i = after_end;
                        continue;
                    }
                }
                i = after;
                continue;
            }
            i += 1;
        }
        found.sort();
        found
    }

    /// `周X至周Y` (or `周X-周Y`) ranges and single `周X` days; every day when
    /// none is named (or `每天`, `每日`).
    fn days_in(text: &str) -> [bool; 7] {
        let chars: Vec<char> = text.chars().collect();
        let mut days = [false; 7];
        let mut named = false;
        let mut i = 0;
        while i < chars.len() {
            let day_after = |k: usize| -> Option<usize> {
                if k + 1 < chars.len() && matches!(chars[k], '周' | '星') {
                    // 周一, or 星期一
                    let at = if chars[k] == '星' && chars.get(k + 1) == Some(&'期') {
                        k + 2
                    } else if chars[k] == '周' {
                        k + 1
                    } else {
                        return None;
                    };
                    chars.get(at).and_then(|&c| weekday_index(c))
                } else {
                    None
                }
            };
            let Some(first) = day_after(i) else {
                i += 1;
                continue;
            };
            named = true;
            let after_first = if chars[i] == '星' { i + 3 } else { i + 2 };
            let range_end = chars
                .get(after_first)
                .filter(|c| matches!(c, '至' | '-' | '–' | '~' | '～' | '到'))
                .and_then(|_| day_after(after_first + 1));
            match range_end {
                Some(last) => {
                    let mut d = first;
                    loop {
                        days[d] = true;
                        if d == last {
                            break;
                        }
                        d = (d + 1) % 7;
                    }
                    i = after_first + 1;
                }
                None => {
                    days[first] = true;
                    i = after_first;
                }
            }
        }
        named |= Self::english_days_in(text, &mut days);
        if !named {
            days = [true; 7];
        }
        days
    }

    /// `Mon-Fri`, `Mon to Sat`, `Sat, Sun` (three letters or more, any case).
    fn english_days_in(text: &str, days: &mut [bool; 7]) -> bool {
        const NAMES: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
        let lower = text.to_ascii_lowercase();
        // Words and the dashes between them, in order.
        let mut tokens: Vec<String> = Vec::new();
        let mut word = String::new();
        for c in lower.chars() {
            if c.is_ascii_alphabetic() {
                word.push(c);
                continue;
            }
            if !word.is_empty() {
                tokens.push(std::mem::take(&mut word));
            }
            if matches!(c, '-' | '–' | '~' | '～' | '至') {
                tokens.push("-".into());
            }
        }
        if !word.is_empty() {
            tokens.push(word);
        }
        let day = |t: &str| {
            if t.len() < 3 {
                return None;
            }
            NAMES.iter().position(|n| t.starts_with(n))
        };
        let mut named = false;
        let mut i = 0;
        while i < tokens.len() {
            let Some(first) = day(&tokens[i]) else {
                i += 1;
                continue;
            };
            named = true;
            let joined = tokens.get(i + 1).is_some_and(|t| t == "-" || t == "to");
            match tokens.get(i + 2).and_then(|t| day(t)).filter(|_| joined) {
                Some(last) => {
                    let mut d = first;
                    loop {
                        days[d] = true;
                        if d == last {
                            break;
                        }
                        d = (d + 1) % 7;
                    }
                    i += 3;
                }
                None => {
                    days[first] = true;
                    i += 1;
                }
            }
        }
        named
    }

    pub fn opens_on(&self, weekday: chrono::Weekday) -> bool {
        self.days[weekday.num_days_from_monday() as usize]
    }

    pub fn intervals(&self) -> &[WorkInterval] {
        &self.intervals
    }
}

/// The local open intervals of a room on a date: its own hours (or the
/// calendar's working intervals when it has none readable), closed on a
/// public holiday, open as on a weekday on a make-up working day.
pub fn open_intervals(
    hours: Option<&OpeningHours>,
    calendar: &BusinessCalendar,
    date: NaiveDate,
) -> Vec<WorkInterval> {
    let Some(hours) = hours else {
        return calendar.intervals_on(date).to_vec();
    };
    match calendar.overrides().get(&date) {
        Some(DayOverride::Holiday) => Vec::new(),
        Some(DayOverride::Workday) => hours.intervals.clone(),
        None if hours.opens_on(date.weekday()) => hours.intervals.clone(),
        None => Vec::new(),
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FreeSlotError {
    #[error(
        "minutes must be a multiple of {SLOT_MINUTES} from {SLOT_MINUTES} to {MAX_SESSION_MINUTES}"
    )]
    BadLength,
}

/// Asia/Shanghai: China keeps one offset all year.
fn shanghai() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("UTC+8")
}

/// One free session time `[starts_at, ends_at)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FreeSlot {
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
}

/// Session times of `minutes` on the local `date` that fit wholly in one of
/// the `open` intervals, start on the half-hour grid and not before `now`,
/// and cover no slot in `busy` (slot starts, as `booking_slots` holds them).
pub fn free_slots(
    date: NaiveDate,
    open: &[WorkInterval],
    busy: &BTreeSet<DateTime<Utc>>,
    minutes: i64,
    now: DateTime<Utc>,
) -> Result<Vec<FreeSlot>, FreeSlotError> {
    if !(SLOT_MINUTES..=MAX_SESSION_MINUTES).contains(&minutes) || minutes % SLOT_MINUTES != 0 {
        return Err(FreeSlotError::BadLength);
    }
    let length = Duration::minutes(minutes);
    let step = Duration::minutes(SLOT_MINUTES);
    let local = |t: NaiveTime| {
        shanghai()
            .from_local_datetime(&date.and_time(t))
            .single()
            .expect("a fixed offset has no gaps")
            .with_timezone(&Utc)
    };
    let mut slots = Vec::new();
    for interval in open {
        let (open_at, close_at) = (local(interval.start), local(interval.end));
        // The first grid point at or after the opening.
        let grid = SLOT_MINUTES * 60;
        let rem = open_at.timestamp().rem_euclid(grid);
        let mut start = open_at + Duration::seconds((grid - rem) % grid);
        while start + length <= close_at {
            let taken = (0..minutes / SLOT_MINUTES)
                .any(|i| busy.contains(&(start + Duration::minutes(i * SLOT_MINUTES))));
            if start >= now && !taken {
                slots.push(FreeSlot {
                    starts_at: start,
                    ends_at: start + length,
                });
            }
            start += step;
        }
    }
    Ok(slots)
}

/// The `open` intervals of a local `date` as UTC instants.
pub fn open_spans(date: NaiveDate, open: &[WorkInterval]) -> Vec<FreeSlot> {
    let at = |t: NaiveTime| {
        shanghai()
            .from_local_datetime(&date.and_time(t))
            .single()
            .expect("a fixed offset has no gaps")
            .with_timezone(&Utc)
    };
    open.iter()
        .map(|i| FreeSlot {
            starts_at: at(i.start),
            ends_at: at(i.end),
        })
        .collect()
}

/// The instants `[from, to)` of a local date, to read its bookings with.
pub fn local_day_bounds(date: NaiveDate) -> (DateTime<Utc>, DateTime<Utc>) {
    let start = shanghai()
        .from_local_datetime(&date.and_hms_opt(0, 0, 0).expect("midnight"))
        .single()
        .expect("a fixed offset has no gaps")
        .with_timezone(&Utc);
    (start, start + Duration::days(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).unwrap()
    }

    fn iv(a: (u32, u32), b: (u32, u32)) -> WorkInterval {
        WorkInterval::new(t(a.0, a.1), t(b.0, b.1)).unwrap()
    }

    fn utc(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn opening_hours_read_weekdays_and_intervals() {
        let h = OpeningHours::parse("周一至周五 09:00-12:00, 13:30-17:30").unwrap();
        assert_eq!(
            h.intervals(),
            &[iv((9, 0), (12, 0)), iv((13, 30), (17, 30))]
        );
        assert!(h.opens_on(chrono::Weekday::Mon) && h.opens_on(chrono::Weekday::Fri));
        assert!(!h.opens_on(chrono::Weekday::Sat) && !h.opens_on(chrono::Weekday::Sun));

        let h = OpeningHours::parse("周六、周日 9:00～11:30").unwrap();
        assert_eq!(h.intervals(), &[iv((9, 0), (11, 30))]);
        assert!(h.opens_on(chrono::Weekday::Sat) && h.opens_on(chrono::Weekday::Sun));
        assert!(!h.opens_on(chrono::Weekday::Mon));

        let h = OpeningHours::parse("每天 08:30 - 20:00").unwrap();
        assert_eq!(h.intervals(), &[iv((8, 30), (20, 0))]);
        assert!((0..7).all(|d| h.days[d]));

        let h = OpeningHours::parse("星期五至星期一 10:00-16:00").unwrap();
        let open: Vec<bool> = h.days.to_vec();
        assert_eq!(open, vec![true, false, false, false, true, true, true]);

        let h = OpeningHours::parse("Mon-Fri 09:00-17:30").unwrap();
        assert_eq!(h.days, [true, true, true, true, true, false, false]);
        assert_eq!(h.intervals(), &[iv((9, 0), (17, 30))]);
        let h = OpeningHours::parse("Saturday, Sunday 10:00-12:00").unwrap();
        assert_eq!(h.days, [false, false, false, false, false, true, true]);

        assert_eq!(OpeningHours::parse("工作日白天"), None);
        assert_eq!(OpeningHours::parse(""), None);
        // A backwards interval is not an interval.
        assert_eq!(OpeningHours::parse("周一 17:00-09:00"), None);
    }

    #[test]
    fn the_calendar_closes_holidays_and_opens_make_up_days() {
        let mut calendar = BusinessCalendar::china_office_hours();
        // Thu 1 Oct 2026 is a holiday; Sat 10 Oct 2026 a make-up working day.
        calendar.set_override(day("2026-10-01"), DayOverride::Holiday);
        calendar.set_override(day("2026-10-10"), DayOverride::Workday);
        let hours = OpeningHours::parse("周一至周五 09:00-12:00").unwrap();
        assert!(open_intervals(Some(&hours), &calendar, day("2026-10-01")).is_empty());
        assert_eq!(
            open_intervals(Some(&hours), &calendar, day("2026-10-10")),
            vec![iv((9, 0), (12, 0))]
        );
        assert!(open_intervals(Some(&hours), &calendar, day("2026-10-11")).is_empty());
        assert_eq!(
            open_intervals(Some(&hours), &calendar, day("2026-10-12")),
            vec![iv((9, 0), (12, 0))]
        );
        // No readable hours: the calendar's own working day.
        assert_eq!(
            open_intervals(None, &calendar, day("2026-10-12")),
            calendar.intervals_on(day("2026-10-12")).to_vec()
        );
        assert!(open_intervals(None, &calendar, day("2026-10-01")).is_empty());
    }

    #[test]
    fn free_slots_skip_booked_slots_the_past_and_closing_time() {
        let date = day("2026-12-08");
        let open = [iv((9, 0), (12, 0)), iv((13, 30), (15, 0))];
        // Booked: 10:00-11:00 local (02:00-03:00 UTC).
        let busy: BTreeSet<_> = [utc("2026-12-08T02:00:00Z"), utc("2026-12-08T02:30:00Z")]
            .into_iter()
            .collect();
        let now = utc("2026-12-01T00:00:00Z");
        let slots = free_slots(date, &open, &busy, 60, now).unwrap();
        let starts: Vec<String> = slots
            .iter()
            .map(|s| {
                s.starts_at
                    .with_timezone(&shanghai())
                    .format("%H:%M")
                    .to_string()
            })
            .collect();
        // 09:00, 09:30 fit before the booking; 11:00 fits before noon;
        // 13:30 and 14:00 fit before 15:00. 09:30-10:30 overlaps: not free.
        assert_eq!(starts, vec!["09:00", "11:00", "13:30", "14:00"]);
        assert!(
            slots
                .iter()
                .all(|s| s.ends_at - s.starts_at == Duration::hours(1))
        );
        assert_eq!(slots[0].starts_at, utc("2026-12-08T01:00:00Z"));

        // Later the same day: slots that started already are gone.
        let slots = free_slots(date, &open, &busy, 60, utc("2026-12-08T03:10:00Z")).unwrap();
        let starts: Vec<_> = slots.iter().map(|s| s.starts_at).collect();
        assert_eq!(
            starts,
            vec![utc("2026-12-08T05:30:00Z"), utc("2026-12-08T06:00:00Z")]
        );

        // An opening off the grid starts at the next half hour.
        let slots = free_slots(date, &[iv((9, 10), (10, 30))], &BTreeSet::new(), 30, now).unwrap();
        assert_eq!(slots.len(), 2);
        assert_eq!(slots[0].starts_at, utc("2026-12-08T01:30:00Z"));

        assert_eq!(
            free_slots(date, &open, &busy, 45, now),
            Err(FreeSlotError::BadLength)
        );
        assert_eq!(
            free_slots(date, &open, &busy, 0, now),
            Err(FreeSlotError::BadLength)
        );
        assert_eq!(
            free_slots(date, &open, &busy, MAX_SESSION_MINUTES + 30, now),
            Err(FreeSlotError::BadLength)
        );
    }

    #[test]
    fn open_spans_are_local_hours_in_utc() {
        let spans = open_spans(day("2026-12-08"), &[iv((9, 0), (12, 0))]);
        assert_eq!(
            spans,
            vec![FreeSlot {
                starts_at: utc("2026-12-08T01:00:00Z"),
                ends_at: utc("2026-12-08T04:00:00Z"),
            }]
        );
    }

    #[test]
    fn a_local_day_is_sixteen_to_sixteen_utc() {
        let (from, to) = local_day_bounds(day("2026-12-08"));
        assert_eq!(from, utc("2026-12-07T16:00:00Z"));
        assert_eq!(to, utc("2026-12-08T16:00:00Z"));
    }
}
