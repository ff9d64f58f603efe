use super::resident_view;
use crate::extract::ResidentAuth;
use crate::views::ConsultationView;
use crate::{ApiError, AppState, ErrorBody};
use actix_web::{get, web};
use uuid::Uuid;

/// One of the calling resident's consultations, with its public thread and history.
#[utoipa::path(tag = "consultations", security(("bearer" = [])), params(("id" = Uuid, Path)), responses(
    (status = 200, body = ConsultationView),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody),
    (status = 404, body = ErrorBody, description = "`consultation_not_found` (also for other residents' cases)"),
))]
#[get("/consultations/{id}")]
pub async fn get_consultation(
    state: web::Data<AppState>,
    auth: ResidentAuth,
    id: web::Path<Uuid>,
) -> Result<web::Json<ConsultationView>, ApiError> {
    Ok(web::Json(
        resident_view(&state, id.into_inner().into(), auth.0).await?,
    ))
}
