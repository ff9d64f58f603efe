//! A recurring duty rota (排班): a weekly pattern plus dated exceptions,
//! expanded into concrete shifts.
//!
//! Times are wall-clock in Asia/Shanghai, which has had no daylight saving
//! since 1991, so a fixed UTC+8 offset is exact and every local day has 24
//! hours. A shift belongs to the day it starts on: "00:00–08:00" on a Sunday
//! is the Sunday early shift, "22:00–06:00" on a Saturday runs into Sunday.
//! An exception replaces (or, with no slots, removes) the shifts that
//! *start* on its days; a night shift that started the day before still
//! runs to its end.
//!
//! The rota is read as it stands whenever dispatch asks who is on duty
//! (nothing is materialised), so [`Rota::on_duty_at`] and [`Rota::expand`]
//! are the whole rule.

use crate::StaffId;
use crate::calendar::BusinessCalendar;
use chrono::{DateTime, Datelike, Duration, FixedOffset, NaiveDate, TimeZone, Utc, Weekday};
use serde::{Deserialize, Serialize};

/// At most this many slots in a pattern (or in one exception).
pub const MAX_SLOTS: usize = 50;
/// At most this many people named in one slot.
pub const MAX_STAFF_PER_SLOT: usize = 50;
/// At most this many exceptions.
pub const MAX_EXCEPTIONS: usize = 200;
/// An exception spans at most this many days.
pub const MAX_EXCEPTION_DAYS: i64 = 366;

/// The rota as written and stored: the wire form, strings unparsed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RotaSpec {
    /// The first day the rota applies; day 0 of every rotation.
    pub starts_on: NaiveDate,
    /// The last day it applies (inclusive); open-ended when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ends_on: Option<NaiveDate>,
    pub slots: Vec<SlotSpec>,
    #[serde(default)]
    pub exceptions: Vec<ExceptionSpec>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlotSpec {
    /// `every_day`, `workdays` (working days of the business calendar:
    /// holidays off, make-up days on), `rest_days` (the others), or weekday
    /// names such as `mon,tue,wed,thu,fri`.
    pub days: String,
    /// `HH:MM`, 00:00 to 23:59.
    pub start: String,
    /// `HH:MM`, 00:01 to 24:00. At or before `start` the shift ends the next
    /// day ("16:00"–"00:00", "20:00"–"08:00"; "08:00"–"08:00" is 24 hours).
    pub end: String,
    /// Who is on duty: everyone listed, or, with `rotate`, one of them per
    /// day in turn (day n since `starts_on` takes `staff[n % len]`).
    pub staff: Vec<StaffId>,
    #[serde(default)]
    pub rotate: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExceptionSpec {
    pub from: NaiveDate,
    /// Inclusive.
    pub to: NaiveDate,
    /// The shifts starting on these days instead of the pattern's; empty
    /// (or absent) for no duty at all.
    #[serde(default)]
    pub slots: Vec<SlotSpec>,
}

/// Why a spec is not a rota: the field (`slots[2].end`) and the reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct RotaError {
    pub field: String,
    pub message: String,
}

fn err(field: impl Into<String>, message: impl Into<String>) -> RotaError {
    RotaError {
        field: field.into(),
        message: message.into(),
    }
}

/// Which days a slot runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Days {
    EveryDay,
    Workdays,
    RestDays,
    /// Bit `n` set: `Weekday::num_days_from_monday() == n`.
    Weekdays(u8),
}

impl Days {
    fn parse(text: &str) -> Option<Self> {
        match text.trim() {
            "every_day" => Some(Self::EveryDay),
            "workdays" => Some(Self::Workdays),
            "rest_days" => Some(Self::RestDays),
            list => {
                let mut bits = 0u8;
                for name in list.split(',') {
                    let day = match name.trim() {
                        "mon" => Weekday::Mon,
                        "tue" => Weekday::Tue,
                        "wed" => Weekday::Wed,
                        "thu" => Weekday::Thu,
                        "fri" => Weekday::Fri,
                        "sat" => Weekday::Sat,
                        "sun" => Weekday::Sun,
                        _ => return None,
                    };
                    bits |= 1 << day.num_days_from_monday();
                }
                Some(Self::Weekdays(bits))
            }
        }
    }

    fn includes(self, date: NaiveDate, calendar: &BusinessCalendar) -> bool {
        let working = || !calendar.intervals_on(date).is_empty();
        match self {
            Self::EveryDay => true,
            Self::Workdays => working(),
            Self::RestDays => !working(),
            Self::Weekdays(bits) => bits & (1 << date.weekday().num_days_from_monday()) != 0,
        }
    }
}

/// One parsed slot: minutes after local midnight, and a length.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Slot {
    days: Days,
    start_minute: u32,
    length_minutes: u32,
    staff: Vec<StaffId>,
    rotate: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Exception {
    from: NaiveDate,
    to: NaiveDate,
    slots: Vec<Slot>,
}

/// A validated rota.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rota {
    starts_on: NaiveDate,
    ends_on: Option<NaiveDate>,
    slots: Vec<Slot>,
    exceptions: Vec<Exception>,
}

/// One concrete shift of a rota.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RotaShift {
    /// The local day it starts on.
    pub day: NaiveDate,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub staff: Vec<StaffId>,
}

/// Asia/Shanghai: UTC+8 all year.
pub fn shanghai() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("UTC+8")
}

/// `HH:MM` as minutes after midnight; `24:00` only when `allow_midnight_end`.
fn parse_clock(text: &str, allow_midnight_end: bool) -> Option<u32> {
    let (h, m) = text.trim().split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    if m >= 60 {
        return None;
    }
    let minutes = h * 60 + m;
    match (h, allow_midnight_end) {
        (0..=23, _) => Some(minutes),
        (24, true) if m == 0 => Some(minutes),
        _ => None,
    }
}

fn parse_slots(field: &str, specs: &[SlotSpec]) -> Result<Vec<Slot>, RotaError> {
    if specs.len() > MAX_SLOTS {
        return Err(err(field, format!("at most {MAX_SLOTS} slots")));
    }
    specs
        .iter()
        .enumerate()
        .map(|(i, spec)| {
            let at = |name: &str| format!("{field}[{i}].{name}");
            let days = Days::parse(&spec.days).ok_or_else(|| {
                err(
                    at("days"),
                    "must be every_day, workdays, rest_days or weekdays like mon,tue",
                )
            })?;
            let start = parse_clock(&spec.start, false)
                .ok_or_else(|| err(at("start"), "must be a time HH:MM from 00:00 to 23:59"))?;
            let end = parse_clock(&spec.end, true)
                .ok_or_else(|| err(at("end"), "must be a time HH:MM from 00:00 to 24:00"))?;
            // At or before the start: the shift ends the next day.
            let length = if end > start {
                end - start
            } else {
                24 * 60 - start + end
            };
            if spec.staff.is_empty() || spec.staff.len() > MAX_STAFF_PER_SLOT {
                return Err(err(
                    at("staff"),
                    format!("must name 1 to {MAX_STAFF_PER_SLOT} people"),
                ));
            }
            if let Some(j) =
                (1..spec.staff.len()).find(|&j| spec.staff[..j].contains(&spec.staff[j]))
            {
                return Err(err(format!("{}[{j}]", at("staff")), "named twice"));
            }
            Ok(Slot {
                days,
                start_minute: start,
                length_minutes: length,
                staff: spec.staff.clone(),
                rotate: spec.rotate,
            })
        })
        .collect()
}

impl Rota {
    /// Parse and check a spec whole; the first problem found is named.
    pub fn parse(spec: &RotaSpec) -> Result<Self, RotaError> {
        if let Some(ends_on) = spec.ends_on
            && ends_on < spec.starts_on
        {
            return Err(err("ends_on", "must not be before starts_on"));
        }
        if spec.slots.is_empty() {
            return Err(err("slots", "must have at least one slot"));
        }
        let slots = parse_slots("slots", &spec.slots)?;
        if spec.exceptions.len() > MAX_EXCEPTIONS {
            return Err(err(
                "exceptions",
                format!("at most {MAX_EXCEPTIONS} exceptions"),
            ));
        }
        let mut exceptions = Vec::with_capacity(spec.exceptions.len());
        for (i, e) in spec.exceptions.iter().enumerate() {
            if e.to < e.from || (e.to - e.from).num_days() >= MAX_EXCEPTION_DAYS {
                return Err(err(
                    format!("exceptions[{i}].to"),
                    format!("must be on or after from, at most {MAX_EXCEPTION_DAYS} days"),
                ));
            }
            let slots = parse_slots(&format!("exceptions[{i}].slots"), &e.slots)?;
            if let Some(j) = spec.exceptions[..i]
                .iter()
                .position(|o| o.from <= e.to && e.from <= o.to)
            {
                return Err(err(
                    format!("exceptions[{i}]"),
                    format!("overlaps exceptions[{j}]"),
                ));
            }
            exceptions.push(Exception {
                from: e.from,
                to: e.to,
                slots,
            });
        }
        Ok(Self {
            starts_on: spec.starts_on,
            ends_on: spec.ends_on,
            slots,
            exceptions,
        })
    }

    /// Everyone the rota names anywhere (pattern and exceptions), once each.
    pub fn staff(&self) -> Vec<StaffId> {
        let mut all: Vec<StaffId> = Vec::new();
        let every = self
            .slots
            .iter()
            .chain(self.exceptions.iter().flat_map(|e| e.slots.iter()));
        for slot in every {
            for id in &slot.staff {
                if !all.contains(id) {
                    all.push(*id);
                }
            }
        }
        all
    }

    /// The shifts starting on one local day, in slot order.
    pub fn shifts_on(&self, day: NaiveDate, calendar: &BusinessCalendar) -> Vec<RotaShift> {
        if day < self.starts_on || self.ends_on.is_some_and(|end| day > end) {
            return Vec::new();
        }
        let slots = self
            .exceptions
            .iter()
            .find(|e| e.from <= day && day <= e.to)
            .map_or(&self.slots, |e| &e.slots);
        let midnight = shanghai()
            .from_local_datetime(&day.and_hms_opt(0, 0, 0).expect("midnight"))
            .single()
            .expect("a fixed offset has no gaps")
            .with_timezone(&Utc);
        let turn = (day - self.starts_on).num_days();
        slots
            .iter()
            .filter(|slot| slot.days.includes(day, calendar))
            .map(|slot| {
                let starts_at = midnight + Duration::minutes(i64::from(slot.start_minute));
                let staff = if slot.rotate {
                    let n = slot.staff.len() as i64;
                    vec![slot.staff[turn.rem_euclid(n) as usize]]
                } else {
                    slot.staff.clone()
                };
                RotaShift {
                    day,
                    starts_at,
                    ends_at: starts_at + Duration::minutes(i64::from(slot.length_minutes)),
                    staff,
                }
            })
            .collect()
    }

    /// The shifts starting on the local days `from..=to`, in start order.
    pub fn expand(
        &self,
        from: NaiveDate,
        to: NaiveDate,
        calendar: &BusinessCalendar,
    ) -> Vec<RotaShift> {
        let mut shifts: Vec<RotaShift> = from
            .iter_days()
            .take_while(|d| *d <= to)
            .flat_map(|d| self.shifts_on(d, calendar))
            .collect();
        shifts.sort_by_key(|s| s.starts_at);
        shifts
    }

    /// Who the rota puts on duty at `t`. A shift is at most 24 hours and
    /// belongs to its start day, so the day of `t` and the day before are
    /// all there is to look at.
    pub fn on_duty_at(&self, t: DateTime<Utc>, calendar: &BusinessCalendar) -> Vec<StaffId> {
        let today = t.with_timezone(&shanghai()).date_naive();
        let yesterday = today.pred_opt().unwrap_or(today);
        let mut on: Vec<StaffId> = Vec::new();
        for shift in self.expand(yesterday, today, calendar) {
            if shift.starts_at <= t && t < shift.ends_at {
                for id in shift.staff {
                    if !on.contains(&id) {
                        on.push(id);
                    }
                }
            }
        }
        on
    }

    /// Every shift overlapping `from`..`to`, by start (a roster's week:
    /// the night shift begun the evening before `from` included).
    pub fn between(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        calendar: &BusinessCalendar,
    ) -> Vec<RotaShift> {
        let first = from.with_timezone(&shanghai()).date_naive();
        let last = to.with_timezone(&shanghai()).date_naive();
        let mut day = first.pred_opt().unwrap_or(first);
        let mut found = Vec::new();
        while day <= last {
            found.extend(
                self.shifts_on(day, calendar)
                    .into_iter()
                    .filter(|s| s.ends_at > from && s.starts_at < to),
            );
            day = match day.succ_opt() {
                Some(next) => next,
                None => break,
            };
        }
        found.sort_by_key(|s| s.starts_at);
        found
    }

    /// The next `count` shifts not yet over at `now` (one running now
    /// first), looking at most `days` ahead.
    pub fn upcoming(
        &self,
        now: DateTime<Utc>,
        count: usize,
        days: u32,
        calendar: &BusinessCalendar,
    ) -> Vec<RotaShift> {
        let today = now.with_timezone(&shanghai()).date_naive();
        let mut day = today.pred_opt().unwrap_or(today);
        let last = today + Duration::days(i64::from(days));
        let mut found = Vec::new();
        while day <= last && found.len() < count {
            found.extend(
                self.shifts_on(day, calendar)
                    .into_iter()
                    .filter(|s| s.ends_at > now),
            );
            day = match day.succ_opt() {
                Some(next) => next,
                None => break,
            };
        }
        found.sort_by_key(|s| s.starts_at);
        found.truncate(count);
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::DayOverride;
    use uuid::Uuid;

    fn staff(n: u128) -> StaffId {
        StaffId::from(Uuid::from_u128(n))
    }

    fn slot(days: &str, start: &str, end: &str, who: &[u128], rotate: bool) -> SlotSpec {
        SlotSpec {
            days: days.into(),
            start: start.into(),
            end: end.into(),
            staff: who.iter().map(|n| staff(*n)).collect(),
            rotate,
        }
    }

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("date")
    }

    /// Local Shanghai wall-clock time as an instant.
    fn at(day: NaiveDate, h: u32, m: u32) -> DateTime<Utc> {
        shanghai()
            .from_local_datetime(&day.and_hms_opt(h, m, 0).expect("time"))
            .single()
            .expect("fixed")
            .with_timezone(&Utc)
    }

    /// "24/7 in three shifts": 08–16 officer 1, 16–24 officer 2, 00–08
    /// officer 3 (a Monday start).
    fn three_shifts() -> RotaSpec {
        RotaSpec {
            starts_on: date(2026, 11, 30),
            ends_on: None,
            slots: vec![
                slot("every_day", "08:00", "16:00", &[1], false),
                slot("every_day", "16:00", "24:00", &[2], false),
                slot("every_day", "00:00", "08:00", &[3], false),
            ],
            exceptions: vec![],
        }
    }

    #[test]
    fn three_shifts_cover_every_minute_with_exactly_one_officer() {
        let calendar = BusinessCalendar::china_office_hours();
        let rota = Rota::parse(&three_shifts()).expect("valid");
        // Every 7 minutes for five weeks (7 is coprime with the shift edges,
        // so every minute-of-hour offset gets visited).
        let start = at(date(2026, 12, 1), 0, 0);
        let mut t = start;
        while t < start + Duration::days(35) {
            let on = rota.on_duty_at(t, &calendar);
            let hour = t.with_timezone(&shanghai()).time().format("%H").to_string();
            let hour: u32 = hour.parse().expect("hour");
            let expected = match hour {
                8..=15 => staff(1),
                16..=23 => staff(2),
                _ => staff(3),
            };
            assert_eq!(on, vec![expected], "at {t}");
            t += Duration::minutes(7);
        }
    }

    #[test]
    fn sunday_three_in_the_morning_is_the_night_officer() {
        let calendar = BusinessCalendar::china_office_hours();
        let rota = Rota::parse(&three_shifts()).expect("valid");
        let sunday = date(2026, 12, 6);
        assert_eq!(sunday.weekday(), Weekday::Sun);
        assert_eq!(rota.on_duty_at(at(sunday, 3, 0), &calendar), vec![staff(3)]);
    }

    #[test]
    fn a_night_shift_crosses_midnight_and_belongs_to_its_start_day() {
        let calendar = BusinessCalendar::china_office_hours();
        let spec = RotaSpec {
            starts_on: date(2026, 12, 1),
            ends_on: None,
            slots: vec![slot("sat", "22:00", "06:00", &[7], false)],
            exceptions: vec![],
        };
        let rota = Rota::parse(&spec).expect("valid");
        let saturday = date(2026, 12, 5);
        let sunday = date(2026, 12, 6);
        assert_eq!(rota.on_duty_at(at(saturday, 21, 59), &calendar), vec![]);
        assert_eq!(
            rota.on_duty_at(at(saturday, 22, 0), &calendar),
            vec![staff(7)]
        );
        assert_eq!(
            rota.on_duty_at(at(sunday, 5, 59), &calendar),
            vec![staff(7)]
        );
        assert_eq!(rota.on_duty_at(at(sunday, 6, 0), &calendar), vec![]);
        let shifts = rota.expand(saturday, sunday, &calendar);
        assert_eq!(shifts.len(), 1);
        assert_eq!(shifts[0].day, saturday);
        assert_eq!(shifts[0].ends_at - shifts[0].starts_at, Duration::hours(8));
    }

    #[test]
    fn workdays_follow_the_business_calendar() {
        let mut calendar = BusinessCalendar::china_office_hours();
        // A holiday on a Thursday, a make-up working Saturday.
        calendar.set_override(date(2026, 12, 3), DayOverride::Holiday);
        calendar.set_override(date(2026, 12, 5), DayOverride::Workday);
        let spec = RotaSpec {
            starts_on: date(2026, 11, 30),
            ends_on: None,
            slots: vec![slot("workdays", "09:00", "17:30", &[1], false)],
            exceptions: vec![],
        };
        let rota = Rota::parse(&spec).expect("valid");
        let days: Vec<NaiveDate> = rota
            .expand(date(2026, 11, 30), date(2026, 12, 6), &calendar)
            .into_iter()
            .map(|s| s.day)
            .collect();
        assert_eq!(
            days,
            vec![
                date(2026, 11, 30),
                date(2026, 12, 1),
                date(2026, 12, 2),
                date(2026, 12, 4),
                date(2026, 12, 5),
            ]
        );
    }

    #[test]
    fn an_exception_removes_or_replaces_the_shifts_starting_on_its_days() {
        let calendar = BusinessCalendar::china_office_hours();
        let mut spec = three_shifts();
        spec.exceptions = vec![
            ExceptionSpec {
                from: date(2026, 12, 6),
                to: date(2026, 12, 6),
                slots: vec![],
            },
            ExceptionSpec {
                from: date(2026, 12, 8),
                to: date(2026, 12, 9),
                slots: vec![slot("every_day", "08:00", "08:00", &[9], false)],
            },
        ];
        let rota = Rota::parse(&spec).expect("valid");
        // Sunday 6th is off: no shift starts on it.
        assert!(rota.shifts_on(date(2026, 12, 6), &calendar).is_empty());
        // Saturday's 16–24 shift has ended by then; nobody at 03:00 Sunday.
        assert_eq!(
            rota.on_duty_at(at(date(2026, 12, 6), 3, 0), &calendar),
            vec![]
        );
        // Monday is back to the pattern.
        assert_eq!(
            rota.on_duty_at(at(date(2026, 12, 7), 3, 0), &calendar),
            vec![staff(3)]
        );
        // 8th and 9th: one 24-hour shift from 08:00; the pattern's 00–08
        // officer is not on at 03:00 on the 9th, the 24-hour one is.
        assert_eq!(
            rota.on_duty_at(at(date(2026, 12, 9), 3, 0), &calendar),
            vec![staff(9)]
        );
        // The 10th 03:00: the 9th's 24-hour shift ends at 08:00 on the 10th,
        // and the pattern's 00–08 shift of the 10th runs too.
        assert_eq!(
            rota.on_duty_at(at(date(2026, 12, 10), 3, 0), &calendar),
            vec![staff(9), staff(3)]
        );
    }

    #[test]
    fn a_rotation_takes_one_person_per_day_in_turn() {
        let calendar = BusinessCalendar::china_office_hours();
        let spec = RotaSpec {
            starts_on: date(2026, 12, 1),
            ends_on: Some(date(2026, 12, 31)),
            slots: vec![slot("every_day", "08:00", "20:00", &[1, 2, 3], true)],
            exceptions: vec![],
        };
        let rota = Rota::parse(&spec).expect("valid");
        let shifts = rota.expand(date(2026, 11, 25), date(2027, 1, 5), &calendar);
        assert_eq!(shifts.len(), 31, "only within starts_on..=ends_on");
        for (n, shift) in shifts.iter().enumerate() {
            assert_eq!(shift.staff, vec![staff(1 + (n as u128 % 3))]);
        }
    }

    #[test]
    fn expansion_properties_hold_for_many_patterns() {
        // A small deterministic generator over starts, ends, days and
        // rotations: every shift is 1 minute to 24 hours long, starts on its
        // day's local wall-clock time, is in start order, and on_duty_at
        // agrees with the expansion at every shift's first and last minute.
        let calendar = BusinessCalendar::china_office_hours();
        let mut seed: u64 = 0x5eed;
        let mut next = |m: u64| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) % m
        };
        let day_sets = [
            "every_day",
            "workdays",
            "rest_days",
            "mon,wed,fri",
            "sat,sun",
        ];
        for _ in 0..200 {
            let slots: Vec<SlotSpec> = (0..1 + next(4))
                .map(|_| {
                    let s = next(24 * 60) as u32;
                    let e = 1 + next(24 * 60) as u32;
                    let who: Vec<u128> =
                        (0..1 + next(3)).map(|k| u128::from(k as u32) + 1).collect();
                    slot(
                        day_sets[next(day_sets.len() as u64) as usize],
                        &format!("{:02}:{:02}", s / 60, s % 60),
                        &format!("{:02}:{:02}", e / 60, e % 60),
                        &who,
                        next(2) == 1,
                    )
                })
                .collect();
            let spec = RotaSpec {
                starts_on: date(2026, 12, 1) + Duration::days(next(10) as i64),
                ends_on: None,
                slots,
                exceptions: vec![],
            };
            let rota = Rota::parse(&spec).expect("generated specs are valid");
            let shifts = rota.expand(date(2026, 12, 1), date(2026, 12, 31), &calendar);
            assert!(shifts.windows(2).all(|w| w[0].starts_at <= w[1].starts_at));
            for shift in &shifts {
                let length = shift.ends_at - shift.starts_at;
                assert!(length > Duration::zero() && length <= Duration::hours(24));
                assert_eq!(
                    shift.starts_at.with_timezone(&shanghai()).date_naive(),
                    shift.day
                );
                assert!(shift.day >= spec.starts_on);
                let last = shift.ends_at - Duration::minutes(1);
                for t in [shift.starts_at, last] {
                    let on = rota.on_duty_at(t, &calendar);
                    assert!(shift.staff.iter().all(|s| on.contains(s)), "{t}");
                }
                assert!(!shift.staff.is_empty());
            }
        }
    }

    #[test]
    fn bad_specs_name_the_field() {
        let mut spec = three_shifts();
        spec.slots[1].end = "25:00".into();
        assert_eq!(Rota::parse(&spec).expect_err("bad").field, "slots[1].end");
        let mut spec = three_shifts();
        spec.slots[0].start = "24:00".into();
        assert_eq!(Rota::parse(&spec).expect_err("bad").field, "slots[0].start");
        let mut spec = three_shifts();
        spec.slots[2].days = "mon,funday".into();
        assert_eq!(Rota::parse(&spec).expect_err("bad").field, "slots[2].days");
        let mut spec = three_shifts();
        spec.slots[2].staff.clear();
        assert_eq!(Rota::parse(&spec).expect_err("bad").field, "slots[2].staff");
        let mut spec = three_shifts();
        spec.exceptions = vec![
            ExceptionSpec {
                from: date(2026, 12, 1),
                to: date(2026, 12, 5),
                slots: vec![],
            },
            ExceptionSpec {
                from: date(2026, 12, 5),
                to: date(2026, 12, 6),
                slots: vec![],
            },
        ];
        assert_eq!(Rota::parse(&spec).expect_err("bad").field, "exceptions[1]");
        let mut spec = three_shifts();
        spec.exceptions = vec![ExceptionSpec {
            from: date(2026, 12, 1),
            to: date(2026, 12, 5),
            slots: vec![slot("every_day", "9:00", "10:00", &[1], false)],
        }];
        assert_eq!(
            Rota::parse(&spec).expect_err("bad").field,
            "exceptions[0].slots[0].start"
        );
    }

    #[test]
    fn upcoming_starts_with_the_running_shift() {
        let calendar = BusinessCalendar::china_office_hours();
        let rota = Rota::parse(&three_shifts()).expect("valid");
        let now = at(date(2026, 12, 6), 3, 0);
        let next = rota.upcoming(now, 4, 56, &calendar);
        assert_eq!(next.len(), 4);
        assert_eq!(next[0].staff, vec![staff(3)]);
        assert_eq!(next[0].starts_at, at(date(2026, 12, 6), 0, 0));
        assert_eq!(next[1].staff, vec![staff(1)]);
        assert_eq!(next[3].staff, vec![staff(3)]);
    }

    #[test]
    fn between_lists_every_shift_overlapping_a_week_and_no_other() {
        let calendar = BusinessCalendar::china_office_hours();
        let rota = Rota::parse(&three_shifts()).expect("valid");
        // `at` is Beijing time: a week from Monday 7 December 00:00.
        let from = at(date(2026, 12, 7), 0, 0);
        let to = from + Duration::days(7);
        let week = rota.between(from, to, &calendar);
        assert_eq!(week.len(), 21, "three shifts a day for seven days");
        assert!(week.iter().all(|s| s.ends_at > from && s.starts_at < to));
        assert!(week.windows(2).all(|w| w[0].starts_at <= w[1].starts_at));
        assert_eq!(week[0].starts_at, from);
        assert_eq!(week[0].staff, vec![staff(3)]);
        // A range cutting a shift keeps it; one before the rota starts is empty.
        let noon = at(date(2026, 12, 7), 12, 0);
        let cut = rota.between(noon, noon + Duration::minutes(1), &calendar);
        assert_eq!(cut.len(), 1);
        assert_eq!(cut[0].staff, vec![staff(1)]);
        let before = at(date(2026, 11, 1), 0, 0);
        assert!(
            rota.between(before, before + Duration::days(7), &calendar)
                .is_empty()
        );
    }
}
