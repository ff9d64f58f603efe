//! The mediator hands a mediation back (退单).
use crate::error::ErrorCode;
use crate::extract::MediatorAuth;
use crate::handlers::context;
use crate::handlers::staff::hand_back::HandBackRequest;
use crate::middleware::RequestId;
use crate::{ApiError, AppState, ErrorBody};
use actix_web::{HttpResponse, post, web};
use sansuo_domain::CaseId;
use sansuo_domain::values::Reason;
use uuid::Uuid;

/// Hand a mediation back (退单: "not mine": wrong category or area, a
/// conflict of interest) while it is untouched: no session ever held, no
/// outcome recorded. Sessions booked but not yet held are cancelled (their
/// room slots freed, the resident told). It is routed
/// again on the same tier at once; you are not offered it again. The reason
/// stays with staff; the parties see the case waiting again.
#[utoipa::path(tag = "mediations", security(("bearer" = [])), params(("id" = Uuid, Path)), request_body = HandBackRequest, responses(
    (status = 204, description = "Handed back; the case is no longer yours"),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody, description = "`forbidden`: not a mediator"),
    (status = 404, body = ErrorBody, description = "`mediation_not_found`: not yours"),
    (status = 409, body = ErrorBody, description = "`state_conflict`: a session was held or an outcome recorded"),
    (status = 422, body = ErrorBody, description = "`validation_failed`: reason missing or too short"),
))]
#[post("/staff/mediations/{id}/hand-back")]
pub async fn hand_back_mediation(
    state: web::Data<AppState>,
    auth: MediatorAuth,
    request_id: RequestId,
    id: web::Path<Uuid>,
    body: web::Json<HandBackRequest>,
) -> Result<HttpResponse, ApiError> {
    let id: CaseId = id.into_inner().into();
    let reason = Reason::parse(&body.reason)?;
    state
        .store
        .mediations()
        .hand_back(
            id,
            auth.id,
            reason.as_str(),
            context(auth.principal(), &request_id),
        )
        .await
        .map_err(ApiError::store_not_found(ErrorCode::MediationNotFound))?;
    tracing::info!(case_id = %id, "mediation handed back");
    Ok(HttpResponse::NoContent().finish())
}
