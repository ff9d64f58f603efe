use super::SupervisionView;
use crate::error::ErrorCode;
use crate::extract::AdminAuth;
use crate::handlers::context;
use crate::middleware::RequestId;
use crate::scoped::{Body, Scoped};
use crate::{ApiError, AppState, ErrorBody};
use actix_web::{HttpResponse, post, web};
use chrono::{DateTime, Utc};
use sansuo_domain::CaseId;
use sansuo_domain::supervision::{MAX_SUPERVISION_DAYS, SupervisionRefusal};
use sansuo_domain::values::Reason;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SuperviseRequest {
    /// By when the case must be resolved: ahead of now, at most 90 days.
    pub deadline: DateTime<Utc>,
    /// Optional, 2 to 500 characters, kept in the case's internal history.
    #[schema(example = "居民多次投诉，请本周内办结")]
    pub note: Option<String>,
}

fn refused(refusal: SupervisionRefusal) -> ApiError {
    match refusal {
        SupervisionRefusal::Finished => ErrorCode::NotSupervisable.into(),
        SupervisionRefusal::AlreadySupervised => ErrorCode::AlreadySupervised.into(),
        SupervisionRefusal::DeadlineNotAhead => ApiError::new(
            ErrorCode::ValidationFailed,
            "deadline must lie ahead of now",
        ),
        SupervisionRefusal::DeadlineTooFar => ApiError::new(
            ErrorCode::ValidationFailed,
            format!("deadline may lie at most {MAX_SUPERVISION_DAYS} days ahead"),
        ),
    }
}

/// 督办: put an open case (any service) of your subtree under supervision
/// with a deadline. Its owner is told on their event stream (`supervised`);
/// if the deadline passes with the case still open, the supervision climbs
/// to the coordinators of the unit above yours. It ends when the case is
/// resolved or closed, or when lifted (`DELETE`).
#[utoipa::path(tag = "admin", security(("bearer" = [])), params(("id" = Uuid, Path)), request_body = SuperviseRequest, responses(
    (status = 201, body = SupervisionView),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody),
    (status = 404, body = ErrorBody, description = "`case_not_found`: not in your organisation"),
    (status = 409, body = ErrorBody, description = "`not_supervisable`: finished or withdrawn; `already_supervised`: lift the live supervision first"),
    (status = 422, body = ErrorBody, description = "`validation_failed`: deadline not ahead or too far, note too short or long"),
))]
#[post("/admin/cases/{id}/supervise")]
pub async fn supervise_case(
    state: web::Data<AppState>,
    admin: AdminAuth,
    request_id: RequestId,
    scoped: Scoped<CaseId>,
    body: Body<SuperviseRequest>,
) -> Result<HttpResponse, ApiError> {
    let id = scoped.id();
    let note = body.note.as_deref().map(Reason::parse).transpose()?;
    let ctx = context(admin.principal(), &request_id);
    let now = ctx.now;
    let record = state
        .store
        .supervision()
        .supervise(
            id,
            admin.scope,
            admin.id,
            body.deadline,
            note.as_ref().map(Reason::as_str),
            ctx,
        )
        .await
        .map_err(ApiError::store_not_found(ErrorCode::CaseNotFound))?
        .map_err(refused)?;
    tracing::info!(case_id = %id, staff_id = %admin.id, "case put under supervision");
    Ok(HttpResponse::Created().json(SupervisionView::of(&record, now)))
}
