//! 督办 (supervision), 延期 (extension) and the overdue view, for
//! consultations, mediations and tips: a coordinator supervises a case of
//! their street with a deadline (its owner is told), lists it, lifts it;
//! the owner asks for more time, the coordinator grants or refuses (the
//! owner is told; a grant moves the resolution clock, a refusal leaves it);
//! another street's coordinator and other owners get 404 with ids in the
//! path and the body, wrong roles 403; a missed deadline climbs to the
//! district; a breach on an owned case reaches the overdue view and the
//! coordinators' streams.

use crate::staff_events::{Stream, as_uuid, spawn_with};
use crate::tips::officer_on_duty;
use chrono::{Duration, Utc};
use reqwest::StatusCode;
use sansuo_domain::sla::{SlaKind, clocks_of};
use sansuo_store::entity::case_event;
use sansuo_store::sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use sansuo_tests::world::StreetB;
use sansuo_tests::{TestApp, TestOptions, eventually, expect_error, expect_status};
use serde_json::{Value, json};
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Consultation,
    Mediation,
    Tip,
}

impl Kind {
    fn service(self) -> &'static str {
        match self {
            Kind::Consultation => "consultation",
            Kind::Mediation => "mediation",
            Kind::Tip => "tip",
        }
    }
    fn path(self) -> &'static str {
        match self {
            Kind::Consultation => "consultations",
            Kind::Mediation => "mediations",
            Kind::Tip => "tips",
        }
    }
    fn owner(self) -> &'static str {
        match self {
            Kind::Consultation => "lawyer.zhang",
            Kind::Mediation => "mediator.chen",
            Kind::Tip => "officer.liu",
        }
    }
    fn other_street_owner(self) -> &'static str {
        match self {
            Kind::Consultation => StreetB::LAWYER,
            Kind::Mediation => StreetB::MEDIATOR,
            Kind::Tip => StreetB::OFFICER,
        }
    }
    fn not_found(self) -> &'static str {
        match self {
            Kind::Consultation => "consultation_not_found",
            Kind::Mediation => "mediation_not_found",
            Kind::Tip => "tip_not_found",
        }
    }
}

/// A case of `kind` filed by a new resident and owned by the demo's
/// handler of that service (whose stream is open from before the offer).
async fn owned_case(app: &TestApp, kind: Kind, owner: &str, stream: &mut Stream) -> Uuid {
    let resident = app
        .resident_token(&format!("supervised-{}", kind.service()))
        .await;
    match kind {
        Kind::Consultation => {
            let case = app.submit(&resident, "公司拖欠工资三个月怎么办？").await;
            stream.expect_kind("offer").await;
            let offer = app.wait_for_offer(owner, &case.id).await;
            let _: Value = app
                .post_as(
                    &format!("/api/v1/staff/offers/{}/accept", offer.id),
                    owner,
                    json!({}),
                )
                .await;
            case.id
        }
        Kind::Mediation => {
            let view = expect_status(
                app.post(
                    "/api/v1/mediations",
                    &resident,
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
            let id = as_uuid(&view["id"]);
            stream.expect_kind("offer").await;
            expect_status(
                app.post(
                    &format!("/api/v1/staff/mediations/{id}/accept"),
                    owner,
                    json!({}),
                )
                .await,
                StatusCode::OK,
            )
            .await;
            id
        }
        Kind::Tip => {
            let view = expect_status(
                app.post(
                    "/api/v1/tips",
                    &resident,
                    json!({
                        "community_id": app.demo.community_a.as_uuid(),
                        "category_code": "ZP01",
                        "description": "3号楼东侧消防通道被电动车和杂物堵死了",
                        "location": {"lat": 31.2646, "lng": 121.5052, "address": "3号楼东侧"},
                        "anonymous": false,
                    }),
                )
                .await,
                StatusCode::CREATED,
            )
            .await;
            let id = as_uuid(&view["tip"]["id"]);
            stream.expect_kind("offer").await;
            expect_status(
                app.post(
                    &format!("/api/v1/staff/tips/{id}/acknowledge"),
                    owner,
                    json!({}),
                )
                .await,
                StatusCode::OK,
            )
            .await;
            id
        }
    }
}

async fn events_of(app: &TestApp, case_id: Uuid, action: &str) -> Vec<case_event::Model> {
    case_event::Entity::find()
        .filter(case_event::Column::CaseId.eq(case_id))
        .filter(case_event::Column::Action.eq(action))
        .all(app.app.store.db())
        .await
        .unwrap()
}

async fn extension_minutes(app: &TestApp, case_id: Uuid) -> i32 {
    app.app
        .store
        .cases()
        .get(case_id.into())
        .await
        .unwrap()
        .unwrap()
        .sla_extension_minutes
}

async fn breached_clocks(app: &TestApp, id: Uuid) -> Vec<SlaKind> {
    app.app
        .store
        .routing()
        .sla_breaches_of(id.into())
        .await
        .unwrap()
        .iter()
        .map(|b| b.clock)
        .collect()
}

fn listed(page: &Value, field: &str, id: Uuid) -> Option<Value> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i[field].as_str() == Some(&id.to_string()))
        .cloned()
}

async fn supervise_and_extend(kind: Kind) {
    let app = spawn_with(TestOptions::default()).await;
    if kind == Kind::Tip {
        officer_on_duty(&app).await;
    }
    let owner = app.staff_token(kind.owner()).await;
    let coordinator = app.staff_token("coordinator.sun").await;
    let mut stream = Stream::open(&app.base_url, &owner, None).await;
    let id = owned_case(&app, kind, &owner, &mut stream).await;
    let mut coordinator_stream = Stream::open(&app.base_url, &coordinator, None).await;
    StreetB::build(&app).await;
    let other = StreetB::token(&app, StreetB::COORDINATOR).await;
    let other_owner = StreetB::token(&app, kind.other_street_owner()).await;

    // 督办, with a deadline two days ahead.
    let supervise = format!("/api/v1/admin/cases/{id}/supervise");
    let deadline = Utc::now() + Duration::days(2);
    let body = json!({"deadline": deadline, "note": "居民多次投诉，请尽快办结"});
    // Another street's coordinator: the path id is not found, whatever the body.
    expect_error(
        app.post(&supervise, &other, body.clone()).await,
        StatusCode::NOT_FOUND,
        "case_not_found",
    )
    .await;
    expect_error(
        app.post(&supervise, &other, json!({"deadline": 7})).await,
        StatusCode::NOT_FOUND,
        "case_not_found",
    )
    .await;
    // Not a coordinator: 403.
    expect_error(
        app.post(&supervise, &owner, body.clone()).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    // A deadline behind now: 422.
    expect_error(
        app.post(
            &supervise,
            &coordinator,
            json!({"deadline": Utc::now() - Duration::hours(1)}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    let made = expect_status(
        app.post(&supervise, &coordinator, body.clone()).await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(as_uuid(&made["case_id"]), id);
    assert_eq!(made["service"], kind.service());
    assert_eq!(made["level"], 0);
    assert_eq!(made["missed"], false);
    assert_eq!(as_uuid(&made["unit_id"]), app.demo.street.as_uuid());
    let told = stream.expect_kind("supervised").await;
    assert_eq!(as_uuid(&told.data["case_id"]), id);
    assert_eq!(told.data["service"], kind.service());
    assert_eq!(told.data["level"], 0);
    assert!(
        !told.data.to_string().contains("投诉"),
        "the note stays off the stream"
    );
    expect_error(
        app.post(&supervise, &coordinator, body).await,
        StatusCode::CONFLICT,
        "already_supervised",
    )
    .await;
    assert_eq!(events_of(&app, id, "supervised").await.len(), 1);

    // Listed for the street's coordinator and the district, not street B's.
    let mine: Value = app
        .get_as("/api/v1/admin/cases/supervised", &coordinator)
        .await;
    let row = listed(&mine, "case_id", id).expect("listed");
    assert_eq!(row["note"], "居民多次投诉，请尽快办结");
    let admin = app.staff_token("admin").await;
    let district: Value = app.get_as("/api/v1/admin/cases/supervised", &admin).await;
    assert!(listed(&district, "case_id", id).is_some());
    let theirs: Value = app.get_as("/api/v1/admin/cases/supervised", &other).await;
    assert!(listed(&theirs, "case_id", id).is_none());

    // 延期: the owner asks, once at a time.
    let extension = format!("/api/v1/staff/{}/{id}/extension", kind.path());
    let ask = json!({"reason": "需等待当事人补充材料", "extra_hours": 16});
    expect_error(
        app.post(&extension, &other_owner, ask.clone()).await,
        StatusCode::NOT_FOUND,
        kind.not_found(),
    )
    .await;
    expect_error(
        app.post(&extension, &coordinator, ask.clone()).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    expect_error(
        app.post(
            &extension,
            &owner,
            json!({"reason": "需等待当事人补充材料", "extra_hours": 0}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    let asked = expect_status(
        app.post(&extension, &owner, ask.clone()).await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(asked["status"], "pending");
    assert_eq!(asked["extra_minutes"], 960);
    let ext = as_uuid(&asked["id"]);
    // The street's coordinator hears of it at once, ids only.
    let heard = coordinator_stream.expect_kind("extension_requested").await;
    assert_eq!(as_uuid(&heard.data["extension_id"]), ext);
    assert_eq!(as_uuid(&heard.data["case_id"]), id);
    assert_eq!(heard.data["service"], kind.service());
    assert_eq!(heard.data["extra_minutes"], 960);
    assert!(!heard.data.to_string().contains("补充材料"));
    // Owner, coordinator and the district's administrator read the same
    // work order on the case; the resident's view has none.
    for reader in [&owner, &coordinator, &admin] {
        let view: Value = app
            .get_as(&format!("/api/v1/staff/{}/{id}", kind.path()), reader)
            .await;
        let order = match kind {
            Kind::Tip => &view["staff"]["work_order"],
            _ => &view["work_order"],
        };
        assert_eq!(order["supervision"]["level"], 0, "{view}");
        assert_eq!(order["supervision"]["note"], "居民多次投诉，请尽快办结");
        assert_eq!(order["extensions"][0]["status"], "pending", "{view}");
        assert_eq!(order["extensions"][0]["extra_minutes"], 960);
    }
    let resident = app
        .resident_token(&format!("supervised-{}", kind.service()))
        .await;
    let theirs: Value = app
        .get_as(&format!("/api/v1/{}/{id}", kind.path()), &resident)
        .await;
    assert!(theirs.get("work_order").is_none(), "{theirs}");
    assert!(!theirs.to_string().contains("补充材料"));
    expect_error(
        app.post(&extension, &owner, ask).await,
        StatusCode::CONFLICT,
        "extension_pending",
    )
    .await;

    // Pending requests: this street's coordinator sees it, street B's does not.
    let pending: Value = app.get_as("/api/v1/admin/extensions", &coordinator).await;
    assert!(listed(&pending, "id", ext).is_some());
    let pending_b: Value = app.get_as("/api/v1/admin/extensions", &other).await;
    assert!(listed(&pending_b, "id", ext).is_none());

    // Street B's coordinator cannot decide it (path id), whatever the body.
    let grant = format!("/api/v1/admin/extensions/{ext}/grant");
    expect_error(
        app.post(&grant, &other, json!({})).await,
        StatusCode::NOT_FOUND,
        "extension_not_found",
    )
    .await;
    expect_error(
        app.post(&grant, &other, json!({"note": 5})).await,
        StatusCode::NOT_FOUND,
        "extension_not_found",
    )
    .await;
    expect_error(
        app.post(&grant, &owner, json!({})).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    assert_eq!(extension_minutes(&app, id).await, 0);

    let granted = expect_status(
        app.post(&grant, &coordinator, json!({"note": "同意延期"}))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(granted["status"], "granted");
    assert_eq!(extension_minutes(&app, id).await, 960);
    let told = stream.expect_kind("extension").await;
    assert_eq!(as_uuid(&told.data["extension_id"]), ext);
    assert_eq!(told.data["status"], "granted");
    expect_error(
        app.post(&grant, &coordinator, json!({})).await,
        StatusCode::CONFLICT,
        "extension_decided",
    )
    .await;
    expect_error(
        app.post(
            &format!("/api/v1/admin/extensions/{ext}/refuse"),
            &coordinator,
            json!({}),
        )
        .await,
        StatusCode::CONFLICT,
        "extension_decided",
    )
    .await;
    let pending: Value = app.get_as("/api/v1/admin/extensions", &coordinator).await;
    assert!(listed(&pending, "id", ext).is_none());
    assert_eq!(events_of(&app, id, "extension_granted").await.len(), 1);

    // Lifted: by street B not at all, by this street once.
    expect_error(
        app.delete(&supervise, &other).await,
        StatusCode::NOT_FOUND,
        "case_not_found",
    )
    .await;
    expect_status(
        app.delete(&supervise, &coordinator).await,
        StatusCode::NO_CONTENT,
    )
    .await;
    expect_error(
        app.delete(&supervise, &coordinator).await,
        StatusCode::NOT_FOUND,
        "supervision_not_found",
    )
    .await;
    let mine: Value = app
        .get_as("/api/v1/admin/cases/supervised", &coordinator)
        .await;
    assert!(listed(&mine, "case_id", id).is_none());
}

#[tokio::test]
async fn a_consultation_is_supervised_and_extended() {
    supervise_and_extend(Kind::Consultation).await;
}

#[tokio::test]
async fn a_mediation_is_supervised_and_extended() {
    supervise_and_extend(Kind::Mediation).await;
}

#[tokio::test]
async fn a_tip_is_supervised_and_extended() {
    supervise_and_extend(Kind::Tip).await;
}

#[tokio::test]
async fn a_missed_supervision_deadline_climbs_to_the_district_and_the_case_ending_ends_it() {
    let app = spawn_with(TestOptions::default()).await;
    let zhang = app.staff_token("lawyer.zhang").await;
    let coordinator = app.staff_token("coordinator.sun").await;
    let admin = app.staff_token("admin").await;
    let mut stream = Stream::open(&app.base_url, &zhang, None).await;
    let mut district = Stream::open(&app.base_url, &admin, None).await;
    let resident = app.resident_token("supervised-climb").await;
    let case = app.submit(&resident, "邻居装修噪音扰民怎么办？").await;
    stream.expect_kind("offer").await;
    let offer = app.wait_for_offer(&zhang, &case.id).await;
    let _: Value = app
        .post_as(
            &format!("/api/v1/staff/offers/{}/accept", offer.id),
            &zhang,
            json!({}),
        )
        .await;
    let id = case.id;

    let deadline = Utc::now() + Duration::hours(1);
    let made = expect_status(
        app.post(
            &format!("/api/v1/admin/cases/{id}/supervise"),
            &coordinator,
            json!({"deadline": deadline}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let supervision = as_uuid(&made["id"]);
    stream.expect_kind("supervised").await;

    // The timer fires early (the relay's job): nothing climbs.
    app.app
        .worker
        .check_supervision(supervision.into(), Utc::now())
        .await
        .unwrap();
    assert!(events_of(&app, id, "supervision_missed").await.is_empty());

    // Two hours on: missed, it climbs to the district's coordinators.
    let later = Utc::now() + Duration::hours(2);
    app.app
        .worker
        .check_supervision(supervision.into(), later)
        .await
        .unwrap();
    app.app
        .worker
        .check_supervision(supervision.into(), later)
        .await
        .unwrap();
    let told = district.expect_kind("supervised").await;
    assert_eq!(as_uuid(&told.data["case_id"]), id);
    assert_eq!(told.data["level"], 1);
    assert_eq!(
        events_of(&app, id, "supervision_missed").await.len(),
        1,
        "it climbs once"
    );
    let listed_now: Value = app
        .get_as("/api/v1/admin/cases/supervised", &coordinator)
        .await;
    let row = listed(&listed_now, "case_id", id).expect("still listed");
    assert_eq!(row["level"], 1);
    assert_eq!(row["missed"], true);
    assert_eq!(as_uuid(&row["unit_id"]), app.demo.district.as_uuid());

    // The case ends (withdrawn): so does its supervision.
    expect_status(
        app.post(
            &format!("/api/v1/consultations/{id}/withdraw"),
            &resident,
            json!({}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let listed_now: Value = app.get_as("/api/v1/admin/cases/supervised", &admin).await;
    assert!(listed(&listed_now, "case_id", id).is_none());
    expect_error(
        app.post(
            &format!("/api/v1/admin/cases/{id}/supervise"),
            &coordinator,
            json!({"deadline": Utc::now() + Duration::days(1)}),
        )
        .await,
        StatusCode::CONFLICT,
        "not_supervisable",
    )
    .await;
}

#[tokio::test]
async fn a_refused_extension_leaves_the_clock_and_a_granted_one_holds_off_the_breach() {
    let app = spawn_with(TestOptions::default()).await;
    let zhang = app.staff_token("lawyer.zhang").await;
    let coordinator = app.staff_token("coordinator.sun").await;
    let mut stream = Stream::open(&app.base_url, &zhang, None).await;
    let id = owned_case(&app, Kind::Consultation, &zhang, &mut stream).await;
    let store = &app.app.store;
    let case_id = id.into();
    let engine_case = store.routing().case(case_id).await.unwrap().unwrap();
    let before = store.routing().case_times(&engine_case).await.unwrap();
    let extension = format!("/api/v1/staff/consultations/{id}/extension");
    let ask = json!({"reason": "需等待当事人补充材料", "extra_hours": 240});

    // Refused: nothing moves.
    let asked = expect_status(
        app.post(&extension, &zhang, ask.clone()).await,
        StatusCode::CREATED,
    )
    .await;
    let refused = expect_status(
        app.post(
            &format!(
                "/api/v1/admin/extensions/{}/refuse",
                asked["id"].as_str().unwrap()
            ),
            &coordinator,
            json!({}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(refused["status"], "refused");
    let told = stream.expect_kind("extension").await;
    assert_eq!(told.data["status"], "refused");
    let engine_case = store.routing().case(case_id).await.unwrap().unwrap();
    assert_eq!(
        store.routing().case_times(&engine_case).await.unwrap(),
        before
    );
    assert_eq!(extension_minutes(&app, id).await, 0);

    // The resolution deadline without an extension.
    let workflow = store
        .routing()
        .workflow_rules(engine_case.workflow().expect("a workflow"))
        .await
        .unwrap()
        .unwrap();
    let calendar = store.catalog().business_calendar().await.unwrap();
    let targets = sansuo_domain::sla::SlaMinutes {
        accept: workflow.sla.accept_minutes,
        first_response: workflow.sla.first_response_minutes,
        resolution: workflow.sla.resolution_minutes,
    };
    let resolution_due = |times: &sansuo_domain::sla::CaseTimes| {
        let clocks = clocks_of(times, targets);
        let (_, clock) = clocks
            .iter()
            .find(|(k, _)| *k == SlaKind::Resolution)
            .unwrap()
            .clone();
        calendar.add(clock.started_at, clock.target).unwrap()
    };
    let nominal = resolution_due(&before);

    // Granted: 240 business hours more; just after the nominal deadline no
    // resolution breach is recorded, just after the extended one it is.
    let asked = expect_status(app.post(&extension, &zhang, ask).await, StatusCode::CREATED).await;
    expect_status(
        app.post(
            &format!(
                "/api/v1/admin/extensions/{}/grant",
                asked["id"].as_str().unwrap()
            ),
            &coordinator,
            json!({}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let engine_case = store.routing().case(case_id).await.unwrap().unwrap();
    let after = store.routing().case_times(&engine_case).await.unwrap();
    assert_eq!(after.resolution_extension_minutes, 240 * 60);
    let extended = resolution_due(&after);
    assert!(extended > nominal);
    app.app
        .worker
        .check_sla(case_id, nominal + Duration::minutes(1))
        .await
        .unwrap();
    assert!(
        !breached_clocks(&app, id)
            .await
            .contains(&SlaKind::Resolution)
    );
    app.app
        .worker
        .check_sla(case_id, extended + Duration::minutes(1))
        .await
        .unwrap();
    assert!(
        breached_clocks(&app, id)
            .await
            .contains(&SlaKind::Resolution)
    );
}

#[tokio::test]
async fn a_breach_on_an_owned_case_reaches_the_overdue_view_and_the_coordinators_streams() {
    let app = spawn_with(TestOptions::default()).await;
    officer_on_duty(&app).await;
    let liu = app.staff_token("officer.liu").await;
    let coordinator = app.staff_token("coordinator.sun").await;
    let admin = app.staff_token("admin").await;
    let mut stream = Stream::open(&app.base_url, &liu, None).await;
    let mut street = Stream::open(&app.base_url, &coordinator, None).await;
    let mut district = Stream::open(&app.base_url, &admin, None).await;
    let id = owned_case(&app, Kind::Tip, &liu, &mut stream).await;
    StreetB::build(&app).await;
    let other = StreetB::token(&app, StreetB::COORDINATOR).await;
    let mut other_stream = Stream::open(&app.base_url, &other, None).await;

    let none: Value = app
        .get_as("/api/v1/admin/cases/overdue", &coordinator)
        .await;
    assert!(listed(&none, "case_id", id).is_none());

    // A month on, the tip's targets have passed.
    let later = Utc::now() + Duration::days(30);
    app.app.worker.check_sla(id.into(), later).await.unwrap();
    let breaches = app
        .app
        .store
        .routing()
        .sla_breaches_of(id.into())
        .await
        .unwrap();
    assert!(!breaches.is_empty(), "the tip breached a target");
    for s in [&mut street, &mut district] {
        let told = s.expect_kind("overdue").await;
        assert_eq!(as_uuid(&told.data["case_id"]), id);
        assert_eq!(told.data["service"], "tip");
        assert!(told.data["clock"].is_string());
    }
    other_stream
        .expect_quiet(std::time::Duration::from_millis(600))
        .await;

    let overdue: Value = eventually("the tip in the overdue view", || async {
        let page: Value = app
            .get_as("/api/v1/admin/cases/overdue", &coordinator)
            .await;
        listed(&page, "case_id", id)
    })
    .await;
    assert_eq!(overdue["service"], "tip");
    assert_eq!(
        as_uuid(&overdue["owner_staff_id"]),
        app.demo.account("officer.liu").id.as_uuid()
    );
    assert_eq!(
        overdue["breaches"].as_array().unwrap().len(),
        breaches.len()
    );
    let theirs: Value = app.get_as("/api/v1/admin/cases/overdue", &other).await;
    assert!(listed(&theirs, "case_id", id).is_none());
    expect_error(
        app.get("/api/v1/admin/cases/overdue", &liu).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
}
