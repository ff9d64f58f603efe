use super::respond;
use crate::auth::{Principal, hash_refresh_token};
use crate::error::ErrorCode;
use crate::views::TokenResponse;
use crate::{ApiError, AppState, ErrorBody};
use actix_web::{post, web};
use sansuo_store::identity::{Rotation, Subject};
use serde::Deserialize;
use utoipa::ToSchema;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    pub refresh_token: String,
}

/// Trade a refresh token for a new token pair.
///
/// Each refresh token works once. Presenting one that was already used
/// means it was copied: the whole session (every token rotated from the
/// same login) ends, the owner's and the copier's alike. A staff member's
/// session also ends when the account was deactivated or changed.
#[utoipa::path(tag = "auth", request_body = RefreshRequest, responses(
    (status = 200, body = TokenResponse),
    (status = 401, body = ErrorBody, description = "`invalid_refresh_token`: unknown, expired or already used (the session has ended); `session_ended`"),
))]
#[post("/auth/refresh")]
pub async fn refresh(
    state: web::Data<AppState>,
    body: web::Json<RefreshRequest>,
) -> Result<web::Json<TokenResponse>, ApiError> {
    let invalid = || ApiError::from(ErrorCode::InvalidRefreshToken);
    let now = chrono::Utc::now();
    let hash = hash_refresh_token(body.refresh_token.trim());
    let tokens = &state.tokens;
    // The new token is made before we know whose it is: the rotation
    // stores it in the same transaction that spends the old one.
    let expiry =
        |subject: Subject| tokens.refresh_expiry(matches!(subject, Subject::Staff(_)), now);
    let mut token = tokens.refresh(true, now);
    let rotation = state
        .store
        .identity()
        .rotate_refresh_token(&hash, &token.hash, expiry, now)
        .await?;
    let (subject, family) = match rotation {
        Rotation::Rotated { subject, family } => (subject, family),
        Rotation::Reused => {
            tracing::warn!("a used refresh token was presented again: its session has ended");
            return Err(invalid());
        }
        Rotation::Unknown => return Err(invalid()),
    };
    let (principal, epoch) = match subject {
        Subject::Resident(id) => (Principal::Resident(id), 0),
        Subject::Staff(id) => {
            // Re-read the account: a deactivated or re-scoped staff member
            // must not keep old powers through refreshes.
            let session = state
                .store
                .identity()
                .staff_session(id)
                .await?
                .filter(|s| s.active && (!s.demo || state.config.demo_login));
            let Some(session) = session else {
                state.store.identity().end_refresh_family_id(family).await?;
                return Err(ErrorCode::SessionEnded.into());
            };
            (
                Principal::Staff {
                    id,
                    role: session.role,
                    scope: session.scope,
                },
                session.epoch,
            )
        }
    };
    token.expires_at = expiry(subject);
    Ok(web::Json(respond(&state, principal, epoch, token)?))
}
