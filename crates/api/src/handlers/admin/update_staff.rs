use super::create_staff::validate_capacity;
use super::ensure_within;
use crate::error::ErrorCode;
use crate::extract::AdminAuth;
use crate::scoped::{Body, Scoped};
use crate::views::StaffProfileView;
use crate::{ApiError, AppState, ErrorBody};
use actix_web::{patch, web};
use sansuo_domain::StaffId;
use sansuo_domain::{StaffRole, ValidationError};
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateStaffRequest {
    pub display_name: Option<String>,
    pub capacity: Option<i32>,
    /// Replaces the skills.
    pub skills: Option<Vec<String>>,
    /// Replaces the further units.
    pub units: Option<Vec<Uuid>>,
    /// `false` deactivates the account: no login, no new offers.
    pub active: Option<bool>,
}

/// Change a staff member's name, capacity, skills, units or activity.
#[utoipa::path(tag = "admin", security(("bearer" = [])), params(("id" = Uuid, Path)), request_body = UpdateStaffRequest, responses(
    (status = 200, body = StaffProfileView),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody, description = "`forbidden`: only an administrator may change administrators"),
    (status = 404, body = ErrorBody, description = "`staff_not_found`: no such account in your organisation; `org_unit_not_found`: a unit outside it"),
    (status = 422, body = ErrorBody, description = "`validation_failed`"),
))]
#[patch("/admin/staff/{id}")]
pub async fn update_staff(
    state: web::Data<AppState>,
    admin: AdminAuth,
    id: Scoped<StaffId>,
    body: Body<UpdateStaffRequest>,
) -> Result<web::Json<StaffProfileView>, ApiError> {
    let id = id.id();
    let not_found = || ApiError::new(ErrorCode::StaffNotFound, "no such staff account");
    let account = state
        .store
        .identity()
        .staff(id)
        .await?
        .ok_or_else(not_found)?;
    if account.role == StaffRole::Admin && admin.role != StaffRole::Admin {
        return Err(ApiError::forbidden(
            "only an administrator may change administrators",
        ));
    }
    let body = body.into_inner();
    let capacity = validate_capacity(body.capacity)?;
    let skills = match &body.skills {
        Some(skills) => Some(validate_skills(&state, skills).await?),
        None => None,
    };
    if let Some(units) = &body.units {
        for unit in units {
            ensure_within(&state, &admin, (*unit).into()).await?;
        }
    }
    if let Some(name) = &body.display_name {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 64 {
            return Err(ValidationError::new("display_name", "must be 1 to 64 characters").into());
        }
        state.store.staffing().set_display_name(id, name).await?;
    }
    let units: Option<Vec<_>> = body.units.map(|u| u.into_iter().map(Into::into).collect());
    state
        .store
        .staffing()
        .set_routing(id, units.as_deref(), skills.as_deref(), capacity)
        .await?;
    if let Some(active) = body.active {
        state.store.identity().set_staff_active(id, active).await?;
    }
    tracing::info!(admin = %admin.id, staff = %id, "staff account changed");
    let profile = state
        .store
        .staffing()
        .profile(id)
        .await?
        .ok_or_else(not_found)?;
    Ok(web::Json(profile.into()))
}

/// Every skill must be an active category code.
pub(crate) async fn validate_skills(
    state: &AppState,
    skills: &[String],
) -> Result<Vec<String>, ApiError> {
    let mut out = Vec::with_capacity(skills.len());
    for code in skills {
        let code = code.trim().to_uppercase();
        if state.store.org().category(&code).await?.is_none() {
            return Err(
                ValidationError::new("skills", format!("`{code}` is not a category code")).into(),
            );
        }
        if !out.contains(&code) {
            out.push(code);
        }
    }
    Ok(out)
}
