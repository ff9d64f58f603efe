//! Phone numbers against the fake and a raw wiremock server.

mod common;

use common::{TIMEOUT, client, config};
use sansuo_wechat::{WechatClient, WechatError};
use sansuo_wechat_fake::{FakeWechat, GETUSERPHONENUMBER_PATH};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

#[tokio::test]
async fn phone_number_success_and_debug_hides_it() {
    let fake = FakeWechat::start().await;
    fake.set_phone_number("phone-code-1", "13800138000", "86");
    let client = client(&fake);

    let phone = client.get_phone_number("phone-code-1").await.unwrap();

    assert_eq!(phone.expose_pure_phone_number(), "13800138000");
    assert_eq!(phone.expose_phone_number(), "13800138000");
    assert_eq!(phone.country_code(), "86");
    let debug = format!("{phone:?}");
    assert!(!debug.contains("13800138000"), "{debug}");
    assert!(!debug.contains("0013"), "{debug}");
    let sent = &fake.server().received_requests().await.unwrap();
    let body = sent
        .iter()
        .find(|r| r.url.path() == GETUSERPHONENUMBER_PATH)
        .unwrap();
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&body.body).unwrap()["code"],
        "phone-code-1"
    );
}

#[tokio::test]
async fn foreign_number_keeps_its_country_code() {
    let fake = FakeWechat::start().await;
    fake.set_phone_number("pc", "2025550123", "1");
    let phone = client(&fake).get_phone_number("pc").await.unwrap();
    assert_eq!(phone.expose_phone_number(), "+1 2025550123");
    assert_eq!(phone.expose_pure_phone_number(), "2025550123");
    assert_eq!(phone.country_code(), "1");
}

#[tokio::test]
async fn bad_or_used_code_is_invalid_code() {
    let fake = FakeWechat::start().await;
    fake.set_phone_number("once", "13800138000", "86");
    let client = client(&fake);

    let err = client.get_phone_number("never-issued").await.unwrap_err();
    assert!(matches!(err, WechatError::InvalidCode), "{err:?}");
    assert!(!err.is_retryable());

    client.get_phone_number("once").await.unwrap();
    let err = client.get_phone_number("once").await.unwrap_err();
    assert!(matches!(err, WechatError::InvalidCode), "{err:?}");

    let err = client.get_phone_number("").await.unwrap_err();
    assert!(matches!(err, WechatError::InvalidCode), "{err:?}");
    assert_eq!(fake.phone_number_calls().await, 3);
}

#[tokio::test]
async fn busy_is_retryable() {
    let fake = FakeWechat::start().await;
    fake.set_phone_number("pc", "13800138000", "86");
    fake.fail_next(GETUSERPHONENUMBER_PATH, -1, 1);
    let client = client(&fake);

    let err = client.get_phone_number("pc").await.unwrap_err();
    assert!(matches!(err, WechatError::Busy), "{err:?}");
    assert!(err.is_retryable());
    // The code was not consumed by the failed call.
    client.get_phone_number("pc").await.unwrap();
}

/// A raw server: stable_token always works; the phone API answers `phone`.
async fn raw(phone: ResponseTemplate) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/cgi-bin/stable_token"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(
            r#"{"access_token":"raw-token-123","expires_in":7200}"#,
            "application/json",
        ))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(GETUSERPHONENUMBER_PATH))
        .respond_with(phone)
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn errmsg_echoing_code_token_or_secret_is_redacted() {
    let server = raw(ResponseTemplate::new(200).set_body_raw(
        r#"{"errcode":40999,"errmsg":"bad code pc-secret-9 token raw-token-123 secret s3cr3t"}"#,
        "application/json",
    ))
    .await;
    let client = WechatClient::new(config(server.uri(), "s3cr3t", TIMEOUT)).unwrap();

    let err = client.get_phone_number("pc-secret-9").await.unwrap_err();

    assert!(
        matches!(err, WechatError::Api { errcode: 40999, .. }),
        "{err:?}"
    );
    let shown = format!("{err} {err:?}");
    for secret in ["pc-secret-9", "raw-token-123", "s3cr3t"] {
        assert!(!shown.contains(secret), "{shown}");
    }
}

#[tokio::test]
async fn watermark_of_another_app_is_refused() {
    let server = raw(ResponseTemplate::new(200).set_body_raw(
        r#"{"errcode":0,"errmsg":"ok","phone_info":{"phoneNumber":"13800138000","purePhoneNumber":"13800138000","countryCode":"86","watermark":{"timestamp":1,"appid":"wx-someone-else"}}}"#,
        "application/json",
    ))
    .await;
    let client = WechatClient::new(config(server.uri(), "s", TIMEOUT)).unwrap();

    let err = client.get_phone_number("pc").await.unwrap_err();

    assert!(matches!(err, WechatError::BadResponse(_)), "{err:?}");
    assert!(!format!("{err} {err:?}").contains("13800138000"));
}
