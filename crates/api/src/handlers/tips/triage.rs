//! Triage verbs: valid / unfounded / not a police matter (referred), then
//! verify, action, close with a note to the reporter; or mark a duplicate.
use crate::error::ErrorCode;

use super::{TipView, Viewer, tip_not_found, tip_view};
use crate::extract::OfficerAuth;
use crate::handlers::context;
use crate::handlers::mediations::apply::{PartyRequest, check_parties, seal_parties};
use crate::handlers::mediations::bounded_text;
use crate::middleware::RequestId;
use crate::{ApiError, AppState, ErrorBody};
use actix_web::{post, web};
use sansuo_domain::CaseId;
use sansuo_domain::tip::{TipAction, TriageVerdict};
use sansuo_store::mediations::NewMediation;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Debug, Clone, Copy, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum VerdictName {
    Valid,
    Unfounded,
    /// Refer to the body responsible (`referred_to` required).
    NotPoliceMatter,
}

impl From<VerdictName> for TriageVerdict {
    fn from(v: VerdictName) -> Self {
        match v {
            VerdictName::Valid => TriageVerdict::Valid,
            VerdictName::Unfounded => TriageVerdict::Unfounded,
            VerdictName::NotPoliceMatter => TriageVerdict::NotPoliceMatter,
        }
    }
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TriageRequest {
    pub verdict: VerdictName,
    /// Up to 1000 characters; shown to the reporter.
    pub note: Option<String>,
    /// For `not_police_matter`: the body it is referred to (街道办, 物业,
    /// 12315, ...), 2 to 100 characters; shown to the reporter.
    #[schema(example = "12315 市场监管投诉热线")]
    pub referred_to: Option<String>,
}

async fn answer(state: &AppState, id: CaseId) -> Result<web::Json<TipView>, ApiError> {
    let record = state
        .store
        .tips()
        .get(id)
        .await?
        .ok_or_else(tip_not_found)?;
    Ok(web::Json(tip_view(state, record, Viewer::Staff).await?))
}

/// Triage a tip you have signed for. An unfounded verdict counts against
/// the reporter's screening record (by pseudonym, also for anonymous
/// reporters): past 3 unfounded and half of their tips, their new tips
/// are flagged for the officer and limited to one an hour.
#[utoipa::path(tag = "tips", security(("bearer" = [])), params(("id" = Uuid, Path)), request_body = TriageRequest, responses(
    (status = 200, body = TipView),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody),
    (status = 404, body = ErrorBody, description = "`tip_not_found`: not yours"),
    (status = 409, body = ErrorBody, description = "`state_conflict`: already triaged"),
    (status = 422, body = ErrorBody, description = "`validation_failed`: e.g. `referred_to` missing"),
))]
#[post("/staff/tips/{id}/triage")]
pub async fn triage_tip(
    state: web::Data<AppState>,
    auth: OfficerAuth,
    request_id: RequestId,
    id: web::Path<Uuid>,
    body: web::Json<TriageRequest>,
) -> Result<web::Json<TipView>, ApiError> {
    let id: CaseId = id.into_inner().into();
    let note = body
        .note
        .as_deref()
        .map(|n| bounded_text("note", n, 1, 1000))
        .transpose()?;
    let referred_to = match (body.verdict, body.referred_to.as_deref()) {
        (VerdictName::NotPoliceMatter, Some(to)) => Some(bounded_text("referred_to", to, 2, 100)?),
        (VerdictName::NotPoliceMatter, None) => {
            return Err(sansuo_domain::ValidationError::new(
                "referred_to",
                "say which body the reporter should turn to",
            )
            .into());
        }
        (_, Some(_)) => {
            return Err(sansuo_domain::ValidationError::new(
                "referred_to",
                "only for not_police_matter",
            )
            .into());
        }
        (_, None) => None,
    };
    state
        .store
        .tips()
        .triage(
            id,
            auth.id,
            body.verdict.into(),
            note.as_deref(),
            referred_to.as_deref(),
            context(auth.principal(), &request_id),
        )
        .await
        .map_err(ApiError::store_not_found(ErrorCode::TipNotFound))?;
    answer(&state, id).await
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TipStepRequest {
    /// Up to 1000 characters. For `close`, the note to the reporter
    /// (required).
    pub note: Option<String>,
}

async fn step(
    state: &AppState,
    auth: &OfficerAuth,
    request_id: &RequestId,
    id: CaseId,
    action: TipAction,
    note: Option<&str>,
) -> Result<web::Json<TipView>, ApiError> {
    let note = note.map(|n| bounded_text("note", n, 1, 1000)).transpose()?;
    if action == TipAction::Close && note.is_none() {
        return Err(sansuo_domain::ValidationError::new(
            "note",
            "closing a tip needs a note to the reporter",
        )
        .into());
    }
    state
        .store
        .tips()
        .advance(
            id,
            auth.id,
            action,
            note.as_deref(),
            context(auth.principal(), request_id),
        )
        .await
        .map_err(ApiError::store_not_found(ErrorCode::TipNotFound))?;
    answer(state, id).await
}

/// Start checking a valid tip on the ground.
#[utoipa::path(tag = "tips", security(("bearer" = [])), params(("id" = Uuid, Path)), request_body = TipStepRequest, responses(
    (status = 200, body = TipView),
    (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    (status = 404, body = ErrorBody, description = "`tip_not_found`"),
    (status = 409, body = ErrorBody, description = "`state_conflict`"),
    (status = 422, body = ErrorBody, description = "`validation_failed`"),
))]
#[post("/staff/tips/{id}/verify")]
pub async fn verify_tip(
    state: web::Data<AppState>,
    auth: OfficerAuth,
    request_id: RequestId,
    id: web::Path<Uuid>,
    body: web::Json<TipStepRequest>,
) -> Result<web::Json<TipView>, ApiError> {
    let id = id.into_inner().into();
    step(
        &state,
        &auth,
        &request_id,
        id,
        TipAction::Verify,
        body.note.as_deref(),
    )
    .await
}

/// Record that something was done.
#[utoipa::path(tag = "tips", security(("bearer" = [])), params(("id" = Uuid, Path)), request_body = TipStepRequest, responses(
    (status = 200, body = TipView),
    (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    (status = 404, body = ErrorBody, description = "`tip_not_found`"),
    (status = 409, body = ErrorBody, description = "`state_conflict`"),
    (status = 422, body = ErrorBody, description = "`validation_failed`"),
))]
#[post("/staff/tips/{id}/action")]
pub async fn action_tip(
    state: web::Data<AppState>,
    auth: OfficerAuth,
    request_id: RequestId,
    id: web::Path<Uuid>,
    body: web::Json<TipStepRequest>,
) -> Result<web::Json<TipView>, ApiError> {
    let id = id.into_inner().into();
    step(
        &state,
        &auth,
        &request_id,
        id,
        TipAction::Action,
        body.note.as_deref(),
    )
    .await
}

/// Close with a note to the reporter. A follow-up from the reporter reopens it.
#[utoipa::path(tag = "tips", security(("bearer" = [])), params(("id" = Uuid, Path)), request_body = TipStepRequest, responses(
    (status = 200, body = TipView),
    (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    (status = 404, body = ErrorBody, description = "`tip_not_found`"),
    (status = 409, body = ErrorBody, description = "`state_conflict`"),
    (status = 422, body = ErrorBody, description = "`validation_failed`: no note"),
))]
#[post("/staff/tips/{id}/close")]
pub async fn close_tip(
    state: web::Data<AppState>,
    auth: OfficerAuth,
    request_id: RequestId,
    id: web::Path<Uuid>,
    body: web::Json<TipStepRequest>,
) -> Result<web::Json<TipView>, ApiError> {
    let id = id.into_inner().into();
    step(
        &state,
        &auth,
        &request_id,
        id,
        TipAction::Close,
        body.note.as_deref(),
    )
    .await
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DuplicateRequest {
    /// The earlier tip about the same matter.
    pub original_id: Uuid,
}

/// Mark as a duplicate of an earlier tip: this one is finished, the
/// original counts one more supporter.
#[utoipa::path(tag = "tips", security(("bearer" = [])), params(("id" = Uuid, Path)), request_body = DuplicateRequest, responses(
    (status = 200, body = TipView),
    (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    (status = 404, body = ErrorBody, description = "`tip_not_found`: this tip is not yours, or the original is no tip within your reach"),
    (status = 409, body = ErrorBody, description = "`state_conflict`: itself, or not in a state to be marked"),
))]
#[post("/staff/tips/{id}/duplicate")]
pub async fn mark_duplicate(
    state: web::Data<AppState>,
    auth: OfficerAuth,
    request_id: RequestId,
    id: web::Path<Uuid>,
    body: web::Json<DuplicateRequest>,
) -> Result<web::Json<TipView>, ApiError> {
    let id: CaseId = id.into_inner().into();
    // The original is a tip within your reach (your station's), or it does
    // not exist for you.
    let original = crate::scoped::resolve(
        &state,
        auth.scope,
        CaseId::from(body.original_id),
        ErrorCode::TipNotFound,
    )
    .await?;
    state
        .store
        .tips()
        .mark_duplicate(
            id,
            auth.id,
            original.id(),
            context(auth.principal(), &request_id),
        )
        .await
        .map_err(ApiError::store_not_found(ErrorCode::TipNotFound))?;
    answer(&state, id).await
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConvertRequest {
    /// A category that takes mediations (`LJ01` 噪音, `LJ02` 漏水...).
    #[schema(example = "LJ01")]
    pub category_code: String,
    /// What the reporter asks for, 2 to 1000 characters.
    pub claims: String,
    /// Exactly one applicant (the reporter) and at least one respondent.
    pub parties: Vec<PartyRequest>,
    /// The officer's account of the dispute, added to the tip's description
    /// as the mediation's facts (up to 1000 characters).
    pub note: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ConvertedView {
    pub tip: TipView,
    /// The mediation case it became, routed to the community's mediators.
    pub mediation_id: Uuid,
}

/// Turn a tip into a mediation case (a neighbour quarrel rather than a
/// police matter), keeping history: the tip is finished as `converted` and
/// points to the mediation; the mediation's history says where it came
/// from. Only a named reporter's tip (a mediation needs its applicant).
#[utoipa::path(tag = "tips", security(("bearer" = [])), params(("id" = Uuid, Path)), request_body = ConvertRequest, responses(
    (status = 201, body = ConvertedView),
    (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    (status = 404, body = ErrorBody, description = "`tip_not_found`: not yours; `category_not_found`; `feature_disabled`: no data keys on this server, so no mediations"),
    (status = 409, body = ErrorBody, description = "`state_conflict`: not in a state to convert"),
    (status = 422, body = ErrorBody, description = "`anonymous_tip_not_convertible`, `category_not_offered`, `validation_failed`"),
))]
#[post("/staff/tips/{id}/convert")]
pub async fn convert_tip(
    state: web::Data<AppState>,
    auth: OfficerAuth,
    request_id: RequestId,
    id: web::Path<Uuid>,
    body: web::Json<ConvertRequest>,
) -> Result<actix_web::HttpResponse, ApiError> {
    let id: CaseId = id.into_inner().into();
    let record = super::staff::visible_tip(&state, auth.id, id)
        .await?
        .filter(|t| t.case.owner_staff_id == Some(auth.id.as_uuid()))
        .ok_or_else(tip_not_found)?;
    let reporter = record
        .case
        .resident_id
        .filter(|_| !record.detail.anonymous)
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::AnonymousTipNotConvertible,
                "an anonymous tip has no applicant for a mediation",
            )
        })?;
    let claims = bounded_text("claims", &body.claims, 2, 1000)?;
    let note = body
        .note
        .as_deref()
        .map(|n| bounded_text("note", n, 1, 1000))
        .transpose()?;
    check_parties(&body.parties)?;
    let category = crate::handlers::admit_category(
        state.store.org().category(&body.category_code).await?,
        sansuo_domain::catalog::Service::Mediation,
    )?;
    let parties = seal_parties(&state, &body.parties)?;
    let facts = match note {
        Some(note) => format!("{}\n\n{note}", record.detail.description),
        None => record.detail.description.clone(),
    };
    let mediation_id = state
        .store
        .tips()
        .convert_to_mediation(
            id,
            auth.id,
            NewMediation {
                resident: Some(reporter.into()),
                community: record.case.community_id.into(),
                category: category.code,
                facts,
                claims,
                preferred_times: "[]".into(),
                private: false,
                attendees: None,
                requested_mediator: None,
                refused_mediators: Vec::new(),
                parties,
                request_id: Some(request_id.as_str().to_owned()),
                intake: None,
                first_offer: None,
            },
            context(auth.principal(), &request_id),
        )
        .await
        .map_err(ApiError::store_not_found(ErrorCode::TipNotFound))?;
    tracing::info!(case_id = %id, mediation_id = %mediation_id, "tip converted into a mediation");
    let tip = answer(&state, id).await?.into_inner();
    Ok(actix_web::HttpResponse::Created().json(ConvertedView {
        tip,
        mediation_id: mediation_id.as_uuid(),
    }))
}
