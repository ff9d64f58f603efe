use super::lawyer_view;
use crate::error::ErrorCode;
use crate::extract::LawyerAuth;
use crate::handlers::context;
use crate::middleware::RequestId;
use crate::views::ConsultationView;
use crate::{ApiError, AppState, ErrorBody};
use actix_web::{post, web};
use uuid::Uuid;

/// Mark an answered consultation you own as resolved (办结).
#[utoipa::path(tag = "staff", security(("bearer" = [])), params(("id" = Uuid, Path)), responses(
    (status = 200, body = ConsultationView),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody),
    (status = 404, body = ErrorBody, description = "`consultation_not_found`: not yours"),
    (status = 409, body = ErrorBody, description = "`state_conflict`: not answered yet, or already resolved"),
    (status = 503, body = ErrorBody, description = "`audit_unavailable`: the personal data audit could not be written, so the case is not shown with its opened personal data (whatever the request changed stands; read the case again later)"),
))]
#[post("/staff/consultations/{id}/resolve")]
pub async fn resolve_consultation(
    state: web::Data<AppState>,
    auth: LawyerAuth,
    request_id: RequestId,
    id: web::Path<Uuid>,
) -> Result<web::Json<ConsultationView>, ApiError> {
    let id = id.into_inner().into();
    state
        .store
        .consultations()
        .resolve(id, auth.id, context(auth.principal(), &request_id))
        .await
        .map_err(ApiError::store_not_found(ErrorCode::ConsultationNotFound))?;
    Ok(web::Json(lawyer_view(&state, id, &auth).await?))
}
