use crate::extract::CaseHandlerAuth;
use crate::views::{self, OfferList};
use crate::{ApiError, AppState, ErrorBody};
use actix_web::{get, web};

/// Offers waiting for your answer, soonest deadline first, of any service:
/// each says its `service` and carries that service's summary.
#[utoipa::path(tag = "staff", security(("bearer" = [])), responses(
    (status = 200, body = OfferList),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody, description = "`forbidden`: not staff who handle cases (residents, coordinators, administrators)"),
))]
#[get("/staff/offers")]
pub async fn list_offers(
    state: web::Data<AppState>,
    auth: CaseHandlerAuth,
) -> Result<web::Json<OfferList>, ApiError> {
    let offers = state
        .store
        .offers()
        .pending_for(auth.id, chrono::Utc::now())
        .await?;
    Ok(web::Json(OfferList {
        items: offers
            .iter()
            .map(|(o, c)| views::offer_view(o, c))
            .collect(),
    }))
}
