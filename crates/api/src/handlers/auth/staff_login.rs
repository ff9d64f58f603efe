use super::issue_tokens;
use crate::auth::{Principal, hash_password, verify_password};
use crate::error::ErrorCode;
use crate::throttle::{self, LoginKeys};
use crate::views::TokenResponse;
use crate::{ApiError, AppState, ErrorBody};
use actix_web::{HttpRequest, post, web};
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

/// At most one password check per core at a time (see `staff_login`).
pub(crate) static PASSWORD_CHECKS: LazyLock<tokio::sync::Semaphore> = LazyLock::new(|| {
    tokio::sync::Semaphore::new(std::thread::available_parallelism().map_or(2, |n| n.get()))
});

/// A hash of a password nobody has, verified when the username is unknown
/// so that "no such user" and "wrong password" take the same time.
static DUMMY_HASH: LazyLock<String> =
    LazyLock::new(|| hash_password(&uuid::Uuid::now_v7().to_string()).expect("argon2 hashes"));

/// Whether `password` is the one of `hash`, off the async workers and at
/// most one check per core at a time: each takes 19 MiB and a core for
/// tens of milliseconds, so a Monday-morning login burst queues here
/// instead of multiplying memory.
pub(crate) async fn password_matches(password: String, hash: String) -> Result<bool, ApiError> {
    web::block(move || verify_password(&password, &hash))
        .await
        .map_err(ApiError::internal)
}

/// Log a lawyer, mediator, officer, coordinator or admin in.
///
/// Failed logins are counted per (account, client address) and per client
/// address; over 5 for one account or 30 in all from one address within 15
/// minutes, that address answers 429 until the window ends. The account is
/// never locked: its owner, elsewhere, logs in as always. Demo accounts
/// (`sansuo seed-demo`) log in only on a server running the demo.
#[utoipa::path(tag = "auth", request_body = StaffLoginRequest, responses(
    (status = 200, body = TokenResponse),
    (status = 401, body = ErrorBody, description = "`invalid_credentials`"),
    (status = 422, body = ErrorBody, description = "`invalid_body`"),
    (status = 429, body = ErrorBody, description = "`rate_limited`: too many failed logins from this address; see Retry-After"),
))]
#[post("/auth/staff")]
pub async fn staff_login(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Json<StaffLoginRequest>,
) -> Result<web::Json<TokenResponse>, ApiError> {
    let body = body.into_inner();
    let username = body.username.trim().to_owned();
    let keys = LoginKeys::new(
        "staff",
        &username,
        throttle::client_address(&req, &state.config.trusted_proxies),
    );
    // Checked and counted under the permit, so concurrent guesses cannot
    // all pass the check before any of them is counted.
    let _permit = PASSWORD_CHECKS
        .acquire()
        .await
        .map_err(ApiError::internal)?;
    throttle::check(&state, &keys).await?;
    let account = state.store.identity().staff_by_username(&username).await?;
    let hash = account
        .as_ref()
        .map(|a| a.password_hash.clone())
        .unwrap_or_else(|| DUMMY_HASH.clone());
    let matches = password_matches(body.password, hash).await?;
    let account = match account {
        Some(a) if matches && a.active && (!a.demo || state.config.demo_login) => a,
        other => {
            if !matches {
                throttle::failed(&state, &keys).await;
            } else if other.as_ref().is_some_and(|a| a.demo) {
                tracing::warn!("a demo account's login refused: this server does not run the demo");
            }
            return Err(ApiError::new(
                ErrorCode::InvalidCredentials,
                "wrong username or password",
            ));
        }
    };
    drop(_permit);
    let principal = Principal::Staff {
        id: account.id,
        role: account.role,
        scope: account.org_unit_id,
    };
    Ok(web::Json(
        issue_tokens(&state, principal, account.session_epoch).await?,
    ))
}
