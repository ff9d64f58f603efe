use super::resident_view;
use crate::error::ErrorCode;
use crate::extract::{ResidentWrite, write};
use crate::handlers::context;
use crate::middleware::RequestId;
use crate::views::ConsultationView;
use crate::{ApiError, AppState, ErrorBody};
use actix_web::{post, web};
use sansuo_domain::Actor;
use sansuo_domain::values::Reason;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReopenRequest {
    /// What is still open (2 to 500 characters).
    #[schema(example = "对方仍未退还押金，想再咨询下一步")]
    pub reason: String,
}

/// Reopen a resolved consultation you have not rated yet. It goes back to
/// the lawyer who resolved it if they can take it, otherwise to routing.
#[utoipa::path(tag = "consultations", security(("bearer" = [])), params(("id" = Uuid, Path)), request_body = ReopenRequest, responses(
    (status = 429, body = ErrorBody, description = "`rate_limited`: too many of these lately; see Retry-After"),
    (status = 200, body = ConsultationView),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody),
    (status = 404, body = ErrorBody, description = "`consultation_not_found`"),
    (status = 409, body = ErrorBody, description = "`state_conflict`: not resolved, or already rated"),
    (status = 422, body = ErrorBody, description = "`validation_failed`; `content_risky`: the reason was refused by the content check (a doubtful one is kept and queued for review)"),
))]
#[post("/consultations/{id}/reopen")]
pub async fn reopen_consultation(
    state: web::Data<AppState>,
    auth: ResidentWrite<write::ChangeCase>,
    request_id: RequestId,
    id: web::Path<Uuid>,
    body: web::Json<ReopenRequest>,
) -> Result<web::Json<ConsultationView>, ApiError> {
    let reason = Reason::parse(&body.reason)?;
    // The lawyer reads the reason: checked like a rating's comment.
    let found = crate::moderation::screen_comment(&state, auth.0, Some(reason.as_str())).await?;
    let id = id.into_inner().into();
    state
        .store
        .consultations()
        .reopen(
            id,
            reason.as_str(),
            context(Actor::Resident(auth.0), &request_id),
        )
        .await
        .map_err(ApiError::store_not_found(ErrorCode::ConsultationNotFound))?;
    crate::moderation::flag_stored(
        &state,
        sansuo_store::moderation::FlagKind::Reopen,
        id,
        found,
    )
    .await;
    Ok(web::Json(resident_view(&state, id, auth.0).await?))
}
