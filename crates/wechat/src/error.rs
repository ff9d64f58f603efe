//! [`WechatError`]: why a WeChat call failed, mapped from WeChat's errcodes.

use crate::subscribe::TemplateValueError;
use crate::token::TokenCacheError;

/// Cap on how much of WeChat's `errmsg` is kept in an error.
const MAX_ERRMSG_CHARS: usize = 256;

/// Access-token errcodes: the call is retried once after a forced refresh.
pub(crate) const TOKEN_ERRCODES: [i64; 3] = [
    40001, // invalid credential / access_token invalid or not latest
    42001, // access_token expired
    40014, // invalid access_token
];

/// Why a WeChat call failed. Neither `Display` nor `Debug` ever includes the
/// app secret, a login or phone code, an access token or a phone number.
#[derive(thiserror::Error, Debug)]
#[non_exhaustive]
pub enum WechatError {
    /// The code is invalid (40029) or was already used (40163): a
    /// `wx.login()` code, or a phone-number code.
    #[error("WeChat rejected the code (invalid or already used)")]
    InvalidCode,
    /// The app hit WeChat's rate limit (45011) or its daily quota (45009).
    #[error("WeChat rate limit reached")]
    RateLimited,
    /// WeChat refused a high-risk user (40226).
    #[error("WeChat refused the login of a high-risk user")]
    RiskyUser,
    /// WeChat is busy (-1); retry later.
    #[error("WeChat system busy")]
    Busy,
    /// WeChat kept rejecting the access token (40001 / 42001 / 40014) even
    /// after one forced refresh and one retry.
    #[error("WeChat rejected the access token even after a forced refresh")]
    TokenExpired,
    /// A forced token refresh was needed, but this many were already done
    /// today (Beijing time); WeChat allows 20 a day for the whole app.
    #[error("forced access-token refresh refused: daily limit of {limit} reached")]
    ForcedRefreshLimit { limit: u32 },
    /// The shared token cache (Redis) failed; retry later.
    #[error("access-token cache unavailable: {0}")]
    TokenCache(#[from] TokenCacheError),
    /// The user has no credit left for this subscription template (43101):
    /// they must accept the template again in the mini-program. Not retryable.
    #[error("the user has no subscription credit for this template")]
    NoSubscriptionCredit,
    /// WeChat rejected a template value (47003); `field` is the data key
    /// WeChat named, when it did.
    #[error("WeChat rejected a template parameter{}", field.as_deref().map(|f| format!(" ({f})")).unwrap_or_default())]
    TemplateParamInvalid { field: Option<String> },
    /// A template value cannot be made valid for its field kind; refused
    /// before any request.
    #[error("invalid template value for {field}: {reason}")]
    InvalidTemplateValue {
        field: String,
        reason: TemplateValueError,
    },
    /// WeChat judged the content risky (87014, older content APIs).
    #[error("WeChat judged the content risky")]
    ContentRisky,
    /// The QR-code scene is empty, longer than 32 characters or has a
    /// character outside `[0-9A-Za-z!#$&'()*+,/:;=?@-._~]`; refused before
    /// any request (WeChat: 40169 / 40097).
    #[error("invalid QR-code scene (1 to 32 of [0-9A-Za-z!#$&'()*+,/:;=?@-._~])")]
    InvalidScene,
    /// The mini-program page does not exist (41030).
    #[error("WeChat does not know this mini-program page")]
    InvalidPage,
    /// An argument was refused locally, before any request.
    #[error("invalid argument: {0}")]
    InvalidArgument(&'static str),
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
        matches!(
            self,
            WechatError::Busy
                | WechatError::Unavailable(_)
                | WechatError::TokenExpired
                | WechatError::TokenCache(_)
        )
    }

    /// The WeChat errcode behind this error, when WeChat answered one.
    pub fn errcode(&self) -> Option<i64> {
        Some(match self {
            WechatError::RiskyUser => 40226,
            WechatError::Busy => -1,
            WechatError::NoSubscriptionCredit => 43101,
            WechatError::TemplateParamInvalid { .. } => 47003,
            WechatError::ContentRisky => 87014,
            WechatError::InvalidPage => 41030,
            WechatError::Api { errcode, .. } => *errcode,
            _ => return None,
        })
    }

    /// Map a non-zero errcode. `errmsg` must already be sanitised.
    pub(crate) fn from_errcode(errcode: i64, errmsg: String) -> Self {
        match errcode {
            40029 | 40163 => WechatError::InvalidCode,
            45011 | 45009 => WechatError::RateLimited,
            40226 => WechatError::RiskyUser,
            -1 => WechatError::Busy,
            40001 | 42001 | 40014 => WechatError::TokenExpired,
            43101 => WechatError::NoSubscriptionCredit,
            47003 => WechatError::TemplateParamInvalid {
                field: template_field_in(&errmsg),
            },
            87014 => WechatError::ContentRisky,
            41030 => WechatError::InvalidPage,
            _ => WechatError::Api { errcode, errmsg },
        }
    }
}

/// The data key WeChat names in a 47003 errmsg (`... data.thing1.value ...`),
/// without the value itself (which may be personal data).
fn template_field_in(errmsg: &str) -> Option<String> {
    let start = errmsg.find("data.")? + "data.".len();
    let key: String = errmsg[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .take(64)
        .collect();
    (!key.is_empty()).then_some(key)
}

/// Keep WeChat's errmsg short and free of anything we sent it.
pub(crate) fn sanitize_errmsg(errmsg: String, secrets: &[&str]) -> String {
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
        let map = |code| WechatError::from_errcode(code, String::new());
        assert!(matches!(map(40029), WechatError::InvalidCode));
        assert!(matches!(map(40163), WechatError::InvalidCode));
        assert!(matches!(map(45011), WechatError::RateLimited));
        assert!(matches!(map(45009), WechatError::RateLimited));
        assert!(matches!(map(40226), WechatError::RiskyUser));
        assert!(matches!(map(-1), WechatError::Busy));
        for code in TOKEN_ERRCODES {
            assert!(matches!(map(code), WechatError::TokenExpired));
        }
        assert!(matches!(map(43101), WechatError::NoSubscriptionCredit));
        assert!(matches!(
            map(47003),
            WechatError::TemplateParamInvalid { field: None }
        ));
        assert!(matches!(map(87014), WechatError::ContentRisky));
        assert!(matches!(map(41030), WechatError::InvalidPage));
        assert!(matches!(
            WechatError::from_errcode(40125, "x".into()),
            WechatError::Api { errcode: 40125, .. }
        ));
    }

    #[test]
    fn errcode_round_trips() {
        for code in [40226, -1, 43101, 47003, 87014, 41030, 40125] {
            assert_eq!(
                WechatError::from_errcode(code, String::new()).errcode(),
                Some(code)
            );
        }
        assert_eq!(WechatError::InvalidScene.errcode(), None);
    }

    #[test]
    fn template_field_is_extracted_without_the_value() {
        let err = WechatError::from_errcode(
            47003,
            "argument invalid! data.thing12.value exceeds limit, 张三丰 rid: 1".into(),
        );
        match &err {
            WechatError::TemplateParamInvalid { field } => {
                assert_eq!(field.as_deref(), Some("thing12"));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            err.to_string(),
            "WeChat rejected a template parameter (thing12)"
        );
        assert!(!format!("{err:?}").contains("张三丰"));
    }

    #[test]
    fn retryable_variants() {
        assert!(WechatError::Busy.is_retryable());
        assert!(WechatError::Unavailable(String::new()).is_retryable());
        assert!(WechatError::TokenExpired.is_retryable());
        assert!(WechatError::TokenCache(TokenCacheError::new("down")).is_retryable());
        for err in [
            WechatError::InvalidCode,
            WechatError::RateLimited,
            WechatError::RiskyUser,
            WechatError::BadResponse(String::new()),
            WechatError::NoSubscriptionCredit,
            WechatError::TemplateParamInvalid { field: None },
            WechatError::ContentRisky,
            WechatError::InvalidScene,
            WechatError::InvalidPage,
            WechatError::InvalidArgument("x"),
            WechatError::ForcedRefreshLimit { limit: 10 },
            WechatError::Api {
                errcode: 1,
                errmsg: String::new(),
            },
        ] {
            assert!(!err.is_retryable(), "{err:?}");
        }
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
}
