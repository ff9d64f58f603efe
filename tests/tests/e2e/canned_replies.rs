//! 常用回复 (issue 17): staff keep their own canned replies, coordinators
//! and administrators share some with a unit's subtree; staff read both in
//! one bounded list. Scope: another's own reply, or another street's unit
//! or shared reply, reads as not found.

use reqwest::StatusCode;
use sansuo_tests::views::{CannedReplyKind, CannedReplyList, CannedReplyView};
use sansuo_tests::world::StreetB;
use sansuo_tests::{TestApp, expect_error, expect_json, expect_status};
use serde_json::{Value, json};
use uuid::Uuid;

const LIST: &str = "/api/v1/staff/canned-replies";

async fn add_own(app: &TestApp, token: &str, body: Value) -> CannedReplyView {
    expect_json(app.post(LIST, token, body).await, StatusCode::CREATED).await
}

async fn add_shared(app: &TestApp, token: &str, unit: Uuid, body: Value) -> CannedReplyView {
    expect_json(
        app.post(
            &format!("/api/v1/admin/org-units/{unit}/canned-replies"),
            token,
            body,
        )
        .await,
        StatusCode::CREATED,
    )
    .await
}

async fn titles(app: &TestApp, token: &str, query: &str) -> Vec<String> {
    let list: CannedReplyList = app.get_as(&format!("{LIST}{query}"), token).await;
    list.items.into_iter().map(|r| r.title).collect()
}

/// Own replies: kept, listed first, filtered by service, deleted only by
/// their owner; bad text refused.
async fn own_replies(app: &TestApp) {
    let zhang = app.staff_token("lawyer.zhang").await;
    let li = app.staff_token("lawyer.li").await;
    let any = add_own(
        app,
        &zhang,
        json!({"title": " 问候 ", "body": "您好，我是张律师，已收到您的问题。"}),
    )
    .await;
    assert_eq!(any.title, "问候");
    assert_eq!(any.kind, CannedReplyKind::Own);
    assert_eq!(any.service, None);
    let tip_only = add_own(
        app,
        &zhang,
        json!({"title": "线索", "body": "感谢举报。", "service": "tip"}),
    )
    .await;
    assert_eq!(tip_only.service.as_deref(), Some("tip"));
    assert_eq!(titles(app, &zhang, "").await, ["线索", "问候"]);
    assert_eq!(titles(app, &zhang, "?service=consultation").await, ["问候"]);
    assert_eq!(titles(app, &zhang, "?service=tip").await, ["线索", "问候"]);
    expect_status(
        app.get(&format!("{LIST}?service=payroll"), &zhang).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert!(titles(app, &li, "").await.is_empty(), "not another's");

    for bad in [
        json!({"title": "", "body": "正文"}),
        json!({"title": "字".repeat(41), "body": "正文"}),
        json!({"title": "标题", "body": "  "}),
        json!({"title": "标题", "body": "字".repeat(2001)}),
    ] {
        expect_error(
            app.post(LIST, &zhang, bad).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
    }

    let path = format!("{LIST}/{}", any.id);
    expect_error(
        app.delete(&path, &li).await,
        StatusCode::NOT_FOUND,
        "canned_reply_not_found",
    )
    .await;
    let coordinator = app.staff_token("coordinator.sun").await;
    expect_error(
        app.delete(
            &format!("/api/v1/admin/canned-replies/{}", any.id),
            &coordinator,
        )
        .await,
        StatusCode::NOT_FOUND,
        "canned_reply_not_found",
    )
    .await;
    expect_status(app.delete(&path, &zhang).await, StatusCode::NO_CONTENT).await;
    expect_error(
        app.delete(&path, &zhang).await,
        StatusCode::NOT_FOUND,
        "canned_reply_not_found",
    )
    .await;
    let resident = app.resident_token("canned-resident").await;
    expect_status(app.get(LIST, &resident).await, StatusCode::FORBIDDEN).await;
}

#[tokio::test]
async fn staff_keep_their_own_canned_replies() {
    own_replies(&TestApp::spawn().await).await;
}

#[tokio::test]
async fn own_canned_replies_work_on_the_embedded_database() {
    own_replies(&TestApp::spawn_embedded().await).await;
}

#[tokio::test]
async fn a_units_shared_replies_reach_its_subtree_and_no_further() {
    let app = TestApp::spawn().await;
    let b = StreetB::build(&app).await;
    let admin = app.staff_token("admin").await;
    let coordinator = app.staff_token("coordinator.sun").await;
    let street = app.demo.street.as_uuid();
    let district = app.demo.district.as_uuid();

    let streets = add_shared(
        &app,
        &coordinator,
        street,
        json!({"title": "街道", "body": "请携带身份证到街道司法所。"}),
    )
    .await;
    assert_eq!(streets.kind, CannedReplyKind::Shared);
    assert_eq!(streets.org_unit_id, Some(street));
    add_shared(
        &app,
        &admin,
        district,
        json!({"title": "全区", "body": "感谢您的耐心。"}),
    )
    .await;
    let zhang = app.staff_token("lawyer.zhang").await;
    add_own(
        &app,
        &zhang,
        json!({"title": "自己的", "body": "稍后回复您。"}),
    )
    .await;
    // Own first, then the nearest unit's, then the district's.
    assert_eq!(titles(&app, &zhang, "").await, ["自己的", "街道", "全区"]);
    let chen = app.staff_token("mediator.chen").await;
    assert_eq!(titles(&app, &chen, "").await, ["街道", "全区"]);
    let liu = app.staff_token("officer.liu").await;
    assert_eq!(
        titles(&app, &liu, "").await,
        ["全区"],
        "the station is not under the street"
    );
    let lawyer_b = StreetB::token(&app, StreetB::LAWYER).await;
    assert_eq!(titles(&app, &lawyer_b, "").await, ["全区"]);

    // Street B's coordinator: the demo street in the path, or its reply, is not found.
    let coordinator_b = StreetB::token(&app, StreetB::COORDINATOR).await;
    expect_error(
        app.post(
            &format!("/api/v1/admin/org-units/{street}/canned-replies"),
            &coordinator_b,
            json!({"title": "越界", "body": "不该成功。"}),
        )
        .await,
        StatusCode::NOT_FOUND,
        "org_unit_not_found",
    )
    .await;
    // Even with a body that fails on its own: the path's 404 comes first.
    expect_error(
        app.post(
            &format!("/api/v1/admin/org-units/{street}/canned-replies"),
            &coordinator_b,
            json!({"title": ""}),
        )
        .await,
        StatusCode::NOT_FOUND,
        "org_unit_not_found",
    )
    .await;
    let shared_path = format!("/api/v1/admin/canned-replies/{}", streets.id);
    expect_error(
        app.delete(&shared_path, &coordinator_b).await,
        StatusCode::NOT_FOUND,
        "canned_reply_not_found",
    )
    .await;
    // A lawyer may neither share nor unshare.
    expect_status(
        app.post(
            &format!("/api/v1/admin/org-units/{street}/canned-replies"),
            &zhang,
            json!({"title": "律师", "body": "不行。"}),
        )
        .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    expect_status(
        app.delete(&shared_path, &zhang).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    // Nor delete it as their own.
    expect_error(
        app.delete(&format!("{LIST}/{}", streets.id), &zhang).await,
        StatusCode::NOT_FOUND,
        "canned_reply_not_found",
    )
    .await;
    // Street B shares its own, which the demo street does not see.
    add_shared(
        &app,
        &coordinator_b,
        b.community,
        json!({"title": "新港", "body": "新港居委的回复。"}),
    )
    .await;
    assert_eq!(titles(&app, &zhang, "").await, ["自己的", "街道", "全区"]);

    expect_status(
        app.delete(&shared_path, &coordinator).await,
        StatusCode::NO_CONTENT,
    )
    .await;
    assert_eq!(titles(&app, &chen, "").await, ["全区"]);
}

#[tokio::test]
async fn the_hundred_and_first_own_reply_is_refused() {
    let app = TestApp::spawn().await;
    let wang = app.staff_token("lawyer.wang").await;
    for i in 0..100 {
        add_own(
            &app,
            &wang,
            json!({"title": format!("第{i}条"), "body": "内容"}),
        )
        .await;
    }
    expect_error(
        app.post(LIST, &wang, json!({"title": "多一条", "body": "内容"}))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "too_many_canned_replies",
    )
    .await;
    // Another staff member's allowance is their own.
    let zhao = app.staff_token("lawyer.zhao").await;
    add_own(&app, &zhao, json!({"title": "一条", "body": "内容"})).await;
    assert_eq!(titles(&app, &wang, "").await.len(), 100);
}
