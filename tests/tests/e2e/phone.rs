//! Phone binding: through WeChat, sealed at rest, masked on display.

use reqwest::StatusCode;
use sansuo_tests::views::ResidentView;
use sansuo_tests::{TEST_DATA_KEY, TestApp, expect_error, expect_status, read_as};
use sansuo_vault::KeyRing;
use sea_orm::{ConnectionTrait, Statement};
use serde_json::json;

#[tokio::test]
async fn a_bound_phone_number_is_sealed_in_the_database_and_masked_on_screen() {
    let app = TestApp::spawn().await;
    let resident = app.resident_token("with-phone").await;
    app.wechat
        .set_phone_number("phone-code-1", "13812341234", "86");
    let bound: ResidentView = app
        .post_as(
            "/api/v1/me/phone",
            &resident,
            json!({"code": "phone-code-1"}),
        )
        .await;
    assert_eq!(bound.phone_masked.as_deref(), Some("138****1234"));
    // Raw as well: the plain number must be nowhere on the wire.
    let me_raw = expect_status(app.get("/api/v1/me", &resident).await, StatusCode::OK).await;
    let me: ResidentView = read_as(&me_raw);
    assert_eq!(me.phone_masked.as_deref(), Some("138****1234"));
    assert!(!me_raw.to_string().contains("13812341234"));

    // The plain number is nowhere in the residents table ...
    let db = app.app.store.db();
    let hits = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT count(*) AS n FROM residents r WHERE r::text LIKE '%13812341234%'",
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get::<i64>("", "n")
        .unwrap();
    assert_eq!(hits, 0);
    // ... but the sealed value opens with the deployment's key (for the roles that must call back).
    let stored = app
        .app
        .store
        .identity()
        .resident(me.id.into())
        .await
        .unwrap()
        .unwrap();
    let ring = KeyRing::parse(&format!("k1:{TEST_DATA_KEY}")).unwrap();
    assert_eq!(
        ring.open("resident.phone", stored.phone_sealed.as_deref().unwrap())
            .unwrap(),
        "13812341234"
    );
}

#[tokio::test]
async fn bad_phone_codes_and_wrong_callers_are_refused() {
    let app = TestApp::spawn().await;
    let resident = app.resident_token("no-phone").await;
    expect_error(
        app.post(
            "/api/v1/me/phone",
            &resident,
            json!({"code": "never-issued"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "phone_code_invalid",
    )
    .await;
    let me: ResidentView = app.get_as("/api/v1/me", &resident).await;
    assert!(me.phone_masked.is_none());
    let lawyer = app.staff_token("lawyer.zhang").await;
    expect_error(
        app.post("/api/v1/me/phone", &lawyer, json!({"code": "x"}))
            .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
}
