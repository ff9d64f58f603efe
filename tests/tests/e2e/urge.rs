//! 催办 (urging), for consultations, mediations and tips: a resident (or a
//! tip's reporter, named or by tracking token) is refused before the
//! first-response target has passed and within a day of the last urge; a
//! coordinator urges any open case in their subtree at any time; whoever
//! has the case (its owner, or the holder of its open offer) is told on
//! their stream; another resident's or another street's ids answer 404;
//! an anonymous reporter's urge keeps nothing of them.

use crate::staff_events::{Stream, as_uuid, spawn_with};
use crate::tips::officer_on_duty;
use reqwest::StatusCode;
use sansuo_store::entity::case_event;
use sansuo_store::sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use sansuo_tests::views::StaffCaseView;
use sansuo_tests::world::StreetB;
use sansuo_tests::{TestApp, TestOptions, expect_error, expect_status};
use serde_json::{Value, json};
use std::time::Duration;
use uuid::Uuid;

/// Long past any first-response target, in business time.
const LONG_AGO_DAYS: i64 = 30;

async fn urge(app: &TestApp, path: &str, token: &str) -> reqwest::Response {
    app.post(path, token, json!({})).await
}

/// The `urge` event on `stream`: for `case_id` of `service`, by `by`, and
/// nothing but those three.
async fn expect_urge(stream: &mut Stream, case_id: Uuid, service: &str, by: &str) {
    let event = stream.expect_kind("urge").await;
    assert_eq!(as_uuid(&event.data["case_id"]), case_id);
    assert_eq!(event.data["service"], service);
    assert_eq!(event.data["by"], by);
    let keys: Vec<&String> = event.data.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["by", "case_id", "service"]);
}

async fn urged_events(app: &TestApp, case_id: Uuid) -> Vec<case_event::Model> {
    case_event::Entity::find()
        .filter(case_event::Column::CaseId.eq(case_id))
        .filter(case_event::Column::Action.eq("urged"))
        .all(app.app.store.db())
        .await
        .unwrap()
}

#[tokio::test]
async fn a_consultation_is_urged_by_its_resident_once_late_and_by_a_coordinator_any_time() {
    let app = spawn_with(TestOptions::default()).await;
    let zhang = app.staff_token("lawyer.zhang").await;
    let coordinator = app.staff_token("coordinator.sun").await;
    let resident = app.resident_token("urging").await;
    let stranger = app.resident_token("stranger").await;
    let mut stream = Stream::open(&app.base_url, &zhang, None).await;
    let case = app.submit(&resident, "公司拖欠工资三个月怎么办？").await;
    stream.expect_kind("offer").await;
    let offer = app.wait_for_offer(&zhang, &case.id).await;
    let _: StaffCaseView = app.accept_offer(&zhang, &offer).await;
    let path = format!("/api/v1/consultations/{}/urge", case.id);

    // Within the first-response target: refused, saying when.
    let early = expect_error(
        urge(&app, &path, &resident).await,
        StatusCode::CONFLICT,
        "urge_too_early",
    )
    .await;
    assert!(early.error.message.contains("北京时间"), "{early:?}");
    // Someone else's case, or the id under another service: not found.
    expect_error(
        urge(&app, &path, &stranger).await,
        StatusCode::NOT_FOUND,
        "consultation_not_found",
    )
    .await;
    expect_error(
        urge(
            &app,
            &format!("/api/v1/mediations/{}/urge", case.id),
            &resident,
        )
        .await,
        StatusCode::NOT_FOUND,
        "mediation_not_found",
    )
    .await;
    assert!(urged_events(&app, case.id).await.is_empty());

    // Past the target: accepted, and the owner is told.
    app.backdate_case(case.id, LONG_AGO_DAYS).await;
    let urged: Value = expect_status(urge(&app, &path, &resident).await, StatusCode::OK).await;
    assert_eq!(urged["urge_count"], 1);
    expect_urge(&mut stream, case.id, "consultation", "resident").await;

    // Again within the day: refused with Retry-After; nobody is told.
    let again = urge(&app, &path, &resident).await;
    let retry_after: u64 = again.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry_after > 23 * 3600, "{retry_after}");
    expect_error(again, StatusCode::TOO_MANY_REQUESTS, "urge_too_soon").await;
    stream.expect_quiet(Duration::from_millis(600)).await;

    // A coordinator urges any time, with a note kept internal.
    let admin_path = format!("/api/v1/admin/cases/{}/urge", case.id);
    let by_coordinator: Value = expect_status(
        app.post(
            &admin_path,
            &coordinator,
            json!({"note": "居民多次来电，请今日答复"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(by_coordinator["urge_count"], 2);
    expect_urge(&mut stream, case.id, "consultation", "coordinator").await;

    // Another street's coordinator: the path id is not found.
    StreetB::build(&app).await;
    let other = StreetB::token(&app, StreetB::COORDINATOR).await;
    expect_error(
        app.post(&admin_path, &other, json!({})).await,
        StatusCode::NOT_FOUND,
        "case_not_found",
    )
    .await;

    // The staff view counts the urges; the resident's history shows their
    // own urge only (the coordinator's and its note are staff business).
    let staff: Value = app
        .get_as(&format!("/api/v1/staff/consultations/{}", case.id), &zhang)
        .await;
    assert_eq!(staff["urge_count"], 2);
    assert!(staff["last_urged_at"].is_string());
    let mine: Value = app
        .get_as(&format!("/api/v1/consultations/{}", case.id), &resident)
        .await;
    let public_urges = mine["history"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "urged")
        .count();
    assert_eq!(public_urges, 1);
    assert!(!mine.to_string().contains("多次来电"));
    assert_eq!(urged_events(&app, case.id).await.len(), 2);

    // Withdrawn: nothing left to urge, for anyone.
    expect_status(
        app.post(
            &format!("/api/v1/consultations/{}/withdraw", case.id),
            &resident,
            json!({}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    expect_error(
        app.post(&admin_path, &coordinator, json!({})).await,
        StatusCode::CONFLICT,
        "case_not_open",
    )
    .await;
}

#[tokio::test]
async fn a_mediation_is_urged_and_whoever_holds_its_offer_is_told() {
    let app = spawn_with(TestOptions::default()).await;
    let chen = app.staff_token("mediator.chen").await;
    let coordinator = app.staff_token("coordinator.sun").await;
    let resident = app.resident_token("mediation-urger").await;
    let stranger = app.resident_token("mediation-stranger").await;
    let mut stream = Stream::open(&app.base_url, &chen, None).await;
    let mediation: Value = expect_status(
        app.post(
            "/api/v1/mediations",
            &resident,
            json!({
                "community_id": app.demo.community_a.as_uuid(),
                "category_code": "LJ02",
                "facts": "楼上漏水，多次协商不成，天花板已经发霉",
                "claims": "请对方修好漏水",
                "parties": [
                    {"role": "applicant", "name": "王小明", "contact": "13812341234"},
                    {"role": "respondent", "name": "赵大力", "contact": "13900001111"},
                ],
                "preferred_times": [{"from": "2026-12-01T01:00:00Z", "to": "2026-12-01T04:00:00Z"}],
                "private": true,
            }),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let id = as_uuid(&mediation["id"]);
    stream.expect_kind("offer").await;
    let path = format!("/api/v1/mediations/{id}/urge");

    expect_error(
        urge(&app, &path, &resident).await,
        StatusCode::CONFLICT,
        "urge_too_early",
    )
    .await;
    expect_error(
        urge(&app, &path, &stranger).await,
        StatusCode::NOT_FOUND,
        "mediation_not_found",
    )
    .await;

    // Nobody owns it yet: the mediator holding its offer is told.
    app.backdate_case(id, LONG_AGO_DAYS).await;
    expect_status(urge(&app, &path, &resident).await, StatusCode::OK).await;
    expect_urge(&mut stream, id, "mediation", "resident").await;
    expect_error(
        urge(&app, &path, &resident).await,
        StatusCode::TOO_MANY_REQUESTS,
        "urge_too_soon",
    )
    .await;

    let admin_path = format!("/api/v1/admin/cases/{id}/urge");
    expect_status(
        app.post(&admin_path, &coordinator, json!({})).await,
        StatusCode::OK,
    )
    .await;
    expect_urge(&mut stream, id, "mediation", "coordinator").await;
    StreetB::build(&app).await;
    let other = StreetB::token(&app, StreetB::COORDINATOR).await;
    expect_error(
        app.post(&admin_path, &other, json!({})).await,
        StatusCode::NOT_FOUND,
        "case_not_found",
    )
    .await;
    let staff: Value = app
        .get_as(&format!("/api/v1/staff/mediations/{id}"), &chen)
        .await;
    assert_eq!(staff["urge_count"], 2);
    // Nothing personal on the wire of the stream.
    stream.expect_quiet(Duration::from_millis(300)).await;
}

#[tokio::test]
async fn tips_are_urged_by_name_and_by_tracking_token_and_the_anonymous_urge_keeps_nothing_of_the_reporter()
 {
    let app = spawn_with(TestOptions::default()).await;
    officer_on_duty(&app).await;
    let liu = app.staff_token("officer.liu").await;
    let coordinator = app.staff_token("coordinator.sun").await;
    let resident = app.resident_token("tip-urger").await;
    let stranger = app.resident_token("tip-stranger").await;
    let mut stream = Stream::open(&app.base_url, &liu, None).await;
    let report = |anonymous: bool, description: &'static str| {
        let app = &app;
        let resident = &resident;
        async move {
            let tip: Value = expect_status(
                app.post(
                    "/api/v1/tips",
                    resident,
                    json!({
                        "community_id": app.demo.community_a.as_uuid(),
                        "category_code": "ZP01",
                        "description": description,
                        "location": {"lat": 31.2646, "lng": 121.5052, "address": "3号楼东侧"},
                        "anonymous": anonymous,
                    }),
                )
                .await,
                StatusCode::CREATED,
            )
            .await;
            tip
        }
    };

    // Named: through the resident's own tip path.
    let named = report(false, "3号楼东侧消防通道被电动车和杂物堵死了").await;
    let named_id = as_uuid(&named["tip"]["id"]);
    stream.expect_kind("offer").await;
    let path = format!("/api/v1/tips/{named_id}/urge");
    expect_error(
        urge(&app, &path, &resident).await,
        StatusCode::CONFLICT,
        "urge_too_early",
    )
    .await;
    expect_error(
        urge(&app, &path, &stranger).await,
        StatusCode::NOT_FOUND,
        "tip_not_found",
    )
    .await;
    app.backdate_case(named_id, LONG_AGO_DAYS).await;
    expect_status(urge(&app, &path, &resident).await, StatusCode::OK).await;
    expect_urge(&mut stream, named_id, "tip", "resident").await;
    expect_error(
        urge(&app, &path, &resident).await,
        StatusCode::TOO_MANY_REQUESTS,
        "urge_too_soon",
    )
    .await;

    // Anonymous: with the tracking token only.
    let anonymous = report(true, "小区门口夜间有人聚集赌博，很吵").await;
    let anonymous_id = as_uuid(&anonymous["tip"]["id"]);
    let token = anonymous["tracking_token"].as_str().unwrap().to_owned();
    stream.expect_kind("offer").await;
    let tracked = |token: String| {
        let app = &app;
        async move {
            app.http
                .post(app.url("/api/v1/tips/tracked/urge"))
                .header("X-Tracking-Token", token)
                .header("X-Request-Id", "reporter-phone-13812341234")
                .send()
                .await
                .unwrap()
        }
    };
    expect_error(
        tracked(token.clone()).await,
        StatusCode::CONFLICT,
        "urge_too_early",
    )
    .await;
    expect_error(
        tracked("not-a-real-tracking-token".into()).await,
        StatusCode::NOT_FOUND,
        "tip_not_found",
    )
    .await;
    app.backdate_case(anonymous_id, LONG_AGO_DAYS).await;
    expect_status(tracked(token.clone()).await, StatusCode::OK).await;
    let event = stream.expect_kind("urge").await;
    assert_eq!(as_uuid(&event.data["case_id"]), anonymous_id);
    assert_eq!(event.data["by"], "resident");
    assert!(!event.data.to_string().contains(&token));
    // The history keeps that the reporter urged, and nothing of who they are.
    let events = urged_events(&app, anonymous_id).await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].actor_kind, "reporter");
    assert_eq!(events[0].actor_id, None);
    assert_eq!(events[0].request_id, None);
    let staff: Value = app
        .get_as(&format!("/api/v1/staff/tips/{anonymous_id}"), &liu)
        .await;
    assert_eq!(staff["staff"]["urge_count"], 1);
    let urged = staff["history"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "urged")
        .cloned()
        .unwrap();
    assert_eq!(urged["actor"], "reporter");
    expect_error(
        tracked(token).await,
        StatusCode::TOO_MANY_REQUESTS,
        "urge_too_soon",
    )
    .await;

    // A coordinator, any time; another street's: not found.
    let admin_path = format!("/api/v1/admin/cases/{anonymous_id}/urge");
    expect_status(
        app.post(&admin_path, &coordinator, json!({})).await,
        StatusCode::OK,
    )
    .await;
    expect_urge(&mut stream, anonymous_id, "tip", "coordinator").await;
    StreetB::build(&app).await;
    let other = StreetB::token(&app, StreetB::COORDINATOR).await;
    expect_error(
        app.post(&admin_path, &other, json!({})).await,
        StatusCode::NOT_FOUND,
        "case_not_found",
    )
    .await;
}
