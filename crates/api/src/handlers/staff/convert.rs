use super::lawyer_view;
use crate::error::ErrorCode;
use crate::extract::LawyerAuth;
use crate::handlers::context;
use crate::handlers::mediations::apply::{PartyRequest, check_parties, seal_parties};
use crate::handlers::mediations::bounded_text;
use crate::middleware::RequestId;
use crate::views::ConsultationView;
use crate::{ApiError, AppState, ErrorBody};
use actix_web::{post, web};
use sansuo_domain::ValidationError;
use sansuo_domain::catalog::Service;
use sansuo_store::{MediationProposal, TipProposal};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// What a consultation becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ConversionTarget {
    /// A mediation (人民调解) in the same community, once the resident consents.
    Mediation,
    /// A named tip for the community's officer on duty (治安线索), at once.
    Tip,
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConvertRequest {
    pub to: ConversionTarget,
    /// A category that takes the new service (`LJ01` 噪音 for a mediation,
    /// a tip category for a tip).
    #[schema(example = "LJ01")]
    pub category_code: String,
    /// Mediation: the dispute as the lawyer sums it up, 10 to 2000 characters.
    pub facts: Option<String>,
    /// Mediation: what the resident asks for, 2 to 1000 characters.
    pub claims: Option<String>,
    /// Mediation: exactly one applicant (the resident) and at least one respondent.
    #[serde(default)]
    pub parties: Vec<PartyRequest>,
    /// Tip: what the officer should know, 2 to 1000 characters.
    pub description: Option<String>,
}

fn required(
    field: &'static str,
    value: &Option<String>,
    min: usize,
    max: usize,
) -> Result<String, ApiError> {
    let text = value
        .as_deref()
        .ok_or_else(|| ValidationError::new(field, "required"))?;
    Ok(bounded_text(field, text, min, max)?)
}

fn not_for_tip(body: &ConvertRequest) -> Result<(), ApiError> {
    if body.facts.is_some() || body.claims.is_some() || !body.parties.is_empty() {
        return Err(ValidationError::new(
            "to",
            "a tip takes a description, not facts, claims or parties",
        )
        .into());
    }
    Ok(())
}

/// 三所联动: turn a consultation you own into a mediation or a tip.
/// `to: mediation` proposes it to the resident, who consents or refuses on
/// their consultation (`conversion/accept|refuse`); on consent the
/// mediation is created in the same community and routed to its mediators.
/// `to: tip` creates a named tip for the officer on duty of the
/// community's station at once (the resident sees it on the
/// consultation). Either way the consultation ends as `converted` and
/// both cases link to each other.
#[utoipa::path(tag = "staff", security(("bearer" = [])), params(("id" = Uuid, Path)), request_body = ConvertRequest, responses(
    (status = 200, body = ConsultationView, description = "the consultation with its `conversion` (and `converted_to` for a tip)"),
    (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    (status = 404, body = ErrorBody, description = "`consultation_not_found`: not yours; `category_not_found`; `feature_disabled`: no data keys on this server, so no mediations"),
    (status = 409, body = ErrorBody, description = "`already_converted`: converted, or a proposal waits for the resident; `state_conflict`: not taken by you yet, or ended"),
    (status = 422, body = ErrorBody, description = "`category_not_offered`, `validation_failed`"),
    (status = 503, body = ErrorBody, description = "`audit_unavailable`: the personal data audit could not be written, so the case is not shown with its opened personal data (whatever the request changed stands; read the case again later)"),
))]
#[post("/staff/consultations/{id}/convert")]
pub async fn convert_consultation(
    state: web::Data<AppState>,
    auth: LawyerAuth,
    request_id: RequestId,
    id: web::Path<Uuid>,
    // Read after the ownership check: a non-owner's malformed body is 404 too.
    body: Result<web::Json<ConvertRequest>, actix_web::Error>,
) -> Result<web::Json<ConsultationView>, actix_web::Error> {
    let id = id.into_inner().into();
    // Only the owner, and before any look at the body: a non-owner learns nothing.
    let owned = state
        .store
        .consultations()
        .get(id)
        .await
        .map_err(ApiError::from)?
        .is_some_and(|c| c.case.owner_staff_id == Some(auth.id.as_uuid()));
    if !owned {
        return Err(ApiError::consultation_not_found().into());
    }
    let body = body?.into_inner();
    Ok(convert(&state, &auth, &request_id, id, body).await?)
}

async fn convert(
    state: &AppState,
    auth: &LawyerAuth,
    request_id: &RequestId,
    id: sansuo_domain::CaseId,
    body: ConvertRequest,
) -> Result<web::Json<ConsultationView>, ApiError> {
    let codes =
        || ApiError::store_codes(ErrorCode::ConsultationNotFound, ErrorCode::AlreadyConverted);
    let ctx = context(auth.principal(), request_id);
    match body.to {
        ConversionTarget::Mediation => {
            if body.description.is_some() {
                return Err(ValidationError::new(
                    "description",
                    "a mediation takes facts, claims and parties",
                )
                .into());
            }
            let facts = required("facts", &body.facts, 10, 2000)?;
            let claims = required("claims", &body.claims, 2, 1000)?;
            check_parties(&body.parties)?;
            let category = crate::handlers::admit_category(
                state.store.org().category(&body.category_code).await?,
                Service::Mediation,
            )?;
            let parties = seal_parties(state, &body.parties)?;
            state
                .store
                .consultations()
                .propose_mediation(
                    id,
                    auth.id,
                    MediationProposal {
                        category: category.code,
                        facts,
                        claims,
                        parties,
                    },
                    ctx,
                )
                .await
                .map_err(codes())?;
            tracing::info!(case_id = %id, "conversion into a mediation proposed");
        }
        ConversionTarget::Tip => {
            not_for_tip(&body)?;
            let description = required("description", &body.description, 2, 1000)?;
            let category = crate::handlers::admit_category(
                state.store.org().category(&body.category_code).await?,
                Service::Tip,
            )?;
            let tip_id = state
                .store
                .consultations()
                .convert_to_tip(
                    id,
                    auth.id,
                    TipProposal {
                        category: category.code,
                        description,
                    },
                    ctx,
                )
                .await
                .map_err(codes())?;
            tracing::info!(case_id = %id, tip_id = %tip_id, "consultation converted into a tip");
            crate::handlers::route_case_soon(state, tip_id, Some(request_id.as_str()));
        }
    }
    Ok(web::Json(lawyer_view(state, id, auth).await?))
}
