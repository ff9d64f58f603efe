//! Background work that every server instance runs:
//!
//! - the **relay** moves committed outbox rows to the queue (at least once),
//!   woken by the store's work signal whenever a commit adds work;
//! - the **router** takes jobs from the queue: it routes new cases (asks the
//!   domain's routing decision, saves it with a guarded update) and expires
//!   offers when their timers fire;
//! - the **reconciler** rebuilds what Redis may have lost (route jobs,
//!   offer timers) from the database, which is the only source of truth.
//!
//! What flows through all three is one type, `sansuo_domain::work::Work`:
//! encoded once into the outbox (by the store), decoded once by the router.
//!
//! Every handler is idempotent: a job delivered twice, or by two instances,
//! changes the database at most once.

mod inline;
mod jobs;
mod moderate;
mod notify;
mod reconcile;
mod relay;
mod router;

pub use jobs::{REBUILD_QUEUE, ROUTING_QUEUE, job, work_of};
pub use reconcile::ReconcileReport;

use chrono::{DateTime, Utc};
use sansuo_domain::notify::{NotificationEvent, TemplateSettings};
use sansuo_domain::work::{Work, WorkError};
use sansuo_queue::{Delivery, SharedQueue};
use sansuo_store::Store;
use sansuo_wechat::{MiniprogramState, WechatClient};
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tracing::{info, warn};

#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// How long a lawyer has to accept an offer before it goes to the pool.
    pub offer_timeout: chrono::Duration,
    /// Longest sleep of an idle relay or router before it looks again
    /// (work committed or enqueued by this instance wakes them at once).
    pub idle_poll: Duration,
    /// How often the reconciler compares Redis with the database.
    pub reconcile_every: Duration,
    /// How long a job is leased to a router before another may take it.
    pub lease: Duration,
    /// Which subscribe-message template each event uses (none: no message).
    pub templates: BTreeMap<NotificationEvent, TemplateSettings>,
    pub miniprogram_state: MiniprogramState,
    /// Sends of one message before it is given up as dead.
    pub notify_max_attempts: i32,
    /// Concurrent router tasks in this instance.
    pub routers: usize,
    /// Routings of new cases run at once in the requests that stored them
    /// ([`Worker::route_soon`]); 0 leaves every case to the routers.
    pub inline_routes: usize,
    /// The retention periods the reconciler enforces once an hour
    /// (`SANSUO_RETENTION_*`, docs/retention.md); `None`: nothing is purged.
    pub retention: Option<sansuo_domain::retention::RetentionPolicy>,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        Self {
            offer_timeout: chrono::Duration::minutes(30),
            idle_poll: Duration::from_millis(200),
            reconcile_every: Duration::from_secs(10),
            lease: Duration::from_secs(30),
            templates: BTreeMap::new(),
            miniprogram_state: MiniprogramState::Formal,
            notify_max_attempts: 5,
            routers: 4,
            inline_routes: 8,
            retention: None,
        }
    }
}

/// The background side of one server instance.
#[derive(Clone)]
pub struct Worker {
    store: Store,
    queue: SharedQueue,
    config: WorkerConfig,
    /// Checks resident text that could not be checked when written; `None`
    /// without WeChat credentials (demo), where text passes unchecked.
    wechat: Option<WechatClient>,
    life: Arc<Life>,
    /// `None` when in-request routing is off.
    inline: Option<Arc<inline::InlineGate>>,
    /// Where photos live, so a retention purge deletes their files too
    /// (`None`: only the database rows go).
    photos: Option<Arc<dyn sansuo_media::PhotoStore>>,
}

/// What the clones of one worker share to stop together: the stop signal
/// and the deliveries its routers hold at this moment.
struct Life {
    stop: watch::Sender<bool>,
    held: Mutex<HashMap<u64, (&'static str, Delivery)>>,
    next: AtomicU64,
}

impl Life {
    fn new() -> Self {
        Self {
            // Stopped until `spawn`: a worker that is not running routes
            // nothing in requests either (`route_soon`).
            stop: watch::Sender::new(true),
            held: Mutex::default(),
            next: AtomicU64::new(0),
        }
    }

    fn held(&self) -> std::sync::MutexGuard<'_, HashMap<u64, (&'static str, Delivery)>> {
        self.held.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The running tasks; dropping it leaves them running. `stop` ends them
/// gracefully (what SIGTERM does), `shutdown` at once (a crash).
pub struct WorkerHandle {
    tasks: Vec<JoinHandle<()>>,
    worker: Worker,
}

/// What a graceful stop did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct StopReport {
    /// Tasks that finished their step and ended by themselves.
    pub finished: usize,
    /// Tasks still busy when the grace ran out, ended mid-step.
    pub aborted: usize,
    /// Job leases those tasks held, given back due now.
    pub released: usize,
}

impl WorkerHandle {
    /// Stop the tasks at once, leases and all. Safe at any point: every
    /// step is a transaction or an at-least-once delivery that another
    /// instance or the reconciler redoes (a held job after its lease).
    pub fn shutdown(self) {
        self.worker.life.stop.send_replace(true);
        for task in self.tasks {
            task.abort();
        }
    }

    /// Stop gracefully: no task starts another step (job, relay batch,
    /// reconciliation); each gets until `grace` to finish the one it is
    /// in. A job still running then is abandoned and its lease given back
    /// due now, so another instance runs it at once instead of after the
    /// lease (its handler is idempotent, like every redelivery).
    pub async fn stop(self, grace: Duration) -> StopReport {
        let WorkerHandle { tasks, worker } = self;
        worker.life.stop.send_replace(true);
        let deadline = tokio::time::Instant::now() + grace;
        let mut report = StopReport::default();
        for mut task in tasks {
            if tokio::time::timeout_at(deadline, &mut task).await.is_ok() {
                report.finished += 1;
            } else {
                task.abort();
                let _ = task.await;
                report.aborted += 1;
            }
        }
        report.released = worker.release_held().await;
        sansuo_metrics::leases_released(report.released as u64);
        info!(?report, "worker stopped");
        report
    }
}

impl Worker {
    pub fn new(
        store: Store,
        queue: SharedQueue,
        wechat: Option<WechatClient>,
        config: WorkerConfig,
    ) -> Self {
        Self {
            inline: inline::InlineGate::new(config.inline_routes),
            store,
            queue,
            config,
            wechat,
            life: Arc::new(Life::new()),
            photos: None,
        }
    }

    /// The photo store a retention purge deletes purged photos from.
    pub fn with_photo_store(mut self, photos: Arc<dyn sansuo_media::PhotoStore>) -> Self {
        self.photos = Some(photos);
        self
    }

    /// Enforce the retention periods at `now` (docs/retention.md): one
    /// store transaction, then the purged photos' files. A dry run changes
    /// nothing and reports what would go.
    pub async fn enforce_retention(
        &self,
        policy: &sansuo_domain::retention::RetentionPolicy,
        now: DateTime<Utc>,
        dry_run: bool,
    ) -> Result<sansuo_store::retention::PurgeReport, WorkerError> {
        let report = self
            .store
            .retention()
            .purge(now, &policy.cutoffs(now), dry_run)
            .await?;
        if !dry_run && let Some(photos) = &self.photos {
            for key in &report.photo_keys {
                if let Err(err) = photos.delete(key).await {
                    warn!(error = %err, "a purged photo's file was not deleted");
                }
            }
        }
        Ok(report)
    }

    /// Whether a graceful stop was asked for (see [`WorkerHandle::stop`]).
    pub(crate) fn stop_signal(&self) -> watch::Receiver<bool> {
        self.life.stop.subscribe()
    }

    /// Remember a delivery while its handler runs (released if the handler
    /// is abandoned at a stop); returns the key to forget it by.
    pub(crate) fn hold(&self, queue: &'static str, delivery: &Delivery) -> u64 {
        let key = self.life.next.fetch_add(1, Ordering::Relaxed);
        self.life.held().insert(key, (queue, delivery.clone()));
        key
    }

    pub(crate) fn forget(&self, key: u64) {
        self.life.held().remove(&key);
    }

    /// Give back every lease still held (their handlers were abandoned):
    /// due now, for whichever router asks first. Returns how many were.
    async fn release_held(&self) -> usize {
        let held: Vec<(&'static str, Delivery)> =
            self.life.held().drain().map(|(_, held)| held).collect();
        let mut released = 0;
        for (queue, delivery) in held {
            match self.queue.retry_at(queue, &delivery, Utc::now()).await {
                Ok(true) => released += 1,
                // Acked or taken back meanwhile: nothing is held any more.
                Ok(false) => {}
                Err(err) => {
                    warn!(job_id = %delivery.job.id, error = %err, "could not release a job lease; it runs again after the lease")
                }
            }
        }
        released
    }

    /// Put `work` on the routing queue, due at `at` (timers the worker arms
    /// itself, and work the reconciler re-publishes).
    pub(crate) async fn schedule(
        &self,
        work: Work,
        request_id: Option<&str>,
        at: DateTime<Utc>,
    ) -> Result<(), WorkerError> {
        self.schedule_on(ROUTING_QUEUE, work, request_id, at).await
    }

    pub(crate) async fn schedule_on(
        &self,
        queue: &str,
        work: Work,
        request_id: Option<&str>,
        at: DateTime<Utc>,
    ) -> Result<(), WorkerError> {
        let job = jobs::job(&work, request_id.map(str::to_owned));
        self.queue.enqueue(queue, job, at).await?;
        Ok(())
    }

    pub fn spawn(&self) -> WorkerHandle {
        // A worker stopped before may be started again (tests do).
        self.life.stop.send_replace(false);
        let relay = self.clone();
        let reconciler = self.clone();
        let mut tasks = vec![
            tokio::spawn(async move { relay.run_relay().await }),
            tokio::spawn(async move { reconciler.run_reconciler().await }),
        ];
        // Several routers per instance: each job is a few database round
        // trips, so one router alone caps routing far below intake. Leases
        // and guarded updates make them as safe together as across instances.
        for _ in 0..self.config.routers.max(1) {
            let router = self.clone();
            tasks.push(tokio::spawn(async move { router.run_router().await }));
        }
        WorkerHandle {
            tasks,
            worker: self.clone(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    #[error(transparent)]
    Store(#[from] sansuo_store::StoreError),
    #[error(transparent)]
    Queue(#[from] sansuo_queue::QueueError),
    #[error("malformed job: {0}")]
    BadJob(String),
    /// A row or job that does not decode to work: dropped, never retried.
    #[error(transparent)]
    Work(#[from] WorkError),
    #[error("WeChat: {0}")]
    Wechat(#[from] sansuo_wechat::WechatError),
}
