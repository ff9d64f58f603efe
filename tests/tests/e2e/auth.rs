//! Identity: WeChat login and its error codes, staff login, token refresh.

use reqwest::StatusCode;
use sansuo_tests::views::{StaffView, TokenResponse};
use sansuo_tests::{TestApp, expect_error, expect_json, expect_status, read_as};
use serde_json::json;

#[tokio::test]
async fn wechat_login_upserts_one_resident_per_openid_and_never_returns_the_session_key() {
    let app = TestApp::spawn().await;
    app.wechat.accept_code("code-a", "openid-same").await;
    app.wechat.accept_code("code-b", "openid-same").await;
    // Raw as well: no session key or openid anywhere on the wire.
    let first_raw = expect_status(
        app.http
            .post(app.url("/api/v1/auth/wechat"))
            .json(&json!({"code": "code-a"}))
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    let first: TokenResponse = read_as(&first_raw);
    let second: TokenResponse = expect_json(
        app.http
            .post(app.url("/api/v1/auth/wechat"))
            .json(&json!({"code": "code-b"}))
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        first.subject_id, second.subject_id,
        "same openid, same resident"
    );
    assert_eq!(first.token_type, "Bearer");
    let text = first_raw.to_string();
    assert!(
        !text.contains("session_key") && !text.contains("openid"),
        "{text}"
    );
    assert_eq!(app.wechat.code2session_calls().await, 2);
}

#[tokio::test]
async fn wechat_error_codes_map_to_clear_statuses() {
    let app = TestApp::spawn().await;
    let login = |code: &'static str| {
        app.http
            .post(app.url("/api/v1/auth/wechat"))
            .json(&json!({ "code": code }))
            .send()
    };

    app.wechat.fail_code("bad", 40029).await;
    expect_error(
        login("bad").await.unwrap(),
        StatusCode::UNAUTHORIZED,
        "wechat_code_invalid",
    )
    .await;

    app.wechat.fail_code("used", 40163).await;
    expect_error(
        login("used").await.unwrap(),
        StatusCode::UNAUTHORIZED,
        "wechat_code_invalid",
    )
    .await;

    app.wechat.fail_code("limited", 45011).await;
    let response = login("limited").await.unwrap();
    assert!(
        response.headers().get("retry-after").is_some(),
        "429 says when to retry"
    );
    expect_error(
        response,
        StatusCode::TOO_MANY_REQUESTS,
        "wechat_rate_limited",
    )
    .await;

    app.wechat.fail_code("busy", -1).await;
    let response = login("busy").await.unwrap();
    assert!(response.headers().get("retry-after").is_some());
    expect_error(
        response,
        StatusCode::SERVICE_UNAVAILABLE,
        "wechat_unavailable",
    )
    .await;

    app.wechat.fail_code("risky", 40226).await;
    expect_error(
        login("risky").await.unwrap(),
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;

    // A code WeChat never issued.
    expect_error(
        login("never-issued").await.unwrap(),
        StatusCode::UNAUTHORIZED,
        "wechat_code_invalid",
    )
    .await;
}

#[tokio::test]
async fn staff_login_refuses_wrong_passwords_and_unknown_users_alike() {
    let app = TestApp::spawn().await;
    let wrong = app
        .http
        .post(app.url("/api/v1/auth/staff"))
        .json(&json!({"username": "lawyer.zhang", "password": "nope"}))
        .send()
        .await
        .unwrap();
    let wrong = expect_error(wrong, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
    let unknown = app
        .http
        .post(app.url("/api/v1/auth/staff"))
        .json(&json!({"username": "nobody", "password": "nope"}))
        .send()
        .await
        .unwrap();
    let unknown = expect_error(unknown, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
    assert_eq!(
        (wrong.error.code, wrong.error.message),
        (unknown.error.code, unknown.error.message),
        "the answer does not reveal which usernames exist"
    );

    let token = app.staff_token("lawyer.zhang").await;
    // Raw as well: the password hash must be absent from the wire.
    let me_raw = expect_status(app.get("/api/v1/staff/me", &token).await, StatusCode::OK).await;
    let me: StaffView = read_as(&me_raw);
    assert_eq!(me.username, "lawyer.zhang");
    assert_eq!(me.role, "lawyer");
    assert!(me_raw.get("password_hash").is_none());

    // A deactivated account can no longer log in.
    app.app
        .store
        .identity()
        .set_staff_active(app.demo.account("lawyer.zhao").id, false)
        .await
        .unwrap();
    let response = app
        .http
        .post(app.url("/api/v1/auth/staff"))
        .json(&json!({"username": "lawyer.zhao", "password": sansuo_tests::DEMO_PASSWORD}))
        .send()
        .await
        .unwrap();
    expect_error(response, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
}

#[tokio::test]
async fn refresh_tokens_rotate_and_a_replayed_one_is_refused() {
    let app = TestApp::spawn().await;
    let login = app
        .http
        .post(app.url("/api/v1/auth/staff"))
        .json(&json!({"username": "lawyer.li", "password": sansuo_tests::DEMO_PASSWORD}))
        .send()
        .await
        .unwrap();
    let login: TokenResponse = expect_json(login, StatusCode::OK).await;
    let refresh_token = login.refresh_token.as_str();

    let refreshed = app
        .http
        .post(app.url("/api/v1/auth/refresh"))
        .json(&json!({ "refresh_token": refresh_token }))
        .send()
        .await
        .unwrap();
    let refreshed: TokenResponse = expect_json(refreshed, StatusCode::OK).await;
    assert_ne!(refreshed.refresh_token, login.refresh_token);
    assert_eq!(refreshed.role.as_deref(), Some("lawyer"));
    let me = app.get("/api/v1/staff/me", &refreshed.access_token).await;
    expect_status(me, StatusCode::OK).await;

    let replay = app
        .http
        .post(app.url("/api/v1/auth/refresh"))
        .json(&json!({ "refresh_token": refresh_token }))
        .send()
        .await
        .unwrap();
    expect_error(replay, StatusCode::UNAUTHORIZED, "invalid_refresh_token").await;
}

#[tokio::test]
async fn missing_malformed_and_forged_tokens_are_401() {
    let app = TestApp::spawn().await;
    let none = app
        .http
        .get(app.url("/api/v1/consultations"))
        .send()
        .await
        .unwrap();
    expect_error(none, StatusCode::UNAUTHORIZED, "unauthenticated").await;
    let basic = app
        .http
        .get(app.url("/api/v1/consultations"))
        .header("authorization", "Basic Zm9vOmJhcg==")
        .send()
        .await
        .unwrap();
    expect_error(basic, StatusCode::UNAUTHORIZED, "unauthenticated").await;
    let forged = app
        .get(
            "/api/v1/consultations",
            "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl",
        )
        .await;
    expect_error(forged, StatusCode::UNAUTHORIZED, "unauthenticated").await;
    // Demo login is off outside demo mode.
    let demo = app
        .http
        .post(app.url("/api/v1/auth/demo"))
        .json(&json!({"name": "x"}))
        .send()
        .await
        .unwrap();
    expect_error(demo, StatusCode::NOT_FOUND, "demo_login_disabled").await;
}
