//! Content security beyond consultations (issue 15, item 6): a tip's text
//! and every resident photo are checked into the one review queue. A tip
//! is flagged, never withheld from its officer; an anonymous reporter's
//! identity never reaches WeChat; a risky photo, reported by WeChat's
//! signed push, is hidden from its reporter until a person passes it.

use crate::tips::{jpeg_with_gps, officer_on_duty};
use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use sansuo_tests::views::{HeldTextList, ModerationDecisionView, TipReceipt, TipView};
use sansuo_tests::{TestApp, TestOptions, eventually, expect_error, expect_json, expect_status};
use sansuo_wechat_fake::FakeWechat;
use serde_json::{Value, json};
use uuid::Uuid;

const SCAM: &str = "有人冒充客服让老人刷单返利，已经骗走两万元";
const PUSH_TOKEN: &str = "push-token-of-the-content-test";
const PUBLIC_BASE: &str = "https://sansuo.test.invalid";

fn tip(app: &TestApp, description: &str, anonymous: bool) -> Value {
    json!({
        "community_id": app.demo.community_a.as_uuid(),
        "category_code": "ZP01",
        "description": description,
        "anonymous": anonymous,
    })
}

async fn queue(app: &TestApp) -> HeldTextList {
    let coordinator = app.staff_token("coordinator.sun").await;
    app.get_as("/api/v1/admin/moderation", &coordinator).await
}

/// The officer waits for the tip's offer, then signs for it.
async fn acknowledge(app: &TestApp, officer: &str, id: Uuid) -> TipView {
    let path = format!("/api/v1/staff/tips/{id}");
    eventually("the tip to be offered to the officer", || async {
        (app.get(&path, officer).await.status() == StatusCode::OK).then_some(())
    })
    .await;
    app.post_as(&format!("{path}/acknowledge"), officer, json!({}))
        .await
}

fn signed_push(timestamp: i64) -> String {
    let ts = timestamp.to_string();
    format!(
        "signature={}&timestamp={ts}&nonce=n0nce",
        FakeWechat::push_signature(PUSH_TOKEN, &ts, "n0nce")
    )
}

#[tokio::test]
async fn a_risky_tip_is_queued_flagged_and_still_reaches_its_officer_in_full() {
    let app = TestApp::spawn().await;
    officer_on_duty(&app).await;
    app.wechat.set_verdict("刷单", "risky", 20008);
    let resident = app.resident_token("scam-witness").await;
    let officer = app.staff_token("officer.liu").await;

    // The risky tip is taken, not refused: a scam report quotes the scam.
    let scam: TipReceipt = expect_json(
        app.post("/api/v1/tips", &resident, tip(&app, SCAM, false))
            .await,
        StatusCode::CREATED,
    )
    .await;
    let id = scam.tip.id;
    let checks = app.wechat.msg_sec_checks().await;
    assert_eq!(checks.len(), 1, "a named tip is checked");
    assert_eq!(checks[0]["openid"], "openid-scam-witness");

    let held = queue(&app).await;
    let item = held
        .items
        .iter()
        .find(|i| i.case_id == id)
        .expect("the risky tip is in the review queue");
    assert_eq!(
        (
            item.kind.as_str(),
            item.verdict.as_deref(),
            item.text.as_str()
        ),
        ("tip", Some("risky"), SCAM)
    );

    // The officer reads it whole, flagged.
    let view = acknowledge(&app, &officer, id).await;
    assert_eq!(view.description, SCAM);
    let staff = view.staff.expect("staff detail");
    assert_eq!(staff.content_flags.len(), 1);
    assert_eq!(
        (
            staff.content_flags[0].kind.as_str(),
            staff.content_flags[0].verdict.as_str()
        ),
        ("tip", "risky")
    );

    // A risky follow-up is queued too and still reaches the officer; a
    // plain one is not queued.
    for body in ["骗子又打电话来了，还是说刷单", "他们的电话号码换了"] {
        expect_status(
            app.post(
                &format!("/api/v1/tips/{id}/follow-ups"),
                &resident,
                json!({ "body": body }),
            )
            .await,
            StatusCode::OK,
        )
        .await;
    }
    let held = queue(&app).await;
    let follow_ups: Vec<_> = held
        .items
        .iter()
        .filter(|i| i.case_id == id && i.kind == "tip_message")
        .collect();
    assert_eq!(follow_ups.len(), 1, "{held:?}");
    assert_eq!(follow_ups[0].text, "骗子又打电话来了，还是说刷单");
    let seen: TipView = app
        .get_as(&format!("/api/v1/staff/tips/{id}"), &officer)
        .await;
    let bodies: Vec<&str> = seen.messages.iter().map(|m| m.body.as_str()).collect();
    assert!(
        bodies.contains(&"骗子又打电话来了，还是说刷单") && bodies.contains(&"他们的电话号码换了"),
        "{bodies:?}"
    );

    // A passing tip is checked and not queued.
    let plain: TipReceipt = expect_json(
        app.post(
            "/api/v1/tips",
            &resident,
            tip(&app, "小区门口有人发放虚假中奖传单", false),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(app.wechat.msg_sec_checks().await.len(), 4);
    assert!(
        queue(&app)
            .await
            .items
            .iter()
            .all(|i| i.case_id != plain.tip.id),
        "a passing tip is not queued"
    );

    // A coordinator clears the flag, once; it leaves the queue.
    let coordinator = app.staff_token("coordinator.sun").await;
    let decide = json!({"kind": "tip", "id": id, "approve": true});
    let decided: ModerationDecisionView = app
        .post_as(
            "/api/v1/admin/moderation/decisions",
            &coordinator,
            decide.clone(),
        )
        .await;
    assert_eq!(decided.moderation, "passed");
    expect_error(
        app.post("/api/v1/admin/moderation/decisions", &coordinator, decide)
            .await,
        StatusCode::CONFLICT,
        "state_conflict",
    )
    .await;
    let held = queue(&app).await;
    assert!(
        !held.items.iter().any(|i| i.kind == "tip" && i.id == id),
        "{held:?}"
    );
}

#[tokio::test]
async fn an_anonymous_tip_is_never_checked_under_its_reporters_identity() {
    let app = TestApp::spawn().await;
    app.wechat.set_verdict("刷单", "risky", 20008);
    let resident = app.resident_token("anonymous-witness").await;
    let receipt: TipReceipt = expect_json(
        app.post("/api/v1/tips", &resident, tip(&app, SCAM, true))
            .await,
        StatusCode::CREATED,
    )
    .await;
    let id = receipt.tip.id;
    let token = receipt.tracking_token.unwrap();
    expect_status(
        app.http
            .post(app.url("/api/v1/tips/tracked/follow-ups"))
            .header("X-Tracking-Token", &token)
            .json(&json!({"body": "还在继续刷单"}))
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    let photo = app
        .http
        .post(app.url("/api/v1/tips/tracked/photos"))
        .header("X-Tracking-Token", &token)
        .multipart(Form::new().part("photo", Part::bytes(jpeg_with_gps()).file_name("p.jpg")))
        .send()
        .await
        .unwrap();
    expect_status(photo, StatusCode::CREATED).await;

    // Nothing was sent to WeChat: its checks need the author's openid.
    assert!(app.wechat.msg_sec_checks().await.is_empty());
    assert!(app.wechat.media_checks().await.is_empty());
    // A person reads it instead: all three are queued `unchecked`.
    let held = queue(&app).await;
    let mut kinds: Vec<(&str, Option<&str>)> = held
        .items
        .iter()
        .filter(|i| i.case_id == id)
        .map(|i| (i.kind.as_str(), i.verdict.as_deref()))
        .collect();
    kinds.sort();
    assert_eq!(
        kinds,
        vec![
            ("photo", Some("unchecked")),
            ("tip", Some("unchecked")),
            ("tip_message", Some("unchecked")),
        ]
    );
    // An unchecked photo is not hidden from its reporter.
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
    assert_eq!(seen.photos.len(), 1);
    // And no row of the review queue names the reporter.
    let me: sansuo_tests::views::ResidentView = app.get_as("/api/v1/me", &resident).await;
    let hits: i64 = {
        use sea_orm::{ConnectionTrait, Statement};
        let db = app.app.store.db();
        let row = db
            .query_one_raw(Statement::from_sql_and_values(
                db.get_database_backend(),
                "SELECT COUNT(*) AS n FROM content_flags WHERE CAST(case_id AS TEXT) = $1 OR CAST(subject_id AS TEXT) = $1",
                [me.id.to_string().into()],
            ))
            .await
            .unwrap()
            .unwrap();
        row.try_get("", "n").unwrap()
    };
    assert_eq!(hits, 0);
}

#[tokio::test]
async fn a_photos_risky_push_queues_it_and_hides_it_from_its_reporter_not_its_officer() {
    let app = TestApp::spawn_with(TestOptions {
        env: vec![
            ("SANSUO_WECHAT_PUSH_TOKEN", PUSH_TOKEN.to_owned()),
            ("SANSUO_PUBLIC_BASE_URL", PUBLIC_BASE.to_owned()),
        ],
        ..TestOptions::default()
    })
    .await;
    officer_on_duty(&app).await;
    let resident = app.resident_token("photographer").await;
    let officer = app.staff_token("officer.liu").await;
    let receipt: TipReceipt = expect_json(
        app.post(
            "/api/v1/tips",
            &resident,
            tip(&app, "楼道里堆满了纸箱，挡住了消防通道", false),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let id = receipt.tip.id;
    let uploaded = app
        .http
        .post(app.url(&format!("/api/v1/tips/{id}/photos")))
        .bearer_auth(&resident)
        .multipart(Form::new().part("photo", Part::bytes(jpeg_with_gps()).file_name("p.jpg")))
        .send()
        .await
        .unwrap();
    let uploaded: sansuo_tests::views::PhotoReceipts =
        expect_json(uploaded, StatusCode::CREATED).await;
    let photo_id = uploaded.receipts[0].id;

    // The photo went to the asynchronous check under the reporter's openid,
    // as a signed link WeChat can fetch (and nobody else).
    let sent = app.wechat.media_checks().await;
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0]["openid"], "openid-photographer");
    let link = sent[0]["media_url"].as_str().unwrap();
    let path = link
        .strip_prefix(PUBLIC_BASE)
        .expect("a link under the public base");
    assert!(path.starts_with(&format!("/api/v1/wechat/media/{photo_id}?")));
    let fetched = app.http.get(app.url(path)).send().await.unwrap();
    assert_eq!(fetched.status(), StatusCode::OK);
    let forged = path.replace("sig=", "sig=0");
    let refused = app.http.get(app.url(&forged)).send().await.unwrap();
    expect_error(refused, StatusCode::NOT_FOUND, "photo_not_found").await;
    // The check is remembered by WeChat's trace id, against the photo.
    let trace: String = {
        use sea_orm::{ConnectionTrait, Statement};
        let db = app.app.store.db();
        let row = db
            .query_one_raw(Statement::from_sql_and_values(
                db.get_database_backend(),
                "SELECT trace_id FROM media_checks WHERE subject = $1",
                [format!("photo:{photo_id}").into()],
            ))
            .await
            .unwrap()
            .expect("the photo's check is registered");
        row.try_get("", "trace_id").unwrap()
    };
    let trace = trace.as_str();
    assert_eq!(
        app.app
            .store
            .moderation()
            .media_check(trace)
            .await
            .unwrap()
            .unwrap()
            .verdict,
        None
    );

    // A push with a bad signature is refused and changes nothing.
    let event = FakeWechat::media_check_event(trace, "risky", 20002);
    let now = chrono::Utc::now().timestamp();
    let push = |query: String| {
        app.http
            .post(app.url(&format!("/api/v1/wechat/push?{query}")))
            .json(&event)
            .send()
    };
    let forged = format!("signature={}&timestamp={now}&nonce=n0nce", "0".repeat(40));
    expect_error(
        push(forged).await.unwrap(),
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    assert!(queue(&app).await.items.iter().all(|i| i.kind != "photo"));
    let mine: TipView = app.get_as(&format!("/api/v1/tips/{id}"), &resident).await;
    assert_eq!(mine.photos.len(), 1, "nothing flagged yet");

    // The signed push queues the photo and hides it from its reporter.
    let ok = push(signed_push(now)).await.unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
    let held = queue(&app).await;
    let item = held
        .items
        .iter()
        .find(|i| i.kind == "photo")
        .expect("the risky photo is queued");
    assert_eq!(
        (item.id, item.case_id, item.verdict.as_deref()),
        (photo_id, id, Some("risky"))
    );
    let mine: TipView = app.get_as(&format!("/api/v1/tips/{id}"), &resident).await;
    assert!(mine.photos.is_empty(), "hidden from the reporter");
    expect_error(
        app.get(&format!("/api/v1/tips/{id}/photos/{photo_id}"), &resident)
            .await,
        StatusCode::NOT_FOUND,
        "photo_not_found",
    )
    .await;
    // The officer still sees it, flagged.
    let theirs = acknowledge(&app, &officer, id).await;
    assert_eq!(theirs.photos.len(), 1);
    let flags = theirs.staff.unwrap().content_flags;
    assert!(
        flags
            .iter()
            .any(|f| f.kind == "photo" && f.id == photo_id && f.verdict == "risky"),
        "{flags:?}"
    );
    expect_status(
        app.get(
            &format!("/api/v1/staff/tips/{id}/photos/{photo_id}"),
            &officer,
        )
        .await,
        StatusCode::OK,
    )
    .await;

    // A coordinator passes it: the reporter sees it again.
    let coordinator = app.staff_token("coordinator.sun").await;
    let passed: ModerationDecisionView = app
        .post_as(
            "/api/v1/admin/moderation/decisions",
            &coordinator,
            json!({"kind": "photo", "id": photo_id, "approve": true}),
        )
        .await;
    assert_eq!(passed.moderation, "passed");
    let mine: TipView = app.get_as(&format!("/api/v1/tips/{id}"), &resident).await;
    assert_eq!(mine.photos.len(), 1);
}

fn mediation(app: &TestApp, facts: &str) -> Value {
    json!({
        "community_id": app.demo.community_a.as_uuid(),
        "category_code": "LJ02",
        "facts": facts,
        "claims": "请对方停止并赔偿损失",
        "parties": [
            {"role": "applicant", "name": "王小明", "contact": "13812341234"},
            {"role": "respondent", "name": "赵大力", "contact": "13900001111"},
        ],
        "preferred_times": [{"from": "2026-12-01T01:00:00Z", "to": "2026-12-01T04:00:00Z"}],
        "private": true,
    })
}

#[tokio::test]
async fn a_mediations_facts_are_checked_doubtful_ones_queued_risky_ones_refused() {
    let app = TestApp::spawn().await;
    app.wechat.set_verdict("讨债", "review", 20002);
    app.wechat.set_verdict("赌博", "risky", 20001);
    let resident = app.resident_token("neighbour").await;

    let plain: sansuo_tests::views::MediationView = expect_json(
        app.post(
            "/api/v1/mediations",
            &resident,
            mediation(&app, "楼上卫生间漏水三个月，天花板发霉，多次沟通无果"),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let doubtful: sansuo_tests::views::MediationView = expect_json(
        app.post(
            "/api/v1/mediations",
            &resident,
            mediation(&app, "对方天天上门讨债，堵在门口不让出门"),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    expect_error(
        app.post(
            "/api/v1/mediations",
            &resident,
            mediation(&app, "邻居在家里聚众赌博，吵得整夜睡不着"),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "content_risky",
    )
    .await;
    let checks = app.wechat.msg_sec_checks().await;
    assert_eq!(checks.len(), 3);
    assert_eq!(checks[0]["openid"], "openid-neighbour");

    let held = queue(&app).await;
    let mine: Vec<_> = held
        .items
        .iter()
        .filter(|i| i.kind == "mediation")
        .collect();
    assert_eq!(mine.len(), 1, "{held:?}");
    assert_eq!(
        (mine[0].id, mine[0].verdict.as_deref()),
        (doubtful.id, Some("review"))
    );
    assert!(mine[0].text.contains("讨债"));
    assert!(held.items.iter().all(|i| i.case_id != plain.id));

    // Decided like any held text; outside the coordinator's street it is absent.
    let coordinator = app.staff_token("coordinator.sun").await;
    let rejected: ModerationDecisionView = app
        .post_as(
            "/api/v1/admin/moderation/decisions",
            &coordinator,
            json!({"kind": "mediation", "id": doubtful.id, "approve": false, "reason": "内容需人工核实"}),
        )
        .await;
    assert_eq!(rejected.moderation, "rejected");
    expect_error(
        app.post(
            "/api/v1/admin/moderation/decisions",
            &coordinator,
            json!({"kind": "mediation", "id": plain.id, "approve": true}),
        )
        .await,
        StatusCode::NOT_FOUND,
        "held_text_not_found",
    )
    .await;
}

#[tokio::test]
async fn a_rating_comment_is_checked_doubtful_ones_queued_risky_ones_refused() {
    let app = TestApp::spawn().await;
    app.wechat.set_verdict("骗钱", "review", 20008);
    app.wechat.set_verdict("赌博", "risky", 20001);
    let resident = app.resident_token("rater").await;
    let zhang = app.staff_token("lawyer.zhang").await;
    let case = app
        .submit(&resident, "楼下餐馆油烟太大，可以要求他们整改吗？")
        .await;
    let id = case.id;
    let offer = app.wait_for_offer(&zhang, &id).await;
    app.accept_offer(&zhang, &offer).await;
    expect_status(
        app.post(
            &format!("/api/v1/staff/consultations/{id}/messages"),
            &zhang,
            json!({"body": "可以向环保部门投诉，也可申请调解。"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let rating = format!("/api/v1/consultations/{id}/rating");
    expect_error(
        app.post(
            &rating,
            &resident,
            json!({"stars": 1, "comment": "律师在赌博"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "content_risky",
    )
    .await;
    assert!(queue(&app).await.items.iter().all(|i| i.kind != "rating"));
    expect_status(
        app.post(
            &rating,
            &resident,
            json!({"stars": 1, "comment": "感觉是骗钱的回答"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let held = queue(&app).await;
    let item = held
        .items
        .iter()
        .find(|i| i.kind == "rating")
        .expect("the doubtful comment is queued");
    assert_eq!(
        (item.id, item.verdict.as_deref(), item.text.as_str()),
        (id, Some("review"), "感觉是骗钱的回答")
    );
}

/// A resident's reason for reopening a consultation reaches the lawyer:
/// risky refused (nothing reopened), doubtful reopened and queued.
#[tokio::test]
async fn a_reopen_reason_is_checked_doubtful_ones_queued_risky_ones_refused() {
    let app = TestApp::spawn().await;
    app.wechat.set_verdict("骗钱", "review", 20008);
    app.wechat.set_verdict("赌博", "risky", 20001);
    let resident = app.resident_token("reopener").await;
    let zhang = app.staff_token("lawyer.zhang").await;
    let id = app
        .submit(&resident, "楼下餐馆油烟太大，可以要求他们整改吗？")
        .await
        .id;
    let offer = app.wait_for_offer(&zhang, &id).await;
    app.accept_offer(&zhang, &offer).await;
    for (verb, body) in [
        (
            "messages",
            json!({"body": "可以向环保部门投诉，也可申请调解。"}),
        ),
        ("resolve", json!({})),
    ] {
        let response = app
            .post(
                &format!("/api/v1/staff/consultations/{id}/{verb}"),
                &zhang,
                body,
            )
            .await;
        assert!(
            response.status().is_success(),
            "{verb}: {}",
            response.status()
        );
    }
    let reopen = format!("/api/v1/consultations/{id}/reopen");
    expect_error(
        app.post(&reopen, &resident, json!({"reason": "律师在赌博，要换人"}))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "content_risky",
    )
    .await;
    assert!(queue(&app).await.items.iter().all(|i| i.kind != "reopen"));
    expect_status(
        app.post(
            &reopen,
            &resident,
            json!({"reason": "感觉是骗钱的回答，想再问问"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let held = queue(&app).await;
    let item = held
        .items
        .iter()
        .find(|i| i.kind == "reopen")
        .expect("the doubtful reason is queued");
    assert_eq!(
        (item.id, item.verdict.as_deref(), item.text.as_str()),
        (id, Some("review"), "感觉是骗钱的回答，想再问问")
    );
}
