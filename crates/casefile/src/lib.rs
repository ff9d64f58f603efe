//! The case file (卷宗) of a consultation, a mediation or a tip, as one
//! model ([`CaseFile`]) with two renderings: a printable HTML page
//! ([`html::render`]) and a PDF with an embedded CJK font ([`pdf::render`]).
//!
//! Everything here is pure: the API gathers the case, decides what the
//! reader may see (masked or unmasked parties), and hands this crate text
//! that is already in Chinese and in Beijing time ([`labels`], [`time`]).
//! Case numbers: [`number`].

pub mod html;
pub mod labels;
pub mod number;
pub mod pdf;
pub mod time;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// One case file, whatever the service.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CaseFile {
    /// `consultation`, `mediation` or `tip`.
    pub service: String,
    /// The service's Chinese name (`法律咨询`, `人民调解`, `线索举报`).
    pub service_name: String,
    /// The file's title (`人民调解卷宗`...).
    pub title: String,
    /// The case number (`〔2026〕天潼路街道调字第1号`): given once, the
    /// first time the file is produced, and the same ever after.
    pub number: String,
    /// The unit that numbers the case.
    pub unit: String,
    /// The community the case belongs to.
    pub community: String,
    pub case_id: Uuid,
    /// 案由: what the case is about.
    pub case_name: String,
    pub category_code: String,
    /// The category's Chinese name.
    pub category_name: String,
    pub status: String,
    /// The status in Chinese.
    pub status_name: String,
    /// `2026年12月04日 09:00` (Asia/Shanghai).
    pub registered_at: String,
    /// When the case was closed (Asia/Shanghai), if it is.
    pub closed_at: Option<String>,
    /// Who handles it (承办人).
    pub handler: Option<String>,
    /// Whether the parties' names and contacts appear in full: the seam
    /// where an audit of personal data hooks in.
    pub parties_unmasked: bool,
    pub parties: Vec<CaseFileParty>,
    /// The sections after the cover, in order (application, registration,
    /// sessions, outcome...): each a table of labelled rows.
    pub sections: Vec<CaseFileSection>,
    /// Every case event, oldest first.
    pub events: Vec<CaseFileEvent>,
    /// When this copy was produced (Asia/Shanghai).
    pub exported_at: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CaseFileParty {
    /// `applicant`, `respondent`, `other`, `resident`, `reporter`.
    pub role: String,
    /// The role in Chinese.
    pub role_name: String,
    /// Masked unless the reader may see it.
    pub name: String,
    pub contact: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CaseFileSection {
    pub title: String,
    pub rows: Vec<CaseFileRow>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CaseFileRow {
    pub label: String,
    pub value: String,
}

impl CaseFileSection {
    pub fn new(title: &str) -> Self {
        CaseFileSection {
            title: title.to_owned(),
            rows: Vec::new(),
        }
    }

    /// Add a row; an absent value prints as `—`.
    pub fn row(&mut self, label: impl Into<String>, value: Option<impl Into<String>>) {
        self.rows.push(CaseFileRow {
            label: label.into(),
            value: value.map(Into::into).unwrap_or_else(|| "—".to_owned()),
        });
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CaseFileEvent {
    /// Asia/Shanghai, `2026年12月04日 09:00`.
    pub at: String,
    /// The stored action code (`offer`, `agree`...).
    pub action: String,
    /// The action in Chinese.
    pub label: String,
    pub from_status: Option<String>,
    pub to_status: String,
    /// The status reached, in Chinese.
    pub to_status_name: String,
    /// Who acted, in Chinese (`居民`, `工作人员`, `系统`...).
    pub actor: String,
    pub note: Option<String>,
}

/// The cover's rows, shared by both renderings.
pub fn cover_rows(file: &CaseFile) -> Vec<(&'static str, String)> {
    let dash = || "—".to_owned();
    vec![
        ("案件编号", file.number.clone()),
        ("业务类别", file.service_name.clone()),
        ("承办单位", file.unit.clone()),
        ("所属社区", file.community.clone()),
        ("案由", file.case_name.clone()),
        ("纠纷类型", file.category_name.clone()),
        (
            "当事人",
            if file.parties.is_empty() {
                dash()
            } else {
                file.parties
                    .iter()
                    .map(|p| format!("{}：{}", p.role_name, p.name))
                    .collect::<Vec<_>>()
                    .join("；")
            },
        ),
        ("登记日期", file.registered_at.clone()),
        ("结案日期", file.closed_at.clone().unwrap_or_else(dash)),
        ("承办人", file.handler.clone().unwrap_or_else(dash)),
        ("当前状态", file.status_name.clone()),
    ]
}
