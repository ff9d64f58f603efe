use super::{InPersonResident, IntakeReceipt, community_in_scope, receipt, seal_resident};
use crate::extract::{Idempotency, IntakeAuth};
use crate::handlers::context;
use crate::handlers::mediations::apply::{PartyRequest, check_parties, seal_parties};
use crate::handlers::mediations::bounded_text;
use crate::middleware::RequestId;
use crate::{ApiError, AppState, ErrorBody};
use actix_web::{HttpResponse, post, web};
use sansuo_domain::catalog::Service;
use sansuo_domain::mediation::MediationStatus;
use sansuo_store::consultations::Submission;
use sansuo_store::mediations::NewMediation;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InPersonMediationRequest {
    /// The resident's community; it must lie in your subtree.
    pub community_id: Uuid,
    #[schema(example = "LJ02")]
    pub category_code: String,
    /// The dispute as the resident told it, 10 to 2000 characters.
    pub facts: String,
    /// What the resident asks for, 2 to 1000 characters.
    pub claims: String,
    /// Exactly one applicant (the resident) and at least one respondent.
    pub parties: Vec<PartyRequest>,
    /// Ask for a session not open to the public (不公开).
    #[serde(default)]
    pub private: bool,
    pub resident: InPersonResident,
}

/// 代办: file a mediation for a resident who came in person without a
/// smartphone. Routed to the community's mediators like any new booking.
#[utoipa::path(tag = "staff", security(("bearer" = [])), request_body = InPersonMediationRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "8–128 visible ASCII characters (a UUID is ideal); a retry with the same key and body replays the first filing", min_length = 8, max_length = 128, pattern = r"^[!-~]{8,128}$")),
    responses(
    (status = 201, body = IntakeReceipt, description = "Filed, or replayed for a repeated Idempotency-Key (`Idempotent-Replayed: true`)"),
    (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    (status = 404, body = ErrorBody, description = "`community_not_found`: not in your subtree, or it offers no mediations; `category_not_found`; `feature_disabled`: no data keys on this server"),
    (status = 422, body = ErrorBody, description = "`validation_failed`, `idempotency_key_reused`, `category_not_offered`, `emergency_call_110`"),
))]
#[post("/staff/intake/mediations")]
pub async fn intake_mediation(
    state: web::Data<AppState>,
    auth: IntakeAuth,
    request_id: RequestId,
    body: web::Json<InPersonMediationRequest>,
    idempotency: Idempotency,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let idempotency = idempotency.with_body(&body)?;
    let community =
        community_in_scope(&state, &auth, body.community_id, Service::Mediation).await?;
    let category = crate::handlers::admit_category(
        state.store.org().category(&body.category_code).await?,
        Service::Mediation,
    )?;
    let facts = bounded_text("facts", &body.facts, 10, 2000)?;
    let claims = bounded_text("claims", &body.claims, 2, 1000)?;
    check_parties(&body.parties)?;
    let intake = seal_resident(&state, &auth, &body.resident)?;
    let parties = seal_parties(&state, &body.parties)?;
    let ctx = context(auth.principal(), &request_id);
    let submission = state
        .store
        .mediations()
        .file_in_person(
            NewMediation {
                resident: None,
                community: community.id.into(),
                category: category.code.clone(),
                facts,
                claims,
                preferred_times: "[]".into(),
                private: body.private,
                attendees: None,
                requested_mediator: None,
                refused_mediators: Vec::new(),
                parties,
                request_id: Some(request_id.as_str().to_owned()),
                intake: Some(intake),
                first_offer: None,
            },
            idempotency.as_ref(),
            ctx.now,
        )
        .await?;
    let id = submission.case_id();
    if let Submission::Created(id) = submission {
        tracing::info!(case_id = %id, staff_id = %auth.id, "mediation filed in person");
    }
    crate::handlers::route_new_case(&state, &submission, Some(request_id.as_str()));
    receipt(
        &state,
        &submission,
        format!("/api/v1/staff/mediations/{id}"),
        |intake| IntakeReceipt {
            case_id: id.as_uuid(),
            service: Service::Mediation.as_str().to_owned(),
            status: MediationStatus::Submitted.as_str().to_owned(),
            community_id: community.id,
            category_code: category.code,
            intake,
        },
    )
    .await
}
