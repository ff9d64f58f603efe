use super::ensure_within;
use crate::extract::AdminAuth;
use crate::{ApiError, AppState, ErrorBody};
use actix_web::{get, web};
use chrono::{DateTime, Utc};
use sansuo_domain::catalog::Service;
use sansuo_store::stats::{LiveStats, QueueStats, RoleStaffing};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct LiveStatsQuery {
    /// The unit whose subtree is reported; must be inside the caller's.
    pub org_unit_id: Uuid,
}

/// Routing right now in one subtree. No resident data.
#[derive(Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct LiveStatsView {
    pub org_unit_id: Uuid,
    /// The moment the figures describe.
    pub as_of: DateTime<Utc>,
    /// Queues of units in the subtree with cases waiting, longest wait first.
    pub queues: Vec<QueueView>,
    pub counts: LiveCountsView,
    /// Every role, zeros included.
    pub staff: Vec<RoleStaffingView>,
}

/// The cases waiting for an owner in one unit's queue (`pooled`, not with the coordinator).
#[derive(Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct QueueView {
    pub org_unit_id: Uuid,
    #[schema(example = "欧阳路街道")]
    pub org_unit_name: String,
    pub waiting: u64,
    /// Highest priority first.
    pub by_priority: Vec<PriorityWaitingView>,
    /// Seconds since the longest-waiting case joined the queue.
    pub longest_wait_secs: Option<i64>,
    pub oldest_queued_at: Option<DateTime<Utc>>,
}

#[derive(Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PriorityWaitingView {
    pub priority: i32,
    pub waiting: u64,
}

/// Cases of the subtree's communities.
#[derive(Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct LiveCountsView {
    /// Offers waiting for the lawyer's answer.
    pub open_offers: u64,
    /// Past the last step of their ladder: waiting for a coordinator.
    pub unrouted_cases: u64,
    /// In their owner's hands, every service: taken and not finished (a
    /// consultation `assigned` or `answered`; a mediation `accepted`,
    /// `scheduled` or `heard`; a tip `acknowledged`, `valid`, `verifying`
    /// or `actioned`).
    pub owned_cases: u64,
    /// `owned_cases` by service.
    pub owned_by_service: OwnedByServiceView,
}

#[derive(Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct OwnedByServiceView {
    pub consultation: u64,
    pub mediation: u64,
    pub tip: u64,
}

/// Active staff of one role in the subtree (home unit, unit membership, or
/// for lawyers a firm signed to one of its units).
#[derive(Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RoleStaffingView {
    /// `lawyer`, `mediator`, `officer`, `coordinator` or `admin`.
    #[schema(example = "lawyer")]
    pub role: String,
    pub active: u64,
    /// Active and with presence `available`.
    pub available: u64,
    /// Available with fewer open cases than their capacity: could take one now.
    pub available_below_capacity: u64,
    /// Cases of the subtree's communities in the hands of staff of this
    /// role (as `owned_cases`), wherever those staff are homed.
    pub owned_cases: u64,
}

impl QueueView {
    fn new(queue: QueueStats, now: DateTime<Utc>) -> Self {
        Self {
            org_unit_id: queue.unit_id,
            waiting: queue.waiting(),
            org_unit_name: queue.unit_name,
            by_priority: queue
                .by_priority
                .into_iter()
                .map(|l| PriorityWaitingView {
                    priority: l.priority,
                    waiting: l.waiting,
                })
                .collect(),
            longest_wait_secs: queue
                .oldest_queued_at
                .map(|at| (now - at).num_seconds().max(0)),
            oldest_queued_at: queue.oldest_queued_at,
        }
    }
}

impl From<RoleStaffing> for RoleStaffingView {
    fn from(s: RoleStaffing) -> Self {
        Self {
            role: s.role.as_str().to_owned(),
            active: s.active,
            available: s.available,
            available_below_capacity: s.available_below_capacity,
            owned_cases: s.owned_cases,
        }
    }
}

impl LiveStatsView {
    fn new(unit: Uuid, stats: LiveStats, now: DateTime<Utc>) -> Self {
        Self {
            org_unit_id: unit,
            as_of: now,
            queues: stats
                .queues
                .into_iter()
                .map(|q| QueueView::new(q, now))
                .collect(),
            counts: LiveCountsView {
                open_offers: stats.open_offers,
                unrouted_cases: stats.unrouted_cases,
                owned_cases: stats.owned_cases,
                owned_by_service: {
                    let of = |service| {
                        stats
                            .owned_by_service
                            .iter()
                            .find(|(s, _)| *s == service)
                            .map_or(0, |(_, n)| *n)
                    };
                    OwnedByServiceView {
                        consultation: of(Service::Consultation),
                        mediation: of(Service::Mediation),
                        tip: of(Service::Tip),
                    }
                },
            },
            staff: stats.staff.into_iter().map(Into::into).collect(),
        }
    }
}

/// Real-time routing figures for a unit and everything below it: queues,
/// open offers, unrouted and owned cases (every service, by service and by
/// the owners' role), and who could take a case now.
#[utoipa::path(tag = "admin", security(("bearer" = [])), params(LiveStatsQuery), responses(
    (status = 200, body = LiveStatsView),
    (status = 400, body = ErrorBody, description = "`bad_parameter`"),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody, description = "`forbidden`: not a coordinator or administrator"),
    (status = 404, body = ErrorBody, description = "`org_unit_not_found`"),
))]
#[get("/admin/stats/live")]
pub async fn stats_live(
    state: web::Data<AppState>,
    admin: AdminAuth,
    query: web::Query<LiveStatsQuery>,
) -> Result<web::Json<LiveStatsView>, ApiError> {
    ensure_within(&state, &admin, query.org_unit_id.into()).await?;
    let stats = state.store.stats().live(query.org_unit_id.into()).await?;
    // Read after the queries, so every queue time seen lies in the past
    // (other instances' clocks aside: `QueueView` clamps at zero).
    let now = Utc::now();
    Ok(web::Json(LiveStatsView::new(query.org_unit_id, stats, now)))
}
