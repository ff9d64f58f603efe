//! Logs never contain the app secret, a code, the session key, the access
//! token, a phone number or checked content.
//!
//! In its own test binary: tracing caches per-callsite interest globally, so a
//! thread-local subscriber can miss events while other tests run in parallel.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sansuo_wechat::{CheckScene, QrCodeOptions, SubscribeMessage, WechatClient, WechatConfig};
use sansuo_wechat_fake::{FakeWechat, MSG_SEC_CHECK_PATH, STABLE_TOKEN_PATH};
use secrecy::{ExposeSecret, SecretString};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn client_with(base_url: String, secret: &str, timeout: Duration) -> WechatClient {
    WechatClient::new(WechatConfig {
        base_url,
        app_id: FakeWechat::APP_ID.to_owned(),
        app_secret: SecretString::from(secret),
        timeout,
    })
    .expect("client builds")
}

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn logs_never_contain_secret_code_or_session_key() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let fake = FakeWechat::start().await;
    fake.accept_code("log-code-ok", "openid-log").await;
    fake.fail_code("log-code-bad", 48001).await;
    let client = client_with(
        fake.base_url(),
        FakeWechat::APP_SECRET,
        Duration::from_secs(5),
    );
    let session = client.code_to_session("log-code-ok").await.unwrap();
    client.code_to_session("log-code-bad").await.unwrap_err();
    let slow = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/sns/jscode2session"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(3)))
        .mount(&slow)
        .await;
    client_with(
        slow.uri(),
        FakeWechat::APP_SECRET,
        Duration::from_millis(100),
    )
    .code_to_session("log-code-slow")
    .await
    .unwrap_err();

    // Access-token APIs: token fetch, a forced refresh, a failed refresh.
    fake.set_phone_number("log-phone-code", "13912345678", "86");
    fake.set_verdict("log-sensitive", "risky", 20001);
    let phone = client.get_phone_number("log-phone-code").await.unwrap();
    client
        .get_phone_number("log-phone-code-bad")
        .await
        .unwrap_err();
    fake.fail_next(MSG_SEC_CHECK_PATH, 40001, 1);
    client
        .msg_sec_check("openid-log", CheckScene::Comment, "log-sensitive 离婚 text")
        .await
        .unwrap();
    client
        .send_subscribe_message(
            &SubscribeMessage::new("openid-log", "tmpl").field("thing1", "log-thing-value"),
        )
        .await
        .unwrap();
    client
        .get_unlimited_qrcode("c=log", &QrCodeOptions::default())
        .await
        .unwrap();
    fake.invalidate_tokens();
    fake.fail_next(STABLE_TOKEN_PATH, 40125, 1);
    client
        .msg_sec_check("openid-log", CheckScene::Comment, "log-sensitive again")
        .await
        .unwrap_err();
    assert!(fake.stable_token_calls().await >= 2);

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("jscode2session"),
        "expected debug events: {logs}"
    );
    assert!(logs.contains("48001"), "errcode should be logged: {logs}");
    assert!(logs.contains("stable_token"), "token events: {logs}");
    assert!(logs.contains("40001"), "token rejection logged: {logs}");
    for secret in [
        FakeWechat::APP_SECRET,
        "log-code-ok",
        "log-code-bad",
        "log-code-slow",
        session.session_key.expose_secret(),
        "fake-token-",
        "access_token=",
        "log-phone-code",
        phone.expose_pure_phone_number(),
        "log-sensitive",
        "离婚",
        "log-thing-value",
        "openid-log",
    ] {
        assert!(!logs.contains(secret), "logs contain {secret:?}: {logs}");
    }
}
