use crate::error::ErrorCode;
use crate::extract::AdminAuth;
use crate::handlers::context;
use crate::middleware::RequestId;
use crate::scoped::Scoped;
use crate::{ApiError, AppState, ErrorBody};
use actix_web::{HttpResponse, delete, web};
use sansuo_domain::CaseId;

/// Lift a case's 督办 (supervision) before it ends on its own (it ends when
/// the case is resolved or closed). Any coordinator or administrator over
/// the case may; the history keeps it.
#[utoipa::path(tag = "admin", security(("bearer" = [])), params(("id" = Uuid, Path)), responses(
    (status = 204, description = "Lifted"),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody),
    (status = 404, body = ErrorBody, description = "`case_not_found`: not in your organisation; `supervision_not_found`: not under supervision"),
))]
#[delete("/admin/cases/{id}/supervise")]
pub async fn lift_supervision(
    state: web::Data<AppState>,
    admin: AdminAuth,
    request_id: RequestId,
    scoped: Scoped<CaseId>,
) -> Result<HttpResponse, ApiError> {
    let id = scoped.id();
    let lifted = state
        .store
        .supervision()
        .lift(id, None, context(admin.principal(), &request_id))
        .await
        .map_err(ApiError::store_not_found(ErrorCode::CaseNotFound))?;
    if !lifted {
        return Err(ErrorCode::SupervisionNotFound.into());
    }
    tracing::info!(case_id = %id, staff_id = %admin.id, "supervision lifted");
    Ok(HttpResponse::NoContent().finish())
}
