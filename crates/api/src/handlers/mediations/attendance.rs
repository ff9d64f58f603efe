use super::{MediationView, applicant_view};
use crate::error::ErrorCode;
use crate::extract::{ResidentWrite, write};
use crate::handlers::context;
use crate::middleware::RequestId;
use crate::{ApiError, AppState, ErrorBody};
use actix_web::{post, web};
use sansuo_domain::mediation::AttendanceAnswer;
use sansuo_domain::{Actor, CaseId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AttendanceRequest {
    /// Whether you will attend the session.
    pub attending: bool,
    /// Optional, up to 200 characters (e.g. which days suit you instead).
    #[schema(example = "那天要上班，周末可以")]
    pub note: Option<String>,
}

/// Answer whether you will attend a booked session of your mediation. You
/// may change your answer until the session is held; "cannot attend" tells
/// the mediator to reschedule. Only the applicant answers.
#[utoipa::path(tag = "mediations", security(("bearer" = [])), params(("id" = Uuid, Path), ("session_id" = Uuid, Path)), request_body = AttendanceRequest, responses(
    (status = 429, body = ErrorBody, description = "`rate_limited`: too many of these lately; see Retry-After"),
    (status = 200, body = MediationView),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody, description = "`forbidden`: not a resident"),
    (status = 404, body = ErrorBody, description = "`mediation_not_found`: not your mediation, or no such session of it"),
    (status = 409, body = ErrorBody, description = "`state_conflict`: the session is held or cancelled"),
    (status = 422, body = ErrorBody, description = "`validation_failed`: note too long"),
))]
#[post("/mediations/{id}/sessions/{session_id}/attendance")]
pub async fn confirm_attendance(
    state: web::Data<AppState>,
    auth: ResidentWrite<write::AnswerMediation>,
    request_id: RequestId,
    path: web::Path<(Uuid, Uuid)>,
    body: web::Json<AttendanceRequest>,
) -> Result<web::Json<MediationView>, ApiError> {
    let answer = AttendanceAnswer::parse(body.attending, body.note.as_deref())?;
    let (id, session) = path.into_inner();
    let id: CaseId = id.into();
    state
        .store
        .mediations()
        .confirm_attendance(
            id,
            session,
            auth.0,
            &answer,
            context(Actor::Resident(auth.0), &request_id),
        )
        .await
        .map_err(ApiError::store_not_found(ErrorCode::MediationNotFound))?;
    tracing::info!(case_id = %id, session_id = %session, attending = answer.attending(), "attendance answered");
    Ok(web::Json(applicant_view(&state, id, auth.0).await?))
}
