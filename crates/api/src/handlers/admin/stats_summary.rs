use super::ensure_within;
use crate::extract::AdminAuth;
use crate::{ApiError, AppState, ErrorBody};
use actix_web::{get, web};
use chrono::{DateTime, Utc};
use sansuo_domain::ValidationError;
use sansuo_domain::catalog::Service;
use sansuo_domain::stats::{CaseCounts, DurationSummary, Satisfaction, ServiceCounts, TipOutcome};
use sansuo_store::stats::{OfferCounts, SlaBreachCounts, StaffCases, SummaryStats};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// The longest period one report covers.
const MAX_DAYS: i64 = 366;

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SummaryStatsQuery {
    /// The unit whose subtree is reported; must be inside the caller's.
    pub org_unit_id: Uuid,
    /// Start of the period (inclusive), RFC 3339.
    pub from: DateTime<Utc>,
    /// End of the period (exclusive), RFC 3339; after `from` and at most 366 days later.
    pub to: DateTime<Utc>,
}

/// What happened in one subtree during `[from, to)`. Offers and SLA
/// breaches count when they happened in the period (for cases of the
/// subtree's communities); durations and the per-service, per-category,
/// per-staff and per-status counts, ratings and tip outcomes are of the
/// cases (of every service) created in the period, by where they stand now.
/// No resident data.
#[derive(Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SummaryStatsView {
    pub org_unit_id: Uuid,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub offers: OfferCountsView,
    /// `accepted_at − created_at` of cases accepted (or claimed).
    pub time_to_accept: DurationStatsView,
    /// `answered_at − accepted_at` of cases answered.
    pub time_to_first_response: DurationStatsView,
    pub sla_breaches: SlaBreachCountsView,
    /// Cases created in the period, every service: the sum of `by_service`'s totals.
    pub cases: u64,
    /// Of those, the ones that reached their service's successful outcome:
    /// a consultation answered (`answered`, `resolved`, `closed`), a
    /// mediation with an agreement (`agreed`, or `closed` after one), a tip
    /// closed after action was taken.
    pub resolved: u64,
    /// Each service's cases: total, resolved and every status.
    pub by_service: ByServiceView,
    /// Most cases first.
    pub by_category: Vec<CategoryCountView>,
    /// By current owner (any service), most cases first.
    pub by_staff: Vec<StaffCountView>,
    /// Every status of every service (consultation, mediation, tip, each in
    /// its machine's order), zeros included, by where the cases stand now;
    /// sums to `cases`.
    pub by_status: Vec<StatusCountView>,
    /// The residents' ratings of the period's consultations.
    pub consultation_satisfaction: SatisfactionView,
    /// Where the period's tips that have ended ended.
    pub tip_outcomes: TipOutcomesView,
}

/// The cases of each service.
#[derive(Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ByServiceView {
    pub consultation: ServiceStatsView,
    pub mediation: ServiceStatsView,
    pub tip: ServiceStatsView,
}

/// The cases of one service created in the period.
#[derive(Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ServiceStatsView {
    pub total: u64,
    /// Reached the service's successful outcome (see `resolved` above).
    pub resolved: u64,
    /// Every status of the service, in its machine's order, zeros included.
    pub by_status: Vec<StatusCountView>,
}

/// Consultation ratings (1 to 5 stars).
#[derive(Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SatisfactionView {
    /// Consultations rated.
    pub rated: u64,
    /// The mean of their stars; `null` with no rating.
    pub average_stars: Option<f64>,
}

/// The period's tips that have ended, by outcome.
#[derive(Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TipOutcomesView {
    /// Tips that have ended (closed, unfounded, referred, duplicate or
    /// converted): the denominator of every rate.
    pub ended: u64,
    /// Every outcome, zeros included: `closed_with_action`,
    /// `closed_without_action`, `unfounded`, `referred`, `duplicate`, `converted`.
    pub outcomes: Vec<TipOutcomeView>,
}

#[derive(Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TipOutcomeView {
    #[schema(example = "closed_with_action")]
    pub outcome: String,
    pub tips: u64,
    /// `tips / ended` (0 to 1); `null` while no tip has ended.
    pub rate: Option<f64>,
}

/// Offers made in the period, by what became of them.
#[derive(Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct OfferCountsView {
    /// Every offer made: the sum of the five outcomes below (hand-backs are not offers).
    pub created: u64,
    /// Still waiting for the lawyer's answer.
    pub pending: u64,
    pub accepted: u64,
    pub declined: u64,
    /// Timed out unanswered.
    pub expired: u64,
    /// Void because the case was withdrawn or reassigned meanwhile.
    pub cancelled: u64,
    /// Hand-backs (退单): an owner returned the case to the queue.
    pub returned: u64,
}

/// Nearest-rank percentiles: every figure is a duration some case really took.
#[derive(Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DurationStatsView {
    pub count: u64,
    /// `null` without data. For an even count, the lower middle value.
    pub median_secs: Option<i64>,
    /// `null` without data.
    pub p90_secs: Option<i64>,
}

/// SLA breaches recorded in the period, by clock.
#[derive(Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SlaBreachCountsView {
    pub accept: u64,
    pub first_response: u64,
    pub resolution: u64,
}

#[derive(Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CategoryCountView {
    #[schema(example = "LJ01")]
    pub category_code: String,
    pub cases: u64,
}

#[derive(Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct StaffCountView {
    pub staff_id: Uuid,
    #[schema(example = "张律师")]
    pub display_name: String,
    pub cases: u64,
    /// Of those, the ones that reached their service's successful outcome.
    pub resolved: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct StatusCountView {
    /// `consultation`, `mediation` or `tip`: the same word (`closed`) is a
    /// status of more than one service.
    #[schema(example = "consultation")]
    pub service: String,
    #[schema(example = "assigned")]
    pub status: String,
    pub cases: u64,
}

impl From<&ServiceCounts> for ServiceStatsView {
    fn from(c: &ServiceCounts) -> Self {
        Self {
            total: c.total,
            resolved: c.resolved,
            by_status: status_views(c),
        }
    }
}

fn status_views(c: &ServiceCounts) -> Vec<StatusCountView> {
    c.by_status
        .iter()
        .map(|(status, cases)| StatusCountView {
            service: c.service.as_str().to_owned(),
            status: status.as_str().to_owned(),
            cases: *cases,
        })
        .collect()
}

impl From<&CaseCounts> for ByServiceView {
    fn from(c: &CaseCounts) -> Self {
        let of = |service| {
            c.of(service)
                .map(ServiceStatsView::from)
                .unwrap_or_else(|| (&ServiceCounts::new(service)).into())
        };
        Self {
            consultation: of(Service::Consultation),
            mediation: of(Service::Mediation),
            tip: of(Service::Tip),
        }
    }
}

impl From<Satisfaction> for SatisfactionView {
    fn from(s: Satisfaction) -> Self {
        Self {
            rated: s.rated,
            average_stars: s.average_stars,
        }
    }
}

impl From<&CaseCounts> for TipOutcomesView {
    fn from(c: &CaseCounts) -> Self {
        let t = &c.tip_outcomes;
        Self {
            ended: t.ended(),
            outcomes: TipOutcome::ALL
                .into_iter()
                .map(|o| TipOutcomeView {
                    outcome: o.as_str().to_owned(),
                    tips: t.count(o),
                    rate: t.rate(o),
                })
                .collect(),
        }
    }
}

impl From<OfferCounts> for OfferCountsView {
    fn from(o: OfferCounts) -> Self {
        Self {
            created: o.created,
            pending: o.pending,
            accepted: o.accepted,
            declined: o.declined,
            expired: o.expired,
            cancelled: o.cancelled,
            returned: o.returned,
        }
    }
}

impl From<DurationSummary> for DurationStatsView {
    fn from(d: DurationSummary) -> Self {
        Self {
            count: d.count,
            median_secs: d.median_secs,
            p90_secs: d.p90_secs,
        }
    }
}

impl From<SlaBreachCounts> for SlaBreachCountsView {
    fn from(b: SlaBreachCounts) -> Self {
        Self {
            accept: b.accept,
            first_response: b.first_response,
            resolution: b.resolution,
        }
    }
}

impl From<StaffCases> for StaffCountView {
    fn from(s: StaffCases) -> Self {
        Self {
            staff_id: s.staff_id,
            display_name: s.display_name,
            cases: s.cases,
            resolved: s.resolved,
        }
    }
}

impl SummaryStatsView {
    fn new(query: &SummaryStatsQuery, stats: SummaryStats) -> Self {
        Self {
            org_unit_id: query.org_unit_id,
            from: query.from,
            to: query.to,
            offers: stats.offers.into(),
            time_to_accept: stats.time_to_accept.into(),
            time_to_first_response: stats.time_to_first_response.into(),
            sla_breaches: stats.sla_breaches.into(),
            cases: stats.cases.total(),
            resolved: stats.cases.resolved(),
            by_service: (&stats.cases).into(),
            by_status: stats.cases.services.iter().flat_map(status_views).collect(),
            consultation_satisfaction: stats.consultation_satisfaction.into(),
            tip_outcomes: (&stats.cases).into(),
            by_category: stats
                .by_category
                .into_iter()
                .map(|(category_code, cases)| CategoryCountView {
                    category_code,
                    cases,
                })
                .collect(),
            by_staff: stats.by_staff.into_iter().map(Into::into).collect(),
        }
    }
}

/// Cumulative figures for a unit and everything below it over a period:
/// offers by outcome, time to accept and to first response (median, p90),
/// SLA breaches, cases of every service (totals, resolved, statuses),
/// cases per category and staff member, consultation satisfaction and tip
/// outcome rates.
#[utoipa::path(tag = "admin", security(("bearer" = [])), params(SummaryStatsQuery), responses(
    (status = 200, body = SummaryStatsView),
    (status = 400, body = ErrorBody, description = "`bad_parameter`"),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody, description = "`forbidden`: not a coordinator or administrator"),
    (status = 404, body = ErrorBody, description = "`org_unit_not_found`"),
    (status = 422, body = ErrorBody, description = "`validation_failed`: the period is empty or longer than 366 days"),
))]
#[get("/admin/stats/summary")]
pub async fn stats_summary(
    state: web::Data<AppState>,
    admin: AdminAuth,
    query: web::Query<SummaryStatsQuery>,
) -> Result<web::Json<SummaryStatsView>, ApiError> {
    let span = query.to - query.from;
    if span <= chrono::Duration::zero() || span > chrono::Duration::days(MAX_DAYS) {
        return Err(ValidationError::new(
            "to",
            format!("must be after from and at most {MAX_DAYS} days later"),
        )
        .into());
    }
    ensure_within(&state, &admin, query.org_unit_id.into()).await?;
    let stats = state
        .store
        .stats()
        .summary(query.org_unit_id.into(), query.from, query.to)
        .await?;
    Ok(web::Json(SummaryStatsView::new(&query, stats)))
}
