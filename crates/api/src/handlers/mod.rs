pub mod admin;
pub mod auth;
pub mod categories;
pub mod communities;
pub mod consultations;
pub mod health;
pub mod mediations;
pub mod open311;
pub mod residents;
pub mod staff;
pub mod tips;
pub mod wechat;

use crate::ApiError;
use crate::middleware::RequestId;
use sansuo_domain::Actor;
use sansuo_store::consultations::Context;

/// Unknown paths answer in the same JSON error shape as everything else.
pub async fn not_found() -> Result<actix_web::HttpResponse, ApiError> {
    Err(ApiError::NotFound(
        "route_not_found",
        "no such endpoint; see /docs".into(),
    ))
}

/// The history context of a change made by `actor` in this request.
pub fn context<'a>(actor: impl Into<Actor>, request_id: &'a RequestId) -> Context<'a> {
    Context {
        actor: actor.into(),
        request_id: Some(request_id.as_str()),
        now: chrono::Utc::now(),
    }
}
