//! The states of an offer: one person asked to take one case on one
//! ladder step. Only a pending offer can be answered; every other state is
//! final. A partial unique index in the store keeps one pending offer per case.

use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OfferStatus {
    Pending,
    Accepted,
    Declined,
    Expired,
    Cancelled,
    /// Not an offer: the owner handed the case back (退单). Kept with the
    /// offers so "who already had it on this step" is one query.
    Returned,
}

impl OfferStatus {
    pub const ALL: [OfferStatus; 6] = [
        OfferStatus::Pending,
        OfferStatus::Accepted,
        OfferStatus::Declined,
        OfferStatus::Expired,
        OfferStatus::Cancelled,
        OfferStatus::Returned,
    ];

    /// The name stored in `offers.status` (`const`: SQL text and the
    /// store's constants are built from it).
    pub const fn as_str(&self) -> &'static str {
        match self {
            OfferStatus::Pending => "pending",
            OfferStatus::Accepted => "accepted",
            OfferStatus::Declined => "declined",
            OfferStatus::Expired => "expired",
            OfferStatus::Cancelled => "cancelled",
            OfferStatus::Returned => "returned",
        }
    }

    /// Whether the person said "not me" (they are not asked again on any
    /// step of this case).
    pub fn is_refusal(&self) -> bool {
        matches!(self, OfferStatus::Declined | OfferStatus::Returned)
    }
}

impl fmt::Display for OfferStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for OfferStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        OfferStatus::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| format!("unknown offer status `{s}`"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Service;
    use crate::dispatch::Presence;

    #[test]
    fn names_round_trip() {
        for status in OfferStatus::ALL {
            assert_eq!(status.as_str().parse::<OfferStatus>(), Ok(status));
        }
        for service in Service::ALL {
            assert_eq!(service.as_str().parse::<Service>(), Ok(service));
        }
        for presence in Presence::ALL {
            assert_eq!(presence.as_str().parse::<Presence>(), Ok(presence));
        }
        assert!("maybe".parse::<OfferStatus>().is_err());
        assert!("lawsuit".parse::<Service>().is_err());
    }

    #[test]
    fn only_declines_and_hand_backs_are_refusals() {
        let refusals: Vec<_> = OfferStatus::ALL
            .into_iter()
            .filter(OfferStatus::is_refusal)
            .collect();
        assert_eq!(refusals, [OfferStatus::Declined, OfferStatus::Returned]);
    }
}
