use super::{ExtensionDecision, ExtensionView, refused};
use crate::error::ErrorCode;
use crate::extract::AdminAuth;
use crate::handlers::context;
use crate::middleware::RequestId;
use crate::scoped::{Body, Scoped};
use crate::{ApiError, AppState, ErrorBody};
use actix_web::{post, web};
use sansuo_domain::ExtensionId;
use sansuo_domain::values::Reason;

/// Refuse a pending 延期 (extension): the case's clocks stay as they were;
/// the owner is told (`extension`, `refused`).
#[utoipa::path(tag = "admin", security(("bearer" = [])), params(("id" = Uuid, Path)), request_body = ExtensionDecision, responses(
    (status = 200, body = ExtensionView),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody),
    (status = 404, body = ErrorBody, description = "`extension_not_found`: not in your organisation"),
    (status = 409, body = ErrorBody, description = "`extension_decided`: decided already; `state_conflict`: the case is finished"),
    (status = 422, body = ErrorBody, description = "`validation_failed`"),
))]
#[post("/admin/extensions/{id}/refuse")]
pub async fn refuse_extension(
    state: web::Data<AppState>,
    admin: AdminAuth,
    request_id: RequestId,
    scoped: Scoped<ExtensionId>,
    body: Body<ExtensionDecision>,
) -> Result<web::Json<ExtensionView>, ApiError> {
    let id = scoped.id();
    let note = body.note.as_deref().map(Reason::parse).transpose()?;
    let record = state
        .store
        .supervision()
        .decide_extension(
            id,
            false,
            admin.id,
            note.as_ref().map(Reason::as_str),
            context(admin.principal(), &request_id),
        )
        .await
        .map_err(ApiError::store_not_found(ErrorCode::ExtensionNotFound))?
        .map_err(refused)?;
    tracing::info!(extension_id = %id, staff_id = %admin.id, status = %record.status, "extension decided");
    Ok(web::Json(ExtensionView::from(&record)))
}
