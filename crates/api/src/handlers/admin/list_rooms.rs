use super::ensure_within;
use crate::extract::AdminAuth;
use crate::views::RoomList;
use crate::{ApiError, AppState, ErrorBody};
use actix_web::{get, web};
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RoomQuery {
    /// Default: your own unit.
    pub org_unit_id: Option<Uuid>,
}

/// The mediation rooms of a unit.
#[utoipa::path(tag = "admin", security(("bearer" = [])), params(RoomQuery), responses(
    (status = 200, body = RoomList),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody),
    (status = 404, body = ErrorBody, description = "`org_unit_not_found`"),
))]
#[get("/admin/rooms")]
pub async fn list_rooms(
    state: web::Data<AppState>,
    admin: AdminAuth,
    query: web::Query<RoomQuery>,
) -> Result<web::Json<RoomList>, ApiError> {
    let unit = query.org_unit_id.map(Into::into).unwrap_or(admin.scope);
    ensure_within(&state, &admin, unit).await?;
    let items = state
        .store
        .staffing()
        .rooms_of(unit)
        .await?
        .into_iter()
        .map(Into::into)
        .collect();
    Ok(web::Json(RoomList { items }))
}
