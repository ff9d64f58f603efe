use super::MediationView;
use super::staff::{owned_mediation, staff_mediation_view};
use crate::error::ErrorCode;
use crate::extract::MediatorAuth;
use crate::handlers::context;
use crate::middleware::RequestId;
use crate::{ApiError, AppState, ErrorBody};
use actix_web::{HttpResponse, post, web};
use sansuo_domain::CaseId;
use sansuo_domain::values::MessageBody;
use sansuo_store::mediations::ThreadAuthor;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StaffMediationMessageRequest {
    /// 1 to 2000 characters.
    #[schema(example = "已联系被申请人，对方同意周六上午到场")]
    pub body: String,
    /// An internal note (staff only, never shown to the applicant) rather
    /// than a message the applicant reads. Default `false`.
    #[serde(default)]
    pub internal: bool,
}

/// Write to the applicant in the thread, or add an internal note, on a
/// mediation you own.
#[utoipa::path(tag = "mediations", security(("bearer" = [])), params(("id" = Uuid, Path)), request_body = StaffMediationMessageRequest, responses(
    (status = 201, body = MediationView),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody, description = "`forbidden`: not a mediator"),
    (status = 404, body = ErrorBody, description = "`mediation_not_found`: not yours"),
    (status = 409, body = ErrorBody, description = "`state_conflict`: refused, withdrawn or closed"),
    (status = 422, body = ErrorBody, description = "`validation_failed`: empty or too long"),
    (status = 503, body = ErrorBody, description = "`audit_unavailable`: the personal data audit could not be written, so the case is not shown with its opened personal data (whatever the request changed stands; read the case again later)"),
))]
#[post("/staff/mediations/{id}/messages")]
pub async fn post_staff_mediation_message(
    state: web::Data<AppState>,
    auth: MediatorAuth,
    request_id: RequestId,
    id: web::Path<Uuid>,
    body: web::Json<StaffMediationMessageRequest>,
) -> Result<HttpResponse, ApiError> {
    let id: CaseId = id.into_inner().into();
    // Not yours: 404 before anything about the text.
    owned_mediation(&state, id, &auth).await?;
    let text = MessageBody::parse(&body.body)?;
    state
        .store
        .mediations()
        .post_message(
            id,
            ThreadAuthor::Owner {
                staff: auth.id,
                internal: body.internal,
            },
            &text,
            context(auth.principal(), &request_id),
        )
        .await
        .map_err(ApiError::store_not_found(ErrorCode::MediationNotFound))?;
    Ok(HttpResponse::Created().json(staff_mediation_view(&state, id, &auth).await?))
}
