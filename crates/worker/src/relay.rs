use crate::jobs::{self, ROUTING_QUEUE};
use crate::{Worker, WorkerError};
use chrono::Utc;
use tracing::{Instrument, info_span, warn};

const BATCH: u64 = 100;

impl Worker {
    pub(crate) async fn run_relay(self) {
        let signal = self.store.work_signal();
        let mut stop = self.stop_signal();
        while !*stop.borrow_and_update() {
            match self.relay_once().await {
                Ok(n) if n as u64 == BATCH => continue,
                Ok(_) => {}
                Err(err) => warn!(error = %err, "outbox relay failed; retrying"),
            }
            // Sleep until the store commits new work in this instance, or
            // the poll interval passes (rows committed by other instances),
            // or the worker stops (rows left are another instance's).
            tokio::select! {
                () = signal.wait(self.config.idle_poll) => {}
                _ = stop.changed() => {}
            }
        }
    }

    /// Publish one batch of outbox rows; returns how many were published.
    /// The relay knows no kind of work: each row becomes the job its work
    /// names.
    pub async fn relay_once(&self) -> Result<usize, WorkerError> {
        let batch = self.store.outbox().claim_batch(BATCH).await?;
        // All at once: Redis pipelines them on one connection, so a batch
        // of a burst costs about one round trip, not one per row.
        let results = futures::future::join_all(batch.rows.iter().map(|row| {
            let span = info_span!("relay", outbox_id = row.id, topic = %row.topic, request_id = row.request_id.as_deref().unwrap_or(""));
            async move {
                let work = row.work()?;
                let job = jobs::job(&work, row.request_id.clone());
                let due = row.run_at.unwrap_or_else(Utc::now);
                self.queue.enqueue(ROUTING_QUEUE, job, due).await?;
                Ok::<i64, WorkerError>(row.id)
            }
            .instrument(span)
        }))
        .await;
        let mut published = Vec::with_capacity(results.len());
        for (row, result) in batch.rows.iter().zip(results) {
            match result {
                Ok(id) => published.push(id),
                Err(err) => warn!(outbox_id = row.id, error = %err, "could not publish outbox row"),
            }
        }
        let count = published.len();
        batch.commit(&published).await?;
        Ok(count)
    }
}
