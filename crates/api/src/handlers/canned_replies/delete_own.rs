use crate::error::ErrorCode;
use crate::extract::StaffAuth;
use crate::{ApiError, AppState, ErrorBody};
use actix_web::{HttpResponse, delete, web};
use sansuo_store::canned_replies::Keeper;
use uuid::Uuid;

/// Delete one of your own canned replies.
#[utoipa::path(tag = "staff", security(("bearer" = [])), params(("id" = Uuid, Path)), responses(
    (status = 204, description = "Deleted"),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody, description = "`forbidden`: residents have no canned replies"),
    (status = 404, body = ErrorBody, description = "`canned_reply_not_found`: no such reply of yours (someone else's, or a shared one, reads the same)"),
))]
#[delete("/staff/canned-replies/{id}")]
pub async fn delete_own_canned_reply(
    state: web::Data<AppState>,
    auth: StaffAuth,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let removed = state
        .store
        .canned_replies()
        .delete(id.into_inner(), Keeper::Own(auth.id))
        .await?;
    if !removed {
        return Err(ApiError::from(ErrorCode::CannedReplyNotFound));
    }
    Ok(HttpResponse::NoContent().finish())
}
