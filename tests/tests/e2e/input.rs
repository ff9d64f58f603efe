//! Bad input gets a clear JSON error with a stable code, and writes nothing.

use reqwest::StatusCode;
use sansuo_tests::views::{ConsultationPage, ConsultationView};
use sansuo_tests::{TestApp, expect_error, expect_json};
use serde_json::json;

#[tokio::test]
async fn malformed_unknown_oversized_and_invalid_bodies_are_refused_with_codes() {
    let app = TestApp::spawn().await;
    let resident = app.resident_token("fuzzy").await;
    let community = app.demo.community_a.as_uuid();
    let post_raw = |body: String, content_type: &'static str| {
        app.http
            .post(app.url("/api/v1/consultations"))
            .bearer_auth(&resident)
            .header("content-type", content_type)
            .body(body)
            .send()
    };

    expect_error(
        post_raw("{\"question\": ".into(), "application/json")
            .await
            .unwrap(),
        StatusCode::BAD_REQUEST,
        "malformed_json",
    )
    .await;
    expect_error(
        post_raw("not json".into(), "application/json")
            .await
            .unwrap(),
        StatusCode::BAD_REQUEST,
        "malformed_json",
    )
    .await;
    let unknown = json!({ "community_id": community, "category_code": "LJ01", "question": "有一个足够长的问题在这里", "priority": "vip" });
    expect_error(
        post_raw(unknown.to_string(), "application/json")
            .await
            .unwrap(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_body",
    )
    .await;
    let wrong_type = json!({ "community_id": 42, "category_code": "LJ01", "question": "有一个足够长的问题在这里" });
    expect_error(
        post_raw(wrong_type.to_string(), "application/json")
            .await
            .unwrap(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_body",
    )
    .await;
    let huge = json!({ "community_id": community, "category_code": "LJ01", "question": "问".repeat(40_000) });
    expect_error(
        post_raw(huge.to_string(), "application/json")
            .await
            .unwrap(),
        StatusCode::PAYLOAD_TOO_LARGE,
        "body_too_large",
    )
    .await;
    let valid = json!({ "community_id": community, "category_code": "LJ01", "question": "有一个足够长的问题在这里" });
    expect_error(
        post_raw(valid.to_string(), "text/plain").await.unwrap(),
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    )
    .await;

    let short = json!({ "community_id": community, "category_code": "LJ01", "question": "太短" });
    let body = expect_error(
        app.post("/api/v1/consultations", &resident, short).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert!(body.error.message.starts_with("question:"), "{body:?}");
    let long = json!({ "community_id": community, "category_code": "LJ01", "question": "问".repeat(2001) });
    expect_error(
        app.post("/api/v1/consultations", &resident, long).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    let nowhere = json!({ "community_id": uuid::Uuid::now_v7(), "category_code": "LJ01", "question": "有一个足够长的问题在这里" });
    expect_error(
        app.post("/api/v1/consultations", &resident, nowhere).await,
        StatusCode::NOT_FOUND,
        "community_not_found",
    )
    .await;
    let street = json!({ "community_id": app.demo.street.as_uuid(), "category_code": "LJ01", "question": "有一个足够长的问题在这里" });
    expect_error(
        app.post("/api/v1/consultations", &resident, street).await,
        StatusCode::NOT_FOUND,
        "community_not_found",
    )
    .await;
    let no_category = json!({ "community_id": community, "category_code": "NOPE", "question": "有一个足够长的问题在这里" });
    expect_error(
        app.post("/api/v1/consultations", &resident, no_category)
            .await,
        StatusCode::NOT_FOUND,
        "category_not_found",
    )
    .await;
    // AQ (hazard tips) takes no consultations: it exists, so 422, not 404.
    let tip_only = json!({ "community_id": community, "category_code": "AQ", "question": "有一个足够长的问题在这里" });
    expect_error(
        app.post("/api/v1/consultations", &resident, tip_only).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "category_not_offered",
    )
    .await;

    // None of it wrote anything.
    let mine: ConsultationPage = app.get_as("/api/v1/consultations", &resident).await;
    assert!(mine.items.is_empty(), "{mine:?}");
    assert_eq!(app.app.store.outbox().backlog().await.unwrap(), 0);
}

#[tokio::test]
async fn bad_paths_queries_and_scenes_are_refused_with_codes() {
    let app = TestApp::spawn().await;
    let resident = app.resident_token("pathy").await;
    expect_error(
        app.get("/api/v1/consultations/not-a-uuid", &resident).await,
        StatusCode::BAD_REQUEST,
        "bad_parameter",
    )
    .await;
    expect_error(
        app.get("/api/v1/consultations?cursor=garbage", &resident)
            .await,
        StatusCode::BAD_REQUEST,
        "bad_parameter",
    )
    .await;
    expect_error(
        app.get("/api/v1/consultations?limit=1000", &resident).await,
        StatusCode::BAD_REQUEST,
        "bad_parameter",
    )
    .await;
    expect_error(
        app.get("/api/v1/consultations?sort=asc", &resident).await,
        StatusCode::BAD_REQUEST,
        "bad_parameter",
    )
    .await;
    expect_error(
        app.get(
            &format!("/api/v1/consultations/{}", uuid::Uuid::now_v7()),
            &resident,
        )
        .await,
        StatusCode::NOT_FOUND,
        "consultation_not_found",
    )
    .await;

    let get = |path: &str| app.http.get(app.url(path)).send();
    expect_error(
        get("/api/v1/communities/by-scene/unknown-scene")
            .await
            .unwrap(),
        StatusCode::NOT_FOUND,
        "community_not_found",
    )
    .await;
    let too_long = format!("/api/v1/communities/by-scene/{}", "x".repeat(33));
    expect_error(
        get(&too_long).await.unwrap(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    expect_error(
        get("/api/v1/communities/by-scene/%E8%92%8B").await.unwrap(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    expect_error(
        get("/api/v1/no-such-thing").await.unwrap(),
        StatusCode::NOT_FOUND,
        "route_not_found",
    )
    .await;
    let wrong_method = app
        .http
        .delete(app.url("/api/v1/categories"))
        .send()
        .await
        .unwrap();
    // A known path with a wrong method: 405, naming the methods it takes.
    assert_eq!(wrong_method.headers()["allow"], "GET");
    expect_error(
        wrong_method,
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
    )
    .await;

    let rating = json!({ "stars": 9 });
    let case = app.submit(&resident, "请问房东可以随时涨房租吗？").await;
    let id = case.id;
    expect_error(
        app.post(
            &format!("/api/v1/consultations/{id}/rating"),
            &resident,
            rating,
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    expect_error(
        app.post(
            &format!("/api/v1/consultations/{id}/messages"),
            &resident,
            json!({"body": "   "}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
}

#[tokio::test]
async fn a_replayed_idempotency_key_returns_the_same_case_and_a_reused_one_is_refused() {
    let app = TestApp::spawn().await;
    let resident = app.resident_token("retrier").await;
    let body = json!({ "community_id": app.demo.community_a.as_uuid(), "category_code": "LJ02", "question": "楼上卫生间漏水到我家天花板，怎么索赔？" });
    let send = |body: serde_json::Value, key: &'static str| {
        app.http
            .post(app.url("/api/v1/consultations"))
            .bearer_auth(&resident)
            .header("Idempotency-Key", key)
            .json(&body)
            .send()
    };
    let first = send(body.clone(), "key-0001-retry").await.unwrap();
    assert!(first.headers().get("idempotent-replayed").is_none());
    let first: ConsultationView = expect_json(first, StatusCode::CREATED).await;
    let again = send(body.clone(), "key-0001-retry").await.unwrap();
    assert_eq!(again.headers().get("idempotent-replayed").unwrap(), "true");
    let again: ConsultationView = expect_json(again, StatusCode::CREATED).await;
    assert_eq!(first.id, again.id);

    let mut other = body.clone();
    other["question"] = json!("换了一个问题，但是用了同一个幂等键");
    expect_error(
        send(other, "key-0001-retry").await.unwrap(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "idempotency_key_reused",
    )
    .await;
    expect_error(
        send(body.clone(), "short").await.unwrap(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;

    // Another resident may use the same key for their own case.
    let other_resident = app.resident_token("retrier-2").await;
    let theirs = app
        .http
        .post(app.url("/api/v1/consultations"))
        .bearer_auth(&other_resident)
        .header("Idempotency-Key", "key-0001-retry")
        .json(&body)
        .send()
        .await
        .unwrap();
    let theirs: ConsultationView = expect_json(theirs, StatusCode::CREATED).await;
    assert_ne!(theirs.id, first.id);

    let mine: ConsultationPage = app.get_as("/api/v1/consultations", &resident).await;
    assert_eq!(mine.items.len(), 1, "one case despite the retries");
}
