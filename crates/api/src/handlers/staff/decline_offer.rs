use crate::error::ErrorCode;
use crate::extract::CaseHandlerAuth;
use crate::handlers::context;
use crate::middleware::RequestId;
use crate::views::CaseStatusView;
use crate::{ApiError, AppState, ErrorBody};
use actix_web::{post, web};
use sansuo_domain::ConsultationStatus;
use sansuo_domain::values::Reason;
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeclineRequest {
    /// Why (2 to 500 characters), for the coordinator.
    #[schema(example = "本周在外地开庭")]
    pub reason: String,
}

/// Decline an offer of any service, with a reason: the case is offered to
/// the next candidate on its step (you are not asked again there), or
/// climbs its ladder. It is `pooled` meanwhile, whatever its service.
#[utoipa::path(tag = "staff", security(("bearer" = [])), params(("id" = Uuid, Path, description = "The offer id")), request_body = DeclineRequest, responses(
    (status = 200, body = CaseStatusView),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody, description = "`forbidden`: not staff who handle cases"),
    (status = 404, body = ErrorBody, description = "`offer_not_found`"),
    (status = 409, body = ErrorBody, description = "`offer_not_pending`"),
    (status = 422, body = ErrorBody, description = "`validation_failed`: reason missing or too short"),
))]
#[post("/staff/offers/{id}/decline")]
pub async fn decline_offer(
    state: web::Data<AppState>,
    auth: CaseHandlerAuth,
    request_id: RequestId,
    id: web::Path<Uuid>,
    body: web::Json<DeclineRequest>,
) -> Result<web::Json<CaseStatusView>, ApiError> {
    let reason = Reason::parse(&body.reason)?;
    let case_id = state
        .store
        .offers()
        .decline(
            id.into_inner().into(),
            auth.id,
            reason.as_str(),
            context(auth.principal(), &request_id),
        )
        .await
        .map_err(ApiError::store_codes(
            ErrorCode::OfferNotFound,
            ErrorCode::OfferNotPending,
        ))?;
    tracing::info!(%case_id, "offer declined");
    Ok(web::Json(CaseStatusView {
        id: case_id.as_uuid(),
        status: ConsultationStatus::Pooled.into(),
    }))
}
