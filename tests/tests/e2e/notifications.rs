//! Subscribe messages: exactly the expected messages over a consultation's
//! life, credits spent one per message, 43101 not retried, transient
//! failures retried, hopeless ones given up, one message per event.

use reqwest::StatusCode;
use sansuo_domain::notify::NotificationStatus;
use sansuo_tests::views::{CreditList, ResidentView, TemplateList};
use sansuo_tests::{TestApp, TestOptions, eventually, expect_error, expect_status};
use sansuo_wechat_fake::SUBSCRIBE_SEND_PATH;
use serde_json::{Value, json};
use std::time::Duration;

const ACCEPTED: &str = "tmpl-accepted";
const ANSWERED: &str = "tmpl-answered";

fn templates() -> String {
    json!({
        "consultation_accepted": {"template_id": ACCEPTED, "page": "pages/consultation/detail?id={case_id}",
            "fields": {"thing1": "category", "phrase2": "status", "name3": "lawyer", "time4": "time"}},
        "consultation_answered": {"template_id": ANSWERED, "page": "pages/consultation/detail?id={case_id}",
            "fields": {"thing1": "category", "phrase2": "status", "character_string3": "case_no"}}
    })
    .to_string()
}

async fn spawn(max_attempts: u32) -> TestApp {
    TestApp::spawn_with(TestOptions {
        env: vec![
            ("SANSUO_WECHAT_TEMPLATES", templates()),
            ("SANSUO_NOTIFY_MAX_ATTEMPTS", max_attempts.to_string()),
        ],
        ..TestOptions::default()
    })
    .await
}

/// Submit, let lawyer.zhang accept and answer; returns the case id.
async fn accepted_and_answered(app: &TestApp, resident: &str) -> uuid::Uuid {
    let zhang = app.staff_token("lawyer.zhang").await;
    let case = app
        .submit(resident, "楼上每晚十一点以后还在跳绳，噪音怎么处理？")
        .await;
    let id = case.id;
    let offer = app.wait_for_offer(&zhang, &id).await;
    app.accept_offer(&zhang, &offer).await;
    for body in [
        "可以先与邻居沟通，再请物业协调。",
        "如仍无改善，可申请居委调解。",
    ] {
        expect_status(
            app.post(
                &format!("/api/v1/staff/consultations/{id}/messages"),
                &zhang,
                json!({ "body": body }),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
    }
    id
}

async fn delivered(app: &TestApp, count: usize) -> Vec<Value> {
    eventually(&format!("{count} delivered messages"), || async {
        let d = app.wechat.subscribe_delivered();
        (d.len() >= count).then_some(d)
    })
    .await
}

#[tokio::test]
async fn a_consultations_life_sends_exactly_the_expected_messages() {
    let app = spawn(5).await;
    let resident = app.resident_token("notified").await;
    let listed: TemplateList = app
        .get_as("/api/v1/notifications/templates", &resident)
        .await;
    assert_eq!(listed.items.len(), 2);
    let granted: CreditList = app
        .post_as(
            "/api/v1/me/subscriptions",
            &resident,
            json!({"template_ids": [ACCEPTED, ANSWERED]}),
        )
        .await;
    assert!(granted.items.iter().all(|c| c.credits == 1));
    expect_error(
        app.post(
            "/api/v1/me/subscriptions",
            &resident,
            json!({"template_ids": ["not-ours"]}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;

    let id = accepted_and_answered(&app, &resident).await;
    let messages = delivered(&app, 2).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        app.wechat.subscribe_delivered().len(),
        2,
        "one per event: the second answer sends nothing"
    );
    let accepted = messages
        .iter()
        .find(|m| m["template_id"] == ACCEPTED)
        .unwrap();
    assert_eq!(accepted["touser"], "openid-notified");
    assert_eq!(
        accepted["page"],
        format!("pages/consultation/detail?id={id}")
    );
    assert_eq!(accepted["data"]["thing1"]["value"], "噪音扰民");
    assert_eq!(accepted["data"]["phrase2"]["value"], "律师已受理");
    assert_eq!(accepted["data"]["name3"]["value"], "张律师");
    let answered = messages
        .iter()
        .find(|m| m["template_id"] == ANSWERED)
        .unwrap();
    assert_eq!(
        answered["data"]["character_string3"]["value"],
        &id.to_string()[..8]
    );
    // Both credits spent.
    let me: ResidentView = app.get_as("/api/v1/me", &resident).await;
    let resident_id = sansuo_domain::ResidentId::from(me.id);
    assert_eq!(
        app.app
            .store
            .notifications()
            .credits(resident_id, ACCEPTED)
            .await
            .unwrap(),
        0
    );
}

#[tokio::test]
async fn without_a_credit_nothing_is_sent_and_43101_is_not_retried() {
    let app = spawn(5).await;
    let resident = app.resident_token("unsubscribed").await;
    let id = accepted_and_answered(&app, &resident).await;
    let no_credit = eventually("the accepted message to be settled", || async {
        app.app
            .store
            .notifications()
            .get(&format!("consultation_accepted:{id}"))
            .await
            .unwrap()
            .filter(|n| {
                n.status != NotificationStatus::Pending && n.status != NotificationStatus::Sending
            })
    })
    .await;
    assert_eq!(no_credit.status, NotificationStatus::NoCredit);
    assert!(
        app.wechat.subscribe_sends().await.is_empty(),
        "nothing was sent without a credit"
    );

    // We think there is a credit, WeChat knows better: one try, no retry.
    let resident = app.resident_token("out-of-step").await;
    expect_status(
        app.post(
            "/api/v1/me/subscriptions",
            &resident,
            json!({"template_ids": [ACCEPTED]}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    app.wechat.deny_credit("openid-out-of-step", ACCEPTED);
    let id = accepted_and_answered(&app, &resident).await;
    let settled = eventually("43101 to be recorded", || async {
        app.app
            .store
            .notifications()
            .get(&format!("consultation_accepted:{id}"))
            .await
            .unwrap()
            .filter(|n| n.status == NotificationStatus::NoCredit)
    })
    .await;
    assert_eq!(settled.last_error.as_deref(), Some("43101"));
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let tries = app
        .wechat
        .subscribe_sends()
        .await
        .iter()
        .filter(|m| m["touser"] == "openid-out-of-step")
        .count();
    assert_eq!(tries, 1);
}

#[tokio::test]
async fn transient_failures_are_retried_and_hopeless_ones_given_up() {
    let app = spawn(2).await;
    let resident = app.resident_token("flaky").await;
    expect_status(
        app.post(
            "/api/v1/me/subscriptions",
            &resident,
            json!({"template_ids": [ACCEPTED]}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    // WeChat busy once: retried after a backoff, delivered once.
    app.wechat.fail_next(SUBSCRIBE_SEND_PATH, -1, 1);
    let id = accepted_and_answered(&app, &resident).await;
    delivered(&app, 1).await;
    // WeChat has it; the worker records that right after.
    let sent = eventually("the message to be recorded as sent", || async {
        app.app
            .store
            .notifications()
            .get(&format!("consultation_accepted:{id}"))
            .await
            .unwrap()
            .filter(|n| n.status == NotificationStatus::Sent)
    })
    .await;
    assert_eq!(sent.attempts, 2);

    // Busy every time: given up after the configured attempts, credit kept.
    let resident = app.resident_token("unlucky-flaky").await;
    expect_status(
        app.post(
            "/api/v1/me/subscriptions",
            &resident,
            json!({"template_ids": [ACCEPTED]}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    app.wechat.fail_next(SUBSCRIBE_SEND_PATH, -1, 10);
    let id = accepted_and_answered(&app, &resident).await;
    let dead = eventually("the message to be dead-lettered", || async {
        app.app
            .store
            .notifications()
            .get(&format!("consultation_accepted:{id}"))
            .await
            .unwrap()
            .filter(|n| n.status == NotificationStatus::Dead)
    })
    .await;
    assert_eq!(dead.attempts, 2);
    assert!(dead.last_error.is_some());
}

#[tokio::test]
async fn two_instances_send_one_message_per_event() {
    let app = spawn(5).await;
    let mut sibling = app.spawn_sibling().await;
    let resident = app.resident_token("two-instances").await;
    expect_status(
        app.post(
            "/api/v1/me/subscriptions",
            &resident,
            json!({"template_ids": [ACCEPTED, ANSWERED]}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    // Spare credits, so that only the one-message-per-event claim (not a
    // lack of credit) can stop a duplicate from either instance.
    for _ in 0..2 {
        expect_status(
            app.post(
                "/api/v1/me/subscriptions",
                &resident,
                json!({"template_ids": [ACCEPTED, ANSWERED]}),
            )
            .await,
            StatusCode::OK,
        )
        .await;
    }
    accepted_and_answered(&app, &resident).await;
    delivered(&app, 2).await;
    sibling.worker.reconcile_once().await.unwrap();
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(app.wechat.subscribe_delivered().len(), 2);
    sibling.stop().await;
}
