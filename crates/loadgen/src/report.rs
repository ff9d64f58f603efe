//! The results: one JSON document per run (so runs can be compared later),
//! the ratios to the references, the targets of issue 7, and a table.

use crate::cli::Options;
use crate::references::PgbenchResult;
use crate::scenarios::ScenarioResult;
use crate::scenarios::burst::BurstResult;
use crate::scenarios::route::{Percentiles, RouteResult};
use crate::scenarios::statements::StatementsResult;
use crate::seed::Growth;
use anyhow::Context;
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Serialize)]
pub struct Machine {
    pub nproc: usize,
    pub cpu_model: String,
    pub mem_total_mb: u64,
    pub kernel: String,
    /// 1-minute load average when the run started (others' builds show here).
    pub loadavg_at_start: String,
}

impl Machine {
    pub fn probe() -> Self {
        let read = |p: &str| std::fs::read_to_string(p).unwrap_or_default();
        let cpuinfo = read("/proc/cpuinfo");
        let meminfo = read("/proc/meminfo");
        Machine {
            nproc: std::thread::available_parallelism().map_or(1, |n| n.get()),
            cpu_model: cpuinfo
                .lines()
                .find_map(|l| l.strip_prefix("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, m)| m.trim().to_owned())
                .unwrap_or_default(),
            mem_total_mb: meminfo
                .lines()
                .find_map(|l| l.strip_prefix("MemTotal:"))
                .and_then(|l| l.split_whitespace().next())
                .and_then(|kb| kb.parse::<u64>().ok())
                .map_or(0, |kb| kb / 1024),
            kernel: read("/proc/sys/kernel/osrelease").trim().to_owned(),
            loadavg_at_start: read("/proc/loadavg").trim().to_owned(),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct GitInfo {
    pub commit: String,
    /// Uncommitted changes in the work tree when the binary was measured.
    pub dirty: bool,
}

pub fn git_info(root: &Path) -> Option<GitInfo> {
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .args(args)
            .current_dir(root)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
    };
    Some(GitInfo {
        commit: git(&["rev-parse", "HEAD"])?,
        dirty: !git(&["status", "--porcelain"])?.is_empty(),
    })
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct References {
    /// One case-like row per transaction.
    pub pgbench_insert: Option<PgbenchResult>,
    /// The five rows of a submission in one transaction.
    pub pgbench_submission: Option<PgbenchResult>,
    pub healthz: Option<ScenarioResult>,
    pub problems: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SizeComparison {
    pub scenario: String,
    pub small_cases: u64,
    pub large_cases: u64,
    pub p99_small_ms: f64,
    pub p99_large_ms: f64,
    /// p99 at the large size ÷ p99 at the small size.
    pub ratio: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct TargetCheck {
    pub target: String,
    pub measured: String,
    /// None: not measured in this run.
    pub met: Option<bool>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Setup {
    /// The benchmark's database and Redis key prefix (removed at the end unless --keep).
    pub database: String,
    pub redis_prefix: String,
    pub server_mode: String,
    pub server_binary: Option<PathBuf>,
    pub server_log: Option<PathBuf>,
    pub communities: usize,
    pub lawyers: usize,
    /// Only receive offers (not logged in).
    pub mediators: usize,
    pub officers: usize,
    pub residents: usize,
    pub consultation_categories: usize,
    pub mediation_categories: usize,
    pub tip_categories: usize,
    /// VmRSS once ready, and after every account logged in (staff logins
    /// run Argon2 with 19 MiB of memory each).
    pub server_rss_after_start_mb: Option<f64>,
    pub server_rss_after_logins_mb: Option<f64>,
    pub seconds: f64,
    pub growth: Vec<Growth>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    pub options: Options,
    pub machine: Machine,
    pub git: Option<GitInfo>,
    pub setup: Option<Setup>,
    pub references: References,
    pub scenarios: Vec<ScenarioResult>,
    pub route: Vec<RouteResult>,
    pub size: Vec<SizeComparison>,
    pub burst: Vec<BurstResult>,
    pub statements: Option<StatementsResult>,
    /// Tips sent in the whole run: round the residents, at most 5 an hour
    /// each (the server's fixed limit), so beyond 5 × residents some were refused.
    pub tips_sent: u64,
    pub targets: Vec<TargetCheck>,
}

impl Report {
    pub fn scenario(&self, name: &str) -> Option<&ScenarioResult> {
        self.scenarios.iter().find(|s| s.name == name)
    }

    /// Ratios to the references and the targets of issue 7.
    pub fn evaluate(&mut self, rate_name: &str) {
        let mut targets = Vec::new();
        let ratio = |num: Option<f64>, den: Option<f64>| match (num, den) {
            (Some(n), Some(d)) if d > 0.0 => Some(n / d),
            _ => None,
        };
        let pgbench = self.references.pgbench_insert.as_ref().map(|p| p.tps);
        let intake_max = self.scenario("intake-max").map(|s| s.summary.rps);
        let r = ratio(intake_max, pgbench);
        targets.push(TargetCheck {
            target: "intake (full speed) ≥ 50 % of pgbench single-row inserts".into(),
            measured: match (r, intake_max, pgbench) {
                (Some(r), Some(i), Some(p)) => {
                    format!("{:.0} % ({i:.0} req/s ÷ {p:.0} tps)", r * 100.0)
                }
                _ => "not measured".into(),
            },
            met: r.map(|r| r >= 0.5),
        });
        let at_rate = self.scenario(rate_name);
        targets.push(TargetCheck {
            target: format!(
                "intake p99 ≤ 20 ms at {}",
                rate_name.trim_start_matches("intake@")
            ),
            measured: at_rate.map_or("not measured".into(), |s| {
                format!(
                    "p99 {:.1} ms, {:.0} req/s achieved, {} errors",
                    s.summary.latency_ms.p99, s.summary.rps, s.summary.error_count
                )
            }),
            met: at_rate.map(|s| s.summary.latency_ms.p99 <= 20.0 && s.summary.error_count == 0),
        });
        let healthz = self.references.healthz.as_ref().map(|s| s.summary.rps);
        let board = self.scenario("board").map(|s| s.summary.rps);
        let r = ratio(board, healthz);
        targets.push(TargetCheck {
            target: "board reads ≥ 30 % of the /healthz ceiling".into(),
            measured: match (r, board, healthz) {
                (Some(r), Some(b), Some(h)) => {
                    format!("{:.0} % ({b:.0} req/s ÷ {h:.0} req/s)", r * 100.0)
                }
                _ => "not measured".into(),
            },
            met: r.map(|r| r >= 0.3),
        });
        let route = self.route.first();
        targets.push(TargetCheck {
            target: "submit-to-offer p99 ≤ 50 ms".into(),
            measured: route.map_or("not measured".into(), |r| match &r.db_ms {
                Some(p) => format!(
                    "p99 {:.1} ms (db), {} of {} offered, {} unrouted",
                    p.p99, r.offered, r.submissions, r.unrouted_after_wait
                ),
                None => "no offers".into(),
            }),
            met: route.map(|r| {
                r.db_ms.as_ref().is_some_and(|p| p.p99 <= 50.0) && r.unrouted_after_wait == 0
            }),
        });
        let burst = self.burst.first();
        targets.push(TargetCheck {
            target: "a burst drained within 1 s of its end".into(),
            measured: burst.map_or("not measured".into(), |b| {
                format!(
                    "{} after the last of {} responses; {} of {} offered, {} unrouted",
                    b.drain_s.map_or("no offer".into(), |s| format!("{s:.2} s")),
                    b.submissions,
                    b.offered,
                    b.submissions,
                    b.unrouted_after_wait
                )
            }),
            met: burst.map(|b| b.drain_s.is_some_and(|s| s <= 1.0) && b.unrouted_after_wait == 0),
        });
        targets.push(TargetCheck {
            target: "router ≥ 2,000 decisions/s (a burst)".into(),
            measured: burst.map_or("not measured".into(), |b| {
                b.decisions_per_s.map_or("no offers".into(), |d| {
                    format!(
                        "{d:.0} decisions/s ({} offers, {} clients)",
                        b.offers, b.connections
                    )
                })
            }),
            met: burst.map(|b| b.decisions_per_s.is_some_and(|d| d >= 2000.0)),
        });
        for cmp in &self.size {
            targets.push(TargetCheck {
                target: format!(
                    "{} p99 at {} cases within 20 % of p99 at {}",
                    cmp.scenario,
                    human(cmp.large_cases),
                    human(cmp.small_cases)
                ),
                measured: format!(
                    "{:.1} ms vs {:.1} ms (×{:.2})",
                    cmp.p99_large_ms, cmp.p99_small_ms, cmp.ratio
                ),
                met: Some(cmp.ratio <= 1.2),
            });
        }
        let peak = self
            .scenarios
            .iter()
            .chain(self.references.healthz.as_ref())
            .map(|s| s.server_rss.peak_mb())
            .fold(None, |m: Option<f64>, v| Some(m.map_or(v, |m| m.max(v))));
        let in_process = self
            .setup
            .as_ref()
            .is_some_and(|s| s.server_mode == "in-process");
        targets.push(TargetCheck {
            target: "one server ≤ 100 MB RSS".into(),
            measured: peak.map_or("not measured".into(), |p| {
                format!(
                    "peak {p:.1} MB{}",
                    if in_process {
                        " (in-process: includes the load generator)"
                    } else {
                        ""
                    }
                )
            }),
            met: peak.filter(|_| !in_process).map(|p| p <= 100.0),
        });
        self.targets = targets;
    }

    pub fn write_json(&self, dir: &Path) -> anyhow::Result<PathBuf> {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        // The results are per machine and per run: never commit them. The
        // directory ignores itself, so no edit of the root .gitignore is needed.
        let ignore = dir.join(".gitignore");
        if !ignore.exists() {
            std::fs::write(&ignore, "*\n")?;
        }
        let path = dir.join(format!("{}.json", self.started_at.format("%Y%m%dT%H%M%SZ")));
        std::fs::write(&path, serde_json::to_string_pretty(self)?)?;
        Ok(path)
    }

    pub fn table(&self) -> String {
        let mut out = String::new();
        let m = &self.machine;
        let _ = writeln!(
            out,
            "\nsansuo benchmark  {}  {} × {}  {} MB  load {}{}",
            self.started_at.format("%Y-%m-%d %H:%M UTC"),
            m.nproc,
            m.cpu_model,
            m.mem_total_mb,
            m.loadavg_at_start.split(' ').next().unwrap_or(""),
            if self.options.smoke {
                "  [SMOKE: figures mean nothing]"
            } else {
                ""
            }
        );
        if let Some(setup) = &self.setup {
            let _ = writeln!(
                out,
                "server RSS: {:.1} MB once ready, {:.1} MB after {} resident and {} staff logins",
                setup.server_rss_after_start_mb.unwrap_or(f64::NAN),
                setup.server_rss_after_logins_mb.unwrap_or(f64::NAN),
                setup.residents,
                setup.lawyers + 1
            );
            let _ = writeln!(
                out,
                "district: {} communities, {} lawyers, {} mediators, {} officers on their stations' rotas; categories: {} consultation, {} mediation, {} tip",
                setup.communities,
                setup.lawyers,
                setup.mediators,
                setup.officers,
                setup.consultation_categories,
                setup.mediation_categories,
                setup.tip_categories
            );
        }
        let _ = writeln!(
            out,
            "\n{:<22} {:>8} {:>9} {:>9} {:>8} {:>8} {:>8} {:>9} {:>7} {:>8}",
            "scenario",
            "pace",
            "stored",
            "req/s",
            "p50 ms",
            "p90 ms",
            "p99 ms",
            "max ms",
            "errors",
            "RSS MB"
        );
        for s in self.references.healthz.iter().chain(&self.scenarios) {
            let l = &s.summary.latency_ms;
            let _ = writeln!(
                out,
                "{:<22} {:>8} {:>9} {:>9.0} {:>8.2} {:>8.2} {:>8.2} {:>9.1} {:>7} {:>8.1}",
                s.name,
                s.pace.to_string(),
                human(s.stored_cases),
                s.summary.rps,
                l.p50,
                l.p90,
                l.p99,
                l.max,
                s.summary.error_count,
                s.server_rss.peak_mb()
            );
            if let Some(w) = &s.wal_per_request
                && s.name.starts_with("intake")
            {
                let _ = writeln!(
                    out,
                    "{:<22} WAL per request: {:.0} bytes, {:.1} full-page images, {:.0} records",
                    "", w.bytes, w.full_page_images, w.records
                );
            }
            if !s.summary.errors.is_empty() {
                let _ = writeln!(out, "{:<22} errors: {:?}", "", s.summary.errors);
            }
        }
        for p in [
            &self.references.pgbench_insert,
            &self.references.pgbench_submission,
        ]
        .into_iter()
        .flatten()
        {
            let _ = writeln!(
                out,
                "pgbench {:<14} {:>8} {:>9} {:>9.0} avg {:.2} ms, {} failed",
                if p.script.contains("BEGIN") {
                    "submission tx"
                } else {
                    "1-row insert"
                },
                format!("c={}", p.clients),
                "",
                p.tps,
                p.latency_avg_ms.unwrap_or(f64::NAN),
                p.failed
            );
        }
        for problem in &self.references.problems {
            let _ = writeln!(out, "reference not measured: {problem}");
        }
        for r in &self.route {
            let _ = write!(
                out,
                "\nsubmit→offer of {} ({} stored): {} submissions, {} offered, {} unrouted after {:.1} s",
                r.source,
                human(r.stored_cases),
                r.submissions,
                r.offered,
                r.unrouted_after_wait,
                r.drain_s
            );
            if let Some(p) = &r.db_ms {
                let _ = write!(
                    out,
                    "\n  from the database: p50 {:.1} ms  p90 {:.1} ms  p99 {:.1} ms  max {:.1} ms",
                    p.p50, p.p90, p.p99, p.max
                );
            }
            for (service, f) in &r.by_service {
                let _ = write!(
                    out,
                    "\n  {service:<13} {:>6} submitted {:>6} offered  {}",
                    f.submissions,
                    f.offered,
                    percentiles(f.db_ms.as_ref())
                );
            }
            if let Some(e) = &r.end_to_end {
                let l = &e.latency_ms;
                let _ = write!(
                    out,
                    "\n  end to end ({} probes): p50 {:.1} ms  p90 {:.1} ms  p99 {:.1} ms  max {:.1} ms",
                    e.requests, l.p50, l.p90, l.p99, l.max
                );
            }
            out.push('\n');
        }
        for b in &self.burst {
            let _ = write!(
                out,
                "\n{}: {} submissions in {:.1} s ({} clients), {} offered ({} offers), {} unrouted; drain {}; {}",
                b.name,
                b.submissions,
                b.sent_s,
                b.connections,
                b.offered,
                b.offers,
                b.unrouted_after_wait,
                b.drain_s.map_or("—".into(), |s| format!("{s:.2} s")),
                b.decisions_per_s
                    .map_or("no decisions".into(), |d| format!("{d:.0} decisions/s"))
            );
            let _ = write!(out, "\n  all           {}", percentiles(b.db_ms.as_ref()));
            for (service, f) in &b.by_service {
                let _ = write!(
                    out,
                    "\n  {service:<13} {:>6} submitted {:>6} offered  {}",
                    f.submissions,
                    f.offered,
                    percentiles(f.db_ms.as_ref())
                );
            }
            out.push('\n');
        }
        if let Some(st) = &self.statements {
            let _ = writeln!(
                out,
                "\nper submission, routing included (sequential; background {:.1} tx/s subtracted):",
                st.background_transactions_per_s
            );
            for (name, p) in std::iter::once(("mix", &st.mix))
                .chain(st.by_service.iter().map(|(k, v)| (k.as_str(), v)))
            {
                let _ = writeln!(
                    out,
                    "  {name:<13} {:>4} sent {:>3} failed  {:>6.1} transactions  statements {}",
                    p.submissions,
                    p.failed,
                    p.transactions_per_submission,
                    p.statements_per_submission
                        .map_or("n/a".into(), |s| format!("{s:.1}"))
                );
            }
            if !st.pg_stat_statements {
                let _ = writeln!(
                    out,
                    "  (statements: pg_stat_statements is not in shared_preload_libraries)"
                );
            }
        }
        if let Some(setup) = &self.setup
            && self.tips_sent > 5 * setup.residents as u64
        {
            let _ = writeln!(
                out,
                "\nwarning: {} tips sent round {} residents, more than their 5 an hour each: the rest were refused (429); raise --residents",
                self.tips_sent, setup.residents
            );
        }
        let _ = writeln!(out, "\ntargets:");
        for t in &self.targets {
            let mark = match t.met {
                Some(true) => "met   ",
                Some(false) => "MISSED",
                None => "  —   ",
            };
            let _ = writeln!(out, "  [{mark}] {:<58} {}", t.target, t.measured);
        }
        out
    }
}

/// `p50 … ms  p99 … ms`, or why there are none.
fn percentiles(p: Option<&Percentiles>) -> String {
    p.map_or("no offers".into(), |p| {
        format!(
            "p50 {:.1} ms  p90 {:.1} ms  p99 {:.1} ms  max {:.1} ms",
            p.p50, p.p90, p.p99, p.max
        )
    })
}

/// 10000 → "10k", 1000000 → "1M".
pub fn human(n: u64) -> String {
    match n {
        n if n >= 1_000_000 && n % 1_000_000 == 0 => format!("{}M", n / 1_000_000),
        n if n >= 1_000_000 => format!("{:.1}M", n as f64 / 1e6),
        n if n >= 1_000 && n % 1_000 == 0 => format!("{}k", n / 1_000),
        n if n >= 10_000 => format!("{:.0}k", n as f64 / 1e3),
        n => n.to_string(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn sizes_read_like_people_say_them() {
        assert_eq!(super::human(10_000), "10k");
        assert_eq!(super::human(1_000_000), "1M");
        assert_eq!(super::human(1_234_567), "1.2M");
        assert_eq!(super::human(23_456), "23k");
        assert_eq!(super::human(512), "512");
    }
}
