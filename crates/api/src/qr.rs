//! QR codes of communities: WeChat mini-program codes when credentials are
//! configured, otherwise a plain QR code of the scene made locally (the
//! embedded default), so posters can be printed either way.
use crate::error::ErrorCode;

use crate::{ApiError, AppState};
use sansuo_domain::OrgUnitId;
use sansuo_store::records::QrCodeRecord;
use sansuo_wechat::{QrCodeOptions, WechatError};

/// The mini-program page a community code opens.
pub const COMMUNITY_PAGE: &str = "pages/community/index";

/// The stored code of a community, generated on first use or when `refresh`.
pub async fn community_code(
    state: &AppState,
    community: OrgUnitId,
    refresh: bool,
) -> Result<QrCodeRecord, ApiError> {
    let unit = state
        .store
        .org()
        .community(community)
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::CommunityNotFound, "no such community"))?;
    let scene = unit
        .scene
        .ok_or_else(|| ApiError::new(ErrorCode::NoScene, "this community has no QR scene yet"))?;
    if !refresh
        && let Some(stored) = state.store.org().qr_code(community).await?
        && stored.scene == scene
    {
        return Ok(stored);
    }
    let (png, source) = match &state.wechat {
        Some(wechat) => {
            let options = QrCodeOptions {
                page: Some(COMMUNITY_PAGE.into()),
                check_path: false,
                ..QrCodeOptions::default()
            };
            let image = wechat
                .get_unlimited_qrcode(&scene, &options)
                .await
                .map_err(|e| match e {
                    e if e.is_retryable() => ApiError::new(
                        ErrorCode::WechatUnavailable,
                        "WeChat is busy or unreachable; try again",
                    ),
                    WechatError::InvalidScene => ApiError::new(
                        ErrorCode::NoScene,
                        "the community's scene is not valid for WeChat",
                    ),
                    e => ApiError::internal(format!("wechat: {e}")),
                })?;
            (image.bytes, "wechat")
        }
        None => (local_png(&scene)?, "local"),
    };
    state
        .store
        .org()
        .save_qr_code(community, &scene, png, source, chrono::Utc::now())
        .await?;
    state
        .store
        .org()
        .qr_code(community)
        .await?
        .ok_or_else(|| ApiError::internal("QR code vanished"))
}

/// A plain QR code (PNG) of `text`, with a quiet zone, readable when printed small.
pub fn local_png(text: &str) -> Result<Vec<u8>, ApiError> {
    let code = qrcode::QrCode::new(text.as_bytes()).map_err(ApiError::internal)?;
    let image = code
        .render::<image::Luma<u8>>()
        .min_dimensions(400, 400)
        .build();
    let mut png = Vec::new();
    image::DynamicImage::ImageLuma8(image)
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .map_err(ApiError::internal)?;
    Ok(png)
}

#[cfg(test)]
mod tests {
    #[test]
    fn local_codes_are_png_images() {
        let png = super::local_png("hk-jjq").unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        let decoded = image::load_from_memory(&png).unwrap();
        assert!(decoded.width() >= 400);
    }
}
