//! 常用回复: texts staff keep at hand for answering threads. A staff
//! member's own replies, and a unit's shared ones (seen by staff of that
//! unit and below). The list a staff member reads is bounded, so it needs
//! no cursor: at most [`MAX_OWN`] own replies plus at most
//! [`MAX_LISTED`] in all.

use crate::values::{ValidationError, bounded_text};

/// Own replies one staff member may keep (the 101st is refused).
pub const MAX_OWN: u64 = 100;

/// Shared replies one unit may hold.
pub const MAX_SHARED_PER_UNIT: u64 = 100;

/// The most replies one list answers with (own first, then shared from the
/// nearest unit outwards).
pub const MAX_LISTED: u64 = 200;

/// A reply's title as the picker shows it: 1 to 40 characters, trimmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CannedTitle(String);

impl CannedTitle {
    pub const MAX: usize = 40;

    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        bounded_text("title", raw, 1, Self::MAX).map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Whether one more reply fits under a limit of `max` when `held` exist.
pub fn room_for_one(held: u64, max: u64) -> bool {
    held < max
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_are_trimmed_and_bounded_in_characters() {
        assert_eq!(CannedTitle::parse("  问候 ").unwrap().as_str(), "问候");
        assert!(CannedTitle::parse("   ").is_err());
        assert!(CannedTitle::parse(&"字".repeat(40)).is_ok());
        assert!(CannedTitle::parse(&"字".repeat(41)).is_err());
    }

    #[test]
    fn the_limit_refuses_the_one_past_it() {
        assert!(room_for_one(MAX_OWN - 1, MAX_OWN));
        assert!(!room_for_one(MAX_OWN, MAX_OWN));
    }
}
