use super::issue_tokens;
use crate::auth::{Principal, hash_password, verify_password};
use crate::error::ErrorCode;
use crate::views::TokenResponse;
use crate::{ApiError, AppState, ErrorBody};
use actix_web::{post, web};
use serde::Deserialize;
use std::sync::LazyLock;
use utoipa::ToSchema;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StaffLoginRequest {
    #[schema(example = "lawyer.zhang")]
    pub username: String,
    pub password: String,
}

/// A hash of a password nobody has, verified when the username is unknown
/// so that "no such user" and "wrong password" take the same time.
static PASSWORD_CHECKS: LazyLock<tokio::sync::Semaphore> = LazyLock::new(|| {
    tokio::sync::Semaphore::new(std::thread::available_parallelism().map_or(2, |n| n.get()))
});

static DUMMY_HASH: LazyLock<String> =
    LazyLock::new(|| hash_password(&uuid::Uuid::now_v7().to_string()).expect("argon2 hashes"));

/// Log a lawyer, mediator, officer, coordinator or admin in.
#[utoipa::path(tag = "auth", request_body = StaffLoginRequest, responses(
    (status = 200, body = TokenResponse),
    (status = 401, body = ErrorBody, description = "`invalid_credentials`"),
    (status = 422, body = ErrorBody, description = "`invalid_body`"),
))]
#[post("/auth/staff")]
pub async fn staff_login(
    state: web::Data<AppState>,
    body: web::Json<StaffLoginRequest>,
) -> Result<web::Json<TokenResponse>, ApiError> {
    let body = body.into_inner();
    let account = state
        .store
        .identity()
        .staff_by_username(body.username.trim())
        .await?;
    let hash = account
        .as_ref()
        .map(|a| a.password_hash.clone())
        .unwrap_or_else(|| DUMMY_HASH.clone());
    // Argon2 is deliberately slow: keep it off the async workers.
    // At most one check per core at a time: each takes 19 MiB and a core
    // for tens of milliseconds; a Monday-morning login burst queues here
    // instead of multiplying memory.
    let _permit = PASSWORD_CHECKS
        .acquire()
        .await
        .map_err(ApiError::internal)?;
    let matches = web::block(move || verify_password(&body.password, &hash))
        .await
        .map_err(ApiError::internal)?;
    let account = match account {
        Some(a) if matches && a.active => a,
        _ => {
            return Err(ApiError::new(
                ErrorCode::InvalidCredentials,
                "wrong username or password",
            ));
        }
    };
    let role = account.role.parse().map_err(ApiError::internal)?;
    let principal = Principal::Staff {
        id: account.id.into(),
        role,
        scope: account.org_unit_id.into(),
    };
    Ok(web::Json(issue_tokens(&state, principal).await?))
}
