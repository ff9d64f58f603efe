use super::MediationView;
use super::outcome::ReasonRequest;
use super::staff::staff_mediation_view;
use crate::error::ErrorCode;
use crate::extract::MediatorAuth;
use crate::handlers::context;
use crate::middleware::RequestId;
use crate::{ApiError, AppState, ErrorBody};
use actix_web::{post, web};
use sansuo_domain::CaseId;
use sansuo_domain::values::Reason;
use uuid::Uuid;

/// Reopen a closed mediation you handled (typically: the follow-up visit
/// found the agreement not performed). It is yours again, `accepted`:
/// book a session, then record a new outcome. The recorded outcome stays
/// until a new one replaces it. Coordinators reopen any mediation of their
/// area with `POST /admin/cases/{id}/reopen`.
#[utoipa::path(tag = "mediations", security(("bearer" = [])), params(("id" = Uuid, Path)), request_body = ReasonRequest, responses(
    (status = 200, body = MediationView),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody, description = "`forbidden`: not a mediator"),
    (status = 404, body = ErrorBody, description = "`mediation_not_found`: not one you handled"),
    (status = 409, body = ErrorBody, description = "`state_conflict`: not closed"),
    (status = 422, body = ErrorBody, description = "`validation_failed`"),
    (status = 503, body = ErrorBody, description = "`audit_unavailable`: the personal data audit could not be written, so the case is not shown with its opened personal data (whatever the request changed stands; read the case again later)"),
))]
#[post("/staff/mediations/{id}/reopen")]
pub async fn reopen_mediation(
    state: web::Data<AppState>,
    auth: MediatorAuth,
    request_id: RequestId,
    id: web::Path<Uuid>,
    body: web::Json<ReasonRequest>,
) -> Result<web::Json<MediationView>, ApiError> {
    let reason = Reason::parse(&body.reason)?;
    let id: CaseId = id.into_inner().into();
    state
        .store
        .mediations()
        .reopen(
            id,
            Some(auth.id),
            reason.as_str(),
            context(auth.principal(), &request_id),
        )
        .await
        .map_err(ApiError::store_not_found(ErrorCode::MediationNotFound))?;
    tracing::info!(case_id = %id, "mediation reopened by its mediator");
    Ok(web::Json(staff_mediation_view(&state, id, &auth).await?))
}
