//! The case file (卷宗) of one mediation, for the archive: registration,
//! parties, sessions with their minutes, outcome, confirmation, visit and
//! every event — as JSON, or as an HTML page the browser prints.

use super::staff::{mediator_case, supervised_mediation};
use super::{MediationView, PartyDetail, mediation_view};
use crate::extract::{CaseReader, MediatorAuth};
use crate::{ApiError, AppState, ErrorBody};
use actix_web::{HttpResponse, get, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CaseFileQuery {
    /// `json` (default) or `html` (a printable page).
    #[param(pattern = "^(json|html)$")]
    pub format: Option<String>,
}

/// A session as the record keeps it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SessionRecordView {
    pub id: Uuid,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub status: String,
    pub attendees: Option<String>,
    pub minutes: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CaseFileView {
    pub exported_at: DateTime<Utc>,
    pub mediation: MediationView,
    pub session_records: Vec<SessionRecordView>,
}

/// Export the case file of a mediation you handle, or (coordinators and administrators) of any
/// mediation in your subtree, parties masked (JSON or printable HTML).
#[utoipa::path(tag = "mediations", security(("bearer" = [])), params(("id" = Uuid, Path), CaseFileQuery), responses(
    (status = 200, body = CaseFileView, description = "JSON, or `text/html` with `format=html`"),
    (status = 400, body = ErrorBody, description = "`bad_parameter`: unknown format"),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody, description = "`forbidden`: not a mediator, coordinator or administrator"),
    (status = 404, body = ErrorBody, description = "`mediation_not_found`: not yours (a coordinator or administrator: not in your subtree)"),
    (status = 503, body = ErrorBody, description = "`audit_unavailable`: the personal data audit could not be written, so the case is not shown with its opened personal data (whatever the request changed stands; read the case again later)"),
))]
#[get("/staff/mediations/{id}/case-file")]
pub async fn case_file(
    state: web::Data<AppState>,
    auth: CaseReader<MediatorAuth>,
    id: web::Path<Uuid>,
    query: web::Query<CaseFileQuery>,
) -> Result<HttpResponse, ApiError> {
    let html = match query.format.as_deref() {
        None | Some("json") => false,
        Some("html") => true,
        Some(other) => {
            return Err(ApiError::bad_parameter(format!(
                "format `{other}`: use json or html"
            )));
        }
    };
    let id = id.into_inner().into();
    let (record, detail) = match auth {
        CaseReader::Handler(mediator) => {
            let (record, detail) = mediator_case(&state, id, &mediator).await?;
            if !matches!(detail, PartyDetail::Opened(_)) {
                // Holding an offer is not handling the case: no archive copy.
                return Err(super::mediation_not_found());
            }
            // Audited as the case file, not as a look at the case.
            (
                record,
                PartyDetail::Opened(sansuo_domain::data_view::DataKind::CaseFileParties),
            )
        }
        CaseReader::Coordinator(coordinator) => {
            supervised_mediation(&state, id, &coordinator).await?
        }
    };
    let file = CaseFileView {
        exported_at: Utc::now(),
        mediation: mediation_view(&state, &record, false, detail).await?,
        session_records: record
            .sessions
            .iter()
            .map(|s| SessionRecordView {
                id: s.id,
                starts_at: s.starts_at,
                ends_at: s.ends_at,
                status: s.status.as_str().to_owned(),
                attendees: s.attendees.clone(),
                minutes: s.minutes.clone(),
            })
            .collect(),
    };
    tracing::info!(case_id = %record.case.id, "case file exported");
    if html {
        Ok(HttpResponse::Ok()
            .content_type("text/html; charset=utf-8")
            .body(render_html(&file)))
    } else {
        Ok(HttpResponse::Ok().json(file))
    }
}

/// Escape text for HTML: every value in the page is user data.
fn esc(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

fn row(label: &str, value: Option<String>) -> String {
    format!(
        "<tr><th>{}</th><td>{}</td></tr>",
        esc(label),
        esc(value.as_deref().unwrap_or("—"))
    )
}

fn render_html(file: &CaseFileView) -> String {
    let m = &file.mediation;
    let mut out = String::from(
        "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>人民调解卷宗</title>\
<style>body{font-family:serif;max-width:48em;margin:2em auto}table{border-collapse:collapse;width:100%;margin:1em 0}\
th,td{border:1px solid #444;padding:.3em .5em;text-align:left;vertical-align:top}th{width:12em}\
@media print{a{display:none}}</style></head><body>",
    );
    out += &format!(
        "<h1>人民调解卷宗</h1><p>案件编号 {}</p>",
        esc(&m.id.to_string())
    );
    out += "<h2>登记</h2><table>";
    out += &row("类别", Some(m.category_code.clone()));
    out += &row("申请时间", Some(m.created_at.to_rfc3339()));
    out += &row("状态", Some(m.status.clone()));
    out += &row("事实", Some(m.facts.clone()));
    out += &row("请求", Some(m.claims.clone()));
    out += &row("调解员", m.mediator.clone());
    out += "</table><h2>当事人</h2><table>";
    for p in &m.parties {
        out += &row(
            &p.role,
            Some(format!(
                "{} {}",
                p.name,
                p.contact.clone().unwrap_or_default()
            )),
        );
    }
    out += "</table><h2>调解记录</h2><table>";
    for s in &file.session_records {
        out += &row(
            &format!("{} – {}", s.starts_at.to_rfc3339(), s.ends_at.to_rfc3339()),
            Some(format!(
                "[{}] 参加人员：{}；笔录：{}",
                s.status,
                s.attendees.clone().unwrap_or_default(),
                s.minutes.clone().unwrap_or_default()
            )),
        );
    }
    out += "</table><h2>结果</h2><table>";
    if let Some(o) = &m.outcome {
        out += &row("结果", Some(o.kind.clone()));
        out += &row("协议内容", o.agreement_terms.clone());
        out += &row("履行方式", o.performance_method.clone());
        out += &row("履行期限", o.perform_by.map(|d| d.to_string()));
        out += &row("生效日期", o.effective_on.map(|d| d.to_string()));
        out += &row(
            "司法确认申请截止",
            o.confirmation_deadline.map(|d| d.to_string()),
        );
        out += &row("司法确认", o.confirmation_court.clone());
        out += &row("终止原因", o.termination_reason.clone());
        out += &row("告知途径", Some(o.other_routes.join("、")));
        out += &row("回访", o.performance_status.clone());
        out += &row("满意度", o.satisfaction.map(|s| s.to_string()));
    } else {
        out += &row("结果", None);
    }
    out += "</table><h2>当事人意见</h2><table>";
    for s in &m.sessions {
        if let Some(a) = &s.attendance {
            out += &row(
                &format!("出席确认 {}", s.starts_at.to_rfc3339()),
                Some(format!(
                    "{} {}",
                    if a.attending {
                        "出席"
                    } else {
                        "不能出席"
                    },
                    a.note.clone().unwrap_or_default()
                )),
            );
        }
    }
    out += &row(
        "当事人回访答复",
        m.visit_answer.as_ref().map(|v| {
            format!(
                "{}；满意度 {}；{}",
                v.performance,
                v.satisfaction,
                v.comment.clone().unwrap_or_default()
            )
        }),
    );
    out += &row(
        "当事人评价",
        m.rating
            .as_ref()
            .map(|r| format!("{} 星；{}", r.stars, r.comment.clone().unwrap_or_default())),
    );
    out += "</table><h2>流转记录</h2><table>";
    for e in &m.history {
        out += &row(
            &e.created_at.to_rfc3339(),
            Some(format!(
                "{} ({} → {}) {}",
                e.action,
                e.from_status.clone().unwrap_or_default(),
                e.to_status,
                e.reason.clone().unwrap_or_default()
            )),
        );
    }
    out += &format!(
        "</table><p>导出时间 {}</p></body></html>",
        esc(&file.exported_at.to_rfc3339())
    );
    out
}

#[cfg(test)]
mod tests {
    use super::esc;

    #[test]
    fn user_text_cannot_inject_markup() {
        assert_eq!(
            esc("<script>alert('x')</script> & \"q\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;"
        );
    }
}
