use crate::error::ErrorCode;
use crate::extract::AdminAuth;
use crate::{ApiError, AppState, ErrorBody};
use actix_web::{HttpResponse, delete, web};
use sansuo_store::canned_replies::Keeper;
use uuid::Uuid;

/// Stop sharing a unit's canned reply.
#[utoipa::path(tag = "admin", security(("bearer" = [])), params(("id" = Uuid, Path)), responses(
    (status = 204, description = "Deleted"),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody, description = "`forbidden`: for coordinators and administrators"),
    (status = 404, body = ErrorBody, description = "`canned_reply_not_found`: no such shared reply in your subtree (a staff member's own reply reads the same)"),
))]
#[delete("/admin/canned-replies/{id}")]
pub async fn delete_shared_canned_reply(
    state: web::Data<AppState>,
    admin: AdminAuth,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let not_found = || ApiError::from(ErrorCode::CannedReplyNotFound);
    let reply = state
        .store
        .canned_replies()
        .get(id.into_inner())
        .await?
        .ok_or_else(not_found)?;
    let Keeper::Unit(unit) = reply.keeper else {
        return Err(not_found());
    };
    crate::scoped::resolve(&state, admin.scope, unit, ErrorCode::CannedReplyNotFound).await?;
    if !state
        .store
        .canned_replies()
        .delete(reply.id, reply.keeper)
        .await?
    {
        return Err(not_found());
    }
    tracing::info!(admin = %admin.id, reply = %reply.id, "shared canned reply removed");
    Ok(HttpResponse::NoContent().finish())
}
