pub mod demo_login;
pub mod refresh;
pub mod staff_login;
pub mod wechat_login;

use crate::auth::Principal;
use crate::views::TokenResponse;
use crate::{ApiError, AppState};
use sansuo_store::identity::Subject;

/// Issue an access + refresh token pair and remember the refresh token's hash.
pub(crate) async fn issue_tokens(
    state: &AppState,
    principal: Principal,
) -> Result<TokenResponse, ApiError> {
    let now = chrono::Utc::now();
    let pair = state
        .tokens
        .issue(principal, now)
        .map_err(ApiError::internal)?;
    let (subject, subject_id, role) = match principal {
        Principal::Resident(id) => (Subject::Resident(id), id.as_uuid(), None),
        Principal::Staff { id, role, .. } => (
            Subject::Staff(id),
            id.as_uuid(),
            Some(role.as_str().to_owned()),
        ),
    };
    state
        .store
        .identity()
        .insert_refresh_token(
            &pair.refresh_token_hash,
            subject,
            pair.refresh_expires_at,
            now,
        )
        .await?;
    Ok(TokenResponse {
        access_token: pair.access_token,
        token_type: "Bearer".into(),
        expires_at: pair.access_expires_at,
        refresh_token: pair.refresh_token,
        refresh_expires_at: pair.refresh_expires_at,
        subject_id,
        role,
    })
}
