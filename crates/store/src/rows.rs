//! The row boundary: column spellings shared by several modules. Names of
//! statuses, services and roles come from the domain enums (`as_str` /
//! `FromStr`); what is here has no domain type of its own: organisation
//! unit kinds, comma-separated list columns, and hand-written SQL text.
//! This module imports nothing of the crate, so every module may use it.

use sea_orm::DbBackend;

/// Kinds of organisation unit (BRIEF §2), as `org_units.kind` spells them.
pub mod kind {
    pub const DISTRICT: &str = "district";
    pub const STREET: &str = "street";
    pub const POLICE_STATION: &str = "police_station";
    pub const JUDICIAL_OFFICE: &str = "judicial_office";
    pub const COMMUNITY: &str = "community";
    pub const GRID: &str = "grid";
}

/// A comma-separated list column (`categories.workflows`, `org_units.services`,
/// `mediations.refused_mediator_ids`, ...) as its items, blanks dropped.
pub fn split_list(csv: &str) -> Vec<String> {
    csv.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// A constant of the code as an SQL literal (statuses, kinds: lowercase
/// words, nothing to escape).
pub(crate) fn literal(word: &str) -> String {
    assert!(
        word.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
        "not a plain word: {word}"
    );
    format!("'{word}'")
}

/// Hand-written SQL with PostgreSQL's numbered placeholders (`$1`), for
/// `backend`: SQLite numbers them `?1`. The text has no other `$`.
pub(crate) fn numbered(backend: DbBackend, sql: String) -> String {
    match backend {
        DbBackend::Postgres => sql,
        _ => sql.replace('$', "?"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_drop_blanks_and_spaces() {
        assert_eq!(split_list(" a, ,b,"), ["a", "b"]);
        assert!(split_list("").is_empty());
    }

    #[test]
    fn placeholders_follow_the_backend() {
        let sql = "SELECT $1".to_owned();
        assert_eq!(numbered(DbBackend::Postgres, sql.clone()), "SELECT $1");
        assert_eq!(numbered(DbBackend::Sqlite, sql), "SELECT ?1");
    }
}
