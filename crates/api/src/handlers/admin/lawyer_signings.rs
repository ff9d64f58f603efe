//! A community's signed lawyer (签约律师): the consultation workflow's
//! first step offers the community's consultations to them alone, before
//! the street's pool. One per community; signing another replaces it.
//! Dispatch reads the signing as it is written (no cache).
use super::ensure_within;
use crate::error::ErrorCode;
use crate::extract::AdminAuth;
use crate::scoped::{Body, Scoped};
use crate::{ApiError, AppState, ErrorBody};
use actix_web::{HttpResponse, delete, get, put, web};
use chrono::{DateTime, Utc};
use sansuo_domain::org::UnitKind;
use sansuo_domain::{OrgUnitId, StaffId, StaffRole, ValidationError};
use sansuo_store::records::LawyerSigningRecord;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct LawyerSigningView {
    pub community_id: Uuid,
    /// The lawyer's staff id.
    pub staff_id: Uuid,
    pub display_name: String,
    pub since: DateTime<Utc>,
}

impl From<LawyerSigningRecord> for LawyerSigningView {
    fn from(s: LawyerSigningRecord) -> Self {
        Self {
            community_id: s.community_id,
            staff_id: s.staff_id,
            display_name: s.display_name,
            since: s.since,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct LawyerSigningList {
    pub items: Vec<LawyerSigningView>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignLawyerRequest {
    /// An active lawyer of your organisation.
    pub staff_id: Uuid,
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct LawyerSigningQuery {
    /// Whose communities to list; default: your own unit.
    pub org_unit_id: Option<Uuid>,
}

/// Make a lawyer of your organisation the community's signed lawyer,
/// replacing any other. Consultations already offered or held stay where
/// they are; new ones are offered to this lawyer first.
#[utoipa::path(tag = "admin", security(("bearer" = [])), params(("id" = Uuid, Path)), request_body = SignLawyerRequest, responses(
    (status = 200, body = LawyerSigningView),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody, description = "`forbidden`: not a coordinator or administrator"),
    (status = 404, body = ErrorBody, description = "`org_unit_not_found`: no such unit in your organisation; `staff_not_found`: no such account in it"),
    (status = 422, body = ErrorBody, description = "`validation_failed`: not an active community, or not an active lawyer"),
))]
#[put("/admin/communities/{id}/lawyer")]
pub async fn sign_lawyer(
    state: web::Data<AppState>,
    admin: AdminAuth,
    id: Scoped<OrgUnitId>,
    body: Body<SignLawyerRequest>,
) -> Result<web::Json<LawyerSigningView>, ApiError> {
    let community = id.id();
    let lawyer = crate::scoped::resolve(
        &state,
        admin.scope,
        StaffId::from(body.staff_id),
        ErrorCode::StaffNotFound,
    )
    .await?
    .id();
    let unit = state
        .store
        .org()
        .unit(community)
        .await?
        .ok_or_else(|| ApiError::from(ErrorCode::OrgUnitNotFound))?;
    if unit.kind != UnitKind::Community || !unit.active {
        return Err(ValidationError::new("id", "not an active community").into());
    }
    let account = state
        .store
        .identity()
        .staff(lawyer)
        .await?
        .ok_or_else(|| ApiError::from(ErrorCode::StaffNotFound))?;
    if account.role != StaffRole::Lawyer || !account.active {
        return Err(ValidationError::new("staff_id", "not an active lawyer").into());
    }
    state
        .store
        .org()
        .sign_lawyer(community, lawyer, Utc::now())
        .await?;
    tracing::info!(admin = %admin.id, community = %community, lawyer = %lawyer, "lawyer signed");
    let signing = state
        .store
        .org()
        .lawyer_signing(community)
        .await?
        .ok_or_else(|| ApiError::internal("signing vanished"))?;
    Ok(web::Json(signing.into()))
}

/// End the community's signing. Its lawyer keeps the consultations they
/// hold; new ones start at the workflow's next step (the street's pool).
#[utoipa::path(tag = "admin", security(("bearer" = [])), params(("id" = Uuid, Path)), responses(
    (status = 204, description = "Ended"),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody, description = "`forbidden`: not a coordinator or administrator"),
    (status = 404, body = ErrorBody, description = "`org_unit_not_found`: no such unit in your organisation; `signing_not_found`: it has no signed lawyer"),
))]
#[delete("/admin/communities/{id}/lawyer")]
pub async fn end_lawyer_signing(
    state: web::Data<AppState>,
    admin: AdminAuth,
    id: Scoped<OrgUnitId>,
) -> Result<HttpResponse, ApiError> {
    let community = id.id();
    if !state.store.org().end_lawyer_signing(community).await? {
        return Err(ApiError::new(
            ErrorCode::SigningNotFound,
            "the community has no signed lawyer",
        ));
    }
    tracing::info!(admin = %admin.id, community = %community, "lawyer signing ended");
    Ok(HttpResponse::NoContent().finish())
}

/// The signed lawyers of the communities within a unit of your subtree.
#[utoipa::path(tag = "admin", security(("bearer" = [])), params(LawyerSigningQuery), responses(
    (status = 200, body = LawyerSigningList),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody, description = "`forbidden`: not a coordinator or administrator"),
    (status = 404, body = ErrorBody, description = "`org_unit_not_found`"),
))]
#[get("/admin/lawyer-signings")]
pub async fn list_lawyer_signings(
    state: web::Data<AppState>,
    admin: AdminAuth,
    query: web::Query<LawyerSigningQuery>,
) -> Result<web::Json<LawyerSigningList>, ApiError> {
    let unit = query.org_unit_id.map(Into::into).unwrap_or(admin.scope);
    ensure_within(&state, &admin, unit).await?;
    let items = state
        .store
        .org()
        .lawyer_signings_within(unit)
        .await?
        .into_iter()
        .map(Into::into)
        .collect();
    Ok(web::Json(LawyerSigningList { items }))
}
