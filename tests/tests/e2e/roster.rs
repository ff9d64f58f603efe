//! The officer's duty roster (issue 17): case handlers read their own
//! unit's shifts, read-only, for a range of at most 31 days; nothing of
//! another unit's. And the console's map link setting on `/staff/me`.

use chrono::{Duration, Utc};
use reqwest::StatusCode;
use sansuo_tests::views::{RosterList, StaffView};
use sansuo_tests::world::StreetB;
use sansuo_tests::{TestApp, TestOptions, expect_error, expect_json, expect_status};

fn range(days: i64) -> String {
    let from = Utc::now() - Duration::days(1);
    let to = from + Duration::days(days);
    format!(
        "/api/v1/staff/duty-shifts?from={}&to={}",
        urlencode(&from.to_rfc3339()),
        urlencode(&to.to_rfc3339())
    )
}

fn urlencode(text: &str) -> String {
    text.replace('+', "%2B").replace(':', "%3A")
}

#[tokio::test]
async fn officers_read_their_own_units_roster_only() {
    let app = TestApp::spawn().await;
    let b = StreetB::build(&app).await;
    let officer_b = StreetB::token(&app, StreetB::OFFICER).await;
    let roster: RosterList =
        expect_json(app.get(&range(7), &officer_b).await, StatusCode::OK).await;
    assert_eq!(roster.items.len(), 1);
    let shift = &roster.items[0];
    assert_eq!(shift.id, Some(b.shift));
    assert!(!shift.from_rota);
    assert_eq!(shift.staff_id, b.officer);
    assert_eq!(shift.staff_name, StreetB::OFFICER);
    assert!(shift.mine);

    // The demo station's officer sees their own station's roster (the test
    // district puts them on duty) and nothing of street B's station.
    let liu = app.staff_token("officer.liu").await;
    let roster: RosterList = expect_json(app.get(&range(7), &liu).await, StatusCode::OK).await;
    assert!(
        roster
            .items
            .iter()
            .all(|s| s.org_unit_id == app.demo.police_station.as_uuid() && s.id != Some(b.shift)),
        "{roster:?}"
    );

    expect_error(
        app.get(&range(32), &officer_b).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    expect_error(
        app.get(&range(0), &officer_b).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    expect_status(
        app.get("/api/v1/staff/duty-shifts", &officer_b).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    let coordinator = app.staff_token("coordinator.sun").await;
    expect_status(
        app.get(&range(7), &coordinator).await,
        StatusCode::FORBIDDEN,
    )
    .await;
}

/// A unit run on a rota (轮班表) shows its rota's shifts beside the single
/// ones, as dispatch reads them; another station's rota stays out.
#[tokio::test]
async fn the_roster_shows_the_units_rota_shifts() {
    let app = TestApp::spawn().await;
    let b = StreetB::build(&app).await;
    let admin = app.staff_token("admin").await;
    let today = Utc::now().date_naive() - Duration::days(2);
    expect_status(
        app.put(
            &format!("/api/v1/admin/org-units/{}/duty-rota", b.station),
            &admin,
            serde_json::json!({"starts_on": today, "slots": [
                {"days": "every_day", "start": "08:00", "end": "20:00", "staff": [b.officer]}
            ]}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let officer_b = StreetB::token(&app, StreetB::OFFICER).await;
    let roster: RosterList =
        expect_json(app.get(&range(7), &officer_b).await, StatusCode::OK).await;
    let rota: Vec<_> = roster.items.iter().filter(|s| s.from_rota).collect();
    assert!(
        rota.len() >= 6,
        "a 12-hour shift each day of a week: {roster:?}"
    );
    assert!(rota.iter().all(|s| s.id.is_none()
        && s.staff_id == b.officer
        && s.mine
        && s.org_unit_id == b.station
        && s.ends_at - s.starts_at == Duration::hours(12)));
    assert!(
        roster
            .items
            .windows(2)
            .all(|w| w[0].starts_at <= w[1].starts_at)
    );
    assert!(roster.items.iter().any(|s| s.id == Some(b.shift)));

    let liu = app.staff_token("officer.liu").await;
    let theirs: RosterList = expect_json(app.get(&range(7), &liu).await, StatusCode::OK).await;
    assert!(
        theirs.items.iter().all(|s| s.org_unit_id != b.station),
        "{theirs:?}"
    );
}

#[tokio::test]
async fn the_map_link_template_reaches_the_console_only_when_configured() {
    let app = TestApp::spawn().await;
    let liu = app.staff_token("officer.liu").await;
    let me: StaffView = app.get_as("/api/v1/staff/me", &liu).await;
    assert_eq!(me.map_url_template, None);

    let template = "https://maps.example.cn/marker?lat={lat}&lng={lng}";
    let app = TestApp::spawn_with(TestOptions {
        env: vec![("SANSUO_MAP_URL_TEMPLATE", template.to_owned())],
        ..TestOptions::default()
    })
    .await;
    let liu = app.staff_token("officer.liu").await;
    let me: StaffView = app.get_as("/api/v1/staff/me", &liu).await;
    assert_eq!(me.map_url_template.as_deref(), Some(template));
}
