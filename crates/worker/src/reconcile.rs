//! Redis keeps nothing on disk and may lose everything at any moment. The
//! reconciler makes that harmless: every interval it derives from the
//! database what the queue should hold and puts back whatever is missing.
//! Enqueueing is idempotent (job ids are derived from the case or offer),
//! so re-publishing work that is still there costs one write and no duplicate.

use crate::jobs::{self, REBUILD_QUEUE};
use crate::{Worker, WorkerError};
use chrono::{NaiveDate, Utc};
use sansuo_domain::calendar::china_date;
use sansuo_domain::work::Work;
use tracing::{debug, info, warn};

/// What one reconciliation pass found and repaired.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ReconcileReport {
    pub expired_offers: usize,
    /// Redis had lost its data (or this is its first pass): everything
    /// below was put back from the database.
    pub rebuilt: bool,
    pub rearmed_timers: usize,
    pub republished_cases: usize,
    pub republished_checks: usize,
    /// Screening rows of ended windows deleted (docs/anonymity.md).
    pub forgotten_screening: u64,
    /// Staff load counters that differed from what they count, set right.
    pub repaired_loads: u64,
}

const SCAN_LIMIT: u64 = 1000;

/// How long the instance that rebuilds holds the lease. A rebuild of a few
/// thousand cases takes seconds; one that dies half-way is redone by
/// whoever asks after this.
const REBUILD_LEASE: std::time::Duration = std::time::Duration::from_secs(120);

impl Worker {
    pub(crate) async fn run_reconciler(self) {
        let mut tick = tokio::time::interval(self.config.reconcile_every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut stop = self.stop_signal();
        let mut calendar_checked_on = None;
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = stop.changed() => {}
            }
            if *stop.borrow_and_update() {
                return;
            }
            let today = china_date(Utc::now());
            if calendar_checked_on != Some(today) && self.check_calendar(today).await {
                calendar_checked_on = Some(today);
            }
            match self.reconcile_once().await {
                // A first rebuild at start-up is routine; finding lost work is news.
                Ok(report)
                    if report.expired_offers + report.republished_cases > 0
                        || report.repaired_loads > 0 =>
                {
                    info!(?report, "reconciler repaired lost work")
                }
                Ok(report) => debug!(?report, "reconciled"),
                Err(err) => warn!(error = %err, "reconciliation failed"),
            }
        }
    }

    /// Once a day per instance: warn when the confirmed business calendar
    /// runs out within 60 days (`domain::calendar::coverage`). `false` when
    /// the database could not say (tried again next tick).
    pub async fn check_calendar(&self, today: NaiveDate) -> bool {
        match self.store.catalog().calendar_coverage(today).await {
            Ok(coverage) => {
                if let Some(warning) = &coverage.warning {
                    warn!(
                        covered_until = ?coverage.covered_until,
                        days_left = coverage.days_left,
                        "{warning}"
                    );
                }
                true
            }
            Err(err) => {
                debug!(error = %err, "calendar coverage not read");
                false
            }
        }
    }

    pub async fn reconcile_once(&self) -> Result<ReconcileReport, WorkerError> {
        let now = Utc::now();
        let mut report = ReconcileReport::default();
        // Offers whose timer never fired (lost, or the router was down).
        for offer in self.store.offers().overdue(now, SCAN_LIMIT).await? {
            if self
                .store
                .routing()
                .expire_offer(offer.id, None, now)
                .await
                .unwrap_or(false)
            {
                report.expired_offers += 1;
                if let Err(err) = self.route(offer.case_id, None).await {
                    warn!(error = %err, case_id = %offer.case_id, "routing after a lapsed offer failed; the outbox retries it");
                }
            }
        }
        // One instance rebuilds: the others find the lease taken (and, once
        // it is done, the marker set).
        if self.queue.needs_rebuild().await? && self.queue.claim_rebuild(REBUILD_LEASE).await? {
            self.rebuild(now, &mut report).await?;
            self.queue.mark_rebuilt().await?;
            report.rebuilt = true;
            if report.republished_cases > 0 {
                warn!(
                    ?report,
                    "queues rebuilt from the database (Redis lost its data)"
                );
            }
        }
        // A case not yet routed a couple of poll intervals after its last
        // change has lost its route job (or the router is down; then the
        // re-publish is harmless).
        let grace = chrono::Duration::from_std(self.config.reconcile_every).unwrap_or_default();
        for case_id in self
            .store
            .routing()
            .cases_awaiting_first_route(now - grace, SCAN_LIMIT)
            .await?
        {
            self.schedule(Work::RouteCase { case_id }, None, now)
                .await?;
            report.republished_cases += 1;
        }
        // Content checks still owed whose job may have been lost. At most one
        // attempt per interval per text while WeChat is down.
        for subject in self.store.moderation().pending_checks(SCAN_LIMIT).await? {
            let check = Work::Moderate(jobs::work_subject(subject));
            self.schedule(check, None, now + grace).await?;
            report.republished_checks += 1;
        }
        // An ended screening window's pseudonyms go, so that from then on
        // not even the server's key links those anonymous tips.
        report.forgotten_screening = self.store.tips().end_screening_windows(now).await?;
        // Load counters kept in every write's transaction can only drift by
        // a write outside the store (a hand-made SQL fix, a restore): put
        // them back to what they count before they misroute.
        report.repaired_loads = self.store.offers().repair_staff_loads().await?;
        self.prune_refresh_tokens(now).await;
        Ok(report)
    }

    /// Forget expired refresh tokens and week-old staff events, at most
    /// once an hour per instance: an expired token can be neither used nor
    /// reused (it is unknown), so keeping it only grows the table.
    async fn prune_refresh_tokens(&self, now: chrono::DateTime<Utc>) {
        use std::sync::atomic::{AtomicI64, Ordering};
        static LAST: AtomicI64 = AtomicI64::new(i64::MIN);
        let hour = now.timestamp() / 3600;
        if LAST.swap(hour, Ordering::Relaxed) == hour {
            return;
        }
        match self
            .store
            .identity()
            .delete_expired_refresh_tokens(now)
            .await
        {
            Ok(gone) => debug!(gone, "expired refresh tokens forgotten"),
            Err(err) => warn!(error = %err, "forgetting expired refresh tokens failed"),
        }
        // Retention (docs/retention.md): what is past its period goes.
        if let Some(policy) = &self.config.retention {
            match self.enforce_retention(policy, now, false).await {
                Ok(report) => debug!(?report, "retention enforced"),
                Err(err) => warn!(error = %err, "enforcing retention failed"),
            }
        }
        // Staff events are kept a week for streams that reconnect with
        // `Last-Event-ID`; older ones only grow the table.
        match self.store.staff_events().purge(now).await {
            Ok(gone) => debug!(gone, "old staff events forgotten"),
            Err(err) => warn!(error = %err, "forgetting old staff events failed"),
        }
    }

    /// Put back what only Redis held: every live offer's timer, and for every
    /// open case a routing decision (waiting cases get their step timer back
    /// from it) and an SLA check (which re-arms the case's SLA timer), on
    /// the rebuild queue, behind new work. Runs on one instance (the lease),
    /// O(open cases) once.
    async fn rebuild(
        &self,
        now: chrono::DateTime<Utc>,
        report: &mut ReconcileReport,
    ) -> Result<(), WorkerError> {
        let mut after = None;
        loop {
            let offers = self.store.offers().live(now, after, SCAN_LIMIT).await?;
            for offer in &offers {
                let timer = Work::OfferTimeout { offer_id: offer.id };
                self.schedule(timer, None, offer.expires_at).await?;
                report.rearmed_timers += 1;
            }
            match offers.last() {
                Some(last) if offers.len() as u64 == SCAN_LIMIT => after = Some(last.id.as_uuid()),
                _ => break,
            }
        }
        let mut after = None;
        loop {
            let cases = self.store.routing().open_cases(after, SCAN_LIMIT).await?;
            for case_id in &cases {
                let case_id = *case_id;
                // Behind fresh work (`REBUILD_QUEUE`): new submissions are
                // routed while this backlog drains.
                self.schedule_on(REBUILD_QUEUE, Work::RouteCase { case_id }, None, now)
                    .await?;
                self.schedule_on(REBUILD_QUEUE, Work::SlaCheck { case_id }, None, now)
                    .await?;
                report.republished_cases += 1;
            }
            match cases.last() {
                Some(last) if cases.len() as u64 == SCAN_LIMIT => after = Some(last.as_uuid()),
                _ => break,
            }
        }
        // 督办 deadlines (supervisions whose deadline is still to come).
        let mut after = None;
        loop {
            let timers = self.store.supervision().timers(after, SCAN_LIMIT).await?;
            for (supervision_id, deadline) in &timers {
                let timer = Work::SupervisionDue {
                    supervision_id: *supervision_id,
                };
                self.schedule(timer, None, *deadline).await?;
                report.rearmed_timers += 1;
            }
            match timers.last() {
                Some((last, _)) if timers.len() as u64 == SCAN_LIMIT => {
                    after = Some(last.as_uuid())
                }
                _ => break,
            }
        }
        Ok(())
    }
}
