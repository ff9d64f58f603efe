use crate::extract::AdministratorAuth;
use crate::views::CalendarDayView;
use crate::{ApiError, AppState, ErrorBody};
use actix_web::{put, web};
use chrono::NaiveDate;
use sansuo_domain::ValidationError;
use sansuo_domain::calendar::DayOverride;
use serde::Deserialize;
use utoipa::ToSchema;

#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DayKind {
    /// A public holiday: no business time.
    Holiday,
    /// A make-up working day (调休) on a weekend.
    Workday,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CalendarDayRequest {
    pub kind: DayKind,
    /// Where it comes from, e.g. the State Council notice.
    pub source: String,
}

/// Mark a date as a public holiday or a make-up working day (administrators:
/// each November, when the next year's notice is published).
#[utoipa::path(tag = "admin", security(("bearer" = [])), params(("day" = NaiveDate, Path, description = "YYYY-MM-DD")), request_body = CalendarDayRequest, responses(
    (status = 200, body = CalendarDayView),
    (status = 400, body = ErrorBody, description = "`bad_parameter`: not a date"),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody, description = "`forbidden`: the calendar is district-wide; administrators only"),
    (status = 422, body = ErrorBody, description = "`validation_failed`"),
))]
#[put("/admin/calendar/{day}")]
pub async fn set_calendar_day(
    state: web::Data<AppState>,
    admin: AdministratorAuth,
    day: web::Path<NaiveDate>,
    body: web::Json<CalendarDayRequest>,
) -> Result<web::Json<CalendarDayView>, ApiError> {
    let source = body.source.trim();
    if source.is_empty() || source.chars().count() > 256 {
        return Err(ValidationError::new("source", "must be 1 to 256 characters").into());
    }
    let kind = match body.kind {
        DayKind::Holiday => DayOverride::Holiday,
        DayKind::Workday => DayOverride::Workday,
    };
    state
        .store
        .catalog()
        .set_calendar_day(*day, kind, source)
        .await?;
    tracing::info!(admin = %admin.id, day = %day, "calendar day set");
    let kind = match body.kind {
        DayKind::Holiday => "holiday",
        DayKind::Workday => "workday",
    };
    Ok(web::Json(CalendarDayView {
        day: *day,
        kind: kind.into(),
        source: source.into(),
    }))
}
