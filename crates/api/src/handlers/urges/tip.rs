//! 催办 on a tip: by its named reporter, or by the anonymous reporter with
//! the tip's tracking token (the urge then carries nothing of them: the
//! history says `reporter`, without an id or the request's id).

use super::{UrgeView, urge};
use crate::error::ErrorCode;
use crate::extract::{ResidentWrite, write};
use crate::handlers::tips::tracked_tip;
use crate::middleware::RequestId;
use crate::{ApiError, AppState, ErrorBody};
use actix_web::{HttpRequest, post, web};
use sansuo_domain::Actor;
use sansuo_domain::catalog::Service;
use sansuo_store::urges::Urger;
use uuid::Uuid;

/// 催办: nudge your tip once its first-response time has passed without an
/// answer; the officer who has it is told. Once per 24 hours.
#[utoipa::path(tag = "tips", security(("bearer" = [])), params(("id" = Uuid, Path)), responses(
    (status = 200, body = UrgeView),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody),
    (status = 404, body = ErrorBody, description = "`tip_not_found` (also someone else's)"),
    (status = 409, body = ErrorBody, description = "`urge_too_early`: the first-response time has not passed (the message says when it does); `urge_not_needed`: already answered; `case_not_open`: closed"),
    (status = 429, body = ErrorBody, description = "`urge_too_soon`: urged within the last 24 hours (see Retry-After); `rate_limited`"),
))]
#[post("/tips/{id}/urge")]
pub async fn urge_my_tip(
    state: web::Data<AppState>,
    auth: ResidentWrite<write::Urge>,
    request_id: RequestId,
    id: web::Path<Uuid>,
) -> Result<web::Json<UrgeView>, ApiError> {
    let view = urge(
        &state,
        id.into_inner().into(),
        Some(Service::Tip),
        Urger::Resident(auth.0),
        Actor::Resident(auth.0),
        None,
        &request_id,
        ErrorCode::TipNotFound,
    )
    .await?;
    Ok(web::Json(view))
}

/// 催办 on your anonymous tip, by its tracking token (`X-Tracking-Token`).
/// Same rules as a named tip's; nothing of you is kept with it.
#[utoipa::path(tag = "tips", params(("X-Tracking-Token" = String, Header, description = "The token from the report's receipt")), responses(
    (status = 200, body = UrgeView),
    (status = 401, body = ErrorBody, description = "`unauthenticated`: no token"),
    (status = 404, body = ErrorBody, description = "`tip_not_found`: unknown token"),
    (status = 409, body = ErrorBody, description = "`urge_too_early`, `urge_not_needed` or `case_not_open`"),
    (status = 429, body = ErrorBody, description = "`urge_too_soon`: urged within the last 24 hours (see Retry-After)"),
))]
#[post("/tips/tracked/urge")]
pub async fn urge_tracked_tip(
    state: web::Data<AppState>,
    request_id: RequestId,
    req: HttpRequest,
) -> Result<web::Json<UrgeView>, ApiError> {
    let record = tracked_tip(&state, &req).await?;
    let view = urge(
        &state,
        record.id(),
        Some(Service::Tip),
        Urger::Reporter,
        Actor::AnonymousReporter,
        None,
        &request_id,
        ErrorCode::TipNotFound,
    )
    .await?;
    Ok(web::Json(view))
}
