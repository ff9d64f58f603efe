use crate::extract::{ResidentWrite, write};
use crate::views::{CreditList, CreditView};
use crate::{ApiError, AppState, ErrorBody};
use actix_web::{post, web};
use sansuo_domain::ValidationError;
use serde::Deserialize;
use utoipa::ToSchema;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubscribeRequest {
    /// The templates the resident accepted in `wx.requestSubscribeMessage`
    /// (each acceptance allows one message).
    pub template_ids: Vec<String>,
}

/// Record one-time subscriptions the resident granted; each allows one message.
#[utoipa::path(tag = "residents", security(("bearer" = [])), request_body = SubscribeRequest, responses(
    (status = 429, body = ErrorBody, description = "`rate_limited`: too many of these lately; see Retry-After"),
    (status = 200, body = CreditList),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody),
    (status = 422, body = ErrorBody, description = "`validation_failed`: an unknown template, or none"),
))]
#[post("/me/subscriptions")]
pub async fn subscribe(
    state: web::Data<AppState>,
    auth: ResidentWrite<write::Subscribe>,
    body: web::Json<SubscribeRequest>,
) -> Result<web::Json<CreditList>, ApiError> {
    if body.template_ids.is_empty() || body.template_ids.len() > 10 {
        return Err(ValidationError::new("template_ids", "list 1 to 10 templates").into());
    }
    for id in &body.template_ids {
        if !state.config.templates.iter().any(|(_, t)| t == id) {
            return Err(ValidationError::new(
                "template_ids",
                format!("`{id}` is not a template of this service"),
            )
            .into());
        }
    }
    state
        .store
        .notifications()
        .grant_subscriptions(auth.0, &body.template_ids, chrono::Utc::now())
        .await?;
    let mut items = Vec::new();
    for id in &body.template_ids {
        items.push(CreditView {
            template_id: id.clone(),
            credits: state.store.notifications().credits(auth.0, id).await?,
        });
    }
    Ok(web::Json(CreditList { items }))
}
