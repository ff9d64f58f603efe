//! Retention and account deletion (issue 18, item 6; docs/retention.md): a
//! resident with a consultation, a mediation (as applicant) and a named tip
//! with a photo deletes their account; afterwards no row of any table holds
//! their openid, phone or name (their former id only in `case_events`, as
//! documented); their old token answers 401; logging in again makes a new
//! resident; staff still see the cases with the placeholder; the event
//! chains verify. Then the purge with the clock moved forward removes
//! exactly what is due, one day before and one day after each period. On
//! PostgreSQL and SQLite.

use chrono::{DateTime, Duration, Utc};
use reqwest::StatusCode;
use sansuo_domain::retention::{ERASED, RecordKind, RetentionPolicy};
use sansuo_tests::{TestApp, eventually, expect_error, expect_json, expect_status};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement, Value as DbValue};
use serde_json::{Value, json};
use uuid::Uuid;

const OPENID: &str = "openid-leaver";
const PHONE: &str = "13812345678";
const PHONE_MASKED: &str = "138****5678";
const NAME: &str = "欧阳小明";

fn stmt(db: &DatabaseConnection, sql: &str, values: Vec<DbValue>) -> Statement {
    let backend = db.get_database_backend();
    let sql = if backend == DbBackend::Sqlite {
        let mut out = sql.to_owned();
        for n in (1..=values.len()).rev() {
            out = out.replace(&format!("${n}"), "?");
        }
        out
    } else {
        sql.to_owned()
    };
    Statement::from_sql_and_values(backend, sql, values)
}

/// Every row of every table as text, with its table: PostgreSQL through
/// `row_to_json`, SQLite through `quote()` of each column.
async fn dump(db: &DatabaseConnection) -> Vec<(String, String)> {
    let backend = db.get_database_backend();
    let tables_sql = if backend == DbBackend::Postgres {
        "SELECT table_name AS t FROM information_schema.tables \
         WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
    } else {
        "SELECT name AS t FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    };
    let tables: Vec<String> = db
        .query_all_raw(Statement::from_string(backend, tables_sql))
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.try_get::<String>("", "t").unwrap())
        .collect();
    assert!(tables.len() > 20, "the schema was found: {tables:?}");
    let mut rows = Vec::new();
    for table in tables {
        let sql = if backend == DbBackend::Postgres {
            format!("SELECT row_to_json(t)::text AS j FROM \"{table}\" t")
        } else {
            let columns: Vec<String> = db
                .query_all_raw(Statement::from_string(
                    backend,
                    format!("SELECT name FROM pragma_table_info('{table}')"),
                ))
                .await
                .unwrap()
                .into_iter()
                .map(|r| r.try_get::<String>("", "name").unwrap())
                .collect();
            let parts: Vec<String> = columns
                .iter()
                .map(|c| format!("'{c}=' || quote(\"{c}\")"))
                .collect();
            format!("SELECT {} AS j FROM \"{table}\"", parts.join(" || ' ' || "))
        };
        for row in db
            .query_all_raw(Statement::from_string(backend, sql))
            .await
            .unwrap()
        {
            rows.push((table.clone(), row.try_get::<String>("", "j").unwrap()));
        }
    }
    rows
}

/// Tables of the rows whose text holds `needle`.
fn found_in(rows: &[(String, String)], needle: &str) -> Vec<String> {
    let mut tables: Vec<String> = rows
        .iter()
        .filter(|(_, text)| text.contains(needle))
        .map(|(t, _)| t.clone())
        .collect();
    tables.dedup();
    tables
}

async fn login(app: &TestApp) -> (String, Uuid) {
    let token = app.resident_token("leaver").await;
    let me = expect_status(app.get("/api/v1/me", &token).await, StatusCode::OK).await;
    (token, me["id"].as_str().unwrap().parse().unwrap())
}

async fn closed_at(db: &DatabaseConnection, case: Uuid) -> DateTime<Utc> {
    db.query_one_raw(stmt(
        db,
        "SELECT closed_at FROM cases WHERE id = $1",
        vec![case.into()],
    ))
    .await
    .unwrap()
    .unwrap()
    .try_get("", "closed_at")
    .unwrap()
}

async fn count(db: &DatabaseConnection, sql: &str, values: Vec<DbValue>) -> i64 {
    db.query_one_raw(stmt(db, sql, values))
        .await
        .unwrap()
        .unwrap()
        .try_get("", "n")
        .unwrap()
}

async fn delete_account(app: &TestApp, token: &str, body: Value) -> reqwest::Response {
    app.http
        .delete(app.url("/api/v1/me"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn a_deleted_account_leaves_anonymised_cases_and_the_purge_removes_what_is_due(app: TestApp) {
    let db = app.app.store.db();
    let (token, resident) = login(&app).await;
    app.wechat.set_phone_number("phone-leaver", PHONE, "86");
    expect_status(
        app.post("/api/v1/me/phone", &token, json!({"code": "phone-leaver"}))
            .await,
        StatusCode::OK,
    )
    .await;

    // A consultation a lawyer took on (open: withdrawn on deletion).
    let consultation = app
        .submit(&token, "房东不退押金怎么办？合同写明退租后七日内退还")
        .await
        .id;
    let zhang = app.staff_token("lawyer.zhang").await;
    let offer = app.wait_for_offer(&zhang, &consultation).await;
    app.accept_offer(&zhang, &offer).await;

    // A mediation they applied for (not yet heard: withdrawn on deletion).
    let mediation: Value = expect_json(
        app.post(
            "/api/v1/mediations",
            &token,
            json!({
                "community_id": app.demo.community_a.as_uuid(),
                "category_code": "LJ02",
                "facts": "楼上漏水，天花板受损，多次沟通无果",
                "claims": "请对方修好漏水并赔偿天花板维修费",
                "parties": [
                    {"role": "applicant", "name": NAME, "contact": PHONE},
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
    let mediation: Uuid = mediation["id"].as_str().unwrap().parse().unwrap();
    // Routed (offered or pooled) before the deletion, so it races nothing.
    eventually("the mediation to be routed", || async {
        let m = expect_status(
            app.get(&format!("/api/v1/mediations/{mediation}"), &token)
                .await,
            StatusCode::OK,
        )
        .await;
        (m["status"] != "submitted").then_some(())
    })
    .await;

    // A named tip with a photo (kept open for the police, unlinked).
    let tip = json!({
        "community_id": app.demo.community_a.as_uuid(),
        "category_code": "AQ01",
        "description": "3号楼东侧消防通道被电动车和杂物堵死了",
        "location": {"lat": 31.2646, "lng": 121.5052, "address": "3号楼东侧"},
        "anonymous": false,
    });
    let created: Value = expect_json(
        app.post_tip_with_photo(&token, &tip, crate::tips::jpeg_with_gps())
            .await,
        StatusCode::CREATED,
    )
    .await;
    let tip: Uuid = created["tip"]["id"].as_str().unwrap().parse().unwrap();

    // Someone else's consultation, withdrawn by them: closed, not erased.
    let other = app.resident_token("stayer").await;
    let theirs = app
        .submit(&other, "邻居装修噪音太大，晚上十点以后还在施工")
        .await
        .id;
    // (Once routed: a withdrawal racing the router is told to reload.)
    eventually("the other consultation to be withdrawn", || async {
        let response = app
            .post(
                &format!("/api/v1/consultations/{theirs}/withdraw"),
                &other,
                json!({}),
            )
            .await;
        (response.status() == StatusCode::OK).then_some(())
    })
    .await;

    // Before: the identity is there to be found.
    let before = dump(db).await;
    assert!(!found_in(&before, OPENID).is_empty());

    // Deleting takes an explicit confirmation.
    expect_error(
        delete_account(&app, &token, json!({"confirm": false})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "confirmation_required",
    )
    .await;
    let coordinator = app.staff_token("coordinator.sun").await;
    expect_error(
        delete_account(&app, &coordinator, json!({"confirm": true})).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    let done = expect_status(
        delete_account(&app, &token, json!({"confirm": true})).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(done["withdrawn_cases"], 2, "{done}");
    assert_eq!(done["anonymised_cases"], 3, "{done}");

    // The old token is dead; deleting again is refused the same way, and
    // the store's deletion is idempotent.
    expect_error(
        app.get("/api/v1/me", &token).await,
        StatusCode::UNAUTHORIZED,
        "session_ended",
    )
    .await;
    expect_error(
        delete_account(&app, &token, json!({"confirm": true})).await,
        StatusCode::UNAUTHORIZED,
        "session_ended",
    )
    .await;
    let again = app
        .app
        .store
        .retention()
        .delete_resident(resident.into(), Utc::now())
        .await
        .unwrap();
    assert!(!again.existed);

    // Nothing in any table names them; their former (random) id is left
    // only in the append-only history and, until no token issued before
    // the deletion can live, in the deletions every instance checks tokens
    // against (docs/retention.md).
    let after = dump(db).await;
    for needle in [OPENID, PHONE, PHONE_MASKED, NAME] {
        assert_eq!(found_in(&after, needle), Vec::<String>::new(), "{needle}");
    }
    // (SQLite keeps ids as blobs: there the text search finds none.)
    let id_in = found_in(&after, &resident.to_string());
    assert!(
        id_in
            .iter()
            .all(|t| t == "case_events" || t == "resident_deletions"),
        "the former id outside the history: {id_in:?}"
    );

    // Staff still see the cases, with the placeholder where they were named.
    let seen = expect_status(
        app.get(
            &format!("/api/v1/staff/mediations/{mediation}"),
            &coordinator,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(seen["status"], "withdrawn", "{seen}");
    let applicant = seen["parties"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["role"] == "applicant")
        .unwrap();
    assert_eq!(applicant["name"], ERASED);
    assert!(applicant["contact"].is_null());
    let respondent = seen["parties"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["role"] == "respondent")
        .unwrap();
    assert_ne!(respondent["name"], ERASED);
    let consulted = expect_status(
        app.get(
            &format!("/api/v1/staff/consultations/{consultation}"),
            &zhang,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(consulted["status"], "withdrawn", "{consulted}");
    let officer = app.staff_token("officer.liu").await;
    let seen_tip = app
        .get(&format!("/api/v1/staff/tips/{tip}"), &officer)
        .await;
    let seen_tip = if seen_tip.status() == StatusCode::OK {
        expect_status(seen_tip, StatusCode::OK).await
    } else {
        expect_status(
            app.get(&format!("/api/v1/staff/tips/{tip}"), &coordinator)
                .await,
            StatusCode::OK,
        )
        .await
    };
    assert_ne!(seen_tip["status"], "closed", "{seen_tip}");
    assert_eq!(
        count(
            db,
            "SELECT count(*) AS n FROM cases WHERE resident_id IS NULL AND erased_at IS NOT NULL \
             AND id IN ($1, $2, $3)",
            vec![consultation.into(), mediation.into(), tip.into()],
        )
        .await,
        3
    );

    // The same WeChat user logging in again is somebody new.
    let (fresh, fresh_id) = login(&app).await;
    assert_ne!(fresh_id, resident);
    for list in [
        "/api/v1/consultations",
        "/api/v1/mediations",
        "/api/v1/tips",
    ] {
        let mine = expect_status(app.get(list, &fresh).await, StatusCode::OK).await;
        assert_eq!(
            mine["items"].as_array().map(Vec::len),
            Some(0),
            "{list}: {mine}"
        );
    }
    expect_error(
        app.get(&format!("/api/v1/mediations/{mediation}"), &fresh)
            .await,
        StatusCode::NOT_FOUND,
        "mediation_not_found",
    )
    .await;

    // The history is whole: withdrawals were appended, nothing edited.
    let line = sansuo_server::verify::verify(&app.app.store, None)
        .await
        .expect("whole after the deletion");
    assert!(line.starts_with("event chains whole"), "{line}");

    // The purge, with the clock moved forward. Personal data of closed
    // cases: the other resident's withdrawn consultation is the only one
    // not yet erased.
    let policy = RetentionPolicy::default();
    let store = app.app.store.retention();
    let day = Duration::days(1);
    let closed = closed_at(db, theirs).await;
    let personal = policy.period(RecordKind::CasePersonalData);
    let early = store
        .purge(
            closed + personal - day,
            &policy.cutoffs(closed + personal - day),
            false,
        )
        .await
        .unwrap();
    assert_eq!(
        (early.anonymised_cases, early.purged_cases),
        (0, 0),
        "{early:?}"
    );
    // No token issued before the deletion lives this long: its record goes.
    assert_eq!(
        count(db, "SELECT count(*) AS n FROM resident_deletions", vec![]).await,
        0
    );
    let dry = store
        .purge(
            closed + personal + day,
            &policy.cutoffs(closed + personal + day),
            true,
        )
        .await
        .unwrap();
    assert_eq!((dry.anonymised_cases, dry.purged_cases), (1, 0), "{dry:?}");
    let cases_left = count(
        db,
        "SELECT count(*) AS n FROM cases WHERE erased_at IS NULL AND id = $1",
        vec![theirs.into()],
    )
    .await;
    assert_eq!(cases_left, 1, "a dry run changes nothing");
    let due = store
        .purge(
            closed + personal + day,
            &policy.cutoffs(closed + personal + day),
            false,
        )
        .await
        .unwrap();
    assert_eq!((due.anonymised_cases, due.purged_cases), (1, 0), "{due:?}");
    assert_eq!(
        count(
            db,
            "SELECT count(*) AS n FROM cases WHERE resident_id IS NULL AND erased_at IS NOT NULL AND id = $1",
            vec![theirs.into()],
        )
        .await,
        1
    );

    // Whole cases: a day early nothing goes; a day late the three closed
    // ones go (events through `case_event_purges`); the open tip stays,
    // and so do its photo and events.
    let whole = policy.period(RecordKind::Case);
    let early = store
        .purge(
            closed + whole - day,
            &policy.cutoffs(closed + whole - day),
            false,
        )
        .await
        .unwrap();
    assert_eq!(early.purged_cases, 0, "{early:?}");
    let due = store
        .purge(
            closed + whole + day,
            &policy.cutoffs(closed + whole + day),
            false,
        )
        .await
        .unwrap();
    assert_eq!(due.purged_cases, 3, "{due:?}");
    assert!(due.purged_events >= 6, "{due:?}");
    assert_eq!(due.photos, 0, "the open tip keeps its photo: {due:?}");
    for gone in [consultation, mediation, theirs] {
        assert_eq!(
            count(
                db,
                "SELECT count(*) AS n FROM case_events WHERE case_id = $1",
                vec![gone.into()]
            )
            .await,
            0
        );
        assert_eq!(
            count(
                db,
                "SELECT count(*) AS n FROM case_event_purges WHERE case_id = $1",
                vec![gone.into()]
            )
            .await,
            1
        );
        let line = sansuo_server::verify::verify(&app.app.store, Some(gone))
            .await
            .expect("a purged case is reported as purged");
        assert!(line.contains("purged by retention"), "{line}");
    }
    assert!(
        count(
            db,
            "SELECT count(*) AS n FROM case_events WHERE case_id = $1",
            vec![tip.into()]
        )
        .await
            > 0
    );
    assert_eq!(
        count(
            db,
            "SELECT count(*) AS n FROM tip_photos WHERE case_id = $1",
            vec![tip.into()]
        )
        .await,
        1
    );
    let line = sansuo_server::verify::verify(&app.app.store, None)
        .await
        .expect("whole after the purge");
    assert!(line.contains("3 cases purged by retention"), "{line}");
    let again = store
        .purge(
            closed + whole + day,
            &policy.cutoffs(closed + whole + day),
            false,
        )
        .await
        .unwrap();
    assert_eq!(
        (again.purged_cases, again.anonymised_cases),
        (0, 0),
        "{again:?}"
    );
    app.assert_staff_loads_counted().await;
}

#[tokio::test]
async fn a_deleted_account_leaves_anonymised_cases_and_the_purge_removes_what_is_due_on_postgres() {
    a_deleted_account_leaves_anonymised_cases_and_the_purge_removes_what_is_due(
        TestApp::spawn().await,
    )
    .await;
}

#[tokio::test]
async fn a_deleted_account_leaves_anonymised_cases_and_the_purge_removes_what_is_due_on_sqlite() {
    a_deleted_account_leaves_anonymised_cases_and_the_purge_removes_what_is_due(
        TestApp::spawn_embedded().await,
    )
    .await;
}

/// Photos of a closed tip go after their period, not a day before.
async fn photos_of_a_closed_tip_go_after_their_period(app: TestApp) {
    let db = app.app.store.db();
    let resident = app.resident_token("photographer").await;
    let tip = json!({
        "community_id": app.demo.community_a.as_uuid(),
        "category_code": "AQ01",
        "description": "小区南门路灯坏了一个月，晚上很黑",
        "location": {"lat": 31.2646, "lng": 121.5052},
        "anonymous": false,
    });
    let created: Value = expect_json(
        app.post_tip_with_photo(&resident, &tip, crate::tips::jpeg_with_gps())
            .await,
        StatusCode::CREATED,
    )
    .await;
    let tip: Uuid = created["tip"]["id"].as_str().unwrap().parse().unwrap();
    // Closed (as an officer's closing would leave it).
    let closed = Utc::now();
    db.execute_raw(stmt(
        db,
        "UPDATE cases SET closed_at = $1 WHERE id = $2",
        vec![closed.into(), tip.into()],
    ))
    .await
    .unwrap();
    let policy = RetentionPolicy::default();
    let period = policy.period(RecordKind::Photos);
    let store = app.app.store.retention();
    let at = closed + period - Duration::days(1);
    let early = store.purge(at, &policy.cutoffs(at), false).await.unwrap();
    assert_eq!(early.photos, 0, "{early:?}");
    let at = closed + period + Duration::days(1);
    let due = store.purge(at, &policy.cutoffs(at), false).await.unwrap();
    assert_eq!(due.photos, 1, "{due:?}");
    assert_eq!(due.photo_keys.len(), 1);
    assert_eq!(
        count(
            db,
            "SELECT count(*) AS n FROM tip_photos WHERE case_id = $1",
            vec![tip.into()]
        )
        .await,
        0
    );
    assert_eq!(due.purged_cases, 0, "the tip itself stays: {due:?}");
}

#[tokio::test]
async fn photos_of_a_closed_tip_go_after_their_period_on_postgres() {
    photos_of_a_closed_tip_go_after_their_period(TestApp::spawn().await).await;
}

#[tokio::test]
async fn photos_of_a_closed_tip_go_after_their_period_on_sqlite() {
    photos_of_a_closed_tip_go_after_their_period(TestApp::spawn_embedded().await).await;
}
