//! The Prometheus metrics of one sansuo instance (see README.md).
//!
//! Every series is named `sansuo_…`. Counters count from the start of the
//! process (Prometheus' `rate()` and `increase()` handle restarts); gauges
//! describe the cluster as this instance saw it at its last refresh
//! ([`Snapshot`]), so on a dashboard take their `max` over instances.
//!
//! Label values come from closed sets (an enum, a route pattern, a status
//! code, a queue name), never from data: no ids, no text.

use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use std::sync::LazyLock;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

/// The content type of [`render`]'s output.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// How an offer (or a pool claim) ended.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq, EncodeLabelValue)]
#[allow(non_camel_case_types)]
pub enum OfferOutcome {
    /// An offer was made to someone.
    offered,
    accepted,
    declined,
    /// Nobody answered before the deadline.
    expired,
    /// Taken from the pool by a lawyer (no offer to answer).
    claimed,
}

/// What became of a new case handed to the instance that stored it for
/// routing there and then (`worker::inline`).
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq, EncodeLabelValue)]
#[allow(non_camel_case_types)]
pub enum InlineRouting {
    /// Routed in the request's instance.
    routed,
    /// Too many waiting: left to the routers.
    skipped,
    /// Routing failed there (the database busy, say): left to the routers.
    failed,
}

/// What became of one attempt to send a subscribe message.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq, EncodeLabelValue)]
#[allow(non_camel_case_types)]
pub enum NotificationResult {
    sent,
    /// A transient failure; the message is tried again.
    retried,
    /// Given up after its last attempt or on a hopeless error.
    dead,
    /// The resident had no subscription credit left.
    no_credit,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HttpLabels {
    method: &'static str,
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OfferLabels {
    outcome: OfferOutcome,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct InlineLabels {
    result: InlineRouting,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ClockLabels {
    clock: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct NotificationLabels {
    result: NotificationResult,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct QueueLabels {
    queue: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct QueueStateLabels {
    queue: String,
    state: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PoolLabels {
    state: &'static str,
}

type Seconds = Gauge<f64, AtomicU64>;

fn latency_histogram() -> Histogram {
    // 5 ms to 10 s: a health check to a slow photo upload.
    Histogram::new([
        0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
    ])
}

struct Metrics {
    registry: Registry,
    http: Family<HttpLabels, Histogram, fn() -> Histogram>,
    offers: Family<OfferLabels, Counter>,
    inline_routings: Family<InlineLabels, Counter>,
    sla_breaches: Family<ClockLabels, Counter>,
    unrouted: Counter,
    notifications: Family<NotificationLabels, Counter>,
    leases_released: Counter,
    queue_jobs: Family<QueueStateLabels, Gauge>,
    queue_oldest_due: Family<QueueLabels, Seconds>,
    outbox_unpublished: Gauge,
    outbox_oldest: Seconds,
    unrouted_cases: Gauge,
    pool: Family<PoolLabels, Gauge>,
    pool_max: Gauge,
    calendar_days_left: Gauge,
    refresh_failures: Counter,
}

static METRICS: LazyLock<Metrics> = LazyLock::new(|| {
    let mut registry = Registry::with_prefix("sansuo");
    let m = Metrics {
        http: Family::new_with_constructor(latency_histogram),
        offers: Family::default(),
        inline_routings: Family::default(),
        sla_breaches: Family::default(),
        unrouted: Counter::default(),
        notifications: Family::default(),
        leases_released: Counter::default(),
        queue_jobs: Family::default(),
        queue_oldest_due: Family::default(),
        outbox_unpublished: Gauge::default(),
        outbox_oldest: Seconds::default(),
        unrouted_cases: Gauge::default(),
        pool: Family::default(),
        pool_max: Gauge::default(),
        calendar_days_left: Gauge::default(),
        refresh_failures: Counter::default(),
        registry: Registry::default(),
    };
    registry.register(
        "http_request_duration_seconds",
        "HTTP requests by method, route pattern and status, and how long they took",
        m.http.clone(),
    );
    registry.register(
        "offers",
        "Offers made and how they ended (accepted, declined, expired), and pool claims",
        m.offers.clone(),
    );
    registry.register(
        "inline_routings",
        "New cases routed in the instance that stored them, or left to the routers (skipped, failed)",
        m.inline_routings.clone(),
    );
    registry.register(
        "sla_breaches",
        "Response-time clocks that ran out, by clock",
        m.sla_breaches.clone(),
    );
    registry.register(
        "cases_unrouted",
        "Cases the router could not place, handed to the coordinators",
        m.unrouted.clone(),
    );
    registry.register(
        "notifications",
        "Subscribe-message send attempts by result (retried, dead and no_credit are failures)",
        m.notifications.clone(),
    );
    registry.register(
        "job_leases_released",
        "Job leases given back at shutdown so another instance runs the job at once",
        m.leases_released.clone(),
    );
    registry.register(
        "queue_jobs",
        "Jobs in a work queue by state (due, scheduled, leased)",
        m.queue_jobs.clone(),
    );
    registry.register(
        "queue_oldest_due_seconds",
        "How long the oldest due job of a queue has been waiting for a router (0: none)",
        m.queue_oldest_due.clone(),
    );
    registry.register(
        "outbox_unpublished",
        "Outbox rows committed but not yet relayed to the queue",
        m.outbox_unpublished.clone(),
    );
    registry.register(
        "outbox_lag_seconds",
        "Age of the oldest outbox row not yet relayed (0: none)",
        m.outbox_oldest.clone(),
    );
    registry.register(
        "unrouted_cases",
        "Cases waiting in the coordinators' unrouted queue",
        m.unrouted_cases.clone(),
    );
    registry.register(
        "db_pool_connections",
        "This instance's database connections by state (in_use, idle)",
        m.pool.clone(),
    );
    registry.register(
        "db_pool_max_connections",
        "The most connections this instance's pool opens",
        m.pool_max.clone(),
    );
    registry.register(
        "calendar_days_left",
        "Days until the confirmed business calendar (imported holiday notices) runs out; alert under 60",
        m.calendar_days_left.clone(),
    );
    registry.register(
        "metrics_refresh_failures",
        "Scrapes whose gauges could not be refreshed (database or queue unreachable); the gauges keep their last values",
        m.refresh_failures.clone(),
    );
    Metrics { registry, ..m }
});

/// A method label from a closed set.
fn method_label(method: &str) -> &'static str {
    match method {
        "GET" => "GET",
        "POST" => "POST",
        "PUT" => "PUT",
        "PATCH" => "PATCH",
        "DELETE" => "DELETE",
        "HEAD" => "HEAD",
        "OPTIONS" => "OPTIONS",
        _ => "other",
    }
}

/// One HTTP request: `route` is the matched route's pattern (e.g.
/// `/api/v1/consultations/{id}`), or `None` when no route matched (then
/// the label is `unmatched`: a raw path would put ids in the label).
pub fn http_request(method: &str, route: Option<&str>, status: u16, elapsed: Duration) {
    METRICS
        .http
        .get_or_create(&HttpLabels {
            method: method_label(method),
            route: route.unwrap_or("unmatched").to_owned(),
            status,
        })
        .observe(elapsed.as_secs_f64());
}

pub fn offer(outcome: OfferOutcome) {
    METRICS.offers.get_or_create(&OfferLabels { outcome }).inc();
}

pub fn inline_routing(result: InlineRouting) {
    METRICS
        .inline_routings
        .get_or_create(&InlineLabels { result })
        .inc();
}

/// A response-time clock ran out (`clock` is the SLA clock's name).
pub fn sla_breach(clock: &str) {
    METRICS
        .sla_breaches
        .get_or_create(&ClockLabels {
            clock: clock.to_owned(),
        })
        .inc();
}

pub fn case_unrouted() {
    METRICS.unrouted.inc();
}

pub fn notification(result: NotificationResult) {
    METRICS
        .notifications
        .get_or_create(&NotificationLabels { result })
        .inc();
}

pub fn leases_released(count: u64) {
    METRICS.leases_released.inc_by(count);
}

/// One queue as its backend counts it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct QueueGauge {
    pub queue: String,
    pub due: u64,
    pub scheduled: u64,
    pub leased: u64,
    pub oldest_due: Option<Duration>,
}

/// The database connection pool of this instance.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PoolGauge {
    pub in_use: u32,
    pub idle: u32,
    pub max: u32,
}

/// What the server reads from the queue and the database when scraped.
/// Each part is optional: what could not be read keeps its last value.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Snapshot {
    pub queues: Vec<QueueGauge>,
    /// Rows not yet relayed, and the age of the oldest.
    pub outbox: Option<(u64, Option<Duration>)>,
    pub unrouted_cases: Option<u64>,
    pub pool: Option<PoolGauge>,
    /// Days left in the confirmed business calendar (`domain::calendar::coverage`).
    pub calendar_days_left: Option<i64>,
}

fn int(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// Set the gauges from a fresh snapshot.
pub fn set(snapshot: &Snapshot) {
    let m = &*METRICS;
    for q in &snapshot.queues {
        for (state, value) in [
            ("due", q.due),
            ("scheduled", q.scheduled),
            ("leased", q.leased),
        ] {
            m.queue_jobs
                .get_or_create(&QueueStateLabels {
                    queue: q.queue.clone(),
                    state,
                })
                .set(int(value));
        }
        m.queue_oldest_due
            .get_or_create(&QueueLabels {
                queue: q.queue.clone(),
            })
            .set(q.oldest_due.unwrap_or_default().as_secs_f64());
    }
    if let Some((rows, oldest)) = snapshot.outbox {
        m.outbox_unpublished.set(int(rows));
        m.outbox_oldest
            .set(oldest.unwrap_or_default().as_secs_f64());
    }
    if let Some(n) = snapshot.unrouted_cases {
        m.unrouted_cases.set(int(n));
    }
    if let Some(pool) = snapshot.pool {
        m.pool
            .get_or_create(&PoolLabels { state: "in_use" })
            .set(i64::from(pool.in_use));
        m.pool
            .get_or_create(&PoolLabels { state: "idle" })
            .set(i64::from(pool.idle));
        m.pool_max.set(i64::from(pool.max));
    }
    if let Some(days) = snapshot.calendar_days_left {
        m.calendar_days_left.set(days);
    }
}

/// A refresh could not read something (the gauges keep their last values).
pub fn refresh_failed() {
    METRICS.refresh_failures.inc();
}

/// The OpenMetrics text exposition of every series.
pub fn render() -> String {
    let mut out = String::new();
    prometheus_client::encoding::text::encode(&mut out, &METRICS.registry)
        .expect("writing to a String cannot fail");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn series_carry_patterns_and_closed_labels() {
        http_request(
            "GET",
            Some("/api/v1/consultations/{id}"),
            200,
            Duration::from_millis(3),
        );
        http_request("BREW", None, 404, Duration::from_millis(1));
        offer(OfferOutcome::accepted);
        sla_breach("first_response");
        notification(NotificationResult::dead);
        set(&Snapshot {
            queues: vec![QueueGauge {
                queue: "routing".into(),
                due: 2,
                scheduled: 1,
                leased: 0,
                oldest_due: Some(Duration::from_millis(1500)),
            }],
            outbox: Some((4, Some(Duration::from_secs(2)))),
            unrouted_cases: Some(1),
            pool: Some(PoolGauge {
                in_use: 3,
                idle: 2,
                max: 10,
            }),
            calendar_days_left: Some(29),
        });
        let text = render();
        for line in [
            r#"sansuo_http_request_duration_seconds_count{method="GET",route="/api/v1/consultations/{id}",status="200"} 1"#,
            r#"sansuo_http_request_duration_seconds_count{method="other",route="unmatched",status="404"} 1"#,
            r#"sansuo_offers_total{outcome="accepted"} 1"#,
            r#"sansuo_sla_breaches_total{clock="first_response"} 1"#,
            r#"sansuo_notifications_total{result="dead"} 1"#,
            r#"sansuo_queue_jobs{queue="routing",state="due"} 2"#,
            r#"sansuo_queue_oldest_due_seconds{queue="routing"} 1.5"#,
            "sansuo_outbox_unpublished 4",
            "sansuo_outbox_lag_seconds 2.0",
            "sansuo_unrouted_cases 1",
            r#"sansuo_db_pool_connections{state="in_use"} 3"#,
            "sansuo_db_pool_max_connections 10",
            "sansuo_calendar_days_left 29",
        ] {
            assert!(text.contains(line), "missing {line} in\n{text}");
        }
        assert!(text.ends_with("# EOF\n"));
    }

    /// Every series the Grafana dashboard (and the deploy README) names is
    /// one this crate writes: a renamed series fails here, not on a blank
    /// panel in production.
    #[test]
    fn the_dashboard_and_the_readme_name_only_series_that_exist() {
        http_request("GET", Some("/healthz"), 200, Duration::from_millis(1));
        offer(OfferOutcome::offered);
        sla_breach("first_response");
        case_unrouted();
        notification(NotificationResult::sent);
        leases_released(0);
        set(&Snapshot {
            queues: vec![QueueGauge {
                queue: "routing".into(),
                ..QueueGauge::default()
            }],
            outbox: Some((0, None)),
            unrouted_cases: Some(0),
            pool: Some(PoolGauge::default()),
            calendar_days_left: Some(0),
        });
        let text = render();
        let written: std::collections::BTreeSet<&str> = text
            .lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| l.split(['{', ' ']).next())
            .collect();
        for (file, source) in [
            (
                "deploy/grafana/sansuo.json",
                include_str!("../../../deploy/grafana/sansuo.json"),
            ),
            (
                "deploy/README.md",
                include_str!("../../../deploy/README.md"),
            ),
        ] {
            let named: std::collections::BTreeSet<&str> = source
                .match_indices("sansuo_")
                .map(|(at, _)| {
                    let rest = &source[at..];
                    let end = rest
                        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                        .unwrap_or(rest.len());
                    &rest[..end]
                })
                .collect();
            assert!(named.len() >= 8, "{file} names {named:?}");
            for name in named {
                let found = written.contains(name)
                    || ["_bucket", "_count", "_sum"]
                        .iter()
                        .any(|suffix| written.contains(format!("{name}{suffix}").as_str()));
                assert!(found, "{file} names {name}, which is not written:\n{text}");
            }
        }
    }
}
