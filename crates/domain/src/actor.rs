//! Who is acting: a resident or a staff member with a role and a scope.

use crate::ids::{OrgUnitId, ResidentId, StaffId};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// The roles of staff accounts (BRIEF §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StaffRole {
    Lawyer,
    Mediator,
    Officer,
    Coordinator,
    Admin,
}

impl StaffRole {
    pub const ALL: [StaffRole; 5] = [
        StaffRole::Lawyer,
        StaffRole::Mediator,
        StaffRole::Officer,
        StaffRole::Coordinator,
        StaffRole::Admin,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            StaffRole::Lawyer => "lawyer",
            StaffRole::Mediator => "mediator",
            StaffRole::Officer => "officer",
            StaffRole::Coordinator => "coordinator",
            StaffRole::Admin => "admin",
        }
    }
}

impl fmt::Display for StaffRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for StaffRole {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        StaffRole::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| format!("unknown staff role `{s}`"))
    }
}

/// The authenticated party behind a request or an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    Resident(ResidentId),
    Staff {
        id: StaffId,
        role: StaffRole,
        /// The organisation unit whose subtree this person may act in.
        scope: OrgUnitId,
    },
    /// The platform itself (router, timers).
    System,
    /// An anonymous tipper (or an Open311 client): recorded as a reporter
    /// with no id, so nothing in the case history points back to them.
    AnonymousReporter,
}

impl Actor {
    pub fn kind(&self) -> &'static str {
        match self {
            Actor::Resident(_) => "resident",
            Actor::Staff { .. } => "staff",
            Actor::System => "system",
            Actor::AnonymousReporter => "reporter",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip_through_strings() {
        for role in StaffRole::ALL {
            assert_eq!(role.as_str().parse::<StaffRole>(), Ok(role));
        }
        assert!("judge".parse::<StaffRole>().is_err());
    }
}
