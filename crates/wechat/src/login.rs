//! Login: `GET /sns/jscode2session` exchanges a `wx.login()` code for the
//! user's `openid`, optional `unionid` and `session_key`. Authenticated by
//! the app secret in the query, not by the access token.

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use crate::WechatClient;
use crate::error::{WechatError, sanitize_errmsg};
use crate::http::{MAX_JSON_BODY_BYTES, parse_json};

/// Path of the code-to-session API, relative to [`crate::WechatConfig::base_url`].
pub(crate) const JSCODE2SESSION_PATH: &str = "/sns/jscode2session";

/// Codes from `wx.login()` are short; refuse absurd input without a request.
const MAX_JS_CODE_LEN: usize = 512;

/// What `jscode2session` returns for a valid code.
///
/// `Debug` does not print the `session_key`.
#[derive(Debug)]
pub struct WechatSession {
    pub openid: String,
    pub unionid: Option<String>,
    pub session_key: SecretString,
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

        let (_, body) = self
            .send(JSCODE2SESSION_PATH, request, MAX_JSON_BODY_BYTES)
            .await?;
        let parsed: Code2SessionBody = parse_json(JSCODE2SESSION_PATH, &body)?;

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
}
