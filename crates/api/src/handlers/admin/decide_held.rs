use crate::error::ErrorCode;
use crate::extract::AdminAuth;
use crate::handlers::context;
use crate::middleware::RequestId;
use crate::views::ModerationDecisionView;
use crate::{ApiError, AppState, ErrorBody};
use actix_web::{post, web};
use sansuo_domain::values::Reason;
use sansuo_domain::{Actor, StaffId};
use sansuo_store::StoreError;
use sansuo_store::moderation::{FlagKind, Subject};
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum HeldKind {
    /// A consultation's question.
    Case,
    /// A resident's follow-up.
    Message,
    /// A tip's description (flagged, never withheld from its officer).
    Tip,
    /// A reporter's follow-up on a tip (flagged, never withheld).
    TipMessage,
    /// A resident photo: passing it shows it to its reporter again.
    Photo,
    /// A mediation application's facts and claims (flagged, not held).
    Mediation,
    /// A rating's comment (flagged, not held).
    Rating,
    /// A visit answer's comment (flagged, not held).
    VisitAnswer,
    /// A resident's reason for reopening a consultation (flagged, not held).
    Reopen,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionRequest {
    pub kind: HeldKind,
    pub id: Uuid,
    /// `true` shows it (a question is then routed); `false` rejects it.
    pub approve: bool,
    /// Why it was rejected (shown to the resident for a question).
    pub reason: Option<String>,
}

/// Approve or reject held resident text.
#[utoipa::path(tag = "admin", security(("bearer" = [])), request_body = DecisionRequest, responses(
    (status = 200, body = ModerationDecisionView),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody),
    (status = 404, body = ErrorBody, description = "`held_text_not_found` (also outside your organisation)"),
    (status = 409, body = ErrorBody, description = "`state_conflict`: already decided"),
    (status = 422, body = ErrorBody, description = "`validation_failed`: a rejection needs a reason"),
))]
#[post("/admin/moderation/decisions")]
pub async fn decide_held(
    state: web::Data<AppState>,
    admin: AdminAuth,
    request_id: RequestId,
    body: web::Json<DecisionRequest>,
) -> Result<web::Json<ModerationDecisionView>, ApiError> {
    let not_found = || ApiError::new(ErrorCode::HeldTextNotFound, "no such held text");
    let reason = match (&body.reason, body.approve) {
        (Some(r), _) => Some(Reason::parse(r)?),
        (None, false) => {
            return Err(sansuo_domain::ValidationError::new(
                "reason",
                "a rejection needs a reason",
            )
            .into());
        }
        (None, true) => None,
    };
    let subject = match body.kind {
        HeldKind::Case => Subject::Case(body.id),
        HeldKind::Message => Subject::Message(body.id),
        HeldKind::Tip => return decide_flag(&state, &admin, FlagKind::Tip, &body).await,
        HeldKind::TipMessage => {
            return decide_flag(&state, &admin, FlagKind::TipMessage, &body).await;
        }
        HeldKind::Photo => return decide_flag(&state, &admin, FlagKind::Photo, &body).await,
        HeldKind::Mediation => {
            return decide_flag(&state, &admin, FlagKind::Mediation, &body).await;
        }
        HeldKind::Rating => return decide_flag(&state, &admin, FlagKind::Rating, &body).await,
        HeldKind::Reopen => return decide_flag(&state, &admin, FlagKind::Reopen, &body).await,
        HeldKind::VisitAnswer => {
            return decide_flag(&state, &admin, FlagKind::VisitAnswer, &body).await;
        }
    };
    let held = state
        .store
        .moderation()
        .held_text(subject)
        .await?
        .ok_or_else(not_found)?;
    if !state
        .store
        .staffing()
        .unit_within(held.community_id.into(), admin.scope)
        .await?
    {
        return Err(not_found());
    }
    let actor = Actor::Staff {
        id: StaffId::from(admin.id.as_uuid()),
        role: admin.role,
        scope: admin.scope,
    };
    let ctx = context(actor, &request_id);
    let moderation = state
        .store
        .moderation()
        .decide(
            subject,
            body.approve,
            reason.as_ref().map(|r| r.as_str()),
            ctx,
        )
        .await
        .map_err(|e| match e {
            StoreError::NotFound => not_found(),
            other => other.into(),
        })?;
    tracing::info!(admin = %admin.id, ?subject, %moderation, "moderation decided");
    Ok(web::Json(ModerationDecisionView {
        id: body.id,
        moderation: moderation.as_str().into(),
    }))
}

/// A flagged item: the flag is decided; what it flags was never withheld
/// from the officer, so nothing else moves.
async fn decide_flag(
    state: &AppState,
    admin: &AdminAuth,
    kind: FlagKind,
    body: &DecisionRequest,
) -> Result<web::Json<ModerationDecisionView>, ApiError> {
    let not_found = || ApiError::new(ErrorCode::HeldTextNotFound, "no such held text");
    let flag = state
        .store
        .moderation()
        .flag_of(kind, body.id)
        .await?
        .ok_or_else(not_found)?;
    if !state
        .store
        .staffing()
        .unit_within(flag.community_id.into(), admin.scope)
        .await?
    {
        return Err(not_found());
    }
    let moderation = state
        .store
        .moderation()
        .decide_flag(kind, body.id, body.approve, chrono::Utc::now())
        .await
        .map_err(|e| match e {
            StoreError::NotFound => not_found(),
            other => other.into(),
        })?;
    tracing::info!(admin = %admin.id, kind = kind.as_str(), %moderation, "flagged content decided");
    Ok(web::Json(ModerationDecisionView {
        id: body.id,
        moderation: moderation.as_str().into(),
    }))
}
