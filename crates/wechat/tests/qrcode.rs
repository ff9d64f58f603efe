//! Unlimited mini-program codes against the fake and raw wiremock answers.

mod common;

use common::{TIMEOUT, client, config};
use sansuo_wechat::{EnvVersion, ImageFormat, QrCodeOptions, WechatClient, WechatError};
use sansuo_wechat_fake::{FakeWechat, GETWXACODEUNLIMIT_PATH, PNG_MAGIC};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

#[tokio::test]
async fn png_bytes_are_returned() {
    let fake = FakeWechat::start().await;
    fake.register_page("pages/community/home");
    let options = QrCodeOptions {
        page: Some("pages/community/home".to_owned()),
        width: 280,
        env_version: EnvVersion::Trial,
        ..QrCodeOptions::default()
    };

    let image = client(&fake)
        .get_unlimited_qrcode("c=42", &options)
        .await
        .unwrap();

    assert_eq!(image.format, ImageFormat::Png);
    assert!(image.bytes.starts_with(PNG_MAGIC));
    // The fake's PNG carries the scene it was made for.
    assert!(
        image.bytes.windows(10).any(|w| w == b"scene\0c=42"),
        "scene not in the image"
    );
    let requests = fake.qrcode_requests().await;
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0]["scene"], "c=42");
    assert_eq!(requests[0]["page"], "pages/community/home");
    assert_eq!(requests[0]["check_path"], true);
    assert_eq!(requests[0]["env_version"], "trial");
    assert_eq!(requests[0]["width"], 280);
    // Debug shows the size, not the bytes.
    assert!(format!("{image:?}").contains("bytes"));
}

#[tokio::test]
async fn json_errors_are_mapped() {
    let fake = FakeWechat::start().await;
    let client = client(&fake);

    let unknown_page = QrCodeOptions {
        page: Some("pages/not/there".to_owned()),
        ..QrCodeOptions::default()
    };
    let err = client
        .get_unlimited_qrcode("c=1", &unknown_page)
        .await
        .unwrap_err();
    assert!(matches!(err, WechatError::InvalidPage), "{err:?}");
    assert!(!err.is_retryable());

    // Without check_path, unpublished pages are fine.
    let unchecked = QrCodeOptions {
        check_path: false,
        ..unknown_page
    };
    client
        .get_unlimited_qrcode("c=1", &unchecked)
        .await
        .unwrap();

    fake.fail_next(GETWXACODEUNLIMIT_PATH, 45009, 1);
    let err = client
        .get_unlimited_qrcode("c=1", &QrCodeOptions::default())
        .await
        .unwrap_err();
    assert!(matches!(err, WechatError::RateLimited), "{err:?}");

    fake.fail_next(GETWXACODEUNLIMIT_PATH, 40097, 1);
    let err = client
        .get_unlimited_qrcode("c=1", &QrCodeOptions::default())
        .await
        .unwrap_err();
    assert!(
        matches!(err, WechatError::Api { errcode: 40097, .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn invalid_scene_is_refused_without_a_request() {
    let fake = FakeWechat::start().await;
    let client = client(&fake);
    for scene in ["", "社区=1", "has space", "a%20b", &"x".repeat(33)] {
        let err = client
            .get_unlimited_qrcode(scene, &QrCodeOptions::default())
            .await
            .unwrap_err();
        assert!(
            matches!(err, WechatError::InvalidScene),
            "{scene:?}: {err:?}"
        );
    }
    assert!(fake.qrcode_requests().await.is_empty());
    assert_eq!(fake.stable_token_calls().await, 0);
    // The longest valid scene goes through.
    client
        .get_unlimited_qrcode(&"x".repeat(32), &QrCodeOptions::default())
        .await
        .unwrap();
}

#[tokio::test]
async fn bad_width_or_page_is_refused_without_a_request() {
    let fake = FakeWechat::start().await;
    let client = client(&fake);
    for options in [
        QrCodeOptions {
            width: 100,
            ..QrCodeOptions::default()
        },
        QrCodeOptions {
            page: Some("/pages/index/index".to_owned()),
            ..QrCodeOptions::default()
        },
        QrCodeOptions {
            page: Some("pages/index/index?c=1".to_owned()),
            ..QrCodeOptions::default()
        },
    ] {
        let err = client
            .get_unlimited_qrcode("c=1", &options)
            .await
            .unwrap_err();
        assert!(matches!(err, WechatError::InvalidArgument(_)), "{err:?}");
    }
    assert!(fake.qrcode_requests().await.is_empty());
}

#[tokio::test]
async fn rejected_token_is_refreshed_for_images_too() {
    let fake = FakeWechat::start().await;
    fake.fail_next(GETWXACODEUNLIMIT_PATH, 40001, 1);
    let image = client(&fake)
        .get_unlimited_qrcode("c=7", &QrCodeOptions::default())
        .await
        .unwrap();
    assert!(image.bytes.starts_with(PNG_MAGIC));
    assert_eq!(fake.forced_refresh_calls().await, 1);
    assert_eq!(fake.qrcode_requests().await.len(), 2);
}

/// A raw server: stable_token always works; the QR API answers `qr`.
/// (Scoped mocks on the fake's server are avoided: wiremock re-sorts mocks
/// by priority, so dropping a scoped one can deactivate another.)
async fn raw(qr: ResponseTemplate) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/cgi-bin/stable_token"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(
            r#"{"access_token":"raw-token","expires_in":7200}"#,
            "application/json",
        ))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(GETWXACODEUNLIMIT_PATH))
        .respond_with(qr)
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn jpeg_bytes_from_a_raw_server() {
    // A JPEG labelled image/jpeg, as WeChat sometimes answers.
    let jpeg = [0xFF, 0xD8, 0xFF, 0xE0, 0, 16, b'J', b'F', b'I', b'F', 0];
    let server = raw(ResponseTemplate::new(200).set_body_raw(jpeg.to_vec(), "image/jpeg")).await;
    let client = WechatClient::new(config(server.uri(), "s", TIMEOUT)).unwrap();

    let image = client
        .get_unlimited_qrcode("c=1", &QrCodeOptions::default())
        .await
        .unwrap();

    assert_eq!(image.format, ImageFormat::Jpeg);
    assert_eq!(image.bytes, jpeg);
}

#[tokio::test]
async fn text_plain_json_error_from_a_raw_server() {
    let server = raw(ResponseTemplate::new(200).set_body_raw(
        r#"{"errcode":40169,"errmsg":"invalid length for scene, or the data is not json string"}"#,
        "text/plain",
    ))
    .await;
    let client = WechatClient::new(config(server.uri(), "s", TIMEOUT)).unwrap();

    let err = client
        .get_unlimited_qrcode("c=1", &QrCodeOptions::default())
        .await
        .unwrap_err();

    assert!(
        matches!(err, WechatError::Api { errcode: 40169, .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn json_without_errcode_is_a_bad_response() {
    let server =
        raw(ResponseTemplate::new(200).set_body_raw(r#"{"ok":true}"#, "application/json")).await;
    let client = WechatClient::new(config(server.uri(), "s", TIMEOUT)).unwrap();

    let err = client
        .get_unlimited_qrcode("c=1", &QrCodeOptions::default())
        .await
        .unwrap_err();

    assert!(matches!(err, WechatError::BadResponse(_)), "{err:?}");
}
