//! Client for the WeChat server APIs a mini-program backend calls.
//!
//! | module        | API                                                   |
//! |---------------|-------------------------------------------------------|
//! | [`login`]     | `GET /sns/jscode2session` (login code → openid)       |
//! | [`token`]     | `POST /cgi-bin/stable_token`, shared via a [`TokenCache`] |
//! | [`subscribe`] | `POST /cgi-bin/message/subscribe/send` + value helpers |
//! | [`security`]  | `POST /wxa/msg_sec_check`, `POST /wxa/media_check_async` |
//! | [`push`]      | push signature check, `wxa_media_check` event          |
//! | [`qrcode`]    | `POST /wxa/getwxacodeunlimit`                          |
//! | [`phone`]     | `POST /wxa/business/getuserphonenumber`                |
//!
//! Every access-token API goes through one helper: get the shared token →
//! call → on 40001 / 42001 / 40014 force-refresh once (single flight across
//! instances, counted against a daily limit) and retry once.
//!
//! Secrets never leave this crate through logs or error messages: the app
//! secret, codes, the `session_key`, the access token and phone numbers are
//! not logged (tracing records only the API path, the errcode or HTTP
//! status), and no [`WechatError`] message contains them. Transport errors
//! are stripped of the request URL, whose query carries the secret, the
//! code or the access token; WeChat's errmsg is capped and redacted.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use secrecy::SecretString;

mod error;
mod http;
pub mod login;
pub mod phone;
pub mod push;
pub mod qrcode;
pub mod security;
pub mod subscribe;
pub mod token;

pub use error::WechatError;
pub use login::WechatSession;
pub use phone::PhoneNumber;
pub use push::{MediaCheckEvent, PushError, push_signature, verify_push_signature};
pub use qrcode::{EnvVersion, ImageFormat, QrCodeOptions, QrImage, QrScene};
pub use security::{CheckScene, ContentVerdict, MediaType, Suggest};
pub use subscribe::{
    FieldKind, Lang, MiniprogramState, SubscribeMessage, TemplateValueError, format_date,
    format_time, template_value,
};
pub use token::{
    CachedToken, MemoryTokenCache, RedisTokenCache, TokenCache, TokenCacheError, TokenOptions,
};

/// Upper bound on the connect phase; the total timeout comes from the config.
const MAX_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// How to reach WeChat and which mini-program to speak for.
#[derive(Clone, Debug)]
pub struct WechatConfig {
    /// Scheme and host, e.g. `https://api.weixin.qq.com` (a trailing slash is fine).
    pub base_url: String,
    /// The mini-program's AppID.
    pub app_id: String,
    /// The mini-program's AppSecret.
    pub app_secret: SecretString,
    /// Total time allowed for one API call (connect, send, receive).
    pub timeout: Duration,
}

/// A client for the WeChat server APIs. Cheap to clone (the HTTP connection
/// pool and the token cache are shared).
#[derive(Clone)]
pub struct WechatClient {
    http: reqwest::Client,
    base_url: String,
    app_id: String,
    app_secret: SecretString,
    timeout: Duration,
    token_cache: Arc<dyn TokenCache>,
    token_options: TokenOptions,
}

impl fmt::Debug for WechatClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WechatClient")
            .field("base_url", &self.base_url)
            .field("app_id", &self.app_id)
            .finish_non_exhaustive()
    }
}

impl WechatClient {
    /// Build a client whose access token lives in this process only (a
    /// fresh [`MemoryTokenCache`], shared by clones): enough for login and
    /// for a single instance. Fails (as [`WechatError::Unavailable`]) if the
    /// base URL is not an `http(s)` URL or the HTTP client cannot be built.
    pub fn new(config: WechatConfig) -> Result<Self, WechatError> {
        Self::with_token_cache(config, Arc::new(MemoryTokenCache::new()))
    }

    /// Build a client that shares its access token through `cache`
    /// (a [`RedisTokenCache`] for several server instances).
    pub fn with_token_cache(
        config: WechatConfig,
        cache: Arc<dyn TokenCache>,
    ) -> Result<Self, WechatError> {
        let base_url = config.base_url.trim_end_matches('/').to_owned();
        match reqwest::Url::parse(&base_url) {
            Ok(url) if matches!(url.scheme(), "http" | "https") && url.has_host() => {}
            _ => {
                return Err(WechatError::Unavailable(
                    "invalid WeChat base_url (expected http(s)://host)".to_owned(),
                ));
            }
        }
        let http = reqwest::Client::builder()
            .connect_timeout(config.timeout.min(MAX_CONNECT_TIMEOUT))
            .timeout(config.timeout)
            // WeChat does not redirect; never carry the secret anywhere else.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| {
                WechatError::Unavailable(format!("cannot build HTTP client: {}", e.without_url()))
            })?;
        Ok(Self {
            http,
            base_url,
            app_id: config.app_id,
            app_secret: config.app_secret,
            timeout: config.timeout,
            token_cache: cache,
            token_options: TokenOptions::default(),
        })
    }

    /// Replace the token options (refresh margin, forced-refresh limit,
    /// lock TTL).
    pub fn token_options(mut self, options: TokenOptions) -> Self {
        self.token_options = options;
        self
    }

    /// The mini-program's AppID.
    pub fn app_id(&self) -> &str {
        &self.app_id
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_invalid_base_url() {
        let config = WechatConfig {
            base_url: "not a url".to_owned(),
            app_id: "a".to_owned(),
            app_secret: SecretString::from("s"),
            timeout: Duration::from_secs(1),
        };
        assert!(matches!(
            WechatClient::new(config),
            Err(WechatError::Unavailable(_))
        ));
    }

    #[test]
    fn client_debug_hides_secret() {
        let client = WechatClient::new(WechatConfig {
            base_url: "http://127.0.0.1:1/".to_owned(),
            app_id: "wx-app".to_owned(),
            app_secret: SecretString::from("very-secret-value"),
            timeout: Duration::from_secs(1),
        })
        .unwrap();
        let debug = format!("{client:?}");
        assert!(debug.contains("wx-app"));
        assert!(!debug.contains("very-secret-value"));
    }
}
