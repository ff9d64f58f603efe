//! WeChat's message push: signed, fresh, recorded once; forgeries refused.

use reqwest::StatusCode;
use sansuo_domain::moderation::Verdict;
use sansuo_tests::{TestApp, TestOptions, expect_error};
use sansuo_wechat_fake::FakeWechat;

const TOKEN: &str = "push-token-of-the-test";

fn signed(timestamp: i64) -> String {
    let ts = timestamp.to_string();
    let nonce = "n0nce";
    format!(
        "signature={}&timestamp={ts}&nonce={nonce}",
        FakeWechat::push_signature(TOKEN, &ts, nonce)
    )
}

#[tokio::test]
async fn a_signed_media_check_result_is_recorded_once_and_forgeries_are_refused() {
    let app = TestApp::spawn_with(TestOptions {
        env: vec![("SANSUO_WECHAT_PUSH_TOKEN", TOKEN.to_owned())],
        ..TestOptions::default()
    })
    .await;
    let now = chrono::Utc::now().timestamp();
    // URL verification echoes echostr.
    let echo = app
        .http
        .get(app.url(&format!(
            "/api/v1/wechat/push?{}&echostr=hello",
            signed(now)
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(echo.status(), StatusCode::OK);
    assert_eq!(echo.text().await.unwrap(), "hello");

    app.app
        .store
        .moderation()
        .register_media_check("trace-1", "photo:test", chrono::Utc::now())
        .await
        .unwrap();
    let event = FakeWechat::media_check_event("trace-1", "risky", 20002);
    let post = |query: String, body: serde_json::Value| {
        app.http
            .post(app.url(&format!("/api/v1/wechat/push?{query}")))
            .json(&body)
            .send()
    };

    // Forged and replayed pushes change nothing.
    let forged = format!("signature={}&timestamp={now}&nonce=n0nce", "0".repeat(40));
    expect_error(
        post(forged, event.clone()).await.unwrap(),
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    expect_error(
        post(signed(now - 3600), event.clone()).await.unwrap(),
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    assert_eq!(
        app.app
            .store
            .moderation()
            .media_check("trace-1")
            .await
            .unwrap()
            .unwrap()
            .verdict,
        None
    );

    let ok = post(signed(now), event.clone()).await.unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
    assert_eq!(ok.text().await.unwrap(), "success");
    let check = app
        .app
        .store
        .moderation()
        .media_check("trace-1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (check.verdict, check.label),
        (Some(Verdict::Risky), Some(20002))
    );
    // A repeated push (WeChat retries) does not overwrite the verdict.
    let pass = FakeWechat::media_check_event("trace-1", "pass", 100);
    assert_eq!(
        post(signed(now), pass).await.unwrap().status(),
        StatusCode::OK
    );
    assert_eq!(
        app.app
            .store
            .moderation()
            .media_check("trace-1")
            .await
            .unwrap()
            .unwrap()
            .verdict,
        Some(Verdict::Risky)
    );
    // Other events are acknowledged and ignored; garbage is refused.
    let other = serde_json::json!({"MsgType": "event", "Event": "subscribe_msg_popup_event"});
    assert_eq!(
        post(signed(now), other).await.unwrap().status(),
        StatusCode::OK
    );
    let garbage = app
        .http
        .post(app.url(&format!("/api/v1/wechat/push?{}", signed(now))))
        .body("not json")
        .send()
        .await
        .unwrap();
    expect_error(garbage, StatusCode::BAD_REQUEST, "malformed_json").await;
}

#[tokio::test]
async fn without_a_push_token_the_endpoint_does_not_exist() {
    let app = TestApp::spawn().await;
    let response = app
        .http
        .get(app.url(&format!(
            "/api/v1/wechat/push?{}&echostr=x",
            signed(chrono::Utc::now().timestamp())
        )))
        .send()
        .await
        .unwrap();
    expect_error(response, StatusCode::NOT_FOUND, "push_not_configured").await;
}
