use super::issue_tokens;
use crate::auth::Principal;
use crate::error::ErrorCode;
use crate::views::TokenResponse;
use crate::{ApiError, AppState, ErrorBody};
use actix_web::{post, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DemoLoginRequest {
    /// Any name of 1 to 32 characters, not all blank (the name is trimmed);
    /// the same name is the same demo resident.
    #[schema(example = "xiaoming", min_length = 1, max_length = 32, pattern = r"\S")]
    pub name: String,
}

/// Log in as a demo resident, without WeChat (demo mode only).
#[utoipa::path(tag = "auth", request_body = DemoLoginRequest, responses(
    (status = 200, body = TokenResponse),
    (status = 404, body = ErrorBody, description = "`demo_login_disabled`: the server is not in demo mode"),
    (status = 422, body = ErrorBody, description = "`validation_failed`"),
))]
#[post("/auth/demo")]
pub async fn demo_login(
    state: web::Data<AppState>,
    body: web::Json<DemoLoginRequest>,
) -> Result<web::Json<TokenResponse>, ApiError> {
    if !state.config.demo_login {
        return Err(ApiError::new(
            ErrorCode::DemoLoginDisabled,
            "demo login is only available in demo mode",
        ));
    }
    // The length is the sent name's, as the spec's maxLength counts it.
    let name = body.name.trim();
    if name.is_empty() || body.name.chars().count() > 32 {
        return Err(
            sansuo_domain::ValidationError::new("name", "must be 1 to 32 characters").into(),
        );
    }
    // A prefix no real openid has, so demo residents never collide with WeChat ones.
    let openid = format!("demo:{name}");
    let resident = state
        .store
        .identity()
        .upsert_resident(&openid, None, chrono::Utc::now())
        .await?;
    Ok(web::Json(
        issue_tokens(&state, Principal::Resident(resident.id), 0).await?,
    ))
}
