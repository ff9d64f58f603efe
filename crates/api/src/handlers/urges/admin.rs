use super::{UrgeView, urge};
use crate::error::ErrorCode;
use crate::extract::AdminAuth;
use crate::middleware::RequestId;
use crate::scoped::{Body, Scoped};
use crate::{ApiError, AppState, ErrorBody};
use actix_web::{post, web};
use sansuo_domain::CaseId;
use sansuo_domain::values::Reason;
use sansuo_store::urges::Urger;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AdminUrgeRequest {
    /// Optional, 2 to 500 characters, kept in the case's internal history.
    #[schema(example = "居民多次来电，请今日内答复")]
    pub note: Option<String>,
}

/// 催办 by a coordinator: nudge any open case (any service) in your
/// subtree, at any time. Whoever has it — its owner, or whoever holds its
/// open offer — is told on their event stream.
#[utoipa::path(tag = "admin", security(("bearer" = [])), params(("id" = Uuid, Path)), request_body = AdminUrgeRequest, responses(
    (status = 200, body = UrgeView),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody),
    (status = 404, body = ErrorBody, description = "`case_not_found`: not in your organisation"),
    (status = 409, body = ErrorBody, description = "`case_not_open`: finished or withdrawn; `state_conflict`: urged at the same moment by someone else"),
    (status = 422, body = ErrorBody, description = "`validation_failed`"),
))]
#[post("/admin/cases/{id}/urge")]
pub async fn urge_case(
    state: web::Data<AppState>,
    admin: AdminAuth,
    request_id: RequestId,
    scoped: Scoped<CaseId>,
    body: Body<AdminUrgeRequest>,
) -> Result<web::Json<UrgeView>, ApiError> {
    let note = body.note.as_deref().map(Reason::parse).transpose()?;
    let view = urge(
        &state,
        scoped.id(),
        None,
        Urger::Coordinator,
        admin.principal().into(),
        note.as_ref().map(Reason::as_str),
        &request_id,
        ErrorCode::CaseNotFound,
    )
    .await?;
    Ok(web::Json(view))
}
