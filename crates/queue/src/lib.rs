//! Work queues with delayed jobs and leases.
//!
//! This crate knows nothing of the business domain: a [`Job`] is an id, a
//! `kind` string and an opaque JSON payload. Callers (the worker and API
//! crates) decide what a kind means.
//!
//! Two backends implement the same [`WorkQueue`] trait:
//!
//! * [`RedisQueue`] for production, where several server processes share one
//!   Redis and consume the same queues concurrently. Every state change is a
//!   single Lua script, so it is atomic across processes.
//! * [`MemoryQueue`] for the embedded single-instance default, with the same
//!   semantics kept in a mutex-protected map.
//!
//! The queue is **not** the source of truth. Redis may lose everything at any
//! time (restart without persistence, failover); the caller keeps the durable
//! state in its database and re-enqueues from there. That is why enqueue is
//! idempotent by job id and why delivery is at-least-once: a handler must
//! tolerate seeing a job again, and must re-check the database before acting.
//!
//! # Lifecycle of a job id
//!
//! | operation            | from            | to                                 |
//! |----------------------|-----------------|------------------------------------|
//! | enqueue              | absent / waiting| waiting at the new run_at          |
//! | enqueue              | leased          | leased, enqueue parked (see below) |
//! | reserve              | waiting, due    | leased (attempt + 1)               |
//! | ack                  | leased          | absent (or waiting, if parked)     |
//! | retry_at, expiry     | leased          | waiting                            |
//! | cancel               | waiting         | absent                             |
//!
//! `attempt` counts deliveries since the id last became absent from the
//! queue (through ack or cancel), so a handler can give up after N attempts.
//!
//! An enqueue of an id that is currently leased does not disturb the lease
//! holder (that would let two workers run the same job at once). It is parked
//! and applied when the lease ends: on ack it becomes a fresh job (attempt
//! starts again at 1); on retry_at or lease expiry it replaces the body and
//! run_at the holder would otherwise have used, and the attempt count goes on.
//! This way a re-schedule that races with a running job is never lost.

mod memory;
mod rate;
mod redis_queue;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tokio::sync::Notify;

pub use memory::MemoryQueue;
pub use rate::{MemoryRateLimiter, RateDecision, RateLimiter, RedisRateLimiter, SharedLimiter};
pub use redis_queue::RedisQueue;

/// A unit of work.
///
/// The `id` is chosen by the caller and is the dedupe key: enqueueing the same
/// id again re-schedules the existing job instead of adding a second one. Pick
/// ids derived from the domain (e.g. `offer-timeout:<offer id>`) so that
/// rebuilding the queue from the database after Redis lost its data is simply
/// "enqueue everything again".
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Job {
    /// Dedupe key, unique within one queue.
    pub id: String,
    /// What the worker should do; routes the job to a handler.
    pub kind: String,
    /// Handler-specific input. Keep it small (ids, not documents): the
    /// database holds the real data and may have changed since enqueue.
    pub payload: serde_json::Value,
    /// Request id of the HTTP request that caused the job, carried so that log
    /// lines of the worker can be correlated with the request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

/// A job handed out by [`WorkQueue::reserve`], leased to the caller.
///
/// Pass it back to [`WorkQueue::ack`] or [`WorkQueue::retry_at`]. It carries a
/// private lease token so that a caller whose lease expired (and whose job was
/// re-delivered to someone else) cannot ack or reschedule the new holder's
/// delivery.
#[derive(Clone, Debug)]
pub struct Delivery {
    /// The job as it was enqueued.
    pub job: Job,
    /// 1 on the first delivery, +1 on each redelivery after a lease expiry or
    /// a `retry_at`. Lets handlers back off and give up after N attempts.
    pub attempt: u32,
    /// Identifies this particular lease; compared atomically on ack/retry.
    token: String,
}

impl Delivery {
    /// Only backends build deliveries; the token must come from the backend.
    pub(crate) fn new(job: Job, attempt: u32, token: String) -> Self {
        Self {
            job,
            attempt,
            token,
        }
    }

    pub(crate) fn token(&self) -> &str {
        &self.token
    }
}

/// Counts for one queue, for metrics and the admin view.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct QueueStats {
    /// Jobs that can be reserved now (run_at <= now and not leased; a job
    /// whose lease expired counts as due again).
    pub due: u64,
    /// Jobs waiting for a future run_at.
    pub scheduled: u64,
    /// Jobs currently held by a worker under a lease.
    pub leased: u64,
}

/// Errors of the queue backends. The in-memory backend never fails.
#[derive(thiserror::Error, Debug)]
pub enum QueueError {
    /// Redis was unreachable or rejected a command. Callers treat this as
    /// transient: retry later, and rebuild from the database if data was lost.
    #[error("redis queue backend error: {0}")]
    Redis(#[from] redis::RedisError),
    /// A job could not be (de)serialised. Indicates a bug or incompatible
    /// versions writing to the same Redis.
    #[error("queue job encoding error: {0}")]
    Codec(#[from] serde_json::Error),
}

/// A set of named work queues with delayed jobs and leases.
///
/// Delivery is at-least-once: a job may run more than once (lease expiry,
/// Redis failover), so handlers must be idempotent.
#[async_trait::async_trait]
pub trait WorkQueue: Send + Sync + 'static {
    /// Add a job, or re-schedule it if a job with the same id is already
    /// waiting (dedupe by id: enqueueing the same id twice leaves one job,
    /// with the latest body and run_at). `run_at` in the past means due now.
    ///
    /// If the id is currently leased, the enqueue is parked and applied when
    /// the lease ends (see the crate docs), so it is neither lost nor run
    /// concurrently with the current holder.
    async fn enqueue(&self, queue: &str, job: Job, run_at: DateTime<Utc>)
    -> Result<(), QueueError>;

    /// Take the earliest-due job with run_at <= now, leased to the caller for
    /// `lease`. A job whose lease expired without ack is due again (attempt +
    /// 1). Never hands one job to two callers while its lease holds. Returns
    /// `None` when nothing is due.
    async fn reserve(&self, queue: &str, lease: Duration) -> Result<Option<Delivery>, QueueError>;

    /// Done: remove the job. Returns false (and changes nothing) if the lease
    /// was lost: it expired and the job was taken back (and possibly
    /// re-delivered to someone else), or the backend lost its data. A lease
    /// that expired but was not yet taken back can still be acked.
    async fn ack(&self, queue: &str, delivery: &Delivery) -> Result<bool, QueueError>;

    /// Give the job back to run again at `run_at` (backoff after a transient
    /// failure). The next delivery has attempt + 1. False if the lease was
    /// lost, as for [`ack`](Self::ack).
    async fn retry_at(
        &self,
        queue: &str,
        delivery: &Delivery,
        run_at: DateTime<Utc>,
    ) -> Result<bool, QueueError>;

    /// Remove a waiting (not leased) job by id, e.g. an offer timer that is no
    /// longer needed. True if removed. A leased job is not touched (its holder
    /// finishes it), but an enqueue parked behind its lease is dropped, which
    /// also counts as removed.
    async fn cancel(&self, queue: &str, job_id: &str) -> Result<bool, QueueError>;

    /// Sleep until work may be ready: returns at the earliest of `max_wait`,
    /// the next scheduled run_at (or lease expiry) in this queue, or an
    /// enqueue to this queue made through this same object (or a clone of it)
    /// in this process. Enqueues by other processes are noticed at the latest
    /// after `max_wait`, so that bounds the cross-process latency.
    ///
    /// It may return spuriously; callers loop `reserve` / `wait`.
    async fn wait(&self, queue: &str, max_wait: Duration) -> Result<(), QueueError>;

    /// Counts for one queue.
    async fn stats(&self, queue: &str) -> Result<QueueStats, QueueError>;

    /// How long the earliest due job has been due (now minus its run_at,
    /// a taken-back lease counting from its expiry); `None` when nothing is
    /// due. A job that waits long here means the routers cannot keep up.
    async fn oldest_due(&self, queue: &str) -> Result<Option<Duration>, QueueError>;

    /// Is the backend reachable (used by /readyz).
    async fn ping(&self) -> Result<(), QueueError>;

    /// Whether the backend may have lost its data since the last
    /// [`mark_rebuilt`](Self::mark_rebuilt) (a restarted or flushed Redis
    /// holds no marker): the reconciler then rebuilds every queue and timer
    /// from the database. True on a fresh backend.
    async fn needs_rebuild(&self) -> Result<bool, QueueError>;

    /// Record that the queues were rebuilt. Set after the rebuild, so an
    /// instance dying half-way leaves the next pass to rebuild again; two
    /// instances rebuilding at once is harmless (enqueue dedupes by id).
    async fn mark_rebuilt(&self) -> Result<(), QueueError>;

    /// Take the rebuild lease for `lease`: true for exactly one caller among
    /// instances sharing the backend until it expires (it is not released:
    /// the marker of [`mark_rebuilt`](Self::mark_rebuilt) stops the others
    /// after a rebuild; a rebuilder that dies half-way leaves the next
    /// rebuild to whoever asks after the lease ran out). A backend that
    /// lost its data lost the lease with it.
    async fn claim_rebuild(&self, lease: Duration) -> Result<bool, QueueError>;
}

/// The queue as shared by the API (enqueue) and the worker (consume).
pub type SharedQueue = Arc<dyn WorkQueue>;

/// Longest lease we store. Bounded so `now + lease` stays an exact integer in
/// a Redis score (a double) and in Lua's number formatting; ~34 years.
const MAX_LEASE_MS: i64 = 1 << 40;

fn lease_ms(lease: Duration) -> i64 {
    i64::try_from(lease.as_millis()).map_or(MAX_LEASE_MS, |ms| ms.min(MAX_LEASE_MS))
}

/// Clamp a caller-supplied time so that it is an exact integer both as a
/// Redis score and after Lua's `%.14g` number formatting (|ms| < 10^14, i.e.
/// roughly years -1200 to 5100). Earlier than that is "due now" anyway.
fn run_at_ms(run_at: DateTime<Utc>) -> i64 {
    const LIMIT: i64 = 99_999_999_999_999;
    run_at.timestamp_millis().clamp(-LIMIT, LIMIT)
}

/// Per-queue wake-up signals for [`WorkQueue::wait`], shared by clones of a
/// backend. Only same-process enqueues are signalled; cross-process latency
/// is bounded by the caller's `max_wait`.
#[derive(Default)]
struct Notifiers {
    by_queue: Mutex<std::collections::HashMap<String, Arc<Notify>>>,
}

impl Notifiers {
    fn get(&self, queue: &str) -> Arc<Notify> {
        let mut map = self.by_queue.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = map.get(queue) {
            return n.clone();
        }
        let n = Arc::new(Notify::new());
        map.insert(queue.to_owned(), n.clone());
        n
    }

    /// Wake everyone currently in `wait` on this queue. Uses
    /// `notify_waiters` (no stored permit): a waiter registers before it
    /// checks for due work, so a signal that arrives earlier is covered by
    /// that check.
    fn notify(&self, queue: &str) {
        let n = self
            .by_queue
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(queue)
            .cloned();
        if let Some(n) = n {
            n.notify_waiters();
        }
    }

    /// Shared body of `wait`: register for a wake-up, then ask the backend
    /// how long until the next job may be due, then sleep for the shorter of
    /// that and `max_wait` unless woken first.
    async fn wait<F>(&self, queue: &str, max_wait: Duration, until_due: F) -> Result<(), QueueError>
    where
        F: Future<Output = Result<Option<Duration>, QueueError>>,
    {
        if max_wait.is_zero() {
            return Ok(());
        }
        let notify = self.get(queue);
        let notified = notify.notified();
        tokio::pin!(notified);
        // Register before looking at the queue so an enqueue that lands
        // between the look and the sleep still wakes us.
        notified.as_mut().enable();
        let timeout = match until_due.await? {
            Some(d) if d.is_zero() => return Ok(()),
            // +1 ms: run_at is stored with millisecond precision; waking a
            // hair early would make the caller spin once for nothing.
            Some(d) => (d + Duration::from_millis(1)).min(max_wait),
            None => max_wait,
        };
        tokio::select! {
            () = &mut notified => {}
            () = tokio::time::sleep(timeout) => {}
        }
        Ok(())
    }
}

/// Milliseconds from `now_ms` until `due_ms` (zero if already due).
fn until(now_ms: i64, due_ms: i64) -> Duration {
    Duration::from_millis(u64::try_from(due_ms.saturating_sub(now_ms)).unwrap_or(0))
}
