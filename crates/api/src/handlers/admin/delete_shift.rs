use crate::error::ErrorCode;
use crate::extract::AdminAuth;
use crate::scoped::Scoped;
use crate::{ApiError, AppState, ErrorBody};
use actix_web::{HttpResponse, delete, web};
use sansuo_store::scope::ShiftId;

/// Take a shift off the roster.
#[utoipa::path(tag = "admin", security(("bearer" = [])), params(("id" = Uuid, Path)), responses(
    (status = 204, description = "Removed"),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody),
    (status = 404, body = ErrorBody, description = "`shift_not_found` (also for shifts outside your organisation)"),
))]
#[delete("/admin/duty-shifts/{id}")]
pub async fn delete_shift(
    state: web::Data<AppState>,
    admin: AdminAuth,
    id: Scoped<ShiftId>,
) -> Result<HttpResponse, ApiError> {
    let not_found = || ApiError::new(ErrorCode::ShiftNotFound, "no such shift");
    let shift = state
        .store
        .staffing()
        .duty_shift(id.id().0)
        .await?
        .ok_or_else(not_found)?;
    state.store.staffing().delete_duty_shift(shift.id).await?;
    tracing::info!(admin = %admin.id, shift = %shift.id, "duty shift removed");
    Ok(HttpResponse::NoContent().finish())
}
