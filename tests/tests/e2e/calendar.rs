//! The business calendar imported as data (issue #14, item 3): a year's
//! notice checked whole, imported once, replaced when corrected, and a
//! readiness detail that warns before the calendar runs out.

use chrono::{Datelike, Duration, FixedOffset, NaiveDate, TimeZone, Utc};
use reqwest::StatusCode;
use sansuo_tests::views::CalendarDayList;
use sansuo_tests::{TestApp, expect_error, expect_status};
use serde_json::{Value, json};

fn d(text: &str) -> NaiveDate {
    text.parse().unwrap()
}

/// A notice for 2031, far from any seeded year.
fn notice_2031() -> Value {
    json!({
        "year": 2031,
        "source": "国务院办公厅关于2031年部分节假日安排的通知 (test)",
        "holidays": [["2031-01-01", "2031-01-01"], ["2031-05-01", "2031-05-05"], ["2031-10-01", "2031-10-07"]],
        "workdays": ["2031-04-27", "2031-10-11"]
    })
}

async fn days_of_2031(app: &TestApp, admin: &str) -> Vec<(NaiveDate, String)> {
    let list: CalendarDayList = app
        .get_as(
            "/api/v1/admin/calendar?from=2031-01-01&to=2031-12-31",
            admin,
        )
        .await;
    list.items.into_iter().map(|d| (d.day, d.kind)).collect()
}

async fn import(app: &TestApp, token: &str, notice: Value) -> reqwest::Response {
    app.post("/api/v1/admin/calendar/import", token, notice)
        .await
}

#[tokio::test]
async fn a_notice_is_checked_whole_imported_once_and_replaced_when_corrected() {
    let app = TestApp::spawn().await;
    let admin = app.staff_token("admin").await;

    // A bad day in the middle: refused whole, every bad entry named, and
    // nothing written (not even the good ranges before it).
    let mut bad = notice_2031();
    bad["holidays"][1] = json!(["2031-05-01", "2031-02-30"]);
    bad["workdays"][1] = json!("2031-10-08");
    let refused = expect_error(
        import(&app, &admin, bad).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    let message = refused.error.message;
    assert!(
        message.contains("holidays[1]") && message.contains("2031-02-30"),
        "{message}"
    );
    assert!(
        message.contains("workdays[1]") && message.contains("2031-10-08"),
        "{message}"
    );
    assert!(!message.contains("holidays[0]"), "{message}");
    assert!(
        days_of_2031(&app, &admin).await.is_empty(),
        "nothing written"
    );

    // The good notice: 13 holiday dates, 2 make-up working days.
    let first = expect_status(import(&app, &admin, notice_2031()).await, StatusCode::OK).await;
    assert_eq!(first["outcome"], "imported", "{first}");
    assert_eq!(
        (first["holidays"].as_u64(), first["workdays"].as_u64()),
        (Some(13), Some(2))
    );
    assert_eq!(days_of_2031(&app, &admin).await.len(), 15);

    // SLA clocks run on it: Wednesday 30 April 17:00 + 1 business hour
    // skips 1–5 May and lands on Tuesday 6 May 09:30 Beijing time.
    let calendar = app.app.store.catalog().business_calendar().await.unwrap();
    let bj = FixedOffset::east_opt(8 * 3600).unwrap();
    let at = |day: u32, month: u32, h: u32, m: u32| {
        bj.with_ymd_and_hms(2031, month, day, h, m, 0)
            .unwrap()
            .with_timezone(&Utc)
    };
    assert_eq!(
        calendar.add(at(30, 4, 17, 0), Duration::hours(1)),
        Some(at(6, 5, 9, 30))
    );
    assert_eq!(
        calendar.working_time_on(d("2031-04-27")),
        Duration::hours(7),
        "a make-up Sunday"
    );

    // The same notice again (its ranges in another order): nothing changes.
    let mut reordered = notice_2031();
    reordered["holidays"] = json!([
        ["2031-10-01", "2031-10-07"],
        ["2031-01-01", "2031-01-01"],
        ["2031-05-01", "2031-05-05"]
    ]);
    let again = expect_status(import(&app, &admin, reordered).await, StatusCode::OK).await;
    assert_eq!(again["outcome"], "unchanged", "{again}");
    assert_eq!(days_of_2031(&app, &admin).await.len(), 15);

    // An administrator enters a day by hand; then a corrected notice moves
    // Labour Day to 1–3 May with no make-up Sunday: the year's imported days
    // are replaced, the hand-entered day stays.
    expect_status(
        app.put(
            "/api/v1/admin/calendar/2031-06-02",
            &admin,
            json!({"kind": "holiday", "source": "区政府通知"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let mut corrected = notice_2031();
    corrected["holidays"][1] = json!(["2031-05-01", "2031-05-03"]);
    corrected["holidays"]
        .as_array_mut()
        .unwrap()
        .push(json!(["2031-06-02", "2031-06-02"]));
    corrected["workdays"] = json!(["2031-10-11"]);
    let replaced = expect_status(import(&app, &admin, corrected).await, StatusCode::OK).await;
    assert_eq!(replaced["outcome"], "replaced", "{replaced}");
    assert_eq!(replaced["kept_by_hand"], json!(["2031-06-02"]));
    let days = days_of_2031(&app, &admin).await;
    let has = |day: &str, kind: &str| days.contains(&(d(day), kind.to_owned()));
    assert!(
        has("2031-05-03", "holiday") && !has("2031-05-04", "holiday"),
        "{days:?}"
    );
    assert!(
        !has("2031-04-27", "workday"),
        "the dropped make-up day is gone: {days:?}"
    );
    assert!(has("2031-06-02", "holiday"), "{days:?}");
    assert_eq!(days.len(), 1 + 3 + 1 + 7 + 1, "{days:?}");
    let calendar = app.app.store.catalog().business_calendar().await.unwrap();
    assert_eq!(
        calendar.working_time_on(d("2031-05-05")),
        Duration::hours(7)
    );

    let years = app.app.store.catalog().calendar_years().await.unwrap();
    let y2031 = years.iter().find(|y| y.year == 2031).unwrap();
    assert!(y2031.imported_by.starts_with("staff:"), "{y2031:?}");
    assert!(
        years
            .iter()
            .any(|y| y.year == 2026 && !y.provisional && y.imported_by == "start-up"),
        "the checked-in notice is recorded at start: {years:?}"
    );
    assert!(
        years.iter().any(|y| y.year == 2027 && y.provisional),
        "2027 is provisional until its notice: {years:?}"
    );
}

#[tokio::test]
async fn only_administrators_import_the_calendar() {
    let app = TestApp::spawn().await;
    for username in ["coordinator.sun", "lawyer.zhang"] {
        let token = app.staff_token(username).await;
        expect_error(
            import(&app, &token, notice_2031()).await,
            StatusCode::FORBIDDEN,
            "forbidden",
        )
        .await;
    }
    let resident = app.resident_token("xiaoming").await;
    expect_error(
        import(&app, &resident, notice_2031()).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    let anonymous = app
        .http
        .post(app.url("/api/v1/admin/calendar/import"))
        .json(&notice_2031())
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    let admin = app.staff_token("admin").await;
    assert!(days_of_2031(&app, &admin).await.is_empty());
}

async fn readiness(app: &TestApp) -> Value {
    let response = app.http.get(app.url("/readyz")).send().await.unwrap();
    expect_status(response, StatusCode::OK).await
}

#[tokio::test]
async fn readiness_warns_about_a_calendar_about_to_run_out_and_stays_ready() {
    let app = TestApp::spawn().await;
    let admin = app.staff_token("admin").await;
    let today = sansuo_domain::calendar::china_date(Utc::now());
    let this_year = today.year();
    let confirmed = |year: i32| {
        json!({
            "year": year,
            "source": format!("{year} notice (test)"),
            "holidays": [[format!("{year}-01-01"), format!("{year}-01-01")]],
        })
    };

    // This year and the next confirmed: more than 60 days ahead, whatever
    // today is: no warning.
    for year in [this_year, this_year + 1] {
        expect_status(import(&app, &admin, confirmed(year)).await, StatusCode::OK).await;
    }
    let ready = readiness(&app).await;
    let calendar = &ready["calendar"];
    assert_eq!(
        calendar["covered_until"],
        format!("{}-12-31", this_year + 1),
        "{ready}"
    );
    assert!(calendar["days_left"].as_i64().unwrap() >= 365, "{ready}");
    assert!(calendar["warning"].is_null(), "{ready}");
    assert_eq!(ready["database"], "ok");

    // This year only provisional: the calendar is not confirmed at all.
    // Readiness warns and still answers 200.
    let mut provisional = confirmed(this_year);
    provisional["provisional"] = json!(true);
    let replaced = expect_status(import(&app, &admin, provisional).await, StatusCode::OK).await;
    assert_eq!(replaced["outcome"], "replaced");
    let ready = readiness(&app).await;
    let calendar = &ready["calendar"];
    assert!(calendar["covered_until"].is_null(), "{ready}");
    assert_eq!(calendar["days_left"], 0, "{ready}");
    assert_eq!(
        calendar["provisional_until"],
        format!("{}-12-31", this_year + 1),
        "{ready}"
    );
    let warning = calendar["warning"].as_str().expect("a warning");
    assert!(warning.contains("import"), "{warning}");

    // The worker's daily check reads the same coverage (its log line).
    assert!(app.app.worker.check_calendar(today).await);
    let coverage = app
        .app
        .store
        .catalog()
        .calendar_coverage(today)
        .await
        .unwrap();
    assert_eq!(coverage.warning.as_deref(), Some(warning));
}
