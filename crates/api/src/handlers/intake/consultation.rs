use super::{InPersonResident, IntakeReceipt, community_in_scope, receipt, seal_resident};
use crate::extract::{Idempotency, IntakeAuth};
use crate::handlers::context;
use crate::middleware::RequestId;
use crate::{ApiError, AppState, ErrorBody};
use actix_web::{HttpResponse, post, web};
use sansuo_domain::ConsultationStatus;
use sansuo_domain::catalog::Service;
use sansuo_domain::values::QuestionText;
use sansuo_store::consultations::{InPersonConsultation, Submission};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InPersonConsultationRequest {
    /// The resident's community; it must lie in your subtree.
    pub community_id: Uuid,
    #[schema(example = "LJ01")]
    pub category_code: String,
    /// The question as the resident told it.
    pub question: String,
    pub resident: InPersonResident,
}

/// 代办: file a consultation for a resident who came in person without a
/// smartphone. Routed to lawyers like any new consultation; the lawyer who
/// takes it sees the resident's name and phone to answer them.
#[utoipa::path(tag = "staff", security(("bearer" = [])), request_body = InPersonConsultationRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "8–128 visible ASCII characters (a UUID is ideal); a retry with the same key and body replays the first filing", min_length = 8, max_length = 128, pattern = r"^[!-~]{8,128}$")),
    responses(
    (status = 201, body = IntakeReceipt, description = "Filed, or replayed for a repeated Idempotency-Key (`Idempotent-Replayed: true`)"),
    (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    (status = 404, body = ErrorBody, description = "`community_not_found`: not in your subtree, or it offers no consultations; `category_not_found`; `feature_disabled`: no data keys on this server"),
    (status = 422, body = ErrorBody, description = "`validation_failed`, `idempotency_key_reused`, `category_not_offered`, `emergency_call_110`"),
))]
#[post("/staff/intake/consultations")]
pub async fn intake_consultation(
    state: web::Data<AppState>,
    auth: IntakeAuth,
    request_id: RequestId,
    body: web::Json<InPersonConsultationRequest>,
    idempotency: Idempotency,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let idempotency = idempotency.with_body(&body)?;
    let community =
        community_in_scope(&state, &auth, body.community_id, Service::Consultation).await?;
    let category = crate::handlers::admit_category(
        state.store.org().category(&body.category_code).await?,
        Service::Consultation,
    )?;
    let question = QuestionText::parse(&body.question)?;
    let intake = seal_resident(&state, &auth, &body.resident)?;
    let submission = state
        .store
        .consultations()
        .file_in_person(
            InPersonConsultation {
                community: community.id.into(),
                pool_unit: community.parent_id.map(Into::into),
                category: category.code.clone(),
                question,
                intake,
                idempotency,
            },
            context(auth.principal(), &request_id),
        )
        .await?;
    let id = submission.case_id();
    if let Submission::Created(id) = submission {
        tracing::info!(case_id = %id, staff_id = %auth.id, "consultation filed in person");
    }
    crate::handlers::route_new_case(&state, &submission, Some(request_id.as_str()));
    receipt(
        &state,
        &submission,
        format!("/api/v1/staff/consultations/{id}"),
        |intake| IntakeReceipt {
            case_id: id.as_uuid(),
            service: Service::Consultation.as_str().to_owned(),
            status: ConsultationStatus::Submitted.as_str().to_owned(),
            community_id: community.id,
            category_code: category.code,
            intake,
        },
    )
    .await
}
