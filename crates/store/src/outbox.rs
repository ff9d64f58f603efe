//! The transactional outbox: a case write and the work that must follow it
//! commit together, so a crash between "saved" and "queued" loses nothing.
//! The relay (in `sansuo-worker`) moves rows to the queue, at least once.

use crate::entity::outbox;
use crate::{Store, StoreError};
use chrono::{DateTime, Utc};
pub use sansuo_domain::work::{ModerationSubject, Work, WorkError};
use sea_orm::sea_query::{ExprTrait, LockBehavior, LockType};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect,
};

/// Owe `work`, in the same transaction as the change that calls for it.
/// The topic column holds its kind, the payload its fields (see
/// `sansuo_domain::work`). The method that commits this transaction commits
/// with [`Store::commit_work`], which wakes the relay.
pub(crate) async fn append<C: ConnectionTrait>(
    conn: &C,
    work: &Work,
    request_id: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    append_due(conn, work, request_id, now, None).await
}

/// [`append`], due at `run_at` (a timer) rather than when published.
pub(crate) async fn append_due<C: ConnectionTrait>(
    conn: &C,
    work: &Work,
    request_id: Option<&str>,
    now: DateTime<Utc>,
    run_at: Option<DateTime<Utc>>,
) -> Result<(), StoreError> {
    outbox::Entity::insert(outbox::ActiveModel {
        topic: Set(work.kind().to_owned()),
        payload: Set(work.encode().to_string()),
        request_id: Set(request_id.map(str::to_owned)),
        created_at: Set(now),
        published_at: Set(None),
        attempts: Set(0),
        run_at: Set(run_at),
        ..Default::default()
    })
    .exec_without_returning(conn)
    .await?;
    Ok(())
}

/// One unpublished outbox row, as the relay reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxEntry {
    pub id: i64,
    /// The work's kind.
    pub topic: String,
    pub request_id: Option<String>,
    pub created_at: DateTime<Utc>,
    /// Publications tried and failed.
    pub attempts: i32,
    /// When the work is due; `None`: when published.
    pub run_at: Option<DateTime<Utc>>,
    payload: String,
}

impl OutboxEntry {
    /// The work the row holds, decoded once here.
    pub fn work(&self) -> Result<Work, WorkError> {
        let payload = serde_json::from_str(&self.payload).map_err(|e| WorkError::Malformed {
            kind: self.topic.clone(),
            reason: e.to_string(),
        })?;
        Work::decode(&self.topic, &payload)
    }
}

impl From<outbox::Model> for OutboxEntry {
    fn from(row: outbox::Model) -> Self {
        Self {
            id: row.id,
            topic: row.topic,
            request_id: row.request_id,
            created_at: row.created_at,
            attempts: row.attempts,
            run_at: row.run_at,
            payload: row.payload,
        }
    }
}

/// Unpublished rows, locked for this relay until `commit`. On PostgreSQL,
/// `FOR UPDATE SKIP LOCKED` lets relays of several instances take disjoint
/// batches; SQLite has one writer and no row locks, so the clause is omitted.
pub struct OutboxBatch {
    txn: DatabaseTransaction,
    pub rows: Vec<OutboxEntry>,
}

impl OutboxBatch {
    /// Mark the given rows published and release the rest.
    ///
    /// A row's `published_at` is stamped with its own `created_at`, not the
    /// batch's clock: one stamp shared by a whole batch is a value common to
    /// unrelated residents' work, and the anonymity test found an anonymous
    /// tip's work sharing it with its reporter's named work. Only whether a
    /// row is published matters to the relay.
    pub async fn commit(self, published: &[i64]) -> Result<(), StoreError> {
        if !published.is_empty() {
            outbox::Entity::update_many()
                .col_expr(
                    outbox::Column::PublishedAt,
                    sea_orm::sea_query::Expr::col(outbox::Column::CreatedAt),
                )
                .filter(outbox::Column::Id.is_in(published.iter().copied()))
                .exec(&self.txn)
                .await?;
        }
        let failed: Vec<i64> = self
            .rows
            .iter()
            .map(|r| r.id)
            .filter(|id| !published.contains(id))
            .collect();
        if !failed.is_empty() {
            outbox::Entity::update_many()
                .col_expr(
                    outbox::Column::Attempts,
                    sea_orm::sea_query::Expr::col(outbox::Column::Attempts).add(1),
                )
                .filter(outbox::Column::Id.is_in(failed))
                .exec(&self.txn)
                .await?;
        }
        self.txn.commit().await?;
        Ok(())
    }
}

/// The outbox as the relay reads it.
///
/// Reached as `store.outbox()`; see [`Store`].
#[derive(Clone, Copy)]
pub struct Outbox<'a>(pub(crate) &'a Store);

impl std::ops::Deref for Outbox<'_> {
    type Target = Store;
    fn deref(&self) -> &Store {
        self.0
    }
}

impl Store {
    /// The outbox as the relay reads it.
    pub fn outbox(&self) -> Outbox<'_> {
        Outbox(self)
    }
}

impl Outbox<'_> {
    pub async fn claim_batch(self, limit: u64) -> Result<OutboxBatch, StoreError> {
        let txn = self.begin_write().await?;
        let rows = outbox::Entity::find()
            .filter(outbox::Column::PublishedAt.is_null())
            .order_by_asc(outbox::Column::Id)
            .limit(limit)
            .lock_with_behavior(LockType::Update, LockBehavior::SkipLocked)
            .all(&txn)
            .await?
            .into_iter()
            .map(OutboxEntry::from)
            .collect();
        Ok(OutboxBatch { txn, rows })
    }

    /// Rows waiting to be relayed (for readiness and statistics).
    pub async fn backlog(self) -> Result<u64, StoreError> {
        use sea_orm::PaginatorTrait;
        Ok(outbox::Entity::find()
            .filter(outbox::Column::PublishedAt.is_null())
            .count(self.db())
            .await?)
    }

    /// How many rows wait to be relayed, and when the oldest was committed
    /// (for the metrics' outbox lag). Both read the partial index of
    /// unpublished rows, never the published history.
    pub async fn lag(self) -> Result<(u64, Option<DateTime<Utc>>), StoreError> {
        let backlog = self.backlog().await?;
        let oldest = outbox::Entity::find()
            .filter(outbox::Column::PublishedAt.is_null())
            .order_by_asc(outbox::Column::Id)
            .limit(1)
            .one(self.db())
            .await?
            .map(|row| row.created_at);
        Ok((backlog, oldest))
    }
}
