//! Command line and the two presets: the full benchmark (release binary,
//! a district of 200 communities, 500 submissions/s, 10 thousand and
//! 1 million stored cases), and `--smoke` (debug binary, a handful of
//! everything, about a second per scenario) which only proves the
//! benchmark works.

use crate::seed::Shape;
use clap::{Parser, ValueEnum};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Scenario {
    /// Everything below, in one run.
    All,
    /// pgbench inserts and GET /healthz at full speed.
    References,
    /// Submissions at --rate (open loop), then at full speed (--concurrency).
    Intake,
    /// Lawyers' offers and mine/pool pages at full speed.
    Board,
    /// Submit-to-offer latency of an intake run at --rate.
    Route,
    /// 70 % reads, 20 % submissions, 10 % staff actions, at --rate.
    Mixed,
    /// --burst submissions as fast as --burst-concurrency clients can; drain and decisions/s.
    Burst,
    /// Transactions (and statements, with pg_stat_statements) per submission.
    Statements,
    /// Board and intake at each of --sizes stored cases.
    Size,
}

#[derive(Debug, Clone, Parser)]
#[command(
    name = "sansuo-loadgen",
    about = "Benchmark sansuo: start the real server on a fresh database, load it, compare with pgbench and /healthz"
)]
pub struct Cli {
    #[arg(value_enum, default_value = "all")]
    pub scenario: Scenario,
    /// Every scenario for about a second at a low rate, against the debug binary.
    #[arg(long)]
    pub smoke: bool,
    /// Open-loop rate for intake, route and mixed (requests/s) [500; smoke 20].
    #[arg(long)]
    pub rate: Option<f64>,
    /// Connections for the full-speed runs and for pgbench [16; smoke 2].
    #[arg(long)]
    pub concurrency: Option<usize>,
    /// Seconds per scenario [20; smoke 1].
    #[arg(long)]
    pub duration: Option<f64>,
    /// Submissions of the burst scenario [10000; smoke 60].
    #[arg(long)]
    pub burst: Option<u64>,
    /// Clients sending the burst [32; smoke 4].
    #[arg(long)]
    pub burst_concurrency: Option<usize>,
    /// Sequential submissions of the statements scenario [200; smoke 20].
    #[arg(long)]
    pub statements_submissions: Option<u64>,
    /// Seconds of quiet around the statements scenario's counter reads
    /// (PostgreSQL flushes a backend's counters up to 10 s after it goes idle) [11; smoke 1].
    #[arg(long)]
    pub settle: Option<f64>,
    /// Seconds per reference run (pgbench, healthz) [15; smoke 1].
    #[arg(long)]
    pub reference_duration: Option<f64>,
    /// Residents to log in through WeChat [2000; smoke 40]. Tips go round
    /// them, at most 5 an hour each (the server's fixed limit): a run sends
    /// about 15 % of its submissions as tips.
    #[arg(long)]
    pub residents: Option<usize>,
    /// Stored cases for the size scenario; the first is also the base of
    /// every other scenario [10000,1000000; smoke 200,2000].
    #[arg(long, value_delimiter = ',')]
    pub sizes: Option<Vec<u64>>,
    /// The server binary [$CARGO_TARGET_DIR (else target)/release/sansuo; smoke .../debug/sansuo].
    #[arg(long)]
    pub server_bin: Option<PathBuf>,
    /// Run the server inside the load generator (RSS then includes the client).
    #[arg(long)]
    pub in_process: bool,
    /// PostgreSQL admin URL used to create and drop the benchmark database;
    /// its query (`sslmode`) is the server's and pgbench's too. Loopback
    /// without TLS, as the server connects to a database on its own host.
    #[arg(
        long,
        env = "SANSUO_BENCH_DATABASE_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
    )]
    pub admin_url: String,
    #[arg(
        long,
        env = "SANSUO_BENCH_REDIS_URL",
        default_value = "redis://127.0.0.1:6379"
    )]
    pub redis_url: String,
    /// SANSUO_DB_MAX_CONNECTIONS for the server (its default when absent: 20).
    #[arg(long)]
    pub db_max_connections: Option<u32>,
    /// Threads of the load generator (and of pgbench). One keeps the client
    /// from taking both cores from the server.
    #[arg(long, default_value_t = 1)]
    pub client_threads: usize,
    /// Where to write `<UTC timestamp>.json` [<workspace>/bench-results].
    #[arg(long)]
    pub out_dir: Option<PathBuf>,
    /// Keep the database afterwards (for EXPLAIN ANALYZE); Redis keys are kept too.
    #[arg(long)]
    pub keep: bool,
}

/// Resolved settings of a run.
#[derive(Debug, Clone, Serialize)]
pub struct Options {
    pub scenario: Scenario,
    pub smoke: bool,
    pub rate: f64,
    pub concurrency: usize,
    #[serde(with = "secs")]
    pub duration: Duration,
    #[serde(with = "secs")]
    pub reference_duration: Duration,
    #[serde(with = "secs")]
    pub drain_timeout: Duration,
    pub burst: u64,
    pub burst_concurrency: usize,
    pub statements_submissions: u64,
    #[serde(with = "secs")]
    pub settle: Duration,
    pub residents: usize,
    pub sizes: Vec<u64>,
    pub shape: Shape,
    pub server_bin: PathBuf,
    pub in_process: bool,
    #[serde(skip)]
    pub admin_url: String,
    #[serde(skip)]
    pub redis_url: String,
    pub db_max_connections: Option<u32>,
    pub client_threads: usize,
    pub out_dir: PathBuf,
    pub keep: bool,
}

mod secs {
    pub fn serialize<S: serde::Serializer>(
        d: &std::time::Duration,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        s.serialize_f64(d.as_secs_f64())
    }
}

/// The workspace root (this crate lives in `<root>/crates/loadgen`).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("crates/loadgen is two levels below the workspace root")
        .to_path_buf()
}

impl Cli {
    pub fn options(self) -> Options {
        let smoke = self.smoke;
        let pick = |full: f64, small: f64| if smoke { small } else { full };
        let root = workspace_root();
        let profile = if smoke { "debug" } else { "release" };
        Options {
            scenario: self.scenario,
            smoke,
            rate: self.rate.unwrap_or(pick(500.0, 20.0)),
            concurrency: self.concurrency.unwrap_or(pick(16.0, 2.0) as usize),
            duration: Duration::from_secs_f64(self.duration.unwrap_or(pick(20.0, 1.0))),
            reference_duration: Duration::from_secs_f64(
                self.reference_duration.unwrap_or(pick(15.0, 1.0)),
            ),
            drain_timeout: Duration::from_secs_f64(pick(60.0, 10.0)),
            burst: self.burst.unwrap_or(pick(10_000.0, 60.0) as u64),
            burst_concurrency: self
                .burst_concurrency
                .unwrap_or(pick(32.0, 4.0) as usize)
                .max(1),
            statements_submissions: self
                .statements_submissions
                .unwrap_or(pick(200.0, 20.0) as u64)
                .max(1),
            settle: Duration::from_secs_f64(self.settle.unwrap_or(pick(11.0, 1.0))),
            residents: self.residents.unwrap_or(pick(2000.0, 40.0) as usize),
            sizes: self.sizes.unwrap_or(if smoke {
                vec![200, 2000]
            } else {
                vec![10_000, 1_000_000]
            }),
            shape: if smoke { Shape::SMOKE } else { Shape::DISTRICT },
            server_bin: self.server_bin.unwrap_or_else(|| {
                std::env::var_os("CARGO_TARGET_DIR")
                    .map(PathBuf::from)
                    .unwrap_or_else(|| root.join("target"))
                    .join(profile)
                    .join("sansuo")
            }),
            in_process: self.in_process,
            admin_url: self.admin_url,
            redis_url: self.redis_url,
            db_max_connections: self.db_max_connections,
            client_threads: self.client_threads.max(1),
            out_dir: self.out_dir.unwrap_or_else(|| root.join("bench-results")),
            keep: self.keep,
        }
    }
}

impl Options {
    /// The smoke preset with the server in-process (the smoke test's).
    pub fn smoke_in_process(out_dir: PathBuf) -> Self {
        let mut options =
            Cli::parse_from(["sansuo-loadgen", "all", "--smoke", "--in-process"]).options();
        options.out_dir = out_dir;
        options
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_resolve() {
        let full = Cli::parse_from(["x"]).options();
        assert_eq!(full.scenario, Scenario::All);
        assert_eq!((full.rate, full.concurrency), (500.0, 16));
        assert_eq!(full.sizes, vec![10_000, 1_000_000]);
        assert_eq!((full.burst, full.burst_concurrency), (10_000, 32));
        assert_eq!(full.statements_submissions, 200);
        assert!(full.server_bin.ends_with("release/sansuo"));
        let smoke = Cli::parse_from(["x", "board", "--smoke", "--sizes", "5,50"]).options();
        assert_eq!(smoke.scenario, Scenario::Board);
        assert_eq!(smoke.sizes, vec![5, 50]);
        assert!(smoke.server_bin.ends_with("debug/sansuo"));
        assert!(smoke.duration <= Duration::from_secs(1));
    }
}
