use super::{lawyer_view, supervised_consultation_view};
use crate::extract::{CaseReader, LawyerAuth};
use crate::views::ConsultationView;
use crate::{ApiError, AppState, ErrorBody};
use actix_web::{get, web};
use uuid::Uuid;

/// A consultation you own, are offered, or may claim, or (coordinators and administrators) any
/// consultation in your subtree: full thread (with internal notes) and full
/// history. A coordinator reads; the lawyer's verbs stay the lawyer's.
#[utoipa::path(tag = "staff", security(("bearer" = [])), params(("id" = Uuid, Path)), responses(
    (status = 200, body = ConsultationView),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody, description = "`forbidden`: not a lawyer, coordinator or administrator"),
    (status = 404, body = ErrorBody, description = "`consultation_not_found`: also for cases outside your reach (another street's, for a coordinator)"),
    (status = 503, body = ErrorBody, description = "`audit_unavailable`: the personal data audit could not be written, so the case is not shown with its opened personal data (whatever the request changed stands; read the case again later)"),
))]
#[get("/staff/consultations/{id}")]
pub async fn get_staff_consultation(
    state: web::Data<AppState>,
    auth: CaseReader<LawyerAuth>,
    id: web::Path<Uuid>,
) -> Result<web::Json<ConsultationView>, ApiError> {
    let id = id.into_inner().into();
    Ok(web::Json(match auth {
        CaseReader::Handler(lawyer) => lawyer_view(&state, id, &lawyer).await?,
        CaseReader::Coordinator(coordinator) => {
            supervised_consultation_view(&state, id, &coordinator).await?
        }
    }))
}
