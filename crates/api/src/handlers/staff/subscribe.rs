//! Staff grant subscribe-message credits as residents do; their credits
//! are their own (a staff credit is never spent on a resident's message,
//! nor a resident's on a staff member's).

use crate::extract::StaffAuth;
use crate::handlers::residents::subscribe::SubscribeRequest;
use crate::views::{CreditList, CreditView, TemplateList, TemplateView};
use crate::{ApiError, AppState, ErrorBody};
use actix_web::{get, post, web};
use sansuo_domain::ValidationError;

/// The staff subscribe-message templates of this deployment (offers,
/// urges, supervision, overdue cases, extension decisions): ask for them
/// with `wx.requestSubscribeMessage`, then report what was accepted to
/// `POST /staff/me/subscriptions`.
#[utoipa::path(tag = "staff", security(("bearer" = [])), responses(
    (status = 200, body = TemplateList),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody, description = "`forbidden`: residents have no staff account"),
))]
#[get("/staff/notifications/templates")]
pub async fn list_staff_templates(
    state: web::Data<AppState>,
    _auth: StaffAuth,
) -> Result<web::Json<TemplateList>, ApiError> {
    let items = state
        .config
        .staff_templates
        .iter()
        .map(|(event, template_id)| TemplateView {
            event: event.clone(),
            template_id: template_id.clone(),
        })
        .collect();
    Ok(web::Json(TemplateList { items }))
}

/// Record one-time subscriptions the staff member granted; each allows one
/// message of its template to them.
#[utoipa::path(tag = "staff", security(("bearer" = [])), request_body = SubscribeRequest, responses(
    (status = 200, body = CreditList),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody, description = "`forbidden`: residents have no staff account"),
    (status = 422, body = ErrorBody, description = "`validation_failed`: an unknown template (or a residents' one), or none"),
))]
#[post("/staff/me/subscriptions")]
pub async fn subscribe_staff(
    state: web::Data<AppState>,
    auth: StaffAuth,
    body: web::Json<SubscribeRequest>,
) -> Result<web::Json<CreditList>, ApiError> {
    if body.template_ids.is_empty() || body.template_ids.len() > 10 {
        return Err(ValidationError::new("template_ids", "list 1 to 10 templates").into());
    }
    for id in &body.template_ids {
        if !state.config.staff_templates.iter().any(|(_, t)| t == id) {
            return Err(ValidationError::new(
                "template_ids",
                format!("`{id}` is not a staff template of this service"),
            )
            .into());
        }
    }
    let now = chrono::Utc::now();
    state
        .store
        .notifications()
        .grant_subscriptions(auth.id, &body.template_ids, now)
        .await?;
    let mut items = Vec::new();
    for id in &body.template_ids {
        items.push(CreditView {
            template_id: id.clone(),
            credits: state.store.notifications().credits(auth.id, id).await?,
        });
    }
    Ok(web::Json(CreditList { items }))
}
