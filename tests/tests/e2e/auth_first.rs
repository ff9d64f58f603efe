//! Who may call comes before what was sent (issue 12): authentication runs
//! once per request in `middleware::authenticate`, and the role extractors
//! read its verdict without waiting, so a wrong role's 403 and a missing
//! token's 401 are never overtaken by a malformed body's 400/422.
//!
//! The old extractors checked the staff session asynchronously; on a miss
//! of the one-second session cache that check waited on the database while
//! the JSON reader had already answered. Each request here follows a miss
//! (the account is "re-activated", a no-op that forgets its cached
//! session), the way that broke.

use reqwest::{Method, StatusCode};
use sansuo_tests::{TestApp, expect_error, expect_status};
use uuid::Uuid;

/// Bodies no handler accepts: broken JSON (400), an empty object (422,
/// fields missing) and the wrong type (422).
const MALFORMED: [&str; 3] = ["{", "{}", "[1]"];

/// How many rounds of each (operation × body).
const ROUNDS: usize = 8;

async fn send(
    app: &TestApp,
    method: &Method,
    path: &str,
    token: Option<&str>,
    body: &str,
) -> reqwest::Response {
    let mut request = app
        .http
        .request(method.clone(), app.url(path))
        .header("Content-Type", "application/json")
        .body(body.to_owned());
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn a_wrong_role_or_no_token_is_answered_before_a_malformed_body() {
    let app = TestApp::spawn().await;
    let resident = app.resident_token("auth-first").await;
    let some_id = Uuid::now_v7();
    // (method, path, the wrong caller's account or None for a resident)
    let operations: Vec<(Method, String, Option<&str>)> = vec![
        (
            Method::POST,
            "/api/v1/consultations".into(),
            Some("lawyer.zhang"),
        ),
        (
            Method::POST,
            "/api/v1/mediations".into(),
            Some("officer.liu"),
        ),
        (
            Method::PUT,
            "/api/v1/admin/workflows/tip_on_duty".into(),
            Some("coordinator.sun"),
        ),
        (
            Method::POST,
            "/api/v1/admin/staff".into(),
            Some("lawyer.zhang"),
        ),
        (
            Method::PATCH,
            format!("/api/v1/admin/staff/{some_id}"),
            Some("mediator.chen"),
        ),
        (
            Method::POST,
            format!("/api/v1/admin/cases/{some_id}/reassign"),
            Some("officer.liu"),
        ),
        (
            Method::POST,
            format!("/api/v1/staff/consultations/{some_id}/messages"),
            Some("mediator.chen"),
        ),
        (
            Method::POST,
            format!("/api/v1/staff/consultations/{some_id}/messages"),
            None,
        ),
    ];
    let mut tokens = std::collections::BTreeMap::new();
    for (_, _, account) in &operations {
        if let Some(account) = account
            && !tokens.contains_key(account)
        {
            tokens.insert(*account, app.staff_token(account).await);
        }
    }
    let mut checked = 0;
    for _ in 0..ROUNDS {
        for (method, path, account) in &operations {
            for body in MALFORMED {
                let token = match account {
                    Some(account) => {
                        // Forget the cached session: the check must read it.
                        app.app
                            .store
                            .identity()
                            .set_staff_active(app.demo.account(account).id, true)
                            .await
                            .unwrap();
                        tokens[account].as_str()
                    }
                    None => resident.as_str(),
                };
                let response = send(&app, method, path, Some(token), body).await;
                assert_eq!(
                    response.status(),
                    StatusCode::FORBIDDEN,
                    "{method} {path} as {account:?} with {body}"
                );
                expect_error(response, StatusCode::FORBIDDEN, "forbidden").await;
                let response = send(&app, method, path, None, body).await;
                expect_error(response, StatusCode::UNAUTHORIZED, "unauthenticated").await;
                let response = send(&app, method, path, Some("not-a-token"), body).await;
                expect_error(response, StatusCode::UNAUTHORIZED, "unauthenticated").await;
                checked += 1;
            }
        }
    }
    assert_eq!(checked, ROUNDS * 8 * MALFORMED.len());
    // Not vacuous: the right caller with the same bodies hears about them.
    let admin = app.staff_token("admin").await;
    for (body, status) in [
        ("{", StatusCode::BAD_REQUEST),
        ("{}", StatusCode::UNPROCESSABLE_ENTITY),
    ] {
        let response = send(
            &app,
            &Method::PUT,
            "/api/v1/admin/workflows/tip_on_duty",
            Some(&admin),
            body,
        )
        .await;
        expect_status(response, status).await;
    }
}
