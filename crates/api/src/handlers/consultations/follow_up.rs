use super::resident_view;
use crate::error::ErrorCode;
use crate::extract::{ResidentWrite, write};
use crate::handlers::context;
use crate::middleware::RequestId;
use crate::views::ConsultationView;
use crate::{ApiError, AppState, ErrorBody};
use actix_web::{HttpResponse, post, web};
use sansuo_domain::Actor;
use sansuo_domain::values::MessageBody;
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FollowUpRequest {
    /// 1 to 2000 characters.
    pub body: String,
}

/// Add a follow-up question or detail to the thread.
#[utoipa::path(tag = "consultations", security(("bearer" = [])), params(("id" = Uuid, Path)), request_body = FollowUpRequest, responses(
    (status = 429, body = ErrorBody, description = "`rate_limited`: too many of these lately; see Retry-After"),
    (status = 201, body = ConsultationView),
    (status = 401, body = ErrorBody),
    (status = 404, body = ErrorBody, description = "`consultation_not_found`"),
    (status = 409, body = ErrorBody, description = "`state_conflict`: closed, withdrawn or resolved"),
    (status = 422, body = ErrorBody, description = "`validation_failed`"),
))]
#[post("/consultations/{id}/messages")]
pub async fn post_follow_up(
    state: web::Data<AppState>,
    auth: ResidentWrite<write::ConsultationMessage>,
    request_id: RequestId,
    id: web::Path<Uuid>,
    body: web::Json<FollowUpRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = MessageBody::parse(&body.body)?;
    let id = id.into_inner().into();
    let moderation = crate::moderation::screen(&state, auth.0, body.as_str()).await?;
    state
        .store
        .consultations()
        .post_follow_up(
            id,
            auth.0,
            &body,
            moderation,
            context(Actor::Resident(auth.0), &request_id),
        )
        .await
        .map_err(ApiError::store_not_found(ErrorCode::ConsultationNotFound))?;
    Ok(HttpResponse::Created().json(resident_view(&state, id, auth.0).await?))
}
