//! Client for the WeChat server APIs a mini-program backend calls.
//!
//! Today this covers `jscode2session` (exchanging a `wx.login()` code for the
//! user's `openid`, optional `unionid` and `session_key`).
//!
//! Secrets never leave this crate through logs or error messages: the app
//! secret, the `js_code` and the `session_key` are not logged (tracing at
//! debug level records only the API path and the errcode), and no
//! [`WechatError`] message contains them. Transport errors are stripped of the
//! request URL, which carries the secret and the code in its query string.

use std::fmt;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

/// Path of the code-to-session API, relative to [`WechatConfig::base_url`].
const JSCODE2SESSION_PATH: &str = "/sns/jscode2session";

/// Upper bound on the connect phase; the total timeout comes from the config.
const MAX_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// WeChat answers with a few hundred bytes; anything far larger is not WeChat.
const MAX_BODY_BYTES: usize = 64 * 1024;

/// Codes from `wx.login()` are short; refuse absurd input without a request.
const MAX_JS_CODE_LEN: usize = 512;

/// Cap on how much of WeChat's `errmsg` is kept in an error.
const MAX_ERRMSG_CHARS: usize = 256;

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

/// What `jscode2session` returns for a valid code.
///
/// `Debug` does not print the `session_key`.
#[derive(Debug)]
pub struct WechatSession {
    pub openid: String,
    pub unionid: Option<String>,
    pub session_key: SecretString,
}

/// Why a WeChat call failed. Display never includes secrets or the code.
#[derive(thiserror::Error, Debug)]
pub enum WechatError {
    /// The code is invalid (40029) or was already used (40163).
    #[error("WeChat rejected the login code (invalid or already used)")]
    InvalidCode,
    /// The app hit WeChat's rate limit (45011).
    #[error("WeChat rate limit reached")]
    RateLimited,
    /// WeChat refused a high-risk user (40226).
    #[error("WeChat refused the login of a high-risk user")]
    RiskyUser,
    /// WeChat is busy (-1); retry later.
    #[error("WeChat system busy")]
    Busy,
    /// Any other non-zero errcode.
    #[error("WeChat API error {errcode}: {errmsg}")]
    Api { errcode: i64, errmsg: String },
    /// WeChat could not be reached, timed out or answered HTTP 5xx; retry later.
    #[error("WeChat unavailable: {0}")]
    Unavailable(String),
    /// WeChat answered something that is not a valid API response.
    #[error("bad response from WeChat: {0}")]
    BadResponse(String),
}

impl WechatError {
    /// Whether retrying the same call later may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self, WechatError::Busy | WechatError::Unavailable(_))
    }

    fn from_errcode(errcode: i64, errmsg: String) -> Self {
        match errcode {
            40029 | 40163 => WechatError::InvalidCode,
            45011 => WechatError::RateLimited,
            40226 => WechatError::RiskyUser,
            -1 => WechatError::Busy,
            _ => WechatError::Api { errcode, errmsg },
        }
    }
}

/// A client for the WeChat server APIs. Cheap to clone (the HTTP connection
/// pool is shared).
#[derive(Clone)]
pub struct WechatClient {
    http: reqwest::Client,
    base_url: String,
    app_id: String,
    app_secret: SecretString,
}

impl fmt::Debug for WechatClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WechatClient")
            .field("base_url", &self.base_url)
            .field("app_id", &self.app_id)
            .finish_non_exhaustive()
    }
}

/// The `jscode2session` body: success fields and error fields in one shape.
/// Deliberately not `Debug`: it holds the session key.
#[derive(Deserialize)]
struct Code2SessionBody {
    #[serde(default)]
    errcode: Option<i64>,
    #[serde(default)]
    errmsg: Option<String>,
    #[serde(default)]
    openid: Option<String>,
    #[serde(default)]
    unionid: Option<String>,
    #[serde(default)]
    session_key: Option<String>,
}

impl WechatClient {
    /// Build a client. Fails (as [`WechatError::Unavailable`]) if the base URL
    /// is not an `http(s)` URL or the HTTP client cannot be built.
    pub fn new(config: WechatConfig) -> Result<Self, WechatError> {
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
        })
    }

    /// Exchange a `wx.login()` code for the user's session
    /// (`GET /sns/jscode2session`).
    pub async fn code_to_session(&self, js_code: &str) -> Result<WechatSession, WechatError> {
        if js_code.is_empty() || js_code.len() > MAX_JS_CODE_LEN {
            tracing::debug!(
                path = JSCODE2SESSION_PATH,
                "rejected malformed js_code locally"
            );
            return Err(WechatError::InvalidCode);
        }
        let url = format!("{}{}", self.base_url, JSCODE2SESSION_PATH);
        let secret = self.app_secret.expose_secret();
        let request = self.http.get(&url).query(&[
            ("appid", self.app_id.as_str()),
            ("secret", secret),
            ("js_code", js_code),
            ("grant_type", "authorization_code"),
        ]);

        let body = self.send(request).await?;
        let parsed: Code2SessionBody = serde_json::from_slice(&body).map_err(|e| {
            tracing::debug!(path = JSCODE2SESSION_PATH, "unparseable response body");
            // Only the category and position: serde_json's message may quote
            // values from the body.
            WechatError::BadResponse(format!(
                "body is not the expected JSON ({:?} error at line {} column {})",
                e.classify(),
                e.line(),
                e.column()
            ))
        })?;

        let errcode = parsed.errcode.unwrap_or(0);
        if errcode != 0 {
            tracing::debug!(
                path = JSCODE2SESSION_PATH,
                errcode,
                "WeChat returned an error"
            );
            let errmsg = sanitize_errmsg(parsed.errmsg.unwrap_or_default(), &[secret, js_code]);
            return Err(WechatError::from_errcode(errcode, errmsg));
        }

        let openid = parsed
            .openid
            .filter(|s| !s.is_empty())
            .ok_or_else(|| WechatError::BadResponse("missing openid".to_owned()))?;
        let session_key = parsed
            .session_key
            .filter(|s| !s.is_empty())
            .map(SecretString::from)
            .ok_or_else(|| WechatError::BadResponse("missing session_key".to_owned()))?;
        let unionid = parsed.unionid.filter(|s| !s.is_empty());
        tracing::debug!(
            path = JSCODE2SESSION_PATH,
            errcode = 0,
            "WeChat call succeeded"
        );
        Ok(WechatSession {
            openid,
            unionid,
            session_key,
        })
    }

    /// Send a request and return the raw body of a 2xx response. Whatever the
    /// content type: WeChat labels its JSON `text/plain`.
    async fn send(&self, request: reqwest::RequestBuilder) -> Result<Vec<u8>, WechatError> {
        let mut response = request.send().await.map_err(transport_error)?;
        let status = response.status();
        if !status.is_success() {
            tracing::debug!(
                path = JSCODE2SESSION_PATH,
                status = status.as_u16(),
                "WeChat answered a non-success HTTP status"
            );
            let message = format!("HTTP status {}", status.as_u16());
            return Err(
                if status.is_server_error()
                    || status == reqwest::StatusCode::TOO_MANY_REQUESTS
                    || status == reqwest::StatusCode::REQUEST_TIMEOUT
                {
                    WechatError::Unavailable(message)
                } else {
                    WechatError::BadResponse(message)
                },
            );
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(transport_error)? {
            if body.len() + chunk.len() > MAX_BODY_BYTES {
                return Err(WechatError::BadResponse(
                    "response body too large".to_owned(),
                ));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }
}

/// Describe a transport error without its URL (the query holds the secret and
/// the code).
fn transport_error(err: reqwest::Error) -> WechatError {
    let err = err.without_url();
    let what = if err.is_timeout() {
        "request timed out".to_owned()
    } else if err.is_connect() {
        match io_error_kind(&err) {
            Some(kind) => format!("connection failed ({kind})"),
            None => "connection failed".to_owned(),
        }
    } else {
        err.to_string()
    };
    tracing::debug!(path = JSCODE2SESSION_PATH, error = %what, "WeChat call failed");
    WechatError::Unavailable(what)
}

fn io_error_kind(err: &(dyn std::error::Error + 'static)) -> Option<std::io::ErrorKind> {
    let mut source = err.source();
    while let Some(e) = source {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            return Some(io.kind());
        }
        source = e.source();
    }
    None
}

/// Keep WeChat's errmsg short and free of anything we sent it.
fn sanitize_errmsg(errmsg: String, secrets: &[&str]) -> String {
    let mut errmsg = errmsg;
    for secret in secrets.iter().filter(|s| !s.is_empty()) {
        errmsg = errmsg.replace(secret, "[redacted]");
    }
    errmsg.chars().take(MAX_ERRMSG_CHARS).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errcodes_map_to_variants() {
        assert!(matches!(
            WechatError::from_errcode(40029, String::new()),
            WechatError::InvalidCode
        ));
        assert!(matches!(
            WechatError::from_errcode(40163, String::new()),
            WechatError::InvalidCode
        ));
        assert!(matches!(
            WechatError::from_errcode(45011, String::new()),
            WechatError::RateLimited
        ));
        assert!(matches!(
            WechatError::from_errcode(40226, String::new()),
            WechatError::RiskyUser
        ));
        assert!(matches!(
            WechatError::from_errcode(-1, String::new()),
            WechatError::Busy
        ));
        assert!(matches!(
            WechatError::from_errcode(40125, "x".into()),
            WechatError::Api { errcode: 40125, .. }
        ));
    }

    #[test]
    fn retryable_only_busy_and_unavailable() {
        assert!(WechatError::Busy.is_retryable());
        assert!(WechatError::Unavailable(String::new()).is_retryable());
        assert!(!WechatError::InvalidCode.is_retryable());
        assert!(!WechatError::RateLimited.is_retryable());
        assert!(!WechatError::RiskyUser.is_retryable());
        assert!(!WechatError::BadResponse(String::new()).is_retryable());
        assert!(
            !WechatError::Api {
                errcode: 1,
                errmsg: String::new()
            }
            .is_retryable()
        );
    }

    #[test]
    fn errmsg_is_redacted_and_capped() {
        let msg = sanitize_errmsg(
            "bad secret s3cr3t for code abc".to_owned(),
            &["s3cr3t", "abc"],
        );
        assert_eq!(msg, "bad secret [redacted] for code [redacted]");
        let long = sanitize_errmsg("x".repeat(10_000), &[]);
        assert_eq!(long.chars().count(), MAX_ERRMSG_CHARS);
    }

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
