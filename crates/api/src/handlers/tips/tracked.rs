//! An anonymous reporter follows their tip with its tracking token: no
//! login needed, so it works from another phone too, and the request
//! carries nothing that identifies them.

use super::resident::{FollowUpRequest, follow_up};
use super::{TipView, Viewer, tip_view, tracked_tip};
use crate::extract::ClientLang;
use crate::middleware::RequestId;
use crate::{ApiError, AppState, ErrorBody};
use actix_web::{HttpRequest, get, post, web};
use sansuo_domain::Actor;

/// Your anonymous tip, by its tracking token (`X-Tracking-Token`).
#[utoipa::path(tag = "tips", params(("X-Tracking-Token" = String, Header, description = "The token from the report's receipt")), responses(
    (status = 200, body = TipView),
    (status = 401, body = ErrorBody, description = "`unauthenticated`: no token"),
    (status = 404, body = ErrorBody, description = "`tip_not_found`: unknown token"),
))]
#[get("/tips/tracked")]
pub async fn get_tracked_tip(
    state: web::Data<AppState>,
    req: HttpRequest,
    lang: ClientLang,
) -> Result<web::Json<TipView>, ApiError> {
    let record = tracked_tip(&state, &req).await?;
    Ok(web::Json(
        tip_view(&state, record, Viewer::Reporter(lang.0)).await?,
    ))
}

/// Add to your anonymous tip; a closed or unfounded tip is reopened.
#[utoipa::path(tag = "tips", params(("X-Tracking-Token" = String, Header)), request_body = FollowUpRequest, responses(
    (status = 200, body = TipView),
    (status = 401, body = ErrorBody),
    (status = 404, body = ErrorBody, description = "`tip_not_found`"),
    (status = 409, body = ErrorBody, description = "`tip_not_open`"),
    (status = 422, body = ErrorBody, description = "`validation_failed`"),
    (status = 429, body = ErrorBody, description = "`rate_limited`"),
))]
#[post("/tips/tracked/follow-ups")]
pub async fn follow_up_tracked_tip(
    state: web::Data<AppState>,
    request_id: RequestId,
    req: HttpRequest,
    body: web::Json<FollowUpRequest>,
    lang: ClientLang,
) -> Result<web::Json<TipView>, ApiError> {
    let record = tracked_tip(&state, &req).await?;
    let id = record.id();
    follow_up(&state, id, &body, Actor::AnonymousReporter, &request_id).await?;
    let record = state
        .store
        .tips()
        .get(id)
        .await?
        .ok_or_else(super::tip_not_found)?;
    Ok(web::Json(
        tip_view(&state, record, Viewer::Reporter(lang.0)).await?,
    ))
}
