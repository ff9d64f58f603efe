use crate::extract::StaffAuth;
use crate::views::StaffView;
use crate::{ApiError, AppState, ErrorBody};
use actix_web::{get, web};

/// The calling staff member's account.
#[utoipa::path(tag = "staff", security(("bearer" = [])), responses(
    (status = 200, body = StaffView),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody, description = "`forbidden`: residents have no staff account"),
))]
#[get("/staff/me")]
pub async fn me(
    state: web::Data<AppState>,
    auth: StaffAuth,
) -> Result<web::Json<StaffView>, ApiError> {
    let account = state
        .store
        .identity()
        .staff(auth.id)
        .await?
        .ok_or_else(|| ApiError::unauthenticated("account no longer exists"))?;
    Ok(web::Json(account.into()))
}
