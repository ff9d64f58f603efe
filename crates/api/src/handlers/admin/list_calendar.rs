use crate::extract::AdminAuth;
use crate::views::{CalendarDayList, CalendarDayView};
use crate::{ApiError, AppState, ErrorBody};
use actix_web::{get, web};
use chrono::NaiveDate;
use sansuo_domain::ValidationError;
use serde::Deserialize;
use utoipa::IntoParams;

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CalendarQuery {
    pub from: NaiveDate,
    /// Inclusive; at most 2 years after `from`.
    pub to: NaiveDate,
}

/// Public holidays and make-up working days between two dates.
#[utoipa::path(tag = "admin", security(("bearer" = [])), params(CalendarQuery), responses(
    (status = 200, body = CalendarDayList),
    (status = 400, body = ErrorBody, description = "`bad_parameter`"),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody),
    (status = 422, body = ErrorBody, description = "`validation_failed`"),
))]
#[get("/admin/calendar")]
pub async fn list_calendar(
    state: web::Data<AppState>,
    _admin: AdminAuth,
    query: web::Query<CalendarQuery>,
) -> Result<web::Json<CalendarDayList>, ApiError> {
    if query.to < query.from || (query.to - query.from).num_days() > 731 {
        return Err(
            ValidationError::new("to", "must be on or after from, within two years").into(),
        );
    }
    let items = state
        .store
        .catalog()
        .calendar_days(query.from, query.to)
        .await?
        .into_iter()
        .map(|d| CalendarDayView {
            day: d.day,
            kind: d.kind.as_str().to_owned(),
            source: d.source,
        })
        .collect();
    Ok(web::Json(CalendarDayList { items }))
}
