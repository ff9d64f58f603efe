use super::ensure_within;
use crate::extract::AdminAuth;
use crate::views::DutyShiftList;
use crate::{ApiError, AppState, ErrorBody};
use actix_web::{get, web};
use chrono::{DateTime, Utc};
use sansuo_domain::ValidationError;
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ShiftQuery {
    pub org_unit_id: Uuid,
    pub from: DateTime<Utc>,
    /// At most 31 days after `from`.
    pub to: DateTime<Utc>,
}

/// The duty roster of a unit between two instants.
#[utoipa::path(tag = "admin", security(("bearer" = [])), params(ShiftQuery), responses(
    (status = 200, body = DutyShiftList),
    (status = 400, body = ErrorBody, description = "`bad_parameter`"),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody),
    (status = 404, body = ErrorBody, description = "`org_unit_not_found`"),
    (status = 422, body = ErrorBody, description = "`validation_failed`: the range is empty or too long"),
))]
#[get("/admin/duty-shifts")]
pub async fn list_shifts(
    state: web::Data<AppState>,
    admin: AdminAuth,
    query: web::Query<ShiftQuery>,
) -> Result<web::Json<DutyShiftList>, ApiError> {
    let span = query.to - query.from;
    if span <= chrono::Duration::zero() || span > chrono::Duration::days(31) {
        return Err(
            ValidationError::new("to", "must be after from and at most 31 days later").into(),
        );
    }
    ensure_within(&state, &admin, query.org_unit_id.into()).await?;
    let items = state
        .store
        .staffing()
        .duty_shifts(query.org_unit_id.into(), query.from, query.to)
        .await?
        .into_iter()
        .map(Into::into)
        .collect();
    Ok(web::Json(DutyShiftList { items }))
}
