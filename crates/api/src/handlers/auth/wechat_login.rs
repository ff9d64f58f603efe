use super::issue_tokens;
use crate::auth::Principal;
use crate::error::ErrorCode;
use crate::views::TokenResponse;
use crate::{ApiError, AppState, ErrorBody};
use actix_web::{post, web};
use sansuo_wechat::WechatError;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WechatLoginRequest {
    /// The code from `wx.login()`; valid once, for five minutes.
    pub code: String,
}

/// Log a resident in with a `wx.login()` code.
///
/// Exchanges the code at WeChat's `jscode2session`, finds or creates the
/// resident by openid, and returns tokens. WeChat's `session_key` is never
/// returned or logged.
#[utoipa::path(tag = "auth", request_body = WechatLoginRequest, responses(
    (status = 200, body = TokenResponse),
    (status = 401, body = ErrorBody, description = "`wechat_code_invalid`: the code is wrong, expired or used"),
    (status = 403, body = ErrorBody, description = "`wechat_risky_user`: WeChat refused this user"),
    (status = 422, body = ErrorBody, description = "`invalid_body`"),
    (status = 429, body = ErrorBody, description = "`wechat_rate_limited`: too many logins; see Retry-After"),
    (status = 404, body = ErrorBody, description = "`feature_disabled`: WeChat is not configured on this server"),
    (status = 503, body = ErrorBody, description = "`wechat_unavailable` (retry)"),
))]
#[post("/auth/wechat")]
pub async fn wechat_login(
    state: web::Data<AppState>,
    body: web::Json<WechatLoginRequest>,
) -> Result<web::Json<TokenResponse>, ApiError> {
    let wechat = state.wechat.as_ref().ok_or_else(|| {
        ApiError::new(
            ErrorCode::FeatureDisabled,
            "WeChat login is switched off on this server (no WeChat credentials); demo servers log in at /auth/demo",
        )
    })?;
    let session = wechat
        .code_to_session(body.code.trim())
        .await
        .map_err(session_error)?;
    let resident = state
        .store
        .identity()
        .upsert_resident(
            &session.openid,
            session.unionid.as_deref(),
            chrono::Utc::now(),
        )
        .await?;
    Ok(web::Json(
        issue_tokens(&state, Principal::Resident(resident.id), 0).await?,
    ))
}

/// WeChat refused to exchange a `wx.login()` code: the same answer for a
/// resident logging in and a staff member binding their WeChat.
pub(crate) fn session_error(e: WechatError) -> ApiError {
    match e {
        WechatError::InvalidCode => ApiError::new(
            ErrorCode::WechatCodeInvalid,
            "the login code is invalid, expired or already used; call wx.login() again",
        ),
        WechatError::RateLimited => ApiError::rate_limited(
            ErrorCode::WechatRateLimited,
            "WeChat is limiting logins; try again shortly",
            10,
        ),
        WechatError::RiskyUser => {
            ApiError::forbidden("WeChat flagged this account as high-risk; login refused")
        }
        e if e.is_retryable() => {
            tracing::warn!(error = %e, "wechat unavailable");
            ApiError::new(
                ErrorCode::WechatUnavailable,
                "WeChat is busy or unreachable; try again",
            )
        }
        e => ApiError::internal(format!("wechat: {e}")),
    }
}
