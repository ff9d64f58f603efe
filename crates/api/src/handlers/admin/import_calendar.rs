//! `POST /admin/calendar/import`: a year's official notice (the State
//! Council's 部分节假日安排的通知) imported as data, the same JSON as
//! `data/calendar/<year>.json` and `sansuo calendar import FILE`.

use crate::extract::AdministratorAuth;
use crate::{ApiError, AppState, ErrorBody};
use actix_web::{post, web};
use chrono::NaiveDate;
use sansuo_domain::ValidationError;
use sansuo_domain::calendar::PublishedYearText;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A year's notice, checked whole before anything is written.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CalendarImportRequest {
    #[schema(example = 2027)]
    pub year: i32,
    /// The notice's title and date.
    #[schema(example = "国务院办公厅关于2027年部分节假日安排的通知")]
    pub source: String,
    /// Not yet the official notice (statutory holidays only, say): readiness
    /// keeps warning until the notice is imported over it.
    #[serde(default)]
    pub provisional: bool,
    #[serde(default)]
    pub note: Option<String>,
    /// Inclusive ranges `["YYYY-MM-DD", "YYYY-MM-DD"]`.
    #[schema(value_type = Vec<Vec<String>>, example = json!([["2027-01-01", "2027-01-01"]]))]
    pub holidays: Vec<(String, String)>,
    /// Make-up working days (调休) on Saturdays or Sundays, `YYYY-MM-DD`.
    #[serde(default)]
    pub workdays: Vec<String>,
}

/// What the import did.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CalendarImportView {
    pub year: i32,
    /// `imported` (first import of the year), `replaced` (an earlier import
    /// of the year was replaced) or `unchanged` (the same notice again:
    /// nothing written).
    pub outcome: String,
    pub provisional: bool,
    /// Holiday dates in the notice.
    pub holidays: usize,
    /// Make-up working days in the notice.
    pub workdays: usize,
    /// Dates of the notice an administrator had entered by hand
    /// (`PUT /admin/calendar/{day}`): left as they were.
    pub kept_by_hand: Vec<NaiveDate>,
}

/// Import a year's public-holiday notice (administrators). Every date is
/// checked before anything is written, and every bad entry is named; a
/// re-import of a corrected notice replaces that year's imported days in one
/// transaction; the same notice twice changes nothing.
#[utoipa::path(tag = "admin", security(("bearer" = [])), request_body = CalendarImportRequest, responses(
    (status = 200, body = CalendarImportView),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody, description = "`forbidden`: the calendar is district-wide; administrators only"),
    (status = 422, body = ErrorBody, description = "`validation_failed`: every bad entry named (`holidays[3]: ...`); nothing was written"),
))]
#[post("/admin/calendar/import")]
pub async fn import_calendar(
    state: web::Data<AppState>,
    admin: AdministratorAuth,
    body: web::Json<CalendarImportRequest>,
) -> Result<web::Json<CalendarImportView>, ApiError> {
    let body = body.into_inner();
    let year = PublishedYearText {
        year: body.year,
        source: body.source,
        provisional: body.provisional,
        note: body.note,
        holidays: body.holidays,
        workdays: body.workdays,
    }
    .check()
    .map_err(|problems| ValidationError::new("calendar", problems.join("; ")))?;
    let done = state
        .store
        .catalog()
        .import_calendar_year(&year, &format!("staff:{}", admin.id))
        .await?;
    tracing::info!(
        admin = %admin.id,
        year = year.year,
        outcome = done.outcome.as_str(),
        provisional = year.provisional,
        "calendar year imported"
    );
    let overrides = year.overrides();
    let holidays = overrides
        .iter()
        .filter(|(_, kind)| *kind == sansuo_domain::calendar::DayOverride::Holiday)
        .count();
    Ok(web::Json(CalendarImportView {
        year: year.year,
        outcome: done.outcome.as_str().to_owned(),
        provisional: year.provisional,
        holidays,
        workdays: overrides.len() - holidays,
        kept_by_hand: done.kept_by_hand,
    }))
}
