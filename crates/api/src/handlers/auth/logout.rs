use crate::auth::hash_refresh_token;
use crate::{ApiError, AppState};
use actix_web::{HttpResponse, post, web};
use serde::Deserialize;
use utoipa::ToSchema;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LogoutRequest {
    /// Any refresh token of the session; every token rotated from the same
    /// login ends with it.
    pub refresh_token: String,
}

/// Log out: end the session of this refresh token. Its refresh tokens stop
/// working at once; an access token already issued lives out its short
/// lifetime (15 minutes by default), so the client forgets it too. 204
/// whether or not the session was still there.
#[utoipa::path(tag = "auth", request_body = LogoutRequest, responses(
    (status = 204, description = "The session has ended"),
))]
#[post("/auth/logout")]
pub async fn logout(
    state: web::Data<AppState>,
    body: web::Json<LogoutRequest>,
) -> Result<HttpResponse, ApiError> {
    let hash = hash_refresh_token(body.refresh_token.trim());
    state.store.identity().end_refresh_family(&hash).await?;
    Ok(HttpResponse::NoContent().finish())
}
