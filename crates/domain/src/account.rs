//! Staff account values: the rules a username, a password and a display
//! name must meet, whether the account is made by an administrator through
//! the API or by `sansuo admin create` on an empty database.

use crate::values::ValidationError;

/// A staff login name: 3 to 64 characters of `a-z 0-9 . _ -`, compared in
/// lower case (people type `Zhang.Wei` and `zhang.wei` for the same person).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Username(String);

impl Username {
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let name = raw.trim().to_lowercase();
        let allowed = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c);
        if !(3..=64).contains(&name.len()) || !name.chars().all(allowed) {
            return Err(ValidationError::new(
                "username",
                "must be 3 to 64 characters of a-z 0-9 . _ -",
            ));
        }
        Ok(Self(name))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A password a person chose: at least 10 characters (the API's rule for
/// staff accounts), at most 256 so hashing stays cheap for an attacker's
/// megabyte-long guess too.
#[derive(Clone, PartialEq, Eq)]
pub struct StaffPassword(String);

pub const MIN_PASSWORD_CHARS: usize = 10;
pub const MAX_PASSWORD_CHARS: usize = 256;

impl StaffPassword {
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let chars = raw.chars().count();
        if chars < MIN_PASSWORD_CHARS {
            return Err(ValidationError::new(
                "password",
                format!("must be at least {MIN_PASSWORD_CHARS} characters"),
            ));
        }
        if chars > MAX_PASSWORD_CHARS {
            return Err(ValidationError::new(
                "password",
                format!("must be at most {MAX_PASSWORD_CHARS} characters"),
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for StaffPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StaffPassword(***)")
    }
}

/// A person's or a unit's name as shown to others: 1 to 64 characters after
/// trimming, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisplayName(String);

impl DisplayName {
    pub fn parse(field: &'static str, raw: &str) -> Result<Self, ValidationError> {
        crate::values::bounded_text(field, raw, 1, 64).map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_are_lower_case_ascii_of_sane_length() {
        assert_eq!(
            Username::parse(" Zhang.Wei ").unwrap().as_str(),
            "zhang.wei"
        );
        for bad in ["ab", "张伟", "a b c", "x;drop", &"a".repeat(65)] {
            let err = Username::parse(bad).unwrap_err();
            assert_eq!(err.field, "username", "{bad}");
        }
    }

    #[test]
    fn passwords_have_a_floor_and_a_ceiling_and_never_print() {
        assert!(StaffPassword::parse("short").is_err());
        assert!(StaffPassword::parse(&"x".repeat(MAX_PASSWORD_CHARS + 1)).is_err());
        // Characters, not bytes: ten Chinese characters are enough.
        let password = StaffPassword::parse("一二三四五六七八九十").unwrap();
        assert_eq!(format!("{password:?}"), "StaffPassword(***)");
    }

    #[test]
    fn display_names_are_trimmed_and_bounded() {
        assert_eq!(
            DisplayName::parse("name", " 虹口区 ").unwrap().as_str(),
            "虹口区"
        );
        assert!(DisplayName::parse("name", "   ").is_err());
        assert!(DisplayName::parse("name", &"区".repeat(65)).is_err());
    }
}
