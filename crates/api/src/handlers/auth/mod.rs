pub mod demo_login;
pub mod logout;
pub mod password;
pub mod refresh;
pub mod staff_login;
pub mod wechat_login;

use crate::auth::{Principal, RefreshToken};
use crate::views::TokenResponse;
use crate::{ApiError, AppState};
use sansuo_store::identity::Subject;

/// Log in: a new session (a new refresh-token family) and its first
/// token pair. A staff member's access token carries the account's
/// session `epoch`.
pub(crate) async fn issue_tokens(
    state: &AppState,
    principal: Principal,
    epoch: i32,
) -> Result<TokenResponse, ApiError> {
    let now = chrono::Utc::now();
    let (subject, staff) = match principal {
        Principal::Resident(id) => (Subject::Resident(id), false),
        Principal::Staff { id, .. } => (Subject::Staff(id), true),
    };
    let refresh = state.tokens.refresh(staff, now);
    // Random, not time-ordered: the family id must not date the login.
    let family = uuid::Uuid::new_v4();
    state
        .store
        .identity()
        .insert_refresh_token(&refresh.hash, family, subject, refresh.expires_at)
        .await?;
    respond(state, principal, epoch, refresh)
}

/// The response for a stored refresh token and a fresh access token.
pub(crate) fn respond(
    state: &AppState,
    principal: Principal,
    epoch: i32,
    refresh: RefreshToken,
) -> Result<TokenResponse, ApiError> {
    let (access_token, expires_at) = state
        .tokens
        .access(principal, epoch, chrono::Utc::now())
        .map_err(ApiError::internal)?;
    let (subject_id, role) = match principal {
        Principal::Resident(id) => (id.as_uuid(), None),
        Principal::Staff { id, role, .. } => (id.as_uuid(), Some(role.as_str().to_owned())),
    };
    Ok(TokenResponse {
        access_token,
        token_type: "Bearer".into(),
        expires_at,
        refresh_token: refresh.token,
        refresh_expires_at: refresh.expires_at,
        subject_id,
        role,
    })
}
