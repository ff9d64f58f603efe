//! The cluster drill (`sansuo-loadgen drill`, run by `scripts/cluster.sh`):
//! N instances of the real binary behind haproxy, on a private PostgreSQL
//! cluster and a private redis-server, under a mixed burst, while one
//! instance is SIGKILLed mid-burst (and restarted), Redis is flushed and
//! restarted, and PostgreSQL is restarted. Then it drains and asks the
//! database what became of every submission.
//!
//! | module | what |
//! |---|---|
//! | [`cluster`] | initdb + pg_ctl, redis-server, haproxy; pid files; teardown |
//! | [`burst`] | residents submitting (with retries), staff working their boards |
//! | [`verify`] | lost, doubled, double-assigned, stuck, history gaps, by SQL |
//!
//! The must-be-zero counts (lost, doubled, double-assigned, stuck, history
//! gaps, deadlocks in the PostgreSQL log) make the exit status.

pub mod burst;
pub mod cluster;
pub mod verify;

use crate::accounts::{self, Api, LawyerSession};
use crate::seed::{self, BENCH_PASSWORD, Shape};
use crate::server::{Secrets, ServerEnv, ServerUnderTest, free_port};
use anyhow::Context;
use burst::{Response, Traffic};
use chrono::Utc;
use clap::Parser;
use cluster::{Haproxy, PrivatePostgres, PrivateRedis};
use futures::{StreamExt, TryStreamExt, stream};
use sansuo_domain::StaffRole;
use sansuo_store::identity::NewStaff;
use sansuo_wechat_fake::FakeWechat;
use sea_orm::ConnectionTrait;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::time::Instant;

#[derive(Debug, Clone, Parser)]
#[command(
    name = "sansuo-loadgen drill",
    about = "Cluster drill: N instances behind haproxy on a private PostgreSQL and Redis, faults mid-burst, then every submission checked in the database"
)]
pub struct DrillCli {
    /// The CI version: 40 s at 8 submissions/s, fewer residents (~90 s in all).
    #[arg(long)]
    pub short: bool,
    /// sansuo instances behind the load balancer.
    #[arg(long, default_value_t = 3)]
    pub instances: usize,
    /// Seconds of burst [180; short 40].
    #[arg(long)]
    pub duration: Option<f64>,
    /// Submissions per second [25; short 8].
    #[arg(long)]
    pub rate: Option<f64>,
    /// Residents logged in [300; short 60] (tips are limited to 5 an hour each).
    #[arg(long)]
    pub residents: Option<usize>,
    /// Mean pause of a staff member between two rounds of their board, ms.
    #[arg(long, default_value_t = 1500)]
    pub think_ms: u64,
    /// The server binary [$SANSUO_DRILL_SERVER_BIN, else
    /// $CARGO_TARGET_DIR/debug/sansuo, else target/debug/sansuo].
    #[arg(long, env = "SANSUO_DRILL_SERVER_BIN")]
    pub server_bin: Option<PathBuf>,
    /// Where initdb and pg_ctl are [the directory of `initdb` on PATH, else /usr/local/bin].
    #[arg(long, env = "SANSUO_DRILL_PG_BIN")]
    pub pg_bin: Option<PathBuf>,
    /// The drill's working directory (PostgreSQL data, logs, pid files);
    /// made and removed by the drill when not given.
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Keep the working directory (logs) afterwards.
    #[arg(long)]
    pub keep: bool,
}

/// The settings of one drill.
#[derive(Debug, Clone)]
pub struct DrillOptions {
    pub instances: usize,
    pub duration: Duration,
    pub rate: f64,
    pub residents: usize,
    pub think: Duration,
    pub server_bin: PathBuf,
    pub pg_bin: PathBuf,
    pub dir: Option<PathBuf>,
    pub keep: bool,
    pub drain_timeout: Duration,
    pub short: bool,
}

impl DrillCli {
    pub fn options(self) -> DrillOptions {
        let pick = |full: f64, short: f64| if self.short { short } else { full };
        let server_bin = self.server_bin.unwrap_or_else(|| {
            std::env::var_os("CARGO_TARGET_DIR")
                .map(PathBuf::from)
                .unwrap_or_else(|| crate::cli::workspace_root().join("target"))
                .join("debug")
                .join("sansuo")
        });
        let pg_bin = self.pg_bin.unwrap_or_else(|| {
            std::env::var_os("PATH")
                .and_then(|path| {
                    std::env::split_paths(&path).find(|dir| dir.join("initdb").exists())
                })
                .unwrap_or_else(|| PathBuf::from("/usr/local/bin"))
        });
        DrillOptions {
            instances: self.instances.max(2),
            duration: Duration::from_secs_f64(self.duration.unwrap_or(pick(180.0, 40.0))),
            rate: self.rate.unwrap_or(pick(25.0, 8.0)),
            residents: self.residents.unwrap_or(pick(300.0, 60.0) as usize),
            think: Duration::from_millis(self.think_ms),
            server_bin,
            pg_bin,
            dir: self.dir,
            keep: self.keep,
            drain_timeout: Duration::from_secs_f64(pick(120.0, 60.0)),
            short: self.short,
        }
    }
}

/// A fault and when it happened, in seconds after the burst started.
#[derive(Debug, Clone)]
pub struct Fault {
    pub name: &'static str,
    pub at: f64,
    /// When the faulty part answered again.
    pub back: f64,
}

/// What the drill found; `passed` is the exit status.
pub struct DrillReport {
    pub table: String,
    pub passed: bool,
}

fn note(message: impl AsRef<str>) {
    eprintln!("[{}] {}", Utc::now().format("%H:%M:%S"), message.as_ref());
}

/// Run the drill in `options.dir` (or a fresh temporary directory, removed
/// afterwards unless `keep`).
pub async fn run(options: DrillOptions) -> anyhow::Result<DrillReport> {
    let (dir, made) = match &options.dir {
        Some(dir) => {
            std::fs::create_dir_all(dir)?;
            (dir.clone(), false)
        }
        None => {
            let dir = std::env::temp_dir()
                .join(format!("sansuo-drill-{}", uuid::Uuid::now_v7().simple()));
            std::fs::create_dir_all(&dir)?;
            (dir, true)
        }
    };
    note(format!("working directory {}", dir.display()));
    let result = tokio::select! {
        result = run_in(&options, &dir) => result,
        _ = tokio::signal::ctrl_c() => Err(anyhow::anyhow!("interrupted")),
    };
    if made && !options.keep {
        let _ = std::fs::remove_dir_all(&dir);
    }
    result
}

async fn run_in(options: &DrillOptions, dir: &Path) -> anyhow::Result<DrillReport> {
    anyhow::ensure!(
        options.server_bin.exists(),
        "the server binary {} does not exist; build it (cargo build -p sansuo-server) or pass --server-bin",
        options.server_bin.display()
    );
    note(format!(
        "private PostgreSQL ({}), Redis, {} × {} behind haproxy",
        options.pg_bin.display(),
        options.instances,
        options.server_bin.display()
    ));
    let mut pg = PrivatePostgres::start(&options.pg_bin, dir, free_port()?)?;
    {
        let admin = crate::sandbox::connect(&pg.url("postgres")).await?;
        admin.execute_unprepared("CREATE DATABASE sansuo").await?;
        admin.close().await.ok();
    }
    let database_url = pg.url("sansuo");
    let mut redis = PrivateRedis::start(dir, free_port()?).await?;
    let redis_url = redis.url();
    let wechat = FakeWechat::start().await;
    let wechat_url = wechat.base_url();
    let env = ServerEnv {
        database_url: &database_url,
        redis_url: &redis_url,
        redis_prefix: "drill:",
        wechat_base_url: &wechat_url,
        db_max_connections: Some(10),
        secrets: Secrets::random(),
        extra: vec![
            (
                "SANSUO_RATE_LIMITS",
                "ask_question=1000000/3600,book_mediation=1000000/3600".into(),
            ),
            ("SANSUO_PHOTO_STORE", "database".into()),
            ("SANSUO_TRUSTED_PROXIES", "127.0.0.1".into()),
        ],
    };
    let ports: Vec<u16> = (0..options.instances)
        .map(|_| free_port())
        .collect::<Result<_, _>>()?;
    let log_of = |i: usize| dir.join(format!("sansuo-{i}.log"));
    let mut instances = Vec::new();
    // One at a time: the first migrates the empty database.
    for (i, port) in ports.iter().enumerate() {
        instances.push(
            ServerUnderTest::spawn_process_on(&options.server_bin, &env, log_of(i), *port)
                .await
                .with_context(|| format!("instance {i}"))?,
        );
        std::fs::write(
            dir.join(format!("sansuo-{i}.pid")),
            instances[i].pid.to_string(),
        )?;
    }
    let haproxy = Haproxy::start(dir, free_port()?, &ports).await?;
    let api = Api::new(&haproxy.url())?;

    note("seeding the district");
    let store = sansuo_store::Store::connect(&database_url, 4).await?;
    let district = seed::district(&store, Shape::DRILL).await?;
    let staff_ids = staff_beyond_lawyers(&store, &district).await?;
    let db = store.db().clone();
    note(format!(
        "logging in {} residents and {} staff through haproxy",
        options.residents,
        district.lawyers.len() + staff_ids.len()
    ));
    let residents = stream::iter(0..options.residents)
        .map(|n| {
            accounts::resident_login(
                &api,
                &wechat,
                format!("{}{n:06}", seed::RESIDENT_OPENID_PREFIX),
            )
        })
        .buffer_unordered(8)
        .try_collect::<Vec<_>>()
        .await
        .context("resident login")?;
    let logins: Vec<(uuid::Uuid, String, bool)> = district
        .lawyers
        .iter()
        .map(|l| (l.id.as_uuid(), l.username.clone(), true))
        .chain(
            staff_ids
                .iter()
                .map(|(id, name)| (*id, name.clone(), false)),
        )
        .collect();
    let staff: Vec<(LawyerSession, bool)> =
        stream::iter(logins)
            .map(|(id, name, lawyer)| {
                let api = &api;
                async move {
                    Ok::<_, anyhow::Error>((accounts::staff_login(api, id, name).await?, lawyer))
                }
            })
            .buffer_unordered(2)
            .try_collect()
            .await
            .context("staff login")?;
    let categories = categories(&api).await?;

    let traffic = Arc::new(Traffic {
        api: api.clone(),
        started: Instant::now(),
        residents,
        communities: district.communities.clone(),
        consultation_categories: categories.consultation,
        mediation_categories: categories.mediation,
        tip_categories: categories.tip,
        responses: Default::default(),
        submissions: Default::default(),
        stop_staff: Default::default(),
        retry_for: Duration::from_secs(45),
    });
    let epoch = Utc::now();
    let traffic = Arc::new(Traffic {
        started: Instant::now(),
        ..Arc::try_unwrap(traffic).unwrap_or_else(|_| unreachable!("not shared yet"))
    });
    note(format!(
        "burst: {:.0} s at {}/s; faults at {:.0} s (SIGKILL instance 1), {:.0} s (Redis FLUSHALL + restart), {:.0} s (PostgreSQL restart)",
        options.duration.as_secs_f64(),
        options.rate,
        options.duration.as_secs_f64() * KILL_AT,
        options.duration.as_secs_f64() * REDIS_AT,
        options.duration.as_secs_f64() * PG_AT,
    ));
    let mut staff_tasks = traffic.spawn_staff(staff, options.think);
    let faults = {
        let submissions = traffic.submit_at(options.rate, options.duration);
        let faults = inject_faults(
            options,
            &traffic,
            &mut instances,
            &ports,
            &env,
            &log_of,
            &mut redis,
            &pg,
        );
        let ((), faults) = tokio::join!(submissions, faults);
        faults?
    };
    let burst_end = traffic.now();
    traffic.stop_staff.store(true, Ordering::Relaxed);
    while staff_tasks.join_next().await.is_some() {}
    note("draining: waiting for routing to settle");
    let drained = verify::drain(&db, options.drain_timeout).await?;
    note("checking the database");
    let submissions = traffic
        .submissions
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    let findings = verify::check(&db, &submissions).await?;
    let mut first_offers = Vec::new();
    for fault in &faults {
        first_offers.push(verify::first_offer_after(&db, epoch, fault.back).await?);
    }
    let deadlocks = pg.deadlocks();
    let responses = traffic
        .responses
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    let table = render(
        options,
        &faults,
        &responses,
        &findings,
        &first_offers,
        deadlocks,
        drained,
        burst_end,
    );
    let passed = findings.lost == 0
        && findings.doubled == 0
        && findings.double_assigned == 0
        && findings.stuck == 0
        && findings.history_gaps == 0
        && deadlocks == 0
        && drained.is_some();

    for instance in &mut instances {
        instance.stop().await;
    }
    drop(haproxy);
    drop(redis);
    db.close().await.ok();
    pg.stop();
    Ok(DrillReport { table, passed })
}

const KILL_AT: f64 = 0.2;
const REDIS_AT: f64 = 0.45;
const PG_AT: f64 = 0.7;

#[allow(clippy::too_many_arguments)]
async fn inject_faults(
    options: &DrillOptions,
    traffic: &Traffic,
    instances: &mut [ServerUnderTest],
    ports: &[u16],
    env: &ServerEnv<'_>,
    log_of: &dyn Fn(usize) -> PathBuf,
    redis: &mut PrivateRedis,
    pg: &PrivatePostgres,
) -> anyhow::Result<Vec<Fault>> {
    let d = options.duration.as_secs_f64();
    let until = |s: f64| tokio::time::sleep_until(traffic.started + Duration::from_secs_f64(s));
    let mut faults = Vec::new();

    until(d * KILL_AT).await;
    // Instance 1 (of 0..n) is killed while offers are being made: at this
    // rate every instance has route jobs leased and transactions open.
    let victim = 1;
    let at = traffic.now();
    note(format!("SIGKILL instance {victim}"));
    instances[victim].sigkill();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let restarted =
        ServerUnderTest::spawn_process_on(&options.server_bin, env, log_of(victim), ports[victim])
            .await
            .context("restarting the killed instance")?;
    instances[victim] = restarted;
    let back = traffic.now();
    note(format!("instance {victim} back after {:.1} s", back - at));
    faults.push(Fault {
        name: "kill",
        at,
        back,
    });

    until(d * REDIS_AT).await;
    let at = traffic.now();
    note("Redis: FLUSHALL, stop, 2 s down, start");
    redis.flush_and_restart(Duration::from_secs(2)).await?;
    let back = traffic.now();
    note(format!("Redis back after {:.1} s", back - at));
    faults.push(Fault {
        name: "redis",
        at,
        back,
    });

    until(d * PG_AT).await;
    let at = traffic.now();
    note("PostgreSQL: pg_ctl restart -m fast");
    pg.restart_fast()?;
    let back = traffic.now();
    note(format!("PostgreSQL back after {:.1} s", back - at));
    faults.push(Fault {
        name: "postgres",
        at,
        back,
    });
    Ok(faults)
}

/// Mediators (one per community) and duty officers (two per station, on
/// the roster for a day), so mediations and tips are offered too.
async fn staff_beyond_lawyers(
    store: &sansuo_store::Store,
    district: &seed::District,
) -> anyhow::Result<Vec<(uuid::Uuid, String)>> {
    let now = Utc::now();
    let hash = sansuo_api::auth::hash_password(BENCH_PASSWORD).map_err(anyhow::Error::msg)?;
    let mut out = Vec::new();
    let mut insert =
        async |username: String, role, unit| -> anyhow::Result<sansuo_domain::StaffId> {
            let id = store
                .identity()
                .insert_staff(
                    NewStaff {
                        username: &username,
                        password_hash: &hash,
                        display_name: &username,
                        role,
                        org_unit: unit,
                        law_firm: None,
                    },
                    now,
                )
                .await?;
            out.push((id.as_uuid(), username));
            Ok(id)
        };
    for (i, community) in district.communities.iter().enumerate() {
        insert(
            format!("drill.mediator.{i:02}"),
            StaffRole::Mediator,
            (*community).into(),
        )
        .await?;
    }
    let mut officers = Vec::new();
    for (s, station) in district.stations.iter().enumerate() {
        for k in 0..2 {
            let id = insert(
                format!("drill.officer.{s}.{k}"),
                StaffRole::Officer,
                *station,
            )
            .await?;
            officers.push((id, *station));
        }
    }
    for (id, station) in officers {
        store
            .staffing()
            .add_duty_shift(
                station,
                id,
                now - chrono::Duration::hours(1),
                now + chrono::Duration::days(1),
                now,
            )
            .await?;
    }
    // Lawyers at a realistic capacity, so consultations wait in the
    // queues and lawyers pull and race for them.
    for lawyer in &district.lawyers {
        store
            .staffing()
            .set_routing(lawyer.id, None, None, Some(4))
            .await?;
    }
    Ok(out)
}

async fn categories(api: &Api) -> anyhow::Result<crate::accounts::Catalog> {
    api.catalog().await
}

/// The window a moment belongs to: before the first fault, or the fault
/// most recently started.
fn window_of(faults: &[Fault], t: f64, burst_end: f64) -> &'static str {
    if t >= burst_end {
        return "after";
    }
    faults
        .iter()
        .rev()
        .find(|f| t >= f.at)
        .map(|f| f.name)
        .unwrap_or("steady")
}

#[allow(clippy::too_many_arguments)]
fn render(
    options: &DrillOptions,
    faults: &[Fault],
    responses: &[Response],
    f: &verify::Findings,
    first_offers: &[Option<f64>],
    deadlocks: usize,
    drained: Option<f64>,
    burst_end: f64,
) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "cluster drill: {} instances behind haproxy, {:.0} s at {}/s{}, private PostgreSQL and Redis",
        options.instances,
        options.duration.as_secs_f64(),
        options.rate,
        if options.short { " (short)" } else { "" }
    );
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "{:<9} {:>8} {:>8} {:>6} {:>6} {:>9}  5xx by status and code",
        "window", "from s", "requests", "2xx", "4xx", "no answer"
    );
    let windows: Vec<(&str, f64)> = std::iter::once(("steady", 0.0))
        .chain(faults.iter().map(|f| (f.name, f.at)))
        .chain(std::iter::once(("after", burst_end)))
        .collect();
    for (name, from) in &windows {
        let mine: Vec<&Response> = responses
            .iter()
            .filter(|r| window_of(faults, r.sent_at, burst_end) == *name)
            .collect();
        let count = |p: &dyn Fn(&Response) -> bool| mine.iter().filter(|r| p(r)).count();
        let mut by_code: BTreeMap<String, usize> = BTreeMap::new();
        for r in &mine {
            if let Some(s) = r.status.filter(|s| *s >= 500) {
                *by_code
                    .entry(format!(
                        "{s} {} ({})",
                        r.code.as_deref().unwrap_or("-"),
                        r.op
                    ))
                    .or_default() += 1;
            }
        }
        let fives = if by_code.is_empty() {
            "0".to_owned()
        } else {
            by_code
                .iter()
                .map(|(k, v)| format!("{k}: {v}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let _ = writeln!(
            out,
            "{:<9} {:>8.1} {:>8} {:>6} {:>6} {:>9}  {}",
            name,
            from,
            mine.len(),
            count(&|r| r.status.is_some_and(|s| (200..300).contains(&s))),
            count(&|r| r.status.is_some_and(|s| (400..500).contains(&s))),
            count(&|r| r.status.is_none()),
            fives
        );
    }
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "{:<9} {:>10} {:>16} {:>22}",
        "fault", "back in s", "errors until s", "first new offer s"
    );
    for (i, fault) in faults.iter().enumerate() {
        // The end of the last failed submission attempt sent in this
        // fault's window, counted from the fault: after it, every
        // submission was answered at the first try.
        let errors_until = responses
            .iter()
            .filter(|r| r.op.starts_with("submit_"))
            .filter(|r| window_of(faults, r.sent_at, burst_end) == fault.name)
            .filter(|r| r.status.is_none_or(|s| s >= 500))
            .map(|r| r.sent_at + r.took - fault.at)
            .fold(0.0_f64, f64::max);
        let first = first_offers[i]
            .map(|s| format!("{s:.2}"))
            .unwrap_or_else(|| "none".into());
        let _ = writeln!(
            out,
            "{:<9} {:>10.1} {:>16.1} {:>22}",
            fault.name,
            fault.back - fault.at,
            errors_until,
            first
        );
    }
    let _ = writeln!(
        out,
        "(first new offer: from the part coming back to the first offer of a case submitted after it)"
    );
    let _ = writeln!(out);
    let row = |out: &mut String, name: &str, value: String, must_be_zero: bool, ok: bool| {
        let verdict = match (must_be_zero, ok) {
            (false, _) => "",
            (true, true) => "ok",
            (true, false) => "FAIL",
        };
        let _ = writeln!(out, "{name:<44} {value:>10}  {verdict}");
    };
    row(&mut out, "submitted", f.submitted.to_string(), false, true);
    row(
        &mut out,
        "acknowledged (2xx)",
        f.acknowledged.to_string(),
        false,
        true,
    );
    row(
        &mut out,
        "told stored by 503 submission_stored only",
        f.stored_503_only.to_string(),
        false,
        true,
    );
    row(
        &mut out,
        "unanswered (gave up or refused)",
        f.unanswered.to_string(),
        false,
        true,
    );
    row(
        &mut out,
        "  of which stored all the same",
        f.stored_unacknowledged.to_string(),
        false,
        true,
    );
    row(
        &mut out,
        "lost (acknowledged, absent)",
        f.lost.to_string(),
        true,
        f.lost == 0,
    );
    row(
        &mut out,
        "doubled (two cases for one Idempotency-Key)",
        f.doubled.to_string(),
        true,
        f.doubled == 0,
    );
    // Every submission sends an Idempotency-Key, mediations included; the
    // mediations' share is shown because they were the last to take one.
    let doubled_mediations = f.doubled_by_kind.get("mediation").copied().unwrap_or(0);
    row(
        &mut out,
        "  of which mediations",
        doubled_mediations.to_string(),
        true,
        doubled_mediations == 0,
    );
    row(
        &mut out,
        "double-assigned",
        f.double_assigned.to_string(),
        true,
        f.double_assigned == 0,
    );
    row(
        &mut out,
        "stuck after drain",
        f.stuck.to_string(),
        true,
        f.stuck == 0,
    );
    for (name, n) in &f.stuck_detail {
        if *n > 0 {
            let _ = writeln!(out, "    {name}: {n}");
        }
    }
    row(
        &mut out,
        "history gaps",
        f.history_gaps.to_string(),
        true,
        f.history_gaps == 0,
    );
    row(
        &mut out,
        "deadlocks (\"deadlock detected\" in the PG log)",
        deadlocks.to_string(),
        true,
        deadlocks == 0,
    );
    row(
        &mut out,
        "drain (s until routing settled)",
        drained
            .map(|s| format!("{s:.1}"))
            .unwrap_or_else(|| "timeout".into()),
        true,
        drained.is_some(),
    );
    for example in f.examples.iter().take(10) {
        let _ = writeln!(out, "  {example}");
    }
    out
}
