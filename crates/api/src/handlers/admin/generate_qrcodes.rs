use crate::extract::AdminAuth;
use crate::scoped::Scoped;
use crate::views::{QrCodeList, QrCodeView};
use crate::{ApiError, AppState, ErrorBody};
use actix_web::{post, web};
use sansuo_domain::OrgUnitId;
use sansuo_domain::org::UnitKind;

/// Generate (again) the QR codes of every community of a street, for a
/// poster run. Each is then served by `GET /admin/communities/{id}/qrcode`.
#[utoipa::path(tag = "admin", security(("bearer" = [])), params(("id" = Uuid, Path, description = "The street")), responses(
    (status = 200, body = QrCodeList),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody),
    (status = 404, body = ErrorBody, description = "`org_unit_not_found`"),
    (status = 503, body = ErrorBody, description = "`wechat_unavailable`: some codes could not be made; retry"),
))]
#[post("/admin/org-units/{id}/qrcodes")]
pub async fn generate_qrcodes(
    state: web::Data<AppState>,
    admin: AdminAuth,
    id: Scoped<OrgUnitId>,
) -> Result<web::Json<QrCodeList>, ApiError> {
    let street = id.id();
    let mut items = Vec::new();
    for unit in state.store.staffing().org_units_under(Some(street)).await? {
        if unit.kind != UnitKind::Community || unit.scene.is_none() {
            continue;
        }
        let code = crate::qr::community_code(&state, unit.id.into(), true).await?;
        items.push(QrCodeView {
            community_id: unit.id,
            scene: code.scene,
            source: code.source,
            bytes: code.png.len(),
            url: format!("/api/v1/admin/communities/{}/qrcode", unit.id),
        });
    }
    tracing::info!(admin = %admin.id, count = items.len(), "QR codes generated");
    Ok(web::Json(QrCodeList { items }))
}
