use super::ensure_within;
use crate::auth::hash_password;
use crate::error::ErrorCode;
use crate::extract::AdminAuth;
use crate::views::StaffProfileView;
use crate::{ApiError, AppState, ErrorBody};
use actix_web::{HttpResponse, post, web};
use sansuo_domain::{StaffRole, ValidationError};
use sansuo_store::identity::NewStaff;
use sansuo_store::scope::FirmId;
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RoleName {
    Lawyer,
    Mediator,
    Officer,
    Coordinator,
    Admin,
}

impl From<RoleName> for StaffRole {
    fn from(r: RoleName) -> Self {
        match r {
            RoleName::Lawyer => StaffRole::Lawyer,
            RoleName::Mediator => StaffRole::Mediator,
            RoleName::Officer => StaffRole::Officer,
            RoleName::Coordinator => StaffRole::Coordinator,
            RoleName::Admin => StaffRole::Admin,
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateStaffRequest {
    /// 3 to 64 characters of `a-z 0-9 . _ -`.
    #[schema(example = "mediator.wu")]
    pub username: String,
    /// At least 10 characters.
    pub password: String,
    pub display_name: String,
    pub role: RoleName,
    /// The home unit; must be inside your organisation.
    pub org_unit_id: Uuid,
    pub law_firm_id: Option<Uuid>,
    /// Most active cases at once (1 to 200, default 5).
    pub capacity: Option<i32>,
    /// Category codes handled (a top-level code covers its sub-items).
    #[serde(default)]
    pub skills: Vec<String>,
    /// Further units worked for; each inside your organisation.
    #[serde(default)]
    pub units: Vec<Uuid>,
}

/// Create a staff account with its routing attributes.
#[utoipa::path(tag = "admin", security(("bearer" = [])), request_body = CreateStaffRequest, responses(
    (status = 201, body = StaffProfileView),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody, description = "`forbidden`: only an admin may create admins"),
    (status = 404, body = ErrorBody, description = "`org_unit_not_found`: no such unit in your organisation; `law_firm_not_found`: no such firm serving your organisation and the account's unit"),
    (status = 409, body = ErrorBody, description = "`username_taken`"),
    (status = 422, body = ErrorBody, description = "`validation_failed`: username, password, capacity or an unknown skill"),
))]
#[post("/admin/staff")]
pub async fn create_staff(
    state: web::Data<AppState>,
    admin: AdminAuth,
    body: web::Json<CreateStaffRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let username = body.username.trim().to_lowercase();
    if !(3..=64).contains(&username.len())
        || !username
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c))
    {
        return Err(ValidationError::new(
            "username",
            "must be 3 to 64 characters of a-z 0-9 . _ -",
        )
        .into());
    }
    if body.password.chars().count() < 10 {
        return Err(ValidationError::new("password", "must be at least 10 characters").into());
    }
    let display_name = body.display_name.trim();
    if display_name.is_empty() || display_name.chars().count() > 64 {
        return Err(ValidationError::new("display_name", "must be 1 to 64 characters").into());
    }
    let role: StaffRole = body.role.into();
    if role == StaffRole::Admin && admin.role != StaffRole::Admin {
        return Err(ApiError::forbidden(
            "only an administrator may create administrators",
        ));
    }
    let capacity = validate_capacity(body.capacity)?;
    let skills = super::update_staff::validate_skills(&state, &body.skills).await?;
    let home = ensure_within(&state, &admin, body.org_unit_id.into()).await?;
    for unit in &body.units {
        ensure_within(&state, &admin, (*unit).into()).await?;
    }
    // The firm serves the caller's subtree and the account's home: a
    // lawyer of one street in another street's firm would be offered that
    // street's cases.
    if let Some(firm) = body.law_firm_id {
        for scope in [admin.scope, home.id()] {
            crate::scoped::resolve(&state, scope, FirmId(firm), ErrorCode::LawFirmNotFound).await?;
        }
    }
    if state
        .store
        .identity()
        .staff_by_username(&username)
        .await?
        .is_some()
    {
        return Err(ApiError::new(
            ErrorCode::UsernameTaken,
            "that username is taken",
        ));
    }
    let password = body.password;
    let hash = web::block(move || hash_password(&password))
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)?;
    let new = NewStaff {
        username: &username,
        password_hash: &hash,
        display_name,
        role,
        org_unit: body.org_unit_id.into(),
        law_firm: body.law_firm_id,
    };
    let id = state
        .store
        .identity()
        .insert_staff(new, chrono::Utc::now())
        .await
        .map_err(|e| {
            use sansuo_store::sea_orm::SqlErr;
            match &e {
                // Two admins creating the same username at once.
                sansuo_store::StoreError::Db(db) => match db.sql_err() {
                    Some(SqlErr::UniqueConstraintViolation(_)) => {
                        ApiError::new(ErrorCode::UsernameTaken, "that username is taken")
                    }
                    Some(SqlErr::ForeignKeyConstraintViolation(_)) => {
                        ValidationError::new("law_firm_id", "no such law firm").into()
                    }
                    _ => e.into(),
                },
                _ => e.into(),
            }
        })?;
    tracing::info!(admin = %admin.id, staff = %id, role = %role, "staff account created");
    let units: Vec<_> = body.units.iter().map(|u| (*u).into()).collect();
    state
        .store
        .staffing()
        .set_routing(id, Some(&units), Some(&skills), capacity)
        .await?;
    let profile = state
        .store
        .staffing()
        .profile(id)
        .await?
        .ok_or_else(|| ApiError::internal("staff vanished"))?;
    Ok(HttpResponse::Created().json(StaffProfileView::from(profile)))
}

pub(crate) fn validate_capacity(capacity: Option<i32>) -> Result<Option<i32>, ApiError> {
    match capacity {
        Some(c) if !(1..=200).contains(&c) => {
            Err(ValidationError::new("capacity", "must be between 1 and 200").into())
        }
        other => Ok(other),
    }
}
