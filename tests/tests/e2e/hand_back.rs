//! 退单 for mediations and tips: the owner gives the case back with a
//! reason, it is routed again to someone else (never back to them), the
//! reason stays with staff, and only the owner, only in an untouched state,
//! may do it. The consultation's hand-back is proved in `engine`.

use chrono::{Duration, Utc};
use reqwest::StatusCode;
use sansuo_store::entity::offer;
use sansuo_tests::world::StreetB;
use sansuo_tests::{TestApp, eventually, expect_error, expect_json, expect_status};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use uuid::Uuid;

const REASON: &str = "申请人是本人亲属，需要回避";

async fn new_staff(app: &TestApp, username: &str, role: &str, unit: Uuid) -> Uuid {
    let admin = app.staff_token("admin").await;
    let created: Value = expect_json(
        app.post(
            "/api/v1/admin/staff",
            &admin,
            json!({
                "username": username,
                "password": "sansuo-demo",
                "display_name": username,
                "role": role,
                "org_unit_id": unit,
            }),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    created["id"].as_str().unwrap().parse().unwrap()
}

async fn offers_of(app: &TestApp, case_id: Uuid) -> Vec<offer::Model> {
    offer::Entity::find()
        .filter(offer::Column::CaseId.eq(case_id))
        .all(app.app.store.db())
        .await
        .unwrap()
}

/// Waits until the case is offered to `to` and checks it never was again to `not`.
async fn offered_to_other(app: &TestApp, case_id: Uuid, to: Uuid, not: Uuid) {
    eventually("the case offered to someone else", || async {
        offers_of(app, case_id)
            .await
            .into_iter()
            .find(|o| o.status == "pending" && o.staff_id == to)
    })
    .await;
    let offers = offers_of(app, case_id).await;
    assert!(
        !offers
            .iter()
            .any(|o| o.staff_id == not && o.status == "pending"),
        "offered again to who handed it back: {offers:?}"
    );
    assert!(
        offers
            .iter()
            .any(|o| o.staff_id == not && o.status == "returned"),
        "the hand-back is recorded as a returned offer: {offers:?}"
    );
}

/// The event of the hand-back, with its reason, in a staff view's history.
fn hand_back_event(view: &Value) -> Option<Value> {
    view["history"]
        .as_array()?
        .iter()
        .find(|e| e["action"] == "hand_back")
        .cloned()
}

/// Who may not hand the case back at `path`: other roles (403 `forbidden`)
/// and other handlers of the same role, of this street or another (404
/// before any rule on the body); then the owner with no real reason (422).
async fn only_the_owner_with_a_reason(
    app: &TestApp,
    path: &str,
    owner: &str,
    other_roles: [&str; 2],
    same_role: [String; 2],
    not_found: &str,
) {
    for username in other_roles {
        let token = app.staff_token(username).await;
        let body = json!({"reason": REASON});
        expect_error(
            app.post(path, &token, body).await,
            StatusCode::FORBIDDEN,
            "forbidden",
        )
        .await;
    }
    for token in same_role {
        let body = json!({"reason": REASON});
        expect_error(
            app.post(path, &token, body).await,
            StatusCode::NOT_FOUND,
            not_found,
        )
        .await;
    }
    for reason in ["", "x"] {
        expect_error(
            app.post(path, owner, json!({"reason": reason})).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
    }
}

/// The resident's view shows the case waiting again and nothing of the
/// hand-back; the coordinator's shows the event with its reason (`key`).
async fn reason_for_staff_only(
    app: &TestApp,
    resident_path: &str,
    resident: &str,
    staff_path: &str,
    key: &str,
) {
    let seen = expect_status(app.get(resident_path, resident).await, StatusCode::OK).await;
    assert!(!seen.to_string().contains(REASON), "{seen}");
    assert!(hand_back_event(&seen).is_none(), "{seen}");
    assert!(
        ["pooled", "offered"].contains(&seen["status"].as_str().unwrap()),
        "{seen}"
    );
    let coordinator = app.staff_token("coordinator.sun").await;
    let supervised = expect_status(app.get(staff_path, &coordinator).await, StatusCode::OK).await;
    let event = hand_back_event(&supervised).expect("the hand-back in staff history");
    assert_eq!(event[key], REASON);
}

async fn apply_mediation(app: &TestApp, resident: &str) -> Uuid {
    let view: Value = expect_json(
        app.post(
            "/api/v1/mediations",
            resident,
            json!({
                "community_id": app.demo.community_a.as_uuid(),
                "category_code": "LJ02",
                "facts": "楼上漏水导致天花板发霉，多次协商未果",
                "claims": "请对方修好漏水",
                "parties": [
                    {"role": "applicant", "name": "王小明", "contact": "13812341234"},
                    {"role": "respondent", "name": "赵大力", "contact": "13912345678"},
                ],
                "private": true,
            }),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    view["id"].as_str().unwrap().parse().unwrap()
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

#[tokio::test]
async fn a_mediator_hands_a_mediation_back_and_it_goes_to_another_mediator() {
    let app = TestApp::spawn().await;
    let b = StreetB::build(&app).await;
    let resident = app.resident_token("hand-back-mediation").await;
    let chen = app.staff_token("mediator.chen").await;
    let chen_id = app.demo.account("mediator.chen").id.as_uuid();
    let id = apply_mediation(&app, &resident).await;
    accept_mediation(&app, &chen, id).await;
    // A second mediator on the same tier only now, so the first offer was chen's.
    let zhou_id = new_staff(
        &app,
        "mediator.zhou",
        "mediator",
        app.demo.community_a.as_uuid(),
    )
    .await;
    let zhou = app.staff_token("mediator.zhou").await;
    let path = format!("/api/v1/staff/mediations/{id}/hand-back");

    only_the_owner_with_a_reason(
        &app,
        &path,
        &chen,
        ["lawyer.zhao", "officer.liu"],
        [zhou.clone(), StreetB::token(&app, StreetB::MEDIATOR).await],
        "mediation_not_found",
    )
    .await;
    // Another street's mediation in the path: not found for chen.
    let b_resident = app.resident_token("hand-back-b").await;
    let b_case: Value = expect_json(
        app.post(
            "/api/v1/mediations",
            &b_resident,
            json!({
                "community_id": b.community,
                "category_code": "LJ02",
                "facts": "邻居装修噪音扰民，多次沟通无果",
                "claims": "请对方遵守施工时间",
                "parties": [
                    {"role": "applicant", "name": "李四", "contact": "13812340000"},
                    {"role": "respondent", "name": "周五"},
                ],
            }),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let b_id: Uuid = b_case["id"].as_str().unwrap().parse().unwrap();
    let b_mediator = StreetB::token(&app, StreetB::MEDIATOR).await;
    accept_mediation(&app, &b_mediator, b_id).await;
    expect_error(
        app.post(
            &format!("/api/v1/staff/mediations/{b_id}/hand-back"),
            &chen,
            json!({"reason": REASON}),
        )
        .await,
        StatusCode::NOT_FOUND,
        "mediation_not_found",
    )
    .await;

    expect_status(
        app.post(&path, &chen, json!({"reason": REASON})).await,
        StatusCode::NO_CONTENT,
    )
    .await;
    offered_to_other(&app, id, zhou_id, chen_id).await;
    expect_error(
        app.get(&format!("/api/v1/staff/mediations/{id}"), &chen)
            .await,
        StatusCode::NOT_FOUND,
        "mediation_not_found",
    )
    .await;
    reason_for_staff_only(
        &app,
        &format!("/api/v1/mediations/{id}"),
        &resident,
        &format!("/api/v1/staff/mediations/{id}"),
        "reason",
    )
    .await;

    // Zhou takes it; once the case has an outcome it cannot be handed back.
    accept_mediation(&app, &zhou, id).await;
    expect_status(
        app.post(
            &format!("/api/v1/staff/mediations/{id}/terminate"),
            &zhou,
            json!({"reason": "双方分歧过大，无法达成协议", "routes": ["court"]}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    expect_error(
        app.post(&path, &zhou, json!({"reason": REASON})).await,
        StatusCode::CONFLICT,
        "state_conflict",
    )
    .await;
    // Closed and reopened, it is accepted again but keeps its outcome: still
    // not to be handed back.
    let base = format!("/api/v1/staff/mediations/{id}");
    let closed = app.post(&format!("{base}/close"), &zhou, json!({})).await;
    expect_status(closed, StatusCode::OK).await;
    let reopened: Value = expect_json(
        app.post(
            &format!("{base}/reopen"),
            &zhou,
            json!({"reason": "当事人要求再次调解"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(reopened["status"], "accepted");
    expect_error(
        app.post(&path, &zhou, json!({"reason": REASON})).await,
        StatusCode::CONFLICT,
        "state_conflict",
    )
    .await;
    app.assert_staff_loads_counted().await;
}

/// A mediation with a session booked but not held is handed back: the
/// session is cancelled (its room slot free again, the resident's view says
/// why) and the case goes to another mediator.
#[tokio::test]
async fn a_mediation_with_a_booked_session_is_handed_back_and_the_session_cancelled() {
    let app = TestApp::spawn().await;
    let resident = app.resident_token("hand-back-booked").await;
    let chen = app.staff_token("mediator.chen").await;
    let chen_id = app.demo.account("mediator.chen").id.as_uuid();
    let id = apply_mediation(&app, &resident).await;
    accept_mediation(&app, &chen, id).await;
    let zhou_id = new_staff(
        &app,
        "mediator.zhou",
        "mediator",
        app.demo.community_a.as_uuid(),
    )
    .await;
    let room = crate::mediation::room(&app, "退单调解室").await;
    let slot = json!({"room_id": room, "starts_at": "2027-12-09T01:00:00Z", "ends_at": "2027-12-09T02:00:00Z"});
    let booked: Value = expect_json(
        app.post(
            &format!("/api/v1/staff/mediations/{id}/sessions"),
            &chen,
            slot.clone(),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(booked["status"], "scheduled");

    expect_status(
        app.post(
            &format!("/api/v1/staff/mediations/{id}/hand-back"),
            &chen,
            json!({"reason": REASON}),
        )
        .await,
        StatusCode::NO_CONTENT,
    )
    .await;
    offered_to_other(&app, id, zhou_id, chen_id).await;
    let mine: Value = app
        .get_as(&format!("/api/v1/mediations/{id}"), &resident)
        .await;
    assert_eq!(mine["sessions"][0]["status"], "cancelled", "{mine}");
    assert!(
        mine["sessions"][0]["cancel_reason"]
            .as_str()
            .is_some_and(|r| r.contains("退单")),
        "{mine}"
    );
    assert!(
        !mine.to_string().contains(REASON),
        "the reason stays with staff"
    );
    // The slot is free: the next mediator books the same hour.
    let zhou = app.staff_token("mediator.zhou").await;
    accept_mediation(&app, &zhou, id).await;
    expect_status(
        app.post(
            &format!("/api/v1/staff/mediations/{id}/sessions"),
            &zhou,
            slot,
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    app.assert_staff_loads_counted().await;
}

async fn report_tip(app: &TestApp, resident: &str) -> Uuid {
    let receipt: Value = expect_json(
        app.post(
            "/api/v1/tips",
            resident,
            json!({
                "community_id": app.demo.community_a.as_uuid(),
                "category_code": "ZP01",
                "description": "3号楼东侧消防通道被电动车和杂物堵死了，晚上有人在楼道充电",
                "anonymous": false,
            }),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    receipt["tip"]["id"].as_str().unwrap().parse().unwrap()
}

async fn on_duty(app: &TestApp, officer: Uuid) {
    app.app
        .store
        .staffing()
        .add_duty_shift(
            app.demo.police_station,
            officer.into(),
            Utc::now() - Duration::hours(1),
            Utc::now() + Duration::hours(8),
            Utc::now(),
        )
        .await
        .unwrap();
}

async fn acknowledge(app: &TestApp, officer: &str, id: Uuid) {
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

#[tokio::test]
async fn an_officer_hands_a_tip_back_and_it_goes_to_another_officer() {
    let app = TestApp::spawn().await;
    let b = StreetB::build(&app).await;
    let liu_id = app.demo.account("officer.liu").id.as_uuid();
    on_duty(&app, liu_id).await;
    let resident = app.resident_token("hand-back-tip").await;
    let liu = app.staff_token("officer.liu").await;
    let id = report_tip(&app, &resident).await;
    acknowledge(&app, &liu, id).await;
    // A second officer on duty only now, so the first offer was liu's.
    let ma_id = new_staff(
        &app,
        "officer.ma",
        "officer",
        app.demo.police_station.as_uuid(),
    )
    .await;
    on_duty(&app, ma_id).await;
    let ma = app.staff_token("officer.ma").await;
    let path = format!("/api/v1/staff/tips/{id}/hand-back");

    only_the_owner_with_a_reason(
        &app,
        &path,
        &liu,
        ["lawyer.zhao", "mediator.chen"],
        [ma.clone(), StreetB::token(&app, StreetB::OFFICER).await],
        "tip_not_found",
    )
    .await;
    // Another street's tip in the path: not found for liu.
    let b_resident = app.resident_token("hand-back-tip-b").await;
    let b_receipt: Value = expect_json(
        app.post(
            "/api/v1/tips",
            &b_resident,
            json!({
                "community_id": b.community,
                "category_code": "ZP01",
                "description": "新港小区楼道里堆满纸箱，晚上有人在里面吸烟",
                "anonymous": false,
            }),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let b_id: Uuid = b_receipt["tip"]["id"].as_str().unwrap().parse().unwrap();
    acknowledge(&app, &StreetB::token(&app, StreetB::OFFICER).await, b_id).await;
    expect_error(
        app.post(
            &format!("/api/v1/staff/tips/{b_id}/hand-back"),
            &liu,
            json!({"reason": REASON}),
        )
        .await,
        StatusCode::NOT_FOUND,
        "tip_not_found",
    )
    .await;

    expect_status(
        app.post(&path, &liu, json!({"reason": REASON})).await,
        StatusCode::NO_CONTENT,
    )
    .await;
    offered_to_other(&app, id, ma_id, liu_id).await;
    expect_error(
        app.get(&format!("/api/v1/staff/tips/{id}"), &liu).await,
        StatusCode::NOT_FOUND,
        "tip_not_found",
    )
    .await;
    reason_for_staff_only(
        &app,
        &format!("/api/v1/tips/{id}"),
        &resident,
        &format!("/api/v1/staff/tips/{id}"),
        "note",
    )
    .await;

    // Ma signs for it and triages it: too late to hand it back.
    acknowledge(&app, &ma, id).await;
    expect_status(
        app.post(
            &format!("/api/v1/staff/tips/{id}/triage"),
            &ma,
            json!({"verdict": "valid"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    expect_error(
        app.post(&path, &ma, json!({"reason": REASON})).await,
        StatusCode::CONFLICT,
        "state_conflict",
    )
    .await;
    app.assert_staff_loads_counted().await;
}
