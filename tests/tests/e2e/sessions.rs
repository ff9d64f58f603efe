//! Sessions that end (issue 13): deactivation, password change and reset
//! end a staff member's tokens at once, on every instance within a second;
//! refresh tokens rotate with reuse detection; logout; login throttling per
//! (account, address) and per address that never locks the owner out;
//! demo accounts only in the demo; a switched-off feature says so.

use reqwest::StatusCode;
use sansuo_tests::views::TokenResponse;
use sansuo_tests::{
    Backend, DEMO_PASSWORD, TestApp, TestOptions, expect_error, expect_json, expect_status,
};
use serde_json::json;
use std::time::{Duration, Instant};

async fn login(app: &TestApp, username: &str, password: &str) -> reqwest::Response {
    login_from(app, username, password, None).await
}

async fn login_from(
    app: &TestApp,
    username: &str,
    password: &str,
    address: Option<&str>,
) -> reqwest::Response {
    let mut request = app
        .http
        .post(app.url("/api/v1/auth/staff"))
        .json(&json!({ "username": username, "password": password }));
    if let Some(address) = address {
        request = request.header("X-Forwarded-For", address);
    }
    request.send().await.unwrap()
}

async fn tokens(app: &TestApp, username: &str) -> TokenResponse {
    expect_json(login(app, username, DEMO_PASSWORD).await, StatusCode::OK).await
}

async fn refresh(app: &TestApp, refresh_token: &str) -> reqwest::Response {
    app.http
        .post(app.url("/api/v1/auth/refresh"))
        .json(&json!({ "refresh_token": refresh_token }))
        .send()
        .await
        .unwrap()
}

async fn patch(
    app: &TestApp,
    path: &str,
    token: &str,
    body: serde_json::Value,
) -> reqwest::Response {
    app.http
        .patch(app.url(path))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn deactivation_ends_the_accounts_access_tokens_at_once() {
    let app = TestApp::spawn().await;
    let coordinator = tokens(&app, "coordinator.sun").await;
    expect_status(
        app.get("/api/v1/admin/staff", &coordinator.access_token)
            .await,
        StatusCode::OK,
    )
    .await;
    let admin = app.staff_token("admin").await;
    let id = app.demo.account("coordinator.sun").id;
    expect_status(
        patch(
            &app,
            &format!("/api/v1/admin/staff/{id}"),
            &admin,
            json!({"active": false}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    // The very next request, through the same instance: refused.
    expect_error(
        app.post(
            "/api/v1/admin/staff",
            &coordinator.access_token,
            json!({"username": "sneaky.new", "password": "long enough pw", "display_name": "x",
                   "role": "coordinator", "org_unit_id": app.demo.street.as_uuid()}),
        )
        .await,
        StatusCode::UNAUTHORIZED,
        "session_ended",
    )
    .await;
    expect_error(
        refresh(&app, &coordinator.refresh_token).await,
        StatusCode::UNAUTHORIZED,
        "invalid_refresh_token",
    )
    .await;
    // Active again: the old token stays dead; a new login works.
    expect_status(
        patch(
            &app,
            &format!("/api/v1/admin/staff/{id}"),
            &admin,
            json!({"active": true}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    expect_error(
        app.get("/api/v1/admin/staff", &coordinator.access_token)
            .await,
        StatusCode::UNAUTHORIZED,
        "session_ended",
    )
    .await;
    let again = app.staff_token("coordinator.sun").await;
    expect_status(app.get("/api/v1/admin/staff", &again).await, StatusCode::OK).await;
}

#[tokio::test]
async fn another_instance_refuses_a_deactivated_accounts_token_within_a_second() {
    let app = TestApp::spawn().await;
    let sibling = app.spawn_sibling().await;
    let sibling_url = |path: &str| format!("http://127.0.0.1:{}{path}", sibling.port);
    let lawyer = app.staff_token("lawyer.wang").await;
    let on_sibling = || async {
        app.http
            .get(sibling_url("/api/v1/staff/me"))
            .bearer_auth(&lawyer)
            .send()
            .await
            .unwrap()
            .status()
    };
    // The sibling has read (and cached) the account.
    assert_eq!(on_sibling().await, StatusCode::OK);
    let admin = app.staff_token("admin").await;
    let id = app.demo.account("lawyer.wang").id;
    expect_status(
        patch(
            &app,
            &format!("/api/v1/admin/staff/{id}"),
            &admin,
            json!({"active": false}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let deactivated = Instant::now();
    loop {
        if on_sibling().await == StatusCode::UNAUTHORIZED {
            break;
        }
        assert!(
            deactivated.elapsed() < Duration::from_millis(1500),
            "the other instance still took the token after {:?}",
            deactivated.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(deactivated.elapsed() <= Duration::from_millis(1200));
}

#[tokio::test]
async fn a_reused_refresh_token_ends_its_whole_family_and_logout_ends_a_session() {
    let app = TestApp::spawn().await;
    let first = tokens(&app, "lawyer.li").await;
    let second: TokenResponse =
        expect_json(refresh(&app, &first.refresh_token).await, StatusCode::OK).await;
    // The stolen first token, presented again: refused, and the owner's
    // newer token of the same login ends with it.
    expect_error(
        refresh(&app, &first.refresh_token).await,
        StatusCode::UNAUTHORIZED,
        "invalid_refresh_token",
    )
    .await;
    expect_error(
        refresh(&app, &second.refresh_token).await,
        StatusCode::UNAUTHORIZED,
        "invalid_refresh_token",
    )
    .await;
    // Another login is another family: untouched.
    let other = tokens(&app, "lawyer.li").await;
    let session = tokens(&app, "lawyer.li").await;
    let logout = app
        .http
        .post(app.url("/api/v1/auth/logout"))
        .json(&json!({ "refresh_token": session.refresh_token }))
        .send()
        .await
        .unwrap();
    expect_status(logout, StatusCode::NO_CONTENT).await;
    expect_error(
        refresh(&app, &session.refresh_token).await,
        StatusCode::UNAUTHORIZED,
        "invalid_refresh_token",
    )
    .await;
    expect_status(refresh(&app, &other.refresh_token).await, StatusCode::OK).await;
    // Residents too.
    let code = "code-family";
    app.wechat.accept_code(code, "openid-family").await;
    let resident: TokenResponse = expect_json(
        app.http
            .post(app.url("/api/v1/auth/wechat"))
            .json(&json!({ "code": code }))
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    let rotated: TokenResponse =
        expect_json(refresh(&app, &resident.refresh_token).await, StatusCode::OK).await;
    // A resident's refresh expiry is a whole day (no time of activity).
    assert_eq!(
        rotated.refresh_expires_at.time(),
        chrono::NaiveTime::MIN,
        "{}",
        rotated.refresh_expires_at
    );
    expect_status(
        refresh(&app, &resident.refresh_token).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    expect_status(
        refresh(&app, &rotated.refresh_token).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
}

#[tokio::test]
async fn a_staff_session_lasts_a_working_day_not_a_month() {
    let app = TestApp::spawn().await;
    let login = tokens(&app, "lawyer.zhao").await;
    let lifetime = login.refresh_expires_at - chrono::Utc::now();
    assert!(
        lifetime <= chrono::Duration::hours(12),
        "staff refresh lives {lifetime}"
    );
}

#[tokio::test]
async fn a_password_change_ends_every_other_session_and_needs_the_current_password() {
    let app = TestApp::spawn().await;
    let laptop = tokens(&app, "mediator.chen").await;
    let phone = tokens(&app, "mediator.chen").await;
    let change = |current: &'static str, new: &'static str| {
        app.http
            .post(app.url("/api/v1/staff/me/password"))
            .bearer_auth(&laptop.access_token)
            .json(&json!({ "current_password": current, "new_password": new }))
            .send()
    };
    expect_error(
        change("not the password", "a new long password")
            .await
            .unwrap(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "current_password_wrong",
    )
    .await;
    expect_error(
        change(DEMO_PASSWORD, "short").await.unwrap(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    let fresh: TokenResponse = expect_json(
        change(DEMO_PASSWORD, "a new long password").await.unwrap(),
        StatusCode::OK,
    )
    .await;
    for old in [&laptop.access_token, &phone.access_token] {
        expect_error(
            app.get("/api/v1/staff/me", old).await,
            StatusCode::UNAUTHORIZED,
            "session_ended",
        )
        .await;
    }
    expect_status(
        refresh(&app, &phone.refresh_token).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    expect_status(
        app.get("/api/v1/staff/me", &fresh.access_token).await,
        StatusCode::OK,
    )
    .await;
    expect_status(
        login(&app, "mediator.chen", DEMO_PASSWORD).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    expect_status(
        login(&app, "mediator.chen", "a new long password").await,
        StatusCode::OK,
    )
    .await;
}

#[tokio::test]
async fn an_administrator_resets_a_password_within_scope_and_it_ends_the_sessions() {
    let app = TestApp::spawn().await;
    let officer = tokens(&app, "officer.liu").await;
    let coordinator = app.staff_token("coordinator.sun").await;
    let admin = app.staff_token("admin").await;
    let reset = |token: &str, id: uuid::Uuid| {
        app.http
            .post(app.url(&format!("/api/v1/admin/staff/{id}/password")))
            .bearer_auth(token.to_owned())
            .json(&json!({ "new_password": "reset by the admin" }))
            .send()
    };
    // A street coordinator: not the district's administrator.
    let admin_id = app.demo.account("admin").id.as_uuid();
    let coordinator_id = app.demo.account("coordinator.sun").id.as_uuid();
    expect_status(
        reset(&coordinator, admin_id).await.unwrap(),
        StatusCode::NOT_FOUND,
    )
    .await;
    // Nor their own (that needs the current password).
    expect_status(
        reset(&coordinator, coordinator_id).await.unwrap(),
        StatusCode::FORBIDDEN,
    )
    .await;
    let officer_id = app.demo.account("officer.liu").id.as_uuid();
    expect_status(
        reset(&admin, officer_id).await.unwrap(),
        StatusCode::NO_CONTENT,
    )
    .await;
    expect_error(
        app.get("/api/v1/staff/me", &officer.access_token).await,
        StatusCode::UNAUTHORIZED,
        "session_ended",
    )
    .await;
    expect_status(
        login(&app, "officer.liu", "reset by the admin").await,
        StatusCode::OK,
    )
    .await;
}

async fn fifty_wrong_passwords_then_the_owner_elsewhere(backend: Backend) {
    let app = TestApp::spawn_with(TestOptions {
        backend,
        env: vec![("SANSUO_TRUSTED_PROXIES", "127.0.0.1".into())],
        ..TestOptions::default()
    })
    .await;
    let attacker = Some("203.0.113.66");
    let mut statuses = Vec::new();
    for i in 0..50 {
        let response = login_from(&app, "admin", &format!("guess number {i}"), attacker).await;
        statuses.push(response.status());
    }
    assert!(
        statuses[..5].iter().all(|s| *s == StatusCode::UNAUTHORIZED),
        "{statuses:?}"
    );
    assert!(
        statuses[5..]
            .iter()
            .all(|s| *s == StatusCode::TOO_MANY_REQUESTS),
        "{statuses:?}"
    );
    // The right password from the attacker's address: still throttled.
    let response = login_from(&app, "admin", DEMO_PASSWORD, attacker).await;
    let retry_after: u64 = response
        .headers()
        .get("retry-after")
        .expect("Retry-After")
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=900).contains(&retry_after), "{retry_after}");
    expect_error(response, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
    // The owner, from their own address: in.
    expect_status(
        login_from(&app, "admin", DEMO_PASSWORD, Some("198.51.100.7")).await,
        StatusCode::OK,
    )
    .await;
    // One address trying many accounts is throttled as an address.
    let sprayer = Some("203.0.113.99");
    let mut last = StatusCode::OK;
    for i in 0..31 {
        let user = format!("nobody.{i}");
        last = login_from(&app, &user, "wrong password", sprayer)
            .await
            .status();
    }
    assert_eq!(last, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn login_throttling_stops_the_attacker_not_the_owner() {
    fifty_wrong_passwords_then_the_owner_elsewhere(Backend::Production).await;
}

#[tokio::test]
async fn login_throttling_stops_the_attacker_not_the_owner_embedded() {
    fifty_wrong_passwords_then_the_owner_elsewhere(Backend::Embedded).await;
}

#[tokio::test]
async fn a_forged_forwarded_for_is_not_believed_without_a_trusted_proxy() {
    let app = TestApp::spawn().await;
    let mut last = StatusCode::OK;
    for i in 0..8 {
        // A new "address" each time: ignored, the peer is what counts.
        let address = format!("192.0.2.{i}");
        last = login_from(&app, "lawyer.zhang", "wrong password", Some(&address))
            .await
            .status();
    }
    assert_eq!(last, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn demo_accounts_work_only_in_the_demo_and_seed_demo_refuses_a_real_database() {
    // A production-mode server whose database has real (non-demo) accounts.
    let app = TestApp::spawn().await;
    let refused = sansuo_server::seed::seed_demo(&app.app.store, false).await;
    let message = format!("{:#}", refused.expect_err("not a demo database"));
    assert!(message.contains("--force"), "{message}");
    // Forced: the demo's accounts are marked, and this server (not the
    // demo) refuses them, sessions included.
    let admin = app.staff_token("admin").await;
    sansuo_server::seed::seed_demo(&app.app.store, true)
        .await
        .unwrap();
    expect_error(
        login(&app, "admin", DEMO_PASSWORD).await,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    )
    .await;
    expect_error(
        app.get("/api/v1/staff/me", &admin).await,
        StatusCode::UNAUTHORIZED,
        "session_ended",
    )
    .await;
    // The embedded demo takes them.
    let demo = TestApp::spawn_embedded().await;
    expect_status(login(&demo, "admin", DEMO_PASSWORD).await, StatusCode::OK).await;
}

#[tokio::test]
async fn a_switched_off_feature_answers_a_4xx_that_says_so() {
    let app = TestApp::spawn_with(TestOptions {
        wechat: false,
        ..TestOptions::default()
    })
    .await;
    let response = app
        .http
        .post(app.url("/api/v1/auth/wechat"))
        .json(&json!({"code": ""}))
        .send()
        .await
        .unwrap();
    assert!(response.headers().get("retry-after").is_none());
    expect_error(response, StatusCode::NOT_FOUND, "feature_disabled").await;
}

#[tokio::test]
async fn expired_refresh_tokens_are_forgotten_and_live_ones_kept() {
    let app = TestApp::spawn().await;
    let staff = tokens(&app, "lawyer.zhang").await;
    let code = "code-prune";
    app.wechat.accept_code(code, "openid-prune").await;
    let resident: TokenResponse = expect_json(
        app.http
            .post(app.url("/api/v1/auth/wechat"))
            .json(&json!({ "code": code }))
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    // Thirteen hours on: the staff token has expired, the resident's not.
    let later = chrono::Utc::now() + chrono::Duration::hours(13);
    let gone = app
        .app
        .store
        .identity()
        .delete_expired_refresh_tokens(later)
        .await
        .unwrap();
    assert_eq!(gone, 1);
    expect_status(
        refresh(&app, &staff.refresh_token).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    expect_status(refresh(&app, &resident.refresh_token).await, StatusCode::OK).await;
}

/// A deleted resident account's token, taken by another instance a moment
/// before: refused at once by the instance that deleted it and within a
/// second by the other, which reads the deletions as one query a second
/// rather than the resident's row per request.
async fn another_instance_refuses_a_deleted_residents_token_within_a_second(app: TestApp) {
    let sibling = app.spawn_sibling().await;
    let resident = app.resident_token("leaving-soon").await;
    let stays = app.resident_token("staying").await;
    let on_sibling = |token: &str| {
        let request = app
            .http
            .get(format!("http://127.0.0.1:{}/api/v1/me", sibling.port))
            .bearer_auth(token);
        async move { request.send().await.unwrap().status() }
    };
    assert_eq!(on_sibling(&resident).await, StatusCode::OK);
    let deletion = app
        .http
        .delete(app.url("/api/v1/me"))
        .bearer_auth(&resident)
        .json(&json!({"confirm": true}))
        .send()
        .await
        .unwrap();
    expect_status(deletion, StatusCode::OK).await;
    let deleted = Instant::now();
    expect_error(
        app.get("/api/v1/me", &resident).await,
        StatusCode::UNAUTHORIZED,
        "session_ended",
    )
    .await;
    loop {
        if on_sibling(&resident).await == StatusCode::UNAUTHORIZED {
            break;
        }
        assert!(
            deleted.elapsed() < Duration::from_millis(1500),
            "the other instance still took the token after {:?}",
            deleted.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(deleted.elapsed() <= Duration::from_millis(1200));
    // Everyone else's tokens stand, on both.
    expect_status(app.get("/api/v1/me", &stays).await, StatusCode::OK).await;
    assert_eq!(on_sibling(&stays).await, StatusCode::OK);
}

#[tokio::test]
async fn another_instance_refuses_a_deleted_residents_token_within_a_second_on_postgres() {
    another_instance_refuses_a_deleted_residents_token_within_a_second(TestApp::spawn().await)
        .await;
}

#[tokio::test]
async fn another_instance_refuses_a_deleted_residents_token_within_a_second_on_sqlite() {
    another_instance_refuses_a_deleted_residents_token_within_a_second(
        TestApp::spawn_embedded().await,
    )
    .await;
}
