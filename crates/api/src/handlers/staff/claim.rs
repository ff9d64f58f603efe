use super::{lawyer_view, pool_units};
use crate::error::ErrorCode;
use crate::extract::LawyerAuth;
use crate::handlers::context;
use crate::middleware::RequestId;
use crate::views::ConsultationView;
use crate::{ApiError, AppState, ErrorBody};
use actix_web::{post, web};
use sansuo_domain::ConsultationStatus;
use uuid::Uuid;

/// Take a consultation from the pool. Of two lawyers claiming at once,
/// exactly one gets it; the other gets 409.
#[utoipa::path(tag = "staff", security(("bearer" = [])), params(("id" = Uuid, Path)), responses(
    (status = 200, body = ConsultationView),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody),
    (status = 404, body = ErrorBody, description = "`consultation_not_found`: not in a pool you serve"),
    (status = 409, body = ErrorBody, description = "`state_conflict`: someone else took it, or it is no longer pooled"),
    (status = 503, body = ErrorBody, description = "`audit_unavailable`: the personal data audit could not be written, so the case is not shown with its opened personal data (whatever the request changed stands; read the case again later)"),
))]
#[post("/staff/consultations/{id}/claim")]
pub async fn claim_consultation(
    state: web::Data<AppState>,
    auth: LawyerAuth,
    request_id: RequestId,
    id: web::Path<Uuid>,
) -> Result<web::Json<ConsultationView>, ApiError> {
    let id = id.into_inner().into();
    // Visible as "in a pool you serve" whatever its status now: a lawyer
    // who lost the race to a colleague learns it was taken (409), not that
    // it never existed (404).
    let record = state
        .store
        .consultations()
        .get(id)
        .await?
        .ok_or_else(ApiError::consultation_not_found)?;
    let units = pool_units(&state, &auth).await?;
    if !record.case.pool_unit_id.is_some_and(|u| units.contains(&u)) {
        return Err(ApiError::consultation_not_found());
    }
    if record.status() != ConsultationStatus::Pooled {
        return Err(ApiError::new(
            ErrorCode::StateConflict,
            format!("the consultation is {}, not in the pool", record.status()),
        ));
    }
    state
        .store
        .consultations()
        .claim(id, auth.id, context(auth.principal(), &request_id))
        .await
        .map_err(ApiError::store_not_found(ErrorCode::ConsultationNotFound))?;
    tracing::info!(case_id = %id, "claimed from pool");
    Ok(web::Json(lawyer_view(&state, id, &auth).await?))
}
