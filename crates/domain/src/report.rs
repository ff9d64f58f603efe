//! Statistics as files: one table model that both the CSV and the XLSX
//! renderer draw from, so the two files cannot disagree with each other,
//! and the calendar month a monthly report covers.
//!
//! The table has four columns — 分类 (section), 统计项 (item), 数值
//! (value) and 字段 (where the JSON view holds the same figure, as a dotted
//! path whose array steps name the element's key: `by_category.LJ01.cases`)
//! — and one row per figure. Values keep their type: counts and seconds are
//! integers, rates and averages the very `f64` the JSON carries, a missing
//! figure (no data) an empty cell.

use chrono::{DateTime, FixedOffset, NaiveDate, TimeZone, Utc};

/// The column headings of every report table.
pub const COLUMNS: [&str; 4] = ["分类", "统计项", "数值", "字段"];

/// One cell of the value column.
#[derive(Debug, Clone, PartialEq)]
pub enum ReportValue {
    /// A count or a number of seconds.
    Integer(i64),
    /// A rate (0 to 1) or an average, exactly as computed.
    Number(f64),
    Text(String),
    /// No figure (no data to compute it from).
    Empty,
}

impl From<u64> for ReportValue {
    fn from(n: u64) -> Self {
        ReportValue::Integer(i64::try_from(n).unwrap_or(i64::MAX))
    }
}

impl From<Option<i64>> for ReportValue {
    fn from(n: Option<i64>) -> Self {
        n.map_or(ReportValue::Empty, ReportValue::Integer)
    }
}

impl From<Option<f64>> for ReportValue {
    fn from(x: Option<f64>) -> Self {
        x.map_or(ReportValue::Empty, ReportValue::Number)
    }
}

impl From<String> for ReportValue {
    fn from(s: String) -> Self {
        ReportValue::Text(s)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ReportRow {
    pub section: String,
    pub item: String,
    /// The figure's place in the JSON view (`time_to_accept.median_secs`,
    /// `by_category.LJ01.cases`); empty for a heading row the JSON holds
    /// differently (the unit's name, Beijing times).
    pub field: String,
    pub value: ReportValue,
}

/// A report as rows, in print order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ReportTable {
    /// The sheet's name (at most 31 characters, as Excel allows).
    pub title: String,
    pub rows: Vec<ReportRow>,
}

impl ReportTable {
    pub fn new(title: impl Into<String>) -> Self {
        Self {
            title: title.into(),
            rows: Vec::new(),
        }
    }

    /// Append a row.
    pub fn push(
        &mut self,
        section: &str,
        item: impl Into<String>,
        field: impl Into<String>,
        value: impl Into<ReportValue>,
    ) {
        self.rows.push(ReportRow {
            section: section.to_owned(),
            item: item.into(),
            field: field.into(),
            value: value.into(),
        });
    }
}

/// Asia/Shanghai: UTC+8 all year (no daylight saving since 1991).
fn shanghai() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("UTC+8")
}

/// A calendar month, `YYYY-MM`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Month {
    pub year: i32,
    /// 1 to 12.
    pub month: u32,
}

impl Month {
    /// `2026-11`; `None` for anything else (`2026-13`, `2026-1`, `11/2026`).
    pub fn parse(raw: &str) -> Option<Month> {
        let (year, month) = raw.split_once('-')?;
        if year.len() != 4 || month.len() != 2 {
            return None;
        }
        if !year
            .bytes()
            .chain(month.bytes())
            .all(|b| b.is_ascii_digit())
        {
            return None;
        }
        let year: i32 = year.parse().ok()?;
        let month: u32 = month.parse().ok()?;
        // This century only: a month of year 0 begins before 0001-01-01
        // in UTC, which RFC 3339 cannot write.
        ((2000..=2099).contains(&year) && (1..=12).contains(&month))
            .then_some(Month { year, month })
    }

    fn first_day(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, self.month, 1).expect("a valid month")
    }

    fn next(self) -> Month {
        if self.month == 12 {
            Month {
                year: self.year + 1,
                month: 1,
            }
        } else {
            Month {
                year: self.year,
                month: self.month + 1,
            }
        }
    }

    /// The month's bounds in Asia/Shanghai, `[first day 00:00+08:00, next
    /// month's first day 00:00+08:00)`, as instants.
    pub fn bounds(self) -> (DateTime<Utc>, DateTime<Utc>) {
        let start = |m: Month| {
            let midnight = m.first_day().and_hms_opt(0, 0, 0).expect("midnight");
            shanghai()
                .from_local_datetime(&midnight)
                .single()
                .expect("a fixed offset has no gaps")
                .with_timezone(&Utc)
        };
        (start(self), start(self.next()))
    }
}

impl std::fmt::Display for Month {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

/// An instant as a Beijing wall-clock time, `2026-11-01 00:00`.
pub fn shanghai_minute(t: DateTime<Utc>) -> String {
    t.with_timezone(&shanghai())
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

/// An instant's Beijing date, `20261101`, for file names.
pub fn shanghai_compact_date(t: DateTime<Utc>) -> String {
    t.with_timezone(&shanghai()).format("%Y%m%d").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().into()
    }

    #[test]
    fn a_month_runs_from_beijing_midnight_to_beijing_midnight() {
        let (from, to) = Month::parse("2026-11").unwrap().bounds();
        assert_eq!(from, at("2026-11-01T00:00:00+08:00"));
        assert_eq!(to, at("2026-12-01T00:00:00+08:00"));
        assert_eq!(from, at("2026-10-31T16:00:00Z"));
        let (from, to) = Month::parse("2026-12").unwrap().bounds();
        assert_eq!(from, at("2026-12-01T00:00:00+08:00"));
        assert_eq!(to, at("2027-01-01T00:00:00+08:00"));
    }

    #[test]
    fn only_year_dash_two_digit_month_is_a_month() {
        assert_eq!(
            Month::parse("2026-02"),
            Some(Month {
                year: 2026,
                month: 2
            })
        );
        for bad in [
            "2026-13",
            "2026-00",
            "2026-1",
            "26-11",
            "2026/11",
            "",
            "2026-11-01",
            "２０２６-11",
            "+026-11",
            "0000-01",
            "1999-12",
            "2100-01",
        ] {
            assert_eq!(Month::parse(bad), None, "{bad}");
        }
        assert_eq!(Month::parse("2026-02").unwrap().to_string(), "2026-02");
    }

    #[test]
    fn times_print_in_beijing() {
        assert_eq!(
            shanghai_minute(at("2026-10-31T16:00:00Z")),
            "2026-11-01 00:00"
        );
        assert_eq!(
            shanghai_compact_date(at("2026-11-30T16:10:00Z")),
            "20261201"
        );
    }

    #[test]
    fn counts_and_missing_figures_become_cells() {
        let mut t = ReportTable::new("统计");
        t.push("总体", "案件总数", "", 3u64);
        t.push("总体", "成功率", "", None::<f64>);
        t.push("响应", "中位数", "", Some(60i64));
        assert_eq!(t.rows[0].value, ReportValue::Integer(3));
        assert_eq!(t.rows[1].value, ReportValue::Empty);
        assert_eq!(t.rows[2].value, ReportValue::Integer(60));
    }
}
