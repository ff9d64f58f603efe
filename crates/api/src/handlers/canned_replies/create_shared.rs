use super::{CannedReplyRequest, CannedReplyView};
use crate::error::ErrorCode;
use crate::extract::AdminAuth;
use crate::scoped::{Body, Scoped};
use crate::{ApiError, AppState, ErrorBody};
use actix_web::{HttpResponse, post, web};
use sansuo_domain::OrgUnitId;
use sansuo_domain::canned_reply::MAX_SHARED_PER_UNIT;
use sansuo_store::canned_replies::{Keeper, NewCannedReply};

/// Share a canned reply with the staff of a unit and of every unit below
/// it (at most 100 per unit).
#[utoipa::path(tag = "admin", security(("bearer" = [])), params(("id" = Uuid, Path, description = "The org unit that shares it")), request_body = CannedReplyRequest, responses(
    (status = 201, body = CannedReplyView),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody, description = "`forbidden`: for coordinators and administrators"),
    (status = 404, body = ErrorBody, description = "`org_unit_not_found`: no such unit in your subtree"),
    (status = 422, body = ErrorBody, description = "`validation_failed`: the title or body is empty or too long; `too_many_canned_replies`: the unit shares 100 already"),
))]
#[post("/admin/org-units/{id}/canned-replies")]
pub async fn create_shared_canned_reply(
    state: web::Data<AppState>,
    admin: AdminAuth,
    unit: Scoped<OrgUnitId>,
    body: Body<CannedReplyRequest>,
) -> Result<HttpResponse, ApiError> {
    let reply = body.parse()?;
    let stored = state
        .store
        .canned_replies()
        .add(
            NewCannedReply {
                keeper: Keeper::Unit(unit.id()),
                service: reply.service,
                title: &reply.title,
                body: &reply.body,
                created_by: admin.id,
            },
            MAX_SHARED_PER_UNIT,
            chrono::Utc::now(),
        )
        .await?
        .ok_or_else(|| ApiError::from(ErrorCode::TooManyCannedReplies))?;
    tracing::info!(admin = %admin.id, reply = %stored.id, "shared canned reply added");
    Ok(HttpResponse::Created().json(CannedReplyView::from(stored)))
}
