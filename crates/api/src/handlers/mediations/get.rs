use super::{MediationView, PartyDetail, mediation_not_found, mediation_view};
use crate::extract::ResidentAuth;
use crate::{ApiError, AppState, ErrorBody};
use actix_web::{get, web};
use uuid::Uuid;

/// One of your mediations: status, sessions (time, room, address), the
/// mediator's name, the public history. Parties are shown masked.
#[utoipa::path(tag = "mediations", security(("bearer" = [])), params(("id" = Uuid, Path)), responses(
    (status = 200, body = MediationView),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody),
    (status = 404, body = ErrorBody, description = "`mediation_not_found` (also for other residents' cases)"),
))]
#[get("/mediations/{id}")]
pub async fn get_mediation(
    state: web::Data<AppState>,
    auth: ResidentAuth,
    id: web::Path<Uuid>,
) -> Result<web::Json<MediationView>, ApiError> {
    let record = state
        .store
        .mediations()
        .get(id.into_inner().into())
        .await?
        .filter(|r| r.case.resident_id == Some(auth.0.as_uuid()))
        .ok_or_else(mediation_not_found)?;
    Ok(web::Json(
        mediation_view(&state, &record, true, PartyDetail::Masked).await?,
    ))
}
