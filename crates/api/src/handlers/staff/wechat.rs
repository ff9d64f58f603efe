//! A staff member binds their WeChat so that offers, urges, supervision,
//! overdue cases and extension decisions also reach them as subscribe
//! messages. The openid is kept in the store and never shown.

use super::me::profile;
use crate::error::ErrorCode;
use crate::extract::StaffAuth;
use crate::handlers::auth::wechat_login::session_error;
use crate::views::StaffView;
use crate::{ApiError, AppState, ErrorBody};
use actix_web::{HttpResponse, delete, post, web};
use sansuo_domain::ValidationError;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BindWechatRequest {
    /// The code from `wx.login()` in the mini-program, signed in as this
    /// staff member; valid once, for five minutes.
    pub code: String,
}

/// Bind the caller's WeChat (a `wx.login()` code) to their staff account,
/// replacing any bound before. One WeChat user binds one staff account.
#[utoipa::path(tag = "staff", security(("bearer" = [])), request_body = BindWechatRequest, responses(
    (status = 200, body = StaffView),
    (status = 401, body = ErrorBody, description = "`wechat_code_invalid`: the code is wrong, expired or used"),
    (status = 403, body = ErrorBody, description = "`forbidden`: residents have no staff account, or WeChat refused this user"),
    (status = 404, body = ErrorBody, description = "`feature_disabled`: WeChat is not configured on this server"),
    (status = 409, body = ErrorBody, description = "`wechat_bound_elsewhere`: this WeChat user is bound to another staff account"),
    (status = 422, body = ErrorBody, description = "`invalid_body`; `validation_failed`: no code"),
    (status = 429, body = ErrorBody, description = "`wechat_rate_limited`: WeChat is limiting logins; see Retry-After"),
    (status = 503, body = ErrorBody, description = "`wechat_unavailable` (retry)"),
))]
#[post("/staff/me/wechat")]
pub async fn bind_wechat(
    state: web::Data<AppState>,
    auth: StaffAuth,
    body: web::Json<BindWechatRequest>,
) -> Result<web::Json<StaffView>, ApiError> {
    let code = body.code.trim();
    if code.is_empty() || code.len() > 128 {
        return Err(ValidationError::new("code", "the code from wx.login()").into());
    }
    let wechat = state.wechat.as_ref().ok_or_else(|| {
        ApiError::new(
            ErrorCode::FeatureDisabled,
            "WeChat is switched off on this server (no WeChat credentials)",
        )
    })?;
    let session = wechat.code_to_session(code).await.map_err(session_error)?;
    let bound = state
        .store
        .identity()
        .bind_staff_wechat(auth.id, &session.openid, chrono::Utc::now())
        .await?;
    if !bound {
        return Err(ApiError::new(
            ErrorCode::WechatBoundElsewhere,
            ErrorCode::WechatBoundElsewhere.default_message(),
        ));
    }
    tracing::info!(staff_id = %auth.id, "staff bound their WeChat");
    Ok(web::Json(profile(&state, auth.id).await?))
}

/// Unbind the caller's WeChat: no more subscribe messages. Nothing bound
/// is not an error.
#[utoipa::path(tag = "staff", security(("bearer" = [])), responses(
    (status = 204, description = "Unbound"),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody, description = "`forbidden`: residents have no staff account"),
))]
#[delete("/staff/me/wechat")]
pub async fn unbind_wechat(
    state: web::Data<AppState>,
    auth: StaffAuth,
) -> Result<HttpResponse, ApiError> {
    if state.store.identity().unbind_staff_wechat(auth.id).await? {
        tracing::info!(staff_id = %auth.id, "staff unbound their WeChat");
    }
    Ok(HttpResponse::NoContent().finish())
}
