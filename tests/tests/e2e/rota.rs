//! A recurring duty rota (issue #14, item 2): "24/7 in three shifts" for a
//! police station in one call, read by dispatch as it stands (the officer
//! whose shift covers the moment gets the tip), exceptions, and scope.

use chrono::{DateTime, FixedOffset, NaiveDate, TimeZone, Timelike, Utc};
use reqwest::StatusCode;
use sansuo_domain::StaffRole;
use sansuo_tests::views::{
    OfferList, OrgUnitView, RotaList, RotaPreview, RotaView, StaffProfileView, TipReceipt,
    TokenResponse,
};
use sansuo_tests::world::StreetB;
use sansuo_tests::{TestApp, eventually, expect_error, expect_json, expect_status};
use serde_json::{Value, json};
use uuid::Uuid;

const PASSWORD: &str = "rota-officer-password";

fn shanghai() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).unwrap()
}

/// A Shanghai wall-clock time as an instant.
fn local(day: NaiveDate, hour: u32) -> DateTime<Utc> {
    shanghai()
        .from_local_datetime(&day.and_hms_opt(hour, 0, 0).unwrap())
        .single()
        .unwrap()
        .with_timezone(&Utc)
}

/// A Sunday ahead of today (the rota starts on 2026-11-30, a Monday).
fn a_sunday() -> NaiveDate {
    let mut day = Utc::now().with_timezone(&shanghai()).date_naive() + chrono::Duration::days(1);
    while day.format("%a").to_string() != "Sun" {
        day += chrono::Duration::days(1);
    }
    day
}

struct Station {
    station: Uuid,
    community: Uuid,
    /// Day (08–16), evening (16–24), night (00–08).
    officers: [Uuid; 3],
    usernames: [String; 3],
}

/// A new police station with a community it polices and three officers,
/// through the admin API.
async fn station(app: &TestApp, admin: &str) -> Station {
    let district = app.demo.district.as_uuid();
    let street = app.demo.street.as_uuid();
    let unit = |body: Value| async move {
        expect_json::<OrgUnitView>(
            app.post("/api/v1/admin/org-units", admin, body).await,
            StatusCode::CREATED,
        )
        .await
        .id
    };
    let station =
        unit(json!({"kind": "police_station", "parent_id": district, "name": "排班派出所"})).await;
    let community = unit(json!({
        "kind": "community", "parent_id": street, "station_id": station, "name": "排班居委",
        "scene": "hk-rota", "services": ["consultation", "mediation", "tip"]
    }))
    .await;
    let mut officers = [Uuid::nil(); 3];
    let usernames = ["rota.day", "rota.evening", "rota.night"].map(str::to_owned);
    for (i, username) in usernames.iter().enumerate() {
        let body = json!({
            "username": username, "password": PASSWORD, "display_name": username,
            "role": "officer", "org_unit_id": station,
        });
        officers[i] = expect_json::<StaffProfileView>(
            app.post("/api/v1/admin/staff", admin, body).await,
            StatusCode::CREATED,
        )
        .await
        .id;
    }
    Station {
        station,
        community,
        officers,
        usernames,
    }
}

fn three_shifts(officers: &[Uuid; 3], exceptions: Value) -> Value {
    json!({
        "starts_on": "2026-11-30",
        "slots": [
            {"days": "every_day", "start": "08:00", "end": "16:00", "staff": [officers[0]]},
            {"days": "every_day", "start": "16:00", "end": "24:00", "staff": [officers[1]]},
            {"days": "every_day", "start": "00:00", "end": "08:00", "staff": [officers[2]]},
        ],
        "exceptions": exceptions,
    })
}

fn rota_path(unit: Uuid) -> String {
    format!("/api/v1/admin/org-units/{unit}/duty-rota")
}

/// Who dispatch would see on duty at the station at `at`.
async fn on_duty_at(app: &TestApp, station: Uuid, at: DateTime<Utc>) -> Vec<Uuid> {
    let mut on: Vec<Uuid> = app
        .app
        .store
        .staffing()
        .dispatch_snapshots(StaffRole::Officer, station.into(), at)
        .await
        .unwrap()
        .into_iter()
        .filter(|s| s.on_duty)
        .map(|s| s.id.as_uuid())
        .collect();
    on.sort();
    on
}

async fn login(app: &TestApp, username: &str) -> String {
    let response = app
        .http
        .post(app.url("/api/v1/auth/staff"))
        .json(&json!({"username": username, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    expect_json::<TokenResponse>(response, StatusCode::OK)
        .await
        .access_token
}

#[tokio::test]
async fn a_three_shift_rota_written_in_one_call_puts_the_right_officer_on_duty() {
    let app = TestApp::spawn().await;
    let admin = app.staff_token("admin").await;
    let s = station(&app, &admin).await;

    // Before: nobody of the new station is on duty (the old code had only
    // single shifts, so a rota could not put anyone there).
    let sunday = a_sunday();
    assert_eq!(
        on_duty_at(&app, s.station, local(sunday, 3)).await,
        Vec::<Uuid>::new()
    );

    let created: RotaView = expect_json(
        app.put(
            &rota_path(s.station),
            &admin,
            three_shifts(&s.officers, json!([])),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(created.org_unit_id, s.station);
    assert_eq!(created.rota.slots.len(), 3);

    // 03:00 on a Sunday is the night officer's, 10:00 the day officer's,
    // 23:59 the evening officer's; nobody else of the station.
    assert_eq!(
        on_duty_at(&app, s.station, local(sunday, 3)).await,
        vec![s.officers[2]]
    );
    assert_eq!(
        on_duty_at(&app, s.station, local(sunday, 10)).await,
        vec![s.officers[0]]
    );
    let last_minute = local(sunday, 23) + chrono::Duration::minutes(59);
    assert_eq!(
        on_duty_at(&app, s.station, last_minute).await,
        vec![s.officers[1]]
    );

    // The preview starts with the shift running now, then the next ones.
    let preview: RotaPreview = app
        .get_as(&format!("{}/preview?count=6", rota_path(s.station)), &admin)
        .await;
    assert_eq!(preview.items.len(), 6);
    let now = Utc::now();
    assert!(preview.items[0].starts_at <= now && now < preview.items[0].ends_at);
    assert!(
        preview
            .items
            .windows(2)
            .all(|w| w[0].ends_at == w[1].starts_at)
    );

    // Dispatch reads it live: a tip to the station's community is offered
    // to the officer whose shift covers the moment of the offer.
    let resident = app.resident_token("rota-tipper").await;
    let tip: TipReceipt = expect_json(
        app.post(
            "/api/v1/tips",
            &resident,
            json!({
                "community_id": s.community, "category_code": "ZP01",
                "description": "小区东门消防通道被私家车堵住，已经好几天了",
                "location": {"lat": 31.2646, "lng": 121.5052, "address": "东门"},
                "anonymous": true,
            }),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let mut tokens = Vec::new();
    for username in &s.usernames {
        tokens.push(login(&app, username).await);
    }
    let (who, offer) = eventually("the tip offered to an officer of the rota", || async {
        for (i, token) in tokens.iter().enumerate() {
            let offers: OfferList = app.get_as("/api/v1/staff/offers", token).await;
            if let Some(offer) = offers.items.into_iter().find(|o| o.case_id == tip.tip.id) {
                return Some((i, offer));
            }
        }
        None
    })
    .await;
    let hour = offer.created_at.with_timezone(&shanghai()).hour();
    let expected = match hour {
        8..=15 => 0,
        16..=23 => 1,
        _ => 2,
    };
    assert_eq!(
        who, expected,
        "offered at {} (local hour {hour})",
        offer.created_at
    );

    // An exception: that Sunday off. Replaced in one call (200), the shifts
    // starting that day are gone; Saturday's evening shift ends at midnight,
    // so nobody is on duty at 03:00; Monday is back to the pattern.
    let off = json!([{"from": sunday, "to": sunday}]);
    let replaced: RotaView = expect_json(
        app.put(
            &rota_path(s.station),
            &admin,
            three_shifts(&s.officers, off),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(replaced.created_at, created.created_at);
    assert_eq!(replaced.rota.exceptions.len(), 1);
    assert_eq!(
        on_duty_at(&app, s.station, local(sunday, 3)).await,
        Vec::<Uuid>::new()
    );
    assert_eq!(
        on_duty_at(&app, s.station, local(sunday, 10)).await,
        Vec::<Uuid>::new()
    );
    let monday = sunday + chrono::Duration::days(1);
    assert_eq!(
        on_duty_at(&app, s.station, local(monday, 3)).await,
        vec![s.officers[2]]
    );
    let preview: RotaPreview = app
        .get_as(
            &format!("{}/preview?count=200", rota_path(s.station)),
            &admin,
        )
        .await;
    assert!(preview.items.iter().all(|shift| shift.day != sunday));
    assert!(preview.items.iter().any(|shift| shift.day == monday));

    // Read back, listed, then removed: dispatch forgets it at once.
    let read: RotaView = app.get_as(&rota_path(s.station), &admin).await;
    assert_eq!(read.rota.exceptions[0].from, sunday);
    let listed: RotaList = app.get_as("/api/v1/admin/duty-rotas", &admin).await;
    assert!(listed.items.iter().any(|r| r.org_unit_id == s.station));
    expect_status(
        app.delete(&rota_path(s.station), &admin).await,
        StatusCode::NO_CONTENT,
    )
    .await;
    assert_eq!(
        on_duty_at(&app, s.station, local(monday, 3)).await,
        Vec::<Uuid>::new()
    );
    expect_error(
        app.get(&rota_path(s.station), &admin).await,
        StatusCode::NOT_FOUND,
        "rota_not_found",
    )
    .await;
    expect_error(
        app.delete(&rota_path(s.station), &admin).await,
        StatusCode::NOT_FOUND,
        "rota_not_found",
    )
    .await;
}

#[tokio::test]
async fn a_bad_rota_is_refused_naming_the_field_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let admin = app.staff_token("admin").await;
    let s = station(&app, &admin).await;
    let mut bad = three_shifts(&s.officers, json!([]));
    bad["slots"][1]["end"] = json!("25:00");
    let error = expect_error(
        app.put(&rota_path(s.station), &admin, bad).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert!(
        error.error.message.contains("slots[1].end"),
        "{}",
        error.error.message
    );
    let overlapping = json!([
        {"from": "2026-12-01", "to": "2026-12-05"},
        {"from": "2026-12-05", "to": "2026-12-06"},
    ]);
    let error = expect_error(
        app.put(
            &rota_path(s.station),
            &admin,
            three_shifts(&s.officers, overlapping),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert!(error.error.message.contains("exceptions[1]"));
    expect_error(
        app.get(&rota_path(s.station), &admin).await,
        StatusCode::NOT_FOUND,
        "rota_not_found",
    )
    .await;
}

#[tokio::test]
async fn another_streets_ids_in_the_path_or_the_body_read_as_absent() {
    let app = TestApp::spawn().await;
    let b = StreetB::build(&app).await;
    let admin = app.staff_token("admin").await;
    let coordinator = app.staff_token("coordinator.sun").await; // street A
    let community_a = app.demo.community_a.as_uuid();
    let officer_a = app.demo.account("officer.liu").id.as_uuid();
    let rota = |who: Uuid| {
        json!({"starts_on": "2026-11-30", "slots": [
            {"days": "workdays", "start": "09:00", "end": "17:30", "staff": [who]}]})
    };

    // Street A's coordinator: street B's community in the path → 404 for
    // every verb.
    let path_b = rota_path(b.community);
    expect_error(
        app.put(&path_b, &coordinator, rota(b.mediator)).await,
        StatusCode::NOT_FOUND,
        "org_unit_not_found",
    )
    .await;
    for response in [
        app.get(&path_b, &coordinator).await,
        app.get(&format!("{path_b}/preview"), &coordinator).await,
        app.delete(&path_b, &coordinator).await,
        app.get(
            &format!("/api/v1/admin/duty-rotas?org_unit_id={}", b.street),
            &coordinator,
        )
        .await,
    ] {
        expect_error(response, StatusCode::NOT_FOUND, "org_unit_not_found").await;
    }

    // Their own community, street B's people in the body → 404
    // staff_not_found (a pattern slot, then an exception's slot).
    expect_error(
        app.put(&rota_path(community_a), &coordinator, rota(b.mediator))
            .await,
        StatusCode::NOT_FOUND,
        "staff_not_found",
    )
    .await;
    let mut hidden = rota(app.demo.account("mediator.chen").id.as_uuid());
    hidden["exceptions"] = json!([{"from": "2026-12-24", "to": "2026-12-26", "slots": [
        {"days": "every_day", "start": "09:00", "end": "12:00", "staff": [b.officer]}]}]);
    expect_error(
        app.put(&rota_path(community_a), &coordinator, hidden).await,
        StatusCode::NOT_FOUND,
        "staff_not_found",
    )
    .await;
    // Even the district administrator cannot put street B's officer on
    // street A's station: the roster is of people at home there.
    expect_error(
        app.put(
            &rota_path(app.demo.police_station.as_uuid()),
            &admin,
            rota(b.officer),
        )
        .await,
        StatusCode::NOT_FOUND,
        "staff_not_found",
    )
    .await;
    expect_status(
        app.put(
            &rota_path(app.demo.police_station.as_uuid()),
            &admin,
            rota(officer_a),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;

    // Street B's coordinator neither sees nor lists street A's rota.
    let coordinator_b = StreetB::token(&app, StreetB::COORDINATOR).await;
    expect_error(
        app.get(
            &rota_path(app.demo.police_station.as_uuid()),
            &coordinator_b,
        )
        .await,
        StatusCode::NOT_FOUND,
        "org_unit_not_found",
    )
    .await;
    let listed: RotaList = app.get_as("/api/v1/admin/duty-rotas", &coordinator_b).await;
    assert!(listed.items.is_empty());
    let listed: RotaList = app.get_as("/api/v1/admin/duty-rotas", &admin).await;
    assert_eq!(listed.items.len(), 1);
}
