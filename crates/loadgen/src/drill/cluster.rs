//! The drill's private cluster on loopback: a PostgreSQL cluster made by
//! `initdb` in the drill's directory, a redis-server, haproxy in front of
//! the instances. Nothing here touches the shared 5432/6379 services.
//!
//! Every process writes a pid file in the drill's directory and every
//! guard stops its process on drop, so an early return or a panic leaves
//! nothing behind; `scripts/cluster.sh` sweeps the directory again on exit
//! (a SIGKILLed driver runs no destructor).

use anyhow::{Context, bail};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Run as the `postgres` account when we are root (PostgreSQL refuses to
/// run as root); as ourselves otherwise.
fn pg_command(program: &str, as_postgres: bool) -> Command {
    if as_postgres {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--", program]);
        c
    } else {
        Command::new(program)
    }
}

fn run(mut command: Command, what: &str) -> anyhow::Result<()> {
    let output = command
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("cannot run {what}"))?;
    if !output.status.success() {
        bail!(
            "{what} failed ({}):\n{}{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(())
}

#[allow(unsafe_code)]
fn is_root() -> bool {
    // SAFETY: geteuid(2) has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// A PostgreSQL cluster of our own (fsync off: the drill restarts it with
/// `-m fast`, a clean shutdown, so nothing relies on fsync).
pub struct PrivatePostgres {
    bin_dir: PathBuf,
    data: PathBuf,
    pub log: PathBuf,
    pub port: u16,
    as_postgres: bool,
    running: bool,
}

impl PrivatePostgres {
    pub fn start(bin_dir: &Path, dir: &Path, port: u16) -> anyhow::Result<Self> {
        let as_postgres = is_root();
        let home = dir.join("pg");
        std::fs::create_dir_all(&home)?;
        if as_postgres {
            // The postgres account must reach its directory.
            run(
                {
                    let mut c = Command::new("chown");
                    c.arg("-R").arg("postgres:postgres").arg(&home);
                    c
                },
                "chown",
            )?;
            run(
                {
                    let mut c = Command::new("chmod");
                    c.arg("755").arg(dir);
                    c
                },
                "chmod",
            )?;
        }
        let data = home.join("data");
        let log = home.join("server.log");
        let initdb = bin_dir.join("initdb");
        let mut init = pg_command(&initdb.to_string_lossy(), as_postgres);
        init.arg("-D")
            .arg(&data)
            .args(["-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync"])
            .arg("--locale=C");
        run(init, "initdb")?;
        let mut pg = Self {
            bin_dir: bin_dir.to_owned(),
            data,
            log,
            port,
            as_postgres,
            running: false,
        };
        let options = format!(
            "-p {port} -c listen_addresses=127.0.0.1 -k {} -c fsync=off -c synchronous_commit=off \
             -c full_page_writes=off -c max_connections=200 -c shared_buffers=128MB",
            home.display()
        );
        let mut start = pg.pg_ctl();
        start
            .arg("-l")
            .arg(&pg.log)
            .args(["-w", "-t", "60", "-o", &options, "start"]);
        run(start, "pg_ctl start")?;
        pg.running = true;
        Ok(pg)
    }

    fn pg_ctl(&self) -> Command {
        let mut c = pg_command(
            &self.bin_dir.join("pg_ctl").to_string_lossy(),
            self.as_postgres,
        );
        c.arg("-D").arg(&self.data);
        c
    }

    pub fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    /// `pg_ctl restart -m fast`: every connection is cut, the server is
    /// back when this returns. (`-l` again: without it the new postmaster
    /// would write to, and hold open, our pipe.) Blocks its thread only.
    pub fn restart_fast(&self) -> anyhow::Result<()> {
        let mut c = self.pg_ctl();
        c.arg("-l")
            .arg(&self.log)
            .args(["-m", "fast", "-w", "-t", "60", "restart"]);
        tokio::task::block_in_place(|| run(c, "pg_ctl restart"))
    }

    /// Lines of the server log saying "deadlock detected".
    pub fn deadlocks(&self) -> usize {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .filter(|l| l.contains("deadlock detected"))
            .count()
    }

    pub fn stop(&mut self) {
        if self.running {
            let mut c = self.pg_ctl();
            c.args(["-m", "immediate", "-w", "stop"])
                .stdout(Stdio::null())
                .stderr(Stdio::null());
            let _ = c.status();
            self.running = false;
        }
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A child process with a pid file, killed on drop.
pub struct Supervised {
    child: Option<Child>,
    pid_file: PathBuf,
}

impl Supervised {
    fn spawn(mut command: Command, dir: &Path, name: &str) -> anyhow::Result<Self> {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.join(format!("{name}.log")))?;
        let child = command
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .with_context(|| format!("cannot start {name}"))?;
        let pid_file = dir.join(format!("{name}.pid"));
        std::fs::write(&pid_file, child.id().to_string())?;
        Ok(Self {
            child: Some(child),
            pid_file,
        })
    }

    /// SIGTERM, then SIGKILL after `grace`.
    #[allow(unsafe_code)]
    pub fn stop(&mut self, grace: Duration) {
        if let Some(mut child) = self.child.take() {
            // SAFETY: kill(2) on the pid of a child we have not reaped.
            unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) };
            let deadline = Instant::now() + grace;
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    let _ = std::fs::remove_file(&self.pid_file);
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.kill();
            let _ = child.wait();
            let _ = std::fs::remove_file(&self.pid_file);
        }
    }
}

impl Drop for Supervised {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
            let _ = std::fs::remove_file(&self.pid_file);
        }
    }
}

/// A redis-server of our own, nothing on disk.
pub struct PrivateRedis {
    dir: PathBuf,
    pub port: u16,
    process: Supervised,
}

impl PrivateRedis {
    pub async fn start(dir: &Path, port: u16) -> anyhow::Result<Self> {
        let process = Self::spawn(dir, port)?;
        let redis = Self {
            dir: dir.to_owned(),
            port,
            process,
        };
        redis.wait_ping(Duration::from_secs(20)).await?;
        Ok(redis)
    }

    fn spawn(dir: &Path, port: u16) -> anyhow::Result<Supervised> {
        let mut c = Command::new("redis-server");
        c.args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
            .arg("--dir")
            .arg(dir);
        Supervised::spawn(c, dir, "redis")
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    async fn wait_ping(&self, within: Duration) -> anyhow::Result<()> {
        let deadline = Instant::now() + within;
        loop {
            if self.ping().await.is_ok() {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!("redis-server on port {} did not answer PING", self.port);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn ping(&self) -> anyhow::Result<()> {
        let client = redis::Client::open(self.url())?;
        let mut conn = client.get_multiplexed_async_connection().await?;
        let _: String = redis::cmd("PING").query_async(&mut conn).await?;
        Ok(())
    }

    /// FLUSHALL, stop the server, leave it down for `down`, start it again
    /// empty. Returns when it answers PING again.
    pub async fn flush_and_restart(&mut self, down: Duration) -> anyhow::Result<()> {
        let client = redis::Client::open(self.url())?;
        let mut conn = client.get_multiplexed_async_connection().await?;
        let _: () = redis::cmd("FLUSHALL").query_async(&mut conn).await?;
        drop(conn);
        tokio::task::block_in_place(|| self.process.stop(Duration::from_secs(5)));
        tokio::time::sleep(down).await;
        self.process = Self::spawn(&self.dir, self.port)?;
        self.wait_ping(Duration::from_secs(20)).await
    }
}

/// haproxy in front of the instances: round robin, `/readyz` checked
/// every 500 ms, a connection refused retried on another instance.
pub struct Haproxy {
    pub port: u16,
    _process: Supervised,
}

impl Haproxy {
    pub async fn start(dir: &Path, port: u16, backends: &[u16]) -> anyhow::Result<Self> {
        let mut config = format!(
            "global\n  maxconn 4096\n\n\
             defaults\n  mode http\n  timeout connect 2s\n  timeout client 60s\n  timeout server 60s\n  \
             retries 3\n  option redispatch\n\n\
             frontend drill\n  bind 127.0.0.1:{port}\n  default_backend sansuo\n\n\
             backend sansuo\n  balance roundrobin\n  option httpchk GET /readyz\n  \
             http-check expect status 200\n  default-server inter 500ms fall 2 rise 2\n"
        );
        for (i, backend) in backends.iter().enumerate() {
            config.push_str(&format!("  server s{i} 127.0.0.1:{backend} check\n"));
        }
        let path = dir.join("haproxy.cfg");
        std::fs::write(&path, config)?;
        let mut c = Command::new("haproxy");
        c.arg("-f").arg(&path).arg("-db");
        let process = Supervised::spawn(c, dir, "haproxy")?;
        let deadline = Instant::now() + Duration::from_secs(20);
        while tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err()
        {
            if Instant::now() > deadline {
                bail!(
                    "haproxy did not listen on {port}; see {}",
                    dir.join("haproxy.log").display()
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Ok(Self {
            port,
            _process: process,
        })
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}
