use super::{UrgeView, urge};
use crate::error::ErrorCode;
use crate::extract::{ResidentWrite, write};
use crate::middleware::RequestId;
use crate::{ApiError, AppState, ErrorBody};
use actix_web::{post, web};
use sansuo_domain::Actor;
use sansuo_domain::catalog::Service;
use sansuo_store::urges::Urger;
use uuid::Uuid;

/// 催办: nudge your mediation once its first-response time has passed
/// unanswered; the mediator who has it is told. Once per 24 hours.
#[utoipa::path(tag = "mediations", security(("bearer" = [])), params(("id" = Uuid, Path)), responses(
    (status = 200, body = UrgeView),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody),
    (status = 404, body = ErrorBody, description = "`mediation_not_found` (also someone else's)"),
    (status = 409, body = ErrorBody, description = "`urge_too_early`: the first-response time has not passed (the message says when it does); `urge_not_needed`: already answered; `case_not_open`: finished or withdrawn"),
    (status = 429, body = ErrorBody, description = "`urge_too_soon`: urged within the last 24 hours (see Retry-After); `rate_limited`"),
))]
#[post("/mediations/{id}/urge")]
pub async fn urge_mediation(
    state: web::Data<AppState>,
    auth: ResidentWrite<write::Urge>,
    request_id: RequestId,
    id: web::Path<Uuid>,
) -> Result<web::Json<UrgeView>, ApiError> {
    let view = urge(
        &state,
        id.into_inner().into(),
        Some(Service::Mediation),
        Urger::Resident(auth.0),
        Actor::Resident(auth.0),
        None,
        &request_id,
        ErrorCode::MediationNotFound,
    )
    .await?;
    Ok(web::Json(view))
}
