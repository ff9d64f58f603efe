use super::resident_view;
use crate::error::ErrorCode;
use crate::extract::{ResidentWrite, write};
use crate::handlers::context;
use crate::middleware::RequestId;
use crate::views::ConsultationView;
use crate::{ApiError, AppState, ErrorBody};
use actix_web::{post, web};
use sansuo_domain::Actor;
use sansuo_domain::values::Rating;
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RateRequest {
    /// 1 (poor) to 5 (excellent).
    #[schema(minimum = 1, maximum = 5)]
    pub stars: i64,
    /// Optional, up to 500 characters.
    pub comment: Option<String>,
}

/// Rate the answer (once it is answered); this closes the consultation.
#[utoipa::path(tag = "consultations", security(("bearer" = [])), params(("id" = Uuid, Path)), request_body = RateRequest, responses(
    (status = 429, body = ErrorBody, description = "`rate_limited`: too many of these lately; see Retry-After"),
    (status = 200, body = ConsultationView),
    (status = 401, body = ErrorBody),
    (status = 404, body = ErrorBody, description = "`consultation_not_found`"),
    (status = 409, body = ErrorBody, description = "`state_conflict`: not answered yet, or already rated"),
    (status = 422, body = ErrorBody, description = "`validation_failed`; `content_risky`: the comment was refused by the content check"),
))]
#[post("/consultations/{id}/rating")]
pub async fn rate_consultation(
    state: web::Data<AppState>,
    auth: ResidentWrite<write::RateService>,
    request_id: RequestId,
    id: web::Path<Uuid>,
    body: web::Json<RateRequest>,
) -> Result<web::Json<ConsultationView>, ApiError> {
    let rating = Rating::parse(body.stars, body.comment.as_deref())?;
    let found = crate::moderation::screen_comment(&state, auth.0, body.comment.as_deref()).await?;
    let id = id.into_inner().into();
    state
        .store
        .consultations()
        .rate(
            id,
            auth.0,
            &rating,
            context(Actor::Resident(auth.0), &request_id),
        )
        .await
        .map_err(ApiError::store_not_found(ErrorCode::ConsultationNotFound))?;
    crate::moderation::flag_stored(
        &state,
        sansuo_store::moderation::FlagKind::Rating,
        id,
        found,
    )
    .await;
    Ok(web::Json(resident_view(&state, id, auth.0).await?))
}
