use crate::extract::LawyerAuth;
use crate::views::{self, OfferList};
use crate::{ApiError, AppState, ErrorBody};
use actix_web::{get, web};

/// Offers waiting for the calling lawyer's answer, soonest deadline first.
#[utoipa::path(tag = "staff", security(("bearer" = [])), responses(
    (status = 200, body = OfferList),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody, description = "`forbidden`: not a lawyer"),
))]
#[get("/staff/offers")]
pub async fn list_offers(
    state: web::Data<AppState>,
    auth: LawyerAuth,
) -> Result<web::Json<OfferList>, ApiError> {
    let offers = state
        .store
        .pending_offers_for(auth.id, chrono::Utc::now())
        .await?;
    Ok(web::Json(OfferList {
        items: offers
            .iter()
            .map(|(o, r)| views::offer_view(o, r))
            .collect(),
    }))
}
