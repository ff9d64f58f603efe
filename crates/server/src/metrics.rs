//! `/metrics`: the Prometheus exposition of `sansuo-metrics`, and the
//! middleware that times every request by its route pattern.
//!
//! Who may read it is `config::MetricsExposure`: off in production until
//! `SANSUO_METRICS_ADDR` (a listener of its own) or `SANSUO_METRICS_TOKEN`
//! (a bearer token) is set. It is outside `/api/v1` and outside the OpenAPI
//! document on purpose: it is for the operator's Prometheus, not for
//! clients, and its series are described in deploy/README.md.
//!
//! The gauges that need the queue or the database (queue depth, oldest due
//! job, outbox lag, unrouted cases) are read when scraped, with indexed
//! queries and at most once per [`MIN_REFRESH`] however often anyone
//! scrapes; a read that fails or takes longer than [`READ_TIMEOUT`] keeps the
//! last value and counts `sansuo_metrics_refresh_failures_total`.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use chrono::Utc;
use sansuo_api::{ApiError, ErrorCode};
use sansuo_metrics::{PoolGauge, QueueGauge, Snapshot};
use sansuo_queue::SharedQueue;
use sansuo_store::Store;
use sansuo_worker::{REBUILD_QUEUE, ROUTING_QUEUE};
use secrecy::{ExposeSecret, SecretString};
use std::sync::Arc;
use std::time::{Duration, Instant};
use subtle::ConstantTimeEq;
use tokio::time::timeout;

/// Scrapes closer together than this share one refresh of the gauges.
pub const MIN_REFRESH: Duration = Duration::from_secs(2);
/// The longest a scrape waits for one read of the queue or the database.
pub const READ_TIMEOUT: Duration = Duration::from_secs(2);

/// Time every request and count it by method, route pattern and status.
/// The pattern is the route table's (`/api/v1/consultations/{id}`), never
/// the path: an id in a label would make a series per case.
pub async fn track(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let method = req.method().clone();
    let route = req.match_pattern();
    let result = next.call(req).await;
    let status = match &result {
        Ok(response) => response.status(),
        Err(err) => err.as_response_error().status_code(),
    };
    sansuo_metrics::http_request(
        method.as_str(),
        route.as_deref(),
        status.as_u16(),
        started.elapsed(),
    );
    result
}

/// What the scrape handler needs.
#[derive(Clone)]
pub struct MetricsState {
    store: Store,
    queue: SharedQueue,
    token: Option<SecretString>,
    last_refresh: Arc<tokio::sync::Mutex<Option<Instant>>>,
}

impl MetricsState {
    pub fn new(store: Store, queue: SharedQueue, token: Option<SecretString>) -> Self {
        Self {
            store,
            queue,
            token,
            last_refresh: Arc::default(),
        }
    }

    /// Whether the request carries the token (when one is configured),
    /// compared in constant time.
    fn admits(&self, req: &HttpRequest) -> bool {
        let Some(token) = &self.token else {
            return true;
        };
        let sent = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or("");
        bool::from(sent.as_bytes().ct_eq(token.expose_secret().as_bytes()))
    }

    /// Read the gauges' sources, unless another scrape just did.
    async fn refresh(&self) {
        let mut last = self.last_refresh.lock().await;
        if last.is_some_and(|at| at.elapsed() < MIN_REFRESH) {
            return;
        }
        *last = Some(Instant::now());
        let mut failed = false;
        let mut snapshot = Snapshot::default();
        for queue in [ROUTING_QUEUE, REBUILD_QUEUE] {
            let read = async {
                let stats = self.queue.stats(queue).await?;
                let oldest = self.queue.oldest_due(queue).await?;
                Ok::<_, sansuo_queue::QueueError>((stats, oldest))
            };
            match timeout(READ_TIMEOUT, read).await {
                Ok(Ok((stats, oldest_due))) => snapshot.queues.push(QueueGauge {
                    queue: queue.to_owned(),
                    due: stats.due,
                    scheduled: stats.scheduled,
                    leased: stats.leased,
                    oldest_due,
                }),
                _ => failed = true,
            }
        }
        match timeout(READ_TIMEOUT, self.store.outbox().lag()).await {
            Ok(Ok((rows, oldest))) => {
                let age = oldest.map(|at| (Utc::now() - at).to_std().unwrap_or_default());
                snapshot.outbox = Some((rows, age));
            }
            _ => failed = true,
        }
        match timeout(READ_TIMEOUT, self.store.routing().unrouted_count()).await {
            Ok(Ok(count)) => snapshot.unrouted_cases = Some(count),
            _ => failed = true,
        }
        let today = sansuo_domain::calendar::china_date(Utc::now());
        match timeout(READ_TIMEOUT, self.store.catalog().calendar_coverage(today)).await {
            Ok(Ok(coverage)) => snapshot.calendar_days_left = Some(coverage.days_left),
            _ => failed = true,
        }
        let pool = self.store.pool_use();
        snapshot.pool = Some(PoolGauge {
            in_use: pool.in_use,
            idle: pool.idle,
            max: pool.max,
        });
        sansuo_metrics::set(&snapshot);
        if failed {
            sansuo_metrics::refresh_failed();
        }
    }
}

/// `GET /metrics`.
pub async fn scrape(req: HttpRequest, state: web::Data<MetricsState>) -> HttpResponse {
    if !state.admits(&req) {
        let mut response = ApiError::new(
            ErrorCode::Unauthenticated,
            "send `Authorization: Bearer <SANSUO_METRICS_TOKEN>`",
        )
        .error_response();
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            header::HeaderValue::from_static("Bearer"),
        );
        return response;
    }
    state.refresh().await;
    HttpResponse::Ok()
        .content_type(sansuo_metrics::CONTENT_TYPE)
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(sansuo_metrics::render())
}

/// Mount `GET /metrics` with its state.
pub fn mount(cfg: &mut web::ServiceConfig, state: MetricsState) {
    cfg.app_data(web::Data::new(state))
        .route("/metrics", web::get().to(scrape));
}
