//! Law firms and their signings (firm ↔ street or district): a firm signed
//! to a street supplies its consultation pool, one signed to a district
//! every street of it. A firm is in a caller's scope when it is signed to
//! a unit within it, or to a unit the caller's lies within
//! (`store::scope`), so a firm is made together with its first signing.
//! Dispatch reads the signings as they are written (no cache).
use super::{ensure_within, name_text};
use crate::error::ErrorCode;
use crate::extract::AdminAuth;
use crate::scoped::{Body, Scoped};
use crate::{ApiError, AppState, ErrorBody};
use actix_web::{HttpResponse, delete, get, post, web};
use chrono::{DateTime, Utc};
use sansuo_domain::org::UnitKind;
use sansuo_domain::{OrgUnitId, ValidationError};
use sansuo_store::records::LawFirmRecord;
use sansuo_store::scope::FirmId;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct LawFirmView {
    pub id: Uuid,
    pub name: String,
    pub created_at: DateTime<Utc>,
    /// The streets and districts it is signed to (its lawyers form the
    /// consultation pool there).
    pub signed_unit_ids: Vec<Uuid>,
}

impl From<LawFirmRecord> for LawFirmView {
    fn from(f: LawFirmRecord) -> Self {
        Self {
            id: f.id,
            name: f.name,
            created_at: f.created_at,
            signed_unit_ids: f.signed_units,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct LawFirmList {
    pub items: Vec<LawFirmView>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateLawFirmRequest {
    /// 1 to 128 characters.
    #[schema(example = "上海虹口律师事务所")]
    pub name: String,
    /// The street or district it is signed to first.
    pub org_unit_id: Uuid,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignLawFirmRequest {
    /// A street or district of your organisation.
    pub org_unit_id: Uuid,
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SigningQuery {
    /// The street or district whose signing ends.
    pub org_unit_id: Uuid,
}

/// A street or district within the caller's subtree, active.
async fn signable_unit(
    state: &AppState,
    admin: &AdminAuth,
    unit: Uuid,
) -> Result<OrgUnitId, ApiError> {
    let unit: OrgUnitId = unit.into();
    ensure_within(state, admin, unit).await?;
    let record = state
        .store
        .org()
        .unit(unit)
        .await?
        .ok_or_else(|| ApiError::from(ErrorCode::OrgUnitNotFound))?;
    if !matches!(record.kind, UnitKind::Street | UnitKind::District) {
        return Err(ValidationError::new(
            "org_unit_id",
            "a firm is signed to a street or a district",
        )
        .into());
    }
    if !record.active {
        return Err(ValidationError::new("org_unit_id", "that unit is deactivated").into());
    }
    Ok(unit)
}

/// Register a law firm, signed to a street or district of your organisation.
#[utoipa::path(tag = "admin", security(("bearer" = [])), request_body = CreateLawFirmRequest, responses(
    (status = 201, body = LawFirmView),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody, description = "`forbidden`: not a coordinator or administrator"),
    (status = 404, body = ErrorBody, description = "`org_unit_not_found`: no such unit in your organisation"),
    (status = 422, body = ErrorBody, description = "`validation_failed`: a bad name; a unit that is not an active street or district"),
))]
#[post("/admin/law-firms")]
pub async fn create_law_firm(
    state: web::Data<AppState>,
    admin: AdminAuth,
    body: web::Json<CreateLawFirmRequest>,
) -> Result<HttpResponse, ApiError> {
    let unit = signable_unit(&state, &admin, body.org_unit_id).await?;
    let name = name_text("name", &body.name, 128)?;
    let firm = state
        .store
        .org()
        .create_signed_firm(&name, unit, Utc::now())
        .await?;
    tracing::info!(admin = %admin.id, firm = %firm.id, unit = %unit, "law firm registered");
    Ok(HttpResponse::Created().json(LawFirmView::from(firm)))
}

/// The law firms serving your organisation, with their signings.
#[utoipa::path(tag = "admin", security(("bearer" = [])), responses(
    (status = 200, body = LawFirmList),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody, description = "`forbidden`: not a coordinator or administrator"),
))]
#[get("/admin/law-firms")]
pub async fn list_law_firms(
    state: web::Data<AppState>,
    admin: AdminAuth,
) -> Result<web::Json<LawFirmList>, ApiError> {
    let items = state
        .store
        .org()
        .law_firms_serving(admin.scope)
        .await?
        .into_iter()
        .map(Into::into)
        .collect();
    Ok(web::Json(LawFirmList { items }))
}

/// Sign a firm serving your organisation to another street or district of
/// it (again: no change).
#[utoipa::path(tag = "admin", security(("bearer" = [])), params(("id" = Uuid, Path)), request_body = SignLawFirmRequest, responses(
    (status = 200, body = LawFirmView),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody, description = "`forbidden`: not a coordinator or administrator"),
    (status = 404, body = ErrorBody, description = "`law_firm_not_found`: no such firm serving your organisation; `org_unit_not_found`: no such unit in it"),
    (status = 422, body = ErrorBody, description = "`validation_failed`: a unit that is not an active street or district"),
))]
#[post("/admin/law-firms/{id}/signings")]
pub async fn sign_law_firm(
    state: web::Data<AppState>,
    admin: AdminAuth,
    id: Scoped<FirmId>,
    body: Body<SignLawFirmRequest>,
) -> Result<web::Json<LawFirmView>, ApiError> {
    let firm = id.id().0;
    let unit = signable_unit(&state, &admin, body.org_unit_id).await?;
    state.store.org().sign_firm(firm, unit).await?;
    tracing::info!(admin = %admin.id, firm = %firm, unit = %unit, "law firm signed");
    let firm = state
        .store
        .org()
        .law_firm(firm)
        .await?
        .ok_or_else(|| ApiError::from(ErrorCode::LawFirmNotFound))?;
    Ok(web::Json(firm.into()))
}

/// End a firm's signing to a street or district of your organisation. The
/// cases its lawyers hold stay theirs; new cases there no longer reach
/// them. A firm left signed nowhere serves (and is seen by) no one.
#[utoipa::path(tag = "admin", security(("bearer" = [])), params(("id" = Uuid, Path), SigningQuery), responses(
    (status = 204, description = "Ended"),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody, description = "`forbidden`: not a coordinator or administrator"),
    (status = 404, body = ErrorBody, description = "`law_firm_not_found`: no such firm serving your organisation; `org_unit_not_found`: no such unit in it; `signing_not_found`: the firm is not signed to that unit"),
))]
#[delete("/admin/law-firms/{id}/signings")]
pub async fn end_law_firm_signing(
    state: web::Data<AppState>,
    admin: AdminAuth,
    id: Scoped<FirmId>,
    query: web::Query<SigningQuery>,
) -> Result<HttpResponse, ApiError> {
    let firm = id.id().0;
    let unit: OrgUnitId = query.org_unit_id.into();
    ensure_within(&state, &admin, unit).await?;
    if !state.store.org().end_firm_signing(firm, unit).await? {
        return Err(ApiError::new(
            ErrorCode::SigningNotFound,
            "the firm is not signed to that unit",
        ));
    }
    tracing::info!(admin = %admin.id, firm = %firm, unit = %unit, "law firm signing ended");
    Ok(HttpResponse::NoContent().finish())
}
