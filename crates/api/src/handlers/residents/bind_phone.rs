use crate::error::ErrorCode;
use crate::extract::{ResidentWrite, write};
use crate::views::ResidentView;
use crate::{ApiError, AppState, ErrorBody};
use actix_web::{post, web};
use sansuo_wechat::WechatError;
use serde::Deserialize;
use utoipa::ToSchema;

/// What the sealed number is bound to: a value cannot be moved to another field.
pub const PHONE_CONTEXT: &str = "resident.phone";

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BindPhoneRequest {
    /// The code from the mini-program's `getPhoneNumber` button (single use, 5 minutes).
    pub code: String,
}

/// Bind the resident's phone number through WeChat. The number is sealed
/// at rest and only ever shown masked (`138****1234`).
#[utoipa::path(tag = "residents", security(("bearer" = [])), request_body = BindPhoneRequest, responses(
    (status = 429, body = ErrorBody, description = "`rate_limited`: too many of these lately; see Retry-After"),
    (status = 200, body = ResidentView),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody),
    (status = 422, body = ErrorBody, description = "`phone_code_invalid`: the code is wrong, used or expired"),
    (status = 404, body = ErrorBody, description = "`feature_disabled`: this server keeps no phone numbers (no data keys or no WeChat)"),
    (status = 503, body = ErrorBody, description = "`wechat_unavailable` (retry)"),
))]
#[post("/me/phone")]
pub async fn bind_phone(
    state: web::Data<AppState>,
    auth: ResidentWrite<write::BindPhone>,
    body: web::Json<BindPhoneRequest>,
) -> Result<web::Json<ResidentView>, ApiError> {
    let vault = state.vault.as_ref().ok_or_else(|| {
        ApiError::new(
            ErrorCode::FeatureDisabled,
            "phone numbers cannot be stored on this server (no data keys): phone binding is switched off",
        )
    })?;
    let wechat = state.wechat.as_ref().ok_or_else(|| {
        ApiError::new(
            ErrorCode::FeatureDisabled,
            "WeChat is not configured on this server: phone binding is switched off",
        )
    })?;
    let phone = wechat.get_phone_number(body.code.trim()).await.map_err(|e| match e {
        WechatError::InvalidCode | WechatError::InvalidArgument(_) => ApiError::new(ErrorCode::PhoneCodeInvalid, "the phone-number code is wrong, used or expired; ask the resident to tap the button again",
        ),
        e if e.is_retryable() => ApiError::new(ErrorCode::WechatUnavailable, "WeChat is busy or unreachable; try again"),
        e => ApiError::internal(format!("wechat: {e}")),
    })?;
    let sealed = vault.seal(PHONE_CONTEXT, phone.expose_pure_phone_number());
    state
        .store
        .identity()
        .bind_phone(
            auth.0,
            &sealed,
            &sansuo_domain::privacy::mask_phone(phone.expose_pure_phone_number()),
            chrono::Utc::now(),
        )
        .await?;
    tracing::info!(resident = %auth.0, "phone number bound");
    Ok(web::Json(super::resident_view(&state, auth.0).await?))
}
