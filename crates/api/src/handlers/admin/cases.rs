//! The coordinators' side of routing: the unrouted queue, reassignment and
//! reopening. A case is visible to a coordinator whose subtree holds its
//! community; anything else reads as "not found".
use crate::error::ErrorCode;

use super::super::context;
use crate::extract::AdminAuth;
use crate::middleware::RequestId;
use crate::pagination::{PageQuery, split_page};
use crate::scoped::{Body, Scoped};
use crate::{ApiError, AppState, ErrorBody};
use actix_web::{get, post, web};
use chrono::{DateTime, Utc};
use sansuo_domain::catalog::Service;
use sansuo_domain::values::Reason;
use sansuo_domain::{CaseId, StaffRole};
use sansuo_store::records::CaseRecord;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// A case as coordinators route it: where it stands on its ladder. The
/// question is shown (coordinators decide who should answer it); the
/// resident's identity is not.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RoutingCaseView {
    pub id: Uuid,
    #[schema(example = "consultation")]
    pub service: String,
    pub community_id: Uuid,
    pub category_code: String,
    /// The service's own status (`pooled`, `assigned`, `accepted`, ...).
    pub status: String,
    /// The consultation's question, or the mediation's facts.
    pub question: String,
    /// The workflow the case follows, and its step on the ladder (0-based).
    pub workflow: Option<String>,
    pub ladder_step: i32,
    pub priority: i32,
    /// Since when it has waited for an owner.
    pub queued_at: Option<DateTime<Utc>>,
    /// When it passed the end of its ladder (the alarm).
    pub unrouted_at: Option<DateTime<Utc>>,
    pub owner_staff_id: Option<Uuid>,
    /// 催办: how often the case was urged, and when last.
    pub urge_count: i32,
    pub last_urged_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

fn routing_view(case: &CaseRecord, text: String) -> RoutingCaseView {
    RoutingCaseView {
        id: case.id,
        service: case.service.to_string(),
        community_id: case.community_id,
        category_code: case.category_code.clone(),
        status: case.status.to_string(),
        question: text,
        workflow: case.workflow.clone(),
        ladder_step: case.ladder_step,
        priority: case.priority,
        queued_at: case.queued_at,
        unrouted_at: case.unrouted_at,
        owner_staff_id: case.owner_staff_id,
        urge_count: case.urge_count,
        last_urged_at: case.last_urged_at,
        created_at: case.created_at,
    }
}

/// What the coordinator reads to decide: the question or the facts.
async fn case_text(state: &AppState, case: &CaseRecord) -> Result<String, ApiError> {
    let id: CaseId = case.id.into();
    Ok(if case.service == Service::Mediation {
        state
            .store
            .mediations()
            .get(id)
            .await?
            .map(|m| m.detail.facts)
    } else {
        state
            .store
            .consultations()
            .get(id)
            .await?
            .map(|c| c.detail.question)
    }
    .unwrap_or_default())
}

async fn view_of(state: &AppState, case: &CaseRecord) -> Result<RoutingCaseView, ApiError> {
    Ok(routing_view(case, case_text(state, case).await?))
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RoutingCasePage {
    pub items: Vec<RoutingCaseView>,
    pub next_cursor: Option<String>,
}

fn case_not_found() -> ApiError {
    ApiError::new(ErrorCode::CaseNotFound, "no such case in your organisation")
}

/// The case (any service), if its community lies in the coordinator's subtree.
async fn case_in_scope(state: &AppState, id: &Scoped<CaseId>) -> Result<CaseRecord, ApiError> {
    state
        .store
        .cases()
        .get(id.id())
        .await?
        .ok_or_else(case_not_found)
}

const UNROUTED_SCAN_PAGES: usize = 20;

/// The unrouted queue: cases that passed the end of their ladder with
/// nobody to take them, newest first. Assign them with `reassign`.
#[utoipa::path(tag = "admin", security(("bearer" = [])), params(PageQuery), responses(
    (status = 200, body = RoutingCasePage),
    (status = 400, body = ErrorBody, description = "`bad_parameter`"),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody),
))]
#[get("/admin/unrouted")]
pub async fn list_unrouted(
    state: web::Data<AppState>,
    admin: AdminAuth,
    query: web::Query<PageQuery>,
) -> Result<web::Json<RoutingCasePage>, ApiError> {
    let page = query.parse::<Uuid>()?;
    let mut before = page.before;
    let mut rows = Vec::new();
    for _ in 0..UNROUTED_SCAN_PAGES {
        let batch = state
            .store
            .routing()
            .unrouted_page(before, page.limit + 1)
            .await?;
        let exhausted = (batch.len() as u64) <= page.limit;
        before = batch.last().map(|c| c.id);
        for case in batch {
            if state
                .store
                .staffing()
                .unit_within(case.community_id.into(), admin.scope)
                .await?
            {
                rows.push(case);
            }
        }
        if exhausted || rows.len() as u64 > page.limit {
            break;
        }
    }
    let (rows, next_cursor) = split_page(rows, page.limit, |c| c.id);
    let mut items = Vec::with_capacity(rows.len());
    for case in &rows {
        items.push(view_of(&state, case).await?);
    }
    Ok(web::Json(RoutingCasePage { items, next_cursor }))
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReassignRequest {
    /// The lawyer (consultation) or mediator (mediation) who takes the case.
    pub staff_id: Uuid,
    /// Why (2 to 500 characters), kept in the case history.
    #[schema(example = "熟悉该小区物业纠纷，由其继续跟进")]
    pub reason: String,
}

/// Give a case to a named person — a lawyer for a consultation, a mediator
/// for a mediation — whatever the router was doing with it (a pending
/// offer is withdrawn). Works on waiting, offered, unrouted and owned cases.
#[utoipa::path(tag = "admin", security(("bearer" = [])), params(("id" = Uuid, Path)), request_body = ReassignRequest, responses(
    (status = 200, body = RoutingCaseView),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody),
    (status = 404, body = ErrorBody, description = "`case_not_found`: not in your organisation; or `staff_not_found`: no such active lawyer (consultation), mediator (mediation) or officer (tip) serving the case's community"),
    (status = 409, body = ErrorBody, description = "`state_conflict`: already answered or finished, or changed meanwhile"),
    (status = 422, body = ErrorBody, description = "`validation_failed`"),
))]
#[post("/admin/cases/{id}/reassign")]
pub async fn reassign_case(
    state: web::Data<AppState>,
    admin: AdminAuth,
    request_id: RequestId,
    scoped: Scoped<CaseId>,
    body: Body<ReassignRequest>,
) -> Result<web::Json<RoutingCaseView>, ApiError> {
    let id = scoped.id();
    let case = case_in_scope(&state, &scoped).await?;
    let reason = Reason::parse(&body.reason)?;
    let staff_not_found = || {
        ApiError::new(
            ErrorCode::StaffNotFound,
            "no such active lawyer (consultation), mediator (mediation) or officer (tip) serving the case's community",
        )
    };
    let role = role_for(&case);
    let target = state
        .store
        .identity()
        .staff(body.staff_id.into())
        .await?
        .filter(|s| s.active && s.role == role)
        .ok_or_else(staff_not_found)?;
    // They must serve the case's community: through their units, their
    // signing or their firm's signings, as the router would see it.
    let place = state
        .store
        .routing()
        .case_place(case.community_id.into())
        .await?;
    let serves = state
        .store
        .staffing()
        .own_dispatch_snapshot(target.id, Utc::now())
        .await?
        .is_some_and(|me| {
            [
                Some(place.community),
                place.station,
                place.street,
                place.district,
            ]
            .into_iter()
            .flatten()
            .any(|unit| me.units.contains(&unit))
        });
    if !serves {
        return Err(staff_not_found());
    }
    state
        .store
        .offers()
        .reassign_case(
            id,
            target.id,
            reason.as_str(),
            context(admin.principal(), &request_id),
        )
        .await?;
    tracing::info!(case_id = %id, staff_id = %target.id, "reassigned by a coordinator");
    let case = case_in_scope(&state, &scoped).await?;
    Ok(web::Json(view_of(&state, &case).await?))
}

/// Who takes a case of this service by hand (a reassignment goes to this
/// role only): lawyers answer consultations, mediators mediate, officers
/// triage tips.
fn role_for(case: &CaseRecord) -> StaffRole {
    match case.service {
        Service::Consultation => StaffRole::Lawyer,
        Service::Mediation => StaffRole::Mediator,
        Service::Tip => StaffRole::Officer,
    }
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReopenCaseRequest {
    /// Why it needs more work (2 to 500 characters).
    pub reason: String,
}

/// Reopen a resolved consultation or a closed mediation. A consultation
/// goes back to whoever resolved it if they can take it, otherwise up its
/// ladder from the bottom; a mediation goes back to `accepted` with the
/// mediator who had it (reassign it if they cannot go on).
#[utoipa::path(tag = "admin", security(("bearer" = [])), params(("id" = Uuid, Path)), request_body = ReopenCaseRequest, responses(
    (status = 200, body = RoutingCaseView),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody),
    (status = 404, body = ErrorBody, description = "`case_not_found`"),
    (status = 409, body = ErrorBody, description = "`state_conflict`: not resolved (consultation) or not closed (mediation)"),
    (status = 422, body = ErrorBody, description = "`validation_failed`"),
))]
#[post("/admin/cases/{id}/reopen")]
pub async fn reopen_case(
    state: web::Data<AppState>,
    admin: AdminAuth,
    request_id: RequestId,
    scoped: Scoped<CaseId>,
    body: Body<ReopenCaseRequest>,
) -> Result<web::Json<RoutingCaseView>, ApiError> {
    let id = scoped.id();
    let case = case_in_scope(&state, &scoped).await?;
    let reason = Reason::parse(&body.reason)?;
    let ctx = context(admin.principal(), &request_id);
    if case.service == Service::Mediation {
        state
            .store
            .mediations()
            .reopen(id, None, reason.as_str(), ctx)
            .await?;
    } else {
        state
            .store
            .consultations()
            .reopen(id, reason.as_str(), ctx)
            .await?;
    }
    tracing::info!(case_id = %id, service = %case.service, "reopened by a coordinator");
    let case = case_in_scope(&state, &scoped).await?;
    Ok(web::Json(view_of(&state, &case).await?))
}
