//! The benchmark in smoke mode, end to end: every scenario for about a
//! second at a low rate, so CI proves the benchmark builds, runs and
//! cleans up after itself. It asserts that things happened and nothing
//! failed, never how fast: CI machines are shared and slow.
//!
//! The server runs in-process (`sansuo_server::Application`, the very code
//! `sansuo serve` runs) rather than as the `sansuo` binary:
//! `CARGO_BIN_EXE_sansuo` only exists for tests of the server's own
//! package, and building `target/debug/sansuo` from inside a test would
//! either wait on the build lock cargo holds while it runs tests or take
//! minutes on two cores, far beyond this test's budget of ~30 s. What the
//! in-process mode does not cover, the child process and its peak RSS, is
//! what `scripts/bench.sh --smoke` runs against the debug binary.
//!
//! Needs PostgreSQL and Redis like the end-to-end tests
//! (`SANSUO_TEST_DATABASE_URL`, `SANSUO_TEST_REDIS_URL`; `.ci/run` starts
//! them). pgbench is used when installed and skipped otherwise.

use sansuo_loadgen::Options;
use sansuo_loadgen::references::find_pgbench;
use sea_orm::{ConnectionTrait, Database, DbBackend, Statement};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_smoke_benchmark_runs_every_scenario_and_cleans_up() {
    let out = std::env::temp_dir().join(format!("sansuo-loadgen-smoke-{}", std::process::id()));
    let mut options = Options::smoke_in_process(out.clone());
    if let Ok(url) = std::env::var("SANSUO_TEST_DATABASE_URL") {
        options.admin_url = url;
    }
    if let Ok(url) = std::env::var("SANSUO_TEST_REDIS_URL") {
        options.redis_url = url;
    }
    let (admin_url, redis_url) = (options.admin_url.clone(), options.redis_url.clone());

    let report = sansuo_loadgen::run(options)
        .await
        .expect("the smoke benchmark runs");

    for name in [
        "board",
        "intake@20/s",
        "intake-max",
        "mixed@20/s",
        "burst",
        "board@2k",
        "intake@20/s@2k",
    ] {
        let scenario = report
            .scenario(name)
            .unwrap_or_else(|| panic!("scenario {name} ran"));
        assert!(scenario.summary.requests > 0, "{name} sent requests");
        let failures: Vec<_> = scenario
            .summary
            .errors
            .keys()
            // A lawyer with nothing to act on is the client's choice, not a failure.
            .filter(|k| *k != "transport:nothing_to_act_on")
            .collect();
        assert!(
            failures.is_empty(),
            "{name} failed: {:?}",
            scenario.summary.errors
        );
    }
    let healthz = report.references.healthz.as_ref().expect("healthz ran");
    assert!(healthz.summary.requests > 0 && healthz.summary.error_count == 0);
    if find_pgbench().is_some() {
        assert!(
            report.references.problems.is_empty(),
            "{:?}",
            report.references.problems
        );
        assert!(
            report
                .references
                .pgbench_insert
                .as_ref()
                .unwrap()
                .transactions
                > 0
        );
        assert!(
            report
                .references
                .pgbench_submission
                .as_ref()
                .unwrap()
                .transactions
                > 0
        );
    }
    // Every service of the mix was submitted and offered to its first
    // step's person (lawyer, mediator, officer on the rota).
    let services = ["consultation", "mediation", "tip"];
    assert_eq!(report.route.len(), 2, "route measured at both sizes");
    for route in &report.route {
        assert!(route.submissions > 0 && route.offered > 0, "{route:?}");
        assert_eq!(route.unrouted_after_wait, 0, "{route:?}");
        assert!(route.end_to_end.is_some(), "probes ran: {route:?}");
        for service in services {
            let figures = &route.by_service[service];
            assert!(figures.offered > 0, "{service} offered: {route:?}");
        }
    }
    let intake = report.scenario("intake@20/s").unwrap();
    for op in ["submit_consultation", "submit_mediation", "submit_tip"] {
        assert!(intake.per_op[op].requests > 0, "{op} sent");
    }
    assert_eq!(report.burst.len(), 1);
    let burst = &report.burst[0];
    assert_eq!(burst.submissions, 60, "{burst:?}");
    assert_eq!(burst.unrouted_after_wait, 0, "{burst:?}");
    assert!(
        burst.offers >= burst.offered && burst.offered > 0,
        "{burst:?}"
    );
    assert!(burst.drain_s.is_some() && burst.decisions_per_s.is_some());
    for service in services {
        assert!(
            burst.by_service[service].offered > 0,
            "{service}: {burst:?}"
        );
    }
    let statements = report.statements.as_ref().expect("statements ran");
    let mix = &statements.mix;
    assert_eq!((mix.submissions, mix.failed), (20, 0), "{statements:?}");
    assert!(mix.transactions > 0, "{statements:?}");
    assert!(mix.transactions_per_submission.is_finite());
    for service in services {
        let alone = &statements.by_service[service];
        assert_eq!((alone.submissions, alone.failed), (10, 0), "{statements:?}");
        assert!(alone.transactions > 0, "{statements:?}");
    }
    assert!(report.table().contains("decisions/s"));
    assert_eq!(
        report.size.len(),
        2,
        "board and intake compared across sizes"
    );
    assert!(
        report
            .size
            .iter()
            .all(|c| c.large_cases >= 2000 && c.small_cases < 2000)
    );
    assert!(!report.targets.is_empty());
    assert!(report.table().contains("targets:"));

    let path = report.write_json(&out).expect("results are written");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert!(json["scenarios"].as_array().is_some_and(|s| s.len() == 7));
    assert_eq!(
        std::fs::read_to_string(out.join(".gitignore")).unwrap(),
        "*\n"
    );
    std::fs::remove_dir_all(&out).ok();

    // Nothing left behind: the database is dropped, the Redis keys deleted.
    let setup = report.setup.as_ref().expect("setup ran");
    let admin = Database::connect(&admin_url).await.unwrap();
    let left = admin
        .query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            format!(
                "SELECT count(*)::bigint AS n FROM pg_database WHERE datname = '{}'",
                setup.database
            ),
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get::<i64>("", "n")
        .unwrap();
    assert_eq!(left, 0, "database {} was dropped", setup.database);
    let mut redis = redis::Client::open(redis_url)
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{}*", setup.redis_prefix))
        .query_async(&mut redis)
        .await
        .unwrap();
    assert!(keys.is_empty(), "Redis keys left: {keys:?}");
}
