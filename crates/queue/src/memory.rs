//! In-process backend for the embedded single-instance default.
//!
//! Mirrors the Redis backend's semantics exactly (same lease, attempt and
//! parked-enqueue rules) so that the contract tests hold for both and code
//! developed against the embedded mode behaves the same in production. State
//! lives behind a `std::sync::Mutex` that is never held across an `.await`.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::{
    Delivery, Job, Notifiers, QueueError, QueueStats, WorkQueue, lease_ms, run_at_ms, until,
};

/// In-process [`WorkQueue`]. Cloning is cheap and clones share the queues (an
/// `Arc` inside), so the API and the worker can each hold one.
///
/// Nothing survives a restart; the caller rebuilds from its database, exactly
/// as it does when Redis loses its data.
#[derive(Clone, Default)]
pub struct MemoryQueue {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    state: Mutex<State>,
    notifiers: Notifiers,
    /// The in-process queue loses its data only with the process.
    rebuilt: std::sync::atomic::AtomicBool,
}

#[derive(Default)]
struct State {
    queues: HashMap<String, Queue>,
    next_token: u64,
}

/// One queue. `due` and `leased` are ordered indexes over `entries`, keyed
/// like the Redis sorted sets: (score ms, id), so ties break by id as in Redis.
#[derive(Default)]
struct Queue {
    entries: HashMap<String, Entry>,
    due: BTreeSet<(i64, String)>,
    leased: BTreeSet<(i64, String)>,
}

struct Entry {
    job: Job,
    attempts: u32,
    slot: Slot,
}

enum Slot {
    Waiting {
        run_at: i64,
    },
    Leased {
        until: i64,
        token: u64,
        /// An enqueue that arrived during the lease: (job, run_at).
        parked: Option<(Job, i64)>,
    },
}

fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

impl MemoryQueue {
    /// An empty set of queues.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave the maps half-updated
        // in a way that matters more than losing the queue would, and losing
        // the queue is allowed; keep serving.
        self.inner.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Queue {
    /// End a lease: back to waiting at `run_at`, unless an enqueue was parked
    /// behind the lease, which then decides body and run_at.
    fn release(&mut self, id: &str, run_at: i64) {
        let Some(entry) = self.entries.get_mut(id) else {
            return;
        };
        let Slot::Leased { until, parked, .. } = &mut entry.slot else {
            return;
        };
        self.leased.remove(&(*until, id.to_owned()));
        let run_at = match parked.take() {
            Some((job, at)) => {
                entry.job = job;
                at
            }
            None => run_at,
        };
        entry.slot = Slot::Waiting { run_at };
        self.due.insert((run_at, id.to_owned()));
    }

    /// Take back leases that expired at or before `now` (they become due at
    /// their expiry time, keeping their attempt count).
    fn reclaim(&mut self, now: i64) {
        while self.leased.first().is_some_and(|(until, _)| *until <= now) {
            let Some((until, id)) = self.leased.pop_first() else {
                break;
            };
            self.release(&id, until);
        }
    }

    fn remove(&mut self, id: &str) {
        if let Some(entry) = self.entries.remove(id) {
            match entry.slot {
                Slot::Waiting { run_at } => {
                    self.due.remove(&(run_at, id.to_owned()));
                }
                Slot::Leased { until, .. } => {
                    self.leased.remove(&(until, id.to_owned()));
                }
            }
        }
    }

    /// The lease behind `delivery` if it is still the current one.
    fn holds(&self, delivery: &Delivery) -> bool {
        match self.entries.get(&delivery.job.id) {
            Some(Entry {
                slot: Slot::Leased { token, .. },
                ..
            }) => token.to_string() == delivery.token(),
            _ => false,
        }
    }
}

#[async_trait::async_trait]
impl WorkQueue for MemoryQueue {
    async fn enqueue(
        &self,
        queue: &str,
        job: Job,
        run_at: DateTime<Utc>,
    ) -> Result<(), QueueError> {
        let run_at = run_at_ms(run_at);
        {
            let mut state = self.lock();
            let q = state.queues.entry(queue.to_owned()).or_default();
            match q.entries.get_mut(&job.id) {
                Some(Entry {
                    slot: Slot::Leased { parked, .. },
                    ..
                }) => *parked = Some((job, run_at)),
                Some(entry) => {
                    if let Slot::Waiting { run_at: old } = entry.slot {
                        q.due.remove(&(old, job.id.clone()));
                    }
                    q.due.insert((run_at, job.id.clone()));
                    entry.slot = Slot::Waiting { run_at };
                    entry.job = job;
                }
                None => {
                    q.due.insert((run_at, job.id.clone()));
                    q.entries.insert(
                        job.id.clone(),
                        Entry {
                            job,
                            attempts: 0,
                            slot: Slot::Waiting { run_at },
                        },
                    );
                }
            }
        }
        self.inner.notifiers.notify(queue);
        Ok(())
    }

    async fn reserve(&self, queue: &str, lease: Duration) -> Result<Option<Delivery>, QueueError> {
        let now = now_ms();
        let mut state = self.lock();
        state.next_token += 1;
        let token = state.next_token;
        let Some(q) = state.queues.get_mut(queue) else {
            return Ok(None);
        };
        q.reclaim(now);
        let Some((run_at, id)) = q.due.first().cloned() else {
            return Ok(None);
        };
        if run_at > now {
            return Ok(None);
        }
        q.due.remove(&(run_at, id.clone()));
        let until = now.saturating_add(lease_ms(lease));
        q.leased.insert((until, id.clone()));
        let entry = q
            .entries
            .get_mut(&id)
            .expect("due index and entries are updated together");
        entry.attempts = entry.attempts.saturating_add(1);
        entry.slot = Slot::Leased {
            until,
            token,
            parked: None,
        };
        Ok(Some(Delivery::new(
            entry.job.clone(),
            entry.attempts,
            token.to_string(),
        )))
    }

    async fn ack(&self, queue: &str, delivery: &Delivery) -> Result<bool, QueueError> {
        let requeued = {
            let mut state = self.lock();
            let Some(q) = state.queues.get_mut(queue) else {
                return Ok(false);
            };
            if !q.holds(delivery) {
                return Ok(false);
            }
            let id = delivery.job.id.as_str();
            let entry = q.entries.get_mut(id).expect("holds() saw it");
            let has_parked = matches!(
                entry.slot,
                Slot::Leased {
                    parked: Some(_),
                    ..
                }
            );
            if has_parked {
                // The parked enqueue becomes a fresh job.
                entry.attempts = 0;
                q.release(id, 0);
            } else {
                q.remove(id);
            }
            has_parked
        };
        if requeued {
            self.inner.notifiers.notify(queue);
        }
        Ok(true)
    }

    async fn retry_at(
        &self,
        queue: &str,
        delivery: &Delivery,
        run_at: DateTime<Utc>,
    ) -> Result<bool, QueueError> {
        {
            let mut state = self.lock();
            let Some(q) = state.queues.get_mut(queue) else {
                return Ok(false);
            };
            if !q.holds(delivery) {
                return Ok(false);
            }
            q.release(&delivery.job.id, run_at_ms(run_at));
        }
        self.inner.notifiers.notify(queue);
        Ok(true)
    }

    async fn cancel(&self, queue: &str, job_id: &str) -> Result<bool, QueueError> {
        let mut state = self.lock();
        let Some(q) = state.queues.get_mut(queue) else {
            return Ok(false);
        };
        match q.entries.get_mut(job_id) {
            None => Ok(false),
            Some(Entry {
                slot: Slot::Leased { parked, .. },
                ..
            }) => Ok(parked.take().is_some()),
            Some(_) => {
                q.remove(job_id);
                Ok(true)
            }
        }
    }

    async fn wait(&self, queue: &str, max_wait: Duration) -> Result<(), QueueError> {
        let until_due = async {
            let now = now_ms();
            let state = self.lock();
            let Some(q) = state.queues.get(queue) else {
                return Ok(None);
            };
            let next = [q.due.first(), q.leased.first()]
                .into_iter()
                .flatten()
                .map(|(at, _)| *at)
                .min();
            Ok(next.map(|at| until(now, at)))
        };
        self.inner.notifiers.wait(queue, max_wait, until_due).await
    }

    async fn stats(&self, queue: &str) -> Result<QueueStats, QueueError> {
        let now = now_ms();
        let mut state = self.lock();
        let Some(q) = state.queues.get_mut(queue) else {
            return Ok(QueueStats::default());
        };
        q.reclaim(now);
        let due = q.due.iter().take_while(|(at, _)| *at <= now).count();
        Ok(QueueStats {
            due: due as u64,
            scheduled: (q.due.len() - due) as u64,
            leased: q.leased.len() as u64,
        })
    }

    async fn oldest_due(&self, queue: &str) -> Result<Option<Duration>, QueueError> {
        let now = now_ms();
        let mut state = self.lock();
        let Some(q) = state.queues.get_mut(queue) else {
            return Ok(None);
        };
        q.reclaim(now);
        Ok(q.due
            .first()
            .filter(|(at, _)| *at <= now)
            .map(|(at, _)| until(*at, now)))
    }

    async fn ping(&self) -> Result<(), QueueError> {
        Ok(())
    }

    async fn needs_rebuild(&self) -> Result<bool, QueueError> {
        Ok(!self
            .inner
            .rebuilt
            .load(std::sync::atomic::Ordering::Acquire))
    }

    async fn mark_rebuilt(&self) -> Result<(), QueueError> {
        self.inner
            .rebuilt
            .store(true, std::sync::atomic::Ordering::Release);
        Ok(())
    }

    /// One process, one reconciler: nobody to share the rebuild with.
    async fn claim_rebuild(&self, _lease: Duration) -> Result<bool, QueueError> {
        Ok(true)
    }
}
