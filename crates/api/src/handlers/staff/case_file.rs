//! The case file (卷宗) of one consultation: cover, the question, the
//! asker, acceptance, the thread with the lawyer, the rating and every
//! event — as JSON, a printable HTML page or a PDF (`crate::case_file`).

use super::{lawyer_case, staff_consultation_view};
use crate::case_file::{self as shared, CaseFileQuery, Event, Parts, section};
use crate::error::ErrorCode;
use crate::extract::{CaseReader, LawyerAuth};
use crate::{ApiError, AppState, ErrorBody};
use actix_web::{HttpResponse, get, web};
use sansuo_casefile::{CaseFile, CaseFileParty, labels, time};
use sansuo_domain::CaseId;
use uuid::Uuid;

/// The case file of a consultation you handle, or (coordinators and
/// administrators) of any consultation in your subtree, the asker masked:
/// JSON, printable HTML or PDF. Numbered the first time it is produced.
#[utoipa::path(tag = "staff", security(("bearer" = [])), params(("id" = Uuid, Path), CaseFileQuery), responses(
    (status = 200, body = CaseFile, description = "JSON; `text/html` with `format=html`; `application/pdf` with `format=pdf`"),
    (status = 400, body = ErrorBody, description = "`bad_parameter`: unknown format"),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody, description = "`forbidden`: not a lawyer, coordinator or administrator"),
    (status = 404, body = ErrorBody, description = "`consultation_not_found`: not yours (an offer or the pool is not handling it; a coordinator or administrator: not in your subtree)"),
    (status = 409, body = ErrorBody, description = "`state_conflict`: the case could not be numbered (too many files numbered at once; try again)"),
))]
#[get("/staff/consultations/{id}/case-file")]
pub async fn consultation_case_file(
    state: web::Data<AppState>,
    auth: CaseReader<LawyerAuth>,
    id: web::Path<Uuid>,
    query: web::Query<CaseFileQuery>,
) -> Result<HttpResponse, ApiError> {
    let format = query.format()?;
    let id: CaseId = id.into_inner().into();
    let (record, owner) = match auth {
        CaseReader::Handler(lawyer) => {
            let record = lawyer_case(&state, id, &lawyer).await?;
            if record.case.owner_staff_id != Some(lawyer.id.as_uuid()) {
                // Holding an offer is not handling the case.
                return Err(ApiError::consultation_not_found());
            }
            (record, true)
        }
        CaseReader::Coordinator(coordinator) => {
            crate::scoped::resolve(
                &state,
                coordinator.scope,
                id,
                ErrorCode::ConsultationNotFound,
            )
            .await?;
            let record = state
                .store
                .consultations()
                .get(id)
                .await?
                .ok_or_else(ApiError::consultation_not_found)?;
            tracing::info!(case_id = %id, staff_id = %coordinator.id, "consultation file under supervision");
            (record, false)
        }
    };
    let c = staff_consultation_view(&state, &record, owner).await?;
    let status = serde_json::to_value(c.status)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    let dt = |t| time::datetime(t);

    let mut application = section("咨询内容");
    application.row("提交时间", Some(dt(c.created_at)));
    application.row("咨询问题", Some(c.question.clone()));
    application.row(
        "来源",
        Some(if c.intake.is_some() {
            "现场代办"
        } else {
            "线上提交"
        }),
    );

    let handler = c.lawyer.as_ref().map(|l| match &l.firm {
        Some(firm) => format!("{}（{}）", l.display_name, firm),
        None => l.display_name.clone(),
    });
    let mut registration = section("受理与办理");
    registration.row("承办律师", handler.clone());
    registration.row("受理时间", c.accepted_at.map(dt));
    registration.row("首次答复", c.answered_at.map(dt));
    registration.row("办结时间", c.resolved_at.map(dt));
    registration.row("结案时间", c.closed_at.map(dt));
    registration.row(
        "转办",
        c.converted_to
            .as_ref()
            .map(|to| format!("已转为{}", labels::service_name(&to.service))),
    );

    let mut thread = section("咨询记录");
    for m in &c.messages {
        let who = match &m.author_name {
            Some(name) => format!("{}（{}）", labels::role_name(&m.author), name),
            None => labels::role_name(&m.author),
        };
        let internal = if m.visibility == "internal" {
            " · 内部备注"
        } else {
            ""
        };
        thread.row(
            format!("{} {}{}", dt(m.created_at), who, internal),
            Some(m.body.clone()),
        );
    }
    if c.messages.is_empty() {
        thread.row("咨询记录", None::<String>);
    }

    let mut rating = section("评价");
    rating.row("评分", c.rating.as_ref().map(|r| format!("{} 星", r.stars)));
    rating.row("评语", c.rating.as_ref().and_then(|r| r.comment.clone()));
    rating.row(
        "评价时间",
        c.rating.as_ref().and_then(|r| r.rated_at).map(dt),
    );

    // The asker: named only when filed in person (the view masks them
    // unless you own the case); an app user is known by no name here.
    let (parties, parties_unmasked) = match &c.intake {
        Some(intake) => (
            vec![CaseFileParty {
                role: "resident".into(),
                role_name: labels::role_name("resident"),
                name: intake.resident_name.clone(),
                contact: Some(intake.resident_phone.clone()),
            }],
            owner,
        ),
        None => (
            vec![CaseFileParty {
                role: "resident".into(),
                role_name: labels::role_name("resident"),
                name: "小程序居民用户".into(),
                contact: None,
            }],
            false,
        ),
    };
    let events = c
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
            service: "consultation",
            status: &status,
            handler,
            parties,
            parties_unmasked,
            sections: vec![application, registration, thread, rating],
            events,
        },
    )
    .await?;
    shared::respond(&file, format)
}
