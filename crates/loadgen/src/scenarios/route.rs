//! Submit-to-offer latency: how long a submission waits before the first
//! step's person is offered it (outbox → relay → Redis → router → offer
//! row): the signed lawyer for a consultation, the community's mediator
//! for a mediation, the community officer on duty (else the station's duty
//! officer) for a tip.
//!
//! Measured two ways. From the database, for every submission of an intake
//! run: `offers.created_at - cases.created_at`, both written by the server,
//! so the figure is the server's own and costs the run nothing; per
//! service and overall. End to end (consultations),
//! for a sample: a probe resident submits to the probe community (whose
//! lawyer has no other traffic, so polling their short offer list every
//! 5 ms is cheap), and the probe lawyer polls until the offer appears, then
//! accepts it to keep the list short.

use super::{Bench, Parts, ScenarioResult, exchange, id_from_location, intake, question};
use crate::load::Pace;
use crate::stats::{OpSummary, Outcome, Recorder};
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use uuid::Uuid;

#[derive(Debug, Clone, Copy, Serialize)]
pub struct Percentiles {
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub max: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct RouteResult {
    /// The intake run whose submissions these are.
    pub source: String,
    pub stored_cases: u64,
    /// Submissions of the run (probes excepted).
    pub submissions: u64,
    /// ... of which an offer was made (the rest were pooled, or not yet routed).
    pub offered: u64,
    /// Still `submitted` after waiting for the router to catch up.
    pub unrouted_after_wait: u64,
    /// Seconds the router needed after the run to route the backlog.
    pub drain_s: f64,
    /// `offers.created_at - cases.created_at`, milliseconds.
    pub db_ms: Option<Percentiles>,
    /// The same per service (`consultation`, `mediation`, `tip`).
    pub by_service: BTreeMap<String, ServiceRoute>,
    /// Probe submissions: from sending the POST to seeing the offer on the
    /// lawyer's board, milliseconds (includes the 5 ms polling interval).
    pub end_to_end: Option<OpSummary>,
}

struct Probes {
    stop: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<Arc<Recorder>>,
    started: Instant,
}

#[derive(Deserialize)]
struct ProbeOffer {
    id: Uuid,
    case_id: Uuid,
}

#[derive(Deserialize)]
struct ProbeOffers {
    items: Vec<ProbeOffer>,
}

fn start_probes(bench: &Bench) -> Probes {
    let stop = Arc::new(AtomicBool::new(false));
    let recorder = Arc::new(Recorder::default());
    let parts = bench.parts();
    let task = tokio::spawn({
        let stop = stop.clone();
        async move {
            let mut seq = 0;
            while !stop.load(Ordering::Relaxed) {
                seq += 1;
                if let Some((outcome, latency)) = probe_once(&parts, seq).await {
                    recorder.record("submit_to_offer", &outcome, latency);
                }
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
            recorder
        }
    });
    Probes {
        stop,
        task,
        started: Instant::now(),
    }
}

async fn probe_once(parts: &Parts, seq: u64) -> Option<(Outcome, Duration)> {
    let (resident, lawyer) = (&parts.accounts.probe_resident, &parts.accounts.probe_lawyer);
    let started = Instant::now();
    let submit = parts
        .api
        .http
        .post(parts.api.url("/api/v1/consultations"))
        .bearer_auth(&resident.token)
        .header("Idempotency-Key", Uuid::now_v7().to_string())
        .json(&json!({
            "community_id": parts.district.probe_community,
            "category_code": parts.categories.consultation[0],
            "question": question(seq),
        }));
    let reply = exchange(submit, false).await;
    let Some(case) = id_from_location(reply.location.as_deref()) else {
        return Some((reply.outcome, started.elapsed()));
    };
    loop {
        let list = parts
            .api
            .http
            .get(parts.api.url("/api/v1/staff/offers"))
            .bearer_auth(&lawyer.token);
        let reply = exchange(list, true).await;
        let found = reply
            .body
            .as_deref()
            .and_then(|b| serde_json::from_slice::<ProbeOffers>(b).ok())
            .and_then(|offers| offers.items.into_iter().find(|o| o.case_id == case));
        if let Some(offer) = found {
            let latency = started.elapsed();
            let accept = parts
                .api
                .http
                .post(
                    parts
                        .api
                        .url(&format!("/api/v1/staff/offers/{}/accept", offer.id)),
                )
                .bearer_auth(&lawyer.token);
            exchange(accept, false).await;
            return Some((Outcome::Status(200), latency));
        }
        if started.elapsed() > Duration::from_secs(10) {
            return Some((Outcome::Transport("no_offer_within_10s"), started.elapsed()));
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

impl Probes {
    async fn finish(self) -> Option<OpSummary> {
        self.stop.store(true, Ordering::Relaxed);
        let recorder = self.task.await.ok()?;
        let (total, _) = recorder.snapshot();
        (!total.latency.is_empty()).then(|| total.summary(self.started.elapsed()))
    }
}

/// An intake run at a fixed rate with routing probes alongside, then the
/// submit-to-offer analysis of its submissions.
pub async fn intake_with_route(
    bench: &Bench,
    name: &str,
    rate: f64,
    duration: Duration,
    drain_timeout: Duration,
) -> anyhow::Result<(ScenarioResult, RouteResult)> {
    let from = Utc::now();
    let probes = start_probes(bench);
    let intake = intake::run(bench, name, Pace::Rate(rate), duration).await;
    let end_to_end = probes.finish().await;
    let to = Utc::now();
    let drain_started = Instant::now();
    let unrouted = crate::seed::wait_until_routed(&bench.db, drain_timeout).await?;
    let drain_s = drain_started.elapsed().as_secs_f64();
    let route = analyse(bench, name, from, to, intake.stored_cases).await?;
    Ok((
        intake,
        RouteResult {
            unrouted_after_wait: unrouted,
            drain_s,
            end_to_end,
            ..route
        },
    ))
}

/// Submit-to-offer figures of one service (or of all).
#[derive(Debug, Clone, Serialize)]
pub struct ServiceRoute {
    pub submissions: u64,
    /// ... of which an offer was made (the rest were pooled, or not yet routed).
    pub offered: u64,
    /// `min(offers.created_at) - cases.created_at`, milliseconds.
    pub db_ms: Option<Percentiles>,
}

/// The routing of the cases submitted in a window, from the database.
pub struct Routed {
    pub overall: ServiceRoute,
    /// `consultation`, `mediation`, `tip`.
    pub by_service: BTreeMap<String, ServiceRoute>,
    /// Offers made for those cases (first offers and any later ones).
    pub offers: u64,
    /// When the first of those cases was stored.
    pub first_case_at: Option<DateTime<Utc>>,
    /// When the last of those offers was made.
    pub last_offer_at: Option<DateTime<Utc>>,
}

/// Every case submitted between `from` and `to` (the probe community's
/// excepted): how long each waited for its first offer, per service and
/// overall, in one statement (`GROUPING SETS`).
pub async fn routed(
    bench: &Bench,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> anyhow::Result<Routed> {
    let window = format!(
        "c.created_at >= '{}' AND c.created_at <= '{}' AND c.community_id <> '{}'",
        from.to_rfc3339(),
        to.to_rfc3339(),
        bench.district.probe_community
    );
    let sql = format!(
        "WITH firsts AS (
           SELECT c.id, c.service, c.created_at,
                  extract(epoch FROM min(o.created_at) - c.created_at)::float8 * 1000 AS ms,
                  max(o.created_at) AS last_offer, count(o.id) AS offers
           FROM cases c LEFT JOIN offers o ON o.case_id = c.id
           WHERE {window}
           GROUP BY c.id, c.service, c.created_at
         )
         SELECT service::text AS service,
                count(*)::bigint AS submissions,
                count(ms)::bigint AS offered,
                coalesce(sum(offers), 0)::bigint AS offers,
                extract(epoch FROM min(created_at))::float8 AS first_case,
                extract(epoch FROM max(last_offer))::float8 AS last_offer,
                percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS p50,
                percentile_cont(0.9) WITHIN GROUP (ORDER BY ms) AS p90,
                percentile_cont(0.99) WITHIN GROUP (ORDER BY ms) AS p99,
                max(ms) AS max
         FROM firsts
         GROUP BY GROUPING SETS ((service), ())"
    );
    let rows = bench
        .db
        .query_all_raw(Statement::from_string(DbBackend::Postgres, sql))
        .await?;
    let mut routed = Routed {
        overall: ServiceRoute {
            submissions: 0,
            offered: 0,
            db_ms: None,
        },
        by_service: BTreeMap::new(),
        offers: 0,
        first_case_at: None,
        last_offer_at: None,
    };
    let at = |s: Option<f64>| s.and_then(|s| DateTime::from_timestamp_micros((s * 1e6) as i64));
    for row in rows {
        let offered = row.try_get::<i64>("", "offered")? as u64;
        let figures = ServiceRoute {
            submissions: row.try_get::<i64>("", "submissions")? as u64,
            offered,
            db_ms: if offered > 0 {
                Some(Percentiles {
                    p50: row.try_get("", "p50")?,
                    p90: row.try_get("", "p90")?,
                    p99: row.try_get("", "p99")?,
                    max: row.try_get("", "max")?,
                })
            } else {
                None
            },
        };
        match row.try_get::<Option<String>>("", "service")? {
            Some(service) => {
                routed.by_service.insert(service, figures);
            }
            None => {
                routed.overall = figures;
                routed.offers = row.try_get::<i64>("", "offers")? as u64;
                routed.first_case_at = at(row.try_get("", "first_case")?);
                routed.last_offer_at = at(row.try_get("", "last_offer")?);
            }
        }
    }
    Ok(routed)
}

async fn analyse(
    bench: &Bench,
    source: &str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    stored_cases: u64,
) -> anyhow::Result<RouteResult> {
    let routed = routed(bench, from, to).await?;
    Ok(RouteResult {
        source: source.to_owned(),
        stored_cases,
        submissions: routed.overall.submissions,
        offered: routed.overall.offered,
        unrouted_after_wait: 0,
        drain_s: 0.0,
        db_ms: routed.overall.db_ms,
        by_service: routed.by_service,
        end_to_end: None,
    })
}
