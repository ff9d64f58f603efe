//! Append-only case events with a hash chain (issue 18, item 3): the
//! database refuses UPDATE and DELETE of `case_events`; every case's events
//! chain; `sansuo verify` and `GET /api/v1/admin/integrity` pass, then name
//! a row altered by hand (with the trigger gone round, as a superuser
//! could); concurrent appends to one case never fork; the migration chains
//! events that existed before it. On PostgreSQL and SQLite.

use reqwest::StatusCode;
use sansuo_migrations::{MigratorTrait, SchemaManager};
use sansuo_tests::{Backend, TestApp, TestOptions, expect_error, expect_json};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement, TransactionTrait, Value};
use serde::Deserialize;
use uuid::Uuid;

#[derive(Debug, Deserialize)]
struct Broken {
    case_id: Uuid,
    event_id: Uuid,
    position: i64,
    kind: String,
    expected: String,
    found: String,
}

#[derive(Debug, Deserialize)]
struct Report {
    whole: bool,
    cases: u64,
    events: u64,
    broken: Option<Broken>,
}

fn backend(db: &DatabaseConnection) -> DbBackend {
    db.get_database_backend()
}

fn stmt(db: &DatabaseConnection, sql: &str, values: Vec<Value>) -> Statement {
    let backend = backend(db);
    let sql = if backend == DbBackend::Sqlite {
        // `$n` placeholders read as `?` in order on SQLite.
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

/// A consultation submitted and accepted: a few events.
async fn case_with_history(app: &TestApp, who: &str) -> Uuid {
    let resident = app.resident_token(who).await;
    let zhang = app.staff_token("lawyer.zhang").await;
    let case = app
        .submit(
            &resident,
            "楼上卫生间漏水把我家天花板泡坏了，物业一直推脱怎么办？",
        )
        .await;
    let offer = app.wait_for_offer(&zhang, &case.id).await;
    app.accept_offer(&zhang, &offer).await;
    case.id
}

/// The id and position of the case's `n`th event (1-based).
async fn event_at(db: &DatabaseConnection, case: Uuid, n: i64) -> Uuid {
    let row = db
        .query_one_raw(stmt(
            db,
            "SELECT id FROM case_events WHERE case_id = $1 AND seq = $2",
            vec![case.into(), n.into()],
        ))
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("case {case} has no event {n}"));
    row.try_get("", "id").unwrap()
}

async fn integrity(app: &TestApp, token: &str, case: Option<Uuid>) -> Report {
    let path = match case {
        Some(id) => format!("/api/v1/admin/integrity?case_id={id}"),
        None => "/api/v1/admin/integrity".to_owned(),
    };
    expect_json(app.get(&path, token).await, StatusCode::OK).await
}

/// Edits one event's reason behind the trigger's back, as a superuser could.
async fn edit_by_hand(db: &DatabaseConnection, event: Uuid) {
    let update = "UPDATE case_events SET reason = $1 WHERE id = $2";
    let values = || vec![Value::from("改过的理由".to_owned()), event.into()];
    if backend(db) == DbBackend::Postgres {
        let txn = db.begin().await.unwrap();
        txn.execute_unprepared("SET LOCAL session_replication_role = replica")
            .await
            .unwrap();
        let done = txn.execute_raw(stmt(db, update, values())).await.unwrap();
        assert_eq!(done.rows_affected(), 1);
        txn.commit().await.unwrap();
    } else {
        // SQLite cannot switch a trigger off: drop it, edit, put it back,
        // in one transaction.
        let txn = db.begin().await.unwrap();
        txn.execute_unprepared("DROP TRIGGER case_events_no_update")
            .await
            .unwrap();
        let done = txn.execute_raw(stmt(db, update, values())).await.unwrap();
        assert_eq!(done.rows_affected(), 1);
        txn.execute_unprepared(
            "CREATE TRIGGER case_events_no_update BEFORE UPDATE ON case_events \
             BEGIN SELECT RAISE(ABORT, 'case_events is append-only: UPDATE refused'); END",
        )
        .await
        .unwrap();
        txn.commit().await.unwrap();
    }
}

async fn events_are_append_only_chained_and_an_edit_is_named(app: TestApp) {
    let db = app.app.store.db();
    let case = case_with_history(&app, "chain").await;
    let other = case_with_history(&app, "chain-other").await;
    let admin = app.staff_token("admin").await;

    // Whole: the CLI's code and the endpoint agree.
    let line = sansuo_server::verify::verify(&app.app.store, None)
        .await
        .expect("the chains are whole");
    assert!(line.starts_with("event chains whole"), "{line}");
    let whole = integrity(&app, &admin, None).await;
    assert!(whole.whole && whole.broken.is_none(), "{whole:?}");
    assert!(whole.cases >= 2 && whole.events >= 4, "{whole:?}");
    let one = integrity(&app, &admin, Some(case)).await;
    assert!(one.whole && one.cases == 1, "{one:?}");

    // The database refuses UPDATE and DELETE, whoever asks.
    let second = event_at(db, case, 2).await;
    for sql in [
        "UPDATE case_events SET reason = 'x' WHERE id = $1",
        "DELETE FROM case_events WHERE id = $1",
    ] {
        let refused = db
            .execute_raw(stmt(db, sql, vec![second.into()]))
            .await
            .expect_err(sql);
        assert!(
            refused.to_string().contains("append-only"),
            "{sql}: {refused}"
        );
    }
    if backend(db) == DbBackend::Postgres {
        let refused = db
            .execute_unprepared("TRUNCATE case_events")
            .await
            .expect_err("TRUNCATE");
        assert!(refused.to_string().contains("append-only"), "{refused}");
    }

    // An edit behind the trigger's back is named: case, event, position.
    edit_by_hand(db, second).await;
    let err = sansuo_server::verify::verify(&app.app.store, None)
        .await
        .expect_err("verify names the edit")
        .to_string();
    assert!(
        err.contains(&case.to_string()) && err.contains(&second.to_string()),
        "{err}"
    );
    assert!(err.contains("position 2"), "{err}");
    let report = integrity(&app, &admin, None).await;
    let broken = report.broken.expect("a broken link");
    assert!(!report.whole);
    assert_eq!(
        (broken.case_id, broken.event_id, broken.position),
        (case, second, 2)
    );
    assert_eq!(broken.kind, "hash");
    assert_ne!(broken.expected, broken.found);
    assert_eq!(broken.found.len(), 64);
    // The other case is still whole on its own.
    assert!(integrity(&app, &admin, Some(other)).await.whole);
    sansuo_server::verify::verify(&app.app.store, Some(other))
        .await
        .expect("the other case is whole");

    // Administrators only; a case that is not in the district is 404.
    let coordinator = app.staff_token("coordinator.sun").await;
    expect_error(
        app.get("/api/v1/admin/integrity", &coordinator).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    let zhang = app.staff_token("lawyer.zhang").await;
    expect_error(
        app.get("/api/v1/admin/integrity", &zhang).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    expect_error(
        app.get(
            &format!("/api/v1/admin/integrity?case_id={}", Uuid::now_v7()),
            &admin,
        )
        .await,
        StatusCode::NOT_FOUND,
        "case_not_found",
    )
    .await;
    assert!(
        sansuo_server::verify::verify(&app.app.store, Some(Uuid::now_v7()))
            .await
            .is_err()
    );
}

#[tokio::test]
async fn events_are_append_only_chained_and_an_edit_is_named_on_postgres() {
    events_are_append_only_chained_and_an_edit_is_named(TestApp::spawn().await).await;
}

#[tokio::test]
async fn events_are_append_only_chained_and_an_edit_is_named_on_sqlite() {
    events_are_append_only_chained_and_an_edit_is_named(TestApp::spawn_embedded().await).await;
}

/// Appends that race for one case queue behind the case row (the insert
/// trigger takes it) and never fork, even from a caller that did not lock
/// the case first.
#[tokio::test]
async fn concurrent_appends_to_one_case_do_not_fork_on_postgres() {
    let app = TestApp::spawn().await;
    let db = app.app.store.db();
    let case = case_with_history(&app, "race").await;
    let appends = (0..24).map(|i| async move {
        let txn = db.begin().await.unwrap();
        if i % 3 == 0 {
            // As a move does: the case row first.
            txn.execute_raw(stmt(
                db,
                "UPDATE cases SET version = version WHERE id = $1",
                vec![case.into()],
            ))
            .await
            .unwrap();
        }
        txn.execute_raw(stmt(
            db,
            "INSERT INTO case_events (id, case_id, action, to_status, actor_kind, public, \
             created_at, seq, prev_hash, hash) \
             VALUES ($1, $2, 'race', 'accepted', 'system', false, now(), 0, '', '')",
            vec![Uuid::now_v7().into(), case.into()],
        ))
        .await
        .unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        txn.commit().await.unwrap();
    });
    futures::future::join_all(appends).await;
    let report = app
        .app
        .store
        .cases()
        .verify_chains(sansuo_store::ChainScope::Case(case.into()))
        .await
        .unwrap();
    assert_eq!(report.broken, None);
    assert!(report.events >= 24 + 3, "{report:?}");
}

/// Events that existed before the migration are chained by it.
async fn the_migration_chains_existing_events(app: TestApp) {
    case_with_history(&app, "before").await;
    // One connection of its own: SQLite's pooled connections may keep the
    // schema they prepared against.
    let own = sea_orm::Database::connect(&app.server_env()["DATABASE_URL"])
        .await
        .unwrap();
    let db = &own;
    let migration = sansuo_migrations::Migrator::migrations()
        .into_iter()
        .find(|m| m.name() == "m20261205_130000_event_chain")
        .expect("the event chain migration");
    let manager = SchemaManager::new(db);
    migration.down(&manager).await.expect("down");
    // Events appended meanwhile by code of before (no chain columns).
    let columns = if backend(db) == DbBackend::Postgres {
        "SELECT count(*) AS n FROM information_schema.columns \
         WHERE table_name = 'case_events' AND column_name = 'hash'"
    } else {
        "SELECT count(*) AS n FROM pragma_table_info('case_events') WHERE name = 'hash'"
    };
    let n: i64 = db
        .query_one_raw(stmt(db, columns, vec![]))
        .await
        .unwrap()
        .unwrap()
        .try_get("", "n")
        .unwrap();
    assert_eq!(n, 0, "down removed the chain");
    migration.up(&manager).await.expect("up again");
    let report = app
        .app
        .store
        .cases()
        .verify_chains(sansuo_store::ChainScope::All)
        .await
        .unwrap();
    assert_eq!(report.broken, None, "{report:?}");
    assert!(report.events >= 3, "{report:?}");
    // And the chain goes on from there.
    case_with_history(&app, "after").await;
    sansuo_server::verify::verify(&app.app.store, None)
        .await
        .expect("whole after new appends");
}

#[tokio::test]
async fn the_migration_chains_existing_events_on_postgres() {
    the_migration_chains_existing_events(TestApp::spawn().await).await;
}

#[tokio::test]
async fn the_migration_chains_existing_events_on_sqlite() {
    the_migration_chains_existing_events(TestApp::spawn_embedded().await).await;
}

/// The documented seam for a later retention purge: DELETE is let through
/// for the events of a case listed in `case_event_purges`, and only those.
async fn a_listed_case_alone_may_have_its_events_purged(app: TestApp) {
    let db = app.app.store.db();
    let purged = case_with_history(&app, "purged").await;
    let kept = case_with_history(&app, "kept").await;
    db.execute_raw(stmt(
        db,
        "INSERT INTO case_event_purges (case_id, purged_at, reason) VALUES ($1, $2, $3)",
        vec![
            purged.into(),
            chrono::Utc::now().into(),
            Value::from("retention".to_owned()),
        ],
    ))
    .await
    .unwrap();
    db.execute_raw(stmt(
        db,
        "DELETE FROM case_events WHERE case_id = $1",
        vec![purged.into()],
    ))
    .await
    .expect("a listed case's events may go");
    db.execute_raw(stmt(
        db,
        "DELETE FROM case_events WHERE case_id = $1",
        vec![kept.into()],
    ))
    .await
    .expect_err("any other case's stay");
    sansuo_server::verify::verify(&app.app.store, None)
        .await
        .expect("what is left is whole");
}

#[tokio::test]
async fn a_listed_case_alone_may_have_its_events_purged_on_postgres() {
    a_listed_case_alone_may_have_its_events_purged(TestApp::spawn().await).await;
}

#[tokio::test]
async fn a_listed_case_alone_may_have_its_events_purged_on_sqlite() {
    a_listed_case_alone_may_have_its_events_purged(
        TestApp::spawn_with(TestOptions {
            backend: Backend::Embedded,
            ..TestOptions::default()
        })
        .await,
    )
    .await;
}

/// Signed evidence receipts (issue 18, item 4): each photo's receipt is
/// signed with the server's Ed25519 key; the public key is published as PEM
/// and the receipt checks offline with the command docs/receipts.md gives.
async fn photo_receipts_are_signed_and_check_offline(app: &TestApp) -> String {
    use sansuo_tests::views::TipReceipt;
    let resident = app.resident_token("receipt").await;
    let tip = serde_json::json!({
        "community_id": app.demo.community_a.as_uuid(),
        "category_code": "AQ01",
        "description": "3号楼东侧消防通道被电动车和杂物堵死了，晚上有人在楼道充电",
        "location": {"lat": 31.2646, "lng": 121.5052, "address": "3号楼东侧"},
        "anonymous": false,
    });
    let created: TipReceipt = expect_json(
        app.post_tip_with_photo(&resident, &tip, crate::tips::jpeg_with_gps())
            .await,
        StatusCode::CREATED,
    )
    .await;
    let photo = &created.tip.photos[0];
    assert_eq!(
        photo.signed_receipt,
        format!(
            "sansuo-photo-receipt-v1\nphoto_id={}\nsha256={}\nreceived_at={}\n",
            photo.id,
            photo.sha256,
            photo
                .received_at
                .to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
        )
    );

    let response = app
        .http
        .get(app.url("/api/v1/receipts/public-key"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let pem = response.text().await.unwrap();
    assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----\n"), "{pem}");

    // The same receipt read back later is signed alike.
    let seen: sansuo_tests::views::TipView = expect_json(
        app.get(&format!("/api/v1/tips/{}", created.tip.id), &resident)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(seen.photos[0].signed_receipt, photo.signed_receipt);
    assert_eq!(seen.photos[0].signature, photo.signature);

    // Offline, with openssl alone, when it is installed.
    if std::process::Command::new("openssl")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success())
    {
        use base64::Engine;
        let dir = std::env::temp_dir().join(format!("sansuo-receipt-{}", Uuid::now_v7()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("pub.pem"), &pem).unwrap();
        std::fs::write(dir.join("receipt.msg"), &photo.signed_receipt).unwrap();
        std::fs::write(
            dir.join("receipt.sig"),
            base64::engine::general_purpose::STANDARD
                .decode(&photo.signature)
                .unwrap(),
        )
        .unwrap();
        std::fs::write(
            dir.join("altered.msg"),
            photo.signed_receipt.replace("sha256=", "sha256=0"),
        )
        .unwrap();
        let verify = |msg: &str| {
            // The command of docs/receipts.md.
            std::process::Command::new("openssl")
                .current_dir(&dir)
                .args([
                    "pkeyutl",
                    "-verify",
                    "-pubin",
                    "-inkey",
                    "pub.pem",
                    "-rawin",
                    "-in",
                    msg,
                    "-sigfile",
                    "receipt.sig",
                ])
                .output()
                .unwrap()
        };
        let good = verify("receipt.msg");
        assert!(
            good.status.success(),
            "openssl: {}",
            String::from_utf8_lossy(&good.stdout)
        );
        assert!(String::from_utf8_lossy(&good.stdout).contains("Signature Verified Successfully"));
        assert!(!verify("altered.msg").status.success());
        let _ = std::fs::remove_dir_all(&dir);
    } else {
        eprintln!("openssl is not installed: the offline check is skipped");
    }
    pem
}

#[tokio::test]
async fn photo_receipts_are_signed_and_check_offline_on_postgres() {
    let key = sansuo_media::ReceiptSigner::new_pem([42; 32]);
    let app = TestApp::spawn_with(TestOptions {
        env: vec![("SANSUO_RECEIPT_KEY", key.clone())],
        ..TestOptions::default()
    })
    .await;
    let pem = photo_receipts_are_signed_and_check_offline(&app).await;
    assert_eq!(
        pem,
        sansuo_media::ReceiptSigner::parse(&key)
            .unwrap()
            .public_key_pem(),
        "the key of SANSUO_RECEIPT_KEY"
    );
}

/// The embedded default makes its key on the first start and keeps it in
/// its data directory: receipts check across a restart.
#[tokio::test]
async fn the_embedded_receipt_key_outlives_a_restart() {
    let dir = std::env::temp_dir().join(format!("sansuo-receipt-key-{}", Uuid::now_v7()));
    let options = TestOptions {
        backend: Backend::Embedded,
        sqlite_dir: Some(dir.clone()),
        ..TestOptions::default()
    };
    let first = TestApp::spawn_with(options.clone()).await;
    let pem = photo_receipts_are_signed_and_check_offline(&first).await;
    assert!(dir.join("sansuo.receipt-key").is_file());
    drop(first);
    let second = TestApp::spawn_with(options).await;
    let again = second
        .http
        .get(second.url("/api/v1/receipts/public-key"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(again, pem);
    drop(second);
    let _ = std::fs::remove_dir_all(&dir);
}
