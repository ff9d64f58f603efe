//! Redis going away and coming back; several instances migrating at once.

use chrono::{DateTime, Utc};
use reqwest::StatusCode;
use sansuo_store::entity::case;
use sansuo_store::routing::{EngineCase, LadderPlacement};
use sansuo_store::{Fault, Store};
use sansuo_tests::views::ConsultationStatusView as Status;
use sansuo_tests::{
    PrivateRedis, TestApp, TestOptions, create_database, drop_database, eventually, expect_error,
    expect_status, readiness_verdicts,
};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use serde_json::json;
use uuid::Uuid;

#[tokio::test]
async fn submissions_survive_a_redis_restart_and_are_routed_when_it_returns() {
    let mut redis = PrivateRedis::start().await;
    let app = TestApp::spawn_with(TestOptions {
        redis_url: Some(redis.url()),
        reconcile_secs: 1,
        ..TestOptions::default()
    })
    .await;
    let resident = app.resident_token("through-the-outage").await;
    let zhang = app.staff_token("lawyer.zhang").await;
    let before = app
        .submit(&resident, "停电前提交的问题：物业乱收停车费怎么办？")
        .await;
    let before_id = before.id;
    let offer = app.wait_for_offer(&zhang, &before_id).await;

    redis.stop();
    let ready = app.http.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(
        readiness_verdicts(ready).await,
        json!({"database": "ok", "queue": "unavailable", "routing": "degraded"})
    );
    // The database is the system of record: residents and lawyers keep working.
    let during = app
        .submit(&resident, "Redis 宕机期间提交的问题：邻居占用楼道堆物")
        .await;
    let during_id = during.id;
    app.accept_offer(&zhang, &offer).await;
    assert_eq!(
        app.status_of(&resident, &during_id).await,
        Status::Submitted
    );

    redis.restart().await;
    eventually("routing to recover", || async {
        let ready = app.http.get(app.url("/readyz")).send().await.ok()?;
        let body: serde_json::Value = ready.json().await.ok()?;
        (body["routing"] == "ok").then_some(())
    })
    .await;
    app.wait_for_offer(&zhang, &during_id).await;
    assert_eq!(app.status_of(&resident, &before_id).await, Status::Assigned);
}

/// Issue 19, 5: a Redis outage does not take the API out of the load
/// balancer. The instance still serves requests (the database answers), so
/// it stays ready; the outage shows as `routing: degraded`.
#[tokio::test]
async fn readiness_stays_200_with_redis_down_while_the_database_answers() {
    let mut redis = PrivateRedis::start().await;
    let app = TestApp::spawn_with(TestOptions {
        redis_url: Some(redis.url()),
        ..TestOptions::default()
    })
    .await;
    let ready = app.http.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(
        readiness_verdicts(ready).await,
        json!({"database": "ok", "queue": "ok", "routing": "ok"})
    );
    // Nothing listens on its port any more.
    redis.stop();
    for _ in 0..3 {
        let ready = app.http.get(app.url("/readyz")).send().await.unwrap();
        assert_eq!(
            readiness_verdicts(ready).await,
            json!({"database": "ok", "queue": "unavailable", "routing": "degraded"})
        );
    }
}

/// The cluster drill's finding: with Redis restarting, every instance's
/// `/readyz` waited on the queue's PING (the connection manager holds
/// commands while it reconnects), so the load balancer's checks (500 ms)
/// timed out on all three at once and it answered 503 itself, although
/// each instance could serve. A hung Redis (SIGSTOP: connections open,
/// nothing answered) is the hardest case: readiness must still answer,
/// with the queue a detail. The client's 2 s budget is four of haproxy's
/// check timeouts; without a bound the PING waits for ever.
#[tokio::test]
async fn readiness_answers_while_redis_hangs() {
    let redis = PrivateRedis::start().await;
    let app = TestApp::spawn_with(TestOptions {
        redis_url: Some(redis.url()),
        ..TestOptions::default()
    })
    .await;
    let check = || {
        app.http
            .get(app.url("/readyz"))
            .timeout(std::time::Duration::from_secs(2))
            .send()
    };
    assert_eq!(
        readiness_verdicts(check().await.unwrap()).await,
        json!({"database": "ok", "queue": "ok", "routing": "ok"})
    );
    redis.freeze();
    for _ in 0..3 {
        let ready = check().await.expect("/readyz answers while Redis hangs");
        assert_eq!(
            readiness_verdicts(ready).await,
            json!({"database": "ok", "queue": "unavailable", "routing": "degraded"})
        );
    }
    redis.thaw();
    eventually("the queue to answer again", || async {
        let ready = check().await.ok()?;
        let body: serde_json::Value = ready.json().await.ok()?;
        (body["queue"] == "ok").then_some(())
    })
    .await;
}

#[tokio::test]
async fn instances_starting_together_migrate_once() {
    let (url, database) = create_database().await;
    let stores: Vec<Store> = futures::future::join_all((0..3).map(|_| Store::connect(&url, 2)))
        .await
        .into_iter()
        .map(|s| s.expect("connect"))
        .collect();
    let results = futures::future::join_all(stores.iter().map(|s| s.migrate())).await;
    for result in results {
        result.expect("every instance's migration succeeds");
    }
    // And the schema works.
    assert!(
        stores[0]
            .org()
            .active_categories()
            .await
            .unwrap()
            .is_empty()
    );
    for store in stores {
        store.close().await.unwrap();
    }
    drop_database(&database).await;
}

async fn case_row(app: &TestApp, id: Uuid) -> case::Model {
    case::Entity::find_by_id(id)
        .one(app.app.store.db())
        .await
        .unwrap()
        .unwrap()
}

fn placement(case: &EngineCase, now: DateTime<Utc>) -> LadderPlacement<'_> {
    LadderPlacement {
        workflow: case.workflow(),
        step: case.ladder_step(),
        entered_at: now,
        priority: case.priority(),
        unit: case.pool_unit(),
    }
}

/// Every lawyer of the demo steps away: cases wait in their queues.
async fn everyone_away(app: &TestApp) {
    for lawyer in ["lawyer.zhang", "lawyer.li", "lawyer.wang", "lawyer.zhao"] {
        app.set_presence(lawyer, "away").await;
    }
}

/// Issue 19, 1: pool, escalate and unroute interrupted between the case
/// change and its event (a database restart there) leave neither; the case
/// file never disagrees with the case. Once the fault is gone, the same
/// move goes through with its event.
#[tokio::test]
async fn an_interrupted_routing_move_leaves_the_case_and_its_history_together() {
    let app = TestApp::spawn().await;
    let store = &app.app.store;
    everyone_away(&app).await;
    let resident = app.resident_token("interrupted-move").await;
    let id = app
        .submit(&resident, "路由中断测试：小区车位只租不售是否合法？")
        .await
        .id;
    eventually("the router to pool the case", || async {
        (case_row(&app, id).await.status == "pooled").then_some(())
    })
    .await;
    // `pool` starts from `submitted`: put the case back there (its route
    // job is done; nothing else moves it).
    case::Entity::update_many()
        .col_expr(case::Column::Status, Expr::value("submitted"))
        .filter(case::Column::Id.eq(id))
        .exec(store.db())
        .await
        .unwrap();
    for name in ["pool", "escalate", "unroute"] {
        let now = Utc::now();
        let before = case_row(&app, id).await;
        let engine_case = store.routing().case(id.into()).await.unwrap().unwrap();
        let history = store.cases().history(id.into(), false).await.unwrap().len();
        let attempt = || async {
            let at = placement(&engine_case, now);
            match name {
                "pool" => store
                    .routing()
                    .queue_case(&engine_case, at, "test", None, now)
                    .await
                    .map(|_| ()),
                "escalate" => {
                    store
                        .routing()
                        .escalate_case(&engine_case, at, "test", None, now)
                        .await
                }
                _ => {
                    store
                        .routing()
                        .unroute_case(&engine_case, at, "test", None, now)
                        .await
                }
            }
        };
        store
            .faults()
            .arm(Fault::BetweenMoveAndEvent { case: id }, 1);
        let failed = attempt().await;
        assert!(failed.is_err(), "{name}: the injected fault fails the move");
        let after = case_row(&app, id).await;
        assert_eq!(
            (after.status.as_str(), after.version),
            (before.status.as_str(), before.version),
            "{name}: the case is unchanged when its event could not be written"
        );
        assert_eq!(
            store.cases().history(id.into(), false).await.unwrap().len(),
            history,
            "{name}: no event either"
        );
        attempt()
            .await
            .unwrap_or_else(|e| panic!("{name} without the fault: {e}"));
        let events = store.cases().history(id.into(), false).await.unwrap();
        assert_eq!(events.len(), history + 1, "{name}: the move and its event");
        assert_eq!(events.last().unwrap().action, name);
    }
}

/// Issue 19, 3: a submission that committed, and whose read-back for the
/// answer failed (the database restarting right after the commit), is
/// answered as stored, never with a 500: 503 `submission_stored` with its
/// Location, and a retry with the same Idempotency-Key gets the one case.
/// A mediation application (no Idempotency-Key) says where to read it.
#[tokio::test]
async fn a_committed_submission_whose_read_back_fails_is_answered_as_stored() {
    let app = TestApp::spawn().await;
    let resident = app.resident_token("read-back").await;
    let me: sansuo_tests::views::ResidentView = app.get_as("/api/v1/me", &resident).await;
    let arm = || {
        app.app
            .store
            .faults()
            .arm(Fault::ReadCaseOf { resident: me.id }, 1)
    };
    let send = |path: &'static str, body: serde_json::Value, key: Option<&'static str>| {
        let mut request = app
            .http
            .post(app.url(path))
            .bearer_auth(&resident)
            .json(&body);
        if let Some(key) = key {
            request = request.header("Idempotency-Key", key);
        }
        request.send()
    };
    let stored = |response: reqwest::Response| async move {
        let location = response
            .headers()
            .get("Location")
            .map(|l| l.to_str().unwrap().to_owned());
        expect_error(
            response,
            StatusCode::SERVICE_UNAVAILABLE,
            "submission_stored",
        )
        .await;
        location
    };
    let consultation = json!({ "community_id": app.demo.community_a.as_uuid(), "category_code": "LJ01", "question": "读回失败测试：楼上漏水物业不管怎么办？" });
    let tip = json!({
        "community_id": app.demo.community_a.as_uuid(),
        "category_code": "AQ01",
        "description": "3号楼东侧消防通道被电动车和杂物堵死了，晚上有人在楼道充电",
        "location": {"lat": 31.2646, "lng": 121.5052, "address": "3号楼东侧"},
        "anonymous": false,
    });
    for (path, body, key) in [
        (
            "/api/v1/consultations",
            consultation,
            "read-back-consultation-1",
        ),
        ("/api/v1/tips", tip, "read-back-tip-1"),
    ] {
        arm();
        let location = stored(send(path, body.clone(), Some(key)).await.unwrap())
            .await
            .unwrap_or_else(|| panic!("{path}: a Location"));
        let again = send(path, body, Some(key)).await.unwrap();
        assert_eq!(
            again.headers().get("Idempotent-Replayed").unwrap(),
            "true",
            "{path}: the retry finds the stored submission"
        );
        let again: serde_json::Value = expect_status(again, StatusCode::CREATED).await;
        let id = again
            .get("id")
            .or_else(|| again["tip"].get("id"))
            .and_then(|id| id.as_str())
            .unwrap()
            .to_owned();
        assert!(location.ends_with(&id), "{path}: {location} is {id}");
    }
    let mediation = json!({
        "community_id": app.demo.community_a.as_uuid(),
        "category_code": "LJ02",
        "facts": "楼上卫生间漏水三个月，天花板发霉，多次沟通无果",
        "claims": "请对方修好漏水并赔偿天花板维修费",
        "parties": [
            {"role": "applicant", "name": "王小明", "contact": "13812341234"},
            {"role": "respondent", "name": "赵大力", "contact": "13900001111"},
        ],
        "preferred_times": [{"from": "2026-12-01T01:00:00Z", "to": "2026-12-01T04:00:00Z"}],
        "private": true,
    });
    arm();
    let location = stored(send("/api/v1/mediations", mediation, None).await.unwrap())
        .await
        .expect("a Location for the mediation");
    expect_status(app.get(&location, &resident).await, StatusCode::OK).await;
}

/// Issue 19, 4: after Redis lost its data, three instances' reconcilers
/// asking at once rebuild once between them (a lease), not once each.
#[tokio::test]
async fn after_redis_loses_its_data_three_instances_rebuild_once() {
    let app = TestApp::spawn().await;
    let second = app.spawn_sibling().await;
    let third = app.spawn_sibling().await;
    let resident = app.resident_token("rebuild-once").await;
    app.submit(&resident, "重建测试：小区停车费突然上涨是否合法？")
        .await;
    app.lose_redis_data().await;
    let (a, b, c) = tokio::join!(
        app.app.worker.reconcile_once(),
        second.worker.reconcile_once(),
        third.worker.reconcile_once(),
    );
    let rebuilt = [a.unwrap(), b.unwrap(), c.unwrap()]
        .iter()
        .filter(|r| r.rebuilt)
        .count();
    assert_eq!(
        rebuilt, 1,
        "one instance rebuilds, the others leave it to it"
    );
    // And once it is done, nobody rebuilds again.
    assert!(!app.app.worker.reconcile_once().await.unwrap().rebuilt);
}

/// Issue 19, 4: a rebuild of many open cases does not hold up new work.
/// With 2,000 open cases and Redis flushed, a new consultation is offered
/// within a second while the rebuild's backlog is still draining.
#[tokio::test]
async fn a_new_submission_is_offered_within_a_second_while_a_big_rebuild_runs() {
    const OPEN: usize = 2000;
    let app = TestApp::spawn_with(TestOptions {
        reconcile_secs: 1,
        ..TestOptions::default()
    })
    .await;
    let store = &app.app.store;
    let resident = app.resident_token("behind-the-rebuild").await;
    let zhang = app.staff_token("lawyer.zhang").await;
    let first = app
        .submit(&resident, "重建压力测试：物业不退装修押金怎么办？")
        .await;
    app.wait_for_offer(&zhang, &first.id).await;
    // 2,000 open cases owned by lawyer.li, copies of that one.
    let li = app.demo.account("lawyer.li").id.as_uuid();
    store
        .db()
        .execute_unprepared(&format!(
            "INSERT INTO cases SELECT (jsonb_populate_record(c, jsonb_build_object( \
               'id', gen_random_uuid(), 'status', 'assigned', 'owner_staff_id', '{li}'))).* \
             FROM cases c, generate_series(1, {OPEN}) WHERE c.id = '{}'",
            first.id
        ))
        .await
        .unwrap();
    app.lose_redis_data().await;
    let queue = &app.app.queue;
    let backlog = || async {
        let mut due = 0;
        for name in [sansuo_worker::ROUTING_QUEUE, sansuo_worker::REBUILD_QUEUE] {
            let stats = queue.stats(name).await.unwrap();
            due += stats.due + stats.leased;
        }
        due
    };
    eventually("the rebuild to queue its work", || async {
        (backlog().await > 200).then_some(())
    })
    .await;
    let started = std::time::Instant::now();
    let fresh = app
        .submit(&resident, "重建期间提交：邻居装修占用消防通道怎么办？")
        .await;
    app.wait_for_offer(&zhang, &fresh.id).await;
    let waited = started.elapsed();
    let left = backlog().await;
    assert!(
        left > 0,
        "the rebuild still runs (else this proves nothing): {left} jobs left"
    );
    assert!(
        waited < std::time::Duration::from_secs(1),
        "the new consultation waited {waited:?} for its offer behind the rebuild"
    );
}

/// Issue 14, 7 / issue 19: a connection broken mid-request (PostgreSQL
/// terminating the backend, as a restart or a failover does) answers 503
/// `database_busy` with `Retry-After: 2`, never 500 `internal_error`, and
/// stores nothing; the retry with the same Idempotency-Key stores the one
/// case. Failed on the old code: the broken connection answered 500.
#[tokio::test]
async fn a_connection_broken_mid_request_answers_503_database_busy_never_500() {
    use sea_orm::{DbBackend, Statement, TransactionTrait};
    let app = TestApp::spawn().await;
    let resident = app.resident_token("broken-connection").await;
    let me: sansuo_tests::views::ResidentView = app.get_as("/api/v1/me", &resident).await;
    let admin = sea_orm::Database::connect(app.server_env()["DATABASE_URL"].as_str())
        .await
        .unwrap();
    let body = json!({ "community_id": app.demo.community_a.as_uuid(), "category_code": "LJ01", "question": "断线测试：楼上漏水物业不管怎么办？" });
    let send = || {
        app.http
            .post(app.url("/api/v1/consultations"))
            .bearer_auth(&resident)
            .header("Idempotency-Key", "broken-connection-1")
            .json(&body)
            .send()
    };
    // Hold the cases table: the submission waits inside its transaction,
    // at its INSERT, until its connection is cut.
    let lock = admin.begin().await.unwrap();
    lock.execute_unprepared("LOCK TABLE cases IN EXCLUSIVE MODE")
        .await
        .unwrap();
    let cut = async {
        eventually(
            "the submission to wait on the lock, then its connection cut",
            || async {
                let cut = admin
                    .query_all_raw(Statement::from_string(
                        DbBackend::Postgres,
                        "SELECT pg_terminate_backend(pid) AS cut FROM pg_stat_activity
                     WHERE datname = current_database() AND wait_event_type = 'Lock'
                       AND query LIKE 'INSERT INTO \"cases\"%'",
                    ))
                    .await
                    .unwrap();
                (!cut.is_empty()).then_some(())
            },
        )
        .await;
        lock.rollback().await.unwrap();
    };
    let (response, ()) = tokio::join!(send(), cut);
    let response = response.unwrap();
    assert_eq!(
        response
            .headers()
            .get("retry-after")
            .map(|v| v.to_str().unwrap().to_owned()),
        Some("2".to_owned())
    );
    expect_error(response, StatusCode::SERVICE_UNAVAILABLE, "database_busy").await;
    let stored = || async {
        case::Entity::find()
            .filter(case::Column::ResidentId.eq(me.id))
            .all(app.app.store.db())
            .await
            .unwrap()
            .len()
    };
    assert_eq!(stored().await, 0, "nothing was stored");
    expect_status(send().await.unwrap(), StatusCode::CREATED).await;
    expect_status(send().await.unwrap(), StatusCode::CREATED).await;
    assert_eq!(stored().await, 1, "the retries store the one case");
}
