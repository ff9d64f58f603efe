//! What the hardware allows, measured in the same run on the same box, so
//! our figures can be read as ratios (absolute numbers drift on a shared
//! machine):
//!
//! - **pgbench**: PostgreSQL's own rate for one durable single-row insert
//!   shaped like a case (same columns, same indexes), same server, same
//!   concurrency, same duration. Also the same rows a submission writes
//!   (case, question, idempotency key, event, outbox) as one transaction,
//!   which tells how much of the gap is the database and how much is us.
//! - **healthz**: the framework ceiling: `GET /healthz` (no I/O) at full
//!   speed with the same client and concurrency.

use crate::load::{Op, Pace, Sample};
use crate::scenarios::{Bench, ScenarioResult, exchange};
use anyhow::{Context, bail};
use futures::FutureExt;
use sea_orm::ConnectionTrait;
use serde::Serialize;
use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Clone, Serialize)]
pub struct PgbenchResult {
    pub script: String,
    pub clients: usize,
    pub threads: usize,
    pub duration_s: u64,
    pub transactions: u64,
    pub tps: f64,
    pub latency_avg_ms: Option<f64>,
    pub failed: u64,
}

/// Scratch tables with the columns and indexes of the real ones (no
/// foreign keys: the single-row reference is the cheapest durable insert).
const SCRATCH: &str = r#"
DROP TABLE IF EXISTS bench_ref_cases, bench_ref_consultations, bench_ref_idempotency,
                     bench_ref_events, bench_ref_outbox;
CREATE TABLE bench_ref_cases (LIKE cases INCLUDING ALL);
CREATE TABLE bench_ref_consultations (LIKE consultations INCLUDING ALL);
CREATE TABLE bench_ref_idempotency (LIKE idempotency_keys INCLUDING ALL);
CREATE TABLE bench_ref_events (LIKE case_events INCLUDING ALL);
CREATE TABLE bench_ref_outbox (LIKE outbox INCLUDING ALL);
"#;

const CASE_INSERT: &str = "INSERT INTO bench_ref_cases (id, service, community_id, category_code, resident_id, status, owner_staff_id, pool_unit_id, version, created_at, updated_at) VALUES (bench_uuidv7(now()), 'consultation', '{community}', '{category}', gen_random_uuid(), 'submitted', NULL, NULL, 0, now(), now());";

fn single_row_script(community: &str, category: &str) -> String {
    CASE_INSERT
        .replace("{community}", community)
        .replace("{category}", category)
        + "\n"
}

/// The rows of `Store::submit_consultation`, in one transaction (the
/// event with its hash-chain link, as the database's trigger makes it).
fn submission_script(community: &str, category: &str) -> String {
    let case = CASE_INSERT
        .replace("{community}", community)
        .replace("{category}", category)
        .replace("VALUES (bench_uuidv7(now())", "VALUES (:id::uuid");
    format!(
        "\\set k random(1, 2000000000)\n\
         BEGIN;\n\
         SELECT bench_uuidv7(now()) AS id \\gset\n\
         {case}\n\
         INSERT INTO bench_ref_consultations (case_id, question) VALUES (:id::uuid, '楼上邻居装修噪音每天持续到晚上十点，物业不管，我可以怎么维权？');\n\
         INSERT INTO bench_ref_idempotency (resident_id, key, request_hash, case_id, created_at) VALUES (gen_random_uuid(), 'k' || :k, md5(:id::text), :id::uuid, now());\n\
         INSERT INTO bench_ref_events (id, case_id, action, from_status, to_status, actor_kind, actor_id, reason, public, request_id, created_at, seq, prev_hash, hash) SELECT e, :id::uuid, 'submit', NULL, 'submitted', 'resident', a, NULL, true, md5(:id::text), t, 1, repeat('0', 64), case_event_hash(repeat('0', 64), 1, e, :id::uuid, 'submit', NULL, 'submitted', 'resident', a, NULL, true, md5(:id::text), t) FROM (SELECT bench_uuidv7(now()) AS e, gen_random_uuid() AS a, now() AS t) r;\n\
         INSERT INTO bench_ref_outbox (topic, payload, request_id, created_at, attempts) VALUES ('route_case', '{{\"case_id\":\"' || :id::text || '\"}}', md5(:id::text), now(), 0);\n\
         COMMIT;\n"
    )
}

/// Connection parameters for pgbench, from a `postgres://user:pw@host:port/db` URL.
struct PgTarget {
    host: String,
    port: String,
    user: String,
    password: Option<String>,
    /// `?sslmode=` of the URL, so pgbench connects like the server does.
    sslmode: Option<String>,
}

fn parse_url(url: &str) -> anyhow::Result<PgTarget> {
    let rest = url
        .split_once("://")
        .map(|(_, r)| r)
        .context("a postgres:// URL")?;
    let (userinfo, hostpart) = rest.rsplit_once('@').unwrap_or(("postgres", rest));
    let (user, password) = match userinfo.split_once(':') {
        Some((u, p)) => (u.to_owned(), Some(p.to_owned())),
        None => (userinfo.to_owned(), None),
    };
    let sslmode = hostpart
        .split_once('?')
        .and_then(|(_, query)| query.split('&').find_map(|kv| kv.strip_prefix("sslmode=")))
        .map(str::to_owned);
    let hostport = hostpart.split('/').next().unwrap_or("127.0.0.1");
    let (host, port) = hostport.rsplit_once(':').unwrap_or((hostport, "5432"));
    Ok(PgTarget {
        host: host.to_owned(),
        port: port.to_owned(),
        user,
        password,
        sslmode,
    })
}

pub fn find_pgbench() -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join("pgbench"))
            .find(|p| p.is_file())
    })
}

pub async fn prepare(bench: &Bench) -> anyhow::Result<()> {
    bench.db.execute_unprepared(crate::seed::UUIDV7_FN).await?;
    bench.db.execute_unprepared(SCRATCH).await?;
    Ok(())
}

#[derive(Debug, Clone, Copy)]
pub struct PgbenchSpec {
    pub name: &'static str,
    /// One case-like row per transaction; otherwise a submission's five rows.
    pub single_row: bool,
    pub clients: usize,
    pub threads: usize,
    pub duration: Duration,
}

/// Run pgbench against the benchmark's database (on a blocking thread).
pub async fn pgbench(
    bench: &Bench,
    admin_url: &str,
    database: &str,
    spec: PgbenchSpec,
) -> anyhow::Result<PgbenchResult> {
    let PgbenchSpec {
        name,
        single_row,
        clients,
        threads,
        duration,
    } = spec;
    let binary = find_pgbench().context("pgbench is not on PATH")?;
    let community = bench.district.communities[0].to_string();
    let script = if single_row {
        single_row_script(&community, &bench.categories.consultation[0])
    } else {
        submission_script(&community, &bench.categories.consultation[0])
    };
    let path = std::env::temp_dir().join(format!("{database}-{name}.sql"));
    std::fs::write(&path, &script)?;
    let target = parse_url(admin_url)?;
    let secs = duration.as_secs().max(1);
    let threads = threads.clamp(1, clients.max(1));
    let mut command = Command::new(binary);
    command
        .args(["-h", &target.host, "-p", &target.port, "-U", &target.user])
        .args(["-n", "-M", "prepared"])
        .args(["-c", &clients.to_string(), "-j", &threads.to_string()])
        .args(["-T", &secs.to_string()])
        .arg("-f")
        .arg(&path)
        .arg(database);
    if let Some(pw) = &target.password {
        command.env("PGPASSWORD", pw);
    }
    if let Some(mode) = &target.sslmode {
        command.env("PGSSLMODE", mode);
    }
    let output = tokio::task::spawn_blocking(move || command.output()).await??;
    let _ = std::fs::remove_file(&path);
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        bail!(
            "pgbench failed ({}):\n{stdout}\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let number_after = |prefix: &str| -> Option<f64> {
        stdout
            .lines()
            .find_map(|l| l.trim().strip_prefix(prefix))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|n| n.parse().ok())
    };
    Ok(PgbenchResult {
        script: script.trim().to_owned(),
        clients,
        threads,
        duration_s: secs,
        transactions: number_after("number of transactions actually processed:")
            .context("pgbench printed no transaction count")? as u64,
        tps: number_after("tps =").context("pgbench printed no tps")?,
        latency_avg_ms: number_after("latency average ="),
        failed: number_after("number of failed transactions:").unwrap_or(0.0) as u64,
    })
}

pub async fn healthz(bench: &Bench, concurrency: usize, duration: Duration) -> ScenarioResult {
    let api = bench.api.clone();
    let op: Op = Arc::new(move |_| {
        let api = api.clone();
        async move {
            Sample {
                op: "healthz",
                outcome: exchange(api.http.get(api.url("/healthz")), false)
                    .await
                    .outcome,
            }
        }
        .boxed()
    });
    bench
        .run("healthz", Pace::Concurrency(concurrency), duration, op)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_become_pgbench_arguments() {
        let t = parse_url("postgres://postgres@127.0.0.1:5432/postgres").unwrap();
        assert_eq!(
            (t.host.as_str(), t.port.as_str(), t.user.as_str()),
            ("127.0.0.1", "5432", "postgres")
        );
        assert!(t.password.is_none());
        let t = parse_url("postgresql://u:p%40ss@db/x").unwrap();
        assert_eq!(
            (t.host.as_str(), t.port.as_str(), t.user.as_str()),
            ("db", "5432", "u")
        );
        assert_eq!(t.password.as_deref(), Some("p%40ss"));
        let t = parse_url("postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable").unwrap();
        assert_eq!(
            (t.port.as_str(), t.sslmode.as_deref()),
            ("5432", Some("disable"))
        );
    }

    #[test]
    fn the_submission_script_binds_the_case_id_everywhere() {
        let s = submission_script("c", "HY01");
        assert!(s.contains("VALUES (:id::uuid, 'consultation'"), "{s}");
        assert_eq!(s.matches("INSERT").count(), 5);
        assert!(s.starts_with("\\set k") && s.trim_end().ends_with("COMMIT;"));
    }
}
