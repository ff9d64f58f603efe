use super::issue_tokens;
use crate::auth::{Principal, hash_refresh_token};
use crate::error::ErrorCode;
use crate::views::TokenResponse;
use crate::{ApiError, AppState, ErrorBody};
use actix_web::{post, web};
use sansuo_store::identity::Subject;
use serde::Deserialize;
use utoipa::ToSchema;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    pub refresh_token: String,
}

/// Trade a refresh token for a new token pair. Each refresh token works
/// once; a replayed one is refused.
#[utoipa::path(tag = "auth", request_body = RefreshRequest, responses(
    (status = 200, body = TokenResponse),
    (status = 401, body = ErrorBody, description = "`invalid_refresh_token`: unknown, expired or already used"),
))]
#[post("/auth/refresh")]
pub async fn refresh(
    state: web::Data<AppState>,
    body: web::Json<RefreshRequest>,
) -> Result<web::Json<TokenResponse>, ApiError> {
    let invalid = || {
        ApiError::new(
            ErrorCode::InvalidRefreshToken,
            "the refresh token is unknown, expired or already used; log in again",
        )
    };
    let hash = hash_refresh_token(body.refresh_token.trim());
    let subject = state
        .store
        .identity()
        .consume_refresh_token(&hash, chrono::Utc::now())
        .await?
        .ok_or_else(invalid)?;
    let principal = match subject {
        Subject::Resident(id) => Principal::Resident(id),
        Subject::Staff(id) => {
            // Re-read the account: a deactivated or re-scoped staff member
            // must not keep old powers through refreshes.
            let account = state
                .store
                .identity()
                .staff(id)
                .await?
                .filter(|a| a.active)
                .ok_or_else(invalid)?;
            let role = account.role.parse().map_err(ApiError::internal)?;
            Principal::Staff {
                id,
                role,
                scope: account.org_unit_id.into(),
            }
        }
    };
    Ok(web::Json(issue_tokens(&state, principal).await?))
}
