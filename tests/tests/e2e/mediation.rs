//! Mediation bookings: application routed to the community's mediator,
//! masked and opened party data, refusal with a referral, and sessions
//! whose rooms and mediators cannot be double-booked.

use reqwest::StatusCode;
use sansuo_store::entity::mediation_party;
use sansuo_store::staffing::NewRoom;
use sansuo_tests::views::{
    CaseFile, MediationReportView, MediationView, OfferView, RoutingCasePage, RoutingCaseView,
    SessionView, StaffCaseView, SummaryStatsView,
};
use sansuo_tests::{TestApp, eventually, expect_error, expect_json, expect_status, read_as};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use uuid::Uuid;

const RESPONDENT_PHONE: &str = "13912345678";

fn at(rfc3339: &str) -> chrono::DateTime<chrono::Utc> {
    rfc3339.parse().unwrap()
}

fn date(iso: &str) -> chrono::NaiveDate {
    iso.parse().unwrap()
}

async fn apply(app: &TestApp, resident: &str, facts: &str) -> MediationView {
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
    expect_json(
        app.post("/api/v1/mediations", resident, body).await,
        StatusCode::CREATED,
    )
    .await
}

/// The mediator waits for the offer of this case, then accepts it.
async fn accept(app: &TestApp, mediator: &str, id: &Uuid) -> MediationView {
    let path = format!("/api/v1/staff/mediations/{id}");
    eventually("the mediation to be offered", || async {
        (app.get(&path, mediator).await.status() == StatusCode::OK).then_some(())
    })
    .await;
    app.post_as(&format!("{path}/accept"), mediator, json!({}))
        .await
}

pub(crate) async fn room(app: &TestApp, name: &str) -> uuid::Uuid {
    app.app
        .store
        .staffing()
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
    let id = applied.id;
    // Offered to the community mediator in the transaction that stored it.
    assert_eq!(applied.status, "offered");
    // Masked for the applicant too: the view travels over phones and screenshots.
    assert_eq!(applied.parties[1].name, "赵**");
    assert_eq!(applied.parties[1].contact.as_deref(), Some("139****5678"));

    let chen = app.staff_token("mediator.chen").await;
    // Offered: the mediator sees the case, parties still masked.
    eventually("the offer to the community mediator", || async {
        let response = app
            .get(&format!("/api/v1/staff/mediations/{id}"), &chen)
            .await;
        (response.status() == StatusCode::OK).then_some(())
    })
    .await;
    let view: MediationView = expect_json(
        app.get(&format!("/api/v1/staff/mediations/{id}"), &chen)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(view.status, "offered");
    assert_eq!(view.parties[1].contact.as_deref(), Some("139****5678"));

    let accepted = accept(&app, &chen, &id).await;
    assert_eq!(accepted.status, "accepted");
    assert_eq!(accepted.parties[1].name, "赵大力");
    assert_eq!(
        accepted.parties[1].contact.as_deref(),
        Some(RESPONDENT_PHONE)
    );

    // The resident sees who mediates, and still only masks. Raw as well:
    // the contact must appear nowhere on the wire.
    let mine_raw = expect_status(
        app.get(&format!("/api/v1/mediations/{id}"), &resident)
            .await,
        StatusCode::OK,
    )
    .await;
    let mine: MediationView = read_as(&mine_raw);
    assert_eq!(mine.status, "accepted");
    assert_eq!(mine.mediator.as_deref(), Some("陈调解员"));
    assert_eq!(mine.parties[1].contact.as_deref(), Some("139****5678"));
    assert!(
        !mine_raw.to_string().contains(RESPONDENT_PHONE),
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
        .filter(mediation_party::Column::CaseId.eq(id))
        .all(app.app.store.db())
        .await
        .unwrap();
    assert_eq!(rows.len(), 2);
    for row in rows {
        let stored = format!("{row:?}");
        assert!(!stored.contains(RESPONDENT_PHONE), "{stored}");
        assert!(!stored.contains("赵大力"), "{stored}");
    }
    app.assert_staff_loads_counted().await;
}

#[tokio::test]
async fn a_refused_booking_tells_the_applicant_why_and_where_to_go() {
    let app = TestApp::spawn().await;
    let resident = app.resident_token("already-in-court").await;
    let applied = apply(&app, &resident, "邻居占用公共走廊堆放杂物，已起诉").await;
    let id = applied.id;
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
    let mine: MediationView = expect_json(
        app.get(&format!("/api/v1/mediations/{id}"), &resident)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(mine.status, "refused");
    assert_eq!(mine.refusal_ground.as_deref(), Some("already_handled"));
    assert_eq!(
        mine.referral.as_deref(),
        Some("该纠纷已由区法院立案，请关注法院通知")
    );
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
    app.assert_staff_loads_counted().await;
}

#[tokio::test]
async fn one_room_slot_and_one_mediator_slot_are_each_booked_once_under_races() {
    let app = TestApp::spawn().await;
    let resident = app.resident_token("many-disputes").await;
    let chen = app.staff_token("mediator.chen").await;
    let zhou = second_mediator(&app).await;
    // Two cases for chen, one for zhou (both serve community A; each takes
    // what is offered to them).
    let mut cases: Vec<(Uuid, String)> = Vec::new();
    for (i, token) in [&chen, &chen, &zhou].into_iter().enumerate() {
        let applied = apply(
            &app,
            &resident,
            &format!("第{i}起：楼上噪音扰民，深夜仍在施工"),
        )
        .await;
        let id = applied.id;
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
        let starts = chrono::DateTime::parse_from_rfc3339("2027-12-06T01:00:00Z")
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
        let starts = chrono::DateTime::parse_from_rfc3339("2027-12-13T01:00:00Z")
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
        expect_error(loser, StatusCode::CONFLICT, "slot_taken").await;
    }

    // Off the grid, or a room that does not exist.
    let path = second.clone();
    expect_error(
        app.post(
            &path,
            &chen,
            json!({"room_id": room_b, "starts_at": "2027-12-20T01:15:00Z", "ends_at": "2027-12-20T02:00:00Z"}),
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
            json!({"room_id": uuid::Uuid::now_v7(), "starts_at": "2027-12-20T01:00:00Z", "ends_at": "2027-12-20T02:00:00Z"}),
        )
        .await,
        StatusCode::NOT_FOUND,
        "room_not_found",
    )
    .await;

    // Cancelling frees the slot at once; the resident sees the session.
    let booked: MediationView = expect_json(
        app.post(
            &path,
            &chen,
            json!({"room_id": room_b, "starts_at": "2027-12-20T01:00:00Z", "ends_at": "2027-12-20T02:00:00Z"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(booked.status, "scheduled");
    let session = booked
        .sessions
        .iter()
        .find(|s| s.starts_at == at("2027-12-20T01:00:00Z"))
        .unwrap()
        .id;
    let cancelled: MediationView = expect_json(
        app.post(
            &format!("{path}/{session}/cancel"),
            &chen,
            json!({"reason": "当事人临时出差，改期"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let sessions = &cancelled.sessions;
    assert!(
        sessions
            .iter()
            .any(|s| s.id == session && s.status == "cancelled")
    );
    // Scheduled while other sessions of the case remain (it may have won
    // some of the races above), back to accepted otherwise.
    let others = sessions.iter().any(|s| s.status == "scheduled");
    assert_eq!(
        cancelled.status,
        if others { "scheduled" } else { "accepted" }
    );
    expect_status(
        app.post(
            &path,
            &chen,
            json!({"room_id": room_b, "starts_at": "2027-12-20T01:00:00Z", "ends_at": "2027-12-20T02:00:00Z"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    app.assert_staff_loads_counted().await;
}

#[tokio::test]
async fn the_whole_walk_from_booking_to_the_follow_up_visit() {
    let app = TestApp::spawn().await;
    let resident = app.resident_token("settled").await;
    let chen = app.staff_token("mediator.chen").await;
    let applied = apply(&app, &resident, "楼上空调外机滴水到我家阳台，协商未果").await;
    let id = applied.id;
    let accepted = accept(&app, &chen, &id).await;
    assert!(accepted.conclusion_target.is_some(), "{accepted:?}");
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
    let booked: MediationView = expect_json(
        app.post(
            &format!("{base}/sessions"),
            &chen,
            json!({"room_id": room, "starts_at": "2027-12-07T01:00:00Z", "ends_at": "2027-12-07T02:30:00Z"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let session = booked.sessions[0].id;
    let mine: MediationView = expect_json(
        app.get(&format!("/api/v1/mediations/{id}"), &resident)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(mine.status, "scheduled");
    assert_eq!(
        mine.sessions[0].room_name.as_deref(),
        Some("蒋家桥居委调解室")
    );
    assert_eq!(
        mine.sessions[0].room_address.as_deref(),
        Some("欧阳路 100 号 2 楼")
    );

    app.begin_session(session).await;
    let held: MediationView = expect_json(
        app.post(
            &format!("{base}/sessions/{session}/held"),
            &chen,
            json!({"attendees": "申请人、被申请人、物业代表", "minutes": "双方同意加装冷凝水管，赔偿金额协商一致"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(held.status, "heard");
    let agreed: MediationView = expect_json(
        app.post(&format!("{base}/agreement"), &chen, agreement)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(agreed.status, "agreed");
    // Effective Tue 8 Dec 2026: +30 days is Thu 7 Jan 2027, a working day.
    let outcome = agreed.outcome.unwrap();
    assert_eq!(outcome.confirmation_deadline, Some(date("2027-01-07")));
    assert_eq!(outcome.visit_due, Some(date("2026-12-27")));

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
    let confirmed: MediationView = expect_json(
        app.post(
            &format!("{base}/confirmation"),
            &chen,
            json!({"applied_on": "2026-12-15", "court": "虹口区人民法院", "ruling": "确认调解协议有效"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        confirmed.outcome.unwrap().confirmation_court.as_deref(),
        Some("虹口区人民法院")
    );

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
    let closed: MediationView = expect_json(
        app.post(
            &format!("{base}/visit"),
            &chen,
            json!({"performance": "performed", "satisfaction": 5}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(closed.status, "closed");
    assert_eq!(closed.outcome.as_ref().unwrap().satisfaction, Some(5));
    let actions: Vec<&str> = closed.history.iter().map(|e| e.action.as_str()).collect();
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
    let mine: MediationView = expect_json(
        app.get(&format!("/api/v1/mediations/{id}"), &resident)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(mine.status, "closed");
    assert!(mine.history.iter().all(|e| e.action != "offer"));

    // The case file for the archive: JSON with the minutes, and a page to print.
    let file: CaseFile = app.get_as(&format!("{base}/case-file"), &chen).await;
    assert_eq!(file.parties[1].contact.as_deref(), Some(RESPONDENT_PHONE));
    assert!(
        file.parties_unmasked,
        "the handling mediator sees the parties"
    );
    let sessions = file
        .sections
        .iter()
        .find(|s| s.title == "调解记录")
        .expect("the sessions");
    assert!(
        sessions.rows[0]
            .value
            .contains("双方同意加装冷凝水管，赔偿金额协商一致"),
        "{sessions:?}"
    );
    assert_eq!(
        file.events[1].action, "offer",
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
            && html.contains("2027年01月07日")
            && html.contains("虹口区人民法院")
    );
    expect_error(
        app.get(&format!("{base}/case-file?format=docx"), &chen)
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
    app.assert_staff_loads_counted().await;
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
    let refused: MediationView = expect_json(
        app.post(
            "/api/v1/mediations",
            &resident,
            body(json!({"refused_mediator_ids": [chen_id]})),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let id = refused.id;
    accept(&app, &zhou, &id).await;
    expect_error(
        app.get(&format!("/api/v1/staff/mediations/{id}"), &chen)
            .await,
        StatusCode::NOT_FOUND,
        "mediation_not_found",
    )
    .await;
    // Asking for chen: chen is offered it first.
    let asked: MediationView = expect_json(
        app.post(
            "/api/v1/mediations",
            &resident,
            body(json!({"requested_mediator_id": chen_id})),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let asked_id = asked.id;
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
            json!({"room_id": room, "starts_at": "2027-12-08T01:00:00Z", "ends_at": "2027-12-08T02:00:00Z"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let withdrawn: MediationView = expect_json(
        app.post(
            &format!("/api/v1/mediations/{asked_id}/withdraw"),
            &resident,
            json!({}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(withdrawn.status, "withdrawn");
    assert_eq!(withdrawn.sessions[0].status, "cancelled");
    // The slot is free again for another case of the room.
    expect_status(
        app.post(
            &format!("/api/v1/staff/mediations/{id}/sessions"),
            &zhou,
            json!({"room_id": room, "starts_at": "2027-12-08T01:00:00Z", "ends_at": "2027-12-08T02:00:00Z"}),
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
    app.assert_staff_loads_counted().await;
}

#[tokio::test]
async fn a_hard_case_escalates_by_hand_and_a_failed_one_is_terminated_with_routes() {
    let app = TestApp::spawn().await;
    let resident = app.resident_token("hard-case").await;
    let chen = app.staff_token("mediator.chen").await;
    let applied = apply(&app, &resident, "与房东就押金和维修费用争执多次，情绪激动").await;
    let id = applied.id;
    accept(&app, &chen, &id).await;
    let base = format!("/api/v1/staff/mediations/{id}");
    let flagged: MediationView = expect_json(
        app.post(
            &format!("{base}/flag-public-order-risk"),
            &chen,
            json!({"reason": "双方多次发生肢体冲突苗头"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert!(flagged.public_order_risk);
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
        let row = sansuo_store::entity::case::Entity::find_by_id(id)
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
    let queue: RoutingCasePage = app.get_as("/api/v1/admin/unrouted", &coordinator).await;
    let item = queue
        .items
        .iter()
        .find(|c| c.id == id)
        .expect("the mediation is in the coordinators' queue");
    assert_eq!(item.service, "mediation");
    assert_eq!(item.question, "与房东就押金和维修费用争执多次，情绪激动");
    let zhou = second_mediator(&app).await;
    let zhou_id = app
        .app
        .store
        .identity()
        .staff_by_username("mediator.zhou")
        .await
        .unwrap()
        .unwrap()
        .id
        .as_uuid();
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
    let given: RoutingCaseView = app
        .post_as(
            &reassign,
            &coordinator,
            json!({"staff_id": zhou_id, "reason": "公调对接：交由周调解员牵头"}),
        )
        .await;
    assert_eq!(given.status, "accepted");
    expect_status(app.get(&base, &zhou).await, StatusCode::OK).await;

    // Another case: no agreement, the parties told where to go.
    let applied = apply(&app, &resident, "邻居违章搭建遮挡采光，协商无果").await;
    let id = applied.id;
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
    let ended: MediationView = expect_json(
        app.post(
            &format!("{base}/terminate"),
            &chen,
            json!({"reason": "双方分歧过大，无法达成一致", "routes": ["court", "administrative"]}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(ended.status, "terminated");
    assert_eq!(
        ended.outcome.as_ref().unwrap().other_routes,
        ["administrative", "court"]
    );
    let closed: MediationView = expect_json(
        app.post(&format!("{base}/close"), &chen, json!({})).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(closed.status, "closed");
    app.assert_staff_loads_counted().await;
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
) -> uuid::Uuid {
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
        urge_count: Set(0),
        last_urged_at: Set(None),
        sla_extension_minutes: Set(0),
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
        ..Default::default()
    })
    .exec_without_returning(app.app.store.db())
    .await
    .unwrap();
    id
}

/// What the applicant said of a seeded mediation: a rating, their own
/// answer to the follow-up visit.
async fn seed_resident_side(
    app: &TestApp,
    id: uuid::Uuid,
    rating: Option<i16>,
    resident_satisfaction: Option<i16>,
) {
    use sansuo_store::entity::mediation;
    use sea_orm::sea_query::Expr;
    let now = chrono::Utc::now();
    mediation::Entity::update_many()
        .col_expr(mediation::Column::RatingStars, Expr::value(rating))
        .col_expr(mediation::Column::RatedAt, Expr::value(rating.map(|_| now)))
        .col_expr(
            mediation::Column::VisitAnswerSatisfaction,
            Expr::value(resident_satisfaction),
        )
        .col_expr(
            mediation::Column::VisitAnswerPerformance,
            Expr::value(resident_satisfaction.map(|_| "partly")),
        )
        .col_expr(
            mediation::Column::VisitAnsweredAt,
            Expr::value(resident_satisfaction.map(|_| now)),
        )
        .filter(mediation::Column::CaseId.eq(id))
        .exec(app.app.store.db())
        .await
        .unwrap();
}

#[tokio::test]
async fn the_mediation_report_reproduces_hand_computed_figures() {
    let app = TestApp::spawn().await;
    let a = app.demo.community_a;
    let b = app.demo.community_b;
    // November in community A: 6 bookings. Times are UTC; days count in Beijing.
    let first = seed_mediation(
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
    let second = seed_mediation(
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
    let third = seed_mediation(
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
    let fourth = seed_mediation(
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
    let other_community = seed_mediation(
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
    // What applicants said: ratings 5, 2 and 4 in A (mean 11/3), 1 in B;
    // their own visit answers 4 (beside the visit record's 5) and 1 (an
    // agreement not yet visited) in A, 5 in B.
    seed_resident_side(&app, first, Some(5), Some(4)).await;
    seed_resident_side(&app, second, Some(2), None).await;
    seed_resident_side(&app, third, None, Some(1)).await;
    seed_resident_side(&app, fourth, Some(4), None).await;
    seed_resident_side(&app, other_community, Some(1), Some(5)).await;

    let coordinator = app.staff_token("coordinator.sun").await;
    let path = |unit: sansuo_domain::OrgUnitId| {
        format!(
            "/api/v1/admin/reports/mediation?org_unit_id={}&from=2026-11-01T00:00:00Z&to=2026-12-01T00:00:00Z",
            unit.as_uuid()
        )
    };
    let report: MediationReportView = app.get_as(&path(a), &coordinator).await;
    assert_eq!(report.bookings, 6);
    assert_eq!(report.accepted, 5);
    assert_eq!(report.refused, 1);
    assert_eq!(report.concluded, 5);
    assert_eq!(report.agreements, 4);
    assert_eq!(report.success_rate, Some(0.8));
    // Days: 7, 3, 12, 5, 1 → sorted 1, 3, 5, 7, 12 → median 5.
    assert_eq!(report.median_days_to_conclude, Some(5));
    assert_eq!(report.judicial_confirmations, 2);
    assert_eq!(report.visits, 3);
    assert_eq!(report.mean_satisfaction, Some(4.0));
    assert_eq!(report.ratings, 3);
    assert_eq!(report.mean_rating, Some(11.0 / 3.0));
    // The applicants' own answers are reported apart from the visit record.
    assert_eq!(report.resident_visit_answers, 2);
    assert_eq!(report.mean_resident_satisfaction, Some(2.5));

    // The street holds both communities: 7 bookings, 6 concluded, 4 agreements.
    let street: MediationReportView = app.get_as(&path(app.demo.street), &coordinator).await;
    assert_eq!(
        (street.bookings, street.concluded, street.agreements),
        (7, 6, 4)
    );
    // Ratings 5, 2, 4 and B's 1 → 12/4; answers 4, 1 and B's 5 → 10/3.
    assert_eq!(street.ratings, 4);
    assert_eq!(street.mean_rating, Some(3.0));
    assert_eq!(street.resident_visit_answers, 3);
    assert_eq!(street.mean_resident_satisfaction, Some(10.0 / 3.0));
    // Scope: the coordinator of the street cannot read the district (it
    // reads as absent).
    expect_error(
        app.get(&path(app.demo.district), &coordinator).await,
        StatusCode::NOT_FOUND,
        "org_unit_not_found",
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
    app.assert_staff_loads_counted().await;
}

/// Apply, have chen accept, book a session in a fresh room: the case id,
/// the session id, the room.
async fn scheduled_case(
    app: &TestApp,
    resident: &str,
    chen: &str,
    facts: &str,
    starts_at: &str,
    ends_at: &str,
) -> (Uuid, Uuid, Uuid) {
    let applied = apply(app, resident, facts).await;
    let id = applied.id;
    accept(app, chen, &id).await;
    let room = room(app, &format!("调解室 {}", &id.to_string()[..8])).await;
    let booked: MediationView = expect_json(
        app.post(
            &format!("/api/v1/staff/mediations/{id}/sessions"),
            chen,
            json!({"room_id": room, "starts_at": starts_at, "ends_at": ends_at}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let session = booked.sessions[0].id;
    (id, session, room)
}

fn session_by_id<'a>(view: &'a MediationView, id: &Uuid) -> &'a SessionView {
    view.sessions
        .iter()
        .find(|s| s.id == *id)
        .unwrap_or_else(|| panic!("session {id} in {view:?}"))
}

fn history_of(view: &MediationView) -> Vec<(String, Option<String>)> {
    view.history
        .iter()
        .map(|e| (e.action.clone(), e.reason.clone()))
        .collect()
}

#[tokio::test]
async fn the_applicant_answers_attendance_and_the_mediator_reschedules_in_one_step() {
    let app = TestApp::spawn().await;
    let resident = app.resident_token("busy-applicant").await;
    let chen = app.staff_token("mediator.chen").await;
    let (id, session, room) = scheduled_case(
        &app,
        &resident,
        &chen,
        "楼上每晚跳绳噪音，沟通无效",
        "2027-12-07T01:00:00Z",
        "2027-12-07T02:00:00Z",
    )
    .await;
    let attendance = format!("/api/v1/mediations/{id}/sessions/{session}/attendance");

    // Only the applicant answers: not staff, not another resident, not for
    // a session that is not theirs.
    expect_error(
        app.post(&attendance, &chen, json!({"attending": true}))
            .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    let stranger = app.resident_token("not-a-party").await;
    expect_error(
        app.post(&attendance, &stranger, json!({"attending": true}))
            .await,
        StatusCode::NOT_FOUND,
        "mediation_not_found",
    )
    .await;
    expect_error(
        app.post(
            &format!(
                "/api/v1/mediations/{id}/sessions/{}/attendance",
                uuid::Uuid::now_v7()
            ),
            &resident,
            json!({"attending": true}),
        )
        .await,
        StatusCode::NOT_FOUND,
        "mediation_not_found",
    )
    .await;
    expect_error(
        app.post(
            &attendance,
            &resident,
            json!({"attending": false, "note": "长".repeat(201)}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;

    let yes: MediationView = expect_json(
        app.post(&attendance, &resident, json!({"attending": true}))
            .await,
        StatusCode::OK,
    )
    .await;
    assert!(
        session_by_id(&yes, &session)
            .attendance
            .as_ref()
            .unwrap()
            .attending
    );
    // A change of mind: the latest answer stands, both are in the history.
    let no: MediationView = expect_json(
        app.post(
            &attendance,
            &resident,
            json!({"attending": false, "note": "那天要上班，周末可以"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    // Typed: `answered_at` is read as a time, not only as some string.
    let answer = session_by_id(&no, &session).attendance.as_ref().unwrap();
    assert!(!answer.attending);
    assert_eq!(answer.note.as_deref(), Some("那天要上班，周末可以"));
    // The mediator sees the answer and the staff-visible cue to reschedule.
    let theirs: MediationView = expect_json(
        app.get(&format!("/api/v1/staff/mediations/{id}"), &chen)
            .await,
        StatusCode::OK,
    )
    .await;
    assert!(
        !session_by_id(&theirs, &session)
            .attendance
            .as_ref()
            .unwrap()
            .attending
    );
    let events = history_of(&theirs);
    assert!(events.contains(&("confirm_attendance".into(), Some("will attend".into()))));
    assert!(events.contains(&(
        "cannot_attend".into(),
        Some("cannot attend: 那天要上班，周末可以".into())
    )));

    // Another case of chen's takes Saturday 10:00 in the same room.
    let applied = apply(&app, &resident, "另一起：楼道堆物堵塞消防通道").await;
    let other = applied.id;
    accept(&app, &chen, &other).await;
    expect_status(
        app.post(
            &format!("/api/v1/staff/mediations/{other}/sessions"),
            &chen,
            json!({"room_id": room, "starts_at": "2027-12-11T02:00:00Z", "ends_at": "2027-12-11T03:00:00Z"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;

    let reschedule = format!("/api/v1/staff/mediations/{id}/sessions/{session}/reschedule");
    // Onto a taken slot: refused whole, the old session stays booked.
    expect_error(
        app.post(
            &reschedule,
            &chen,
            json!({"starts_at": "2027-12-11T02:30:00Z", "ends_at": "2027-12-11T03:30:00Z", "reason": "申请人周末有空"}),
        )
        .await,
        StatusCode::CONFLICT,
        "slot_taken",
    )
    .await;
    let unchanged: MediationView = expect_json(
        app.get(&format!("/api/v1/staff/mediations/{id}"), &chen)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(unchanged.status, "scheduled");
    assert_eq!(unchanged.sessions.len(), 1);
    assert_eq!(session_by_id(&unchanged, &session).status, "scheduled");
    let old_slots = sansuo_store::entity::booking_slot::Entity::find()
        .filter(sansuo_store::entity::booking_slot::Column::SessionId.eq(session))
        .all(app.app.store.db())
        .await
        .unwrap();
    assert_eq!(old_slots.len(), 4, "two half hours, room and mediator");
    // Not the owner, off the grid, no reason: refused.
    let zhou = second_mediator(&app).await;
    let to_saturday = json!({"starts_at": "2027-12-11T03:00:00Z", "ends_at": "2027-12-11T04:00:00Z", "reason": "申请人周末有空"});
    expect_error(
        app.post(&reschedule, &zhou, to_saturday.clone()).await,
        StatusCode::NOT_FOUND,
        "mediation_not_found",
    )
    .await;
    expect_error(
        app.post(
            &reschedule,
            &chen,
            json!({"starts_at": "2027-12-11T03:10:00Z", "ends_at": "2027-12-11T04:00:00Z", "reason": "改期"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    expect_error(
        app.post(
            &reschedule,
            &chen,
            json!({"starts_at": "2027-12-11T03:00:00Z", "ends_at": "2027-12-11T04:00:00Z", "reason": ""}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;

    // Right after the other case's session, same room: one step.
    let moved: MediationView = expect_json(
        app.post(&reschedule, &chen, to_saturday).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(moved.status, "scheduled");
    let old = session_by_id(&moved, &session);
    assert_eq!(old.status, "cancelled");
    assert_eq!(old.cancel_reason.as_deref(), Some("申请人周末有空"));
    let new = moved
        .sessions
        .iter()
        .find(|s| s.status == "scheduled")
        .unwrap();
    assert_eq!(new.rescheduled_from, Some(session));
    assert_eq!(new.starts_at, at("2027-12-11T03:00:00Z"));
    assert_eq!(new.room_id, room);
    let new_id = new.id;
    // The old time is free again: the other case can take it.
    expect_status(
        app.post(
            &format!("/api/v1/staff/mediations/{other}/sessions"),
            &chen,
            json!({"room_id": room, "starts_at": "2027-12-07T01:00:00Z", "ends_at": "2027-12-07T02:00:00Z"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    // The parties see one reschedule event with its reason; the cancelled
    // session takes no more answers, the new one does.
    let mine: MediationView = expect_json(
        app.get(&format!("/api/v1/mediations/{id}"), &resident)
            .await,
        StatusCode::OK,
    )
    .await;
    assert!(history_of(&mine).contains(&("reschedule".into(), Some("申请人周末有空".into()))));
    expect_error(
        app.post(&attendance, &resident, json!({"attending": true}))
            .await,
        StatusCode::CONFLICT,
        "state_conflict",
    )
    .await;
    expect_error(
        app.post(&reschedule, &chen, json!({"starts_at": "2027-12-18T03:00:00Z", "ends_at": "2027-12-18T04:00:00Z", "reason": "再改一次"}))
            .await,
        StatusCode::NOT_FOUND,
        "mediation_not_found",
    )
    .await;
    let confirmed: MediationView = expect_json(
        app.post(
            &format!("/api/v1/mediations/{id}/sessions/{new_id}/attendance"),
            &resident,
            json!({"attending": true}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert!(
        session_by_id(&confirmed, &new_id)
            .attendance
            .as_ref()
            .unwrap()
            .attending
    );
    app.assert_staff_loads_counted().await;
}

/// Walk a case to `agreed`: a session held, an agreement recorded.
async fn agreed_case(app: &TestApp, resident: &str, chen: &str, facts: &str) -> Uuid {
    let (id, session, _) = scheduled_case(
        app,
        resident,
        chen,
        facts,
        "2027-12-08T01:00:00Z",
        "2027-12-08T02:00:00Z",
    )
    .await;
    let base = format!("/api/v1/staff/mediations/{id}");
    app.begin_session(session).await;
    expect_status(
        app.post(
            &format!("{base}/sessions/{session}/held"),
            chen,
            json!({"attendees": "双方当事人", "minutes": "双方同意分期赔偿"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    expect_status(
        app.post(
            &format!("{base}/agreement"),
            chen,
            json!({"kind": "written", "terms": "12月31日前赔偿维修费800元", "performance_method": "分两期转账", "perform_by": "2026-12-31", "effective_on": "2026-12-09"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    id
}

#[tokio::test]
async fn the_applicant_answers_the_visit_and_rates_once_and_an_unperformed_agreement_is_reopened() {
    let app = TestApp::spawn().await;
    let resident = app.resident_token("unpaid").await;
    let chen = app.staff_token("mediator.chen").await;

    // Nothing to rate or answer before an outcome.
    let applied = apply(&app, &resident, "装修损坏邻居墙面，赔偿未谈妥").await;
    let early = applied.id;
    accept(&app, &chen, &early).await;
    expect_error(
        app.post(
            &format!("/api/v1/mediations/{early}/rating"),
            &resident,
            json!({"stars": 5}),
        )
        .await,
        StatusCode::CONFLICT,
        "state_conflict",
    )
    .await;
    expect_error(
        app.post(
            &format!("/api/v1/mediations/{early}/visit-answer"),
            &resident,
            json!({"performance": "performed", "satisfaction": 5}),
        )
        .await,
        StatusCode::CONFLICT,
        "state_conflict",
    )
    .await;

    let id = agreed_case(&app, &resident, &chen, "楼上漏水损坏我家吊顶，要求赔偿").await;
    let answer = format!("/api/v1/mediations/{id}/visit-answer");
    let rating = format!("/api/v1/mediations/{id}/rating");
    let stranger = app.resident_token("someone-else").await;
    expect_error(
        app.post(
            &answer,
            &stranger,
            json!({"performance": "performed", "satisfaction": 5}),
        )
        .await,
        StatusCode::NOT_FOUND,
        "mediation_not_found",
    )
    .await;
    expect_error(
        app.post(
            &answer,
            &chen,
            json!({"performance": "performed", "satisfaction": 5}),
        )
        .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    expect_error(
        app.post(
            &answer,
            &resident,
            json!({"performance": "performed", "satisfaction": 6}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    expect_error(
        app.post(
            &answer,
            &resident,
            json!({"performance": "maybe", "satisfaction": 3}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_body",
    )
    .await;
    let answered: MediationView = expect_json(
        app.post(
            &answer,
            &resident,
            json!({"performance": "not_performed", "satisfaction": 2, "comment": "对方一分钱没付"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let visit_answer = answered.visit_answer.unwrap();
    assert_eq!(visit_answer.performance, "not_performed");
    assert_eq!(visit_answer.satisfaction, 2);
    assert_eq!(visit_answer.comment.as_deref(), Some("对方一分钱没付"));
    expect_error(
        app.post(
            &answer,
            &resident,
            json!({"performance": "performed", "satisfaction": 5}),
        )
        .await,
        StatusCode::CONFLICT,
        "already_answered",
    )
    .await;

    // Rated once (agreed counts as concluded); the first rating stands.
    expect_error(
        app.post(&rating, &resident, json!({"stars": 0})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    expect_error(
        app.post(&rating, &stranger, json!({"stars": 5})).await,
        StatusCode::NOT_FOUND,
        "mediation_not_found",
    )
    .await;
    let rated: MediationView = expect_json(
        app.post(
            &rating,
            &resident,
            json!({"stars": 4, "comment": "调解员很耐心"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(rated.rating.as_ref().unwrap().stars, 4);
    assert_eq!(rated.status, "agreed", "rating does not move the case");
    expect_error(
        app.post(&rating, &resident, json!({"stars": 1})).await,
        StatusCode::CONFLICT,
        "already_rated",
    )
    .await;

    // The mediator sees the applicant's answer, then records the official
    // visit, which closes the case.
    let base = format!("/api/v1/staff/mediations/{id}");
    let theirs: MediationView = expect_json(app.get(&base, &chen).await, StatusCode::OK).await;
    assert_eq!(
        theirs.visit_answer.as_ref().unwrap().performance,
        "not_performed"
    );
    assert_eq!(theirs.rating.as_ref().unwrap().stars, 4);
    let closed: MediationView = expect_json(
        app.post(
            &format!("{base}/visit"),
            &chen,
            json!({"performance": "not_performed", "satisfaction": 2}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(closed.status, "closed");
    // The case file keeps both.
    let file: CaseFile = app.get_as(&format!("{base}/case-file"), &chen).await;
    let visit = file
        .sections
        .iter()
        .find(|s| s.title == "回访")
        .expect("the visit");
    let said = |label: &str| {
        visit
            .rows
            .iter()
            .find(|r| r.label == label)
            .map(|r| r.value.clone())
            .unwrap_or_default()
    };
    assert!(said("当事人评价").contains("调解员很耐心"), "{visit:?}");
    assert!(
        said("当事人回访答复").contains("对方一分钱没付"),
        "{visit:?}"
    );
    let html = app
        .get(&format!("{base}/case-file?format=html"), &chen)
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("当事人评价")
            && html.contains("调解员很耐心")
            && html.contains("对方一分钱没付"),
        "{html}"
    );

    // The agreement was not performed: the mediator reopens it. Nobody
    // else may: another mediator, a resident, or twice.
    let reopen = format!("{base}/reopen");
    let zhou = second_mediator(&app).await;
    let why = json!({"reason": "回访发现协议未履行，重新组织调解"});
    expect_error(
        app.post(&reopen, &zhou, why.clone()).await,
        StatusCode::NOT_FOUND,
        "mediation_not_found",
    )
    .await;
    expect_error(
        app.post(&reopen, &resident, why.clone()).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    let reopened: MediationView = app.post_as(&reopen, &chen, why.clone()).await;
    assert_eq!(reopened.status, "accepted");
    assert!(history_of(&reopened).contains(&(
        "reopen".into(),
        Some("回访发现协议未履行，重新组织调解".into())
    )));
    expect_error(
        app.post(&reopen, &chen, why).await,
        StatusCode::CONFLICT,
        "state_conflict",
    )
    .await;
    // Work goes on: a new session can be booked.
    let room = room(&app, "重新调解室").await;
    let booked: MediationView = expect_json(
        app.post(
            &format!("{base}/sessions"),
            &chen,
            json!({"room_id": room, "starts_at": "2028-01-05T01:00:00Z", "ends_at": "2028-01-05T02:00:00Z"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(booked.status, "scheduled");
    let mine: MediationView = expect_json(
        app.get(&format!("/api/v1/mediations/{id}"), &resident)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(mine.status, "scheduled");

    // The report counts the applicant's rating and answer of the period.
    let coordinator = app.staff_token("coordinator.sun").await;
    let now = chrono::Utc::now();
    let report: MediationReportView = expect_json(
        app.get(
            &format!(
                "/api/v1/admin/reports/mediation?org_unit_id={}&from={}&to={}",
                app.demo.community_a.as_uuid(),
                (now - chrono::Duration::hours(1))
                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                (now + chrono::Duration::hours(1))
                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            ),
            &coordinator,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!((report.ratings, report.mean_rating), (1, Some(4.0)));
    assert_eq!(
        (
            report.resident_visit_answers,
            report.mean_resident_satisfaction
        ),
        (1, Some(2.0))
    );
    app.assert_staff_loads_counted().await;
}

#[tokio::test]
async fn a_coordinator_reopens_a_closed_mediation_through_the_admin_endpoint() {
    let app = TestApp::spawn().await;
    let resident = app.resident_token("ended").await;
    let chen = app.staff_token("mediator.chen").await;
    let applied = apply(&app, &resident, "邻居养狗夜间吠叫，协商不成").await;
    let id = applied.id;
    accept(&app, &chen, &id).await;
    let base = format!("/api/v1/staff/mediations/{id}");
    let coordinator = app.staff_token("coordinator.sun").await;
    let reopen = format!("/api/v1/admin/cases/{id}/reopen");
    let why = json!({"reason": "当事人申请重新调解"});
    // Not closed yet.
    expect_error(
        app.post(&reopen, &coordinator, why.clone()).await,
        StatusCode::CONFLICT,
        "state_conflict",
    )
    .await;
    expect_status(
        app.post(
            &format!("{base}/terminate"),
            &chen,
            json!({"reason": "被申请人拒绝调解", "routes": ["court"]}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    expect_status(
        app.post(&format!("{base}/close"), &chen, json!({})).await,
        StatusCode::OK,
    )
    .await;
    expect_error(
        app.post(&reopen, &chen, why.clone()).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    let reopened: RoutingCaseView = app.post_as(&reopen, &coordinator, why).await;
    assert_eq!(reopened.service, "mediation");
    assert_eq!(reopened.status, "accepted");
    // Back with the mediator who had it, who can go on.
    let theirs: MediationView = expect_json(app.get(&base, &chen).await, StatusCode::OK).await;
    assert_eq!(theirs.status, "accepted");
    assert!(history_of(&theirs).contains(&("reopen".into(), Some("当事人申请重新调解".into()))));
    app.assert_staff_loads_counted().await;
}

#[tokio::test]
async fn mediators_see_offers_and_pull_cases_through_the_generic_staff_endpoints() {
    let app = TestApp::spawn().await;
    let resident = app.resident_token("generic").await;
    let chen = app.staff_token("mediator.chen").await;
    let applied = apply(&app, &resident, "物业费争议，业主与物业各执一词").await;
    let id = applied.id;
    // The offer in chen's list says what it is.
    // Raw as well: no other summary and no party data on the wire.
    let offer_raw = eventually("the mediation offer in the list", || async {
        let list =
            expect_status(app.get("/api/v1/staff/offers", &chen).await, StatusCode::OK).await;
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["case_id"] == id.to_string())
            .cloned()
    })
    .await;
    let offer: OfferView = read_as(&offer_raw);
    assert_eq!(offer.service, "mediation");
    let summary = offer.mediation.as_ref().unwrap();
    assert_eq!(summary.facts_excerpt, "物业费争议，业主与物业各执一词");
    assert!(summary.private);
    assert!(offer_raw.get("consultation").is_none(), "{offer_raw}");
    assert!(
        !offer_raw.to_string().contains(RESPONDENT_PHONE) && !offer_raw.to_string().contains("赵"),
        "no party data in an offer list"
    );
    // Another's offer is not yours to take.
    let lawyer = app.staff_token("lawyer.zhang").await;
    let accept_path = format!("/api/v1/staff/offers/{}/accept", offer.id);
    expect_error(
        app.post(&accept_path, &lawyer, json!({})).await,
        StatusCode::NOT_FOUND,
        "offer_not_found",
    )
    .await;
    let accepted: StaffCaseView = app.post_as(&accept_path, &chen, json!({})).await;
    let StaffCaseView::Mediation(accepted) = accepted else {
        panic!("the accepted case is a mediation: {accepted:?}")
    };
    assert_eq!(accepted.id, id);
    assert_eq!(accepted.status, "accepted");
    assert_eq!(
        accepted.parties[1].contact.as_deref(),
        Some(RESPONDENT_PHONE)
    );
    expect_error(
        app.post(&accept_path, &chen, json!({})).await,
        StatusCode::CONFLICT,
        "offer_not_pending",
    )
    .await;

    // Pull: the community's step waits (no skipping) while chen is away.
    let admin = app.staff_token("admin").await;
    expect_status(
        app.put(
            "/api/v1/admin/workflows/mediation_three_tier",
            &admin,
            json!({
                "sla": {"accept_minutes": 420, "first_response_minutes": 2100, "resolution_minutes": 12600},
                "ladder": [{"role": "mediator", "level": "community", "timeout_minutes": 60}],
            }),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    app.set_presence("mediator.chen", "away").await;
    let waiting = apply(&app, &resident, "楼下烧烤店油烟扰民，多次投诉未果").await;
    let waiting_id = waiting.id;
    eventually("the mediation to wait in the community's queue", || async {
        let view: MediationView = app
            .get_as(&format!("/api/v1/mediations/{waiting_id}"), &resident)
            .await;
        (view.status == "pooled").then_some(())
    })
    .await;
    // The ladder names mediators: a lawyer of the same community pulls nothing.
    let nothing = app
        .post("/api/v1/staff/next-case", &lawyer, json!({}))
        .await;
    assert_eq!(nothing.status(), StatusCode::NO_CONTENT);
    let pulled: StaffCaseView = app
        .post_as("/api/v1/staff/next-case", &chen, json!({}))
        .await;
    let StaffCaseView::Mediation(pulled) = pulled else {
        panic!("the pulled case is a mediation: {pulled:?}")
    };
    assert_eq!(pulled.id, waiting_id);
    assert_eq!(pulled.status, "accepted");
    assert_eq!(pulled.mediator.as_deref(), Some("陈调解员"));
    let again = app.post("/api/v1/staff/next-case", &chen, json!({})).await;
    assert_eq!(again.status(), StatusCode::NO_CONTENT);
    let mine: MediationView = expect_json(
        app.get(&format!("/api/v1/mediations/{waiting_id}"), &resident)
            .await,
        StatusCode::OK,
    )
    .await;
    assert!(history_of(&mine).iter().any(|(a, _)| a == "claim"));
    app.assert_staff_loads_counted().await;
}

#[tokio::test]
async fn an_unconcluded_mediation_breaches_its_resolution_target_once_and_shows_in_the_summary() {
    let app = TestApp::spawn().await;
    let resident = app.resident_token("slow-case").await;
    let chen = app.staff_token("mediator.chen").await;
    // Accepted and a session booked (the accept and first-response clocks
    // stop), then nothing concluded.
    let (id, _, _) = scheduled_case(
        &app,
        &resident,
        &chen,
        "小区车位被长期占用，协商无果",
        "2027-12-09T01:00:00Z",
        "2027-12-09T02:00:00Z",
    )
    .await;
    let case_id: sansuo_domain::CaseId = id.into();
    let row = sansuo_store::entity::case::Entity::find_by_id(case_id.as_uuid())
        .one(app.app.store.db())
        .await
        .unwrap()
        .unwrap();
    let accepted = row.accepted_at.expect("accepted");
    // The target: 30 working days (of 7 office hours) from the booking.
    // Three calendar weeks hold at most 15 of them: nothing breached.
    app.app
        .worker
        .check_sla(case_id, accepted + chrono::Duration::days(21))
        .await
        .unwrap();
    assert!(
        app.app
            .store
            .routing()
            .sla_breaches_of(case_id)
            .await
            .unwrap()
            .is_empty()
    );
    // Ten weeks hold more than 30 working days whatever the holidays: the
    // resolution target passed, recorded once however often the timer runs.
    let later = accepted + chrono::Duration::days(70);
    app.app.worker.check_sla(case_id, later).await.unwrap();
    app.app.worker.check_sla(case_id, later).await.unwrap();
    let breaches = app
        .app
        .store
        .routing()
        .sla_breaches_of(case_id)
        .await
        .unwrap();
    let clocks: Vec<&str> = breaches.iter().map(|b| b.clock.as_str()).collect();
    assert_eq!(clocks, ["resolution"]);
    // The case stays with its mediator, scheduled; the breach is on file for staff only.
    let theirs: MediationView = expect_json(
        app.get(&format!("/api/v1/staff/mediations/{id}"), &chen)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(theirs.status, "scheduled");
    let breach_events: Vec<_> = history_of(&theirs)
        .into_iter()
        .filter(|(a, _)| a == "sla_breach")
        .collect();
    assert_eq!(breach_events.len(), 1, "{breach_events:?}");
    let mine: MediationView = expect_json(
        app.get(&format!("/api/v1/mediations/{id}"), &resident)
            .await,
        StatusCode::OK,
    )
    .await;
    assert!(!history_of(&mine).iter().any(|(a, _)| a == "sla_breach"));

    let coordinator = app.staff_token("coordinator.sun").await;
    let summary: SummaryStatsView = expect_json(
        app.get(
            &format!(
                "/api/v1/admin/stats/summary?org_unit_id={}&from={}&to={}",
                app.demo.community_a.as_uuid(),
                (accepted - chrono::Duration::days(1))
                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                (later + chrono::Duration::days(1))
                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            ),
            &coordinator,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(summary.sla_breaches.resolution, 1, "{summary:?}");
    assert_eq!(summary.sla_breaches.accept, 0);
    assert_eq!(summary.sla_breaches.first_response, 0);
    app.assert_staff_loads_counted().await;
}

/// Issue 19 (the drill's doubled mediations): a booking retried after a
/// lost answer (a killed instance) with the same Idempotency-Key is the
/// one booking, also when the retries race; the same key with another
/// body is refused as for consultations. Failed on the old code: the
/// header was ignored and every retry stored a second mediation.
#[tokio::test]
async fn a_retried_booking_with_one_idempotency_key_is_one_mediation() {
    use sansuo_store::entity::case;
    let app = TestApp::spawn().await;
    let resident = app.resident_token("retried-booking").await;
    let body = json!({
        "community_id": app.demo.community_a.as_uuid(),
        "category_code": "LJ02",
        "facts": "楼上卫生间漏水三个月，天花板发霉，多次沟通无果",
        "claims": "请对方修好漏水并赔偿天花板维修费",
        "parties": [
            {"role": "applicant", "name": "王小明", "contact": "13812341234"},
            {"role": "respondent", "name": "赵大力", "contact": RESPONDENT_PHONE},
        ],
    });
    let send_as = |resident: &str, body: Value, key: &'static str| {
        app.http
            .post(app.url("/api/v1/mediations"))
            .bearer_auth(resident)
            .header("Idempotency-Key", key)
            .json(&body)
            .send()
    };
    let send = |body: Value, key: &'static str| send_as(&resident, body, key);
    let first = send(body.clone(), "booking-key-0001").await.unwrap();
    assert!(first.headers().get("idempotent-replayed").is_none());
    let first: MediationView = expect_json(first, StatusCode::CREATED).await;
    let again = send(body.clone(), "booking-key-0001").await.unwrap();
    assert_eq!(again.headers().get("idempotent-replayed").unwrap(), "true");
    assert_eq!(
        again.headers().get("location").unwrap().to_str().unwrap(),
        format!("/api/v1/mediations/{}", first.id)
    );
    let again: MediationView = expect_json(again, StatusCode::CREATED).await;
    assert_eq!(again.id, first.id, "the retry is the first booking");

    let mut other = body.clone();
    other["claims"] = json!("换了诉求，但用了同一个幂等键");
    expect_error(
        send(other, "booking-key-0001").await.unwrap(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "idempotency_key_reused",
    )
    .await;

    // Retries racing one another (a phone resending on a flaky network);
    // another resident, as every try counts against the hourly limit of 5.
    let racer = app.resident_token("racing-booking").await;
    let racing = futures::future::join_all(
        (0..4).map(|_| send_as(&racer, body.clone(), "booking-key-0001")),
    )
    .await;
    let mut ids = Vec::new();
    for response in racing {
        let view: MediationView = expect_json(response.unwrap(), StatusCode::CREATED).await;
        ids.push(view.id);
    }
    ids.dedup();
    assert_eq!(ids.len(), 1, "every racing retry answered with one case");
    assert_ne!(ids[0], first.id, "keys are each resident's own");

    for token in [&resident, &racer] {
        let me: sansuo_tests::views::ResidentView = app.get_as("/api/v1/me", token).await;
        let stored = case::Entity::find()
            .filter(case::Column::ResidentId.eq(me.id))
            .filter(case::Column::Service.eq("mediation"))
            .all(app.app.store.db())
            .await
            .unwrap();
        assert_eq!(stored.len(), 1, "one mediation each, no doubles");
    }
    app.assert_staff_loads_counted().await;
}
