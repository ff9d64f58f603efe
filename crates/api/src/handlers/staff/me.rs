use crate::extract::StaffAuth;
use crate::views::StaffView;
use crate::{ApiError, AppState, ErrorBody};
use actix_web::{get, web};
use sansuo_domain::StaffId;

/// The calling staff member's account, with the console's settings
/// (`map_url_template`).
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
    Ok(web::Json(profile(&state, auth.id).await?))
}

/// The account as its owner sees it, with whether a WeChat is bound.
pub(crate) async fn profile(state: &AppState, id: StaffId) -> Result<StaffView, ApiError> {
    let (account, openid) = tokio::try_join!(
        state.store.identity().staff(id),
        state.store.identity().staff_wechat_openid(id)
    )?;
    let account = account.ok_or_else(|| ApiError::unauthenticated("account no longer exists"))?;
    Ok(StaffView {
        wechat_bound: openid.is_some(),
        map_url_template: state.config.map_url_template.clone(),
        ..account.into()
    })
}
