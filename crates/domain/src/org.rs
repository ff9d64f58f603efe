//! The organisation tree's kinds of unit (BRIEF §2).

use std::fmt;

/// A kind of organisation unit. Its spelling in `org_units.kind` is
/// [`UnitKind::as_str`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UnitKind {
    District,
    Street,
    PoliceStation,
    JudicialOffice,
    Community,
    Grid,
}

impl UnitKind {
    pub const ALL: [UnitKind; 6] = [
        UnitKind::District,
        UnitKind::Street,
        UnitKind::PoliceStation,
        UnitKind::JudicialOffice,
        UnitKind::Community,
        UnitKind::Grid,
    ];

    pub const fn as_str(&self) -> &'static str {
        match self {
            UnitKind::District => "district",
            UnitKind::Street => "street",
            UnitKind::PoliceStation => "police_station",
            UnitKind::JudicialOffice => "judicial_office",
            UnitKind::Community => "community",
            UnitKind::Grid => "grid",
        }
    }
}

impl fmt::Display for UnitKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for UnitKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        UnitKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| format!("unknown unit kind `{s}`"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip() {
        for k in UnitKind::ALL {
            assert_eq!(k.as_str().parse::<UnitKind>(), Ok(k));
        }
        assert!("village".parse::<UnitKind>().is_err());
    }
}
