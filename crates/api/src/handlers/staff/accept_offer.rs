use super::{StaffCaseView, owned_case_view};
use crate::error::ErrorCode;
use crate::extract::CaseHandlerAuth;
use crate::handlers::context;
use crate::middleware::RequestId;
use crate::{ApiError, AppState, ErrorBody};
use actix_web::{post, web};
use uuid::Uuid;

/// Accept an offer of any service: the case becomes yours. The answer is
/// the case as you now see it, with `service` saying which kind it is.
#[utoipa::path(tag = "staff", security(("bearer" = [])), params(("id" = Uuid, Path, description = "The offer id")), responses(
    (status = 200, body = StaffCaseView),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody, description = "`forbidden`: not staff who handle cases"),
    (status = 404, body = ErrorBody, description = "`offer_not_found`: no such offer to you"),
    (status = 409, body = ErrorBody, description = "`offer_not_pending`: already answered, expired or withdrawn"),
    (status = 503, body = ErrorBody, description = "`audit_unavailable`: the personal data audit could not be written, so the case is not shown with its opened personal data (whatever the request changed stands; read the case again later)"),
))]
#[post("/staff/offers/{id}/accept")]
pub async fn accept_offer(
    state: web::Data<AppState>,
    auth: CaseHandlerAuth,
    request_id: RequestId,
    id: web::Path<Uuid>,
) -> Result<web::Json<StaffCaseView>, ApiError> {
    let case_id = state
        .store
        .offers()
        .accept(
            id.into_inner().into(),
            auth.id,
            context(auth.principal(), &request_id),
        )
        .await
        .map_err(ApiError::store_codes(
            ErrorCode::OfferNotFound,
            ErrorCode::OfferNotPending,
        ))?;
    tracing::info!(%case_id, "offer accepted");
    Ok(web::Json(owned_case_view(&state, case_id, auth.id).await?))
}

/// Answer the live offer of `case` to this person, by case rather than by
/// offer id (the mediation and tip pages act on the case they show).
/// No live offer of it to them: `not_found()`.
pub(crate) async fn answer_offer_of_case(
    state: &AppState,
    case: sansuo_domain::CaseId,
    staff: sansuo_domain::StaffId,
    answer: OfferAnswer<'_>,
    ctx: sansuo_store::consultations::Context<'_>,
    not_found: fn() -> ApiError,
) -> Result<(), ApiError> {
    let offer = state
        .store
        .offers()
        .pending_of(case, staff, ctx.now)
        .await?
        .ok_or_else(not_found)?;
    match answer {
        OfferAnswer::Accept => state.store.offers().accept(offer.id, staff, ctx).await,
        // The store wakes the relay: the next candidate is asked at once.
        OfferAnswer::Decline(reason) => {
            state
                .store
                .offers()
                .decline(offer.id, staff, reason, ctx)
                .await
        }
    }
    .map(|_| ())
    .map_err(ApiError::store_codes(
        ErrorCode::OfferNotFound,
        ErrorCode::OfferNotPending,
    ))
}

#[derive(Debug, Clone, Copy)]
pub(crate) enum OfferAnswer<'a> {
    Accept,
    Decline(&'a str),
}
