use super::ensure_within;
use crate::extract::AdminAuth;
use crate::{ApiError, AppState, ErrorBody};
use actix_web::{get, web};
use chrono::{DateTime, Utc};
use sansuo_domain::ValidationError;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ReportQuery {
    /// A community, station, street or the district.
    pub org_unit_id: Uuid,
    /// Bookings made from this instant...
    pub from: DateTime<Utc>,
    /// ...until this one (exclusive); at most 366 days later.
    pub to: DateTime<Utc>,
}

/// The mediation figures a programme publishes, for bookings made in the period.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MediationReportView {
    pub org_unit_id: Uuid,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub bookings: u64,
    pub accepted: u64,
    pub refused: u64,
    pub withdrawn: u64,
    /// With an outcome recorded (agreement or termination).
    pub concluded: u64,
    pub agreements: u64,
    /// agreements ÷ concluded; null before anything concluded.
    pub success_rate: Option<f64>,
    /// Calendar days (Beijing dates) from acceptance to outcome, nearest-rank median.
    pub median_days_to_conclude: Option<i64>,
    pub judicial_confirmations: u64,
    pub visits: u64,
    /// Mean follow-up satisfaction (1–5).
    pub mean_satisfaction: Option<f64>,
    /// Applicants who rated the service (`POST /mediations/{id}/rating`).
    pub ratings: u64,
    /// Their mean stars, 1 to 5.
    pub mean_rating: Option<f64>,
    /// Applicants who answered the follow-up visit themselves
    /// (`POST /mediations/{id}/visit-answer`).
    pub resident_visit_answers: u64,
    /// Their mean satisfaction, 1 to 5. Shown beside `mean_satisfaction`
    /// (the mediator's visit record, the programme's figure), never mixed
    /// into it: a gap between the two is worth a supervisor's look.
    pub mean_resident_satisfaction: Option<f64>,
}

/// Mediation report (调解统计) for a unit and its subtree: bookings,
/// accepted, refused, concluded, agreements, success rate, median days to
/// conclude, judicial confirmations, follow-up satisfaction.
#[utoipa::path(tag = "admin", security(("bearer" = [])), params(ReportQuery), responses(
    (status = 200, body = MediationReportView),
    (status = 400, body = ErrorBody, description = "`bad_parameter`"),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody),
    (status = 404, body = ErrorBody, description = "`org_unit_not_found`"),
    (status = 422, body = ErrorBody, description = "`validation_failed`: empty or longer than 366 days"),
))]
#[get("/admin/reports/mediation")]
pub async fn mediation_report(
    state: web::Data<AppState>,
    admin: AdminAuth,
    query: web::Query<ReportQuery>,
) -> Result<web::Json<MediationReportView>, ApiError> {
    let span = query.to - query.from;
    if span <= chrono::Duration::zero() || span > chrono::Duration::days(366) {
        return Err(
            ValidationError::new("to", "must be after from and at most 366 days later").into(),
        );
    }
    ensure_within(&state, &admin, query.org_unit_id.into()).await?;
    let units = state
        .store
        .stats()
        .subtree_units(query.org_unit_id.into())
        .await?;
    let rows = state
        .store
        .mediations()
        .report_rows(&units, query.from, query.to)
        .await?;
    let r = sansuo_domain::mediation::report(&rows);
    Ok(web::Json(MediationReportView {
        org_unit_id: query.org_unit_id,
        from: query.from,
        to: query.to,
        bookings: r.bookings,
        accepted: r.accepted,
        refused: r.refused,
        withdrawn: r.withdrawn,
        concluded: r.concluded,
        agreements: r.agreements,
        success_rate: r.success_rate,
        median_days_to_conclude: r.median_days_to_conclude,
        judicial_confirmations: r.judicial_confirmations,
        visits: r.visits,
        mean_satisfaction: r.mean_satisfaction,
        ratings: r.ratings,
        mean_rating: r.mean_rating,
        resident_visit_answers: r.resident_visit_answers,
        mean_resident_satisfaction: r.mean_resident_satisfaction,
    }))
}
