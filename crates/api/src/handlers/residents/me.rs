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
    Ok(web::Json(super::resident_view(&state, auth.0).await?))
}
