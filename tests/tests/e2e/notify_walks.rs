//! What each resident is sent over each service's walk: the exact list of
//! subscribe messages the fake WeChat received (template, openid, Chinese
//! status), each exactly once, also when every notify job is delivered a
//! second time; an anonymous tip's walk sends nothing and stores nothing;
//! a named reporter's follow-up on a closed tip still reaches the officer
//! who had it.

use crate::tips::officer_on_duty;
use chrono::Utc;
use reqwest::StatusCode;
use sansuo_domain::notify::{NotificationEvent, NotificationStatus};
use sansuo_domain::work::Work;
use sansuo_tests::views::{MediationView, TipReceipt, TipView};
use sansuo_tests::{TestApp, TestOptions, eventually, expect_json, expect_status};
use serde_json::{Value, json};
use std::time::Duration;
use uuid::Uuid;

/// The events residents are told of (staff's are e2e::staff_wechat's).
pub(crate) fn resident_events() -> Vec<NotificationEvent> {
    NotificationEvent::ALL
        .into_iter()
        .filter(|e| !e.is_staff())
        .collect()
}

pub(crate) fn template_of(event: NotificationEvent) -> String {
    format!("tmpl-{}", event.as_str())
}

/// One template per event; the session events show the session's time.
pub(crate) fn templates() -> String {
    let mut all = serde_json::Map::new();
    for event in resident_events() {
        let service = event.as_str().split('_').next().unwrap();
        let mut fields = json!({"thing1": "category", "phrase2": "status", "name3": "lawyer"});
        if matches!(
            event,
            NotificationEvent::MediationSessionBooked
                | NotificationEvent::MediationSessionRescheduled
        ) {
            fields["time4"] = json!("session_time");
        }
        all.insert(
            event.as_str().to_owned(),
            json!({
                "template_id": template_of(event),
                "page": format!("pages/{service}/detail?id={{case_id}}"),
                "fields": fields,
            }),
        );
    }
    Value::Object(all).to_string()
}

pub(crate) async fn spawn() -> TestApp {
    TestApp::spawn_with(TestOptions {
        env: vec![("SANSUO_WECHAT_TEMPLATES", templates())],
        ..TestOptions::default()
    })
    .await
}

/// The resident allows one message of each of these events (WeChat lets a
/// page ask for ten templates at a time).
pub(crate) async fn subscribe(app: &TestApp, resident: &str, events: &[NotificationEvent]) {
    let ids: Vec<String> = events.iter().map(|e| template_of(*e)).collect();
    for chunk in ids.chunks(10) {
        expect_status(
            app.post(
                "/api/v1/me/subscriptions",
                resident,
                json!({ "template_ids": chunk }),
            )
            .await,
            StatusCode::OK,
        )
        .await;
    }
}

/// The messages sent to this openid so far, in order.
pub(crate) fn sent_to(app: &TestApp, openid: &str) -> Vec<Value> {
    app.wechat
        .subscribe_delivered()
        .into_iter()
        .filter(|m| m["touser"] == openid)
        .collect()
}

/// Wait for the `n`th message to this openid and check it is `event`'s,
/// with its Chinese status; returns it.
pub(crate) async fn expect_nth(
    app: &TestApp,
    openid: &str,
    n: usize,
    event: NotificationEvent,
) -> Value {
    let messages = eventually(
        &format!("message {n} ({}) to {openid}", event.as_str()),
        || async {
            let sent = sent_to(app, openid);
            (sent.len() >= n).then_some(sent)
        },
    )
    .await;
    let message = messages[n - 1].clone();
    assert_eq!(
        message["template_id"],
        template_of(event).as_str(),
        "{message}"
    );
    assert_eq!(message["data"]["phrase2"]["value"], event.status_label());
    message
}

/// Every message the cases owe, delivered to the worker a second time
/// (a lost ack, a relay retry): nothing more reaches WeChat.
async fn redeliver_all(app: &TestApp, openid: &str, cases: &[Uuid]) {
    let before = sent_to(app, openid);
    let mut jobs = 0;
    for case in cases {
        let owed = app
            .app
            .store
            .notifications()
            .of_case((*case).into())
            .await
            .unwrap();
        for record in owed {
            assert_eq!(record.status, NotificationStatus::Sent, "{record:?}");
            let occurrence = (!record.event.once_per_case()).then(|| {
                record
                    .id
                    .rsplit(':')
                    .next()
                    .unwrap()
                    .parse::<Uuid>()
                    .unwrap()
            });
            let work = Work::Notify {
                event: record.event,
                case_id: record.case_id,
                occurrence,
            };
            assert_eq!(work.job_id(), format!("notify:{}", record.id));
            app.app
                .queue
                .enqueue(
                    sansuo_worker::ROUTING_QUEUE,
                    sansuo_worker::job(&work, None),
                    Utc::now(),
                )
                .await
                .unwrap();
            jobs += 1;
        }
    }
    assert!(jobs > 0);
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
async fn a_consultation_tells_its_resident_accepted_answered_and_resolved_once_each() {
    use NotificationEvent::*;
    let app = spawn().await;
    let resident = app.resident_token("asker").await;
    let openid = "openid-asker";
    subscribe(&app, &resident, &resident_events()).await;
    let zhang = app.staff_token("lawyer.zhang").await;
    let case = app.submit(&resident, "房东不退押金，我该怎么办？").await;
    let id = case.id;
    let offer = app.wait_for_offer(&zhang, &id).await;
    app.accept_offer(&zhang, &offer).await;
    let accepted = expect_nth(&app, openid, 1, ConsultationAccepted).await;
    assert_eq!(accepted["data"]["name3"]["value"], "张律师");
    assert_eq!(
        accepted["page"],
        format!("pages/consultation/detail?id={id}")
    );
    for body in ["请先保留租赁合同和转账记录。", "可向房屋所在地法院起诉。"]
    {
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
    expect_nth(&app, openid, 2, ConsultationAnswered).await;
    expect_status(
        app.post(
            &format!("/api/v1/staff/consultations/{id}/resolve"),
            &zhang,
            json!({}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    expect_nth(&app, openid, 3, ConsultationResolved).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let templates: Vec<Value> = sent_to(&app, openid)
        .iter()
        .map(|m| m["template_id"].clone())
        .collect();
    assert_eq!(
        templates,
        [
            template_of(ConsultationAccepted),
            template_of(ConsultationAnswered),
            template_of(ConsultationResolved),
        ],
        "the second answer sends nothing"
    );
    redeliver_all(&app, openid, &[id]).await;
}

async fn apply(app: &TestApp, resident: &str, facts: &str) -> Uuid {
    let body = json!({
        "community_id": app.demo.community_a.as_uuid(),
        "category_code": "LJ02",
        "facts": facts,
        "claims": "请对方修好漏水并赔偿维修费",
        "parties": [
            {"role": "applicant", "name": "王小明", "contact": "13812341234"},
            {"role": "respondent", "name": "赵大力", "contact": "13912345678"},
        ],
        "preferred_times": [{"from": "2026-12-01T01:00:00Z", "to": "2026-12-01T04:00:00Z"}],
        "private": true,
    });
    let applied: MediationView = expect_json(
        app.post("/api/v1/mediations", resident, body).await,
        StatusCode::CREATED,
    )
    .await;
    applied.id
}

async fn accept_mediation(app: &TestApp, mediator: &str, id: Uuid) {
    let path = format!("/api/v1/staff/mediations/{id}");
    eventually("the mediation to be offered", || async {
        (app.get(&path, mediator).await.status() == StatusCode::OK).then_some(())
    })
    .await;
    expect_status(
        app.post(&format!("{path}/accept"), mediator, json!({}))
            .await,
        StatusCode::OK,
    )
    .await;
}

async fn add_room(app: &TestApp) -> Uuid {
    app.app
        .store
        .staffing()
        .add_room(
            sansuo_store::staffing::NewRoom {
                unit: app.demo.community_a,
                name: "蒋家桥居委调解室",
                address: Some("欧阳路 100 号 2 楼"),
                opening_hours: None,
            },
            Utc::now(),
        )
        .await
        .unwrap()
        .id
}

#[tokio::test]
async fn a_mediation_tells_its_applicant_every_step_once_each() {
    use NotificationEvent::*;
    let app = spawn().await;
    let resident = app.resident_token("applicant").await;
    let openid = "openid-applicant";
    // Two bookings and three cases accepted in the walk: as many credits.
    subscribe(&app, &resident, &resident_events()).await;
    subscribe(
        &app,
        &resident,
        &[MediationSessionBooked, MediationAccepted, MediationAccepted],
    )
    .await;
    let chen = app.staff_token("mediator.chen").await;
    let room = add_room(&app).await;

    let id = apply(&app, &resident, "楼上卫生间漏水三个月，多次沟通无果").await;
    accept_mediation(&app, &chen, id).await;
    let accepted = expect_nth(&app, openid, 1, MediationAccepted).await;
    assert_eq!(accepted["data"]["name3"]["value"], "陈调解员");
    assert_eq!(accepted["page"], format!("pages/mediation/detail?id={id}"));
    let base = format!("/api/v1/staff/mediations/{id}");

    let booked: MediationView = expect_json(
        app.post(
            &format!("{base}/sessions"),
            &chen,
            json!({"room_id": room, "starts_at": "2027-12-07T01:00:00Z", "ends_at": "2027-12-07T02:00:00Z"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let first = booked.sessions[0].id;
    let message = expect_nth(&app, openid, 2, MediationSessionBooked).await;
    assert_eq!(message["data"]["time4"]["value"], "2027-12-07 09:00");

    let moved: MediationView = expect_json(
        app.post(
            &format!("{base}/sessions/{first}/reschedule"),
            &chen,
            json!({"starts_at": "2027-12-08T01:00:00Z", "ends_at": "2027-12-08T02:00:00Z", "reason": "申请人当天出差"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let message = expect_nth(&app, openid, 3, MediationSessionRescheduled).await;
    assert_eq!(message["data"]["time4"]["value"], "2027-12-08 09:00");
    let standing = moved
        .sessions
        .iter()
        .find(|s| s.status == "scheduled")
        .unwrap()
        .id;

    let again: MediationView = expect_json(
        app.post(
            &format!("{base}/sessions"),
            &chen,
            json!({"room_id": room, "starts_at": "2027-12-09T01:00:00Z", "ends_at": "2027-12-09T02:00:00Z"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let message = expect_nth(&app, openid, 4, MediationSessionBooked).await;
    assert_eq!(message["data"]["time4"]["value"], "2027-12-09 09:00");
    let second = again
        .sessions
        .iter()
        .find(|s| s.status == "scheduled" && s.id != standing)
        .unwrap()
        .id;
    expect_status(
        app.post(
            &format!("{base}/sessions/{second}/cancel"),
            &chen,
            json!({"reason": "一次会谈即可"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    expect_nth(&app, openid, 5, MediationSessionCancelled).await;

    // Held: no message of its own; the outcome is the news.
    app.begin_session(standing).await;
    expect_status(
        app.post(
            &format!("{base}/sessions/{standing}/held"),
            &chen,
            json!({"attendees": "申请人、被申请人", "minutes": "双方同意维修并赔偿"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    expect_status(
        app.post(
            &format!("{base}/agreement"),
            &chen,
            json!({
                "kind": "written",
                "terms": "楼上住户于12月20日前修好漏水并赔偿500元",
                "performance_method": "一次性转账",
                "perform_by": "2026-12-20",
                "effective_on": "2026-12-08",
            }),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    expect_nth(&app, openid, 6, MediationAgreed).await;
    expect_status(
        app.post(
            &format!("{base}/visit"),
            &chen,
            json!({"performance": "performed", "satisfaction": 5}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    expect_nth(&app, openid, 7, MediationVisited).await;

    // Another case ends without agreement; a third goes up a tier.
    let ended = apply(&app, &resident, "邻居违章搭建遮挡采光，协商无果").await;
    accept_mediation(&app, &chen, ended).await;
    expect_nth(&app, openid, 8, MediationAccepted).await;
    expect_status(
        app.post(
            &format!("/api/v1/staff/mediations/{ended}/terminate"),
            &chen,
            json!({"reason": "双方分歧过大，无法达成一致", "routes": ["court"]}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    expect_nth(&app, openid, 9, MediationTerminated).await;
    let climbed = apply(&app, &resident, "物业费纠纷涉及多户，需专业调解").await;
    accept_mediation(&app, &chen, climbed).await;
    expect_nth(&app, openid, 10, MediationAccepted).await;
    expect_status(
        app.post(
            &format!("/api/v1/staff/mediations/{climbed}/escalate"),
            &chen,
            json!({"reason": "涉及法律专业问题，需专业调解员"}),
        )
        .await,
        StatusCode::NO_CONTENT,
    )
    .await;
    expect_nth(&app, openid, 11, MediationEscalated).await;

    tokio::time::sleep(Duration::from_millis(500)).await;
    let templates: Vec<String> = sent_to(&app, openid)
        .iter()
        .map(|m| m["template_id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        templates,
        [
            MediationAccepted,
            MediationSessionBooked,
            MediationSessionRescheduled,
            MediationSessionBooked,
            MediationSessionCancelled,
            MediationAgreed,
            MediationVisited,
            MediationAccepted,
            MediationTerminated,
            MediationAccepted,
            MediationEscalated,
        ]
        .map(template_of)
    );
    redeliver_all(&app, openid, &[id, ended, climbed]).await;
}

pub(crate) async fn report(app: &TestApp, resident: &str, anonymous: bool) -> TipReceipt {
    expect_json(
        app.post(
            "/api/v1/tips",
            resident,
            json!({
                "community_id": app.demo.community_a.as_uuid(),
                "category_code": "ZP01",
                "description": "3号楼东侧消防通道被电动车和杂物堵死了",
                "location": {"lat": 31.2646, "lng": 121.5052, "address": "3号楼东侧"},
                "anonymous": anonymous,
            }),
        )
        .await,
        StatusCode::CREATED,
    )
    .await
}

pub(crate) async fn acknowledge(app: &TestApp, officer: &str, id: Uuid) {
    let path = format!("/api/v1/staff/tips/{id}");
    eventually("the tip to be offered to the officer", || async {
        (app.get(&path, officer).await.status() == StatusCode::OK).then_some(())
    })
    .await;
    expect_status(
        app.post(&format!("{path}/acknowledge"), officer, json!({}))
            .await,
        StatusCode::OK,
    )
    .await;
}

pub(crate) async fn step(app: &TestApp, officer: &str, id: Uuid, verb: &str, body: Value) {
    expect_status(
        app.post(&format!("/api/v1/staff/tips/{id}/{verb}"), officer, body)
            .await,
        StatusCode::OK,
    )
    .await;
}

#[tokio::test]
async fn a_named_tip_tells_its_reporter_each_step_and_a_follow_up_reaches_the_officer() {
    use NotificationEvent::*;
    let app = spawn().await;
    officer_on_duty(&app).await;
    let resident = app.resident_token("named-tipper").await;
    let openid = "openid-named-tipper";
    subscribe(&app, &resident, &resident_events()).await;
    subscribe(&app, &resident, &[TipAcknowledged]).await;
    let officer = app.staff_token("officer.liu").await;
    let liu = app.demo.account("officer.liu").id;

    let id = report(&app, &resident, false).await.tip.id;
    acknowledge(&app, &officer, id).await;
    let acknowledged = expect_nth(&app, openid, 1, TipAcknowledged).await;
    assert_eq!(acknowledged["data"]["name3"]["value"], "刘警官");
    assert_eq!(acknowledged["page"], format!("pages/tip/detail?id={id}"));
    step(
        &app,
        &officer,
        id,
        "triage",
        json!({"verdict": "valid", "note": "已核实"}),
    )
    .await;
    expect_nth(&app, openid, 2, TipValid).await;
    // Verify and action are the officer's own steps: no message.
    step(&app, &officer, id, "verify", json!({})).await;
    step(&app, &officer, id, "action", json!({"note": "已清理通道"})).await;
    step(
        &app,
        &officer,
        id,
        "close",
        json!({"note": "通道已清理，感谢您的举报"}),
    )
    .await;
    expect_nth(&app, openid, 3, TipClosed).await;

    // The reporter writes after the close: the tip is reopened, and the
    // officer who had it is told at once, though it is no longer theirs.
    let head = app.app.store.staff_events().head(liu).await.unwrap();
    let followed: TipView = expect_json(
        app.post(
            &format!("/api/v1/tips/{id}/follow-ups"),
            &resident,
            json!({"body": "今晚又堵上了"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_ne!(followed.status, "closed");
    let told = app.app.store.staff_events().after(liu, head).await.unwrap();
    let follow_up = told
        .iter()
        .find(|e| e.kind.as_str() == "follow_up")
        .unwrap_or_else(|| panic!("no follow_up among {told:?}"));
    let data: Value = serde_json::from_str(&follow_up.data).unwrap();
    assert_eq!(data["case_id"], id.to_string());
    assert_eq!(data["service"], "tip");
    expect_nth(&app, openid, 4, TipReopened).await;

    acknowledge(&app, &officer, id).await;
    expect_nth(&app, openid, 5, TipAcknowledged).await;
    step(
        &app,
        &officer,
        id,
        "triage",
        json!({"verdict": "unfounded", "note": "现场无堵塞"}),
    )
    .await;
    expect_nth(&app, openid, 6, TipUnfounded).await;

    // Another named tip, not a police matter: referred.
    subscribe(&app, &resident, &[TipAcknowledged]).await;
    let referred = report(&app, &resident, false).await.tip.id;
    acknowledge(&app, &officer, referred).await;
    expect_nth(&app, openid, 7, TipAcknowledged).await;
    step(
        &app,
        &officer,
        referred,
        "triage",
        json!({"verdict": "not_police_matter", "referred_to": "12345 市民服务热线"}),
    )
    .await;
    expect_nth(&app, openid, 8, TipReferred).await;

    tokio::time::sleep(Duration::from_millis(500)).await;
    let templates: Vec<String> = sent_to(&app, openid)
        .iter()
        .map(|m| m["template_id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        templates,
        [
            TipAcknowledged,
            TipValid,
            TipClosed,
            TipReopened,
            TipAcknowledged,
            TipUnfounded,
            TipAcknowledged,
            TipReferred,
        ]
        .map(template_of)
    );
    redeliver_all(&app, openid, &[id, referred]).await;
}

#[tokio::test]
async fn an_anonymous_tip_sends_nothing_and_stores_no_notification() {
    let app = spawn().await;
    officer_on_duty(&app).await;
    let resident = app.resident_token("anonymous-tipper").await;
    // Even a resident who allowed every message is not told of an
    // anonymous tip: nothing links it to them.
    subscribe(&app, &resident, &resident_events()).await;
    let officer = app.staff_token("officer.liu").await;
    let receipt = report(&app, &resident, true).await;
    let token = receipt.tracking_token.unwrap();
    let id = receipt.tip.id;
    acknowledge(&app, &officer, id).await;
    step(
        &app,
        &officer,
        id,
        "triage",
        json!({"verdict": "valid", "note": "已核实"}),
    )
    .await;
    step(&app, &officer, id, "close", json!({"note": "已处理"})).await;
    let followed = app
        .http
        .post(app.url("/api/v1/tips/tracked/follow-ups"))
        .header("X-Tracking-Token", &token)
        .json(&json!({"body": "今晚又堵上了"}))
        .send()
        .await
        .unwrap();
    expect_status(followed, StatusCode::OK).await;
    acknowledge(&app, &officer, id).await;
    step(
        &app,
        &officer,
        id,
        "triage",
        json!({"verdict": "unfounded", "note": "无堵塞"}),
    )
    .await;
    // Let the worker drain everything the walk queued.
    eventually("the walk's jobs to be handled", || async {
        let stats = app
            .app
            .queue
            .stats(sansuo_worker::ROUTING_QUEUE)
            .await
            .ok()?;
        let backlog = app.app.store.outbox().backlog().await.ok()?;
        (stats.due == 0 && backlog == 0).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        app.wechat.subscribe_sends().await.is_empty(),
        "nothing sent for an anonymous tip"
    );
    assert!(
        app.app
            .store
            .notifications()
            .of_case(id.into())
            .await
            .unwrap()
            .is_empty(),
        "no notification row for an anonymous tip"
    );
    // The tracked view shows the status in Chinese.
    let seen: TipView = expect_json(
        app.http
            .get(app.url("/api/v1/tips/tracked"))
            .header("X-Tracking-Token", &token)
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(seen.status, "unfounded");
    assert_eq!(seen.status_note, "经核查，未发现相关情况。");
    // In English for a client that prefers it.
    let seen: TipView = expect_json(
        app.http
            .get(app.url("/api/v1/tips/tracked"))
            .header("X-Tracking-Token", &token)
            .header("Accept-Language", "en-US,en;q=0.9")
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(seen.status_note, "Checked: no grounds were found.");
}
