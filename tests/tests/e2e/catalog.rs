//! The category catalogue as the mini-program loads it, and emergencies.

use reqwest::StatusCode;
use sansuo_tests::views::{CategoryList, ConsultationPage};
use sansuo_tests::{TestApp, expect_error, expect_json};
use serde_json::json;

#[tokio::test]
async fn the_catalogue_is_served_with_an_etag_and_revalidates_to_304() {
    let app = TestApp::spawn().await;
    let first = app
        .http
        .get(app.url("/api/v1/categories"))
        .send()
        .await
        .unwrap();
    let etag = first
        .headers()
        .get("etag")
        .expect("an ETag")
        .to_str()
        .unwrap()
        .to_owned();
    assert!(first.headers().get("cache-control").is_some());
    let body: CategoryList = expect_json(first, StatusCode::OK).await;
    let items = &body.items;
    assert_eq!(items.iter().filter(|c| c.parent_code.is_none()).count(), 15);
    assert!(items.iter().filter(|c| c.parent_code.is_some()).count() >= 100);
    let fight = items.iter().find(|c| c.code == "ZA08").unwrap();
    assert!(fight.urgent);
    assert_eq!(fight.services, ["tip"]);
    let scam = items.iter().find(|c| c.code == "ZP01").unwrap();
    assert!(scam.anonymous_allowed);

    let again = app
        .http
        .get(app.url("/api/v1/categories"))
        .header("If-None-Match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(again.headers().get("etag").unwrap().to_str().unwrap(), etag);
    assert!(again.text().await.unwrap().is_empty());
    let stale = app
        .http
        .get(app.url("/api/v1/categories"))
        .header("If-None-Match", "\"stale\"")
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), StatusCode::OK);
}

#[tokio::test]
async fn an_emergency_is_answered_with_call_110_and_nothing_is_recorded() {
    let app = TestApp::spawn().await;
    let resident = app.resident_token("in-danger").await;
    // A short, panicked message still gets "call 110", not "too short".
    let body = json!({ "community_id": app.demo.community_a.as_uuid(), "category_code": "JB08", "question": "他在打我" });
    let error = expect_error(
        app.post("/api/v1/consultations", &resident, body).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "emergency_call_110",
    )
    .await;
    assert!(error.error.message.contains("110"));
    let mine: ConsultationPage = app.get_as("/api/v1/consultations", &resident).await;
    assert!(mine.items.is_empty());
    assert_eq!(app.app.store.outbox().backlog().await.unwrap(), 0);
}
