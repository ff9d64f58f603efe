//! Staff on WeChat: a staff member binds their WeChat (one account per
//! WeChat user), grants credits as residents do (their own, never a
//! resident's), and is sent a subscribe message for an offer (with its
//! deadline in Beijing time), an urge and a supervision, exactly once per
//! event however often its job is delivered; without a credit, unbound or
//! deactivated, nothing is sent while the stream carries the event as
//! ever.

use crate::staff_events::{Stream, as_uuid, spawn_with};
use chrono::{FixedOffset, Utc};
use reqwest::StatusCode;
use sansuo_domain::StaffId;
use sansuo_domain::notify::{NotificationEvent, NotificationStatus};
use sansuo_domain::work::Work;
use sansuo_tests::views::{CreditList, StaffCaseView, StaffView, TemplateList};
use sansuo_tests::{TestApp, TestOptions, eventually, expect_error, expect_json, expect_status};
use serde_json::{Value, json};
use std::time::Duration;
use uuid::Uuid;

fn template_of(event: NotificationEvent) -> String {
    format!("tmpl-{}", event.as_str())
}

/// Every staff event's template (the offer's and the supervision's show
/// their deadline), and one residents' template.
fn templates() -> String {
    let mut all = serde_json::Map::new();
    for event in NotificationEvent::ALL
        .into_iter()
        .filter(|e| e.is_staff() || *e == NotificationEvent::ConsultationAccepted)
    {
        let mut fields =
            json!({"thing1": "category", "phrase2": "status", "character_string3": "case_no"});
        if matches!(
            event,
            NotificationEvent::StaffOffer | NotificationEvent::StaffSupervised
        ) {
            fields["time4"] = json!("deadline");
        }
        all.insert(
            event.as_str().to_owned(),
            json!({
                "template_id": template_of(event),
                "page": "pages/staff/case?id={case_id}",
                "fields": fields,
            }),
        );
    }
    Value::Object(all).to_string()
}

async fn spawn() -> TestApp {
    spawn_with(TestOptions {
        env: vec![("SANSUO_WECHAT_TEMPLATES", templates())],
        ..TestOptions::default()
    })
    .await
}

/// Bind `token`'s account to `openid` through a fresh `wx.login()` code.
async fn bind(app: &TestApp, token: &str, openid: &str) -> reqwest::Response {
    let code = format!("code-{}", Uuid::now_v7().simple());
    app.wechat.accept_code(&code, openid).await;
    app.post("/api/v1/staff/me/wechat", token, json!({ "code": code }))
        .await
}

async fn bound(app: &TestApp, token: &str, openid: &str) {
    let me: StaffView = expect_json(bind(app, token, openid).await, StatusCode::OK).await;
    assert!(me.wechat_bound);
}

/// One credit of each of these events' templates for the caller.
async fn subscribe(app: &TestApp, token: &str, events: &[NotificationEvent]) {
    let ids: Vec<String> = events.iter().map(|e| template_of(*e)).collect();
    let granted: CreditList = expect_json(
        app.post(
            "/api/v1/staff/me/subscriptions",
            token,
            json!({ "template_ids": ids }),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert!(granted.items.iter().all(|c| c.credits >= 1));
}

fn sent_to(app: &TestApp, openid: &str) -> Vec<Value> {
    app.wechat
        .subscribe_delivered()
        .into_iter()
        .filter(|m| m["touser"] == openid)
        .collect()
}

/// Wait for the `n`th message to `openid`; it must be `event`'s.
async fn expect_nth(app: &TestApp, openid: &str, n: usize, event: NotificationEvent) -> Value {
    let sent = eventually(
        &format!("message {n} ({}) to {openid}", event.as_str()),
        || async {
            let sent = sent_to(app, openid);
            (sent.len() >= n).then_some(sent)
        },
    )
    .await;
    let message = sent[n - 1].clone();
    assert_eq!(
        message["template_id"],
        template_of(event).as_str(),
        "{message}"
    );
    assert_eq!(message["data"]["phrase2"]["value"], event.status_label());
    message
}

fn in_beijing(at: chrono::DateTime<Utc>) -> String {
    at.with_timezone(&FixedOffset::east_opt(8 * 3600).unwrap())
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

fn staff_id(app: &TestApp, username: &str) -> StaffId {
    app.demo.account(username).id
}

/// Every staff message owed to `staff` delivered to the worker a second
/// time: nothing more reaches WeChat.
async fn redeliver_all(app: &TestApp, staff: StaffId, openid: &str) {
    let before = sent_to(app, openid);
    let owed = app.app.store.notifications().of_staff(staff).await.unwrap();
    assert!(!owed.is_empty());
    for record in owed {
        let occurrence: Uuid = record.id.rsplit(':').next().unwrap().parse().unwrap();
        let work = Work::NotifyStaff {
            event: record.event,
            staff_id: staff,
            case_id: record.case_id,
            occurrence,
            deadline: None,
        };
        assert_eq!(work.job_id(), format!("notify_staff:{}", record.id));
        app.app
            .queue
            .enqueue(
                sansuo_worker::ROUTING_QUEUE,
                sansuo_worker::job(&work, None),
                Utc::now(),
            )
            .await
            .unwrap();
    }
    eventually("the redelivered jobs to be handled", || async {
        let stats = app
            .app
            .queue
            .stats(sansuo_worker::ROUTING_QUEUE)
            .await
            .ok()?;
        (stats.due == 0).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(sent_to(app, openid), before, "a redelivery sends nothing");
}

#[tokio::test]
async fn an_offer_reaches_a_bound_lawyer_once_with_its_deadline_in_beijing_time() {
    let app = spawn().await;
    let zhang = app.staff_token("lawyer.zhang").await;
    let resident = app.resident_token("asking").await;
    let openid = "openid-staff-zhang";

    // The profile says whether WeChat is bound, never which.
    let me: StaffView = app.get_as("/api/v1/staff/me", &zhang).await;
    assert!(!me.wechat_bound);
    bound(&app, &zhang, openid).await;
    let raw: Value = app.get_as("/api/v1/staff/me", &zhang).await;
    assert_eq!(raw["wechat_bound"], true);
    assert!(!raw.to_string().contains(openid));

    // Staff templates for staff, residents' for residents.
    let listed: TemplateList = app
        .get_as("/api/v1/staff/notifications/templates", &zhang)
        .await;
    assert_eq!(listed.items.len(), 6);
    assert!(listed.items.iter().all(|t| t.event.starts_with("staff_")));
    let theirs: TemplateList = app
        .get_as("/api/v1/notifications/templates", &resident)
        .await;
    let events: Vec<&str> = theirs.items.iter().map(|t| t.event.as_str()).collect();
    assert_eq!(events, ["consultation_accepted"]);
    for (path, token, template) in [
        (
            "/api/v1/staff/me/subscriptions",
            &zhang,
            NotificationEvent::ConsultationAccepted,
        ),
        (
            "/api/v1/me/subscriptions",
            &resident,
            NotificationEvent::StaffOffer,
        ),
    ] {
        expect_error(
            app.post(
                path,
                token,
                json!({"template_ids": [template_of(template)]}),
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
    }
    subscribe(&app, &zhang, &[NotificationEvent::StaffOffer]).await;

    let mut stream = Stream::open(&app.base_url, &zhang, None).await;
    let case = app
        .submit(&resident, "楼上每晚十一点以后还在跳绳，噪音怎么处理？")
        .await;
    let told = stream.expect_kind("offer").await;
    assert_eq!(as_uuid(&told.data["case_id"]), case.id);
    let offer = app.wait_for_offer(&zhang, &case.id).await;

    let message = expect_nth(&app, openid, 1, NotificationEvent::StaffOffer).await;
    assert_eq!(message["page"], format!("pages/staff/case?id={}", case.id));
    assert_eq!(message["data"]["thing1"]["value"], "噪音扰民");
    assert_eq!(
        message["data"]["character_string3"]["value"],
        &case.id.to_string()[..8]
    );
    assert_eq!(
        message["data"]["time4"]["value"],
        in_beijing(offer.expires_at)
    );
    // Nothing of the resident or their question.
    assert!(!message.to_string().contains("跳绳"));
    assert!(!message.to_string().contains("openid-asking"));

    // The staff credit is spent; the resident had none and was sent nothing
    // for the offer.
    let zhang_id = staff_id(&app, "lawyer.zhang");
    let credits = app.app.store.notifications();
    assert_eq!(
        credits
            .credits(zhang_id, &template_of(NotificationEvent::StaffOffer))
            .await
            .unwrap(),
        0
    );
    assert!(sent_to(&app, "openid-asking").is_empty());
    let owed = credits.of_staff(zhang_id).await.unwrap();
    assert_eq!(owed.len(), 1);
    assert_eq!(owed[0].status, NotificationStatus::Sent);
    assert_eq!(owed[0].event, NotificationEvent::StaffOffer);

    redeliver_all(&app, zhang_id, openid).await;
    assert_eq!(sent_to(&app, openid).len(), 1);
    // The stream carried the offer once, as ever.
    stream.expect_quiet(Duration::from_millis(500)).await;
}

#[tokio::test]
async fn without_a_credit_nothing_is_sent_and_the_stream_still_carries_the_offer() {
    let app = spawn().await;
    let zhang = app.staff_token("lawyer.zhang").await;
    let resident = app.resident_token("uncredited").await;
    let openid = "openid-staff-nocredit";
    bound(&app, &zhang, openid).await;
    let mut stream = Stream::open(&app.base_url, &zhang, None).await;
    let case = app.submit(&resident, "房东不退押金怎么办？").await;
    let told = stream.expect_kind("offer").await;
    assert_eq!(as_uuid(&told.data["case_id"]), case.id);
    let zhang_id = staff_id(&app, "lawyer.zhang");
    let owed = eventually("the offer's message to be settled", || async {
        let owed = app
            .app
            .store
            .notifications()
            .of_staff(zhang_id)
            .await
            .unwrap();
        owed.first()
            .is_some_and(|n| n.status == NotificationStatus::NoCredit)
            .then_some(owed)
    })
    .await;
    assert_eq!(owed.len(), 1);
    assert!(sent_to(&app, openid).is_empty());
}

#[tokio::test]
async fn unbound_or_deactivated_staff_are_sent_nothing() {
    let app = spawn().await;
    let zhang = app.staff_token("lawyer.zhang").await;
    let admin = app.staff_token("admin").await;
    let resident = app.resident_token("unbinding").await;
    let openid = "openid-staff-gone";
    bound(&app, &zhang, openid).await;
    subscribe(&app, &zhang, &[NotificationEvent::StaffOffer]).await;

    // Unbound: the offer is on the stream, no message is owed or sent.
    expect_status(
        app.delete("/api/v1/staff/me/wechat", &zhang).await,
        StatusCode::NO_CONTENT,
    )
    .await;
    // Unbinding again is no error.
    expect_status(
        app.delete("/api/v1/staff/me/wechat", &zhang).await,
        StatusCode::NO_CONTENT,
    )
    .await;
    let me: StaffView = app.get_as("/api/v1/staff/me", &zhang).await;
    assert!(!me.wechat_bound);
    let mut stream = Stream::open(&app.base_url, &zhang, None).await;
    let case = app.submit(&resident, "公司拖欠工资三个月怎么办？").await;
    let told = stream.expect_kind("offer").await;
    assert_eq!(as_uuid(&told.data["case_id"]), case.id);
    tokio::time::sleep(Duration::from_millis(800)).await;
    let zhang_id = staff_id(&app, "lawyer.zhang");
    assert!(
        app.app
            .store
            .notifications()
            .of_staff(zhang_id)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(sent_to(&app, openid).is_empty());

    // Bound again, then deactivated: the binding goes with the account.
    bound(&app, &zhang, openid).await;
    let offer = app.wait_for_offer(&zhang, &case.id).await;
    expect_status(
        app.patch(
            &format!("/api/v1/admin/staff/{}", zhang_id.as_uuid()),
            &admin,
            json!({"active": false}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        app.app
            .store
            .identity()
            .staff_wechat_openid(zhang_id)
            .await
            .unwrap(),
        None
    );
    // A message owed from before (a job still queued) is not sent either.
    let work = Work::NotifyStaff {
        event: NotificationEvent::StaffOffer,
        staff_id: zhang_id,
        case_id: case.id.into(),
        occurrence: Uuid::now_v7(),
        deadline: Some(offer.expires_at),
    };
    app.app
        .queue
        .enqueue(
            sansuo_worker::ROUTING_QUEUE,
            sansuo_worker::job(&work, None),
            Utc::now(),
        )
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert!(sent_to(&app, openid).is_empty());
    // Their WeChat user may now bind another account.
    let wang = app.staff_token("lawyer.wang").await;
    bound(&app, &wang, openid).await;
}

#[tokio::test]
async fn one_wechat_user_binds_one_staff_account_and_only_staff_bind() {
    let app = spawn().await;
    let zhang = app.staff_token("lawyer.zhang").await;
    let wang = app.staff_token("lawyer.wang").await;
    let openid = "openid-staff-shared";
    bound(&app, &zhang, openid).await;
    // Bound to zhang: wang is refused, and stays unbound.
    expect_error(
        bind(&app, &wang, openid).await,
        StatusCode::CONFLICT,
        "wechat_bound_elsewhere",
    )
    .await;
    let me: StaffView = app.get_as("/api/v1/staff/me", &wang).await;
    assert!(!me.wechat_bound);
    // zhang binding the same again is fine; a new one replaces it.
    bound(&app, &zhang, openid).await;
    bound(&app, &zhang, "openid-staff-new").await;
    bound(&app, &wang, openid).await;

    // WeChat's refusals, as for a resident's login.
    app.wechat.fail_code("bad-code", 40029).await;
    expect_error(
        app.post(
            "/api/v1/staff/me/wechat",
            &zhang,
            json!({"code": "bad-code"}),
        )
        .await,
        StatusCode::UNAUTHORIZED,
        "wechat_code_invalid",
    )
    .await;
    expect_error(
        app.post("/api/v1/staff/me/wechat", &zhang, json!({"code": " "}))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;

    // A resident's token: 403; none: 401.
    let resident = app.resident_token("pretender").await;
    expect_error(
        bind(&app, &resident, "openid-pretender").await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    expect_error(
        app.delete("/api/v1/staff/me/wechat", &resident).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    expect_error(
        app.post(
            "/api/v1/staff/me/subscriptions",
            &resident,
            json!({"template_ids": [template_of(NotificationEvent::StaffOffer)]}),
        )
        .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    let anonymous = app
        .http
        .post(app.url("/api/v1/staff/me/wechat"))
        .json(&json!({"code": "whatever"}))
        .send()
        .await
        .unwrap();
    expect_error(anonymous, StatusCode::UNAUTHORIZED, "unauthenticated").await;
    let anonymous = app
        .http
        .delete(app.url("/api/v1/staff/me/wechat"))
        .send()
        .await
        .unwrap();
    expect_error(anonymous, StatusCode::UNAUTHORIZED, "unauthenticated").await;
}

#[tokio::test]
async fn an_urge_and_a_supervision_reach_the_bound_handler() {
    use NotificationEvent::*;
    let app = spawn().await;
    let zhang = app.staff_token("lawyer.zhang").await;
    let coordinator = app.staff_token("coordinator.sun").await;
    let resident = app.resident_token("supervised").await;
    let openid = "openid-staff-urged";
    bound(&app, &zhang, openid).await;
    // No credit for the offer's template: only the urge and the supervision
    // are sent.
    subscribe(&app, &zhang, &[StaffUrge, StaffSupervised]).await;
    let mut stream = Stream::open(&app.base_url, &zhang, None).await;
    let case = app.submit(&resident, "公司拖欠工资三个月怎么办？").await;
    stream.expect_kind("offer").await;
    let offer = app.wait_for_offer(&zhang, &case.id).await;
    let _: StaffCaseView = app.accept_offer(&zhang, &offer).await;

    expect_status(
        app.post(
            &format!("/api/v1/admin/cases/{}/urge", case.id),
            &coordinator,
            json!({"note": "居民多次来电，请今日答复"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    stream.expect_kind("urge").await;
    let urged = expect_nth(&app, openid, 1, StaffUrge).await;
    assert_eq!(urged["data"]["thing1"]["value"], "噪音扰民");
    assert!(!urged.to_string().contains("来电"));

    let deadline = Utc::now() + chrono::Duration::days(2);
    expect_status(
        app.post(
            &format!("/api/v1/admin/cases/{}/supervise", case.id),
            &coordinator,
            json!({"deadline": deadline, "note": "居民多次投诉，请尽快办结"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    stream.expect_kind("supervised").await;
    let supervised = expect_nth(&app, openid, 2, StaffSupervised).await;
    assert_eq!(supervised["data"]["time4"]["value"], in_beijing(deadline));
    assert!(!supervised.to_string().contains("投诉"));

    let zhang_id = staff_id(&app, "lawyer.zhang");
    redeliver_all(&app, zhang_id, openid).await;
    let sent = sent_to(&app, openid);
    let templates: Vec<&str> = sent
        .iter()
        .map(|m| m["template_id"].as_str().unwrap())
        .collect();
    assert_eq!(
        templates,
        [template_of(StaffUrge), template_of(StaffSupervised)]
    );
}
