//! The officer hands a tip back (退单).
use crate::error::ErrorCode;
use crate::extract::OfficerAuth;
use crate::handlers::context;
use crate::handlers::staff::hand_back::HandBackRequest;
use crate::middleware::RequestId;
use crate::{ApiError, AppState, ErrorBody};
use actix_web::{HttpResponse, post, web};
use sansuo_domain::CaseId;
use sansuo_domain::values::Reason;
use uuid::Uuid;

/// Hand a tip back (退单: "not mine": wrong area or kind of matter, a
/// conflict of interest) after signing for it and before triage. It is
/// routed again at once; you are not offered it again. The reason stays
/// with staff; the reporter sees the tip waiting again.
#[utoipa::path(tag = "tips", security(("bearer" = [])), params(("id" = Uuid, Path)), request_body = HandBackRequest, responses(
    (status = 204, description = "Handed back; the tip is no longer yours"),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody, description = "`forbidden`: not an officer"),
    (status = 404, body = ErrorBody, description = "`tip_not_found`: not yours"),
    (status = 409, body = ErrorBody, description = "`state_conflict`: already triaged"),
    (status = 422, body = ErrorBody, description = "`validation_failed`: reason missing or too short"),
))]
#[post("/staff/tips/{id}/hand-back")]
pub async fn hand_back_tip(
    state: web::Data<AppState>,
    auth: OfficerAuth,
    request_id: RequestId,
    id: web::Path<Uuid>,
    body: web::Json<HandBackRequest>,
) -> Result<HttpResponse, ApiError> {
    let id: CaseId = id.into_inner().into();
    let reason = Reason::parse(&body.reason)?;
    state
        .store
        .tips()
        .hand_back(
            id,
            auth.id,
            reason.as_str(),
            context(auth.principal(), &request_id),
        )
        .await
        .map_err(ApiError::store_not_found(ErrorCode::TipNotFound))?;
    tracing::info!(case_id = %id, "tip handed back");
    Ok(HttpResponse::NoContent().finish())
}
