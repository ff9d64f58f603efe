//! Community QR codes: WeChat mini-program codes, or local ones without WeChat.

use reqwest::StatusCode;
use sansuo_tests::views::QrCodeList;
use sansuo_tests::{TestApp, TestOptions, expect_error};
use serde_json::json;

const PNG_MAGIC: &[u8] = b"\x89PNG\r\n\x1a\n";

#[tokio::test]
async fn community_codes_come_from_wechat_once_and_are_served_from_the_store() {
    let app = TestApp::spawn().await;
    let admin = app.staff_token("admin").await;
    let path = format!(
        "/api/v1/admin/communities/{}/qrcode",
        app.demo.community_a.as_uuid()
    );
    let first = app.get(&path, &admin).await;
    assert_eq!(first.status(), StatusCode::OK);
    assert_eq!(first.headers().get("content-type").unwrap(), "image/png");
    assert_eq!(first.headers().get("x-qr-source").unwrap(), "wechat");
    assert!(first.bytes().await.unwrap().starts_with(PNG_MAGIC));
    let requests = app.wechat.qrcode_requests().await;
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0]["scene"], "hk-jjq");

    // Served again from the store; regenerated on request; a whole street at once.
    assert_eq!(app.get(&path, &admin).await.status(), StatusCode::OK);
    assert_eq!(app.wechat.qrcode_requests().await.len(), 1);
    assert_eq!(
        app.get(&format!("{path}?refresh=true"), &admin)
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(app.wechat.qrcode_requests().await.len(), 2);
    let batch: QrCodeList = app
        .post_as(
            &format!(
                "/api/v1/admin/org-units/{}/qrcodes",
                app.demo.street.as_uuid()
            ),
            &admin,
            json!({}),
        )
        .await;
    let scenes: Vec<&str> = batch.items.iter().map(|i| i.scene.as_str()).collect();
    assert_eq!(scenes.len(), 2);
    assert!(scenes.contains(&"hk-jjq") && scenes.contains(&"hk-sq"));

    // Not a community, or not yours.
    expect_error(
        app.get(
            &format!(
                "/api/v1/admin/communities/{}/qrcode",
                app.demo.street.as_uuid()
            ),
            &admin,
        )
        .await,
        StatusCode::NOT_FOUND,
        "community_not_found",
    )
    .await;
    let lawyer = app.staff_token("lawyer.zhang").await;
    expect_error(
        app.get(&path, &lawyer).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
}

#[tokio::test]
async fn without_wechat_credentials_a_plain_qr_code_of_the_scene_is_made_locally() {
    let app = TestApp::spawn_with(TestOptions {
        wechat: false,
        ..TestOptions::default()
    })
    .await;
    let admin = app.staff_token("admin").await;
    let response = app
        .get(
            &format!(
                "/api/v1/admin/communities/{}/qrcode",
                app.demo.community_b.as_uuid()
            ),
            &admin,
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers().get("x-qr-source").unwrap(), "local");
    assert!(response.bytes().await.unwrap().starts_with(PNG_MAGIC));
    assert!(app.wechat.qrcode_requests().await.is_empty());
}
