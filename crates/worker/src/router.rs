use crate::jobs::{self, REBUILD_QUEUE, ROUTING_QUEUE};
use crate::{Worker, WorkerError};
use chrono::{DateTime, Utc};
use sansuo_domain::dispatch::{
    Dispatch, dispatch, offer_expiry, priority_on, step_for_previous_owner,
};
use sansuo_domain::sla::{SlaKind, SlaMinutes, clocks_of, review};
use sansuo_domain::work::Work;
use sansuo_domain::{CaseId, OfferId, StaffId, SupervisionId};
use sansuo_queue::{Delivery, Job};
use sansuo_store::StoreError;
use sansuo_store::routing::{LadderPlacement, RouteContext};
use sansuo_store::supervision::DueOutcome;
use std::time::Duration;
use tracing::{Instrument, debug, info, info_span, warn};

/// Backoff for a job whose handler failed (database down, say): 1 s, 2 s,
/// 4 s ... capped at one minute. The job is never dropped.
fn backoff(attempt: u32) -> Duration {
    Duration::from_secs(1u64 << attempt.saturating_sub(1).min(6)).min(Duration::from_secs(60))
}

/// The longest a job waits after the database was busy (restarting, a
/// lock held): it is no failure of the job, so it does not back off long.
const BUSY_RETRY: Duration = Duration::from_secs(2);

impl Worker {
    pub(crate) async fn run_router(self) {
        let mut stop = self.stop_signal();
        while !*stop.borrow_and_update() {
            match self.process_one().await {
                Ok(true) => continue,
                Ok(false) => {}
                Err(err) => warn!(error = %err, "router could not reach the queue"),
            }
            tokio::select! {
                waited = self.queue.wait(ROUTING_QUEUE, self.config.idle_poll) => {
                    if let Err(err) = waited {
                        warn!(error = %err, "router could not wait on the queue");
                        tokio::time::sleep(self.config.idle_poll).await;
                    }
                }
                _ = stop.changed() => {}
            }
        }
    }

    /// Take one due job, handle it, acknowledge it. Returns whether there
    /// was a job. Tests call this to drain the queue deterministically.
    /// Fresh work first: the rebuild queue only when nothing is due on
    /// the routing queue.
    pub async fn process_one(&self) -> Result<bool, WorkerError> {
        let mut taken = None;
        for queue in [ROUTING_QUEUE, REBUILD_QUEUE] {
            if let Some(delivery) = self.queue.reserve(queue, self.config.lease).await? {
                taken = Some((queue, delivery));
                break;
            }
        }
        let Some((queue, delivery)) = taken else {
            return Ok(false);
        };
        let span = info_span!(
            "job",
            job_id = %delivery.job.id,
            kind = %delivery.job.kind,
            attempt = delivery.attempt,
            request_id = delivery.job.request_id.as_deref().unwrap_or(""),
        );
        // Held while it runs: a stop that abandons the handler gives the
        // lease back instead of leaving it to expire.
        let held = self.hold(queue, &delivery);
        let finished = self.finish(queue, delivery).instrument(span).await;
        self.forget(held);
        finished?;
        Ok(true)
    }

    async fn finish(&self, queue: &str, delivery: Delivery) -> Result<(), WorkerError> {
        match self.handle(&delivery.job).await {
            Ok(()) => {
                self.queue.ack(queue, &delivery).await?;
            }
            Err(WorkerError::BadJob(reason)) => {
                // Retrying cannot fix a malformed job; keep the evidence in the log.
                warn!(%reason, "dropping malformed job");
                self.queue.ack(queue, &delivery).await?;
            }
            Err(WorkerError::Work(err)) => {
                warn!(error = %err, "dropping a job that is no work we know");
                self.queue.ack(queue, &delivery).await?;
            }
            Err(WorkerError::Store(StoreError::Busy(err))) => {
                // Not a failed job: the database could not serve it now (a
                // restart, a lost connection, a lock held). It runs again
                // in a moment, like a redelivery after a lost lease.
                let delay = backoff(delivery.attempt).min(BUSY_RETRY);
                info!(error = %err, retry_in_ms = delay.as_millis() as u64, "database busy; the job runs again");
                let at = Utc::now() + chrono::Duration::from_std(delay).unwrap_or_default();
                self.queue.retry_at(queue, &delivery, at).await?;
            }
            Err(err) => {
                let delay = backoff(delivery.attempt);
                warn!(error = %err, retry_in_ms = delay.as_millis() as u64, "job failed; will retry");
                let at = Utc::now() + chrono::Duration::from_std(delay).unwrap_or_default();
                self.queue.retry_at(queue, &delivery, at).await?;
            }
        }
        Ok(())
    }

    /// Decode the job's work once and do it.
    async fn handle(&self, job: &Job) -> Result<(), WorkerError> {
        let request_id = job.request_id.as_deref();
        match jobs::work_of(job)? {
            // A step's end is decided like any routing: escalate if still waiting.
            Work::RouteCase { case_id } | Work::StepTimeout { case_id, .. } => {
                self.route(case_id, request_id).await
            }
            Work::SlaCheck { case_id } => self.check_sla(case_id, Utc::now()).await,
            Work::SupervisionDue { supervision_id } => {
                self.check_supervision(supervision_id, Utc::now()).await
            }
            Work::StaffAvailable { staff_id } => self.route_waiting_for(staff_id, request_id).await,
            Work::OfferTimeout { offer_id } => self.expire(offer_id, request_id).await,
            Work::Notify {
                event,
                case_id,
                occurrence,
            } => self.notify(event, case_id, occurrence).await,
            Work::NotifyStaff {
                event,
                staff_id,
                case_id,
                occurrence,
                deadline,
            } => {
                self.notify_staff(event, staff_id, case_id, occurrence, deadline)
                    .await
            }
            Work::Moderate(subject) => {
                self.moderate(jobs::store_subject(subject), request_id)
                    .await
            }
        }
    }

    /// Load, decide (pure), save (guarded), climbing as many steps as the
    /// decisions say. A lost race means another router already moved the
    /// case: that is success, not failure.
    pub async fn route(
        &self,
        case_id: CaseId,
        request_id: Option<&str>,
    ) -> Result<(), WorkerError> {
        self.route_with(case_id, request_id, None).await
    }

    /// [`Worker::route`] as if it were `now`: tests look at a case on a
    /// Saturday or a Monday to come (a step's end is in business time)
    /// without waiting for it.
    pub async fn route_at(&self, case_id: CaseId, now: DateTime<Utc>) -> Result<(), WorkerError> {
        self.route_with(case_id, None, Some(now)).await
    }

    /// `at` fixes the clock (tests); `None` reads it afresh on every pass.
    async fn route_with(
        &self,
        case_id: CaseId,
        request_id: Option<&str>,
        at: Option<DateTime<Utc>>,
    ) -> Result<(), WorkerError> {
        // Each pass either settles the case or climbs one step; a ladder is short.
        for _ in 0..MAX_CLIMB {
            let now = at.unwrap_or_else(Utc::now);
            let Some(ctx) = self.store.routing().context(case_id, now).await? else {
                return Err(WorkerError::BadJob(format!(
                    "case {case_id} does not exist"
                )));
            };
            if !ctx.is_routable() {
                debug!(%case_id, status = %ctx.status, "nothing to route");
                return Ok(());
            }
            if ctx.status.is_submitted() {
                // The case's SLA clocks start now; one timer watches them all.
                self.arm_sla_check(&ctx, now).await?;
            }
            // A preferred person (a reopened case's previous owner, the
            // mediator a party asked for) is offered it first, once.
            let outcome = match ctx.case.preferred_staff() {
                Some(owner) => {
                    self.offer_to_previous_owner(&ctx, owner, request_id, now)
                        .await
                }
                None => Ok(false),
            };
            let settled = match outcome {
                Ok(true) => Ok(true),
                Ok(false) => self.route_step(&ctx, request_id, now).await,
                Err(err) => Err(err),
            };
            match settled {
                Ok(true) => return Ok(()),
                // Climbed a step, or the chosen person filled up meanwhile: decide again.
                Ok(false) | Err(WorkerError::Store(StoreError::AtCapacity)) => continue,
                Err(WorkerError::Store(StoreError::Conflict(_))) => return Ok(()),
                Err(WorkerError::Store(err)) if err.is_unique_violation() => return Ok(()),
                Err(err) => return Err(err),
            }
        }
        warn!(%case_id, "ladder climb did not settle; will be retried");
        Err(WorkerError::BadJob(format!(
            "case {case_id} did not settle"
        )))
    }

    /// One engine decision on the case's current step. Returns whether the
    /// case is settled (offered, waiting, unrouted) or climbed a step.
    async fn route_step(
        &self,
        ctx: &RouteContext,
        request_id: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<bool, WorkerError> {
        let case_id: CaseId = ctx.case.id();
        let Some(workflow) = ctx.workflow.as_ref() else {
            let at = placement(ctx, ctx.position.step, now);
            self.store
                .routing()
                .unroute_case(
                    &ctx.case,
                    at,
                    "the category has no workflow for this service",
                    request_id,
                    now,
                )
                .await?;
            warn!(alarm = "unrouted", %case_id, "no workflow; case is with the coordinators");
            return Ok(true);
        };
        // The step's end is in business time (`LadderStep::ends_at`).
        let calendar = self.store.catalog().business_calendar().await?;
        let decision = dispatch(
            &workflow.ladder,
            ctx.position,
            &ctx.routing,
            &ctx.staff,
            &ctx.excluded,
            self.config.offer_timeout,
            &calendar,
            now,
        );
        let step = ctx.position.step;
        match decision {
            Dispatch::Offer { to, expires_at } => {
                let at = LadderPlacement {
                    entered_at: ctx.position.entered_at,
                    ..placement(ctx, step, now)
                };
                let offer_id = self
                    .store
                    .routing()
                    .offer_case(&ctx.case, at, to, expires_at, request_id, now)
                    .await?;
                info!(%case_id, staff_id = %to, %offer_id, step, "offered");
                // If this enqueue is lost, the reconciler re-arms the timer.
                self.schedule(Work::OfferTimeout { offer_id }, request_id, expires_at)
                    .await?;
                Ok(true)
            }
            Dispatch::Wait { until } => {
                let at = LadderPlacement {
                    entered_at: ctx.position.entered_at,
                    ..placement(ctx, step, now)
                };
                let changed = self
                    .store
                    .routing()
                    .queue_case(
                        &ctx.case,
                        at,
                        "nobody eligible is available now",
                        request_id,
                        now,
                    )
                    .await?;
                if changed {
                    info!(%case_id, step, "waiting for someone eligible");
                }
                self.schedule(Work::StepTimeout { case_id, step }, request_id, until)
                    .await?;
                Ok(true)
            }
            Dispatch::Escalate { to_step, reason } => {
                let at = placement(ctx, to_step, now);
                self.store
                    .routing()
                    .escalate_case(&ctx.case, at, reason.text(), request_id, now)
                    .await?;
                info!(%case_id, from = step, to = to_step, reason = reason.text(), "escalated");
                Ok(false)
            }
            Dispatch::Unrouted { reason } => {
                let at = placement(ctx, step, now);
                self.store
                    .routing()
                    .unroute_case(&ctx.case, at, reason.text(), request_id, now)
                    .await?;
                warn!(alarm = "unrouted", %case_id, reason = reason.text(), "past the last step; case is with the coordinators");
                Ok(true)
            }
        }
    }

    /// The case's preferred person (a reopened case's previous owner, the
    /// mediator a party asked for) is offered it on the first step where
    /// they are eligible now. Returns false to route as usual.
    async fn offer_to_previous_owner(
        &self,
        ctx: &RouteContext,
        owner: StaffId,
        request_id: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<bool, WorkerError> {
        let Some(workflow) = ctx.workflow.as_ref() else {
            return Ok(false);
        };
        let Some(snapshot) = self
            .store
            .staffing()
            .own_dispatch_snapshot(owner, now)
            .await?
        else {
            return Ok(false);
        };
        let Some(step) = step_for_previous_owner(&workflow.ladder, &ctx.routing, &snapshot) else {
            return Ok(false);
        };
        // The case enters `step` now; the offer, like any, ends with it.
        let calendar = self.store.catalog().business_calendar().await?;
        let step_ends = workflow.ladder[step].ends_at(now, &calendar);
        let expires_at = offer_expiry(now, self.config.offer_timeout, step_ends);
        let at = placement(ctx, step, now);
        let offer_id = self
            .store
            .routing()
            .offer_case(&ctx.case, at, owner, expires_at, request_id, now)
            .await?;
        info!(case_id = %ctx.case.id(), staff_id = %owner, %offer_id, step, "offered to the case's preferred person");
        self.schedule(Work::OfferTimeout { offer_id }, request_id, expires_at)
            .await?;
        Ok(true)
    }

    /// Someone became available or has room again: route the cases waiting
    /// in their queues now, best first, until they are full (the engine
    /// decides who gets each; this only asks it). Cases they cannot take
    /// (declined before, lacking the skill) are routed and stay waiting, so
    /// the scan looks a bounded distance further.
    async fn route_waiting_for(
        &self,
        staff: StaffId,
        request_id: Option<&str>,
    ) -> Result<(), WorkerError> {
        let Some(me) = self
            .store
            .staffing()
            .own_dispatch_snapshot(staff, Utc::now())
            .await?
        else {
            return Ok(());
        };
        let waiting = self
            .store
            .routing()
            .waiting_in_units(&me.units, AVAILABILITY_SCAN)
            .await?;
        debug!(%staff, waiting = waiting.len(), "routing waiting cases for someone available");
        for case in waiting {
            if !self.store.offers().has_room(staff).await? {
                break;
            }
            self.route(case.id.into(), request_id).await?;
        }
        Ok(())
    }

    async fn expire(&self, offer_id: OfferId, request_id: Option<&str>) -> Result<(), WorkerError> {
        let now = Utc::now();
        let Some(offer) = self.store.offers().get(offer_id).await? else {
            return Err(WorkerError::BadJob(format!(
                "offer {offer_id} does not exist"
            )));
        };
        if offer.status == sansuo_domain::offer::OfferStatus::Pending && offer.expires_at > now {
            // Fired early (clocks of instances differ): arm it again.
            self.schedule(
                Work::OfferTimeout { offer_id },
                request_id,
                offer.expires_at,
            )
            .await?;
            return Ok(());
        }
        match self
            .store
            .routing()
            .expire_offer(offer_id, request_id, now)
            .await
        {
            Ok(true) => {
                info!(%offer_id, case_id = %offer.case_id, "offer expired; routing to the next candidate");
                // The outbox also carries this; routing now saves a relay hop.
                self.route(offer.case_id, request_id).await
            }
            Ok(false) | Err(StoreError::Conflict(_)) => Ok(()),
            Err(err) => Err(err.into()),
        }
    }

    /// Arm the case's SLA timer at its earliest running deadline.
    async fn arm_sla_check(
        &self,
        ctx: &RouteContext,
        now: DateTime<Utc>,
    ) -> Result<(), WorkerError> {
        let Some(workflow) = ctx.workflow.as_ref() else {
            return Ok(());
        };
        let calendar = self.store.catalog().business_calendar().await?;
        let times = self.store.routing().case_times(&ctx.case).await?;
        let clocks = clocks_of(&times, SlaMinutes::from(&workflow.sla));
        if let Some(at) = review(&clocks, &[], &calendar, now).next_check {
            let case_id = ctx.case.id();
            self.schedule(Work::SlaCheck { case_id }, None, at).await?;
        }
        Ok(())
    }

    /// Record each clock that ran out (once), escalate a case still waiting
    /// for an owner by one step, and arm the timer for the next deadline.
    /// Public with `now` so tests can look at a case days ahead.
    pub async fn check_sla(&self, case_id: CaseId, now: DateTime<Utc>) -> Result<(), WorkerError> {
        let Some(ctx) = self.store.routing().context(case_id, now).await? else {
            return Ok(());
        };
        let Some(workflow) = ctx.workflow.as_ref() else {
            return Ok(());
        };
        let calendar = self.store.catalog().business_calendar().await?;
        let times = self.store.routing().case_times(&ctx.case).await?;
        let clocks = clocks_of(&times, SlaMinutes::from(&workflow.sla));
        let already: Vec<SlaKind> = self
            .store
            .routing()
            .sla_breaches_of(case_id)
            .await?
            .iter()
            .map(|b| b.clock)
            .collect();
        let found = review(&clocks, &already, &calendar, now);
        let mut case = ctx.case;
        for kind in &found.breached {
            // The nominal deadline, for the record (pauses not added back).
            let due = clocks
                .iter()
                .find(|(k, _)| k == kind)
                .and_then(|(_, c)| calendar.add(c.started_at, c.target))
                .unwrap_or(now);
            match self
                .store
                .routing()
                .record_sla_breach(&case, kind.as_str(), due, now)
                .await
            {
                Ok(true) => {
                    warn!(alarm = "sla_breach", %case_id, clock = kind.as_str(), "response-time target missed");
                }
                Ok(false) | Err(StoreError::Conflict(_)) => {}
                Err(err) => return Err(err.into()),
            }
            // The breach event moved the version on; the next guarded move needs it.
            if let Some(fresh) = self.store.routing().case(case_id).await? {
                case = fresh;
            }
        }
        if !found.breached.is_empty()
            && let Some(fresh) = self.store.routing().context(case_id, now).await?
            && fresh.is_routable()
        {
            self.escalate_one_step(&fresh, now).await?;
        }
        if let Some(at) = found.next_check {
            self.schedule(Work::SlaCheck { case_id }, None, at).await?;
        }
        Ok(())
    }

    /// A 督办 deadline: if missed (and the case still open), the
    /// supervision climbs to the parent unit's coordinators; if the timer
    /// fired early, it is armed again at the deadline. Public with `now` so
    /// tests can look days ahead.
    pub async fn check_supervision(
        &self,
        supervision_id: SupervisionId,
        now: DateTime<Utc>,
    ) -> Result<(), WorkerError> {
        match self.store.supervision().due(supervision_id, now).await {
            Ok(DueOutcome::Nothing) | Err(StoreError::Conflict(_)) => Ok(()),
            Ok(DueOutcome::NotYet(at)) => {
                self.schedule(Work::SupervisionDue { supervision_id }, None, at)
                    .await
            }
            Ok(DueOutcome::Climbed { unit, level }) => {
                warn!(alarm = "supervision_missed", %supervision_id, %unit, level, "supervision deadline missed; climbed a level");
                Ok(())
            }
            Err(err) => Err(err.into()),
        }
    }

    /// A breach moves a waiting case up a step (or to the coordinators),
    /// then the engine places it there.
    async fn escalate_one_step(
        &self,
        ctx: &RouteContext,
        now: DateTime<Utc>,
    ) -> Result<(), WorkerError> {
        let Some(workflow) = ctx.workflow.as_ref() else {
            return Ok(());
        };
        let next = ctx.position.step + 1;
        let result = if next < workflow.ladder.len() {
            self.store
                .routing()
                .escalate_case(
                    &ctx.case,
                    placement(ctx, next, now),
                    "an SLA target was missed",
                    None,
                    now,
                )
                .await
        } else {
            self.store
                .routing()
                .unroute_case(
                    &ctx.case,
                    placement(ctx, ctx.position.step, now),
                    "an SLA target was missed on the last step",
                    None,
                    now,
                )
                .await
        };
        match result {
            Ok(()) => self.route(ctx.case.id(), None).await,
            Err(StoreError::Conflict(_)) => Ok(()),
            Err(err) => Err(err.into()),
        }
    }
}

/// Waiting cases looked at when someone becomes available.
const AVAILABILITY_SCAN: u64 = 20;

/// Steps a case may climb in one routing job.
const MAX_CLIMB: usize = 16;

/// The case on `step` of its ladder from now: priority with that step's
/// boosts, waiting in the queue of the step's unit.
fn placement(ctx: &RouteContext, step: usize, now: DateTime<Utc>) -> LadderPlacement<'_> {
    let (workflow, priority, unit) = match ctx.workflow.as_ref() {
        Some(w) => (
            Some(w.name.as_str()),
            priority_on(
                &w.ladder,
                ctx.base_priority,
                step.min(w.ladder.len().saturating_sub(1)),
            ),
            w.ladder
                .get(step)
                .and_then(|s| ctx.routing.place.unit_at(s.level)),
        ),
        None => (None, ctx.base_priority, None),
    };
    LadderPlacement {
        workflow,
        step,
        entered_at: now,
        priority,
        unit,
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
