use super::ensure_within;
use crate::extract::AdminAuth;
use crate::views::OrgUnitList;
use crate::{ApiError, AppState, ErrorBody};
use actix_web::{get, web};
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct OrgUnitQuery {
    /// Whose children to list; default: your own unit.
    pub parent_id: Option<Uuid>,
}

/// The units directly under one in your subtree.
#[utoipa::path(tag = "admin", security(("bearer" = [])), params(OrgUnitQuery), responses(
    (status = 200, body = OrgUnitList),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody),
    (status = 404, body = ErrorBody, description = "`org_unit_not_found`"),
))]
#[get("/admin/org-units")]
pub async fn list_org_units(
    state: web::Data<AppState>,
    admin: AdminAuth,
    query: web::Query<OrgUnitQuery>,
) -> Result<web::Json<OrgUnitList>, ApiError> {
    let parent = query.parent_id.map(Into::into).unwrap_or(admin.scope);
    ensure_within(&state, &admin, parent).await?;
    let items = state
        .store
        .staffing()
        .org_units_under(Some(parent))
        .await?
        .into_iter()
        .map(Into::into)
        .collect();
    Ok(web::Json(OrgUnitList { items }))
}
