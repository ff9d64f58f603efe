//! Deny by default: wrong role, someone else's case, another community.

use reqwest::StatusCode;
use sansuo_tests::views::{ConsultationPage, ConsultationStatusView as Status, OfferList};
use sansuo_tests::{TestApp, expect_error, expect_status};
use serde_json::json;

#[tokio::test]
async fn residents_see_only_their_own_consultations() {
    let app = TestApp::spawn().await;
    let alice = app.resident_token("alice").await;
    let bob = app.resident_token("bob").await;
    let case = app
        .submit(&alice, "邻居家的狗每天半夜叫，影响休息怎么办？")
        .await;
    let id = case.id;

    expect_error(
        app.get(&format!("/api/v1/consultations/{id}"), &bob).await,
        StatusCode::NOT_FOUND,
        "consultation_not_found",
    )
    .await;
    expect_error(
        app.post(
            &format!("/api/v1/consultations/{id}/messages"),
            &bob,
            json!({"body": "我也是"}),
        )
        .await,
        StatusCode::NOT_FOUND,
        "consultation_not_found",
    )
    .await;
    expect_error(
        app.post(
            &format!("/api/v1/consultations/{id}/withdraw"),
            &bob,
            json!({}),
        )
        .await,
        StatusCode::NOT_FOUND,
        "consultation_not_found",
    )
    .await;
    let bobs: ConsultationPage = app.get_as("/api/v1/consultations", &bob).await;
    assert!(bobs.items.is_empty());
    // Alice's case is untouched.
    assert_ne!(app.status_of(&alice, &id).await, Status::Withdrawn);
}

#[tokio::test]
async fn roles_are_checked_on_every_endpoint() {
    let app = TestApp::spawn().await;
    let resident = app.resident_token("role-tester").await;
    let lawyer = app.staff_token("lawyer.zhang").await;
    let officer = app.staff_token("officer.liu").await;
    let case = app
        .submit(&resident, "我想咨询一下遗产继承的顺序问题")
        .await;
    let id = case.id;

    // A resident on staff endpoints.
    expect_error(
        app.get("/api/v1/staff/offers", &resident).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    expect_error(
        app.get("/api/v1/staff/me", &resident).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    expect_error(
        app.post(
            &format!("/api/v1/staff/consultations/{id}/claim"),
            &resident,
            json!({}),
        )
        .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    // Staff on resident endpoints.
    let body = json!({ "community_id": app.demo.community_a.as_uuid(), "category_code": "LJ01", "question": "律师能不能替居民提问呢？" });
    expect_error(
        app.post("/api/v1/consultations", &lawyer, body).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    expect_error(
        app.get(&format!("/api/v1/consultations/{id}"), &lawyer)
            .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    // An officer handles cases (tips): their offer list is theirs, and
    // holds nothing of the lawyers'.
    let officers: OfferList = app.get_as("/api/v1/staff/offers", &officer).await;
    assert!(officers.items.is_empty());
    // Coordinators assign by hand; they are offered nothing and pull nothing.
    let coordinator = app.staff_token("coordinator.sun").await;
    expect_error(
        app.get("/api/v1/staff/offers", &coordinator).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    expect_error(
        app.post("/api/v1/staff/next-case", &coordinator, json!({}))
            .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    expect_status(app.get("/api/v1/staff/me", &officer).await, StatusCode::OK).await;
}

#[tokio::test]
async fn a_lawyer_cannot_touch_another_communitys_offer_or_case() {
    let app = TestApp::spawn().await;
    let resident = app.resident_token("scoped").await;
    let zhang = app.staff_token("lawyer.zhang").await;
    let li = app.staff_token("lawyer.li").await;
    let case = app
        .submit(&resident, "小区电梯长期故障，物业不修怎么办？")
        .await;
    let id = case.id;
    let offer = app.wait_for_offer(&zhang, &id).await;
    let offer_id = offer.id;

    // lawyer.li is signed to the other community: the offer is not theirs.
    expect_error(
        app.post(
            &format!("/api/v1/staff/offers/{offer_id}/accept"),
            &li,
            json!({}),
        )
        .await,
        StatusCode::NOT_FOUND,
        "offer_not_found",
    )
    .await;
    expect_error(
        app.post(
            &format!("/api/v1/staff/offers/{offer_id}/decline"),
            &li,
            json!({"reason": "不是我的"}),
        )
        .await,
        StatusCode::NOT_FOUND,
        "offer_not_found",
    )
    .await;
    expect_error(
        app.get(&format!("/api/v1/staff/consultations/{id}"), &li)
            .await,
        StatusCode::NOT_FOUND,
        "consultation_not_found",
    )
    .await;
    // Not pooled, so nobody can claim it.
    expect_error(
        app.post(
            &format!("/api/v1/staff/consultations/{id}/claim"),
            &li,
            json!({}),
        )
        .await,
        StatusCode::NOT_FOUND,
        "consultation_not_found",
    )
    .await;
    // Only the owner may reply.
    expect_status(
        app.post(
            &format!("/api/v1/staff/offers/{offer_id}/accept"),
            &zhang,
            json!({}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    expect_error(
        app.post(
            &format!("/api/v1/staff/consultations/{id}/messages"),
            &li,
            json!({"body": "我来答"}),
        )
        .await,
        StatusCode::NOT_FOUND,
        "consultation_not_found",
    )
    .await;
    expect_error(
        app.post(
            &format!("/api/v1/staff/consultations/{id}/resolve"),
            &li,
            json!({}),
        )
        .await,
        StatusCode::NOT_FOUND,
        "consultation_not_found",
    )
    .await;
}
