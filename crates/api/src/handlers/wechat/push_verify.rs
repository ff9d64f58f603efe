use super::{PushQuery, verify};
use crate::{ApiError, AppState, ErrorBody};
use actix_web::{HttpResponse, get, web};

/// WeChat checks the push URL: echo `echostr` when the signature is valid.
#[utoipa::path(tag = "wechat", params(PushQuery), responses(
    (status = 200, content_type = "text/plain", body = String, description = "The echostr"),
    (status = 403, body = ErrorBody, description = "`forbidden`: bad signature or stale timestamp"),
    (status = 404, body = ErrorBody, description = "`push_not_configured`"),
))]
#[get("/wechat/push")]
pub async fn push_verify(
    state: web::Data<AppState>,
    query: web::Query<PushQuery>,
) -> Result<HttpResponse, ApiError> {
    verify(&state, &query)?;
    let echo = query.echostr.clone().unwrap_or_default();
    Ok(HttpResponse::Ok().content_type("text/plain").body(echo))
}
