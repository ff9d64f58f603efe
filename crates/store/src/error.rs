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
    #[error("database error: {0}")]
    Db(#[from] sea_orm::DbErr),
}

impl StoreError {
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
