//! After the first session: record sessions held, the outcome (agreement or
//! termination), judicial confirmation, the follow-up visit; escalate to the
//! next tier or flag a public-order risk. All by the mediator who owns it.
use crate::error::ErrorCode;

use super::staff::{owned_mediation, staff_mediation_view};
use super::{MediationView, bounded_text};
use crate::extract::MediatorAuth;
use crate::handlers::context;
use crate::middleware::RequestId;
use crate::{ApiError, AppState, ErrorBody};
use actix_web::{post, web};
use chrono::NaiveDate;
use sansuo_domain::mediation::{Outcome, Performance as Found};
use sansuo_domain::values::Reason;
use sansuo_domain::{CaseId, ValidationError};
use sansuo_store::mediations::Agreement;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HeldSessionRequest {
    /// Who attended (up to 500 characters).
    pub attendees: String,
    /// The minutes (笔录), up to 5000 characters.
    pub minutes: String,
}

/// Record a booked session as held: attendees and minutes. Not before the
/// session has begun (409 `session_not_started`).
#[utoipa::path(tag = "mediations", security(("bearer" = [])), params(("id" = Uuid, Path), ("session_id" = Uuid, Path)), request_body = HeldSessionRequest, responses(
    (status = 200, body = MediationView),
    (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    (status = 404, body = ErrorBody, description = "`mediation_not_found`: not yours, or no such scheduled session"),
    (status = 409, body = ErrorBody, description = "`session_not_started`: the session starts later; `state_conflict`: changed meanwhile"),
    (status = 422, body = ErrorBody, description = "`validation_failed`"),
    (status = 503, body = ErrorBody, description = "`audit_unavailable`: the personal data audit could not be written, so the case is not shown with its opened personal data (whatever the request changed stands; read the case again later)"),
))]
#[post("/staff/mediations/{id}/sessions/{session_id}/held")]
pub async fn session_held(
    state: web::Data<AppState>,
    auth: MediatorAuth,
    request_id: RequestId,
    path: web::Path<(Uuid, Uuid)>,
    body: web::Json<HeldSessionRequest>,
) -> Result<web::Json<MediationView>, ApiError> {
    let (id, session) = path.into_inner();
    let id: CaseId = id.into();
    let record = owned_mediation(&state, id, &auth).await?;
    let attendees = bounded_text("attendees", &body.attendees, 2, 500)?;
    let minutes = bounded_text("minutes", &body.minutes, 2, 5000)?;
    // A session's time never changes (a reschedule books a new one), so
    // once begun it stays begun: checking before the write is enough.
    if let Some(booked) = record.sessions.iter().find(|s| s.id == session) {
        sansuo_domain::mediation::check_holdable(booked.starts_at, chrono::Utc::now())
            .map_err(|e| ApiError::new(ErrorCode::SessionNotStarted, e.to_string()))?;
    }
    state
        .store
        .mediations()
        .hold_session(
            id,
            session,
            auth.id,
            &attendees,
            &minutes,
            context(auth.principal(), &request_id),
        )
        .await
        .map_err(ApiError::store_not_found(ErrorCode::MediationNotFound))?;
    Ok(web::Json(staff_mediation_view(&state, id, &auth).await?))
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AgreementKind {
    Written,
    Oral,
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AgreementRequest {
    pub kind: AgreementKind,
    /// The terms, up to 5000 characters.
    pub terms: String,
    /// How it is to be performed (paid in instalments, repaired by ...), up to 500 characters.
    pub performance_method: String,
    /// By when it is to be performed; the follow-up visit falls due a week later.
    pub perform_by: Option<NaiveDate>,
    /// The day it takes effect (signed, or stated for an oral agreement).
    pub effective_on: NaiveDate,
}

/// Record the outcome: an agreement (调解协议). The judicial-confirmation
/// deadline and the visit date are computed and shown.
#[utoipa::path(tag = "mediations", security(("bearer" = [])), params(("id" = Uuid, Path)), request_body = AgreementRequest, responses(
    (status = 200, body = MediationView),
    (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    (status = 404, body = ErrorBody, description = "`mediation_not_found`"),
    (status = 409, body = ErrorBody, description = "`state_conflict`: no session held yet, or already concluded"),
    (status = 422, body = ErrorBody, description = "`validation_failed`"),
    (status = 503, body = ErrorBody, description = "`audit_unavailable`: the personal data audit could not be written, so the case is not shown with its opened personal data (whatever the request changed stands; read the case again later)"),
))]
#[post("/staff/mediations/{id}/agreement")]
pub async fn record_agreement(
    state: web::Data<AppState>,
    auth: MediatorAuth,
    request_id: RequestId,
    id: web::Path<Uuid>,
    body: web::Json<AgreementRequest>,
) -> Result<web::Json<MediationView>, ApiError> {
    let id: CaseId = id.into_inner().into();
    let agreement = Agreement {
        kind: match body.kind {
            AgreementKind::Written => Outcome::AgreementWritten,
            AgreementKind::Oral => Outcome::AgreementOral,
        },
        terms: bounded_text("terms", &body.terms, 2, 5000)?,
        performance_method: bounded_text("performance_method", &body.performance_method, 2, 500)?,
        perform_by: body.perform_by,
        effective_on: body.effective_on,
    };
    state
        .store
        .mediations()
        .record_agreement(
            id,
            auth.id,
            &agreement,
            context(auth.principal(), &request_id),
        )
        .await
        .map_err(ApiError::store_not_found(ErrorCode::MediationNotFound))?;
    Ok(web::Json(staff_mediation_view(&state, id, &auth).await?))
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum OtherRoute {
    Arbitration,
    Administrative,
    Court,
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TerminateRequest {
    /// Why no agreement (2 to 500 characters).
    pub reason: String,
    /// The routes the parties were told (at least one).
    pub routes: Vec<OtherRoute>,
}

/// Record the outcome: mediation ended without agreement (终止调解), with
/// the other routes the parties were told. Booked sessions are cancelled.
#[utoipa::path(tag = "mediations", security(("bearer" = [])), params(("id" = Uuid, Path)), request_body = TerminateRequest, responses(
    (status = 200, body = MediationView),
    (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    (status = 404, body = ErrorBody, description = "`mediation_not_found`"),
    (status = 409, body = ErrorBody, description = "`state_conflict`"),
    (status = 422, body = ErrorBody, description = "`validation_failed`: no route given"),
    (status = 503, body = ErrorBody, description = "`audit_unavailable`: the personal data audit could not be written, so the case is not shown with its opened personal data (whatever the request changed stands; read the case again later)"),
))]
#[post("/staff/mediations/{id}/terminate")]
pub async fn terminate(
    state: web::Data<AppState>,
    auth: MediatorAuth,
    request_id: RequestId,
    id: web::Path<Uuid>,
    body: web::Json<TerminateRequest>,
) -> Result<web::Json<MediationView>, ApiError> {
    let id: CaseId = id.into_inner().into();
    let reason = Reason::parse(&body.reason)?;
    if body.routes.is_empty() {
        return Err(ValidationError::new("routes", "tell the parties at least one route").into());
    }
    let routes: Vec<&str> = [
        (OtherRoute::Arbitration, "arbitration"),
        (OtherRoute::Administrative, "administrative"),
        (OtherRoute::Court, "court"),
    ]
    .into_iter()
    .filter(|(r, _)| body.routes.contains(r))
    .map(|(_, name)| name)
    .collect();
    state
        .store
        .mediations()
        .terminate(
            id,
            auth.id,
            reason.as_str(),
            &routes,
            context(auth.principal(), &request_id),
        )
        .await
        .map_err(ApiError::store_not_found(ErrorCode::MediationNotFound))?;
    Ok(web::Json(staff_mediation_view(&state, id, &auth).await?))
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfirmationRequest {
    /// The day the application was filed (within the deadline shown).
    pub applied_on: NaiveDate,
    /// The court (2 to 100 characters).
    pub court: String,
    /// The ruling, when known.
    pub ruling: Option<String>,
}

/// Record the application for judicial confirmation (司法确认). Refused
/// after the deadline: 30 days from the agreement taking effect, counted
/// as courts count.
#[utoipa::path(tag = "mediations", security(("bearer" = [])), params(("id" = Uuid, Path)), request_body = ConfirmationRequest, responses(
    (status = 200, body = MediationView),
    (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    (status = 404, body = ErrorBody, description = "`mediation_not_found`"),
    (status = 409, body = ErrorBody, description = "`state_conflict`: there is no agreement"),
    (status = 422, body = ErrorBody, description = "`confirmation_deadline_passed`, `validation_failed`"),
    (status = 503, body = ErrorBody, description = "`audit_unavailable`: the personal data audit could not be written, so the case is not shown with its opened personal data (whatever the request changed stands; read the case again later)"),
))]
#[post("/staff/mediations/{id}/confirmation")]
pub async fn record_confirmation(
    state: web::Data<AppState>,
    auth: MediatorAuth,
    request_id: RequestId,
    id: web::Path<Uuid>,
    body: web::Json<ConfirmationRequest>,
) -> Result<web::Json<MediationView>, ApiError> {
    let id: CaseId = id.into_inner().into();
    // Yours first: the deadline is the case's business, not a stranger's.
    let record = owned_mediation(&state, id, &auth).await?;
    let court = bounded_text("court", &body.court, 2, 100)?;
    let ruling = body
        .ruling
        .as_deref()
        .map(|r| bounded_text("ruling", r, 2, 2000))
        .transpose()?;
    if let Some(effective) = record.detail.effective_on {
        let calendar = state.store.catalog().business_calendar().await?;
        let deadline = sansuo_domain::mediation::confirmation_deadline(effective, &calendar);
        if body.applied_on > deadline {
            return Err(ApiError::new(
                ErrorCode::ConfirmationDeadlinePassed,
                format!("judicial confirmation had to be applied for by {deadline}"),
            ));
        }
        if body.applied_on < effective {
            return Err(
                ValidationError::new("applied_on", "before the agreement took effect").into(),
            );
        }
    }
    state
        .store
        .mediations()
        .record_confirmation(
            id,
            auth.id,
            body.applied_on,
            &court,
            ruling.as_deref(),
            context(auth.principal(), &request_id),
        )
        .await
        .map_err(ApiError::store_not_found(ErrorCode::MediationNotFound))?;
    Ok(web::Json(staff_mediation_view(&state, id, &auth).await?))
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Performance {
    Performed,
    Partly,
    NotPerformed,
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VisitRequest {
    pub performance: Performance,
    /// The parties' satisfaction, 1 to 5.
    pub satisfaction: i16,
}

/// Record the follow-up visit (回访) of an agreement; the case closes.
#[utoipa::path(tag = "mediations", security(("bearer" = [])), params(("id" = Uuid, Path)), request_body = VisitRequest, responses(
    (status = 200, body = MediationView),
    (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    (status = 404, body = ErrorBody, description = "`mediation_not_found`"),
    (status = 409, body = ErrorBody, description = "`state_conflict`: no agreement to follow up"),
    (status = 422, body = ErrorBody, description = "`validation_failed`"),
    (status = 503, body = ErrorBody, description = "`audit_unavailable`: the personal data audit could not be written, so the case is not shown with its opened personal data (whatever the request changed stands; read the case again later)"),
))]
#[post("/staff/mediations/{id}/visit")]
pub async fn record_visit(
    state: web::Data<AppState>,
    auth: MediatorAuth,
    request_id: RequestId,
    id: web::Path<Uuid>,
    body: web::Json<VisitRequest>,
) -> Result<web::Json<MediationView>, ApiError> {
    let id: CaseId = id.into_inner().into();
    if !(1..=5).contains(&body.satisfaction) {
        return Err(ValidationError::new("satisfaction", "must be 1 to 5").into());
    }
    let performance = match body.performance {
        Performance::Performed => Found::Performed,
        Performance::Partly => Found::Partly,
        Performance::NotPerformed => Found::NotPerformed,
    };
    state
        .store
        .mediations()
        .record_visit(
            id,
            auth.id,
            performance,
            body.satisfaction,
            context(auth.principal(), &request_id),
        )
        .await
        .map_err(ApiError::store_not_found(ErrorCode::MediationNotFound))?;
    Ok(web::Json(staff_mediation_view(&state, id, &auth).await?))
}

/// Close a terminated mediation.
#[utoipa::path(tag = "mediations", security(("bearer" = [])), params(("id" = Uuid, Path)), responses(
    (status = 200, body = MediationView),
    (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    (status = 404, body = ErrorBody, description = "`mediation_not_found`"),
    (status = 409, body = ErrorBody, description = "`state_conflict`: not terminated"),
    (status = 503, body = ErrorBody, description = "`audit_unavailable`: the personal data audit could not be written, so the case is not shown with its opened personal data (whatever the request changed stands; read the case again later)"),
))]
#[post("/staff/mediations/{id}/close")]
pub async fn close(
    state: web::Data<AppState>,
    auth: MediatorAuth,
    request_id: RequestId,
    id: web::Path<Uuid>,
) -> Result<web::Json<MediationView>, ApiError> {
    let id: CaseId = id.into_inner().into();
    state
        .store
        .mediations()
        .close(id, auth.id, context(auth.principal(), &request_id))
        .await
        .map_err(ApiError::store_not_found(ErrorCode::MediationNotFound))?;
    Ok(web::Json(staff_mediation_view(&state, id, &auth).await?))
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReasonRequest {
    /// 2 to 500 characters.
    pub reason: String,
}

/// Escalate to the next tier by hand (专业助调, then 公调对接): the case
/// leaves you, booked sessions are cancelled, and it is routed one step up.
#[utoipa::path(tag = "mediations", security(("bearer" = [])), params(("id" = Uuid, Path)), request_body = ReasonRequest, responses(
    (status = 204, description = "Escalated; the case is no longer yours"),
    (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    (status = 404, body = ErrorBody, description = "`mediation_not_found`"),
    (status = 409, body = ErrorBody, description = "`state_conflict`: concluded already"),
    (status = 422, body = ErrorBody, description = "`validation_failed`"),
    (status = 503, body = ErrorBody, description = "`audit_unavailable`: the personal data audit could not be written, so the case is not shown with its opened personal data (whatever the request changed stands; read the case again later)"),
))]
#[post("/staff/mediations/{id}/escalate")]
pub async fn escalate(
    state: web::Data<AppState>,
    auth: MediatorAuth,
    request_id: RequestId,
    id: web::Path<Uuid>,
    body: web::Json<ReasonRequest>,
) -> Result<actix_web::HttpResponse, ApiError> {
    let id: CaseId = id.into_inner().into();
    let reason = Reason::parse(&body.reason)?;
    state
        .store
        .mediations()
        .escalate_tier(
            id,
            auth.id,
            reason.as_str(),
            context(auth.principal(), &request_id),
        )
        .await
        .map_err(ApiError::store_not_found(ErrorCode::MediationNotFound))?;
    tracing::info!(case_id = %id, "mediation escalated to the next tier");
    Ok(actix_web::HttpResponse::NoContent().finish())
}

/// Flag a dispute that risks turning into a public-order or criminal matter.
#[utoipa::path(tag = "mediations", security(("bearer" = [])), params(("id" = Uuid, Path)), request_body = ReasonRequest, responses(
    (status = 200, body = MediationView),
    (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    (status = 404, body = ErrorBody, description = "`mediation_not_found`"),
    (status = 422, body = ErrorBody, description = "`validation_failed`"),
    (status = 503, body = ErrorBody, description = "`audit_unavailable`: the personal data audit could not be written, so the case is not shown with its opened personal data (whatever the request changed stands; read the case again later)"),
))]
#[post("/staff/mediations/{id}/flag-public-order-risk")]
pub async fn flag_public_order_risk(
    state: web::Data<AppState>,
    auth: MediatorAuth,
    request_id: RequestId,
    id: web::Path<Uuid>,
    body: web::Json<ReasonRequest>,
) -> Result<web::Json<MediationView>, ApiError> {
    let id: CaseId = id.into_inner().into();
    let reason = Reason::parse(&body.reason)?;
    state
        .store
        .mediations()
        .flag_public_order_risk(
            id,
            auth.id,
            reason.as_str(),
            context(auth.principal(), &request_id),
        )
        .await
        .map_err(ApiError::store_not_found(ErrorCode::MediationNotFound))?;
    Ok(web::Json(staff_mediation_view(&state, id, &auth).await?))
}
