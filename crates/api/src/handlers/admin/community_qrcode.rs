use crate::extract::AdminAuth;
use crate::scoped::Scoped;
use crate::{ApiError, AppState, ErrorBody};
use actix_web::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION};
use actix_web::{HttpResponse, get, web};
use sansuo_domain::OrgUnitId;
use serde::Deserialize;
use utoipa::IntoParams;

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct QrQuery {
    /// Generate it again instead of serving the stored one.
    #[serde(default)]
    pub refresh: bool,
}

/// The community's QR code as a PNG to print: a WeChat mini-program code
/// opening the community page, or (without WeChat credentials) a plain QR
/// code of its scene. Header `X-QR-Source`: `wechat` or `local`.
#[utoipa::path(tag = "admin", security(("bearer" = [])), params(("id" = Uuid, Path), QrQuery), responses(
    (status = 200, content_type = "image/png", body = Vec<u8>, headers(("X-QR-Source" = String))),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody),
    (status = 404, body = ErrorBody, description = "`org_unit_not_found` / `community_not_found`"),
    (status = 409, body = ErrorBody, description = "`no_scene`: the community has no QR scene"),
    (status = 503, body = ErrorBody, description = "`wechat_unavailable`"),
))]
#[get("/admin/communities/{id}/qrcode")]
pub async fn community_qrcode(
    state: web::Data<AppState>,
    _admin: AdminAuth,
    id: Scoped<OrgUnitId>,
    query: web::Query<QrQuery>,
) -> Result<HttpResponse, ApiError> {
    let community = id.id();
    let code = crate::qr::community_code(&state, community, query.refresh).await?;
    Ok(HttpResponse::Ok()
        .content_type("image/png")
        .insert_header(("X-QR-Source", code.source.clone()))
        .insert_header((CACHE_CONTROL, "private, max-age=3600"))
        .insert_header((
            CONTENT_DISPOSITION,
            format!("inline; filename=\"{}.png\"", code.scene),
        ))
        .body(code.png))
}
