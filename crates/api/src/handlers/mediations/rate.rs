use super::{MediationView, applicant_view};
use crate::error::ErrorCode;
use crate::extract::{ResidentWrite, write};
use crate::handlers::context;
use crate::middleware::RequestId;
use crate::{ApiError, AppState, ErrorBody};
use actix_web::{post, web};
use sansuo_domain::values::Rating;
use sansuo_domain::{Actor, CaseId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RateMediationRequest {
    /// 1 (poor) to 5 (excellent).
    #[schema(minimum = 1, maximum = 5)]
    pub stars: i64,
    /// Optional, up to 500 characters.
    pub comment: Option<String>,
}

/// Rate the mediation service, once, after its outcome (agreed, terminated
/// or closed). The rating is shown to the mediator, in the case file and
/// in the programme report's `mean_rating`.
#[utoipa::path(tag = "mediations", security(("bearer" = [])), params(("id" = Uuid, Path)), request_body = RateMediationRequest, responses(
    (status = 429, body = ErrorBody, description = "`rate_limited`: too many of these lately; see Retry-After"),
    (status = 200, body = MediationView),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody, description = "`forbidden`: not a resident"),
    (status = 404, body = ErrorBody, description = "`mediation_not_found` (also for other residents' cases)"),
    (status = 409, body = ErrorBody, description = "`already_rated`: you rated it before (the first rating stands); `state_conflict`: no outcome yet"),
    (status = 422, body = ErrorBody, description = "`validation_failed`: stars outside 1 to 5, comment too long; `content_risky`: the comment was refused by the content check"),
))]
#[post("/mediations/{id}/rating")]
pub async fn rate_mediation(
    state: web::Data<AppState>,
    auth: ResidentWrite<write::RateService>,
    request_id: RequestId,
    id: web::Path<Uuid>,
    body: web::Json<RateMediationRequest>,
) -> Result<web::Json<MediationView>, ApiError> {
    let rating = Rating::parse(body.stars, body.comment.as_deref())?;
    let found = crate::moderation::screen_comment(&state, auth.0, body.comment.as_deref()).await?;
    let id: CaseId = id.into_inner().into();
    let recorded = state
        .store
        .mediations()
        .rate(
            id,
            auth.0,
            &rating,
            context(Actor::Resident(auth.0), &request_id),
        )
        .await
        .map_err(ApiError::store_not_found(ErrorCode::MediationNotFound))?;
    if !recorded {
        return Err(ApiError::new(
            ErrorCode::AlreadyRated,
            "you have rated this mediation already",
        ));
    }
    tracing::info!(case_id = %id, "mediation rated");
    crate::moderation::flag_stored(
        &state,
        sansuo_store::moderation::FlagKind::Rating,
        id,
        found,
    )
    .await;
    Ok(web::Json(applicant_view(&state, id, auth.0).await?))
}
