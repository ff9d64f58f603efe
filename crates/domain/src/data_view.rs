//! Audit of personal data (PIPL): the kinds of unmasked personal data a
//! staff member can be shown, and the words a resident reads about it.
//! The audit row names the kind, never the data.

use crate::StaffRole;
use std::fmt;
use std::str::FromStr;

/// What was shown unmasked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DataKind {
    /// A mediation's parties' names and contacts, in the case's staff view.
    PartyContact,
    /// The same, in the case file (卷宗) exported for the archive.
    CaseFileParties,
    /// The name and phone of a resident whose case was filed in person (代办).
    IntakeResident,
    /// A resident's bound WeChat phone number (no staff view shows it today).
    ResidentPhone,
    /// A named tip reporter's details (no staff view shows them today).
    Reporter,
}

impl DataKind {
    pub const ALL: [DataKind; 5] = [
        DataKind::PartyContact,
        DataKind::CaseFileParties,
        DataKind::IntakeResident,
        DataKind::ResidentPhone,
        DataKind::Reporter,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DataKind::PartyContact => "party_contact",
            DataKind::CaseFileParties => "case_file_parties",
            DataKind::IntakeResident => "intake_resident",
            DataKind::ResidentPhone => "resident_phone",
            DataKind::Reporter => "reporter",
        }
    }

    /// In Chinese, for the resident and the export.
    pub fn label_zh(self) -> &'static str {
        match self {
            DataKind::PartyContact => "当事人姓名及联系方式",
            DataKind::CaseFileParties => "卷宗中的当事人信息",
            DataKind::IntakeResident => "代办登记的姓名及电话",
            DataKind::ResidentPhone => "绑定的手机号",
            DataKind::Reporter => "举报人信息",
        }
    }
}

impl fmt::Display for DataKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for DataKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        DataKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| format!("unknown personal data kind `{s}`"))
    }
}

/// A staff role in Chinese, as a resident reads it.
pub fn role_zh(role: StaffRole) -> &'static str {
    match role {
        StaffRole::Lawyer => "律师",
        StaffRole::Mediator => "调解员",
        StaffRole::Officer => "社区民警",
        StaffRole::Coordinator => "协调员",
        StaffRole::Admin => "管理员",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip() {
        for k in DataKind::ALL {
            assert_eq!(k.as_str().parse::<DataKind>(), Ok(k));
            assert!(!k.label_zh().is_empty());
        }
        assert!("phone".parse::<DataKind>().is_err());
    }
}
