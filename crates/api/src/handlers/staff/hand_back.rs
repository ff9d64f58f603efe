use crate::error::ErrorCode;
use crate::extract::LawyerAuth;
use crate::handlers::context;
use crate::middleware::RequestId;
use crate::views::CaseStatusView;
use crate::{ApiError, AppState, ErrorBody};
use actix_web::{post, web};
use sansuo_domain::ConsultationStatus;
use sansuo_domain::values::Reason;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HandBackRequest {
    /// Why this is not yours (2 to 500 characters), for the coordinator.
    #[schema(example = "涉及劳动仲裁，非本人专业领域")]
    pub reason: String,
}

/// Hand a case back (退单: "not mine"), before answering it. It is routed
/// again at once; you are not offered it again.
#[utoipa::path(tag = "staff", security(("bearer" = [])), params(("id" = Uuid, Path)), request_body = HandBackRequest, responses(
    (status = 200, body = CaseStatusView),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody),
    (status = 404, body = ErrorBody, description = "`consultation_not_found`: not yours"),
    (status = 409, body = ErrorBody, description = "`state_conflict`: already answered, or no longer yours"),
    (status = 422, body = ErrorBody, description = "`validation_failed`: reason missing or too short"),
))]
#[post("/staff/consultations/{id}/hand-back")]
pub async fn hand_back(
    state: web::Data<AppState>,
    auth: LawyerAuth,
    request_id: RequestId,
    id: web::Path<Uuid>,
    body: web::Json<HandBackRequest>,
) -> Result<web::Json<CaseStatusView>, ApiError> {
    let reason = Reason::parse(&body.reason)?;
    let id = id.into_inner().into();
    state
        .store
        .consultations()
        .hand_back(
            id,
            auth.id,
            reason.as_str(),
            context(auth.principal(), &request_id),
        )
        .await
        .map_err(ApiError::store_not_found(ErrorCode::ConsultationNotFound))?;
    tracing::info!(case_id = %id, "handed back");
    Ok(web::Json(CaseStatusView {
        id: id.as_uuid(),
        status: ConsultationStatus::Pooled.into(),
    }))
}
