use crate::extract::ResidentAuth;
use crate::views::{TemplateList, TemplateView};
use crate::{ApiError, AppState, ErrorBody};
use actix_web::{get, web};

/// The subscribe-message templates of this deployment: ask the resident
/// for them with `wx.requestSubscribeMessage`, then report what they
/// accepted to `POST /me/subscriptions`.
#[utoipa::path(tag = "residents", security(("bearer" = [])), responses(
    (status = 200, body = TemplateList),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody),
))]
#[get("/notifications/templates")]
pub async fn list_templates(
    state: web::Data<AppState>,
    _auth: ResidentAuth,
) -> Result<web::Json<TemplateList>, ApiError> {
    let items = state
        .config
        .templates
        .iter()
        .map(|(event, template_id)| TemplateView {
            event: event.clone(),
            template_id: template_id.clone(),
        })
        .collect();
    Ok(web::Json(TemplateList { items }))
}
