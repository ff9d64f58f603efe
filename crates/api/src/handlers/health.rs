use crate::AppState;
use actix_web::{HttpResponse, get, web};
use sansuo_domain::calendar::{Coverage, china_date};
use serde::Serialize;
use std::time::Duration;
use utoipa::ToSchema;

/// How long readiness waits for the queue's PING. A load balancer's check
/// has a deadline of its own (haproxy's 500 ms in the cluster drill): a
/// Redis that hangs or is reconnecting must read as `unavailable` well
/// within it, not make the whole answer late.
const QUEUE_PING_BUDGET: Duration = Duration::from_millis(250);

#[derive(Serialize, ToSchema)]
pub struct Health {
    #[schema(example = "ok")]
    pub status: &'static str,
}

#[derive(Serialize, ToSchema)]
pub struct Readiness {
    /// `ok` or `unavailable`
    pub database: &'static str,
    /// `ok` or `unavailable`
    pub queue: &'static str,
    /// `ok`, or `degraded` while the queue is unreachable: requests are
    /// served and stored, and routing catches up when the queue is back.
    pub routing: &'static str,
    /// How far ahead the business calendar (holidays for SLA clocks) is
    /// known. A detail, never the verdict: a calendar about to run out warns
    /// here, in `sansuo_calendar_days_left` and in the worker's daily log
    /// line, and the instance stays ready. Absent when the database does not
    /// answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub calendar: Option<CalendarReadiness>,
}

#[derive(Serialize, ToSchema)]
pub struct CalendarReadiness {
    /// The last day of the confirmed (imported, not provisional) calendar,
    /// counting unbroken years from this one; absent when this year has no
    /// confirmed notice.
    #[schema(example = "2026-12-31")]
    pub covered_until: Option<chrono::NaiveDate>,
    /// Days from today (Beijing time) to `covered_until`; 0 when not covered.
    #[schema(example = 29)]
    pub days_left: i64,
    /// How far the calendar reaches counting provisional years (statutory
    /// holidays only) after the confirmed ones.
    pub provisional_until: Option<chrono::NaiveDate>,
    /// Set when fewer than 60 days are left: what to import.
    pub warning: Option<String>,
}

impl From<Coverage> for CalendarReadiness {
    fn from(c: Coverage) -> Self {
        Self {
            covered_until: c.covered_until,
            days_left: c.days_left,
            provisional_until: c.provisional_until,
            warning: c.warning,
        }
    }
}

/// The process is up.
#[utoipa::path(tag = "health", responses((status = 200, body = Health)))]
#[get("/healthz")]
pub async fn healthz() -> web::Json<Health> {
    web::Json(Health { status: "ok" })
}

/// This instance can serve requests: its database answers. The queue
/// (Redis) is a detail, not the verdict: without it every request still
/// works (the database is the system of record) and only routing waits,
/// so a Redis outage shows as `routing: degraded` and a log line, and the
/// load balancer keeps sending traffic.
#[utoipa::path(tag = "health", responses(
    (status = 200, body = Readiness, description = "The database answers (`routing` says whether the queue does)"),
    (status = 503, body = Readiness, description = "The database is unreachable"),
))]
#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let queue_ping = async {
        match tokio::time::timeout(QUEUE_PING_BUDGET, state.queue.ping()).await {
            Ok(answer) => answer.map_err(|e| e.to_string()),
            Err(_) => Err(format!(
                "no answer within {} ms",
                QUEUE_PING_BUDGET.as_millis()
            )),
        }
    };
    let (db, queue) = tokio::join!(state.store.ping(), queue_ping);
    let calendar = match &db {
        Ok(()) => state
            .store
            .catalog()
            .calendar_coverage(china_date(chrono::Utc::now()))
            .await
            .ok()
            .map(CalendarReadiness::from),
        Err(_) => None,
    };
    let word = |ok: bool| if ok { "ok" } else { "unavailable" };
    let body = Readiness {
        database: word(db.is_ok()),
        queue: word(queue.is_ok()),
        routing: if queue.is_ok() { "ok" } else { "degraded" },
        calendar,
    };
    if let Err(e) = &queue {
        tracing::warn!(error = %e, "readiness: queue unavailable, routing degraded (requests still served)");
    }
    match &db {
        Ok(()) => HttpResponse::Ok().json(body),
        Err(e) => {
            tracing::warn!(error = %e, "readiness: database unavailable");
            HttpResponse::ServiceUnavailable().json(body)
        }
    }
}
