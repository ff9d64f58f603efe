use super::lawyer_view;
use crate::error::ErrorCode;
use crate::extract::LawyerAuth;
use crate::handlers::context;
use crate::middleware::RequestId;
use crate::views::ConsultationView;
use crate::{ApiError, AppState, ErrorBody};
use actix_web::{HttpResponse, post, web};
use sansuo_domain::values::MessageBody;
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Debug, Clone, Copy, Default, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MessageVisibility {
    /// A reply the resident reads. The first one marks the consultation answered.
    #[default]
    Public,
    /// A note for staff only; never shown to the resident.
    Internal,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StaffMessageRequest {
    /// 1 to 2000 characters.
    pub body: String,
    /// `public` (default) or `internal`.
    #[serde(default)]
    pub visibility: MessageVisibility,
}

/// Reply in the thread, or add an internal note, on a consultation you own.
#[utoipa::path(tag = "staff", security(("bearer" = [])), params(("id" = Uuid, Path)), request_body = StaffMessageRequest, responses(
    (status = 201, body = ConsultationView),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody),
    (status = 404, body = ErrorBody, description = "`consultation_not_found`: not yours"),
    (status = 409, body = ErrorBody, description = "`state_conflict`: closed or withdrawn"),
    (status = 422, body = ErrorBody, description = "`validation_failed`"),
    (status = 503, body = ErrorBody, description = "`audit_unavailable`: the personal data audit could not be written, so the case is not shown with its opened personal data (whatever the request changed stands; read the case again later)"),
))]
#[post("/staff/consultations/{id}/messages")]
pub async fn post_staff_message(
    state: web::Data<AppState>,
    auth: LawyerAuth,
    request_id: RequestId,
    id: web::Path<Uuid>,
    body: web::Json<StaffMessageRequest>,
) -> Result<HttpResponse, ApiError> {
    let text = MessageBody::parse(&body.body)?;
    let internal = matches!(body.visibility, MessageVisibility::Internal);
    let id = id.into_inner().into();
    state
        .store
        .consultations()
        .post_staff_message(
            id,
            auth.id,
            &text,
            internal,
            context(auth.principal(), &request_id),
        )
        .await
        .map_err(ApiError::store_not_found(ErrorCode::ConsultationNotFound))?;
    Ok(HttpResponse::Created().json(lawyer_view(&state, id, &auth).await?))
}
