use super::{CannedReplyRequest, CannedReplyView};
use crate::error::ErrorCode;
use crate::extract::StaffAuth;
use crate::{ApiError, AppState, ErrorBody};
use actix_web::{HttpResponse, post, web};
use sansuo_domain::canned_reply::MAX_OWN;
use sansuo_store::canned_replies::{Keeper, NewCannedReply};

/// Keep a canned reply of your own (at most 100).
#[utoipa::path(tag = "staff", security(("bearer" = [])), request_body = CannedReplyRequest, responses(
    (status = 201, body = CannedReplyView),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody, description = "`forbidden`: residents have no canned replies"),
    (status = 422, body = ErrorBody, description = "`validation_failed`: the title or body is empty or too long; `too_many_canned_replies`: you keep 100 already"),
))]
#[post("/staff/canned-replies")]
pub async fn create_own_canned_reply(
    state: web::Data<AppState>,
    auth: StaffAuth,
    body: web::Json<CannedReplyRequest>,
) -> Result<HttpResponse, ApiError> {
    let reply = body.parse()?;
    let stored = state
        .store
        .canned_replies()
        .add(
            NewCannedReply {
                keeper: Keeper::Own(auth.id),
                service: reply.service,
                title: &reply.title,
                body: &reply.body,
                created_by: auth.id,
            },
            MAX_OWN,
            chrono::Utc::now(),
        )
        .await?
        .ok_or_else(|| ApiError::from(ErrorCode::TooManyCannedReplies))?;
    Ok(HttpResponse::Created().json(CannedReplyView::from(stored)))
}
