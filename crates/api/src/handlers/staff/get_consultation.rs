use super::lawyer_view;
use crate::extract::LawyerAuth;
use crate::views::ConsultationView;
use crate::{ApiError, AppState, ErrorBody};
use actix_web::{get, web};
use uuid::Uuid;

/// A consultation you own, are offered, or may claim: full thread (with
/// internal notes) and full history.
#[utoipa::path(tag = "staff", security(("bearer" = [])), params(("id" = Uuid, Path)), responses(
    (status = 200, body = ConsultationView),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody),
    (status = 404, body = ErrorBody, description = "`consultation_not_found`: also for cases outside your reach"),
))]
#[get("/staff/consultations/{id}")]
pub async fn get_staff_consultation(
    state: web::Data<AppState>,
    auth: LawyerAuth,
    id: web::Path<Uuid>,
) -> Result<web::Json<ConsultationView>, ApiError> {
    Ok(web::Json(
        lawyer_view(&state, id.into_inner().into(), &auth).await?,
    ))
}
