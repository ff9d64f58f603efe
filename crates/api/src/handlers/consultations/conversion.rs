use super::resident_view;
use crate::error::ErrorCode;
use crate::extract::{ResidentWrite, write};
use crate::handlers::context;
use crate::middleware::RequestId;
use crate::views::ConsultationView;
use crate::{ApiError, AppState, ErrorBody};
use actix_web::{post, web};
use sansuo_domain::Actor;
use uuid::Uuid;

async fn answer(
    state: &AppState,
    auth: &ResidentWrite<write::ChangeCase>,
    request_id: &RequestId,
    id: Uuid,
    consent: bool,
) -> Result<web::Json<ConsultationView>, ApiError> {
    let id = id.into();
    let mediation = state
        .store
        .consultations()
        .answer_conversion(
            id,
            auth.0,
            consent,
            context(Actor::Resident(auth.0), request_id),
        )
        .await
        .map_err(ApiError::store_codes(
            ErrorCode::ConsultationNotFound,
            ErrorCode::NoConversionProposed,
        ))?;
    match mediation {
        Some(m) => {
            tracing::info!(case_id = %id, mediation_id = %m, "conversion consented to");
            crate::handlers::route_case_soon(state, m, Some(request_id.as_str()));
        }
        None => tracing::info!(case_id = %id, "conversion refused"),
    }
    Ok(web::Json(resident_view(state, id, auth.0).await?))
}

/// Consent to the lawyer's proposal to turn your consultation into a
/// mediation (人民调解): the mediation is filed in your name in the same
/// community and routed to its mediators; the consultation ends as
/// `converted` and `converted_to` names the mediation.
#[utoipa::path(tag = "consultations", security(("bearer" = [])), params(("id" = Uuid, Path)), responses(
    (status = 429, body = ErrorBody, description = "`rate_limited`: too many of these lately; see Retry-After"),
    (status = 200, body = ConsultationView),
    (status = 401, body = ErrorBody),
    (status = 404, body = ErrorBody, description = "`consultation_not_found`"),
    (status = 409, body = ErrorBody, description = "`no_conversion_proposed`: nothing waits for your answer; `state_conflict`: the consultation has ended"),
))]
#[post("/consultations/{id}/conversion/accept")]
pub async fn accept_conversion(
    state: web::Data<AppState>,
    auth: ResidentWrite<write::ChangeCase>,
    request_id: RequestId,
    id: web::Path<Uuid>,
) -> Result<web::Json<ConsultationView>, ApiError> {
    answer(&state, &auth, &request_id, id.into_inner(), true).await
}

/// Refuse the lawyer's proposal to turn your consultation into a
/// mediation: the consultation goes on as it was.
#[utoipa::path(tag = "consultations", security(("bearer" = [])), params(("id" = Uuid, Path)), responses(
    (status = 429, body = ErrorBody, description = "`rate_limited`: too many of these lately; see Retry-After"),
    (status = 200, body = ConsultationView),
    (status = 401, body = ErrorBody),
    (status = 404, body = ErrorBody, description = "`consultation_not_found`"),
    (status = 409, body = ErrorBody, description = "`no_conversion_proposed`: nothing waits for your answer"),
))]
#[post("/consultations/{id}/conversion/refuse")]
pub async fn refuse_conversion(
    state: web::Data<AppState>,
    auth: ResidentWrite<write::ChangeCase>,
    request_id: RequestId,
    id: web::Path<Uuid>,
) -> Result<web::Json<ConsultationView>, ApiError> {
    answer(&state, &auth, &request_id, id.into_inner(), false).await
}
