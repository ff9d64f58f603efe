use sansuo_domain::TransitionError;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// A guarded update lost a race, or the row is not in the state the caller expected.
    #[error("conflict: {0}")]
    Conflict(String),
    /// The same Idempotency-Key was used before for a different request.
    #[error("idempotency key reused with a different request")]
    IdempotencyKeyReused,
    #[error(transparent)]
    Transition(#[from] TransitionError),
    /// An offer would take someone past their capacity (another router
    /// offered them a case meanwhile): decide again with fresh numbers.
    #[error("the staff member is at capacity")]
    AtCapacity,
    /// A booking touches a half hour already booked for that room or mediator.
    #[error("the room or the mediator is already booked then")]
    SlotTaken,
    /// The database cannot serve this now (see [`is_transient`]): the same
    /// request may be tried again in a moment. The API answers 503
    /// `database_busy` with `Retry-After`; the worker runs the job again.
    #[error("database busy: {0}")]
    Busy(sea_orm::DbErr),
    #[error("database error: {0}")]
    Db(sea_orm::DbErr),
}

impl From<sea_orm::DbErr> for StoreError {
    fn from(err: sea_orm::DbErr) -> Self {
        if is_transient(&err) {
            return StoreError::Busy(err);
        }
        StoreError::Db(err)
    }
}

/// Whether the database refused this for now and the same request may be
/// tried again: nothing of the transaction was kept (unless the connection
/// broke during its commit, which a retry with the same Idempotency-Key
/// resolves). It is never a lost race in the caller's data (a guarded update
/// that finds nothing is `Conflict`), so answering 409 would be a lie; nor a
/// fault of ours, so 500 would be one too.
///
/// - the connection: reset, refused, closed, broken mid-statement (sqlx's
///   I/O and protocol errors), no connection to be had from the pool in
///   time (`ConnectionAcquire`, or `Conn` while connecting);
/// - PostgreSQL rolled the transaction back to break a deadlock (40P01) or a
///   serialization failure (40001), is shutting down or starting
///   (57P01/57P02/57P03), has no connection slot left (53300), or names a
///   connection exception (class 08);
/// - SQLite's write lock stayed taken past the busy timeout (SQLITE_BUSY,
///   SQLITE_LOCKED and their extended codes).
pub fn is_transient(err: &sea_orm::DbErr) -> bool {
    use sea_orm::sqlx::Error as Sqlx;
    use sea_orm::{DbErr, RuntimeErr};
    let runtime = match err {
        DbErr::ConnectionAcquire(_) => return true,
        DbErr::Conn(e) | DbErr::Exec(e) | DbErr::Query(e) => e,
        _ => return false,
    };
    let RuntimeErr::SqlxError(sqlx_err) = runtime else {
        return false;
    };
    match sqlx_err.as_ref() {
        Sqlx::Io(_)
        | Sqlx::Tls(_)
        | Sqlx::Protocol(_)
        | Sqlx::PoolTimedOut
        | Sqlx::PoolClosed
        | Sqlx::WorkerCrashed
        | Sqlx::BeginFailed => true,
        Sqlx::Database(db) => {
            if db
                .try_downcast_ref::<sea_orm::sqlx::sqlite::SqliteError>()
                .is_some()
            {
                db.code()
                    .and_then(|c| c.parse::<i32>().ok())
                    .is_some_and(is_sqlite_busy_code)
            } else {
                db.code().is_some_and(|c| is_pg_transient_code(&c))
            }
        }
        _ => false,
    }
}

/// A PostgreSQL SQLSTATE that means "not now" rather than "not this".
fn is_pg_transient_code(code: &str) -> bool {
    matches!(
        code,
        "40P01" | "40001" | "57P01" | "57P02" | "57P03" | "53300"
    ) || code.starts_with("08")
}

/// SQLITE_BUSY (5) and SQLITE_LOCKED (6), with their extended codes
/// (261, 517, 262, ...).
fn is_sqlite_busy_code(code: i32) -> bool {
    matches!(code & 0xff, 5 | 6)
}

impl StoreError {
    /// Whether the database refused a duplicate (a lost insert race).
    pub fn is_unique_violation(&self) -> bool {
        matches!(self, StoreError::Db(db) if is_unique_violation(db))
    }

    pub(crate) fn conflict(message: impl Into<String>) -> Self {
        StoreError::Conflict(message.into())
    }
}

/// Whether a database error is a unique-constraint violation (both backends).
pub(crate) fn is_unique_violation(err: &sea_orm::DbErr) -> bool {
    matches!(
        err.sql_err(),
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::sqlx::{self, Connection, SqliteConnection};
    use sea_orm::{ConnAcquireErr, DbErr, RuntimeErr};
    use std::sync::Arc;

    fn exec(err: sqlx::Error) -> DbErr {
        DbErr::Exec(RuntimeErr::SqlxError(Arc::new(err)))
    }

    #[test]
    fn a_lost_or_unobtainable_connection_is_busy() {
        use std::io::{Error, ErrorKind};
        for err in [
            DbErr::ConnectionAcquire(ConnAcquireErr::Timeout),
            DbErr::ConnectionAcquire(ConnAcquireErr::ConnectionClosed),
            exec(sqlx::Error::Io(Error::from(ErrorKind::ConnectionReset))),
            DbErr::Query(RuntimeErr::SqlxError(Arc::new(sqlx::Error::Io(
                Error::from(ErrorKind::UnexpectedEof),
            )))),
            DbErr::Conn(RuntimeErr::SqlxError(Arc::new(sqlx::Error::Io(
                Error::from(ErrorKind::ConnectionRefused),
            )))),
            DbErr::Conn(RuntimeErr::SqlxError(Arc::new(sqlx::Error::PoolTimedOut))),
            exec(sqlx::Error::PoolClosed),
            exec(sqlx::Error::WorkerCrashed),
        ] {
            assert!(is_transient(&err), "{err:?}");
            assert!(
                matches!(StoreError::from(err), StoreError::Busy(_)),
                "busy, not a 500"
            );
        }
    }

    #[test]
    fn postgres_says_not_now_by_sqlstate() {
        for code in [
            "40P01", "40001", "57P01", "57P02", "57P03", "53300", "08006", "08001",
        ] {
            assert!(is_pg_transient_code(code), "{code}");
        }
        // Unique, foreign key, check, not null, syntax: retrying cannot help.
        for code in ["23505", "23503", "23514", "23502", "42601", "22P02"] {
            assert!(!is_pg_transient_code(code), "{code}");
        }
    }

    #[test]
    fn faults_of_the_request_or_ours_are_not_busy() {
        for err in [
            DbErr::Custom("injected".into()),
            DbErr::RecordNotFound("x".into()),
            DbErr::Type("bad".into()),
            exec(sqlx::Error::RowNotFound),
            exec(sqlx::Error::ColumnNotFound("x".into())),
            DbErr::Exec(RuntimeErr::Internal("x".into())),
        ] {
            assert!(!is_transient(&err), "{err:?}");
            assert!(matches!(StoreError::from(err), StoreError::Db(_)));
        }
    }

    /// A real SQLITE_BUSY: one connection holds the write lock
    /// (`BEGIN IMMEDIATE`), another with no busy timeout tries to write.
    /// A unique violation from the same database is not busy.
    #[tokio::test]
    async fn sqlite_busy_and_locked_are_busy_a_unique_violation_is_not() {
        let path = std::env::temp_dir().join(format!("sansuo-busy-{}.db", uuid::Uuid::now_v7()));
        let url = format!("sqlite://{}?mode=rwc", path.display());
        let mut holder = SqliteConnection::connect(&url).await.unwrap();
        sqlx::query("CREATE TABLE t (id INTEGER PRIMARY KEY)")
            .execute(&mut holder)
            .await
            .unwrap();
        sqlx::query("INSERT INTO t VALUES (1)")
            .execute(&mut holder)
            .await
            .unwrap();
        let duplicate = sqlx::query("INSERT INTO t VALUES (1)")
            .execute(&mut holder)
            .await
            .unwrap_err();
        assert!(!is_transient(&exec(duplicate)));

        sqlx::query("BEGIN IMMEDIATE")
            .execute(&mut holder)
            .await
            .unwrap();
        let options: sqlx::sqlite::SqliteConnectOptions = url.parse().unwrap();
        let mut other =
            SqliteConnection::connect_with(&options.busy_timeout(std::time::Duration::ZERO))
                .await
                .unwrap();
        let busy = sqlx::query("INSERT INTO t VALUES (2)")
            .execute(&mut other)
            .await
            .unwrap_err();
        assert!(busy.to_string().contains("locked"), "{busy}");
        assert!(is_transient(&exec(busy)));
        assert!(is_sqlite_busy_code(517), "SQLITE_BUSY_SNAPSHOT");
        assert!(is_sqlite_busy_code(262), "SQLITE_LOCKED_SHAREDCACHE");
        assert!(!is_sqlite_busy_code(19), "SQLITE_CONSTRAINT");
        assert!(!is_sqlite_busy_code(2067), "SQLITE_CONSTRAINT_UNIQUE");
        drop(other);
        drop(holder);
        let _ = std::fs::remove_file(&path);
    }
}
