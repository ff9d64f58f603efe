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
    #[error("database error: {0}")]
    Db(sea_orm::DbErr),
}

impl From<sea_orm::DbErr> for StoreError {
    fn from(err: sea_orm::DbErr) -> Self {
        if is_sqlite_busy(&err) {
            // SQLite (embedded default) lets one writer through; a second
            // transaction that read before writing fails at once instead of
            // waiting. It lost a race, exactly like a failed guarded update.
            return StoreError::Conflict(
                "another change to the same data won; reload and retry".into(),
            );
        }
        if is_pg_retryable(&err) {
            // With one lock order (staff row, then case) PostgreSQL has no
            // deadlock of ours to break; should one happen anyway (or a
            // serialization failure), the transaction was rolled back whole
            // and lost a race: a retry is the answer, never a 500.
            return StoreError::Conflict(
                "another change to the same data won; reload and retry".into(),
            );
        }
        StoreError::Db(err)
    }
}

/// PostgreSQL broke a deadlock (40P01) or a serialization conflict (40001)
/// by rolling this transaction back.
fn is_pg_retryable(err: &sea_orm::DbErr) -> bool {
    use sea_orm::{DbErr, RuntimeErr};
    let (DbErr::Exec(RuntimeErr::SqlxError(e))
    | DbErr::Query(RuntimeErr::SqlxError(e))
    | DbErr::Conn(RuntimeErr::SqlxError(e))) = err
    else {
        return false;
    };
    e.as_database_error()
        .and_then(|db| db.code())
        .is_some_and(|code| code == "40P01" || code == "40001")
}

/// SQLITE_BUSY and its extended codes (5, 261, 517, ...).
fn is_sqlite_busy(err: &sea_orm::DbErr) -> bool {
    use sea_orm::{DbErr, RuntimeErr};
    let runtime = match err {
        DbErr::Exec(e) | DbErr::Query(e) | DbErr::Conn(e) => e,
        _ => return false,
    };
    let RuntimeErr::SqlxError(sqlx_err) = runtime else {
        return false;
    };
    match sqlx_err.as_database_error() {
        Some(db)
            if db
                .try_downcast_ref::<sea_orm::sqlx::sqlite::SqliteError>()
                .is_some() =>
        {
            db.code()
                .and_then(|c| c.parse::<i32>().ok())
                .is_some_and(|code| code & 0xff == 5)
        }
        _ => false,
    }
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
