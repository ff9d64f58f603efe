use super::stats_summary::{SummaryStatsView, respond, summary_of};
use crate::extract::AdminAuth;
use crate::report_files::{ReportFormat, XlsxFile};
use crate::{ApiError, AppState, ErrorBody};
use actix_web::{HttpResponse, get, web};
use sansuo_domain::report::Month;
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct MonthlyReportQuery {
    /// The unit whose subtree is reported; must be inside the caller's.
    pub org_unit_id: Uuid,
    /// The calendar month, `YYYY-MM` (years 2000–2099), in Asia/Shanghai: `2026-11` covers
    /// 2026-11-01T00:00+08:00 (inclusive) to 2026-12-01T00:00+08:00.
    #[param(example = "2026-11", pattern = "^20[0-9]{2}-(0[1-9]|1[0-2])$")]
    pub month: String,
    /// `json` (the default), `csv` or `xlsx`.
    #[param(inline)]
    pub format: Option<ReportFormat>,
}

/// The month's statistics (月报) for a unit and its subtree: the figures of
/// `GET /admin/stats/summary` over the calendar month in Beijing time
/// (`from` and `to` in the answer are its bounds), as JSON or, with
/// `format=csv` or `format=xlsx`, as a file to download.
#[utoipa::path(tag = "admin", security(("bearer" = [])), params(MonthlyReportQuery), responses(
    (status = 200, description = "The month's figures: JSON, or with `format` a CSV (UTF-8 with BOM) or XLSX attachment",
        content(
            (SummaryStatsView = "application/json"),
            (String = "text/csv"),
            (XlsxFile = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        ),
        headers(("Content-Disposition" = String, description = "For a file: `attachment` with an ASCII `filename` and the Chinese `filename*` (RFC 5987)"))),
    (status = 400, body = ErrorBody, description = "`bad_parameter`: not a month (`YYYY-MM`), an unknown format or a bad unit id"),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody, description = "`forbidden`: not a coordinator or administrator"),
    (status = 404, body = ErrorBody, description = "`org_unit_not_found`"),
))]
#[get("/admin/reports/monthly")]
pub async fn monthly_report(
    state: web::Data<AppState>,
    admin: AdminAuth,
    query: web::Query<MonthlyReportQuery>,
) -> Result<HttpResponse, ApiError> {
    let month = Month::parse(&query.month).ok_or_else(|| {
        ApiError::bad_parameter(format!(
            "month `{}` is not a month: write YYYY-MM (2000–2099), e.g. 2026-11",
            query.month.chars().take(40).collect::<String>()
        ))
    })?;
    let (from, to) = month.bounds();
    let (view, unit_name) = summary_of(&state, &admin, query.org_unit_id, from, to).await?;
    respond(
        view,
        &unit_name,
        query.format.unwrap_or_default(),
        &format!("sansuo-monthly-{month}"),
        &format!("月度统计-{unit_name}-{month}"),
    )
}
