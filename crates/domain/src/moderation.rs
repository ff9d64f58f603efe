//! Content moderation of resident-written text (BRIEF §6): nothing a
//! resident writes is shown to anyone until it has passed.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Where a piece of resident text stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Moderation {
    /// Checked and fine: staff see it.
    Passed,
    /// Not checked yet (the checker was unreachable): held, checked again later.
    Pending,
    /// The checker asked for a person to look: held for a coordinator.
    Review,
    /// Refused: never shown to staff.
    Rejected,
}

/// What an automatic check said.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Pass,
    Review,
    Risky,
}

impl Verdict {
    pub const ALL: [Verdict; 3] = [Verdict::Pass, Verdict::Review, Verdict::Risky];

    /// The name an image check's verdict is stored under.
    pub fn as_str(&self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Review => "review",
            Verdict::Risky => "risky",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == text)
    }
}

impl Moderation {
    pub const ALL: [Moderation; 4] = [
        Moderation::Passed,
        Moderation::Pending,
        Moderation::Review,
        Moderation::Rejected,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            Moderation::Passed => "passed",
            Moderation::Pending => "pending",
            Moderation::Review => "review",
            Moderation::Rejected => "rejected",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.as_str() == text)
    }

    /// Whether staff may see the text.
    pub fn is_visible_to_staff(&self) -> bool {
        *self == Moderation::Passed
    }

    /// The state after an automatic check. Only text still waiting for a
    /// check moves; a coordinator's decision is never overturned by a late check.
    pub fn after_check(self, verdict: Verdict) -> Option<Moderation> {
        match (self, verdict) {
            (Moderation::Pending, Verdict::Pass) => Some(Moderation::Passed),
            (Moderation::Pending, Verdict::Review) => Some(Moderation::Review),
            (Moderation::Pending, Verdict::Risky) => Some(Moderation::Rejected),
            _ => None,
        }
    }

    /// The state after a coordinator's decision on held text.
    pub fn after_decision(self, approve: bool) -> Option<Moderation> {
        match (self, approve) {
            (Moderation::Review | Moderation::Pending, true) => Some(Moderation::Passed),
            (Moderation::Review | Moderation::Pending, false) => Some(Moderation::Rejected),
            _ => None,
        }
    }
}

impl fmt::Display for Moderation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Moderation as M;

    #[test]
    fn checks_move_only_pending_text() {
        assert_eq!(M::Pending.after_check(Verdict::Pass), Some(M::Passed));
        assert_eq!(M::Pending.after_check(Verdict::Review), Some(M::Review));
        assert_eq!(M::Pending.after_check(Verdict::Risky), Some(M::Rejected));
        for held in [M::Passed, M::Review, M::Rejected] {
            for verdict in [Verdict::Pass, Verdict::Review, Verdict::Risky] {
                assert_eq!(held.after_check(verdict), None, "{held} after {verdict:?}");
            }
        }
    }

    #[test]
    fn coordinators_decide_held_text_once() {
        assert_eq!(M::Review.after_decision(true), Some(M::Passed));
        assert_eq!(M::Review.after_decision(false), Some(M::Rejected));
        assert_eq!(M::Pending.after_decision(true), Some(M::Passed));
        assert_eq!(M::Passed.after_decision(false), None);
        assert_eq!(M::Rejected.after_decision(true), None);
    }

    #[test]
    fn only_passed_text_is_shown_to_staff() {
        let visible: Vec<M> = M::ALL.into_iter().filter(M::is_visible_to_staff).collect();
        assert_eq!(visible, vec![M::Passed]);
        for m in M::ALL {
            assert_eq!(M::parse(m.as_str()), Some(m));
        }
    }
}
