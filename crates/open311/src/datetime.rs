//! Datetimes as the specification wants them: the W3C profile of ISO 8601
//! (<https://www.w3.org/TR/NOTE-datetime>), always with a time zone.

use chrono::{DateTime, FixedOffset, NaiveDateTime, SecondsFormat, Utc};

/// Renders `2010-04-14T06:37:38-08:00`, or `...Z` when the offset is zero.
/// Whole seconds, as in every example of the specification.
pub fn format_w3c(datetime: &DateTime<FixedOffset>) -> String {
    datetime.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// The instant in China Standard Time (UTC+08:00, no daylight saving), the
/// offset our residents and officers read.
pub fn china_standard_time(instant: DateTime<Utc>) -> DateTime<FixedOffset> {
    let offset = FixedOffset::east_opt(8 * 3600).expect("+08:00 is a valid offset");
    instant.with_timezone(&offset)
}

/// Parses a W3C datetime *with a time zone*: `YYYY-MM-DDThh:mmTZD`,
/// `YYYY-MM-DDThh:mm:ssTZD` or `YYYY-MM-DDThh:mm:ss.sTZD`, where TZD is `Z`
/// or `+hh:mm`/`-hh:mm`. The date-only forms of the W3C note carry no time
/// zone, which the specification requires, so they are refused.
///
/// One leniency: a `+` left unencoded in a query string arrives as a space
/// (`2010-01-01T00:00:00 08:00`); a space exactly where the offset's sign
/// belongs is read as `+`.
pub fn parse_w3c(text: &str) -> Option<DateTime<FixedOffset>> {
    let text = text.trim();
    let mut owned = text.to_owned();
    let bytes = text.as_bytes();
    // "...hh:mm:ss 08:00": the sign sits 6 bytes from the end.
    if bytes.len() > 6 && bytes[bytes.len() - 6] == b' ' && bytes[bytes.len() - 3] == b':' {
        owned.replace_range(bytes.len() - 6..bytes.len() - 5, "+");
    }
    if owned.ends_with(['Z', 'z']) {
        owned.truncate(owned.len() - 1);
        owned.push_str("+00:00");
    }
    let (local, offset) = split_offset(&owned)?;
    // Only the `T` separator of the W3C note; RFC 3339's space is not in it.
    let local = ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M"]
        .iter()
        .find_map(|pattern| NaiveDateTime::parse_from_str(local, pattern).ok())?;
    local.and_local_timezone(offset).single()
}

/// Splits `...+08:00` into the local part and the offset.
fn split_offset(text: &str) -> Option<(&str, FixedOffset)> {
    if text.len() < 7 || !text.is_char_boundary(text.len() - 6) {
        return None;
    }
    let (local, zone) = text.split_at(text.len() - 6);
    let sign = match zone.as_bytes()[0] {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let (hours, minutes) = zone[1..].split_once(':')?;
    if hours.len() != 2 || minutes.len() != 2 {
        return None;
    }
    let hours: i32 = hours.parse().ok()?;
    let minutes: i32 = minutes.parse().ok()?;
    if hours > 23 || minutes > 59 {
        return None;
    }
    FixedOffset::east_opt(sign * (hours * 3600 + minutes * 60)).map(|offset| (local, offset))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_with_offset_or_z() {
        let eastern = parse_w3c("1994-11-05T08:15:30-05:00").unwrap();
        assert_eq!(format_w3c(&eastern), "1994-11-05T08:15:30-05:00");
        let utc = parse_w3c("1994-11-05T13:15:30Z").unwrap();
        assert_eq!(format_w3c(&utc), "1994-11-05T13:15:30Z");
        assert_eq!(
            eastern, utc,
            "the specification's two examples are one instant"
        );
        let beijing = china_standard_time(utc.with_timezone(&Utc));
        assert_eq!(format_w3c(&beijing), "1994-11-05T21:15:30+08:00");
    }

    #[test]
    fn accepts_the_w3c_forms_with_a_zone() {
        assert_eq!(
            format_w3c(&parse_w3c("2010-01-01T00:00Z").unwrap()),
            "2010-01-01T00:00:00Z"
        );
        assert_eq!(
            format_w3c(&parse_w3c("2010-01-01T00:00:00.45+08:00").unwrap()),
            "2010-01-01T00:00:00+08:00"
        );
        assert_eq!(
            format_w3c(&parse_w3c("2010-01-01T09:30:00 08:00").unwrap()),
            "2010-01-01T09:30:00+08:00",
            "a '+' decoded to a space is read back as '+'"
        );
    }

    #[test]
    fn refuses_what_has_no_zone_or_is_not_a_date() {
        for bad in [
            "",
            "2010-01-01",
            "2010-01",
            "2010",
            "2010-01-01T00:00:00",
            "2010-01-01 00:00:00Z",
            "2010-13-01T00:00:00Z",
            "2010-02-30T00:00:00Z",
            "2010-01-01T00:00:00+24:00",
            "yesterday",
            "2010-01-01T00:00:00+0800",
            "今天T00:00:00+08:00",
        ] {
            assert_eq!(parse_w3c(bad), None, "{bad:?} should be refused");
        }
    }
}
