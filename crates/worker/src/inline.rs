//! Routing a case in the instance that stored it, right after its
//! submission commits, instead of after the outbox's trip through the
//! relay and the queue. Under a burst that trip was the bottleneck: four
//! routers per instance took jobs one at a time while every request
//! handler sat idle (issue 16: submit→offer p99 of ~56 s at 500/s).
//!
//! Nothing is lost when this is skipped or fails: the submission's own
//! outbox row still becomes a routing job, and the router finds the case
//! already offered (one read) or routes it then. Guarded moves make the
//! two safe to race, as two routers are.

use crate::Worker;
use sansuo_domain::CaseId;
use sansuo_metrics::InlineRouting;
use std::sync::Arc;
use tokio::sync::Semaphore;
use tracing::{Instrument, debug, info_span};

/// How many in-request routings run at once, and how many more may wait.
#[derive(Debug)]
pub(crate) struct InlineGate {
    /// Admission: a routing that cannot get one is left to the router, so
    /// a flood cannot pile up tasks without bound.
    admitted: Arc<Semaphore>,
    /// Running at once: each holds a database connection for a few
    /// statements, so this stays well below the pool's size.
    running: Semaphore,
}

impl InlineGate {
    pub(crate) fn new(running: usize) -> Option<Arc<Self>> {
        (running > 0).then(|| {
            Arc::new(Self {
                admitted: Arc::new(Semaphore::new(running * WAITING_PER_RUNNING)),
                running: Semaphore::new(running),
            })
        })
    }
}

/// Routings that may wait per running one before the rest go to the router.
const WAITING_PER_RUNNING: usize = 64;

impl Worker {
    /// Route a case this instance just stored, in the background; returns
    /// at once. Does nothing when in-request routing is off
    /// (`SANSUO_INLINE_ROUTING=0`), when the worker is stopped, or when
    /// too many are already waiting: the outbox's routing job covers all
    /// three. `request_id` is `None` for an anonymous tip (never kept).
    pub fn route_soon(&self, case_id: CaseId, request_id: Option<String>) {
        let Some(gate) = self.inline.clone() else {
            return;
        };
        if *self.life.stop.borrow() {
            return;
        }
        let Ok(admitted) = gate.admitted.clone().try_acquire_owned() else {
            debug!(%case_id, "in-request routing is full; the router routes it");
            sansuo_metrics::inline_routing(InlineRouting::skipped);
            return;
        };
        let worker = self.clone();
        let span = info_span!(
            "route_soon",
            %case_id,
            request_id = request_id.as_deref().unwrap_or("")
        );
        tokio::spawn(
            async move {
                let _admitted = admitted;
                let Ok(_running) = gate.running.acquire().await else {
                    return;
                };
                match worker.route(case_id, request_id.as_deref()).await {
                    Ok(()) => sansuo_metrics::inline_routing(InlineRouting::routed),
                    Err(err) => {
                        // The outbox's job routes it (and retries) instead.
                        debug!(error = %err, "in-request routing failed; the router takes over");
                        sansuo_metrics::inline_routing(InlineRouting::failed);
                    }
                }
            }
            .instrument(span),
        );
    }
}
