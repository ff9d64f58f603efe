use super::{MediationView, applicant_view};
use crate::error::ErrorCode;
use crate::extract::{ResidentWrite, write};
use crate::handlers::context;
use crate::middleware::RequestId;
use crate::{ApiError, AppState, ErrorBody};
use actix_web::{HttpResponse, post, web};
use sansuo_domain::values::MessageBody;
use sansuo_domain::{Actor, CaseId};
use sansuo_store::mediations::ThreadAuthor;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MediationMessageRequest {
    /// 1 to 2000 characters.
    #[schema(example = "对方这周一直不在家，能否改到下周？")]
    pub body: String,
}

/// Write to your mediator in the mediation's thread. Your text passes the
/// same content check as a consultation's; a held message shows to you
/// with its `moderation` and reaches the mediator once it passes.
#[utoipa::path(tag = "mediations", security(("bearer" = [])), params(("id" = Uuid, Path)), request_body = MediationMessageRequest, responses(
    (status = 429, body = ErrorBody, description = "`rate_limited`: too many of these lately; see Retry-After"),
    (status = 201, body = MediationView),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody, description = "`forbidden`: not a resident"),
    (status = 404, body = ErrorBody, description = "`mediation_not_found` (also for other residents' cases)"),
    (status = 409, body = ErrorBody, description = "`state_conflict`: refused, withdrawn or closed"),
    (status = 422, body = ErrorBody, description = "`validation_failed`: empty or too long; `content_risky`: the text breaks the content rules"),
))]
#[post("/mediations/{id}/messages")]
pub async fn post_mediation_message(
    state: web::Data<AppState>,
    auth: ResidentWrite<write::MediationMessage>,
    request_id: RequestId,
    id: web::Path<Uuid>,
    body: web::Json<MediationMessageRequest>,
) -> Result<HttpResponse, ApiError> {
    let id: CaseId = id.into_inner().into();
    // Another resident's case answers 404 before anything about the text.
    state
        .store
        .mediations()
        .get(id)
        .await?
        .filter(|r| r.case.resident_id == Some(auth.0.as_uuid()))
        .ok_or_else(super::mediation_not_found)?;
    let text = MessageBody::parse(&body.body)?;
    let moderation = crate::moderation::screen(&state, auth.0, text.as_str()).await?;
    state
        .store
        .mediations()
        .post_message(
            id,
            ThreadAuthor::Applicant(auth.0, moderation),
            &text,
            context(Actor::Resident(auth.0), &request_id),
        )
        .await
        .map_err(ApiError::store_not_found(ErrorCode::MediationNotFound))?;
    Ok(HttpResponse::Created().json(applicant_view(&state, id, auth.0).await?))
}
