use crate::extract::AdminAuth;
use crate::{ApiError, AppState, ErrorBody};
use actix_web::{HttpResponse, delete, web};
use chrono::NaiveDate;
use sansuo_domain::StaffRole;

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
    admin: AdminAuth,
    day: web::Path<NaiveDate>,
) -> Result<HttpResponse, ApiError> {
    if admin.role != StaffRole::Admin {
        return Err(ApiError::forbidden(
            "the calendar is district-wide; only administrators change it",
        ));
    }
    if !state.store.delete_calendar_day(*day).await? {
        return Err(ApiError::NotFound(
            "calendar_day_not_found",
            "that date has no override".into(),
        ));
    }
    Ok(HttpResponse::NoContent().finish())
}
