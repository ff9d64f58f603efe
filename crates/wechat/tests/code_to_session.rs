//! `code_to_session` against the WeChat fake and raw wiremock servers.

use std::time::Duration;

use sansuo_wechat::{WechatClient, WechatConfig, WechatError};
use sansuo_wechat_fake::FakeWechat;
use secrecy::{ExposeSecret, SecretString};
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

const TIMEOUT: Duration = Duration::from_secs(5);

fn client_with(base_url: String, app_id: &str, secret: &str, timeout: Duration) -> WechatClient {
    WechatClient::new(WechatConfig {
        base_url,
        app_id: app_id.to_owned(),
        app_secret: SecretString::from(secret),
        timeout,
    })
    .expect("client builds")
}

fn client(fake: &FakeWechat) -> WechatClient {
    client_with(
        fake.base_url(),
        FakeWechat::APP_ID,
        FakeWechat::APP_SECRET,
        TIMEOUT,
    )
}

async fn fail_with(errcode: i64) -> WechatError {
    let fake = FakeWechat::start().await;
    fake.fail_code("the-code", errcode).await;
    let err = client(&fake).code_to_session("the-code").await.unwrap_err();
    assert_eq!(fake.code2session_calls().await, 1);
    err
}

/// A raw server answering every jscode2session call with `response`.
async fn raw_server(response: ResponseTemplate) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/sns/jscode2session"))
        .respond_with(response)
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn accepted_code_returns_session() {
    let fake = FakeWechat::start().await;
    fake.accept_code("code-ok", "openid-42").await;
    // Trailing slash in the base URL is fine.
    let client = client_with(
        format!("{}/", fake.base_url()),
        FakeWechat::APP_ID,
        FakeWechat::APP_SECRET,
        TIMEOUT,
    );

    let session = client.code_to_session("code-ok").await.unwrap();

    assert_eq!(session.openid, "openid-42");
    assert_eq!(session.unionid, None);
    let key = session.session_key.expose_secret().to_owned();
    assert!(!key.is_empty());
    let debug = format!("{session:?}");
    assert!(debug.contains("openid-42"), "{debug}");
    assert!(!debug.contains(&key), "Debug leaks session_key: {debug}");
    assert_eq!(fake.code2session_calls().await, 1);
}

#[tokio::test]
async fn invalid_code_40029() {
    assert!(matches!(fail_with(40029).await, WechatError::InvalidCode));
}

#[tokio::test]
async fn used_code_40163() {
    assert!(matches!(fail_with(40163).await, WechatError::InvalidCode));
}

#[tokio::test]
async fn unknown_code_is_invalid() {
    let fake = FakeWechat::start().await;
    let err = client(&fake)
        .code_to_session("never-issued")
        .await
        .unwrap_err();
    assert!(matches!(err, WechatError::InvalidCode), "{err:?}");
    assert!(!err.is_retryable());
}

#[tokio::test]
async fn code_works_once_when_single_use() {
    let fake = FakeWechat::start().await;
    fake.accept_code_once("once", "openid-1").await;
    let client = client(&fake);
    assert_eq!(
        client.code_to_session("once").await.unwrap().openid,
        "openid-1"
    );
    let err = client.code_to_session("once").await.unwrap_err();
    assert!(matches!(err, WechatError::InvalidCode), "{err:?}");
}

#[tokio::test]
async fn rate_limited_45011() {
    let err = fail_with(45011).await;
    assert!(matches!(err, WechatError::RateLimited), "{err:?}");
    assert!(!err.is_retryable());
}

#[tokio::test]
async fn busy_minus_one_is_retryable() {
    let err = fail_with(-1).await;
    assert!(matches!(err, WechatError::Busy), "{err:?}");
    assert!(err.is_retryable());
}

#[tokio::test]
async fn risky_user_40226() {
    let err = fail_with(40226).await;
    assert!(matches!(err, WechatError::RiskyUser), "{err:?}");
    assert!(!err.is_retryable());
}

#[tokio::test]
async fn other_errcode_is_api_error() {
    let err = fail_with(48001).await;
    match &err {
        WechatError::Api { errcode, errmsg } => {
            assert_eq!(*errcode, 48001);
            assert!(!errmsg.is_empty());
        }
        other => panic!("expected Api, got {other:?}"),
    }
    assert!(!err.is_retryable());
    assert!(err.to_string().contains("48001"), "{err}");
}

#[tokio::test]
async fn wrong_secret_is_api_40125_without_leaking_it() {
    let fake = FakeWechat::start().await;
    fake.accept_code("code-ok", "openid-1").await;
    let client = client_with(
        fake.base_url(),
        FakeWechat::APP_ID,
        "wrong-secret-xyz",
        TIMEOUT,
    );

    let err = client.code_to_session("code-ok").await.unwrap_err();

    assert!(
        matches!(err, WechatError::Api { errcode: 40125, .. }),
        "{err:?}"
    );
    assert!(!err.to_string().contains("wrong-secret-xyz"));
    assert!(!format!("{err:?}").contains("wrong-secret-xyz"));
}

#[tokio::test]
async fn wrong_appid_is_api_40013() {
    let fake = FakeWechat::start().await;
    fake.accept_code("code-ok", "openid-1").await;
    let client = client_with(fake.base_url(), "wx-other", FakeWechat::APP_SECRET, TIMEOUT);

    let err = client.code_to_session("code-ok").await.unwrap_err();

    assert!(
        matches!(err, WechatError::Api { errcode: 40013, .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn errmsg_echoing_the_code_is_redacted() {
    let server = raw_server(ResponseTemplate::new(200).set_body_raw(
        r#"{"errcode":40999,"errmsg":"bad code code-secret-77 for secret s3cr3t"}"#,
        "text/plain",
    ))
    .await;
    let client = client_with(server.uri(), "wx-app", "s3cr3t", TIMEOUT);

    let err = client.code_to_session("code-secret-77").await.unwrap_err();

    let shown = format!("{err} {err:?}");
    assert!(
        matches!(err, WechatError::Api { errcode: 40999, .. }),
        "{err:?}"
    );
    assert!(!shown.contains("code-secret-77"), "{shown}");
    assert!(!shown.contains("s3cr3t"), "{shown}");
}

#[tokio::test]
async fn http_500_is_unavailable() {
    let server = raw_server(ResponseTemplate::new(500)).await;
    let client = client_with(server.uri(), "wx-app", "secret", TIMEOUT);

    let err = client.code_to_session("code").await.unwrap_err();

    assert!(matches!(err, WechatError::Unavailable(_)), "{err:?}");
    assert!(err.is_retryable());
}

#[tokio::test]
async fn http_404_is_bad_response() {
    let server = MockServer::start().await; // no mocks: everything is 404
    let client = client_with(server.uri(), "wx-app", "secret", TIMEOUT);

    let err = client.code_to_session("code").await.unwrap_err();

    assert!(matches!(err, WechatError::BadResponse(_)), "{err:?}");
    assert!(!err.is_retryable());
}

#[tokio::test]
async fn slow_server_times_out_as_unavailable() {
    let server = raw_server(
        ResponseTemplate::new(200)
            .set_body_raw(r#"{"openid":"o","session_key":"k"}"#, "text/plain")
            .set_delay(Duration::from_secs(3)),
    )
    .await;
    let client = client_with(
        server.uri(),
        "wx-app",
        "slow-secret",
        Duration::from_millis(200),
    );

    let started = std::time::Instant::now();
    let err = client.code_to_session("slow-code").await.unwrap_err();

    assert!(
        started.elapsed() < Duration::from_secs(2),
        "timeout not applied"
    );
    assert!(matches!(err, WechatError::Unavailable(_)), "{err:?}");
    assert!(err.is_retryable());
    // reqwest errors carry the URL, whose query holds the secret and the code.
    let shown = format!("{err} {err:?}");
    assert!(!shown.contains("slow-secret"), "{shown}");
    assert!(!shown.contains("slow-code"), "{shown}");
}

#[tokio::test]
async fn refused_connection_is_unavailable() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let client = client_with(
        format!("http://127.0.0.1:{port}"),
        "wx-app",
        "conn-secret",
        TIMEOUT,
    );

    let err = client.code_to_session("conn-code").await.unwrap_err();

    assert!(matches!(err, WechatError::Unavailable(_)), "{err:?}");
    let shown = format!("{err} {err:?}");
    assert!(
        !shown.contains("conn-secret") && !shown.contains("conn-code"),
        "{shown}"
    );
}

#[tokio::test]
async fn non_json_body_is_bad_response() {
    let server =
        raw_server(ResponseTemplate::new(200).set_body_raw("<html>gateway</html>", "text/html"))
            .await;
    let client = client_with(server.uri(), "wx-app", "secret", TIMEOUT);

    let err = client.code_to_session("code").await.unwrap_err();

    assert!(matches!(err, WechatError::BadResponse(_)), "{err:?}");
    assert!(!err.is_retryable());
}

#[tokio::test]
async fn missing_openid_is_bad_response() {
    let server =
        raw_server(ResponseTemplate::new(200).set_body_raw(r#"{"session_key":"k"}"#, "text/plain"))
            .await;
    let client = client_with(server.uri(), "wx-app", "secret", TIMEOUT);

    let err = client.code_to_session("code").await.unwrap_err();

    assert!(matches!(err, WechatError::BadResponse(_)), "{err:?}");
}

#[tokio::test]
async fn text_plain_json_with_unionid_and_exact_query() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/sns/jscode2session"))
        .and(query_param("appid", "wx-app"))
        .and(query_param("secret", "sec&ret=1"))
        .and(query_param("js_code", "code+/="))
        .and(query_param("grant_type", "authorization_code"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(
            r#"{"openid":"o-1","unionid":"u-1","session_key":"c2Vzc2lvbi1rZXk=","errcode":0,"errmsg":"ok"}"#,
            "text/plain",
        ))
        .expect(1)
        .mount(&server)
        .await;
    let client = client_with(server.uri(), "wx-app", "sec&ret=1", TIMEOUT);

    let session = client.code_to_session("code+/=").await.unwrap();

    assert_eq!(session.openid, "o-1");
    assert_eq!(session.unionid.as_deref(), Some("u-1"));
    assert_eq!(session.session_key.expose_secret(), "c2Vzc2lvbi1rZXk=");
}

#[tokio::test]
async fn empty_code_is_rejected_without_a_request() {
    let fake = FakeWechat::start().await;
    let err = client(&fake).code_to_session("").await.unwrap_err();
    assert!(matches!(err, WechatError::InvalidCode), "{err:?}");
    assert_eq!(fake.code2session_calls().await, 0);
}
