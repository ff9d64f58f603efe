//! The case file (卷宗) of one tip: cover, the report, triage, the
//! officer's actions and the thread, the outcome, the photos with their
//! SHA-256, and every event — as JSON, a printable HTML page or a PDF
//! (`crate::case_file`). An anonymous tip's file names no reporter and
//! holds nothing that could lead to one: it is built from the staff view of
//! the tip, which carries none (docs/anonymity.md).

use super::staff::visible_tip;
use super::{Viewer, tip_not_found, tip_view};
use crate::case_file::{self as shared, CaseFileQuery, Event, Parts, section};
use crate::error::ErrorCode;
use crate::extract::{CaseReader, OfficerAuth};
use crate::{ApiError, AppState, ErrorBody};
use actix_web::{HttpResponse, get, web};
use sansuo_casefile::{CaseFile, CaseFileParty, labels, time};
use sansuo_domain::CaseId;
use uuid::Uuid;

/// The case file of a tip you handle, or (coordinators and administrators)
/// of any tip in your subtree: JSON, printable HTML or PDF. Numbered the
/// first time it is produced.
#[utoipa::path(tag = "tips", security(("bearer" = [])), params(("id" = Uuid, Path), CaseFileQuery), responses(
    (status = 200, body = CaseFile, description = "JSON; `text/html` with `format=html`; `application/pdf` with `format=pdf`"),
    (status = 400, body = ErrorBody, description = "`bad_parameter`: unknown format"),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody, description = "`forbidden`: not an officer, coordinator or administrator"),
    (status = 404, body = ErrorBody, description = "`tip_not_found`: not yours (an offer is not handling it; a coordinator or administrator: not in your subtree)"),
    (status = 409, body = ErrorBody, description = "`state_conflict`: the case could not be numbered (too many files numbered at once; try again)"),
))]
#[get("/staff/tips/{id}/case-file")]
pub async fn tip_case_file(
    state: web::Data<AppState>,
    auth: CaseReader<OfficerAuth>,
    id: web::Path<Uuid>,
    query: web::Query<CaseFileQuery>,
) -> Result<HttpResponse, ApiError> {
    let format = query.format()?;
    let id: CaseId = id.into_inner().into();
    let record = match auth {
        CaseReader::Handler(officer) => visible_tip(&state, officer.id, id)
            .await?
            // Holding an offer is not handling the case.
            .filter(|r| r.case.owner_staff_id == Some(officer.id.as_uuid())),
        CaseReader::Coordinator(coordinator) => {
            crate::scoped::resolve(&state, coordinator.scope, id, ErrorCode::TipNotFound).await?;
            tracing::info!(case_id = %id, staff_id = %coordinator.id, "tip file under supervision");
            state.store.tips().get(id).await?
        }
    }
    .ok_or_else(tip_not_found)?;
    let case = record.case.clone();
    let handler = record.owner.as_ref().map(|o| o.display_name.clone());
    let t = tip_view(&state, record, Viewer::Staff).await?;
    let dt = |at| time::datetime(at);

    let mut report = section("举报内容");
    report.row("举报时间", Some(dt(t.created_at)));
    report.row(
        "举报方式",
        Some(if t.anonymous {
            "匿名举报"
        } else {
            "实名举报"
        }),
    );
    report.row("线索描述", Some(t.description.clone()));
    report.row(
        "地点",
        t.location.as_ref().map(|l| {
            format!(
                "{}（{:.5}, {:.5}）",
                l.address.as_deref().unwrap_or("未填写地址"),
                l.lat,
                l.lng
            )
        }),
    );
    report.row(
        "来源渠道",
        t.staff.as_ref().map(|s| match s.channel.as_str() {
            "app" => "小程序".to_owned(),
            "open311" => "Open311 接口".to_owned(),
            "mediation" => "调解中发现".to_owned(),
            "consultation" => "法律咨询转办".to_owned(),
            other => format!("其他（{other}）"),
        }),
    );
    report.row("附议人数", Some(t.supporters.to_string()));

    let mut triage = section("研判");
    triage.row(
        "研判结论",
        t.triage_verdict.as_deref().map(labels::triage_name),
    );
    triage.row("优先级", t.staff.as_ref().map(|s| s.priority.to_string()));
    triage.row("移交单位", t.referred_to.clone());
    triage.row(
        "重复线索",
        t.duplicate_of.map(|_| "与已有线索重复".to_owned()),
    );

    let mut actions = section("处置记录");
    for m in &t.messages {
        let who = if m.author == "officer" {
            "民警"
        } else {
            "举报人"
        };
        let internal = if m.internal { " · 内部备注" } else { "" };
        actions.row(
            format!("{} {}{}", dt(m.created_at), who, internal),
            Some(m.body.clone()),
        );
    }
    if t.messages.is_empty() {
        actions.row("处置记录", None::<String>);
    }

    let mut outcome = section("处理结果");
    outcome.row("当前状态", Some(labels::status_name("tip", &t.status)));
    outcome.row("结案说明", t.close_note.clone());
    outcome.row(
        "转为调解",
        t.converted_to.map(|_| "已转为人民调解".to_owned()),
    );

    let mut photos = section("照片证据");
    for (i, p) in t.photos.iter().enumerate() {
        photos.row(
            format!("照片{}", i + 1),
            Some(format!(
                "SHA-256：{}；{}，{} 字节；收到时间 {}；{}",
                p.sha256,
                p.content_type,
                p.bytes,
                dt(p.received_at),
                if p.added_by == "staff" {
                    "民警上传"
                } else {
                    "举报人上传"
                }
            )),
        );
    }
    if t.photos.is_empty() {
        photos.row("照片", None::<String>);
    }

    // The reporter: never named in a file. An anonymous tip says only
    // that it is anonymous (the staff view knows nothing more).
    let parties = vec![CaseFileParty {
        role: "reporter".into(),
        role_name: labels::role_name("reporter"),
        name: if t.anonymous {
            "匿名".into()
        } else {
            "实名（身份信息不随卷宗导出）".into()
        },
        contact: None,
    }];
    let events = t
        .history
        .iter()
        .map(|e| Event {
            action: &e.action,
            from_status: e.from_status.as_deref(),
            to_status: &e.to_status,
            actor: &e.actor,
            note: e.note.as_deref(),
            at: e.created_at,
        })
        .collect();
    let file = shared::build(
        &state,
        Parts {
            case: &case,
            service: "tip",
            status: &t.status,
            handler,
            parties,
            parties_unmasked: false,
            sections: vec![report, triage, actions, outcome, photos],
            events,
        },
    )
    .await?;
    shared::respond(&file, format)
}
