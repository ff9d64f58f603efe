//! Resident text passes WeChat's content check before anyone sees it:
//! risky text is refused, doubtful text waits for a coordinator, and text
//! written while the checker is down is held and checked later, never lost.

use reqwest::StatusCode;
use sansuo_tests::views::{
    ConsultationPage, ConsultationStatusView as Status, ConsultationView, HeldTextList,
    ModerationDecisionView, OfferList,
};
use sansuo_tests::{TestApp, eventually, expect_error, expect_json, expect_status};
use sansuo_wechat_fake::MSG_SEC_CHECK_PATH;
use serde_json::json;
use std::time::Duration;

fn question(app: &TestApp, text: &str) -> serde_json::Value {
    json!({ "community_id": app.demo.community_a.as_uuid(), "category_code": "LJ01", "question": text })
}

#[tokio::test]
async fn risky_text_is_refused_and_never_reaches_a_lawyer() {
    let app = TestApp::spawn().await;
    app.wechat.set_verdict("赌博", "risky", 20001);
    let resident = app.resident_token("risky").await;
    let zhang = app.staff_token("lawyer.zhang").await;
    let refused = app
        .post(
            "/api/v1/consultations",
            &resident,
            question(&app, "楼下天天有人聚众赌博，我想问问怎么办"),
        )
        .await;
    expect_error(refused, StatusCode::UNPROCESSABLE_ENTITY, "content_risky").await;
    let mine: ConsultationPage = app.get_as("/api/v1/consultations", &resident).await;
    assert!(mine.items.is_empty());
    let checks = app.wechat.msg_sec_checks().await;
    assert_eq!(checks.len(), 1);
    assert_eq!(checks[0]["openid"], "openid-risky");
    assert_eq!(checks[0]["version"], 2);

    // A risky follow-up on an accepted case is refused too.
    let case = app
        .submit(&resident, "邻居在楼道里堆放杂物怎么处理？")
        .await;
    let id = case.id;
    app.wait_for_offer(&zhang, &id).await;
    let follow = app
        .post(
            &format!("/api/v1/consultations/{id}/messages"),
            &resident,
            json!({"body": "他们还在家里赌博"}),
        )
        .await;
    expect_error(follow, StatusCode::UNPROCESSABLE_ENTITY, "content_risky").await;
}

#[tokio::test]
async fn doubtful_text_waits_for_a_coordinator_before_it_is_routed() {
    let app = TestApp::spawn().await;
    app.wechat.set_verdict("讨债", "review", 20002);
    let resident = app.resident_token("doubtful").await;
    let zhang = app.staff_token("lawyer.zhang").await;
    let coordinator = app.staff_token("coordinator.sun").await;
    let created: ConsultationView = expect_json(
        app.post(
            "/api/v1/consultations",
            &resident,
            question(&app, "有人上门暴力讨债，我应该怎么保护自己？"),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let id = created.id;
    assert_eq!(created.moderation, "review");
    tokio::time::sleep(Duration::from_millis(400)).await;
    let offers: OfferList = app.get_as("/api/v1/staff/offers", &zhang).await;
    assert!(offers.items.is_empty(), "a held question is not routed");

    let held: HeldTextList = app.get_as("/api/v1/admin/moderation", &coordinator).await;
    let item = held.items.iter().find(|i| i.case_id == id).expect("held");
    assert_eq!(
        (item.kind.as_str(), item.moderation.as_str()),
        ("case", "review")
    );
    // A rejection needs a reason; an approval routes the question, once.
    let decide = |approve: bool| json!({"kind": "case", "id": id, "approve": approve});
    expect_error(
        app.post(
            "/api/v1/admin/moderation/decisions",
            &coordinator,
            decide(false),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    let approved: ModerationDecisionView = app
        .post_as(
            "/api/v1/admin/moderation/decisions",
            &coordinator,
            decide(true),
        )
        .await;
    assert_eq!(approved.moderation, "passed");
    expect_error(
        app.post(
            "/api/v1/admin/moderation/decisions",
            &coordinator,
            decide(true),
        )
        .await,
        StatusCode::CONFLICT,
        "state_conflict",
    )
    .await;
    app.wait_for_offer(&zhang, &id).await;

    // A doubtful follow-up is kept for the resident but hidden from the lawyer.
    let offer = app.wait_for_offer(&zhang, &id).await;
    app.accept_offer(&zhang, &offer).await;
    expect_status(
        app.post(
            &format!("/api/v1/consultations/{id}/messages"),
            &resident,
            json!({"body": "讨债的人又来了"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let mine: ConsultationView = app
        .get_as(&format!("/api/v1/consultations/{id}"), &resident)
        .await;
    assert_eq!(mine.messages[0].moderation, "review");
    let theirs: ConsultationView = app
        .get_as(&format!("/api/v1/staff/consultations/{id}"), &zhang)
        .await;
    assert!(theirs.messages.is_empty(), "{theirs:?}");
}

#[tokio::test]
async fn a_rejected_question_is_closed_with_the_reason() {
    let app = TestApp::spawn().await;
    app.wechat.set_verdict("广告", "review", 20003);
    let resident = app.resident_token("advert").await;
    let coordinator = app.staff_token("coordinator.sun").await;
    let created: ConsultationView = expect_json(
        app.post(
            "/api/v1/consultations",
            &resident,
            question(&app, "专业代办各类证件，欢迎咨询广告合作"),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let id = created.id;
    let reject =
        json!({"kind": "case", "id": id, "approve": false, "reason": "与法律咨询无关的广告"});
    let rejected: ModerationDecisionView = app
        .post_as("/api/v1/admin/moderation/decisions", &coordinator, reject)
        .await;
    assert_eq!(rejected.moderation, "rejected");
    let seen: ConsultationView = app
        .get_as(&format!("/api/v1/consultations/{id}"), &resident)
        .await;
    assert_eq!(seen.status, Status::Rejected);
    let reject_event = seen.history.iter().find(|e| e.action == "reject").unwrap();
    assert_eq!(reject_event.reason.as_deref(), Some("与法律咨询无关的广告"));
}

#[tokio::test]
async fn text_written_while_the_checker_is_down_is_held_then_checked_and_routed() {
    let app = TestApp::spawn().await;
    app.wechat.fail_next_status(MSG_SEC_CHECK_PATH, 500, 1);
    let resident = app.resident_token("patient-writer").await;
    let zhang = app.staff_token("lawyer.zhang").await;
    let created: ConsultationView = expect_json(
        app.post(
            "/api/v1/consultations",
            &resident,
            question(&app, "房东不退押金还扣了一千块清洁费合理吗？"),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let id = created.id;
    assert_eq!(created.moderation, "pending", "accepted and held, not lost");
    // The worker checks it again (WeChat answers now) and routes it.
    app.wait_for_offer(&zhang, &id).await;
    let seen: ConsultationView = app
        .get_as(&format!("/api/v1/consultations/{id}"), &resident)
        .await;
    assert_eq!(seen.moderation, "passed");
    eventually("two checks: the failed one and the late one", || async {
        (app.wechat.msg_sec_checks().await.len() >= 2).then_some(())
    })
    .await;
}

#[tokio::test]
async fn two_server_instances_share_one_access_token() {
    let app = TestApp::spawn().await;
    let mut sibling = app.spawn_sibling().await;
    let sibling_url = format!("http://127.0.0.1:{}", sibling.port);
    let resident = app.resident_token("two-instances").await;
    // Each instance checks text with msg_sec_check, which needs the token.
    for (i, base) in [&app.base_url, &sibling_url, &app.base_url, &sibling_url]
        .into_iter()
        .enumerate()
    {
        let response = app
            .http
            .post(format!("{base}/api/v1/consultations"))
            .bearer_auth(&resident)
            .json(&question(
                &app,
                &format!("第{i}个：小区电动车乱停放影响通行怎么办？"),
            ))
            .send()
            .await
            .unwrap();
        expect_status(response, StatusCode::CREATED).await;
    }
    assert_eq!(app.wechat.msg_sec_checks().await.len(), 4);
    assert_eq!(
        app.wechat.stable_token_calls().await,
        1,
        "one token for the whole deployment"
    );
    sibling.stop().await;
}
