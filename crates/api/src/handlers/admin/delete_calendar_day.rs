use crate::error::ErrorCode;
use crate::extract::AdministratorAuth;
use crate::{ApiError, AppState, ErrorBody};
use actix_web::{HttpResponse, delete, web};
use chrono::NaiveDate;

/// Return a date to its weekday's schedule.
#[utoipa::path(tag = "admin", security(("bearer" = [])), params(("day" = NaiveDate, Path, description = "YYYY-MM-DD")), responses(
    (status = 204, description = "Removed"),
    (status = 400, body = ErrorBody, description = "`bad_parameter`"),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody, description = "`forbidden`: administrators only"),
    (status = 404, body = ErrorBody, description = "`calendar_day_not_found`"),
))]
#[delete("/admin/calendar/{day}")]
pub async fn delete_calendar_day(
    state: web::Data<AppState>,
    _admin: AdministratorAuth,
    day: web::Path<NaiveDate>,
) -> Result<HttpResponse, ApiError> {
    if !state.store.catalog().delete_calendar_day(*day).await? {
        return Err(ApiError::new(
            ErrorCode::CalendarDayNotFound,
            "that date has no override",
        ));
    }
    Ok(HttpResponse::NoContent().finish())
}
