use super::resident_view;
use crate::error::ErrorCode;
use crate::extract::{ResidentWrite, write};
use crate::handlers::context;
use crate::middleware::RequestId;
use crate::views::ConsultationView;
use crate::{ApiError, AppState, ErrorBody};
use actix_web::{post, web};
use sansuo_domain::Actor;
use uuid::Uuid;

/// Withdraw a consultation that has not been answered yet.
#[utoipa::path(tag = "consultations", security(("bearer" = [])), params(("id" = Uuid, Path)), responses(
    (status = 429, body = ErrorBody, description = "`rate_limited`: too many of these lately; see Retry-After"),
    (status = 200, body = ConsultationView),
    (status = 401, body = ErrorBody),
    (status = 404, body = ErrorBody, description = "`consultation_not_found`"),
    (status = 409, body = ErrorBody, description = "`state_conflict`: already answered, closed or withdrawn"),
))]
#[post("/consultations/{id}/withdraw")]
pub async fn withdraw_consultation(
    state: web::Data<AppState>,
    auth: ResidentWrite<write::ChangeCase>,
    request_id: RequestId,
    id: web::Path<Uuid>,
) -> Result<web::Json<ConsultationView>, ApiError> {
    let id = id.into_inner().into();
    state
        .store
        .consultations()
        .withdraw(id, auth.0, context(Actor::Resident(auth.0), &request_id))
        .await
        .map_err(ApiError::store_not_found(ErrorCode::ConsultationNotFound))?;
    Ok(web::Json(resident_view(&state, id, auth.0).await?))
}
