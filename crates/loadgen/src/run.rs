//! One benchmark run, start to finish: sandbox, server, district, logins,
//! base data; then the scenarios in an order that keeps them independent
//! (boards are read before intake runs add offers to them); then the
//! report; and the sandbox is removed whatever happened.

use crate::accounts::{self, Api};
use crate::cli::{Options, Scenario, workspace_root};
use crate::load::Pace;
use crate::references::{self, PgbenchSpec};
use crate::report::{Machine, References, Report, Setup, SizeComparison, git_info, human};
use crate::sandbox::Sandbox;
use crate::scenarios::{
    Bench, ItemCounts, Known, ScenarioResult, board, burst, intake, mixed, route, statements,
};
use crate::seed;
use crate::server::{Secrets, ServerEnv, ServerUnderTest};
use anyhow::Context;
use chrono::Utc;
use sansuo_wechat_fake::FakeWechat;
use std::sync::Arc;
use std::time::Instant;

/// Run the benchmark; the report is also written as JSON and returned.
pub async fn run(options: Options) -> anyhow::Result<Report> {
    let sandbox = Sandbox::create(&options.admin_url, &options.redis_url).await?;
    eprintln!(
        "database {}, Redis prefix {}",
        sandbox.database, sandbox.redis_prefix
    );
    let result = tokio::select! {
        result = run_in(&options, &sandbox) => result,
        _ = tokio::signal::ctrl_c() => Err(anyhow::anyhow!("interrupted")),
    };
    if options.keep {
        eprintln!(
            "kept database {} ({}) and Redis keys {}*",
            sandbox.database, sandbox.database_url, sandbox.redis_prefix
        );
    } else {
        sandbox.destroy().await;
    }
    result
}

fn note(message: impl AsRef<str>) {
    eprintln!("[{}] {}", Utc::now().format("%H:%M:%S"), message.as_ref());
}

async fn run_in(options: &Options, sandbox: &Sandbox) -> anyhow::Result<Report> {
    let started_at = Utc::now();
    let setup_started = Instant::now();
    let mut report = Report {
        started_at,
        finished_at: started_at,
        options: options.clone(),
        machine: Machine::probe(),
        git: git_info(&workspace_root()),
        setup: None,
        references: References::default(),
        scenarios: Vec::new(),
        route: Vec::new(),
        size: Vec::new(),
        burst: Vec::new(),
        statements: None,
        tips_sent: 0,
        targets: Vec::new(),
    };
    let wechat = FakeWechat::start().await;
    let env = ServerEnv {
        database_url: &sandbox.database_url,
        redis_url: sandbox.redis_url(),
        redis_prefix: &sandbox.redis_prefix,
        wechat_base_url: &wechat.base_url(),
        db_max_connections: options.db_max_connections,
        secrets: Secrets::random(),
        extra: Vec::new(),
    };
    note(format!(
        "starting the server ({})",
        if options.in_process {
            "in-process".to_owned()
        } else {
            options.server_bin.display().to_string()
        }
    ));
    let server = if options.in_process {
        ServerUnderTest::spawn_in_process(&env).await?
    } else {
        std::fs::create_dir_all(&options.out_dir)?;
        let log = options.out_dir.join(format!(
            "{}-server.log",
            started_at.format("%Y%m%dT%H%M%SZ")
        ));
        ServerUnderTest::spawn_process(&options.server_bin, &env, log).await?
    };
    let rss_after_start = server.rss_mb();
    // The server migrated the database; seed through the store.
    let store = sansuo_store::Store::connect(&sandbox.database_url, 4).await?;
    let db = store.db().clone();
    note("seeding the district");
    let district = seed::district(&store, options.shape).await?;
    let api = Api::new(&server.base_url)?;
    let categories = api.catalog().await?;
    note(format!(
        "logging in {} residents and {} lawyers ({} mediators and {} officers only receive offers)",
        options.residents,
        district.lawyers.len(),
        district.mediators.len(),
        district.officers.len()
    ));
    let accounts = accounts::log_in(&api, &wechat, &district, options.residents).await?;
    let rss_after_logins = server.rss_mb();
    let base = options.sizes.first().copied().unwrap_or(10_000);
    note(format!("growing to {} stored cases", human(base)));
    let growth = seed::grow_cases(&db, base, options.shape.offers_per_community).await?;
    let known = Arc::new(Known::default());
    let accounts = Arc::new(accounts);
    known.load(&db, &accounts).await?;
    let mut bench = Bench {
        api,
        db,
        server,
        accounts,
        district: Arc::new(district),
        categories: Arc::new(categories),
        known,
        items: Arc::new(ItemCounts::default()),
        tips: Arc::default(),
    };
    report.setup = Some(Setup {
        database: sandbox.database.clone(),
        redis_prefix: sandbox.redis_prefix.clone(),
        server_mode: bench.server.mode.to_owned(),
        server_binary: (!options.in_process).then(|| options.server_bin.clone()),
        server_log: bench.server.log_path.clone(),
        communities: bench.district.communities.len(),
        lawyers: bench.accounts.lawyers.len(),
        mediators: bench.district.mediators.len(),
        officers: bench.district.officers.len(),
        residents: bench.accounts.residents.len(),
        consultation_categories: bench.categories.consultation.len(),
        mediation_categories: bench.categories.mediation.len(),
        tip_categories: bench.categories.tip.len(),
        server_rss_after_start_mb: rss_after_start,
        server_rss_after_logins_mb: rss_after_logins,
        seconds: setup_started.elapsed().as_secs_f64(),
        growth: vec![growth],
    });

    let outcome = scenarios(options, sandbox, &bench, &mut report).await;
    bench.server.stop().await;
    outcome?;
    report.tips_sent = bench.tips.load(std::sync::atomic::Ordering::Relaxed);
    report.finished_at = Utc::now();
    report.evaluate(&rate_name(options));
    Ok(report)
}

fn rate_name(options: &Options) -> String {
    format!("intake@{}/s", options.rate)
}

async fn scenarios(
    options: &Options,
    sandbox: &Sandbox,
    bench: &Bench,
    report: &mut Report,
) -> anyhow::Result<()> {
    let wants = |s: Scenario| options.scenario == Scenario::All || options.scenario == s;
    let (d, c) = (options.duration, options.concurrency);
    let full_speed = Pace::Concurrency(c);
    if wants(Scenario::References) {
        report.references = measure_references(options, sandbox, bench).await;
    }
    if wants(Scenario::Board) || wants(Scenario::Size) {
        note("board");
        push(report, board::run(bench, "board", full_speed, d).await);
    }
    if wants(Scenario::Intake) || wants(Scenario::Route) || wants(Scenario::Size) {
        note(rate_name(options));
        let (result, route) = route::intake_with_route(
            bench,
            &rate_name(options),
            options.rate,
            d,
            options.drain_timeout,
        )
        .await?;
        push(report, result);
        report.route.push(route);
    }
    if wants(Scenario::Intake) {
        note("intake-max");
        push(
            report,
            intake::run(bench, "intake-max", full_speed, d).await,
        );
    }
    if wants(Scenario::Mixed) {
        let name = format!("mixed@{}/s", options.rate);
        note(&name);
        push(
            report,
            mixed::run(bench, &name, Pace::Rate(options.rate), d).await,
        );
    }
    if wants(Scenario::Burst) {
        let name = "burst";
        note(format!(
            "{name}: {} submissions, {} clients",
            options.burst, options.burst_concurrency
        ));
        let (scenario, result) = burst::run(
            bench,
            name,
            options.burst_concurrency,
            options.burst,
            options.drain_timeout,
        )
        .await?;
        push(report, scenario);
        note(format!(
            "  drained {} after the last response, {} decisions/s",
            result
                .drain_s
                .map_or("never".into(), |s| format!("{s:.2} s")),
            result
                .decisions_per_s
                .map_or("no".into(), |d| format!("{d:.0}"))
        ));
        report.burst.push(result);
    }
    if wants(Scenario::Statements) {
        note(format!(
            "statements: {} sequential submissions of the mix, then half as many of each service, between quiet counter reads",
            options.statements_submissions
        ));
        let result = statements::run(
            bench,
            sandbox.admin_url(),
            &sandbox.database,
            options.statements_submissions,
            options.settle,
            options.drain_timeout,
        )
        .await?;
        note(format!(
            "  {:.1} transactions per submission (routing included), statements {}",
            result.mix.transactions_per_submission,
            result
                .mix
                .statements_per_submission
                .map_or("n/a".into(), |s| format!("{s:.1}"))
        ));
        report.statements = Some(result);
    }
    if wants(Scenario::Size) {
        let small_board = report.scenario("board").cloned();
        let small_intake = report.scenario(&rate_name(options)).cloned();
        for &size in options.sizes.iter().skip(1) {
            // Retire what the runs above left live, so the boards at this
            // size hold the same live offers as at the first size.
            seed::retire_live_work(&bench.db).await?;
            note(format!("growing to {} stored cases", human(size)));
            let growth =
                seed::grow_cases(&bench.db, size, options.shape.offers_per_community).await?;
            note(format!("  took {:.0} s", growth.seconds));
            if let Some(setup) = report.setup.as_mut() {
                setup.growth.push(growth);
            }
            let label = human(size);
            let board_large = board::run(bench, &format!("board@{label}"), full_speed, d).await;
            push(report, board_large.clone());
            let (intake_large, route) = route::intake_with_route(
                bench,
                &format!("{}@{label}", rate_name(options)),
                options.rate,
                d,
                options.drain_timeout,
            )
            .await?;
            push(report, intake_large.clone());
            report.route.push(route);
            for (small, large) in [(&small_board, board_large), (&small_intake, intake_large)] {
                if let Some(small) = small {
                    report.size.push(compare(small, &large));
                }
            }
        }
    }
    Ok(())
}

fn push(report: &mut Report, result: ScenarioResult) {
    note(format!(
        "{}: {:.0} req/s, p99 {:.1} ms, {} errors",
        result.name, result.summary.rps, result.summary.latency_ms.p99, result.summary.error_count
    ));
    report.scenarios.push(result);
}

fn compare(small: &ScenarioResult, large: &ScenarioResult) -> SizeComparison {
    let (a, b) = (small.summary.latency_ms.p99, large.summary.latency_ms.p99);
    SizeComparison {
        scenario: small.name.clone(),
        small_cases: small.stored_cases,
        large_cases: large.stored_cases,
        p99_small_ms: a,
        p99_large_ms: b,
        ratio: if a > 0.0 { b / a } else { f64::NAN },
    }
}

async fn measure_references(options: &Options, sandbox: &Sandbox, bench: &Bench) -> References {
    let mut refs = References::default();
    if let Err(e) = references::prepare(bench).await {
        refs.problems.push(format!("scratch tables: {e:#}"));
    }
    for (name, single_row) in [("insert", true), ("submission", false)] {
        note(format!("pgbench {name}"));
        let spec = PgbenchSpec {
            name,
            single_row,
            clients: options.concurrency,
            threads: options.client_threads,
            duration: options.reference_duration,
        };
        match references::pgbench(bench, sandbox.admin_url(), &sandbox.database, spec)
            .await
            .context("pgbench")
        {
            Ok(result) if single_row => refs.pgbench_insert = Some(result),
            Ok(result) => refs.pgbench_submission = Some(result),
            Err(e) => refs.problems.push(format!("pgbench {name}: {e:#}")),
        }
    }
    note("healthz");
    refs.healthz =
        Some(references::healthz(bench, options.concurrency, options.reference_duration).await);
    refs
}
