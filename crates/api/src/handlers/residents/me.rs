use crate::extract::ResidentAuth;
use crate::views::ResidentView;
use crate::{ApiError, AppState, ErrorBody};
use actix_web::{get, web};

/// The calling resident: their id and, if bound, their masked phone number.
#[utoipa::path(tag = "residents", security(("bearer" = [])), responses(
    (status = 200, body = ResidentView),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody, description = "`forbidden`: not a resident"),
))]
#[get("/me")]
pub async fn me(
    state: web::Data<AppState>,
    auth: ResidentAuth,
) -> Result<web::Json<ResidentView>, ApiError> {
    let resident = state
        .store
        .resident(auth.0)
        .await?
        .ok_or_else(|| ApiError::unauthenticated("this resident no longer exists"))?;
    Ok(web::Json(ResidentView {
        id: resident.id,
        phone_masked: resident.phone_masked,
        phone_bound_at: resident.phone_bound_at,
    }))
}
