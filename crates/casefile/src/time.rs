//! Times as a Chinese archive prints them: Asia/Shanghai (UTC+8 all year,
//! no daylight saving), `2026年12月04日 09:00`.

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};

fn beijing_offset() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("UTC+8 is a valid offset")
}

/// `2026年12月04日 09:00`, in Beijing time.
pub fn datetime(t: DateTime<Utc>) -> String {
    t.with_timezone(&beijing_offset())
        .format("%Y年%m月%d日 %H:%M")
        .to_string()
}

/// `2026年12月04日`.
pub fn date(d: NaiveDate) -> String {
    d.format("%Y年%m月%d日").to_string()
}

/// The calendar year in Beijing (a case registered at 00:30 on 1 January
/// Beijing time belongs to the new year).
pub fn year(t: DateTime<Utc>) -> i32 {
    use chrono::Datelike;
    t.with_timezone(&beijing_offset()).year()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn nine_in_beijing_prints_nine() {
        let t = Utc.with_ymd_and_hms(2026, 12, 4, 1, 0, 0).unwrap();
        assert_eq!(datetime(t), "2026年12月04日 09:00");
        let new_year = Utc.with_ymd_and_hms(2026, 12, 31, 16, 30, 0).unwrap();
        assert_eq!(year(new_year), 2027);
        assert_eq!(
            date(NaiveDate::from_ymd_opt(2027, 1, 7).unwrap()),
            "2027年01月07日"
        );
    }
}
