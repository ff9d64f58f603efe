//! Issue #13's scope findings, each as an attack: ids of another street
//! named in a path or a body answer 404, as if they did not exist, and a
//! non-owner learns nothing about a case's state.

use reqwest::StatusCode;
use sansuo_tests::views::{MediationView, StaffList};
use sansuo_tests::world::StreetB;
use sansuo_tests::{TestApp, eventually, expect_error, expect_json, expect_status};
use serde_json::{Value, json};
use uuid::Uuid;

async fn demo_firm(app: &TestApp, admin: &str) -> Uuid {
    let staff: StaffList = app
        .get_as(
            &format!(
                "/api/v1/admin/staff?org_unit_id={}",
                app.demo.street.as_uuid()
            ),
            admin,
        )
        .await;
    staff
        .items
        .iter()
        .find(|s| s.username == "lawyer.wang")
        .and_then(|s| s.law_firm_id)
        .expect("the demo firm")
}

#[tokio::test]
async fn a_coordinator_names_no_body_id_of_another_street() {
    let app = TestApp::spawn().await;
    let b = StreetB::build(&app).await;
    let admin = app.staff_token("admin").await;
    let coordinator_b = StreetB::token(&app, StreetB::COORDINATOR).await;
    let firm_a = demo_firm(&app, &admin).await;

    // Street A's firm, for a lawyer of street B: that lawyer would join
    // street A's pool and be offered its residents' cases.
    let lawyer = json!({"username": "lawyer.b2", "password": "a-long-password", "display_name": "乙律师",
                        "role": "lawyer", "org_unit_id": b.street, "law_firm_id": firm_a});
    expect_error(
        app.post("/api/v1/admin/staff", &coordinator_b, lawyer)
            .await,
        StatusCode::NOT_FOUND,
        "law_firm_not_found",
    )
    .await;
    // Street A's police station, for a community of street B: its tips
    // would reach street A's officers.
    let community = json!({"kind": "community", "parent_id": b.street, "station_id": app.demo.police_station.as_uuid(),
                           "name": "越界居委"});
    expect_error(
        app.post("/api/v1/admin/org-units", &coordinator_b, community)
            .await,
        StatusCode::NOT_FOUND,
        "org_unit_not_found",
    )
    .await;
    // A home unit in street A reads as absent, not as forbidden.
    let outside = json!({"username": "x.outside", "password": "a-long-password", "display_name": "X",
                         "role": "mediator", "org_unit_id": app.demo.community_a.as_uuid()});
    expect_error(
        app.post("/api/v1/admin/staff", &coordinator_b, outside)
            .await,
        StatusCode::NOT_FOUND,
        "org_unit_not_found",
    )
    .await;
    // Its own station and its own street's firm-less lawyer are fine.
    let own = json!({"kind": "community", "parent_id": b.street, "station_id": b.station, "name": "界内居委"});
    expect_status(
        app.post("/api/v1/admin/org-units", &coordinator_b, own)
            .await,
        StatusCode::CREATED,
    )
    .await;
}

#[tokio::test]
async fn a_duty_shift_is_for_an_officer_of_that_station() {
    let app = TestApp::spawn().await;
    let b = StreetB::build(&app).await;
    let admin = app.staff_token("admin").await;
    let now = chrono::Utc::now();
    let shift = json!({"org_unit_id": app.demo.police_station.as_uuid(), "staff_id": b.officer,
                       "starts_at": now, "ends_at": now + chrono::Duration::hours(8)});
    expect_error(
        app.post("/api/v1/admin/duty-shifts", &admin, shift).await,
        StatusCode::NOT_FOUND,
        "staff_not_found",
    )
    .await;
}

async fn accepted_mediation(app: &TestApp, resident: &str, chen: &str) -> Uuid {
    let body = json!({
        "community_id": app.demo.community_a.as_uuid(),
        "category_code": "LJ02",
        "facts": "楼上卫生间漏水，我家天花板发霉，多次沟通没有结果",
        "claims": "请对方修好漏水并赔偿天花板维修费",
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
    let path = format!("/api/v1/staff/mediations/{}", applied.id);
    eventually("the mediation to be offered", || async {
        (app.get(&path, chen).await.status() == StatusCode::OK).then_some(())
    })
    .await;
    expect_status(
        app.post(&format!("{path}/accept"), chen, json!({})).await,
        StatusCode::OK,
    )
    .await;
    applied.id
}

#[tokio::test]
async fn a_mediator_books_no_room_of_another_street() {
    let app = TestApp::spawn().await;
    let b = StreetB::build(&app).await;
    let resident = app.resident_token("room-booker").await;
    let chen = app.staff_token("mediator.chen").await;
    let id = accepted_mediation(&app, &resident, &chen).await;
    expect_error(
        app.post(
            &format!("/api/v1/staff/mediations/{id}/sessions"),
            &chen,
            json!({"room_id": b.room, "starts_at": "2027-12-08T01:00:00Z", "ends_at": "2027-12-08T02:00:00Z"}),
        )
        .await,
        StatusCode::NOT_FOUND,
        "room_not_found",
    )
    .await;
}

#[tokio::test]
async fn a_non_owner_learns_nothing_of_a_mediations_state() {
    let app = TestApp::spawn().await;
    StreetB::build(&app).await;
    let resident = app.resident_token("oracle").await;
    let chen = app.staff_token("mediator.chen").await;
    let mediator_b = StreetB::token(&app, StreetB::MEDIATOR).await;
    let id = accepted_mediation(&app, &resident, &chen).await;
    let base = format!("/api/v1/staff/mediations/{id}");
    let rooms: Value = app
        .get_as(
            &format!(
                "/api/v1/admin/rooms?org_unit_id={}",
                app.demo.community_a.as_uuid()
            ),
            &app.staff_token("admin").await,
        )
        .await;
    let room = rooms["items"][0]["id"].as_str().unwrap().to_owned();
    let booked: MediationView = expect_json(
        app.post(
            &format!("{base}/sessions"),
            &chen,
            json!({"room_id": room, "starts_at": "2027-12-08T01:00:00Z", "ends_at": "2027-12-08T02:00:00Z"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let session = booked.sessions[0].id;
    app.begin_session(session).await;
    expect_status(
        app.post(
            &format!("{base}/sessions/{session}/held"),
            &chen,
            json!({"attendees": "双方当事人", "minutes": "双方同意分期赔偿"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    expect_status(
        app.post(
            &format!("{base}/agreement"),
            &chen,
            json!({"kind": "written", "terms": "12月31日前赔偿维修费800元", "performance_method": "分两期转账",
                   "perform_by": "2026-12-31", "effective_on": "2026-12-09"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    // Past the deadline, and not theirs: "not found", not "deadline passed".
    for body in [
        json!({"applied_on": "2027-03-01", "court": "虹口区人民法院"}),
        json!({"applied_on": "2026-12-15", "court": "虹口区人民法院"}),
    ] {
        expect_error(
            app.post(&format!("{base}/confirmation"), &mediator_b, body)
                .await,
            StatusCode::NOT_FOUND,
            "mediation_not_found",
        )
        .await;
    }
}

async fn report_tip(app: &TestApp, resident: &str, community: Uuid) -> Uuid {
    let body = json!({
        "community_id": community,
        "category_code": "ZP01",
        "description": "3号楼东侧消防通道被电动车和杂物堵死了，晚上有人在楼道充电",
        "location": {"lat": 31.2646, "lng": 121.5052, "address": "3号楼东侧"},
        "anonymous": false,
    });
    let receipt: Value = expect_json(
        app.post("/api/v1/tips", resident, body).await,
        StatusCode::CREATED,
    )
    .await;
    receipt["tip"]["id"].as_str().unwrap().parse().unwrap()
}

#[tokio::test]
async fn a_tip_is_no_duplicate_of_another_stations_tip() {
    let app = TestApp::spawn().await;
    let b = StreetB::build(&app).await;
    let alice = app.resident_token("dup-a").await;
    let bob = app.resident_token("dup-b").await;
    let liu = app.staff_token("officer.liu").await;
    let ours = report_tip(&app, &alice, app.demo.community_a.as_uuid()).await;
    let theirs = report_tip(&app, &bob, b.community).await;
    let path = format!("/api/v1/staff/tips/{ours}");
    eventually("the tip to be offered to the officer", || async {
        (app.get(&path, &liu).await.status() == StatusCode::OK).then_some(())
    })
    .await;
    expect_status(
        app.post(&format!("{path}/acknowledge"), &liu, json!({}))
            .await,
        StatusCode::OK,
    )
    .await;
    expect_error(
        app.post(
            &format!("{path}/duplicate"),
            &liu,
            json!({"original_id": theirs}),
        )
        .await,
        StatusCode::NOT_FOUND,
        "tip_not_found",
    )
    .await;
}

#[tokio::test]
async fn a_case_is_reassigned_only_to_its_services_role() {
    let app = TestApp::spawn().await;
    let resident = app.resident_token("reassign").await;
    let coordinator = app.staff_token("coordinator.sun").await;
    let tip = report_tip(&app, &resident, app.demo.community_a.as_uuid()).await;
    // Routed first (offered to the duty officer), so the move below does
    // not race the router.
    let liu_token = app.staff_token("officer.liu").await;
    let path = format!("/api/v1/staff/tips/{tip}");
    eventually("the tip to be offered to the officer", || async {
        (app.get(&path, &liu_token).await.status() == StatusCode::OK).then_some(())
    })
    .await;
    let zhang = app.demo.account("lawyer.zhang").id.as_uuid();
    // A tip goes to an officer, never to a lawyer (who would then read
    // the reporter's evidence photos).
    expect_error(
        app.post(
            &format!("/api/v1/admin/cases/{tip}/reassign"),
            &coordinator,
            json!({"staff_id": zhang, "reason": "试试把举报交给律师"}),
        )
        .await,
        StatusCode::NOT_FOUND,
        "staff_not_found",
    )
    .await;
    let liu = app.demo.account("officer.liu").id.as_uuid();
    expect_status(
        app.post(
            &format!("/api/v1/admin/cases/{tip}/reassign"),
            &coordinator,
            json!({"staff_id": liu, "reason": "值班民警直接处理"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
}

/// The mediators a resident asks for or refuses are body ids like any
/// other: one of another street, someone who is not a mediator, or no one
/// at all is 404 `staff_not_found`; the community's own mediators and one
/// over its street (the district's) are taken.
#[tokio::test]
async fn a_resident_names_no_mediator_of_another_street() {
    let app = TestApp::spawn().await;
    let b = StreetB::build(&app).await;
    let admin = app.staff_token("admin").await;
    let district_mediator = expect_json::<sansuo_api::views::StaffProfileView>(
        app.post(
            "/api/v1/admin/staff",
            &admin,
            json!({
                "username": "mediator.district", "password": "long-enough-pw",
                "display_name": "区调解员", "role": "mediator",
                "org_unit_id": app.demo.district.as_uuid(),
            }),
        )
        .await,
        StatusCode::CREATED,
    )
    .await
    .id;
    let chen = app.demo.account("mediator.chen").id.as_uuid();
    let zhang = app.demo.account("lawyer.zhang").id.as_uuid();
    let app = &app;
    // A resident per application: bookings are limited to five an hour.
    let applications = std::sync::atomic::AtomicUsize::new(0);
    let apply = |extra: Value| {
        let n = applications.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
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
        async move {
            let resident = app.resident_token(&format!("mediator-chooser-{n}")).await;
            app.post("/api/v1/mediations", &resident, body).await
        }
    };
    for absent in [b.mediator, zhang, Uuid::now_v7()] {
        expect_error(
            apply(json!({"requested_mediator_id": absent})).await,
            StatusCode::NOT_FOUND,
            "staff_not_found",
        )
        .await;
        expect_error(
            apply(json!({"refused_mediator_ids": [chen, absent]})).await,
            StatusCode::NOT_FOUND,
            "staff_not_found",
        )
        .await;
    }
    expect_json::<MediationView>(
        apply(json!({"requested_mediator_id": chen, "refused_mediator_ids": [district_mediator]}))
            .await,
        StatusCode::CREATED,
    )
    .await;
    expect_json::<MediationView>(
        apply(json!({"requested_mediator_id": district_mediator})).await,
        StatusCode::CREATED,
    )
    .await;
}

/// Another street's id in the path wins over anything wrong with the body:
/// the 404 answers, never the body's 400/415/422, whichever extractor
/// finishes first. Before, the body was read while the path id was still
/// being looked up, so a malformed body answered 400 and told a stranger
/// nothing was wrong with the id. Many rounds: it was a race.
#[tokio::test]
async fn another_streets_path_id_answers_404_before_a_malformed_body() {
    const ROUNDS: usize = 25;
    let app = TestApp::spawn().await;
    let b = StreetB::build(&app).await;
    let coordinator_b = StreetB::token(&app, StreetB::COORDINATOR).await;
    let send = |path: String, content_type: &'static str, body: &'static str| {
        app.http
            .patch(app.url(&path))
            .bearer_auth(&coordinator_b)
            .header("Content-Type", content_type)
            .body(body)
    };
    // Not JSON (400), the wrong shape (422), not declared as JSON (415).
    let bodies = [
        ("application/json", "{\"name\": "),
        ("application/json", "{\"name\": 42}"),
        ("text/plain", "{\"name\": \"x\"}"),
    ];
    let theirs = [
        (
            format!("/api/v1/admin/org-units/{}", app.demo.community_a.as_uuid()),
            "org_unit_not_found",
        ),
        (
            format!(
                "/api/v1/admin/staff/{}",
                app.demo.account("lawyer.zhang").id.as_uuid()
            ),
            "staff_not_found",
        ),
    ];
    for round in 0..ROUNDS {
        for (path, code) in &theirs {
            for (content_type, body) in bodies {
                let response = send(path.clone(), content_type, body).send().await.unwrap();
                let status = response.status();
                let text = response.text().await.unwrap();
                assert_eq!(
                    status,
                    StatusCode::NOT_FOUND,
                    "round {round}: PATCH {path} with {body:?} ({content_type}) answered {text}"
                );
                let error: Value = serde_json::from_str(&text).unwrap();
                assert_eq!(error["error"]["code"], *code, "round {round}: {text}");
            }
        }
    }
    // In scope, the body's own error still answers.
    let ours = format!("/api/v1/admin/org-units/{}", b.community);
    for ((content_type, body), (status, code)) in bodies.into_iter().zip([
        (StatusCode::BAD_REQUEST, "malformed_json"),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid_body"),
        (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type"),
    ]) {
        expect_error(
            send(ours.clone(), content_type, body).send().await.unwrap(),
            status,
            code,
        )
        .await;
    }
}

/// Issue #15: a coordinator supervises, so reads every case of their
/// street, of every service (full thread with internal notes, full
/// history, the parties masked as for any non-owner), and none of another
/// street's (404, as if absent). Reading gives no handler's verb.
#[tokio::test]
async fn a_coordinator_reads_every_case_of_their_street_and_none_of_another() {
    let app = TestApp::spawn().await;
    let b = StreetB::build(&app).await;
    let resident = app.resident_token("supervised").await;
    let resident_b = app.resident_token("supervised-b").await;
    let sun = app.staff_token("coordinator.sun").await;
    let coordinator_b = StreetB::token(&app, StreetB::COORDINATOR).await;
    let zhang = app.staff_token("lawyer.zhang").await;
    let chen = app.staff_token("mediator.chen").await;

    // Street A: a consultation zhang took and noted internally, a mediation
    // chen accepted (the applicant's phone 13812341234), a tip.
    let consultation = app
        .submit(&resident, "房东不退押金，说墙面有污渍要扣钱，合理吗？")
        .await
        .id;
    let offer = app.wait_for_offer(&zhang, &consultation).await;
    app.accept_offer(&zhang, &offer).await;
    expect_status(
        app.post(
            &format!("/api/v1/staff/consultations/{consultation}/messages"),
            &zhang,
            json!({"body": "内部备注：先核对租约条款", "visibility": "internal"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let mediation = accepted_mediation(&app, &resident, &chen).await;
    let tip = report_tip(&app, &resident, app.demo.community_a.as_uuid()).await;
    // Street B: a tip.
    let tip_b = report_tip(&app, &resident_b, b.community).await;

    let consultation_path = format!("/api/v1/staff/consultations/{consultation}");
    let mediation_path = format!("/api/v1/staff/mediations/{mediation}");
    let case_file_path = format!("{mediation_path}/case-file");
    let tip_path = format!("/api/v1/staff/tips/{tip}");
    let tip_b_path = format!("/api/v1/staff/tips/{tip_b}");

    // Street A's coordinator reads each of street A's cases.
    let read = expect_status(app.get(&consultation_path, &sun).await, StatusCode::OK).await;
    let text = read.to_string();
    assert!(
        text.contains("内部备注：先核对租约条款"),
        "the internal note: {text}"
    );
    assert!(
        read["history"]
            .as_array()
            .is_some_and(|h| h.iter().any(|e| e["action"] == "offer")),
        "the staff-only history: {text}"
    );
    for path in [&mediation_path, &case_file_path] {
        let read = expect_status(app.get(path, &sun).await, StatusCode::OK).await;
        let text = read.to_string();
        assert!(text.contains("138****1234"), "masked: {text}");
        assert!(
            !text.contains("13812341234"),
            "the phone stays masked: {text}"
        );
        assert!(!text.contains("王小明"), "the name stays masked: {text}");
    }
    let page = app
        .get(&format!("{case_file_path}?format=html"), &sun)
        .await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("138****1234") && !html.contains("13812341234"));
    let read = expect_status(app.get(&tip_path, &sun).await, StatusCode::OK).await;
    assert!(read["staff"].is_object(), "the staff detail: {read}");
    // The owner still sees the parties in full.
    let owned = expect_status(app.get(&mediation_path, &chen).await, StatusCode::OK).await;
    assert!(owned.to_string().contains("13812341234"));

    // Another street's case, for street A's coordinator: absent. Its own
    // coordinator reads it.
    expect_error(
        app.get(&tip_b_path, &sun).await,
        StatusCode::NOT_FOUND,
        "tip_not_found",
    )
    .await;
    expect_status(app.get(&tip_b_path, &coordinator_b).await, StatusCode::OK).await;
    // A case of another service under this service's path: absent too.
    expect_error(
        app.get(&format!("/api/v1/staff/consultations/{tip}"), &sun)
            .await,
        StatusCode::NOT_FOUND,
        "consultation_not_found",
    )
    .await;
    expect_error(
        app.get(&format!("/api/v1/staff/tips/{mediation}"), &sun)
            .await,
        StatusCode::NOT_FOUND,
        "tip_not_found",
    )
    .await;

    // Street B's coordinator names street A's cases: 404, never 403.
    for (path, code) in [
        (&consultation_path, "consultation_not_found"),
        (&mediation_path, "mediation_not_found"),
        (&case_file_path, "mediation_not_found"),
        (&tip_path, "tip_not_found"),
    ] {
        expect_error(
            app.get(path, &coordinator_b).await,
            StatusCode::NOT_FOUND,
            code,
        )
        .await;
    }

    // Reading is not owning: no handler's verb for the coordinator.
    for (path, body) in [
        (
            format!("{consultation_path}/messages"),
            json!({"body": "协调员不能答复"}),
        ),
        (
            format!("{mediation_path}/decline"),
            json!({"reason": "协调员不能拒绝"}),
        ),
        (format!("{tip_path}/acknowledge"), json!({})),
    ] {
        expect_error(
            app.post(&path, &sun, body).await,
            StatusCode::FORBIDDEN,
            "forbidden",
        )
        .await;
    }
    // Nor may an administrator, lawyer or officer read another service's
    // staff view through this: the roles stay as they were.
    let liu = app.staff_token("officer.liu").await;
    expect_error(
        app.get(&consultation_path, &liu).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    expect_error(
        app.get(&tip_path, &zhang).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
}
