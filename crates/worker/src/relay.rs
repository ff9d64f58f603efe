use crate::jobs::{self, ROUTING_QUEUE, payload_id};
use crate::{Worker, WorkerError};
use chrono::Utc;
use sansuo_store::outbox::topic;
use tracing::{Instrument, info_span, warn};

const BATCH: u64 = 100;

impl Worker {
    pub(crate) async fn run_relay(self) {
        loop {
            match self.relay_once().await {
                Ok(n) if n as u64 == BATCH => continue,
                Ok(_) => {}
                Err(err) => warn!(error = %err, "outbox relay failed; retrying"),
            }
            // Sleep until a handler commits new rows here, or the poll
            // interval passes (rows committed by other instances).
            let _ = tokio::time::timeout(self.config.idle_poll, self.outbox_nudge.notified()).await;
        }
    }

    /// Publish one batch of outbox rows; returns how many were published.
    pub async fn relay_once(&self) -> Result<usize, WorkerError> {
        let batch = self.store.claim_outbox_batch(BATCH).await?;
        let mut published = Vec::with_capacity(batch.rows.len());
        for row in &batch.rows {
            let span = info_span!("relay", outbox_id = row.id, topic = %row.topic, request_id = row.request_id.as_deref().unwrap_or(""));
            let result = async {
                let payload: serde_json::Value = serde_json::from_str(&row.payload)
                    .map_err(|e| WorkerError::BadJob(format!("outbox {}: {e}", row.id)))?;
                match row.topic.as_str() {
                    topic::ROUTE_CASE => {
                        let job = jobs::route_case(
                            payload_id(&payload, "case_id").ok_or_else(|| {
                                WorkerError::BadJob(format!("outbox {} has no case_id", row.id))
                            })?,
                            row.request_id.clone(),
                        );
                        self.queue.enqueue(ROUTING_QUEUE, job, Utc::now()).await?;
                    }
                    topic::STAFF_AVAILABLE => {
                        let staff = payload_id(&payload, "staff_id").ok_or_else(|| {
                            WorkerError::BadJob(format!("outbox {} has no staff_id", row.id))
                        })?;
                        let job = jobs::staff_available(staff, row.request_id.clone());
                        self.queue.enqueue(ROUTING_QUEUE, job, Utc::now()).await?;
                    }
                    topic::NOTIFY => {
                        let event = payload
                            .get("event")
                            .and_then(|e| e.as_str())
                            .unwrap_or_default()
                            .to_owned();
                        let case_id = payload_id(&payload, "case_id").ok_or_else(|| {
                            WorkerError::BadJob(format!("outbox {} has no case_id", row.id))
                        })?;
                        let job = jobs::notify(&event, case_id, row.request_id.clone());
                        self.queue.enqueue(ROUTING_QUEUE, job, Utc::now()).await?;
                    }
                    topic::MODERATE => {
                        let subject =
                            sansuo_store::moderation::subject_of(&payload).ok_or_else(|| {
                                WorkerError::BadJob(format!(
                                    "outbox {} is not a moderation subject",
                                    row.id
                                ))
                            })?;
                        let job = jobs::moderate(subject, row.request_id.clone());
                        self.queue.enqueue(ROUTING_QUEUE, job, Utc::now()).await?;
                    }
                    other => {
                        return Err(WorkerError::BadJob(format!(
                            "unknown outbox topic `{other}`"
                        )));
                    }
                }
                Ok::<(), WorkerError>(())
            }
            .instrument(span)
            .await;
            match result {
                Ok(()) => published.push(row.id),
                Err(err) => warn!(outbox_id = row.id, error = %err, "could not publish outbox row"),
            }
        }
        let count = published.len();
        batch.commit(&published, Utc::now()).await?;
        Ok(count)
    }
}
