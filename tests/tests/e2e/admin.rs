//! A district set up through the API alone, and the scope rules around it.

use reqwest::StatusCode;
use sansuo_tests::views::{
    CalendarDayList, CalendarDayView, CommunityCardView, DutyShiftList, DutyShiftView, OrgUnitView,
    RoomList, StaffList, StaffProfileView, TokenResponse,
};
use sansuo_tests::{TestApp, expect_error, expect_json, expect_status};
use serde_json::json;

#[tokio::test]
async fn an_administrator_and_a_coordinator_set_up_a_street_through_the_api() {
    let app = TestApp::spawn().await;
    let admin = app.staff_token("admin").await;
    let district = app.demo.district.as_uuid();

    let street: OrgUnitView = expect_json(
        app.post(
            "/api/v1/admin/org-units",
            &admin,
            json!({"kind": "street", "parent_id": district, "name": "嘉兴路街道"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let station: OrgUnitView = expect_json(
        app.post(
            "/api/v1/admin/org-units",
            &admin,
            json!({"kind": "police_station", "parent_id": district, "name": "嘉兴路派出所"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let community: OrgUnitView = expect_json(
        app.post(
            "/api/v1/admin/org-units",
            &admin,
            json!({"kind": "community", "parent_id": street.id, "station_id": station.id, "name": "新港居委", "scene": "hk-xg", "services": ["consultation", "mediation", "tip"]}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    expect_status(
        app.post(
            "/api/v1/admin/org-units",
            &admin,
            json!({"kind": "grid", "parent_id": community.id, "name": "第一网格"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    // The QR code now opens the new community.
    let card: CommunityCardView = expect_json(
        app.http
            .get(app.url("/api/v1/communities/by-scene/hk-xg"))
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        (card.street.as_deref(), card.police_station.as_deref()),
        (Some("嘉兴路街道"), Some("嘉兴路派出所"))
    );

    // A coordinator for the street, who then staffs it.
    let coordinator = json!({"username": "coord.jxl", "password": "a-long-password", "display_name": "嘉兴路协调员", "role": "coordinator", "org_unit_id": street.id});
    expect_status(
        app.post("/api/v1/admin/staff", &admin, coordinator).await,
        StatusCode::CREATED,
    )
    .await;
    let login = app
        .http
        .post(app.url("/api/v1/auth/staff"))
        .json(&json!({"username": "coord.jxl", "password": "a-long-password"}))
        .send()
        .await
        .unwrap();
    let coord = expect_json::<TokenResponse>(login, StatusCode::OK)
        .await
        .access_token;

    let mediator = json!({
        "username": "mediator.wu", "password": "another-long-one", "display_name": "吴调解员", "role": "mediator",
        "org_unit_id": community.id, "capacity": 3, "skills": ["lj", "HY01"], "units": [street.id]
    });
    let created: StaffProfileView = expect_json(
        app.post("/api/v1/admin/staff", &coord, mediator).await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(created.skills, ["HY01", "LJ"]);
    assert_eq!(created.capacity, 3);
    assert_eq!(created.units, [street.id]);
    assert_eq!(created.presence, "available");
    let changed: StaffProfileView = expect_json(
        app.http
            .patch(app.url(&format!("/api/v1/admin/staff/{}", created.id)))
            .bearer_auth(&coord)
            .json(&json!({"capacity": 8, "skills": ["LJ"]}))
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(changed.capacity, 8);
    assert_eq!(changed.skills, ["LJ"]);
    let listed: StaffList = app
        .get_as(
            &format!("/api/v1/admin/staff?org_unit_id={}", community.id),
            &coord,
        )
        .await;
    assert_eq!(listed.items.len(), 1);

    // The mediator goes away and comes back.
    let login = app
        .http
        .post(app.url("/api/v1/auth/staff"))
        .json(&json!({"username": "mediator.wu", "password": "another-long-one"}))
        .send()
        .await
        .unwrap();
    let wu = expect_json::<TokenResponse>(login, StatusCode::OK)
        .await
        .access_token;
    let away: StaffProfileView = expect_json(
        app.http
            .put(app.url("/api/v1/staff/me/presence"))
            .bearer_auth(&wu)
            .json(&json!({"presence": "away"}))
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(away.presence, "away");

    // A night duty shift crossing midnight, a room, and the roster read back.
    let shift = json!({"org_unit_id": community.id, "staff_id": created.id, "starts_at": "2026-11-24T12:00:00Z", "ends_at": "2026-11-25T00:00:00Z"});
    let shift: DutyShiftView = expect_json(
        app.post("/api/v1/admin/duty-shifts", &coord, shift).await,
        StatusCode::CREATED,
    )
    .await;
    let roster: DutyShiftList = app.get_as(&format!("/api/v1/admin/duty-shifts?org_unit_id={}&from=2026-11-24T00:00:00Z&to=2026-11-25T00:00:00Z", community.id), &coord).await;
    assert_eq!(roster.items[0].id, shift.id);
    let room = json!({"org_unit_id": community.id, "name": "新港居委调解室", "opening_hours": "周一至周五 09:00–17:00"});
    expect_status(
        app.post("/api/v1/admin/rooms", &coord, room).await,
        StatusCode::CREATED,
    )
    .await;
    let rooms: RoomList = app
        .get_as(
            &format!("/api/v1/admin/rooms?org_unit_id={}", community.id),
            &coord,
        )
        .await;
    assert_eq!(rooms.items[0].name, "新港居委调解室");
    let removed = app
        .http
        .delete(app.url(&format!("/api/v1/admin/duty-shifts/{}", shift.id)))
        .bearer_auth(&coord)
        .send()
        .await
        .unwrap();
    assert_eq!(removed.status(), StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn administration_stays_inside_the_callers_subtree() {
    let app = TestApp::spawn().await;
    let admin = app.staff_token("admin").await;
    let coordinator = app.staff_token("coordinator.sun").await; // street 欧阳路街道
    let lawyer = app.staff_token("lawyer.zhang").await;
    let district = app.demo.district.as_uuid();
    let other_street: OrgUnitView = expect_json(
        app.post(
            "/api/v1/admin/org-units",
            &admin,
            json!({"kind": "street", "parent_id": district, "name": "曲阳路街道"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;

    // The street coordinator cannot reach a sibling street or the district:
    // outside their subtree, units read as absent (ids reveal nothing).
    let outside = json!({"kind": "community", "parent_id": other_street.id, "name": "外面的居委"});
    expect_error(
        app.post("/api/v1/admin/org-units", &coordinator, outside)
            .await,
        StatusCode::NOT_FOUND,
        "org_unit_not_found",
    )
    .await;
    expect_error(
        app.get(
            &format!("/api/v1/admin/org-units?parent_id={district}"),
            &coordinator,
        )
        .await,
        StatusCode::NOT_FOUND,
        "org_unit_not_found",
    )
    .await;
    let staff_outside = json!({"username": "x.outside", "password": "long-enough-pw", "display_name": "X", "role": "mediator", "org_unit_id": other_street.id});
    expect_error(
        app.post("/api/v1/admin/staff", &coordinator, staff_outside)
            .await,
        StatusCode::NOT_FOUND,
        "org_unit_not_found",
    )
    .await;
    // Nor create administrators, nor touch the calendar.
    let new_admin = json!({"username": "x.admin", "password": "long-enough-pw", "display_name": "X", "role": "admin", "org_unit_id": app.demo.street.as_uuid()});
    expect_error(
        app.post("/api/v1/admin/staff", &coordinator, new_admin)
            .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    let holiday = json!({"kind": "holiday", "source": "test"});
    expect_error(
        app.http
            .put(app.url("/api/v1/admin/calendar/2027-01-01"))
            .bearer_auth(&coordinator)
            .json(&holiday)
            .send()
            .await
            .unwrap(),
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    // Staff of another street are invisible to this coordinator.
    let theirs = json!({"username": "mediator.far", "password": "long-enough-pw", "display_name": "远", "role": "mediator", "org_unit_id": other_street.id});
    let theirs: StaffProfileView = expect_json(
        app.post("/api/v1/admin/staff", &admin, theirs).await,
        StatusCode::CREATED,
    )
    .await;
    let patch = app
        .http
        .patch(app.url(&format!("/api/v1/admin/staff/{}", theirs.id)))
        .bearer_auth(&coordinator)
        .json(&json!({"active": false}))
        .send()
        .await
        .unwrap();
    expect_error(patch, StatusCode::NOT_FOUND, "staff_not_found").await;
    // Lawyers and residents are not administrators at all.
    expect_error(
        app.get("/api/v1/admin/org-units", &lawyer).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    let resident = app.resident_token("curious").await;
    expect_error(
        app.get("/api/v1/admin/staff", &resident).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
}

#[tokio::test]
async fn bad_administrative_input_is_refused_with_codes() {
    let app = TestApp::spawn().await;
    let admin = app.staff_token("admin").await;
    let district = app.demo.district.as_uuid();
    let street = app.demo.street.as_uuid();
    // Wrong shape of the tree.
    expect_error(
        app.post(
            "/api/v1/admin/org-units",
            &admin,
            json!({"kind": "community", "parent_id": district, "name": "直属居委"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    expect_error(
        app.post(
            "/api/v1/admin/org-units",
            &admin,
            json!({"kind": "district", "parent_id": district, "name": "x"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_body",
    )
    .await;
    // A scene already used, or not a WeChat scene.
    expect_error(
        app.post(
            "/api/v1/admin/org-units",
            &admin,
            json!({"kind": "community", "parent_id": street, "name": "重复", "scene": "hk-jjq"}),
        )
        .await,
        StatusCode::CONFLICT,
        "scene_taken",
    )
    .await;
    expect_error(
        app.post(
            "/api/v1/admin/org-units",
            &admin,
            json!({"kind": "community", "parent_id": street, "name": "坏码", "scene": "有中文"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    expect_error(
        app.post(
            "/api/v1/admin/org-units",
            &admin,
            json!({"kind": "street", "parent_id": uuid::Uuid::now_v7(), "name": "x"}),
        )
        .await,
        StatusCode::NOT_FOUND,
        "org_unit_not_found",
    )
    .await;
    // Staff: taken username, weak password, unknown skill, silly capacity.
    let base = json!({"username": "lawyer.zhang", "password": "long-enough-pw", "display_name": "重名", "role": "lawyer", "org_unit_id": street});
    expect_error(
        app.post("/api/v1/admin/staff", &admin, base.clone()).await,
        StatusCode::CONFLICT,
        "username_taken",
    )
    .await;
    let mut weak = base.clone();
    weak["username"] = json!("new.one");
    weak["password"] = json!("short");
    expect_error(
        app.post("/api/v1/admin/staff", &admin, weak).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    let mut skill = base.clone();
    skill["username"] = json!("new.two");
    skill["skills"] = json!(["ZZ99"]);
    expect_error(
        app.post("/api/v1/admin/staff", &admin, skill).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    let mut capacity = base;
    capacity["username"] = json!("new.three");
    capacity["capacity"] = json!(0);
    expect_error(
        app.post("/api/v1/admin/staff", &admin, capacity).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    // A shift that ends before it starts, or lasts two days.
    let staff_id = app.demo.account("officer.liu").id.as_uuid();
    let backwards = json!({"org_unit_id": app.demo.police_station.as_uuid(), "staff_id": staff_id, "starts_at": "2026-11-24T12:00:00Z", "ends_at": "2026-11-24T08:00:00Z"});
    expect_error(
        app.post("/api/v1/admin/duty-shifts", &admin, backwards)
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    let long = json!({"org_unit_id": app.demo.police_station.as_uuid(), "staff_id": staff_id, "starts_at": "2026-11-24T00:00:00Z", "ends_at": "2026-11-26T00:00:00Z"});
    expect_error(
        app.post("/api/v1/admin/duty-shifts", &admin, long).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
}

#[tokio::test]
async fn the_calendar_is_seeded_and_next_years_notice_is_entered_through_the_api() {
    let app = TestApp::spawn().await;
    let admin = app.staff_token("admin").await;
    let days: CalendarDayList = app
        .get_as(
            "/api/v1/admin/calendar?from=2026-10-01&to=2026-10-31",
            &admin,
        )
        .await;
    let kinds: Vec<(chrono::NaiveDate, &str)> = days
        .items
        .iter()
        .map(|d| (d.day, d.kind.as_str()))
        .collect();
    assert_eq!(
        kinds.len(),
        8,
        "National Day week plus the make-up Saturday: {kinds:?}"
    );
    assert!(kinds.contains(&("2026-10-10".parse().unwrap(), "workday")));

    let new_year = json!({"kind": "holiday", "source": "2027 notice"});
    let set = app
        .http
        .put(app.url("/api/v1/admin/calendar/2027-01-01"))
        .bearer_auth(&admin)
        .json(&new_year)
        .send()
        .await
        .unwrap();
    assert_eq!(
        expect_json::<CalendarDayView>(set, StatusCode::OK)
            .await
            .kind,
        "holiday"
    );
    let calendar = app.app.store.catalog().business_calendar().await.unwrap();
    assert_eq!(
        calendar.working_time_on(chrono::NaiveDate::from_ymd_opt(2027, 1, 1).unwrap()),
        chrono::Duration::zero()
    );
    let gone = app
        .http
        .delete(app.url("/api/v1/admin/calendar/2027-01-01"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), StatusCode::NO_CONTENT);
    let again = app
        .http
        .delete(app.url("/api/v1/admin/calendar/2027-01-01"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    expect_error(again, StatusCode::NOT_FOUND, "calendar_day_not_found").await;
    expect_error(
        app.get(
            "/api/v1/admin/calendar?from=2026-12-01&to=2026-01-01",
            &admin,
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
}
