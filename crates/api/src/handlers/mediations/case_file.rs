//! The case file (卷宗) of one mediation, for the archive: cover, the
//! application, parties, registration, sessions with their minutes, the
//! agreement or termination, judicial confirmation, the visit and every
//! event — as JSON, a printable HTML page or a PDF (`crate::case_file`).

use super::staff::{mediator_case, supervised_mediation};
use super::{PartyDetail, mediation_view};
use crate::case_file::{self as shared, CaseFileQuery, Event, Parts, section};
use crate::extract::{CaseReader, MediatorAuth};
use crate::{ApiError, AppState, ErrorBody};
use actix_web::{HttpResponse, get, web};
use sansuo_casefile::{CaseFile, CaseFileParty, labels, time};
use uuid::Uuid;

/// The case file of a mediation you handle, or (coordinators and
/// administrators) of any mediation in your subtree, parties masked: JSON,
/// printable HTML or PDF. Numbered the first time it is produced.
#[utoipa::path(tag = "mediations", security(("bearer" = [])), params(("id" = Uuid, Path), CaseFileQuery), responses(
    (status = 200, body = CaseFile, description = "JSON; `text/html` with `format=html`; `application/pdf` with `format=pdf`"),
    (status = 400, body = ErrorBody, description = "`bad_parameter`: unknown format"),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody, description = "`forbidden`: not a mediator, coordinator or administrator"),
    (status = 404, body = ErrorBody, description = "`mediation_not_found`: not yours (a coordinator or administrator: not in your subtree)"),
    (status = 409, body = ErrorBody, description = "`state_conflict`: the case could not be numbered (too many files numbered at once; try again)"),
    (status = 503, body = ErrorBody, description = "`audit_unavailable`: the personal data audit could not be written, so the case is not shown with its opened personal data (whatever the request changed stands; read the case again later)"),
))]
#[get("/staff/mediations/{id}/case-file")]
pub async fn case_file(
    state: web::Data<AppState>,
    auth: CaseReader<MediatorAuth>,
    id: web::Path<Uuid>,
    query: web::Query<CaseFileQuery>,
) -> Result<HttpResponse, ApiError> {
    let format = query.format()?;
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
    let parties_unmasked = matches!(detail, PartyDetail::Opened(_));
    let m = mediation_view(&state, &record, false, detail).await?;
    let dt = |t| time::datetime(t);
    let date = |d| time::date(d);

    let mut application = section("申请");
    application.row("申请时间", Some(dt(m.created_at)));
    application.row("纠纷事实", Some(m.facts.clone()));
    application.row("调解请求", Some(m.claims.clone()));
    application.row("不公开调解", Some(if m.private { "是" } else { "否" }));
    if let Some(from) = &m.converted_from {
        application.row(
            "转办来源",
            Some(format!("{}转办", labels::service_name(&from.service))),
        );
    }

    let mut registration = section("受理登记");
    registration.row(
        "受理状态",
        Some(labels::status_name("mediation", &m.status)),
    );
    registration.row("调解员", m.mediator.clone());
    registration.row("受理时间", record.case.accepted_at.map(dt));
    registration.row("办结期限", m.conclusion_target.map(date));
    registration.row(
        "不予受理理由",
        m.refusal_ground.as_deref().map(labels::refusal_name),
    );
    registration.row("告知其他途径", m.referral.clone());
    registration.row(
        "涉及治安风险",
        Some(if m.public_order_risk { "是" } else { "否" }),
    );

    let mut sessions = section("调解记录");
    for s in &m.sessions {
        let stored = record.sessions.iter().find(|r| r.id == s.id);
        let mut text = format!("[{}]", labels::session_status_name(&s.status));
        if let Some(room) = &s.room_name {
            text += &format!(" 地点：{room}");
        }
        if let Some(reason) = &s.cancel_reason {
            text += &format!("；取消原因：{reason}");
        }
        if let Some(a) = &s.attendance {
            text += &format!(
                "；当事人出席确认：{}{}",
                if a.attending {
                    "出席"
                } else {
                    "不能出席"
                },
                a.note
                    .as_deref()
                    .map(|n| format!("（{n}）"))
                    .unwrap_or_default()
            );
        }
        if let Some(r) = stored {
            text += &format!(
                "；参加人员：{}；笔录：{}",
                r.attendees.as_deref().unwrap_or("—"),
                r.minutes.as_deref().unwrap_or("—")
            );
        }
        sessions.row(
            format!(
                "{} 至 {}",
                dt(s.starts_at),
                time::datetime(s.ends_at)
                    .split(' ')
                    .nth(1)
                    .unwrap_or_default()
            ),
            Some(text),
        );
    }
    if m.sessions.is_empty() {
        sessions.row("调解记录", None::<String>);
    }

    let o = m.outcome.as_ref();
    let mut outcome = section("调解协议或终止");
    outcome.row("调解结果", o.map(|o| labels::outcome_name(&o.kind)));
    outcome.row("协议内容", o.and_then(|o| o.agreement_terms.clone()));
    outcome.row("履行方式", o.and_then(|o| o.performance_method.clone()));
    outcome.row("履行期限", o.and_then(|o| o.perform_by).map(date));
    outcome.row("生效日期", o.and_then(|o| o.effective_on).map(date));
    outcome.row("终止原因", o.and_then(|o| o.termination_reason.clone()));
    outcome.row(
        "告知其他途径",
        o.filter(|o| !o.other_routes.is_empty())
            .map(|o| o.other_routes.join("、")),
    );
    outcome.row("办结时间", o.and_then(|o| o.concluded_at).map(dt));

    let mut confirmation = section("司法确认");
    confirmation.row(
        "申请截止",
        o.and_then(|o| o.confirmation_deadline).map(date),
    );
    confirmation.row(
        "申请日期",
        o.and_then(|o| o.confirmation_applied_on).map(date),
    );
    confirmation.row("受理法院", o.and_then(|o| o.confirmation_court.clone()));
    confirmation.row("确认结果", o.and_then(|o| o.confirmation_ruling.clone()));

    let mut visit = section("回访");
    visit.row("回访期限", o.and_then(|o| o.visit_due).map(date));
    visit.row("回访时间", o.and_then(|o| o.visited_at).map(dt));
    visit.row(
        "履行情况",
        o.and_then(|o| o.performance_status.as_deref())
            .map(labels::performance_name),
    );
    visit.row(
        "满意度",
        o.and_then(|o| o.satisfaction).map(|s| format!("{s} 分")),
    );
    visit.row(
        "当事人回访答复",
        m.visit_answer.as_ref().map(|v| {
            format!(
                "{}；满意度 {} 分；{}",
                labels::performance_name(&v.performance),
                v.satisfaction,
                v.comment.as_deref().unwrap_or("—")
            )
        }),
    );
    visit.row(
        "当事人评价",
        m.rating
            .as_ref()
            .map(|r| format!("{} 星；{}", r.stars, r.comment.as_deref().unwrap_or("—"))),
    );

    let parties = m
        .parties
        .iter()
        .map(|p| CaseFileParty {
            role: p.role.clone(),
            role_name: labels::role_name(&p.role),
            name: p.name.clone(),
            contact: p.contact.clone(),
        })
        .collect();
    let events = m
        .history
        .iter()
        .map(|e| Event {
            action: &e.action,
            from_status: e.from_status.as_deref(),
            to_status: &e.to_status,
            actor: &e.actor,
            note: e.reason.as_deref(),
            at: e.created_at,
        })
        .collect();
    let file = shared::build(
        &state,
        Parts {
            case: &record.case,
            service: "mediation",
            status: &m.status,
            handler: m.mediator.clone(),
            parties,
            parties_unmasked,
            sections: vec![
                application,
                registration,
                sessions,
                outcome,
                confirmation,
                visit,
            ],
            events,
        },
    )
    .await?;
    shared::respond(&file, format)
}
