use super::{InPersonResident, IntakeReceipt, community_in_scope, intake_of, seal_resident};
use crate::extract::IntakeAuth;
use crate::handlers::context;
use crate::middleware::RequestId;
use crate::{ApiError, AppState, ErrorBody};
use actix_web::{HttpResponse, post, web};
use sansuo_domain::ConsultationStatus;
use sansuo_domain::catalog::Service;
use sansuo_domain::values::QuestionText;
use sansuo_store::consultations::InPersonConsultation;
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
#[utoipa::path(tag = "staff", security(("bearer" = [])), request_body = InPersonConsultationRequest, responses(
    (status = 201, body = IntakeReceipt),
    (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    (status = 404, body = ErrorBody, description = "`community_not_found`: not in your subtree, or it offers no consultations; `category_not_found`; `feature_disabled`: no data keys on this server"),
    (status = 422, body = ErrorBody, description = "`validation_failed`, `category_not_offered`, `emergency_call_110`"),
))]
#[post("/staff/intake/consultations")]
pub async fn intake_consultation(
    state: web::Data<AppState>,
    auth: IntakeAuth,
    request_id: RequestId,
    body: web::Json<InPersonConsultationRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let community =
        community_in_scope(&state, &auth, body.community_id, Service::Consultation).await?;
    let category = crate::handlers::admit_category(
        state.store.org().category(&body.category_code).await?,
        Service::Consultation,
    )?;
    let question = QuestionText::parse(&body.question)?;
    let intake = seal_resident(&state, &auth, &body.resident)?;
    let id = state
        .store
        .consultations()
        .file_in_person(
            InPersonConsultation {
                community: community.id.into(),
                pool_unit: community.parent_id.map(Into::into),
                category: category.code.clone(),
                question,
                intake,
            },
            context(auth.principal(), &request_id),
        )
        .await?;
    tracing::info!(case_id = %id, staff_id = %auth.id, "consultation filed in person");
    crate::handlers::route_case_soon(&state, id, Some(request_id.as_str()));
    let intake = intake_of(&state, id.as_uuid(), false)
        .await?
        .ok_or_else(|| ApiError::internal("intake record missing after commit"))?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/staff/consultations/{id}")))
        .json(IntakeReceipt {
            case_id: id.as_uuid(),
            service: Service::Consultation.as_str().to_owned(),
            status: ConsultationStatus::Submitted.as_str().to_owned(),
            community_id: community.id,
            category_code: category.code,
            intake,
        }))
}
