//! Mediation bookings: application routed to the community's mediator,
//! masked and opened party data, refusal with a referral, and sessions
//! whose rooms and mediators cannot be double-booked.

use reqwest::StatusCode;
use sansuo_store::entity::mediation_party;
use sansuo_store::staffing::NewRoom;
use sansuo_tests::{TestApp, eventually, expect_error, expect_status};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};

const RESPONDENT_PHONE: &str = "13912345678";

async fn apply(app: &TestApp, resident: &str, facts: &str) -> Value {
    let body = json!({
        "community_id": app.demo.community_a.as_uuid(),
        "category_code": "LJ02",
        "facts": facts,
        "claims": "请对方修好漏水并赔偿天花板维修费",
        "parties": [
            {"role": "applicant", "name": "王小明", "contact": "13812341234"},
            {"role": "respondent", "name": "赵大力", "contact": RESPONDENT_PHONE},
        ],
        "preferred_times": [{"from": "2026-12-01T01:00:00Z", "to": "2026-12-01T04:00:00Z"}],
        "private": true,
    });
    expect_status(
        app.post("/api/v1/mediations", resident, body).await,
        StatusCode::CREATED,
    )
    .await
}

/// The mediator waits for the offer of this case, then accepts it.
async fn accept(app: &TestApp, mediator: &str, id: &str) -> Value {
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
    .await
}

async fn room(app: &TestApp, name: &str) -> uuid::Uuid {
    app.app
        .store
        .add_room(
            NewRoom {
                unit: app.demo.community_a,
                name,
                address: Some("欧阳路 100 号 2 楼"),
                opening_hours: Some("Mon-Fri 09:00-17:30"),
            },
            chrono::Utc::now(),
        )
        .await
        .unwrap()
        .id
}

async fn second_mediator(app: &TestApp) -> String {
    let admin = app.staff_token("admin").await;
    expect_status(
        app.post(
            "/api/v1/admin/staff",
            &admin,
            json!({
                "username": "mediator.zhou",
                "password": "sansuo-demo",
                "display_name": "周调解员",
                "role": "mediator",
                "org_unit_id": app.demo.community_a.as_uuid(),
            }),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    app.staff_token("mediator.zhou").await
}

#[tokio::test]
async fn a_booking_reaches_the_community_mediator_who_sees_the_parties_in_full() {
    let app = TestApp::spawn().await;
    let resident = app.resident_token("leaky-ceiling").await;
    let applied = apply(&app, &resident, "楼上卫生间漏水三个月，多次沟通无果").await;
    let id = applied["id"].as_str().unwrap().to_owned();
    assert_eq!(applied["status"], "submitted");
    // Masked for the applicant too: the view travels over phones and screenshots.
    assert_eq!(applied["parties"][1]["name"], "赵**");
    assert_eq!(applied["parties"][1]["contact"], "139****5678");

    let chen = app.staff_token("mediator.chen").await;
    // Offered: the mediator sees the case, parties still masked.
    eventually("the offer to the community mediator", || async {
        let response = app
            .get(&format!("/api/v1/staff/mediations/{id}"), &chen)
            .await;
        (response.status() == StatusCode::OK).then_some(())
    })
    .await;
    let view = expect_status(
        app.get(&format!("/api/v1/staff/mediations/{id}"), &chen)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(view["status"], "offered");
    assert_eq!(view["parties"][1]["contact"], "139****5678");

    let accepted = accept(&app, &chen, &id).await;
    assert_eq!(accepted["status"], "accepted");
    assert_eq!(accepted["parties"][1]["name"], "赵大力");
    assert_eq!(accepted["parties"][1]["contact"], RESPONDENT_PHONE);

    // The resident sees who mediates, and still only masks.
    let mine = expect_status(
        app.get(&format!("/api/v1/mediations/{id}"), &resident)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(mine["status"], "accepted");
    assert_eq!(mine["mediator"], "陈调解员");
    assert_eq!(mine["parties"][1]["contact"], "139****5678");
    assert!(
        !mine.to_string().contains(RESPONDENT_PHONE),
        "no unmasked contact in the resident's view"
    );

    // Nowhere else: a lawyer is refused, another mediator sees nothing,
    // another resident sees nothing, and the database holds no plain contact.
    let lawyer = app.staff_token("lawyer.zhang").await;
    expect_error(
        app.get(&format!("/api/v1/staff/mediations/{id}"), &lawyer)
            .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    let zhou = second_mediator(&app).await;
    expect_error(
        app.get(&format!("/api/v1/staff/mediations/{id}"), &zhou)
            .await,
        StatusCode::NOT_FOUND,
        "mediation_not_found",
    )
    .await;
    let stranger = app.resident_token("nosy-neighbour").await;
    expect_error(
        app.get(&format!("/api/v1/mediations/{id}"), &stranger)
            .await,
        StatusCode::NOT_FOUND,
        "mediation_not_found",
    )
    .await;
    let rows = mediation_party::Entity::find()
        .filter(mediation_party::Column::CaseId.eq(id.parse::<uuid::Uuid>().unwrap()))
        .all(app.app.store.db())
        .await
        .unwrap();
    assert_eq!(rows.len(), 2);
    for row in rows {
        let stored = format!("{row:?}");
        assert!(!stored.contains(RESPONDENT_PHONE), "{stored}");
        assert!(!stored.contains("赵大力"), "{stored}");
    }
}

#[tokio::test]
async fn a_refused_booking_tells_the_applicant_why_and_where_to_go() {
    let app = TestApp::spawn().await;
    let resident = app.resident_token("already-in-court").await;
    let applied = apply(&app, &resident, "邻居占用公共走廊堆放杂物，已起诉").await;
    let id = applied["id"].as_str().unwrap().to_owned();
    let chen = app.staff_token("mediator.chen").await;
    eventually("the offer", || async {
        (app.get(&format!("/api/v1/staff/mediations/{id}"), &chen)
            .await
            .status()
            == StatusCode::OK)
            .then_some(())
    })
    .await;
    let refuse = format!("/api/v1/staff/mediations/{id}/refuse");
    expect_error(
        app.post(
            &refuse,
            &chen,
            json!({"ground": "bored", "referral": "去法院"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_body",
    )
    .await;
    expect_status(
        app.post(
            &refuse,
            &chen,
            json!({"ground": "already_handled", "referral": "该纠纷已由区法院立案，请关注法院通知"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let mine = expect_status(
        app.get(&format!("/api/v1/mediations/{id}"), &resident)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(mine["status"], "refused");
    assert_eq!(mine["refusal_ground"], "already_handled");
    assert_eq!(mine["referral"], "该纠纷已由区法院立案，请关注法院通知");
    // Refused is final: no booking can follow.
    expect_error(
        app.post(
            &refuse,
            &chen,
            json!({"ground": "not_mediable", "referral": "再拒一次"}),
        )
        .await,
        StatusCode::NOT_FOUND,
        "mediation_not_found",
    )
    .await;
}

#[tokio::test]
async fn one_room_slot_and_one_mediator_slot_are_each_booked_once_under_races() {
    let app = TestApp::spawn().await;
    let resident = app.resident_token("many-disputes").await;
    let chen = app.staff_token("mediator.chen").await;
    let zhou = second_mediator(&app).await;
    // Two cases for chen, one for zhou (both serve community A; each takes
    // what is offered to them).
    let mut cases: Vec<(String, String)> = Vec::new();
    for (i, token) in [&chen, &chen, &zhou].into_iter().enumerate() {
        let applied = apply(
            &app,
            &resident,
            &format!("第{i}起：楼上噪音扰民，深夜仍在施工"),
        )
        .await;
        let id = applied["id"].as_str().unwrap().to_owned();
        // Whoever it was offered to passes it on until the right one has it.
        let other = if token == &chen { &zhou } else { &chen };
        let owner = eventually("the case to be offered to a mediator", || async {
            for who in [token, other] {
                if app
                    .get(&format!("/api/v1/staff/mediations/{id}"), who)
                    .await
                    .status()
                    == StatusCode::OK
                {
                    return Some(who.clone());
                }
            }
            None
        })
        .await;
        if &owner != token {
            expect_status(
                app.post(
                    &format!("/api/v1/staff/mediations/{id}/decline"),
                    &owner,
                    json!({"reason": "本周排满，请同事接手"}),
                )
                .await,
                StatusCode::NO_CONTENT,
            )
            .await;
        }
        accept(&app, token, &id).await;
        cases.push((id, token.clone()));
    }
    let room_a = room(&app, "蒋家桥居委调解室").await;
    let room_b = room(&app, "欧阳路派出所调解室").await;
    let sessions_of = |i: usize| format!("/api/v1/staff/mediations/{}/sessions", cases[i].0);
    let (first, second, third) = (sessions_of(0), sessions_of(1), sessions_of(2));

    // The same room at the same time, by two mediators at once: many trials.
    for trial in 0..8 {
        let starts = chrono::DateTime::parse_from_rfc3339("2026-12-07T01:00:00Z")
            .unwrap()
            .with_timezone(&chrono::Utc)
            + chrono::Duration::hours(trial * 2);
        let body = |offset_minutes: i64| {
            json!({
                "room_id": room_a,
                "starts_at": starts + chrono::Duration::minutes(offset_minutes),
                "ends_at": starts + chrono::Duration::minutes(offset_minutes + 60),
            })
        };
        // Overlapping by half an hour, not identical: the slots still collide.
        let (a, b) = tokio::join!(
            app.post(&first, &chen, body(0)),
            app.post(&third, &zhou, body(30)),
        );
        let mut statuses = [a.status(), b.status()];
        statuses.sort();
        assert_eq!(
            statuses,
            [StatusCode::CREATED, StatusCode::CONFLICT],
            "trial {trial}"
        );
    }

    // One mediator, two of their cases, two rooms, one time: one wins.
    for trial in 0..8 {
        let starts = chrono::DateTime::parse_from_rfc3339("2026-12-14T01:00:00Z")
            .unwrap()
            .with_timezone(&chrono::Utc)
            + chrono::Duration::hours(trial * 2);
        let body = |room| json!({"room_id": room, "starts_at": starts, "ends_at": starts + chrono::Duration::minutes(90)});
        let (a, b) = tokio::join!(
            app.post(&first, &chen, body(room_a)),
            app.post(&second, &chen, body(room_b)),
        );
        let mut statuses = [a.status(), b.status()];
        statuses.sort();
        assert_eq!(
            statuses,
            [StatusCode::CREATED, StatusCode::CONFLICT],
            "trial {trial}"
        );
        let loser = if a.status() == StatusCode::CONFLICT {
            a
        } else {
            b
        };
        let body: Value = loser.json().await.unwrap();
        assert_eq!(body["error"]["code"], "slot_taken");
    }

    // Off the grid, or a room that does not exist.
    let path = second.clone();
    expect_error(
        app.post(
            &path,
            &chen,
            json!({"room_id": room_b, "starts_at": "2026-12-21T01:15:00Z", "ends_at": "2026-12-21T02:00:00Z"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    expect_error(
        app.post(
            &path,
            &chen,
            json!({"room_id": uuid::Uuid::now_v7(), "starts_at": "2026-12-21T01:00:00Z", "ends_at": "2026-12-21T02:00:00Z"}),
        )
        .await,
        StatusCode::NOT_FOUND,
        "mediation_not_found",
    )
    .await;

    // Cancelling frees the slot at once; the resident sees the session.
    let booked = expect_status(
        app.post(
            &path,
            &chen,
            json!({"room_id": room_b, "starts_at": "2026-12-21T01:00:00Z", "ends_at": "2026-12-21T02:00:00Z"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(booked["status"], "scheduled");
    let session = booked["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["starts_at"] == "2026-12-21T01:00:00Z")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let cancelled = expect_status(
        app.post(
            &format!("{path}/{session}/cancel"),
            &chen,
            json!({"reason": "当事人临时出差，改期"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let sessions = cancelled["sessions"].as_array().unwrap();
    assert!(
        sessions
            .iter()
            .any(|s| s["id"] == session.as_str() && s["status"] == "cancelled")
    );
    // Scheduled while other sessions of the case remain (it may have won
    // some of the races above), back to accepted otherwise.
    let others = sessions.iter().any(|s| s["status"] == "scheduled");
    assert_eq!(
        cancelled["status"],
        if others { "scheduled" } else { "accepted" }
    );
    expect_status(
        app.post(
            &path,
            &chen,
            json!({"room_id": room_b, "starts_at": "2026-12-21T01:00:00Z", "ends_at": "2026-12-21T02:00:00Z"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
}

#[tokio::test]
async fn the_whole_walk_from_booking_to_the_follow_up_visit() {
    let app = TestApp::spawn().await;
    let resident = app.resident_token("settled").await;
    let chen = app.staff_token("mediator.chen").await;
    let applied = apply(&app, &resident, "楼上空调外机滴水到我家阳台，协商未果").await;
    let id = applied["id"].as_str().unwrap().to_owned();
    let accepted = accept(&app, &chen, &id).await;
    assert!(accepted["conclusion_target"].is_string(), "{accepted}");
    let room = room(&app, "蒋家桥居委调解室").await;
    let base = format!("/api/v1/staff/mediations/{id}");

    // Nothing can be agreed before a session is held.
    let agreement = json!({
        "kind": "written",
        "terms": "楼上住户于12月20日前加装冷凝水管并赔偿200元",
        "performance_method": "一次性转账，加装由物业见证",
        "perform_by": "2026-12-20",
        "effective_on": "2026-12-08",
    });
    expect_error(
        app.post(&format!("{base}/agreement"), &chen, agreement.clone())
            .await,
        StatusCode::CONFLICT,
        "state_conflict",
    )
    .await;
    let booked = expect_status(
        app.post(
            &format!("{base}/sessions"),
            &chen,
            json!({"room_id": room, "starts_at": "2026-12-08T01:00:00Z", "ends_at": "2026-12-08T02:30:00Z"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let session = booked["sessions"][0]["id"].as_str().unwrap().to_owned();
    let mine = expect_status(
        app.get(&format!("/api/v1/mediations/{id}"), &resident)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(mine["status"], "scheduled");
    assert_eq!(mine["sessions"][0]["room_name"], "蒋家桥居委调解室");
    assert_eq!(mine["sessions"][0]["room_address"], "欧阳路 100 号 2 楼");

    let held = expect_status(
        app.post(
            &format!("{base}/sessions/{session}/held"),
            &chen,
            json!({"attendees": "申请人、被申请人、物业代表", "minutes": "双方同意加装冷凝水管，赔偿金额协商一致"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(held["status"], "heard");
    let agreed = expect_status(
        app.post(&format!("{base}/agreement"), &chen, agreement)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(agreed["status"], "agreed");
    // Effective Tue 8 Dec 2026: +30 days is Thu 7 Jan 2027, a working day.
    assert_eq!(agreed["outcome"]["confirmation_deadline"], "2027-01-07");
    assert_eq!(agreed["outcome"]["visit_due"], "2026-12-27");

    expect_error(
        app.post(
            &format!("{base}/confirmation"),
            &chen,
            json!({"applied_on": "2027-01-08", "court": "虹口区人民法院"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "confirmation_deadline_passed",
    )
    .await;
    let confirmed = expect_status(
        app.post(
            &format!("{base}/confirmation"),
            &chen,
            json!({"applied_on": "2026-12-15", "court": "虹口区人民法院", "ruling": "确认调解协议有效"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(confirmed["outcome"]["confirmation_court"], "虹口区人民法院");

    expect_error(
        app.post(
            &format!("{base}/visit"),
            &chen,
            json!({"performance": "performed", "satisfaction": 6}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    let closed = expect_status(
        app.post(
            &format!("{base}/visit"),
            &chen,
            json!({"performance": "performed", "satisfaction": 5}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(closed["status"], "closed");
    assert_eq!(closed["outcome"]["satisfaction"], 5);
    let actions: Vec<&str> = closed["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "submit",
            "offer",
            "accept",
            "schedule",
            "hold",
            "agree",
            "judicial_confirmation",
            "visit"
        ]
    );
    // The resident sees the outcome but not the routing internals.
    let mine = expect_status(
        app.get(&format!("/api/v1/mediations/{id}"), &resident)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(mine["status"], "closed");
    assert!(
        mine["history"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["action"] != "offer")
    );

    // The case file for the archive: JSON with the minutes, and a page to print.
    let file = expect_status(
        app.get(&format!("{base}/case-file"), &chen).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(file["mediation"]["parties"][1]["contact"], RESPONDENT_PHONE);
    assert_eq!(
        file["session_records"][0]["minutes"],
        "双方同意加装冷凝水管，赔偿金额协商一致"
    );
    assert_eq!(
        file["mediation"]["history"][1]["action"], "offer",
        "staff copy keeps routing events"
    );
    let page = app
        .get(&format!("{base}/case-file?format=html"), &chen)
        .await;
    assert_eq!(page.status(), StatusCode::OK);
    assert!(
        page.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let html = page.text().await.unwrap();
    assert!(
        html.contains("人民调解卷宗")
            && html.contains("2027-01-07")
            && html.contains("虹口区人民法院")
    );
    expect_error(
        app.get(&format!("{base}/case-file?format=pdf"), &chen)
            .await,
        StatusCode::BAD_REQUEST,
        "bad_parameter",
    )
    .await;
    expect_error(
        app.get(
            &format!("{base}/case-file"),
            &app.staff_token("lawyer.zhang").await,
        )
        .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
}

#[tokio::test]
async fn parties_choose_and_refuse_mediators_and_may_withdraw_before_a_session() {
    let app = TestApp::spawn().await;
    let resident = app.resident_token("choosy").await;
    let chen = app.staff_token("mediator.chen").await;
    let zhou = second_mediator(&app).await;
    let chen_id = app.demo.account("mediator.chen").id.as_uuid();
    let body = |extra: Value| {
        let mut body = json!({
            "community_id": app.demo.community_a.as_uuid(),
            "category_code": "LJ02",
            "facts": "楼道堆放杂物影响通行，多次劝说无效",
            "claims": "请对方清理楼道杂物",
            "parties": [
                {"role": "applicant", "name": "钱一", "contact": "13700001111"},
                {"role": "respondent", "name": "孙二"},
            ],
        });
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        body
    };
    // Refusing chen: the case goes to zhou, never to chen.
    let refused = expect_status(
        app.post(
            "/api/v1/mediations",
            &resident,
            body(json!({"refused_mediator_ids": [chen_id]})),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let id = refused["id"].as_str().unwrap().to_owned();
    accept(&app, &zhou, &id).await;
    expect_error(
        app.get(&format!("/api/v1/staff/mediations/{id}"), &chen)
            .await,
        StatusCode::NOT_FOUND,
        "mediation_not_found",
    )
    .await;
    // Asking for chen: chen is offered it first.
    let asked = expect_status(
        app.post(
            "/api/v1/mediations",
            &resident,
            body(json!({"requested_mediator_id": chen_id})),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let asked_id = asked["id"].as_str().unwrap().to_owned();
    accept(&app, &chen, &asked_id).await;
    expect_error(
        app.post(
            "/api/v1/mediations",
            &resident,
            body(json!({"requested_mediator_id": chen_id, "refused_mediator_ids": [chen_id]})),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;

    // Withdraw before any session: booked sessions are cancelled.
    let room = room(&app, "蒋家桥居委调解室").await;
    expect_status(
        app.post(
            &format!("/api/v1/staff/mediations/{asked_id}/sessions"),
            &chen,
            json!({"room_id": room, "starts_at": "2026-12-09T01:00:00Z", "ends_at": "2026-12-09T02:00:00Z"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let withdrawn = expect_status(
        app.post(
            &format!("/api/v1/mediations/{asked_id}/withdraw"),
            &resident,
            json!({}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(withdrawn["status"], "withdrawn");
    assert_eq!(withdrawn["sessions"][0]["status"], "cancelled");
    // The slot is free again for another case of the room.
    expect_status(
        app.post(
            &format!("/api/v1/staff/mediations/{id}/sessions"),
            &zhou,
            json!({"room_id": room, "starts_at": "2026-12-09T01:00:00Z", "ends_at": "2026-12-09T02:00:00Z"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    expect_error(
        app.post(
            &format!("/api/v1/mediations/{asked_id}/withdraw"),
            &resident,
            json!({}),
        )
        .await,
        StatusCode::CONFLICT,
        "state_conflict",
    )
    .await;
}

#[tokio::test]
async fn a_hard_case_escalates_by_hand_and_a_failed_one_is_terminated_with_routes() {
    let app = TestApp::spawn().await;
    let resident = app.resident_token("hard-case").await;
    let chen = app.staff_token("mediator.chen").await;
    let applied = apply(&app, &resident, "与房东就押金和维修费用争执多次，情绪激动").await;
    let id = applied["id"].as_str().unwrap().to_owned();
    accept(&app, &chen, &id).await;
    let base = format!("/api/v1/staff/mediations/{id}");
    let flagged = expect_status(
        app.post(
            &format!("{base}/flag-public-order-risk"),
            &chen,
            json!({"reason": "双方多次发生肢体冲突苗头"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(flagged["public_order_risk"], true);
    expect_status(
        app.post(
            &format!("{base}/escalate"),
            &chen,
            json!({"reason": "涉及法律专业问题，需专业调解员"}),
        )
        .await,
        StatusCode::NO_CONTENT,
    )
    .await;
    // No professional mediator at the station in the demo district: the
    // tier is skipped and the case reaches the coordinators (公调对接).
    eventually("the case to reach the coordinators", || async {
        let row = sansuo_store::entity::case::Entity::find_by_id(id.parse::<uuid::Uuid>().unwrap())
            .one(app.app.store.db())
            .await
            .unwrap()
            .unwrap();
        row.unrouted_at.map(|_| row)
    })
    .await;
    expect_error(
        app.get(&base, &chen).await,
        StatusCode::NOT_FOUND,
        "mediation_not_found",
    )
    .await;
    // The coordinators see it in their queue and give it to a mediator by
    // hand (a lawyer cannot take a mediation).
    let coordinator = app.staff_token("coordinator.sun").await;
    let queue = expect_status(
        app.get("/api/v1/admin/unrouted", &coordinator).await,
        StatusCode::OK,
    )
    .await;
    let item = queue["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id.as_str())
        .cloned()
        .expect("the mediation is in the coordinators' queue");
    assert_eq!(item["service"], "mediation");
    assert_eq!(item["question"], "与房东就押金和维修费用争执多次，情绪激动");
    let zhou = second_mediator(&app).await;
    let zhou_id = app
        .app
        .store
        .staff_by_username("mediator.zhou")
        .await
        .unwrap()
        .unwrap()
        .id;
    let reassign = format!("/api/v1/admin/cases/{id}/reassign");
    expect_error(
        app.post(
            &reassign,
            &coordinator,
            json!({"staff_id": app.demo.account("lawyer.zhang").id.as_uuid(), "reason": "请律师处理"}),
        )
        .await,
        StatusCode::NOT_FOUND,
        "staff_not_found",
    )
    .await;
    let given = expect_status(
        app.post(
            &reassign,
            &coordinator,
            json!({"staff_id": zhou_id, "reason": "公调对接：交由周调解员牵头"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(given["status"], "accepted");
    expect_status(app.get(&base, &zhou).await, StatusCode::OK).await;

    // Another case: no agreement, the parties told where to go.
    let applied = apply(&app, &resident, "邻居违章搭建遮挡采光，协商无果").await;
    let id = applied["id"].as_str().unwrap().to_owned();
    accept(&app, &chen, &id).await;
    let base = format!("/api/v1/staff/mediations/{id}");
    expect_error(
        app.post(
            &format!("{base}/terminate"),
            &chen,
            json!({"reason": "双方分歧过大", "routes": []}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    let ended = expect_status(
        app.post(
            &format!("{base}/terminate"),
            &chen,
            json!({"reason": "双方分歧过大，无法达成一致", "routes": ["court", "administrative"]}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(ended["status"], "terminated");
    assert_eq!(
        ended["outcome"]["other_routes"],
        json!(["administrative", "court"])
    );
    let closed = expect_status(
        app.post(&format!("{base}/close"), &chen, json!({})).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(closed["status"], "closed");
}

/// One mediation written straight to the database, as the report reads it.
#[allow(clippy::too_many_arguments)]
async fn seed_mediation(
    app: &TestApp,
    community: sansuo_domain::OrgUnitId,
    status: &str,
    created: &str,
    accepted: Option<&str>,
    concluded: Option<&str>,
    outcome: Option<&str>,
    confirmed: bool,
    satisfaction: Option<i16>,
) {
    use sansuo_store::entity::{case, mediation};
    use sea_orm::ActiveValue::Set;
    let t = |s: &str| {
        chrono::DateTime::parse_from_rfc3339(s)
            .unwrap()
            .with_timezone(&chrono::Utc)
    };
    let id = uuid::Uuid::now_v7();
    case::Entity::insert(case::ActiveModel {
        id: Set(id),
        service: Set("mediation".into()),
        community_id: Set(community.as_uuid()),
        category_code: Set("LJ02".into()),
        resident_id: Set(None),
        status: Set(status.into()),
        owner_staff_id: Set(None),
        pool_unit_id: Set(None),
        version: Set(0),
        created_at: Set(t(created)),
        updated_at: Set(t(created)),
        accepted_at: Set(accepted.map(t)),
        answered_at: Set(None),
        resolved_at: Set(None),
        closed_at: Set(None),
        moderation: Set("passed".into()),
        workflow: Set(Some("mediation_three_tier".into())),
        ladder_step: Set(0),
        step_entered_at: Set(None),
        priority: Set(0),
        queued_at: Set(None),
        unrouted_at: Set(None),
        preferred_staff_id: Set(None),
    })
    .exec_without_returning(app.app.store.db())
    .await
    .unwrap();
    mediation::Entity::insert(mediation::ActiveModel {
        case_id: Set(id),
        facts: Set("seeded".into()),
        claims: Set("seeded".into()),
        preferred_times: Set("[]".into()),
        private: Set(false),
        attendees: Set(None),
        requested_mediator_id: Set(None),
        refused_mediator_ids: Set(String::new()),
        refusal_ground: Set(None),
        referral: Set(None),
        outcome: Set(outcome.map(str::to_owned)),
        agreement_terms: Set(None),
        performance_method: Set(None),
        perform_by: Set(None),
        effective_on: Set(None),
        termination_reason: Set(None),
        other_routes: Set(String::new()),
        confirmation_applied_on: Set(
            confirmed.then(|| chrono::NaiveDate::from_ymd_opt(2026, 11, 20).unwrap())
        ),
        confirmation_court: Set(None),
        confirmation_ruling: Set(None),
        visit_due: Set(None),
        visited_at: Set(None),
        performance_status: Set(None),
        satisfaction: Set(satisfaction),
        public_order_risk: Set(false),
        concluded_at: Set(concluded.map(t)),
    })
    .exec_without_returning(app.app.store.db())
    .await
    .unwrap();
}

#[tokio::test]
async fn the_mediation_report_reproduces_hand_computed_figures() {
    let app = TestApp::spawn().await;
    let a = app.demo.community_a;
    let b = app.demo.community_b;
    // November in community A: 6 bookings. Times are UTC; days count in Beijing.
    seed_mediation(
        &app,
        a,
        "closed",
        "2026-11-02T01:00:00Z",
        Some("2026-11-02T02:00:00Z"),
        Some("2026-11-09T03:00:00Z"),
        Some("agreement_written"),
        true,
        Some(5),
    )
    .await; // 7 days
    seed_mediation(
        &app,
        a,
        "closed",
        "2026-11-03T01:00:00Z",
        Some("2026-11-03T02:00:00Z"),
        Some("2026-11-06T03:00:00Z"),
        Some("agreement_oral"),
        false,
        Some(3),
    )
    .await; // 3 days
    seed_mediation(
        &app,
        a,
        "agreed",
        "2026-11-04T01:00:00Z",
        Some("2026-11-04T02:00:00Z"),
        Some("2026-11-16T03:00:00Z"),
        Some("agreement_written"),
        true,
        None,
    )
    .await; // 12 days
    seed_mediation(
        &app,
        a,
        "terminated",
        "2026-11-05T01:00:00Z",
        Some("2026-11-05T02:00:00Z"),
        Some("2026-11-10T03:00:00Z"),
        Some("terminated"),
        false,
        None,
    )
    .await; // 5 days
    seed_mediation(
        &app,
        a,
        "refused",
        "2026-11-06T01:00:00Z",
        None,
        None,
        None,
        false,
        None,
    )
    .await;
    // Accepted 23:30 UTC on the 9th = the 10th in Beijing; concluded on the 11th in Beijing: 1 day.
    seed_mediation(
        &app,
        a,
        "closed",
        "2026-11-09T20:00:00Z",
        Some("2026-11-09T23:30:00Z"),
        Some("2026-11-11T01:00:00Z"),
        Some("agreement_written"),
        false,
        Some(4),
    )
    .await;
    // Community B, and community A in October: outside the queries below.
    seed_mediation(
        &app,
        b,
        "closed",
        "2026-11-05T01:00:00Z",
        Some("2026-11-05T02:00:00Z"),
        Some("2026-11-06T03:00:00Z"),
        Some("terminated"),
        false,
        Some(1),
    )
    .await;
    seed_mediation(
        &app,
        a,
        "closed",
        "2026-10-30T01:00:00Z",
        Some("2026-10-30T02:00:00Z"),
        Some("2026-11-02T03:00:00Z"),
        Some("agreement_written"),
        false,
        Some(2),
    )
    .await;

    let coordinator = app.staff_token("coordinator.sun").await;
    let path = |unit: sansuo_domain::OrgUnitId| {
        format!(
            "/api/v1/admin/reports/mediation?org_unit_id={}&from=2026-11-01T00:00:00Z&to=2026-12-01T00:00:00Z",
            unit.as_uuid()
        )
    };
    let report = expect_status(app.get(&path(a), &coordinator).await, StatusCode::OK).await;
    assert_eq!(report["bookings"], 6);
    assert_eq!(report["accepted"], 5);
    assert_eq!(report["refused"], 1);
    assert_eq!(report["concluded"], 5);
    assert_eq!(report["agreements"], 4);
    assert_eq!(report["success_rate"], 0.8);
    // Days: 7, 3, 12, 5, 1 → sorted 1, 3, 5, 7, 12 → median 5.
    assert_eq!(report["median_days_to_conclude"], 5);
    assert_eq!(report["judicial_confirmations"], 2);
    assert_eq!(report["visits"], 3);
    assert_eq!(report["mean_satisfaction"], 4.0);

    // The street holds both communities: 7 bookings, 6 concluded, 4 agreements.
    let street = expect_status(
        app.get(&path(app.demo.street), &coordinator).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        (
            street["bookings"].as_u64(),
            street["concluded"].as_u64(),
            street["agreements"].as_u64()
        ),
        (Some(7), Some(6), Some(4))
    );
    // Scope: the coordinator of the street cannot read the district.
    expect_error(
        app.get(&path(app.demo.district), &coordinator).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    let lawyer = app.staff_token("lawyer.zhang").await;
    expect_error(
        app.get(&path(a), &lawyer).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    expect_error(
        app.get(
            &format!("/api/v1/admin/reports/mediation?org_unit_id={}&from=2026-12-01T00:00:00Z&to=2026-11-01T00:00:00Z", a.as_uuid()),
            &coordinator,
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
}
