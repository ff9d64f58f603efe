//! The server under test, and its memory.
//!
//! Normally the real release binary runs as a child process configured
//! only through its environment, exactly as in production, so its peak RSS
//! is its own. The in-process variant (`sansuo_server::Application` on this
//! runtime) exists for the smoke test, which must not depend on a binary
//! of another package being built (see `tests/smoke.rs`).

use anyhow::{Context, bail};
use rand::Rng;
use rand::distr::Alphanumeric;
use sansuo_server::app::RunningApplication;
use serde::Serialize;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

pub struct ServerEnv<'a> {
    pub database_url: &'a str,
    pub redis_url: &'a str,
    pub redis_prefix: &'a str,
    pub wechat_base_url: &'a str,
    pub db_max_connections: Option<u32>,
    /// Shared by every instance started with this environment, so a token
    /// one instance signed is good on the others.
    pub secrets: Secrets,
    /// More variables, set after (so over) the ones above.
    pub extra: Vec<(&'static str, String)>,
}

/// The JWT secret, the tip key and the data key (mediation parties are
/// sealed with it: without one the server refuses bookings), random per
/// run, never equal.
#[derive(Debug, Clone)]
pub struct Secrets {
    jwt_secret: String,
    tip_key: String,
    data_keys: String,
}

impl Secrets {
    pub fn random() -> Self {
        let random = || -> String {
            rand::rng()
                .sample_iter(Alphanumeric)
                .take(48)
                .map(char::from)
                .collect()
        };
        Self {
            jwt_secret: random(),
            tip_key: random(),
            data_keys: format!("k1:{}", random_data_key()),
        }
    }
}

/// 32 random bytes in base64, a data key for `SANSUO_DATA_KEYS`.
pub fn random_data_key() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let bytes: [u8; 33] = {
        let mut b = [0u8; 33];
        rand::rng().fill(&mut b[..32]);
        b
    };
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = (u32::from(chunk[0]) << 16) | (u32::from(chunk[1]) << 8) | u32::from(chunk[2]);
        for shift in [18, 12, 6, 0] {
            out.push(ALPHABET[((n >> shift) & 63) as usize] as char);
        }
    }
    // 32 bytes are 43 characters and one `=`; the 33rd (zero) byte only
    // filled the last group.
    out.truncate(43);
    out.push('=');
    out
}

impl ServerEnv<'_> {
    /// The production configuration, as environment variables.
    fn vars(&self, bind: &str) -> HashMap<String, String> {
        let (secret, tip_key, data_keys) = (
            &self.secrets.jwt_secret,
            &self.secrets.tip_key,
            &self.secrets.data_keys,
        );
        let mut vars: HashMap<String, String> = [
            ("DATABASE_URL", self.database_url),
            ("REDIS_URL", self.redis_url),
            ("SANSUO_REDIS_PREFIX", self.redis_prefix),
            ("SANSUO_BIND", bind),
            ("SANSUO_JWT_SECRET", secret),
            ("SANSUO_TIP_KEY", tip_key),
            ("SANSUO_DATA_KEYS", data_keys),
            (
                "SANSUO_WECHAT_APP_ID",
                sansuo_wechat_fake::FakeWechat::APP_ID,
            ),
            (
                "SANSUO_WECHAT_APP_SECRET",
                sansuo_wechat_fake::FakeWechat::APP_SECRET,
            ),
            ("SANSUO_WECHAT_BASE_URL", self.wechat_base_url),
            ("SANSUO_LOG_FORMAT", "json"),
            ("RUST_LOG", "warn"),
            // The benchmark measures the engine, not the resident write
            // limits: its residents ask and book far faster than people
            // do. (Tips keep their fixed 5 an hour per reporter, which is
            // not configurable: the load generator sends them round the
            // residents, see `scenarios::intake`.)
            (
                "SANSUO_RATE_LIMITS",
                "ask_question=1000000/3600,book_mediation=1000000/3600",
            ),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        if let Some(n) = self.db_max_connections {
            vars.insert("SANSUO_DB_MAX_CONNECTIONS".into(), n.to_string());
        }
        for (name, value) in &self.extra {
            vars.insert((*name).to_owned(), value.clone());
        }
        vars
    }
}

enum Running {
    Process(Child),
    InProcess(Box<RunningApplication>),
    Stopped,
}

pub struct ServerUnderTest {
    pub base_url: String,
    pub pid: u32,
    /// `process` or `in-process` (then RSS includes the load generator).
    pub mode: &'static str,
    pub log_path: Option<PathBuf>,
    running: Running,
}

impl ServerUnderTest {
    /// Start `binary serve` with the environment above and wait for `/readyz`.
    pub async fn spawn_process(
        binary: &Path,
        env: &ServerEnv<'_>,
        log_path: PathBuf,
    ) -> anyhow::Result<Self> {
        Self::spawn_process_on(binary, env, log_path, free_port()?).await
    }

    /// The same on a given port (an instance restarted behind a load
    /// balancer comes back where the balancer looks for it). The log is
    /// appended to, so a restart keeps what the killed process wrote.
    pub async fn spawn_process_on(
        binary: &Path,
        env: &ServerEnv<'_>,
        log_path: PathBuf,
        port: u16,
    ) -> anyhow::Result<Self> {
        if !binary.exists() {
            bail!(
                "the server binary {} does not exist; build it first (scripts/bench.sh does)",
                binary.display()
            );
        }
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .with_context(|| format!("cannot create {}", log_path.display()))?;
        let child = Command::new(binary)
            .arg("serve")
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .envs(env.vars(&format!("127.0.0.1:{port}")))
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .with_context(|| format!("cannot start {}", binary.display()))?;
        let mut server = Self {
            base_url: format!("http://127.0.0.1:{port}"),
            pid: child.id(),
            mode: "process",
            log_path: Some(log_path),
            running: Running::Process(child),
        };
        server.wait_ready().await?;
        Ok(server)
    }

    /// The same `Application` the binary runs, on this process's runtime.
    pub async fn spawn_in_process(env: &ServerEnv<'_>) -> anyhow::Result<Self> {
        let config = sansuo_server::Config::from_vars(&env.vars("127.0.0.1:0"), false)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let app = sansuo_server::Application::build(config).await?.spawn();
        let mut server = Self {
            base_url: format!("http://127.0.0.1:{}", app.port),
            pid: std::process::id(),
            mode: "in-process",
            log_path: None,
            running: Running::InProcess(Box::new(app)),
        };
        server.wait_ready().await?;
        Ok(server)
    }

    async fn wait_ready(&mut self) -> anyhow::Result<()> {
        let http = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        let url = format!("{}/readyz", self.base_url);
        loop {
            if let Running::Process(child) = &mut self.running
                && let Some(status) = child.try_wait()?
            {
                bail!(
                    "the server exited during start-up ({status}):\n{}",
                    self.log_tail()
                );
            }
            if let Ok(r) = http.get(&url).send().await
                && r.status().is_success()
            {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!("the server was not ready within 60 s:\n{}", self.log_tail());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Current resident memory of the server (of this process in-process).
    pub fn rss_mb(&self) -> Option<f64> {
        status_kb(self.pid, "VmRSS:").map(|kb| kb as f64 / 1024.0)
    }

    /// The last lines of the server's log, for error messages.
    pub fn log_tail(&self) -> String {
        let Some(path) = &self.log_path else {
            return String::new();
        };
        let text = std::fs::read_to_string(path).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }

    /// SIGKILL at once, as a crashing host would (no drain, no lease
    /// released); the process is reaped.
    pub fn sigkill(&mut self) {
        if let Running::Process(mut child) = std::mem::replace(&mut self.running, Running::Stopped)
        {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// SIGTERM (graceful: in-flight requests finish), SIGKILL after 15 s.
    #[allow(unsafe_code)]
    pub async fn stop(&mut self) {
        match std::mem::replace(&mut self.running, Running::Stopped) {
            Running::Process(mut child) => {
                // SAFETY: kill(2) on the pid of a child we have not reaped.
                unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) };
                let deadline = Instant::now() + Duration::from_secs(15);
                while Instant::now() < deadline {
                    if let Ok(Some(_)) = child.try_wait() {
                        return;
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                let _ = child.kill();
                let _ = child.wait();
            }
            Running::InProcess(mut app) => app.stop().await,
            Running::Stopped => {}
        }
    }
}

impl Drop for ServerUnderTest {
    fn drop(&mut self) {
        // An early return or a panic must not leave a server running.
        if let Running::Process(child) = &mut self.running {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

pub fn free_port() -> anyhow::Result<u16> {
    // The kernel hands out a free port; the tiny window before the server
    // binds it again is harmless on a benchmark machine.
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// Peak memory of one scenario.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct RssReport {
    /// VmHWM after resetting it at the start of the scenario (Linux
    /// `clear_refs` 5); `None` where the kernel does not allow the reset.
    pub peak_hwm_mb: Option<f64>,
    /// The largest VmRSS seen sampling every 50 ms.
    pub max_sampled_rss_mb: f64,
}

impl RssReport {
    pub fn peak_mb(&self) -> f64 {
        self.peak_hwm_mb.unwrap_or(0.0).max(self.max_sampled_rss_mb)
    }
}

/// Samples a process's resident memory while a scenario runs.
pub struct RssProbe {
    pid: u32,
    max_kb: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    reset_ok: bool,
    task: tokio::task::JoinHandle<()>,
}

impl RssProbe {
    pub fn start(pid: u32) -> Self {
        // Writing 5 to clear_refs resets the peak (VmHWM) to the current
        // RSS, so the peak read at the end belongs to this scenario alone.
        let reset_ok = std::fs::write(format!("/proc/{pid}/clear_refs"), "5").is_ok();
        let max_kb = Arc::new(AtomicU64::new(status_kb(pid, "VmRSS:").unwrap_or(0)));
        let stop = Arc::new(AtomicBool::new(false));
        let task = tokio::spawn({
            let (max_kb, stop) = (max_kb.clone(), stop.clone());
            async move {
                while !stop.load(Ordering::Relaxed) {
                    if let Some(kb) = status_kb(pid, "VmRSS:") {
                        max_kb.fetch_max(kb, Ordering::Relaxed);
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        });
        Self {
            pid,
            max_kb,
            stop,
            reset_ok,
            task,
        }
    }

    pub async fn finish(self) -> RssReport {
        self.stop.store(true, Ordering::Relaxed);
        let _ = self.task.await;
        if let Some(kb) = status_kb(self.pid, "VmRSS:") {
            self.max_kb.fetch_max(kb, Ordering::Relaxed);
        }
        let mb = |kb: u64| kb as f64 / 1024.0;
        RssReport {
            peak_hwm_mb: self
                .reset_ok
                .then(|| status_kb(self.pid, "VmHWM:").map(mb))
                .flatten(),
            max_sampled_rss_mb: mb(self.max_kb.load(Ordering::Relaxed)),
        }
    }
}

/// A `kB` field of `/proc/<pid>/status`.
fn status_kb(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
}

#[cfg(test)]
mod tests {
    #[test]
    fn our_own_rss_is_readable() {
        let kb = super::status_kb(std::process::id(), "VmRSS:").unwrap();
        assert!(kb > 100);
    }
}
