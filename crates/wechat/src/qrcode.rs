//! Unlimited mini-program codes (`POST /wxa/getwxacodeunlimit`).
//!
//! WeChat answers the image itself (PNG or JPEG) on success, or a JSON
//! error body. The scene is checked locally first: at most 32 characters of
//! `[0-9A-Za-z!#$&'()*+,/:;=?@-._~]`. It should be a short opaque id (one
//! code per community), never personal data.

use std::fmt;

use serde_json::json;

use crate::WechatClient;
use crate::error::WechatError;
use crate::http::Api;

/// Path of the unlimited mini-program code API.
pub(crate) const GETWXACODEUNLIMIT_PATH: &str = "/wxa/getwxacodeunlimit";

/// Mini-program codes are tens of kilobytes; refuse absurd bodies.
const MAX_IMAGE_BYTES: usize = 4 * 1024 * 1024;

/// A valid `scene`: 1 to 32 characters of `[0-9A-Za-z!#$&'()*+,/:;=?@-._~]`.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct QrScene(String);

impl QrScene {
    pub const MAX_CHARS: usize = 32;

    pub fn parse(scene: &str) -> Result<Self, WechatError> {
        let allowed = |c: char| c.is_ascii_alphanumeric() || "!#$&'()*+,/:;=?@-._~".contains(c);
        if scene.is_empty() || scene.len() > Self::MAX_CHARS || !scene.chars().all(allowed) {
            return Err(WechatError::InvalidScene);
        }
        Ok(Self(scene.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<&str> for QrScene {
    type Error = WechatError;
    fn try_from(scene: &str) -> Result<Self, Self::Error> {
        Self::parse(scene)
    }
}

impl fmt::Debug for QrScene {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "QrScene({:?})", self.0)
    }
}

impl fmt::Display for QrScene {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Which version of the mini-program the code opens.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum EnvVersion {
    #[default]
    Release,
    Trial,
    Develop,
}

impl EnvVersion {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Release => "release",
            Self::Trial => "trial",
            Self::Develop => "develop",
        }
    }
}

/// Options of a mini-program code. Defaults: home page, `check_path` on,
/// release version, 430 px.
#[derive(Clone, Debug)]
pub struct QrCodeOptions {
    /// Page to open, e.g. `pages/index/index`: no leading `/`, no query
    /// (the scene carries the parameter). `None` opens the home page.
    pub page: Option<String>,
    /// Whether WeChat checks that `page` exists in the released version.
    pub check_path: bool,
    pub env_version: EnvVersion,
    /// Width in pixels, 280 to 1280.
    pub width: u32,
}

impl Default for QrCodeOptions {
    fn default() -> Self {
        Self {
            page: None,
            check_path: true,
            env_version: EnvVersion::Release,
            width: 430,
        }
    }
}

/// The image format WeChat returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImageFormat {
    Png,
    Jpeg,
}

impl ImageFormat {
    pub fn mime(self) -> &'static str {
        match self {
            Self::Png => "image/png",
            Self::Jpeg => "image/jpeg",
        }
    }
}

/// A mini-program code image.
#[derive(Clone)]
pub struct QrImage {
    pub format: ImageFormat,
    pub bytes: Vec<u8>,
}

impl fmt::Debug for QrImage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("QrImage")
            .field("format", &self.format)
            .field("bytes", &self.bytes.len())
            .finish()
    }
}

impl WechatClient {
    /// Get an unlimited mini-program code for `scene`
    /// (`POST /wxa/getwxacodeunlimit`).
    ///
    /// Errors: [`WechatError::InvalidScene`] / `InvalidArgument` (checked
    /// locally, no request); [`WechatError::InvalidPage`] (41030);
    /// `RateLimited` (45009 daily quota); other errcodes as `Api`.
    pub async fn get_unlimited_qrcode(
        &self,
        scene: &str,
        options: &QrCodeOptions,
    ) -> Result<QrImage, WechatError> {
        let scene = QrScene::parse(scene)?;
        if !(280..=1280).contains(&options.width) {
            return Err(WechatError::InvalidArgument("width must be 280 to 1280"));
        }
        let mut body = json!({
            "scene": scene.as_str(),
            "check_path": options.check_path,
            "env_version": options.env_version.as_str(),
            "width": options.width,
        });
        if let Some(page) = &options.page {
            if page.is_empty() || page.starts_with('/') || page.contains('?') {
                return Err(WechatError::InvalidArgument(
                    "page must be a path like pages/index/index, without a leading / or a query",
                ));
            }
            body["page"] = json!(page);
        }
        let api = Api {
            path: GETWXACODEUNLIMIT_PATH,
            max_body: MAX_IMAGE_BYTES,
            image: true,
        };
        let reply = self.call(api, &body, &[]).await?;
        let format = if reply.body.starts_with(b"\x89PNG") {
            ImageFormat::Png
        } else {
            ImageFormat::Jpeg
        };
        tracing::debug!(
            path = GETWXACODEUNLIMIT_PATH,
            content_type = reply.content_type.as_deref().unwrap_or(""),
            bytes = reply.body.len(),
            "got a mini-program code"
        );
        Ok(QrImage {
            format,
            bytes: reply.body,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scene_rules() {
        for good in [
            "c=42",
            "community-0001",
            "a.b_c~d!#$&'()*+,/:;=?@",
            &"x".repeat(32),
        ] {
            assert_eq!(QrScene::parse(good).unwrap().as_str(), good);
        }
        for bad in [
            "",
            &"x".repeat(33),
            "has space",
            "社区1",
            "a%20b",
            "a\"b",
            "a<b",
            "a\\b",
        ] {
            assert!(
                matches!(QrScene::parse(bad), Err(WechatError::InvalidScene)),
                "{bad:?}"
            );
        }
        assert!(QrScene::try_from("ok").is_ok());
    }
}
