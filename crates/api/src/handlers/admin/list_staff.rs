use super::ensure_within;
use crate::extract::AdminAuth;
use crate::views::StaffList;
use crate::{ApiError, AppState, ErrorBody};
use actix_web::{get, web};
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct StaffQuery {
    /// Whose staff to list; default: your own unit.
    pub org_unit_id: Option<Uuid>,
}

/// Staff whose home is a unit in your subtree, with routing attributes.
#[utoipa::path(tag = "admin", security(("bearer" = [])), params(StaffQuery), responses(
    (status = 200, body = StaffList),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody),
    (status = 404, body = ErrorBody, description = "`org_unit_not_found`"),
))]
#[get("/admin/staff")]
pub async fn list_staff(
    state: web::Data<AppState>,
    admin: AdminAuth,
    query: web::Query<StaffQuery>,
) -> Result<web::Json<StaffList>, ApiError> {
    let unit = query.org_unit_id.map(Into::into).unwrap_or(admin.scope);
    ensure_within(&state, &admin, unit).await?;
    let items = state
        .store
        .staffing()
        .of_unit(unit)
        .await?
        .into_iter()
        .map(Into::into)
        .collect();
    Ok(web::Json(StaffList { items }))
}
