//! Content security: text (`POST /wxa/msg_sec_check`, synchronous) and
//! media (`POST /wxa/media_check_async`, verdict later by push; see
//! [`crate::push`]).
//!
//! The content and the media URL are user data: never logged, and stripped
//! from WeChat's errmsg.

use serde::{Deserialize, Deserializer};
use serde_json::json;

use crate::WechatClient;
use crate::error::WechatError;
use crate::http::{Api, parse_json};

/// Path of the text-check API.
pub(crate) const MSG_SEC_CHECK_PATH: &str = "/wxa/msg_sec_check";
/// Path of the asynchronous media-check API.
pub(crate) const MEDIA_CHECK_ASYNC_PATH: &str = "/wxa/media_check_async";

/// WeChat checks at most 2500 characters of text per call.
pub const MAX_CHECK_CONTENT_CHARS: usize = 2500;

/// Where the checked content appears (WeChat's `scene`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CheckScene {
    /// 1: a profile (nickname, signature, ...).
    Profile = 1,
    /// 2: a comment.
    Comment = 2,
    /// 3: a forum post.
    Forum = 3,
    /// 4: a social log.
    SocialLog = 4,
}

/// WeChat's `suggest`. Anything WeChat may add later reads as `Review`
/// (a person looks at it), never as `Pass`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Suggest {
    Pass,
    Review,
    Risky,
}

impl<'de> Deserialize<'de> for Suggest {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Ok(match s.as_str() {
            "pass" => Suggest::Pass,
            "risky" => Suggest::Risky,
            _ => Suggest::Review,
        })
    }
}

/// The verdict on a text. `label` is WeChat's category (100 normal, 10001
/// ads, 20001 politics, 20002 porn, 20003 abuse, 20006 crime, 20008 fraud,
/// 20012 vulgar, 20013 copyright, 21000 other); `None` when WeChat gave
/// none (87014 from the older API).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ContentVerdict {
    Pass,
    /// Doubtful: hand to human moderation.
    Review {
        label: Option<i64>,
    },
    /// Reject.
    Risky {
        label: Option<i64>,
    },
}

/// The media kind for `media_check_async`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MediaType {
    Audio = 1,
    Image = 2,
}

#[derive(Deserialize)]
struct MsgSecCheckBody {
    #[serde(default)]
    result: Option<CheckResult>,
}

#[derive(Deserialize)]
struct CheckResult {
    suggest: Suggest,
    #[serde(default)]
    label: Option<i64>,
}

#[derive(Deserialize)]
struct MediaCheckBody {
    #[serde(default)]
    trace_id: Option<String>,
}

impl WechatClient {
    /// Check a user's text (`POST /wxa/msg_sec_check`, version 2). `openid`
    /// must have used the mini-program within the last 2 hours.
    ///
    /// Errors: `InvalidArgument` for empty or over-long content (no
    /// request); [`WechatError::Busy`] / `Unavailable` are retryable (the
    /// caller decides whether to accept and queue the content).
    pub async fn msg_sec_check(
        &self,
        openid: &str,
        scene: CheckScene,
        content: &str,
    ) -> Result<ContentVerdict, WechatError> {
        if openid.is_empty() {
            return Err(WechatError::InvalidArgument("openid is empty"));
        }
        if content.trim().is_empty() {
            return Err(WechatError::InvalidArgument("content is empty"));
        }
        if content.chars().count() > MAX_CHECK_CONTENT_CHARS {
            return Err(WechatError::InvalidArgument(
                "content longer than 2500 characters",
            ));
        }
        let body = json!({
            "version": 2,
            "openid": openid,
            "scene": scene as u8,
            "content": content,
        });
        let reply = match self
            .call(Api::json(MSG_SEC_CHECK_PATH), &body, &[content])
            .await
        {
            Ok(reply) => reply,
            Err(WechatError::ContentRisky) => return Ok(ContentVerdict::Risky { label: None }),
            Err(e) => return Err(e),
        };
        let parsed: MsgSecCheckBody = parse_json(MSG_SEC_CHECK_PATH, &reply.body)?;
        let result = parsed
            .result
            .ok_or_else(|| WechatError::BadResponse("missing result".to_owned()))?;
        Ok(match result.suggest {
            Suggest::Pass => ContentVerdict::Pass,
            Suggest::Review => ContentVerdict::Review {
                label: result.label,
            },
            Suggest::Risky => ContentVerdict::Risky {
                label: result.label,
            },
        })
    }

    /// Submit an image or audio URL for checking
    /// (`POST /wxa/media_check_async`, version 2). Returns WeChat's
    /// `trace_id`; the verdict arrives within 30 minutes as a
    /// `wxa_media_check` push event with the same `trace_id`
    /// ([`crate::push::MediaCheckEvent`]).
    pub async fn media_check_async(
        &self,
        media_url: &str,
        media_type: MediaType,
        scene: CheckScene,
        openid: &str,
    ) -> Result<String, WechatError> {
        if openid.is_empty() {
            return Err(WechatError::InvalidArgument("openid is empty"));
        }
        match reqwest::Url::parse(media_url) {
            Ok(url) if matches!(url.scheme(), "http" | "https") && url.has_host() => {}
            _ => {
                return Err(WechatError::InvalidArgument(
                    "media_url is not an http(s) URL",
                ));
            }
        }
        let body = json!({
            "media_url": media_url,
            "media_type": media_type as u8,
            "version": 2,
            "scene": scene as u8,
            "openid": openid,
        });
        let reply = self
            .call(Api::json(MEDIA_CHECK_ASYNC_PATH), &body, &[media_url])
            .await?;
        let parsed: MediaCheckBody = parse_json(MEDIA_CHECK_ASYNC_PATH, &reply.body)?;
        parsed
            .trace_id
            .filter(|t| !t.is_empty())
            .ok_or_else(|| WechatError::BadResponse("missing trace_id".to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_suggest_reads_as_review() {
        let s: Suggest = serde_json::from_str(r#""pass""#).unwrap();
        assert_eq!(s, Suggest::Pass);
        let s: Suggest = serde_json::from_str(r#""risky""#).unwrap();
        assert_eq!(s, Suggest::Risky);
        let s: Suggest = serde_json::from_str(r#""something-new""#).unwrap();
        assert_eq!(s, Suggest::Review);
    }
}
