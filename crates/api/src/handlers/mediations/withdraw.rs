use super::{MediationView, PartyDetail, mediation_not_found, mediation_view};
use crate::extract::{ResidentWrite, write};
use crate::handlers::context;
use crate::middleware::RequestId;
use crate::{ApiError, AppState, ErrorBody};
use actix_web::{post, web};
use sansuo_domain::{Actor, CaseId};
use sansuo_store::StoreError;
use uuid::Uuid;

/// Withdraw your mediation before any session was held: booked sessions
/// are cancelled and the mediator is told.
#[utoipa::path(tag = "mediations", security(("bearer" = [])), params(("id" = Uuid, Path)), responses(
    (status = 429, body = ErrorBody, description = "`rate_limited`: too many of these lately; see Retry-After"),
    (status = 200, body = MediationView),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody),
    (status = 404, body = ErrorBody, description = "`mediation_not_found`"),
    (status = 409, body = ErrorBody, description = "`state_conflict`: a session was already held, or it is concluded"),
))]
#[post("/mediations/{id}/withdraw")]
pub async fn withdraw_mediation(
    state: web::Data<AppState>,
    auth: ResidentWrite<write::ChangeCase>,
    request_id: RequestId,
    id: web::Path<Uuid>,
) -> Result<web::Json<MediationView>, ApiError> {
    let id: CaseId = id.into_inner().into();
    state
        .store
        .mediations()
        .withdraw(id, auth.0, context(Actor::Resident(auth.0), &request_id))
        .await
        .map_err(|e| match e {
            StoreError::NotFound => mediation_not_found(),
            other => other.into(),
        })?;
    let record = state
        .store
        .mediations()
        .get(id)
        .await?
        .ok_or_else(mediation_not_found)?;
    Ok(web::Json(
        mediation_view(&state, &record, true, PartyDetail::Masked).await?,
    ))
}
