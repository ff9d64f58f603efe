use super::ensure_within;
use crate::error::ErrorCode;
use crate::extract::AdminAuth;
use crate::views::DutyShiftView;
use crate::{ApiError, AppState, ErrorBody};
use actix_web::{HttpResponse, post, web};
use chrono::{DateTime, Utc};
use sansuo_domain::StaffId;
use sansuo_domain::ValidationError;
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddShiftRequest {
    /// The community or police station this duty covers.
    pub org_unit_id: Uuid,
    pub staff_id: Uuid,
    pub starts_at: DateTime<Utc>,
    /// After `starts_at`, at most 24 hours later (a night shift crosses midnight).
    pub ends_at: DateTime<Utc>,
}

/// Put someone on the duty roster of a unit for a time band (值班).
#[utoipa::path(tag = "admin", security(("bearer" = [])), request_body = AddShiftRequest, responses(
    (status = 201, body = DutyShiftView),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody),
    (status = 404, body = ErrorBody, description = "`org_unit_not_found`: no such unit in your organisation; `staff_not_found`: no active account of that unit"),
    (status = 422, body = ErrorBody, description = "`validation_failed`: the band is empty or longer than a day"),
))]
#[post("/admin/duty-shifts")]
pub async fn add_shift(
    state: web::Data<AppState>,
    admin: AdminAuth,
    body: web::Json<AddShiftRequest>,
) -> Result<HttpResponse, ApiError> {
    let length = body.ends_at - body.starts_at;
    if length <= chrono::Duration::zero() || length > chrono::Duration::hours(24) {
        return Err(ValidationError::new(
            "ends_at",
            "must be after starts_at and at most 24 hours later",
        )
        .into());
    }
    let unit = ensure_within(&state, &admin, body.org_unit_id.into()).await?;
    // On that unit's roster: someone whose home is that unit (or below).
    let staff = crate::scoped::resolve(
        &state,
        unit.id(),
        StaffId::from(body.staff_id),
        ErrorCode::StaffNotFound,
    )
    .await?;
    let staff = state
        .store
        .identity()
        .staff(staff.id())
        .await?
        .filter(|s| s.active)
        .ok_or_else(|| ApiError::new(ErrorCode::StaffNotFound, "no such active staff account"))?;
    let shift = state
        .store
        .staffing()
        .add_duty_shift(
            body.org_unit_id.into(),
            staff.id,
            body.starts_at,
            body.ends_at,
            Utc::now(),
        )
        .await?;
    tracing::info!(admin = %admin.id, shift = %shift.id, "duty shift added");
    Ok(HttpResponse::Created().json(DutyShiftView::from(shift)))
}
