use super::ensure_within;
use crate::extract::AdminAuth;
use crate::report_files::{self, ReportFormat, XlsxFile};
use crate::{ApiError, AppState, ErrorBody};
use actix_web::{HttpResponse, get, web};
use chrono::{DateTime, Utc};
use sansuo_domain::ValidationError;
use sansuo_domain::catalog::Service;
use sansuo_domain::report::{ReportTable, shanghai_compact_date, shanghai_minute};
use sansuo_domain::stats::{
    CaseCounts, DurationSummary, Satisfaction, ServiceCounts, TipOutcome, service_label_zh,
    status_label_zh, success_rate,
};
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
    /// `json` (the default), `csv` or `xlsx`: the same figures as a file.
    #[param(inline)]
    pub format: Option<ReportFormat>,
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
    /// `resolved / cases` (0 to 1); `null` without cases.
    pub success_rate: Option<f64>,
    /// Each service's cases: total, resolved and every status.
    pub by_service: ByServiceView,
    /// Most cases first.
    pub by_category: Vec<CategoryCountView>,
    /// How the cases came in: every channel (`app`, `open311`,
    /// `in_person`, `converted`), zeros included; sums to `cases`.
    pub by_channel: Vec<ChannelCountView>,
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
    /// `resolved / total` (0 to 1); `null` without cases.
    pub success_rate: Option<f64>,
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
    /// The category's Chinese name (the code for a category no longer in the catalogue).
    #[schema(example = "劳动争议")]
    pub category_name: String,
    pub cases: u64,
}

/// The period's cases that came in through one channel.
#[derive(Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ChannelCountView {
    /// `app`: a resident in the mini-program (the community's QR code);
    /// `open311`: a city system through Open311; `in_person`: filed by
    /// staff for a resident who came in person (代办); `converted`: opened
    /// from another case (a consultation or tip converted, a mediator's
    /// public-order flag).
    #[schema(example = "app")]
    pub channel: String,
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
            success_rate: success_rate(c.resolved, c.total),
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
    fn new(org_unit_id: Uuid, from: DateTime<Utc>, to: DateTime<Utc>, stats: SummaryStats) -> Self {
        Self {
            org_unit_id,
            from,
            to,
            offers: stats.offers.into(),
            time_to_accept: stats.time_to_accept.into(),
            time_to_first_response: stats.time_to_first_response.into(),
            sla_breaches: stats.sla_breaches.into(),
            cases: stats.cases.total(),
            resolved: stats.cases.resolved(),
            success_rate: success_rate(stats.cases.resolved(), stats.cases.total()),
            by_service: (&stats.cases).into(),
            by_status: stats.cases.services.iter().flat_map(status_views).collect(),
            consultation_satisfaction: stats.consultation_satisfaction.into(),
            tip_outcomes: (&stats.cases).into(),
            by_category: stats
                .by_category
                .into_iter()
                .map(|c| CategoryCountView {
                    category_code: c.code,
                    category_name: c.name_zh,
                    cases: c.cases,
                })
                .collect(),
            by_channel: stats
                .by_channel
                .into_iter()
                .map(|(channel, cases)| ChannelCountView {
                    channel: channel.as_str().to_owned(),
                    cases,
                })
                .collect(),
            by_staff: stats.by_staff.into_iter().map(Into::into).collect(),
        }
    }
}

/// Cumulative figures for a unit and everything below it over a period:
/// offers by outcome, time to accept and to first response (median, p90),
/// SLA breaches, cases of every service (totals, resolved, success rates,
/// statuses), cases per category, source channel and staff member,
/// consultation satisfaction and tip outcome rates. With `format=csv` or
/// `format=xlsx`, the same figures as a file to download (Chinese headings,
/// one row per figure, each naming its place in this JSON).
#[utoipa::path(tag = "admin", security(("bearer" = [])), params(SummaryStatsQuery), responses(
    (status = 200, description = "The figures: JSON, or with `format` a CSV (UTF-8 with BOM) or XLSX attachment",
        content(
            (SummaryStatsView = "application/json"),
            (String = "text/csv"),
            (XlsxFile = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        ),
        headers(("Content-Disposition" = String, description = "For a file: `attachment` with an ASCII `filename` and the Chinese `filename*` (RFC 5987)"))),
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
) -> Result<HttpResponse, ApiError> {
    let span = query.to - query.from;
    if span <= chrono::Duration::zero() || span > chrono::Duration::days(MAX_DAYS) {
        return Err(ValidationError::new(
            "to",
            format!("must be after from and at most {MAX_DAYS} days later"),
        )
        .into());
    }
    let format = query.format.unwrap_or_default();
    let (view, unit_name) =
        summary_of(&state, &admin, query.org_unit_id, query.from, query.to).await?;
    let period = format!(
        "{}-{}",
        shanghai_compact_date(query.from),
        shanghai_compact_date(query.to)
    );
    respond(
        view,
        &unit_name,
        format,
        &format!("sansuo-stats-{period}"),
        &format!("统计报表-{unit_name}-{period}"),
    )
}

/// The summary of `[from, to)` for `unit` (checked to be in the caller's
/// scope), with the unit's name.
pub(crate) async fn summary_of(
    state: &AppState,
    admin: &AdminAuth,
    unit: Uuid,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<(SummaryStatsView, String), ApiError> {
    ensure_within(state, admin, unit.into()).await?;
    let stats = state.store.stats().summary(unit.into(), from, to).await?;
    let name = state
        .store
        .org()
        .unit(unit.into())
        .await?
        .map(|u| u.name)
        .unwrap_or_default();
    Ok((SummaryStatsView::new(unit, from, to, stats), name))
}

/// The view as JSON, or as a file named `ascii_stem`/`utf8_stem`.
pub(crate) fn respond(
    view: SummaryStatsView,
    unit_name: &str,
    format: ReportFormat,
    ascii_stem: &str,
    utf8_stem: &str,
) -> Result<HttpResponse, ApiError> {
    if format == ReportFormat::Json {
        return Ok(HttpResponse::Ok().json(view));
    }
    let table = summary_table(&view, unit_name);
    report_files::download(&table, format, ascii_stem, utf8_stem)
}

/// The summary as report rows, in print order: every figure of the JSON
/// (but the per-service status list repeated as `by_status`), each row
/// naming its place in the JSON. Pure: the CSV and the XLSX are both drawn
/// from this one table.
pub fn summary_table(view: &SummaryStatsView, unit_name: &str) -> ReportTable {
    let mut t = ReportTable::new("统计报表");
    let info = "报表信息";
    t.push(info, "单位", "", unit_name.to_owned());
    t.push(
        info,
        "单位编号",
        "org_unit_id",
        view.org_unit_id.to_string(),
    );
    t.push(info, "起始时间（北京时间）", "", shanghai_minute(view.from));
    t.push(
        info,
        "截止时间（北京时间，不含）",
        "",
        shanghai_minute(view.to),
    );

    let all = "总体";
    t.push(all, "案件总数", "cases", view.cases);
    t.push(all, "成功办结数", "resolved", view.resolved);
    t.push(all, "成功率", "success_rate", view.success_rate);

    let services = [
        (Service::Consultation, &view.by_service.consultation),
        (Service::Mediation, &view.by_service.mediation),
        (Service::Tip, &view.by_service.tip),
    ];
    for (service, stats) in services {
        let (label, key) = (service_label_zh(service), service.as_str());
        let at = |f: &str| format!("by_service.{key}.{f}");
        t.push(
            "按服务",
            format!("{label}·案件数"),
            at("total"),
            stats.total,
        );
        t.push(
            "按服务",
            format!("{label}·成功办结数"),
            at("resolved"),
            stats.resolved,
        );
        t.push(
            "按服务",
            format!("{label}·成功率"),
            at("success_rate"),
            stats.success_rate,
        );
    }

    for c in &view.by_category {
        t.push(
            "按纠纷类型",
            format!("{}（{}）", c.category_name, c.category_code),
            format!("by_category.{}.cases", c.category_code),
            c.cases,
        );
    }

    for c in &view.by_channel {
        let label = sansuo_domain::stats::SourceChannel::ALL
            .into_iter()
            .find(|ch| ch.as_str() == c.channel)
            .map_or(c.channel.as_str(), |ch| ch.label_zh());
        t.push(
            "按来源渠道",
            label,
            format!("by_channel.{}.cases", c.channel),
            c.cases,
        );
    }

    for (service, stats) in services {
        let (label, key) = (service_label_zh(service), service.as_str());
        for s in &stats.by_status {
            let status_label: &str =
                sansuo_domain::work_order::CaseStatus::parse(service, &s.status)
                    .ok()
                    .map(status_label_zh)
                    .unwrap_or(&s.status);
            t.push(
                "办理结果（按当前状态）",
                format!("{label}·{status_label}"),
                format!("by_service.{key}.by_status.{}.cases", s.status),
                s.cases,
            );
        }
    }

    let tips = "线索结果";
    t.push(
        tips,
        "已结束线索数",
        "tip_outcomes.ended",
        view.tip_outcomes.ended,
    );
    for o in &view.tip_outcomes.outcomes {
        let label = TipOutcome::ALL
            .into_iter()
            .find(|x| x.as_str() == o.outcome)
            .map_or(o.outcome.as_str(), |x| x.label_zh());
        let at = |f: &str| format!("tip_outcomes.outcomes.{}.{f}", o.outcome);
        t.push(tips, label, at("tips"), o.tips);
        t.push(tips, format!("{label}·占比"), at("rate"), o.rate);
    }

    let times = "响应时长";
    for (label, key, d) in [
        ("受理用时", "time_to_accept", &view.time_to_accept),
        (
            "首次答复用时",
            "time_to_first_response",
            &view.time_to_first_response,
        ),
    ] {
        t.push(
            times,
            format!("{label}·样本数"),
            format!("{key}.count"),
            d.count,
        );
        t.push(
            times,
            format!("{label}·中位数（秒）"),
            format!("{key}.median_secs"),
            d.median_secs,
        );
        t.push(
            times,
            format!("{label}·P90（秒）"),
            format!("{key}.p90_secs"),
            d.p90_secs,
        );
    }

    let sla = "超时（SLA）";
    t.push(
        sla,
        "受理超时",
        "sla_breaches.accept",
        view.sla_breaches.accept,
    );
    t.push(
        sla,
        "首次答复超时",
        "sla_breaches.first_response",
        view.sla_breaches.first_response,
    );
    t.push(
        sla,
        "办结超时",
        "sla_breaches.resolution",
        view.sla_breaches.resolution,
    );

    let rating = "满意度（法律咨询）";
    let s = &view.consultation_satisfaction;
    t.push(rating, "评价数", "consultation_satisfaction.rated", s.rated);
    t.push(
        rating,
        "平均星级",
        "consultation_satisfaction.average_stars",
        s.average_stars,
    );

    let offers = "派单";
    let o = &view.offers;
    for (label, key, n) in [
        ("派单总数", "created", o.created),
        ("待答复", "pending", o.pending),
        ("已接单", "accepted", o.accepted),
        ("已拒单", "declined", o.declined),
        ("超时未答", "expired", o.expired),
        ("已作废", "cancelled", o.cancelled),
        ("退单", "returned", o.returned),
    ] {
        t.push(offers, label, format!("offers.{key}"), n);
    }

    for s in &view.by_staff {
        let at = |f: &str| format!("by_staff.{}.{f}", s.staff_id);
        t.push(
            "按人员",
            format!("{}·案件数", s.display_name),
            at("cases"),
            s.cases,
        );
        t.push(
            "按人员",
            format!("{}·成功办结数", s.display_name),
            at("resolved"),
            s.resolved,
        );
    }
    t
}
