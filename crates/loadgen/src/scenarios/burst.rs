//! A burst (issue 16: a district-wide campaign, a viral scam warning):
//! `--burst` submissions of the mix (`intake::MIX`) sent as fast as
//! `--burst-concurrency` clients can, from a quiet router. Then, from the
//! database:
//!
//! - **drain**: from the last submission's response to the last offer made
//!   for the burst's cases (0 when the router finished first);
//! - **decisions/s**: offers made for the burst's cases ÷ the time from the
//!   first of them stored to the last offer.

use super::route::{self, Percentiles, ServiceRoute};
use super::{Bench, ScenarioResult, intake};
use crate::load::{Op, Pace};
use crate::seed;
use chrono::{DateTime, Utc};
use futures::FutureExt;
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

#[derive(Debug, Clone, Serialize)]
pub struct BurstResult {
    pub name: String,
    pub connections: usize,
    /// Cases the burst stored (the requests are in the scenario's row).
    pub submissions: u64,
    /// ... of which an offer was made.
    pub offered: u64,
    /// Offers made for them (a decision each).
    pub offers: u64,
    /// Still `submitted` after waiting `drain_timeout` for the router.
    pub unrouted_after_wait: u64,
    /// Seconds from the first request sent to the last response.
    pub sent_s: f64,
    /// Seconds from the last response to the last offer (0: none later).
    pub drain_s: Option<f64>,
    /// Offers ÷ seconds from the first case stored to the last offer.
    pub decisions_per_s: Option<f64>,
    /// `min(offers.created_at) - cases.created_at`, ms, all services.
    pub db_ms: Option<Percentiles>,
    pub by_service: BTreeMap<String, ServiceRoute>,
}

pub async fn run(
    bench: &Bench,
    name: &str,
    connections: usize,
    total: u64,
    drain_timeout: Duration,
) -> anyhow::Result<(ScenarioResult, BurstResult)> {
    // From a quiet router: the full-speed intake before leaves a backlog.
    seed::wait_until_routed(&bench.db, drain_timeout).await?;
    let from = Utc::now();
    let pace = Pace::Burst { connections, total };
    // The moment the last response arrived, kept by the op itself (the
    // scenario's own bookkeeping after the run must not count as drain).
    let last_response = Arc::new(AtomicI64::new(0));
    let op: Op = {
        let (parts, last_response) = (bench.parts(), last_response.clone());
        Arc::new(move |seq| {
            let (parts, last_response) = (parts.clone(), last_response.clone());
            async move {
                let sample = intake::submit(&parts, seq).await;
                last_response.fetch_max(Utc::now().timestamp_micros(), Ordering::Relaxed);
                sample
            }
            .boxed()
        })
    };
    let scenario = bench.run(name, pace, Duration::ZERO, op).await;
    let end = DateTime::from_timestamp_micros(last_response.load(Ordering::Relaxed))
        .filter(|_| total > 0)
        .unwrap_or_else(Utc::now);
    let unrouted = seed::wait_until_routed(&bench.db, drain_timeout).await?;
    let routed = route::routed(bench, from, end).await?;
    let drain_s = routed
        .last_offer_at
        .map(|last| (last - end).as_seconds_f64().max(0.0));
    let decisions_per_s = routed
        .first_case_at
        .zip(routed.last_offer_at)
        .map(|(first, last)| routed.offers as f64 / (last - first).as_seconds_f64().max(1e-3));
    let result = BurstResult {
        name: name.to_owned(),
        connections,
        submissions: routed.overall.submissions,
        offered: routed.overall.offered,
        offers: routed.offers,
        unrouted_after_wait: unrouted,
        sent_s: scenario.duration_s,
        drain_s,
        decisions_per_s,
        db_ms: routed.overall.db_ms,
        by_service: routed.by_service,
    };
    Ok((scenario, result))
}
