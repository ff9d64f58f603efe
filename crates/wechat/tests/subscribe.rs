//! Subscribe messages against the fake: body shape, value truncation,
//! subscription credit (43101, not retried), 47003.

mod common;

use common::client;
use sansuo_wechat::{Lang, MiniprogramState, SubscribeMessage, TemplateValueError, WechatError};
use sansuo_wechat_fake::{FakeWechat, SUBSCRIBE_SEND_PATH};

fn message() -> SubscribeMessage {
    SubscribeMessage::new("openid-1", "tmpl-case-update")
        .page("pages/case/detail?id=42")
        .field(
            "thing1",
            "您的法律咨询已由社区律师受理，请留意后续电话联系与短信通知",
        )
        .field("character_string2", "SS-2025-000042")
        .field("phrase3", "已受理")
        .field("time4", "2025年3月1日 09:30")
        .field("name5", "欧阳律师事务所主任律师张三")
}

#[tokio::test]
async fn send_success_with_values_truncated_in_the_sent_body() {
    let fake = FakeWechat::start().await;
    let client = client(&fake);

    client
        .send_subscribe_message(&message().state(MiniprogramState::Trial).lang(Lang::ZhCn))
        .await
        .unwrap();

    let sends = fake.subscribe_sends().await;
    assert_eq!(sends.len(), 1);
    let body = &sends[0];
    assert_eq!(body["touser"], "openid-1");
    assert_eq!(body["template_id"], "tmpl-case-update");
    assert_eq!(body["page"], "pages/case/detail?id=42");
    assert_eq!(body["miniprogram_state"], "trial");
    assert_eq!(body["lang"], "zh_CN");
    let thing = body["data"]["thing1"]["value"].as_str().unwrap();
    assert_eq!(thing.chars().count(), 20, "{thing}");
    assert!(thing.ends_with('…'), "{thing}");
    assert!(thing.starts_with("您的法律咨询已由社区律师受理"), "{thing}");
    assert_eq!(body["data"]["character_string2"]["value"], "SS-2025-000042");
    assert_eq!(body["data"]["phrase3"]["value"], "已受理");
    assert_eq!(body["data"]["time4"]["value"], "2025年3月1日 09:30");
    assert_eq!(
        body["data"]["name5"]["value"]
            .as_str()
            .unwrap()
            .chars()
            .count(),
        10
    );
    // The fake checks WeChat's limits, and accepted it.
    assert_eq!(fake.subscribe_delivered().len(), 1);
}

#[tokio::test]
async fn no_subscription_credit_is_not_retried() {
    let fake = FakeWechat::start().await;
    fake.deny_credit("openid-1", "tmpl-case-update");
    let client = client(&fake);

    let err = client.send_subscribe_message(&message()).await.unwrap_err();

    assert!(matches!(err, WechatError::NoSubscriptionCredit), "{err:?}");
    assert!(!err.is_retryable());
    assert_eq!(err.errcode(), Some(43101));
    assert_eq!(fake.subscribe_sends().await.len(), 1);
    assert!(fake.subscribe_delivered().is_empty());
}

#[tokio::test]
async fn each_send_uses_one_credit() {
    let fake = FakeWechat::start().await;
    fake.set_credit("openid-1", "tmpl-case-update", 1);
    let client = client(&fake);

    client.send_subscribe_message(&message()).await.unwrap();
    let err = client.send_subscribe_message(&message()).await.unwrap_err();

    assert!(matches!(err, WechatError::NoSubscriptionCredit), "{err:?}");
    // Another user is not affected.
    let mut other = message();
    other.touser = "openid-2".to_owned();
    client.send_subscribe_message(&other).await.unwrap();
}

#[tokio::test]
async fn template_param_invalid_47003_is_not_retryable() {
    let fake = FakeWechat::start().await;
    fake.fail_next(SUBSCRIBE_SEND_PATH, 47003, 1);
    let client = client(&fake);

    let err = client.send_subscribe_message(&message()).await.unwrap_err();

    assert!(
        matches!(err, WechatError::TemplateParamInvalid { .. }),
        "{err:?}"
    );
    assert!(!err.is_retryable());
    assert_eq!(fake.subscribe_sends().await.len(), 1);
}

#[tokio::test]
async fn untruncated_values_would_be_refused_by_the_fake() {
    // Guards the fake itself: it enforces the limit the client relies on.
    let fake = FakeWechat::start().await;
    let client = client(&fake);
    let too_long = SubscribeMessage::new("openid-1", "t").field("thing1", "x".repeat(20));
    client.send_subscribe_message(&too_long).await.unwrap();
    let body = &fake.subscribe_sends().await[0];
    assert_eq!(body["data"]["thing1"]["value"], "x".repeat(20));
}

#[tokio::test]
async fn invalid_values_are_refused_without_a_request() {
    let fake = FakeWechat::start().await;
    let client = client(&fake);
    let bad = SubscribeMessage::new("openid-1", "t").field("number1", "12 apples");

    let err = client.send_subscribe_message(&bad).await.unwrap_err();

    match &err {
        WechatError::InvalidTemplateValue { field, reason } => {
            assert_eq!(field, "number1");
            assert_eq!(*reason, TemplateValueError::InvalidCharacters);
        }
        other => panic!("{other:?}"),
    }
    assert!(!err.is_retryable());
    assert_eq!(fake.subscribe_sends().await.len(), 0);
    assert_eq!(fake.stable_token_calls().await, 0);
}
