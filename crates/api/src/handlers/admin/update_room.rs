use super::{name_text, optional_text};
use crate::error::ErrorCode;
use crate::extract::AdminAuth;
use crate::scoped::{Body, Scoped};
use crate::views::RoomView;
use crate::{ApiError, AppState, ErrorBody};
use actix_web::{patch, web};
use sansuo_domain::ValidationError;
use sansuo_store::scope::ManagedRoom;
use sansuo_store::staffing::RoomEdit;
use serde::Deserialize;
use utoipa::ToSchema;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateRoomRequest {
    /// 1 to 128 characters.
    pub name: Option<String>,
    /// At most 256 characters; an empty string clears it.
    pub address: Option<String>,
    /// At most 128 characters; an empty string clears it.
    #[schema(example = "周一至周五 09:00–17:00")]
    pub opening_hours: Option<String>,
    /// `false` takes the room out of booking; refused with 409
    /// `room_in_use` while sessions are booked ahead in it (move or cancel
    /// them first). Held sessions keep their room. `true` takes it back
    /// (its unit must be active).
    pub active: Option<bool>,
}

/// Edit a mediation room of your subtree, or take it out of (or back into) booking.
#[utoipa::path(tag = "admin", security(("bearer" = [])), params(("id" = Uuid, Path)), request_body = UpdateRoomRequest, responses(
    (status = 200, body = RoomView),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody, description = "`forbidden`: not a coordinator or administrator"),
    (status = 404, body = ErrorBody, description = "`room_not_found`: no such room in your organisation"),
    (status = 409, body = ErrorBody, description = "`room_in_use`: sessions are booked ahead in it"),
    (status = 422, body = ErrorBody, description = "`validation_failed`: a bad name or text, reactivating in a deactivated unit"),
))]
#[patch("/admin/rooms/{id}")]
pub async fn update_room(
    state: web::Data<AppState>,
    admin: AdminAuth,
    id: Scoped<ManagedRoom>,
    body: Body<UpdateRoomRequest>,
) -> Result<web::Json<RoomView>, ApiError> {
    let id = id.id().0;
    let not_found = || ApiError::from(ErrorCode::RoomNotFound);
    let room = state
        .store
        .staffing()
        .room(id)
        .await?
        .ok_or_else(not_found)?;
    let name = body
        .name
        .as_deref()
        .map(|n| name_text("name", n, 128))
        .transpose()?;
    let address = optional_text("address", body.address.as_deref(), 256)?;
    let opening_hours = optional_text("opening_hours", body.opening_hours.as_deref(), 128)?;
    if body.active == Some(true) && !room.active {
        let unit_active = state
            .store
            .org()
            .unit(room.org_unit_id.into())
            .await?
            .is_some_and(|u| u.active);
        if !unit_active {
            return Err(ValidationError::new(
                "active",
                "the room's unit is deactivated: reactivate it first",
            )
            .into());
        }
    }
    if let Some(active) = body.active
        && active != room.active
    {
        let in_use = state
            .store
            .staffing()
            .set_room_active(id, active, chrono::Utc::now())
            .await?;
        if !in_use.is_free() {
            return Err(ApiError::new(ErrorCode::RoomInUse, in_use.describe()));
        }
        tracing::info!(admin = %admin.id, room = %id, active, "room switched");
    }
    state
        .store
        .staffing()
        .edit_room(
            id,
            RoomEdit {
                name: name.as_deref(),
                address: address.as_ref().map(|a| a.as_deref()),
                opening_hours: opening_hours.as_ref().map(|h| h.as_deref()),
            },
        )
        .await?;
    let room = state
        .store
        .staffing()
        .room(id)
        .await?
        .ok_or_else(not_found)?;
    Ok(web::Json(room.into()))
}
