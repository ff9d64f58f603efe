//! Message push from WeChat to our server: signature check and the
//! `wxa_media_check` event (JSON data format, plain-text mode).
//!
//! WeChat calls the configured URL with `signature`, `timestamp` and `nonce`
//! in the query (and `echostr` when verifying the URL: answer it verbatim
//! if the signature is good). `signature` is the hex SHA-1 of the three
//! strings `token`, `timestamp`, `nonce` sorted and concatenated.

use serde::Deserialize;
use subtle::ConstantTimeEq;

use crate::security::Suggest;

/// Whether `signature` is WeChat's signature of `timestamp` and `nonce`
/// under the push `token` configured in the mini-program console. The
/// comparison is constant-time; hex case is ignored.
pub fn verify_push_signature(token: &str, timestamp: &str, nonce: &str, signature: &str) -> bool {
    let expected = push_signature(token, timestamp, nonce);
    let given = signature.trim().to_ascii_lowercase();
    bool::from(expected.as_bytes().ct_eq(given.as_bytes()))
}

/// The signature WeChat sends: `sha1(sorted([token, timestamp, nonce]).join(""))`
/// as lowercase hex.
pub fn push_signature(token: &str, timestamp: &str, nonce: &str) -> String {
    let mut parts = [token, timestamp, nonce];
    parts.sort_unstable();
    sha1_smol::Sha1::from(parts.concat()).digest().to_string()
}

/// The `wxa_media_check` push event: the asynchronous verdict of
/// [`crate::WechatClient::media_check_async`], matched by `trace_id`.
#[derive(Clone, Debug, Deserialize)]
pub struct MediaCheckEvent {
    /// The mini-program's original id (`gh_...`).
    #[serde(rename = "ToUserName")]
    pub to_user_name: String,
    /// Sender: WeChat's system account.
    #[serde(rename = "FromUserName")]
    pub from_user_name: String,
    #[serde(rename = "CreateTime")]
    pub create_time: i64,
    /// Always `event`.
    #[serde(rename = "MsgType")]
    pub msg_type: String,
    /// Always `wxa_media_check`.
    #[serde(rename = "Event")]
    pub event: String,
    pub appid: String,
    pub trace_id: String,
    pub version: i64,
    #[serde(default)]
    pub detail: Vec<MediaCheckDetail>,
    #[serde(default)]
    pub errcode: i64,
    #[serde(default)]
    pub errmsg: String,
    /// The overall verdict.
    pub result: MediaCheckResult,
}

/// One strategy's verdict within [`MediaCheckEvent::detail`].
#[derive(Clone, Debug, Deserialize)]
pub struct MediaCheckDetail {
    /// `content_model` (machine) or `human_review`.
    #[serde(default)]
    pub strategy: String,
    #[serde(default)]
    pub errcode: i64,
    pub suggest: Suggest,
    #[serde(default)]
    pub label: i64,
    /// 0..=100, confidence of a risky verdict.
    #[serde(default)]
    pub prob: Option<i64>,
}

/// The overall verdict of a media check.
#[derive(Clone, Copy, Debug, Deserialize)]
pub struct MediaCheckResult {
    pub suggest: Suggest,
    #[serde(default)]
    pub label: i64,
}

/// Why a pushed body is not a media-check event.
#[derive(thiserror::Error, Debug)]
pub enum PushError {
    #[error("push body is not a JSON media-check event ({0:?} error at line {1} column {2})")]
    Malformed(serde_json::error::Category, usize, usize),
    #[error("push event is not wxa_media_check")]
    OtherEvent,
}

impl MediaCheckEvent {
    /// Parse a JSON push body. Other events are [`PushError::OtherEvent`].
    /// Check the signature first ([`verify_push_signature`]).
    pub fn parse(body: &[u8]) -> Result<Self, PushError> {
        #[derive(Deserialize)]
        struct Kind {
            #[serde(rename = "MsgType", default)]
            msg_type: String,
            #[serde(rename = "Event", default)]
            event: String,
        }
        let malformed =
            |e: serde_json::Error| PushError::Malformed(e.classify(), e.line(), e.column());
        let kind: Kind = serde_json::from_slice(body).map_err(malformed)?;
        if kind.msg_type != "event" || kind.event != "wxa_media_check" {
            return Err(PushError::OtherEvent);
        }
        serde_json::from_slice(body).map_err(malformed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_matches_a_known_value() {
        // Sorted ["123456", "1700000000", "token"] -> "1234561700000000token".
        assert_eq!(
            push_signature("token", "1700000000", "123456"),
            sha1_smol::Sha1::from("1234561700000000token")
                .digest()
                .to_string()
        );
        // The FIPS 180 test vector for "abc".
        assert_eq!(
            push_signature("abc", "", ""),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
    }

    #[test]
    fn good_and_forged_signatures() {
        let sig = push_signature("push-token", "1700000000", "nonce-1");
        assert!(verify_push_signature(
            "push-token",
            "1700000000",
            "nonce-1",
            &sig
        ));
        assert!(verify_push_signature(
            "push-token",
            "1700000000",
            "nonce-1",
            &sig.to_ascii_uppercase()
        ));
        assert!(!verify_push_signature(
            "push-token",
            "1700000001",
            "nonce-1",
            &sig
        ));
        assert!(!verify_push_signature(
            "other-token",
            "1700000000",
            "nonce-1",
            &sig
        ));
        assert!(!verify_push_signature(
            "push-token",
            "1700000000",
            "nonce-1",
            &sig[..39]
        ));
        assert!(!verify_push_signature(
            "push-token",
            "1700000000",
            "nonce-1",
            ""
        ));
    }

    #[test]
    fn parses_the_documented_event() {
        let body = br#"{
            "ToUserName": "gh_38cc49f9733b",
            "FromUserName": "oH1fu0FdHqpToe2T6gBj0WyB8iS1",
            "CreateTime": 1626959646,
            "MsgType": "event",
            "Event": "wxa_media_check",
            "appid": "wx8f16a5e5a5c1b3f0",
            "trace_id": "60f96f1d-3845297a-1976a3ae",
            "version": 2,
            "detail": [{"strategy": "content_model", "errcode": 0, "suggest": "pass", "label": 100, "prob": 90}],
            "errcode": 0,
            "errmsg": "ok",
            "result": {"suggest": "risky", "label": 20002}
        }"#;
        let event = MediaCheckEvent::parse(body).unwrap();
        assert_eq!(event.trace_id, "60f96f1d-3845297a-1976a3ae");
        assert_eq!(event.result.suggest, Suggest::Risky);
        assert_eq!(event.result.label, 20002);
        assert_eq!(event.detail.len(), 1);
        assert_eq!(event.detail[0].suggest, Suggest::Pass);
        assert_eq!(event.detail[0].prob, Some(90));
        assert_eq!(event.create_time, 1626959646);
    }

    #[test]
    fn other_events_and_garbage_are_refused() {
        assert!(matches!(
            MediaCheckEvent::parse(br#"{"MsgType":"event","Event":"subscribe_msg_popup_event"}"#),
            Err(PushError::OtherEvent)
        ));
        assert!(matches!(
            MediaCheckEvent::parse(b"<xml></xml>"),
            Err(PushError::Malformed(..))
        ));
        assert!(matches!(
            MediaCheckEvent::parse(br#"{"MsgType":"event","Event":"wxa_media_check"}"#),
            Err(PushError::Malformed(..))
        ));
    }
}
