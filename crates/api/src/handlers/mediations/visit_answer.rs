use super::{MediationView, applicant_view};
use crate::error::ErrorCode;
use crate::extract::{ResidentWrite, write};
use crate::handlers::context;
use crate::middleware::RequestId;
use crate::{ApiError, AppState, ErrorBody};
use actix_web::{post, web};
use sansuo_domain::mediation::{Performance, VisitAnswer};
use sansuo_domain::{Actor, CaseId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// Whether the agreement was performed.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PerformanceAnswer {
    Performed,
    Partly,
    NotPerformed,
}

impl From<PerformanceAnswer> for Performance {
    fn from(p: PerformanceAnswer) -> Self {
        match p {
            PerformanceAnswer::Performed => Performance::Performed,
            PerformanceAnswer::Partly => Performance::Partly,
            PerformanceAnswer::NotPerformed => Performance::NotPerformed,
        }
    }
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VisitAnswerRequest {
    pub performance: PerformanceAnswer,
    /// 1 (very dissatisfied) to 5 (very satisfied).
    #[schema(minimum = 1, maximum = 5)]
    pub satisfaction: i64,
    /// Optional, up to 500 characters.
    pub comment: Option<String>,
}

/// Answer the follow-up visit (回访) of your agreement yourself, once,
/// while it is `agreed`: was it performed, how satisfied are you. The
/// mediator sees your answer and still records the official visit that
/// closes the case; the report shows both (`mean_satisfaction` from the
/// visit record, `mean_resident_satisfaction` from answers like this one).
#[utoipa::path(tag = "mediations", security(("bearer" = [])), params(("id" = Uuid, Path)), request_body = VisitAnswerRequest, responses(
    (status = 429, body = ErrorBody, description = "`rate_limited`: too many of these lately; see Retry-After"),
    (status = 200, body = MediationView),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody, description = "`forbidden`: not a resident"),
    (status = 404, body = ErrorBody, description = "`mediation_not_found` (also for other residents' cases)"),
    (status = 409, body = ErrorBody, description = "`already_answered`: you answered before; `state_conflict`: there is no agreement being followed up"),
    (status = 422, body = ErrorBody, description = "`validation_failed`: satisfaction outside 1 to 5, comment too long; `content_risky`: the comment was refused by the content check"),
))]
#[post("/mediations/{id}/visit-answer")]
pub async fn answer_visit(
    state: web::Data<AppState>,
    auth: ResidentWrite<write::AnswerMediation>,
    request_id: RequestId,
    id: web::Path<Uuid>,
    body: web::Json<VisitAnswerRequest>,
) -> Result<web::Json<MediationView>, ApiError> {
    let answer = VisitAnswer::parse(
        body.performance.into(),
        body.satisfaction,
        body.comment.as_deref(),
    )?;
    let found = crate::moderation::screen_comment(&state, auth.0, body.comment.as_deref()).await?;
    let id: CaseId = id.into_inner().into();
    let recorded = state
        .store
        .mediations()
        .answer_visit(
            id,
            auth.0,
            &answer,
            context(Actor::Resident(auth.0), &request_id),
        )
        .await
        .map_err(ApiError::store_not_found(ErrorCode::MediationNotFound))?;
    if !recorded {
        return Err(ApiError::new(
            ErrorCode::AlreadyAnswered,
            "you have answered the follow-up visit already",
        ));
    }
    tracing::info!(case_id = %id, performance = answer.performance().as_str(), "visit answered by the applicant");
    crate::moderation::flag_stored(
        &state,
        sansuo_store::moderation::FlagKind::VisitAnswer,
        id,
        found,
    )
    .await;
    Ok(web::Json(applicant_view(&state, id, auth.0).await?))
}
