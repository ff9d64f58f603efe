use crate::error::ErrorCode;
use crate::views::CommunityCardView;
use crate::{ApiError, AppState, ErrorBody};
use actix_web::{get, web};
use sansuo_domain::values::Scene;

/// The community behind a QR code `scene`: its public card.
#[utoipa::path(tag = "communities", params(("scene" = String, Path, description = "The QR code scene: 1 to 32 of 0-9 A-Z a-z !#$&'()*+,/:;=?@-._~", min_length = 1, max_length = 32, pattern = r"^[0-9A-Za-z!#$&'()*+,/:;=?@._~-]{1,32}$")), responses(
    (status = 200, body = CommunityCardView),
    (status = 404, body = ErrorBody, description = "`community_not_found`"),
    (status = 422, body = ErrorBody, description = "`validation_failed`: not a valid WeChat scene"),
))]
#[get("/communities/by-scene/{scene}")]
pub async fn community_by_scene(
    state: web::Data<AppState>,
    scene: web::Path<String>,
) -> Result<web::Json<CommunityCardView>, ApiError> {
    let scene = Scene::parse(&scene)?;
    let card = state
        .store
        .org()
        .community_by_scene(scene.as_str())
        .await?
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::CommunityNotFound,
                "no community has this QR code",
            )
        })?;
    Ok(web::Json(card.into()))
}
