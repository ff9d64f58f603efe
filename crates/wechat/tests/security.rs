//! Content security against the fake: msg_sec_check verdicts and failures,
//! media_check_async, and the push signature / event.

mod common;

use std::time::Duration;

use common::{client, config};
use sansuo_wechat::{
    CheckScene, ContentVerdict, MediaCheckEvent, MediaType, Suggest, WechatClient, WechatError,
    verify_push_signature,
};
use sansuo_wechat_fake::{FakeWechat, MEDIA_CHECK_ASYNC_PATH, MSG_SEC_CHECK_PATH};

#[tokio::test]
async fn pass_review_and_risky() {
    let fake = FakeWechat::start().await;
    fake.set_verdict("加微信", "review", 10001);
    fake.set_verdict("赌博", "risky", 20006);
    let client = client(&fake);

    let pass = client
        .msg_sec_check("openid-1", CheckScene::Forum, "请问离婚财产如何分割？")
        .await
        .unwrap();
    let review = client
        .msg_sec_check("openid-1", CheckScene::Comment, "律师费便宜，加微信详谈")
        .await
        .unwrap();
    let risky = client
        .msg_sec_check("openid-1", CheckScene::Profile, "网上赌博欠债怎么办")
        .await
        .unwrap();

    assert_eq!(pass, ContentVerdict::Pass);
    assert_eq!(review, ContentVerdict::Review { label: Some(10001) });
    assert_eq!(risky, ContentVerdict::Risky { label: Some(20006) });
    let bodies = fake.msg_sec_checks().await;
    assert_eq!(bodies.len(), 3);
    assert_eq!(bodies[0]["version"], 2);
    assert_eq!(bodies[0]["scene"], 3);
    assert_eq!(bodies[1]["scene"], 2);
    assert_eq!(bodies[2]["scene"], 1);
    assert_eq!(bodies[0]["openid"], "openid-1");
    assert_eq!(bodies[0]["content"], "请问离婚财产如何分割？");
}

#[tokio::test]
async fn legacy_87014_is_risky() {
    let fake = FakeWechat::start().await;
    fake.fail_next(MSG_SEC_CHECK_PATH, 87014, 1);
    let verdict = client(&fake)
        .msg_sec_check("openid-1", CheckScene::Comment, "text")
        .await
        .unwrap();
    assert_eq!(verdict, ContentVerdict::Risky { label: None });
}

#[tokio::test]
async fn wechat_down_is_retryable() {
    let fake = FakeWechat::start().await;
    let client = client(&fake);

    fake.fail_next_status(MSG_SEC_CHECK_PATH, 500, 1);
    let err = client
        .msg_sec_check("openid-1", CheckScene::Comment, "text")
        .await
        .unwrap_err();
    assert!(matches!(err, WechatError::Unavailable(_)), "{err:?}");
    assert!(err.is_retryable());

    fake.fail_next(MSG_SEC_CHECK_PATH, -1, 1);
    let err = client
        .msg_sec_check("openid-1", CheckScene::Comment, "text")
        .await
        .unwrap_err();
    assert!(matches!(err, WechatError::Busy), "{err:?}");
    assert!(err.is_retryable());
}

#[tokio::test]
async fn wechat_timeout_is_retryable() {
    let fake = FakeWechat::start().await;
    fake.set_delay(MSG_SEC_CHECK_PATH, Duration::from_secs(3));
    let client = WechatClient::new(config(
        fake.base_url(),
        FakeWechat::APP_SECRET,
        Duration::from_millis(300),
    ))
    .unwrap();

    let started = std::time::Instant::now();
    let err = client
        .msg_sec_check("openid-1", CheckScene::Comment, "secret legal matter")
        .await
        .unwrap_err();

    assert!(started.elapsed() < Duration::from_secs(2));
    assert!(matches!(err, WechatError::Unavailable(_)), "{err:?}");
    assert!(err.is_retryable());
    let shown = format!("{err} {err:?}");
    assert!(!shown.contains("fake-token"), "{shown}");
}

#[tokio::test]
async fn bad_input_is_refused_without_a_request() {
    let fake = FakeWechat::start().await;
    let client = client(&fake);
    for content in ["", "   ", &"字".repeat(2501)] {
        let err = client
            .msg_sec_check("openid-1", CheckScene::Comment, content)
            .await
            .unwrap_err();
        assert!(matches!(err, WechatError::InvalidArgument(_)), "{err:?}");
    }
    assert!(
        client
            .msg_sec_check("openid-1", CheckScene::Comment, &"字".repeat(2500))
            .await
            .is_ok()
    );
    assert_eq!(fake.msg_sec_checks().await.len(), 1);
}

#[tokio::test]
async fn media_check_returns_the_trace_id_matched_by_the_push() {
    let fake = FakeWechat::start().await;
    let client = client(&fake);

    let trace_id = client
        .media_check_async(
            "https://cdn.example.com/u/1.jpg",
            MediaType::Image,
            CheckScene::Forum,
            "openid-1",
        )
        .await
        .unwrap();

    assert_eq!(trace_id, "fake-trace-1");
    let bodies = fake.media_checks().await;
    assert_eq!(bodies.len(), 1);
    assert_eq!(bodies[0]["media_url"], "https://cdn.example.com/u/1.jpg");
    assert_eq!(bodies[0]["media_type"], 2);
    assert_eq!(bodies[0]["version"], 2);
    assert_eq!(bodies[0]["scene"], 3);
    assert_eq!(bodies[0]["openid"], "openid-1");

    // WeChat later pushes the verdict, signed.
    let push = FakeWechat::media_check_event(&trace_id, "risky", 20002).to_string();
    let signature = FakeWechat::push_signature("push-token", "1700000000", "n0nce");
    assert!(verify_push_signature(
        "push-token",
        "1700000000",
        "n0nce",
        &signature
    ));
    let event = MediaCheckEvent::parse(push.as_bytes()).unwrap();
    assert_eq!(event.trace_id, trace_id);
    assert_eq!(event.result.suggest, Suggest::Risky);
    assert_eq!(event.result.label, 20002);
    assert_eq!(event.appid, FakeWechat::APP_ID);
}

#[tokio::test]
async fn forged_push_signatures_are_refused() {
    let good = FakeWechat::push_signature("push-token", "1700000000", "n0nce");
    // Wrong token, replayed with another timestamp or nonce, tampered, empty.
    let forged_token = FakeWechat::push_signature("guessed", "1700000000", "n0nce");
    assert!(!verify_push_signature(
        "push-token",
        "1700000000",
        "n0nce",
        &forged_token
    ));
    assert!(!verify_push_signature(
        "push-token",
        "1700000001",
        "n0nce",
        &good
    ));
    assert!(!verify_push_signature(
        "push-token",
        "1700000000",
        "other",
        &good
    ));
    let mut tampered = good.clone().into_bytes();
    tampered[0] = if tampered[0] == b'0' { b'1' } else { b'0' };
    assert!(!verify_push_signature(
        "push-token",
        "1700000000",
        "n0nce",
        &String::from_utf8(tampered).unwrap()
    ));
    assert!(!verify_push_signature(
        "push-token",
        "1700000000",
        "n0nce",
        ""
    ));
}

#[tokio::test]
async fn media_check_refuses_a_non_http_url_without_a_request() {
    let fake = FakeWechat::start().await;
    let err = client(&fake)
        .media_check_async(
            "file:///etc/passwd",
            MediaType::Image,
            CheckScene::Forum,
            "o",
        )
        .await
        .unwrap_err();
    assert!(matches!(err, WechatError::InvalidArgument(_)), "{err:?}");
    assert_eq!(fake.calls(MEDIA_CHECK_ASYNC_PATH).await, 0);
}
