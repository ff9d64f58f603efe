//! Typed ids. Every id is a UUID v7 (time-ordered, so b-tree inserts stay
//! local and ids sort by creation), wrapped so a `StaffId` can never be passed
//! where a `CaseId` is expected.

use serde::{Deserialize, Serialize};
use std::fmt;
use uuid::Uuid;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            /// A fresh, time-ordered id.
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }
            pub fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl From<Uuid> for $name {
            fn from(value: Uuid) -> Self {
                Self(value)
            }
        }

        impl From<$name> for Uuid {
            fn from(value: $name) -> Self {
                value.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

id_type!(
    /// A case (work order): consultation now, mediation and tip later.
    CaseId
);
id_type!(
    /// A resident, known to us by their WeChat openid.
    ResidentId
);
id_type!(
    /// A staff account: lawyer, mediator, officer, coordinator, admin.
    StaffId
);
id_type!(
    /// A unit of the organisation tree (district, street, station, community...).
    OrgUnitId
);
id_type!(
    /// An offer of a case to one staff member, with a deadline.
    OfferId
);
id_type!(
    /// A message in a case thread.
    MessageId
);
id_type!(
    /// A 督办 (supervision) of a case by the coordinators of a unit.
    SupervisionId
);
id_type!(
    /// A 延期 (extension) request on a case's resolution time.
    ExtensionId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_time_ordered() {
        let a = CaseId::new();
        let b = CaseId::new();
        assert!(a < b, "v7 ids created later sort later");
        assert_eq!(a.as_uuid().get_version_num(), 7);
    }

    #[test]
    fn ids_serialise_as_plain_uuid_strings() {
        let id = StaffId::from(Uuid::nil());
        assert_eq!(
            serde_json::to_string(&id).unwrap(),
            "\"00000000-0000-0000-0000-000000000000\""
        );
    }
}
