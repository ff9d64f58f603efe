//! Staff passwords: a change by the account's owner (with the current
//! password) and a reset by a coordinator or administrator. Either ends
//! every session of the account at once.

use super::issue_tokens;
use super::staff_login::{PASSWORD_CHECKS, password_matches};
use crate::auth::{Principal, hash_password};
use crate::error::ErrorCode;
use crate::extract::{AdminAuth, StaffAuth};
use crate::scoped::{Body, Scoped};
use crate::throttle::{self, LoginKeys};
use crate::views::TokenResponse;
use crate::{ApiError, AppState, ErrorBody};
use actix_web::{HttpRequest, HttpResponse, post, web};
use sansuo_domain::account::StaffPassword;
use sansuo_domain::{StaffId, StaffRole};
use serde::Deserialize;
use utoipa::ToSchema;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePasswordRequest {
    pub current_password: String,
    /// 10 to 256 characters.
    pub new_password: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetPasswordRequest {
    /// 10 to 256 characters; tell it to the person another way.
    pub new_password: String,
}

async fn hashed(password: StaffPassword) -> Result<String, ApiError> {
    web::block(move || hash_password(password.expose()))
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)
}

/// Change your own password. Every session of the account ends (other
/// devices log in again); this one goes on with the new tokens answered.
/// Wrong current passwords count as failed logins (see `POST /auth/staff`).
#[utoipa::path(tag = "auth", security(("bearer" = [])), request_body = ChangePasswordRequest, responses(
    (status = 200, body = TokenResponse, description = "The new session's tokens"),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody),
    (status = 422, body = ErrorBody, description = "`current_password_wrong`; `validation_failed`: the new password breaks the rules"),
    (status = 429, body = ErrorBody, description = "`rate_limited`: too many failed attempts from this address; see Retry-After"),
))]
#[post("/staff/me/password")]
pub async fn change_password(
    state: web::Data<AppState>,
    req: HttpRequest,
    auth: StaffAuth,
    body: web::Json<ChangePasswordRequest>,
) -> Result<web::Json<TokenResponse>, ApiError> {
    let body = body.into_inner();
    let new = StaffPassword::parse(&body.new_password)
        .map_err(|e| sansuo_domain::ValidationError::new("new_password", e.message))?;
    let account = state
        .store
        .identity()
        .staff(auth.id)
        .await?
        .ok_or(ErrorCode::SessionEnded)?;
    let keys = LoginKeys::new(
        "staff",
        &account.username,
        throttle::client_address(&req, &state.config.trusted_proxies),
    );
    {
        let _permit = PASSWORD_CHECKS
            .acquire()
            .await
            .map_err(ApiError::internal)?;
        throttle::check(&state, &keys).await?;
        if !password_matches(body.current_password, account.password_hash.clone()).await? {
            throttle::failed(&state, &keys).await;
            return Err(ErrorCode::CurrentPasswordWrong.into());
        }
    }
    state
        .store
        .identity()
        .set_staff_password(auth.id, &hashed(new).await?)
        .await?;
    tracing::info!(staff = %auth.id, "password changed; every session ended");
    let session = state
        .store
        .identity()
        .staff_session(auth.id)
        .await?
        .ok_or(ErrorCode::SessionEnded)?;
    let principal = Principal::Staff {
        id: auth.id,
        role: session.role,
        scope: session.scope,
    };
    Ok(web::Json(
        issue_tokens(&state, principal, session.epoch).await?,
    ))
}

/// Set another staff member's password (they forgot it). Every session of
/// that account ends at once. Within your organisation only; only an
/// administrator resets an administrator's; your own you change with
/// `POST /staff/me/password`.
#[utoipa::path(tag = "admin", security(("bearer" = [])), params(("id" = Uuid, Path)), request_body = ResetPasswordRequest, responses(
    (status = 204, description = "Set; the account's sessions have ended"),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody, description = "`forbidden`: an administrator's account, or your own"),
    (status = 404, body = ErrorBody, description = "`staff_not_found`"),
    (status = 422, body = ErrorBody, description = "`validation_failed`"),
))]
#[post("/admin/staff/{id}/password")]
pub async fn reset_password(
    state: web::Data<AppState>,
    admin: AdminAuth,
    scoped: Scoped<StaffId>,
    body: Body<ResetPasswordRequest>,
) -> Result<HttpResponse, ApiError> {
    let id = scoped.id();
    let account = state
        .store
        .identity()
        .staff(id)
        .await?
        .ok_or_else(|| ApiError::from(ErrorCode::StaffNotFound))?;
    if id == admin.id {
        return Err(ApiError::forbidden(
            "change your own password with POST /staff/me/password",
        ));
    }
    if account.role == StaffRole::Admin && admin.role != StaffRole::Admin {
        return Err(ApiError::forbidden(
            "only an administrator may reset an administrator's password",
        ));
    }
    let new = StaffPassword::parse(&body.new_password)
        .map_err(|e| sansuo_domain::ValidationError::new("new_password", e.message))?;
    state
        .store
        .identity()
        .set_staff_password(id, &hashed(new).await?)
        .await?;
    tracing::info!(admin = %admin.id, staff = %id, "password reset; every session ended");
    Ok(HttpResponse::NoContent().finish())
}
