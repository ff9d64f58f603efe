use super::{ExtensionRequest, ExtensionView, request};
use crate::error::ErrorCode;
use crate::extract::MediatorAuth;
use crate::middleware::RequestId;
use crate::{ApiError, AppState, ErrorBody};
use actix_web::{HttpResponse, post, web};
use sansuo_domain::catalog::Service;
use uuid::Uuid;

/// 延期: ask a coordinator for more business time on the resolution
/// target of a mediation you own, with a reason. One request waits at a time.
#[utoipa::path(tag = "mediations", security(("bearer" = [])), params(("id" = Uuid, Path)), request_body = ExtensionRequest, responses(
    (status = 201, body = ExtensionView),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody, description = "`forbidden`: not a mediator"),
    (status = 404, body = ErrorBody, description = "`mediation_not_found`: not yours"),
    (status = 409, body = ErrorBody, description = "`extension_pending`: a request waits for a decision; `state_conflict`: finished"),
    (status = 422, body = ErrorBody, description = "`validation_failed`: reason or extra_hours out of bounds"),
))]
#[post("/staff/mediations/{id}/extension")]
pub async fn request_mediation_extension(
    state: web::Data<AppState>,
    auth: MediatorAuth,
    request_id: RequestId,
    id: web::Path<Uuid>,
    body: web::Json<ExtensionRequest>,
) -> Result<HttpResponse, ApiError> {
    let view = request(
        &state,
        id.into_inner().into(),
        Service::Mediation,
        auth.id,
        auth.principal().into(),
        &body,
        &request_id,
        ErrorCode::MediationNotFound,
    )
    .await?;
    Ok(HttpResponse::Created().json(view))
}
