//! Case numbers (案件编号), e.g. `〔2026〕天潼路街道调字第12号`.
//!
//! A unit may set its own numbering pattern; the placeholders are
//! `{year}` (the Beijing year the case was registered in), `{unit}` (the
//! numbering unit's name), `{kind}` (调 mediation, 询 consultation, 线 tip:
//! [`crate::labels::service_kind`]) and `{n}` (the sequence number, from 1
//! for each unit, year and service). `{n}` is required; a pattern without
//! `{kind}` is allowed (numbers of different services then look alike, but
//! each service still counts on its own).

/// The pattern of a unit that set none.
pub const DEFAULT_PATTERN: &str = "〔{year}〕{unit}{kind}字第{n}号";

/// The longest pattern a unit may set, in characters.
pub const MAX_PATTERN_CHARS: usize = 64;

const PLACEHOLDERS: [&str; 4] = ["{year}", "{unit}", "{kind}", "{n}"];

/// Why a pattern is refused (the message is for the administrator).
pub fn check_pattern(pattern: &str) -> Result<(), &'static str> {
    if pattern.chars().count() > MAX_PATTERN_CHARS {
        return Err("at most 64 characters");
    }
    if pattern.matches("{n}").count() != 1 {
        return Err("must contain `{n}` exactly once");
    }
    let mut rest = pattern.to_owned();
    for p in PLACEHOLDERS {
        rest = rest.replace(p, "");
    }
    if rest.contains('{') || rest.contains('}') {
        return Err("unknown placeholder: use {year}, {unit}, {kind} and {n}");
    }
    if rest.chars().any(char::is_control) {
        return Err("no control characters");
    }
    Ok(())
}

/// The number for sequence `n`.
pub fn render(pattern: &str, year: i32, unit: &str, kind: &str, n: i64) -> String {
    pattern
        .replace("{year}", &year.to_string())
        .replace("{unit}", unit)
        .replace("{kind}", kind)
        .replace("{n}", &n.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_pattern_reads_like_a_committee_number() {
        assert_eq!(
            render(DEFAULT_PATTERN, 2026, "天潼路街道", "调", 12),
            "〔2026〕天潼路街道调字第12号"
        );
        assert!(check_pattern(DEFAULT_PATTERN).is_ok());
        assert!(check_pattern("虹调〔{year}〕{n}号").is_ok());
        assert!(check_pattern("〔{year}〕第号").is_err());
        assert!(check_pattern("{n}{n}").is_err());
        assert!(check_pattern("{name}{n}").is_err());
    }
}
