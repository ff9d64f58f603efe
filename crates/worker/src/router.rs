use crate::jobs::{self, ROUTING_QUEUE, job_kind, payload_id};
use crate::{Worker, WorkerError};
use chrono::Utc;
use sansuo_domain::notify::NotificationEvent;
use sansuo_domain::routing::{RoutingDecision, route_consultation};
use sansuo_domain::{CaseId, OfferId};
use sansuo_queue::{Delivery, Job};
use sansuo_store::StoreError;
use std::time::Duration;
use tracing::{Instrument, debug, info, info_span, warn};

/// Backoff for a job whose handler failed (database down, say): 1 s, 2 s,
/// 4 s ... capped at one minute. The job is never dropped.
fn backoff(attempt: u32) -> Duration {
    Duration::from_secs(1u64 << attempt.saturating_sub(1).min(6)).min(Duration::from_secs(60))
}

impl Worker {
    pub(crate) async fn run_router(self) {
        loop {
            match self.process_one().await {
                Ok(true) => continue,
                Ok(false) => {}
                Err(err) => warn!(error = %err, "router could not reach the queue"),
            }
            if let Err(err) = self.queue.wait(ROUTING_QUEUE, self.config.idle_poll).await {
                warn!(error = %err, "router could not wait on the queue");
                tokio::time::sleep(self.config.idle_poll).await;
            }
        }
    }

    /// Take one due job, handle it, acknowledge it. Returns whether there
    /// was a job. Tests call this to drain the queue deterministically.
    pub async fn process_one(&self) -> Result<bool, WorkerError> {
        let Some(delivery) = self.queue.reserve(ROUTING_QUEUE, self.config.lease).await? else {
            return Ok(false);
        };
        let span = info_span!(
            "job",
            job_id = %delivery.job.id,
            kind = %delivery.job.kind,
            attempt = delivery.attempt,
            request_id = delivery.job.request_id.as_deref().unwrap_or(""),
        );
        self.finish(delivery).instrument(span).await?;
        Ok(true)
    }

    async fn finish(&self, delivery: Delivery) -> Result<(), WorkerError> {
        match self.handle(&delivery.job).await {
            Ok(()) => {
                self.queue.ack(ROUTING_QUEUE, &delivery).await?;
            }
            Err(WorkerError::BadJob(reason)) => {
                // Retrying cannot fix a malformed job; keep the evidence in the log.
                warn!(%reason, "dropping malformed job");
                self.queue.ack(ROUTING_QUEUE, &delivery).await?;
            }
            Err(err) => {
                let delay = backoff(delivery.attempt);
                warn!(error = %err, retry_in_ms = delay.as_millis() as u64, "job failed; will retry");
                let at = Utc::now() + chrono::Duration::from_std(delay).unwrap_or_default();
                self.queue.retry_at(ROUTING_QUEUE, &delivery, at).await?;
            }
        }
        Ok(())
    }

    async fn handle(&self, job: &Job) -> Result<(), WorkerError> {
        match job.kind.as_str() {
            job_kind::ROUTE_CASE => {
                let case_id: CaseId = payload_id(&job.payload, "case_id")
                    .ok_or_else(|| WorkerError::BadJob("route_case without case_id".into()))?;
                self.route(case_id, job.request_id.as_deref()).await
            }
            job_kind::OFFER_TIMEOUT => {
                let offer_id: OfferId = payload_id(&job.payload, "offer_id")
                    .ok_or_else(|| WorkerError::BadJob("offer_timeout without offer_id".into()))?;
                self.expire(offer_id, job.request_id.as_deref()).await
            }
            job_kind::NOTIFY => {
                let case_id: CaseId = payload_id(&job.payload, "case_id")
                    .ok_or_else(|| WorkerError::BadJob("notify without case_id".into()))?;
                let event = job
                    .payload
                    .get("event")
                    .and_then(|e| e.as_str())
                    .and_then(NotificationEvent::parse)
                    .ok_or_else(|| WorkerError::BadJob("notify without a known event".into()))?;
                self.notify(event, case_id).await
            }
            job_kind::MODERATE => {
                let subject = sansuo_store::moderation::subject_of(&job.payload)
                    .ok_or_else(|| WorkerError::BadJob("moderate without kind and id".into()))?;
                self.moderate(subject, job.request_id.as_deref()).await
            }
            other => Err(WorkerError::BadJob(format!("unknown job kind `{other}`"))),
        }
    }

    /// Load, decide (pure), save (guarded). A lost race means another
    /// instance already routed the case: that is success, not failure.
    pub async fn route(
        &self,
        case_id: CaseId,
        request_id: Option<&str>,
    ) -> Result<(), WorkerError> {
        let Some((case, snapshot)) = self.store.routing_snapshot(case_id).await? else {
            return Err(WorkerError::BadJob(format!(
                "case {case_id} does not exist"
            )));
        };
        let now = Utc::now();
        let outcome = match route_consultation(&snapshot, now, self.config.offer_timeout) {
            RoutingDecision::Offer { to, expires_at } => {
                match self
                    .store
                    .offer_case(&case, to, expires_at, request_id, now)
                    .await
                {
                    Ok(offer_id) => {
                        info!(%case_id, staff_id = %to, %offer_id, "offered");
                        let timer = jobs::offer_timeout(offer_id, request_id.map(str::to_owned));
                        // If this enqueue is lost, the reconciler re-arms the timer.
                        self.queue.enqueue(ROUTING_QUEUE, timer, expires_at).await?;
                        Ok(())
                    }
                    Err(err) => Err(err),
                }
            }
            RoutingDecision::Pool(reason) => {
                info!(%case_id, reason = reason.as_str(), "pooled");
                self.store
                    .pool_case(&case, reason.as_str(), request_id, now)
                    .await
            }
            RoutingDecision::AlreadyRouted => {
                debug!(%case_id, status = %snapshot.status, "already routed");
                Ok(())
            }
        };
        match outcome {
            Ok(()) | Err(StoreError::Conflict(_)) => Ok(()),
            Err(err) if err.is_unique_violation() => Ok(()),
            Err(err) => Err(err.into()),
        }
    }

    async fn expire(&self, offer_id: OfferId, request_id: Option<&str>) -> Result<(), WorkerError> {
        let now = Utc::now();
        let Some(offer) = self.store.offer(offer_id).await? else {
            return Err(WorkerError::BadJob(format!(
                "offer {offer_id} does not exist"
            )));
        };
        if offer.status == sansuo_store::consultations::offer_status::PENDING
            && offer.expires_at > now
        {
            // Fired early (clocks of instances differ): arm it again.
            let timer = jobs::offer_timeout(offer_id, request_id.map(str::to_owned));
            self.queue
                .enqueue(ROUTING_QUEUE, timer, offer.expires_at)
                .await?;
            return Ok(());
        }
        match self.store.expire_offer(offer_id, request_id, now).await {
            Ok(true) => {
                info!(%offer_id, case_id = %offer.case_id, "offer expired; case pooled");
                Ok(())
            }
            Ok(false) | Err(StoreError::Conflict(_)) => Ok(()),
            Err(err) => Err(err.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::backoff;
    use std::time::Duration;

    #[test]
    fn backoff_doubles_and_caps() {
        assert_eq!(backoff(1), Duration::from_secs(1));
        assert_eq!(backoff(2), Duration::from_secs(2));
        assert_eq!(backoff(4), Duration::from_secs(8));
        assert_eq!(backoff(30), Duration::from_secs(60));
    }
}
