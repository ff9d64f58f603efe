//! Database work per submission, counted by PostgreSQL (issue 16: "measure
//! statements and round trips per request").
//!
//! The server has no statement log of its own, so PostgreSQL counts:
//!
//! - **transactions**: `pg_stat_database.xact_commit` of the benchmark's
//!   database, read through the admin connection (another database, so the
//!   reads do not count themselves);
//! - **statements**: `sum(calls)` of `pg_stat_statements` for the
//!   benchmark's database, only when the module is loaded
//!   (`shared_preload_libraries`); otherwise "n/a".
//!
//! From a quiet router (every earlier case routed, then `settle` seconds),
//! the background rate (relay, timers, SLA ticks) is measured over one
//! `settle`; then `--statements-submissions` submissions of the mix are
//! sent one at a time, the router is waited for, and after another
//! `settle` (PostgreSQL flushes a backend's counters up to 10 s after it
//! goes idle) the counters are read again; then half as many of each
//! service alone, the same way. Per submission, routing included =
//! (delta − the background rate × the time − the load generator's own
//! queries) ÷ submissions.

use super::intake::{self, Service};
use super::{Bench, Parts};
use crate::load::Sample;
use crate::sandbox;
use anyhow::Context;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};
use serde::Serialize;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Serialize)]
pub struct StatementsResult {
    pub settle_s: f64,
    /// `pg_stat_statements` loaded (`shared_preload_libraries`) and usable.
    pub pg_stat_statements: bool,
    /// Committed transactions per second with nothing submitted.
    pub background_transactions_per_s: f64,
    /// `--statements-submissions` of the mix.
    pub mix: PhaseResult,
    /// Half as many of each service alone.
    pub by_service: BTreeMap<String, PhaseResult>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PhaseResult {
    pub submissions: u64,
    /// Submissions answered with something else than 2xx.
    pub failed: u64,
    /// xact_commit delta over the submissions, routing and settle.
    pub transactions: i64,
    /// Queries the load generator itself sent to the database meanwhile.
    pub own_queries: i64,
    pub transactions_per_submission: f64,
    /// None: pg_stat_statements is not loaded ("n/a").
    pub statements_per_submission: Option<f64>,
}

struct Counters {
    transactions: i64,
    statements: Option<i64>,
    at: Instant,
}

/// Reads the counters; counts what it sends to the benchmark's database.
struct Reader {
    admin: DatabaseConnection,
    database: String,
    statements: bool,
    own: i64,
}

impl Reader {
    async fn read(&mut self, db: &DatabaseConnection) -> anyhow::Result<Counters> {
        let row = self
            .admin
            .query_one_raw(Statement::from_string(
                DbBackend::Postgres,
                format!(
                    "SELECT xact_commit::bigint AS n FROM pg_stat_database WHERE datname = '{}'",
                    self.database
                ),
            ))
            .await?
            .context("pg_stat_database has the benchmark's database")?;
        let transactions = row.try_get::<i64>("", "n")?;
        let statements = if self.statements {
            self.own += 1;
            let row = db
                .query_one_raw(Statement::from_string(
                    DbBackend::Postgres,
                    "SELECT coalesce(sum(calls), 0)::bigint AS n FROM pg_stat_statements
                     WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())"
                        .to_owned(),
                ))
                .await?
                .context("pg_stat_statements answers")?;
            Some(row.try_get::<i64>("", "n")?)
        } else {
            None
        };
        Ok(Counters {
            transactions,
            statements,
            at: Instant::now(),
        })
    }

    /// Until no case is left `submitted` (or `timeout`), counting the polls.
    async fn wait_until_routed(
        &mut self,
        db: &DatabaseConnection,
        timeout: Duration,
    ) -> anyhow::Result<()> {
        let deadline = Instant::now() + timeout;
        loop {
            self.own += 1;
            let left = db
                .query_one_raw(Statement::from_string(
                    DbBackend::Postgres,
                    "SELECT count(*)::bigint AS n FROM cases WHERE status = 'submitted'".to_owned(),
                ))
                .await?
                .context("count returns a row")?
                .try_get::<i64>("", "n")?;
            if left == 0 || Instant::now() > deadline {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

/// Whether `pg_stat_statements` is loaded; if so, the extension is created
/// in the benchmark's database (dropped with it).
async fn statements_available(db: &DatabaseConnection) -> bool {
    let loaded = async {
        let row = db
            .query_one_raw(Statement::from_string(
                DbBackend::Postgres,
                "SELECT current_setting('shared_preload_libraries') AS libs".to_owned(),
            ))
            .await?
            .context("SHOW returns a row")?;
        let libs: String = row.try_get("", "libs")?;
        if !libs.contains("pg_stat_statements") {
            return anyhow::Ok(false);
        }
        db.execute_unprepared("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
            .await?;
        anyhow::Ok(true)
    };
    loaded.await.unwrap_or(false)
}

pub async fn run(
    bench: &Bench,
    admin_url: &str,
    database: &str,
    submissions: u64,
    settle: Duration,
    drain_timeout: Duration,
) -> anyhow::Result<StatementsResult> {
    let db = &bench.db;
    let statements = statements_available(db).await;
    let mut reader = Reader {
        admin: sandbox::connect(admin_url).await?,
        database: database.to_owned(),
        statements,
        own: 0,
    };
    reader.wait_until_routed(db, drain_timeout).await?;
    tokio::time::sleep(settle).await;

    let quiet = reader.read(db).await?;
    let own_before = reader.own;
    tokio::time::sleep(settle).await;
    let before = reader.read(db).await?;
    let idle_s = (before.at - quiet.at).as_secs_f64().max(1e-3);
    let own_idle = reader.own - own_before;
    let background_tx = (before.transactions - quiet.transactions - own_idle) as f64 / idle_s;
    let background_st = quiet
        .statements
        .zip(before.statements)
        .map(|(a, b)| (b - a - own_idle) as f64 / idle_s);

    let background = Background {
        transactions: background_tx,
        statements: background_st,
    };
    let parts = bench.parts();
    // The mix (`intake::MIX` from its start), then each service alone.
    let mix: Vec<u64> = (0..submissions).collect();
    let (mix, mut at) = phase(
        &mut reader,
        bench,
        &parts,
        &mix,
        before,
        background,
        settle,
        drain_timeout,
    )
    .await?;
    let mut by_service = BTreeMap::new();
    for (name, service) in [
        ("consultation", Service::Consultation),
        ("mediation", Service::Mediation),
        ("tip", Service::Tip),
    ] {
        let seqs: Vec<u64> = (0..)
            .filter(|&q| intake::service_of(q) == service)
            .take((submissions / 2).max(1) as usize)
            .collect();
        let (figures, next) = phase(
            &mut reader,
            bench,
            &parts,
            &seqs,
            at,
            background,
            settle,
            drain_timeout,
        )
        .await?;
        by_service.insert(name.to_owned(), figures);
        at = next;
    }
    reader.admin.close().await.ok();
    Ok(StatementsResult {
        settle_s: settle.as_secs_f64(),
        pg_stat_statements: statements,
        background_transactions_per_s: background_tx,
        mix,
        by_service,
    })
}

#[derive(Clone, Copy)]
struct Background {
    transactions: f64,
    statements: Option<f64>,
}

/// Send `seqs` one at a time, wait for the router and a `settle`, read the
/// counters: the figures per submission, and the reading the next phase
/// starts from.
#[allow(clippy::too_many_arguments)]
async fn phase(
    reader: &mut Reader,
    bench: &Bench,
    parts: &Parts,
    seqs: &[u64],
    before: Counters,
    background: Background,
    settle: Duration,
    drain_timeout: Duration,
) -> anyhow::Result<(PhaseResult, Counters)> {
    let db = &bench.db;
    let own_start = reader.own;
    let mut failed = 0;
    for &seq in seqs {
        let Sample { outcome, .. } = intake::submit(parts, seq).await;
        if !outcome.is_success() {
            failed += 1;
        }
    }
    reader.wait_until_routed(db, drain_timeout).await?;
    tokio::time::sleep(settle).await;
    let after = reader.read(db).await?;
    let busy_s = (after.at - before.at).as_secs_f64();
    let own = reader.own - own_start;
    let transactions = after.transactions - before.transactions;
    let n = seqs.len().max(1) as f64;
    let per = |delta: i64, background: f64| (delta - own) as f64 / n - background * busy_s / n;
    let result = PhaseResult {
        submissions: seqs.len() as u64,
        failed,
        transactions,
        own_queries: own,
        transactions_per_submission: per(transactions, background.transactions),
        statements_per_submission: before
            .statements
            .zip(after.statements)
            .zip(background.statements)
            .map(|((a, b), bg)| per(b - a, bg)),
    };
    Ok((result, after))
}
