use crate::StoreError;
use sansuo_migrations::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbBackend,
    SqliteTransactionMode, SqlxSqliteConnector, TransactionOptions, TransactionTrait,
};
use std::str::FromStr;
use std::time::Duration;

/// Arbitrary, fixed: the advisory lock that serialises migrations.
const MIGRATION_LOCK_KEY: i64 = 0x5a_4e_53_55_4f_00_01;

/// How long a SQLite write waits for the one write lock by default.
pub const DEFAULT_BUSY_TIMEOUT: Duration = Duration::from_millis(5000);

/// A handle on the database: cheap to clone (a pool inside).
#[derive(Clone, Debug)]
pub struct Store {
    db: DatabaseConnection,
    reference: std::sync::Arc<crate::cache::ReferenceCache>,
    work: WorkSignal,
}

/// A place in the store where a test can make an operation fail, to prove
/// that a fault there leaves the data whole (a database restart between two
/// statements, a read-back that fails after a commit). Each names the case
/// or resident it hits, so tests running side by side in one process do not
/// trip each other's. Nothing arms one outside tests: there is no setting
/// for it, and an unarmed check is one atomic load.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// In a move of this case, after the `UPDATE cases` and before its event.
    BetweenMoveAndEvent { case: uuid::Uuid },
    /// Reading a consultation, mediation or tip of this resident (as the
    /// answer to a submission reads back what it just committed).
    ReadCaseOf { resident: uuid::Uuid },
    /// Writing the record of a photo of a tip this resident reported.
    RecordPhotoOf { resident: uuid::Uuid },
}

static FAULTS: Faults = Faults {
    any: std::sync::atomic::AtomicBool::new(false),
    armed: std::sync::Mutex::new(Vec::new()),
};

/// The armed faults of this process ([`Store::faults`]).
#[derive(Debug)]
pub struct Faults {
    any: std::sync::atomic::AtomicBool,
    armed: std::sync::Mutex<Vec<Fault>>,
}

impl Faults {
    /// Make the next `times` passes through `fault` fail.
    pub fn arm(&self, fault: Fault, times: usize) {
        let mut armed = self.armed.lock().unwrap_or_else(|e| e.into_inner());
        armed.extend(std::iter::repeat_n(fault, times));
        self.any.store(true, std::sync::atomic::Ordering::SeqCst);
    }

    /// Fail here if a test armed this fault (as a lost connection would).
    pub fn trip(&self, fault: Fault) -> Result<(), StoreError> {
        if !self.any.load(std::sync::atomic::Ordering::SeqCst) {
            return Ok(());
        }
        let mut armed = self.armed.lock().unwrap_or_else(|e| e.into_inner());
        let Some(at) = armed.iter().position(|f| *f == fault) else {
            return Ok(());
        };
        armed.remove(at);
        if armed.is_empty() {
            self.any.store(false, std::sync::atomic::Ordering::SeqCst);
        }
        Err(StoreError::Db(sea_orm::DbErr::Custom(format!(
            "injected fault: {fault:?}"
        ))))
    }
}

/// Rung after every commit that appended outbox rows, so the relay of this
/// instance publishes them at once instead of at its next poll. Rows
/// committed by other instances are found by that poll. The store rings it
/// itself: no caller can forget.
#[derive(Clone, Debug, Default)]
pub struct WorkSignal(std::sync::Arc<tokio::sync::Notify>);

impl WorkSignal {
    /// Wake the relay (or, if it is busy, make its next wait return at once).
    pub fn ring(&self) {
        self.0.notify_one();
    }

    /// Sleep until rung or `max_wait` passes, whichever is first.
    pub async fn wait(&self, max_wait: Duration) {
        let _ = tokio::time::timeout(max_wait, self.0.notified()).await;
    }
}

/// [`Faults::trip`] on this process's faults.
pub(crate) fn trip(fault: Fault) -> Result<(), StoreError> {
    FAULTS.trip(fault)
}

/// [`Fault::ReadCaseOf`] for a case just read.
pub(crate) fn trip_read(case: &crate::entity::case::Model) -> Result<(), StoreError> {
    match case.resident_id {
        Some(resident) => trip(Fault::ReadCaseOf { resident }),
        None => Ok(()),
    }
}

/// A PostgreSQL URL as the pool opens it: a loopback host (`localhost`,
/// `127.0.0.1`, `[::1]`) with no `sslmode` of its own gets
/// `sslmode=disable`. The driver's default (`prefer`) negotiates TLS
/// whenever the server offers it (Debian's does), and on loopback that
/// protects nothing — the bytes never leave the host — while costing the
/// benchmark a third of its throughput (BENCHMARKS.md §2). Any other host,
/// or an explicit `sslmode`, is left as written.
pub(crate) fn loopback_without_tls(url: &str) -> String {
    let Some((_, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority = rest.split(['/', '?']).next().unwrap_or("");
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = match host_port.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => host_port.split(':').next().unwrap_or(""),
    };
    let query = url.split_once('?').map_or("", |(_, q)| q);
    let has_sslmode = query.split('&').any(|kv| kv.starts_with("sslmode="));
    let loopback = matches!(host, "localhost" | "127.0.0.1" | "::1");
    if !loopback || has_sslmode {
        return url.to_owned();
    }
    let joiner = if url.contains('?') { '&' } else { '?' };
    format!("{url}{joiner}sslmode=disable")
}

/// A connection pool's use at one moment ([`Store::pool_use`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PoolUse {
    pub in_use: u32,
    pub idle: u32,
    pub max: u32,
}

impl Store {
    /// Connect to `postgres://...` or `sqlite://path?mode=rwc`, with the
    /// default SQLite busy timeout ([`DEFAULT_BUSY_TIMEOUT`]).
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self, StoreError> {
        Self::connect_with(url, max_connections, DEFAULT_BUSY_TIMEOUT).await
    }

    /// [`Store::connect`], with SQLite waiting up to `busy_timeout` for the
    /// write lock (`SANSUO_DB_BUSY_TIMEOUT_MS`) before a write answers
    /// [`StoreError::Busy`]. PostgreSQL ignores it.
    pub async fn connect_with(
        url: &str,
        max_connections: u32,
        busy_timeout: Duration,
    ) -> Result<Self, StoreError> {
        let db = if url.starts_with("sqlite:") {
            // WAL lets readers run beside the single writer; the busy timeout
            // makes concurrent writers wait instead of failing at once.
            let options = SqliteConnectOptions::from_str(url)
                .map_err(|e| sea_orm::DbErr::Custom(format!("bad SQLite URL: {e}")))?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .busy_timeout(busy_timeout)
                .foreign_keys(true);
            let pool = SqlitePoolOptions::new()
                .max_connections(max_connections.clamp(1, 8))
                .connect_with(options)
                .await
                .map_err(|e| sea_orm::DbErr::Conn(sea_orm::RuntimeErr::SqlxError(e.into())))?;
            SqlxSqliteConnector::from_sqlx_sqlite_pool(pool)
        } else {
            let opened = loopback_without_tls(url);
            if opened != url {
                tracing::info!(
                    "the database is on this host: connecting without TLS (sslmode=disable); give sslmode in DATABASE_URL to choose otherwise"
                );
            }
            let mut options = ConnectOptions::new(opened);
            options
                .max_connections(max_connections)
                .min_connections(1)
                .connect_timeout(Duration::from_secs(5))
                .acquire_timeout(Duration::from_secs(5))
                // Statements are not logged: their text is harmless, but
                // the habit of logging SQL leads to logging parameters.
                .sqlx_logging(false);
            Database::connect(options).await?
        };
        Ok(Self::from_connection(db))
    }

    pub fn from_connection(db: DatabaseConnection) -> Self {
        Self {
            db,
            reference: Default::default(),
            work: WorkSignal::default(),
        }
    }

    /// The fault points tests arm (see [`Fault`]).
    pub fn faults(&self) -> &'static Faults {
        &FAULTS
    }

    /// What the relay waits on (see [`WorkSignal`]).
    pub fn work_signal(&self) -> WorkSignal {
        self.work.clone()
    }

    /// A transaction that writes. On SQLite (the embedded default) it starts
    /// `IMMEDIATE`, taking the one write lock at `BEGIN` and waiting for it
    /// under the busy timeout. A deferred transaction that read first would
    /// instead fail at its first write whenever another writer (the relay,
    /// a router, another request) had committed since its read
    /// (`SQLITE_BUSY_SNAPSHOT`), and a resident would be told their request
    /// lost a race it never ran. PostgreSQL ignores the mode.
    pub(crate) async fn begin_write(&self) -> Result<DatabaseTransaction, StoreError> {
        let options = TransactionOptions {
            sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
            ..TransactionOptions::default()
        };
        Ok(self.db.begin_with_options(options).await?)
    }

    /// Commit a transaction that (may have) appended outbox rows, then wake
    /// the relay. Every store method that calls `outbox::append` commits
    /// through this; a wake for a transaction that appended nothing costs
    /// the relay one empty look.
    pub(crate) async fn commit_work(&self, txn: DatabaseTransaction) -> Result<(), StoreError> {
        txn.commit().await?;
        self.work.ring();
        Ok(())
    }

    pub fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    /// Count every hour as business time from now on, in this instance
    /// (and every clone of this store: they share the cache). Only for
    /// `sansuo serve --demo --round-the-clock`: a demo or an end-to-end run
    /// at night would otherwise see no SLA target pass.
    pub fn use_round_the_clock_calendar(&self) {
        self.reference.set_round_the_clock();
    }

    /// Offer a new case to its first handler in the transaction that
    /// stores it, for `offer_timeout`, when its workflow has someone free
    /// (`Routing::first_offer`), in at most `at_once` submissions at a
    /// time; in this instance and every clone of this store. A submission
    /// that finds every slot taken — a burst the database cannot keep up
    /// with — is stored without one and routed after its commit, so intake
    /// stays fast and the backlog waits in the queue, not in this
    /// instance's memory. Off until called (and with `at_once` 0): every
    /// new case goes to the router through its outbox job.
    pub fn offer_at_submission(&self, offer_timeout: chrono::Duration, at_once: usize) {
        self.reference.set_first_offers(offer_timeout, at_once);
    }

    pub(crate) fn reference(&self) -> &crate::cache::ReferenceCache {
        &self.reference
    }

    pub fn backend(&self) -> DbBackend {
        self.db.get_database_backend()
    }

    /// Apply every pending migration. On PostgreSQL, several instances
    /// starting at once queue on an advisory lock and run the migrations in
    /// one transaction (DDL is transactional there): one applies them, the
    /// others find nothing to do. SQLite has a single instance.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        match self.backend() {
            DbBackend::Postgres => {
                let txn = self.db.begin().await?;
                txn.execute_unprepared(&format!(
                    "SELECT pg_advisory_xact_lock({MIGRATION_LOCK_KEY})"
                ))
                .await?;
                Migrator::up(&txn, None).await?;
                txn.commit().await?;
            }
            _ => Migrator::up(&self.db, None).await?,
        }
        Ok(())
    }

    /// This instance's connections: in use, idle, and the most it opens
    /// (for the metrics; no round trip).
    pub fn pool_use(&self) -> PoolUse {
        let (size, idle, max) = match self.backend() {
            DbBackend::Postgres => {
                let pool = self.db.get_postgres_connection_pool();
                (
                    pool.size(),
                    pool.num_idle(),
                    pool.options().get_max_connections(),
                )
            }
            DbBackend::Sqlite => {
                let pool = self.db.get_sqlite_connection_pool();
                (
                    pool.size(),
                    pool.num_idle(),
                    pool.options().get_max_connections(),
                )
            }
            _ => (0, 0, 0),
        };
        let idle = u32::try_from(idle).unwrap_or(u32::MAX).min(size);
        PoolUse {
            in_use: size - idle,
            idle,
            max,
        }
    }

    /// A round trip to the database, for readiness checks.
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.db.ping().await?;
        Ok(())
    }

    pub async fn close(self) -> Result<(), StoreError> {
        self.db.close().await?;
        Ok(())
    }
}

#[cfg(test)]
mod loopback_tests {
    use super::loopback_without_tls as url;

    #[test]
    fn loopback_without_an_sslmode_connects_in_the_clear() {
        assert_eq!(
            url("postgres://postgres@127.0.0.1:5432/db"),
            "postgres://postgres@127.0.0.1:5432/db?sslmode=disable"
        );
        assert_eq!(
            url("postgres://u:p@localhost/db?application_name=x"),
            "postgres://u:p@localhost/db?application_name=x&sslmode=disable"
        );
        assert_eq!(
            url("postgres://u@[::1]:5432/db"),
            "postgres://u@[::1]:5432/db?sslmode=disable"
        );
    }

    #[test]
    fn another_host_or_a_chosen_sslmode_is_left_as_written() {
        for kept in [
            "postgres://u:p@db.internal:5432/sansuo",
            "postgres://u@127.0.0.1/db?sslmode=require",
            "postgres://u@localhost/db?a=1&sslmode=verify-full",
            "postgres://u@127.0.0.10/db",
            "postgres://localhost.evil.example/db",
        ] {
            assert_eq!(url(kept), kept);
        }
    }
}
