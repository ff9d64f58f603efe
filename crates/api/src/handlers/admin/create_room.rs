use super::ensure_within;
use crate::extract::AdminAuth;
use crate::views::RoomView;
use crate::{ApiError, AppState, ErrorBody};
use actix_web::{HttpResponse, post, web};
use sansuo_domain::ValidationError;
use sansuo_store::staffing::NewRoom;
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateRoomRequest {
    /// The station, street or community the room belongs to.
    pub org_unit_id: Uuid,
    #[schema(example = "欧阳路派出所调解室")]
    pub name: String,
    pub address: Option<String>,
    #[schema(example = "周一至周五 09:00–17:00")]
    pub opening_hours: Option<String>,
}

/// Register a mediation room.
#[utoipa::path(tag = "admin", security(("bearer" = [])), request_body = CreateRoomRequest, responses(
    (status = 201, body = RoomView),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody),
    (status = 404, body = ErrorBody, description = "`org_unit_not_found`"),
    (status = 422, body = ErrorBody, description = "`validation_failed`: a bad name, a deactivated unit"),
))]
#[post("/admin/rooms")]
pub async fn create_room(
    state: web::Data<AppState>,
    admin: AdminAuth,
    body: web::Json<CreateRoomRequest>,
) -> Result<HttpResponse, ApiError> {
    let name = body.name.trim();
    if name.is_empty() || name.chars().count() > 128 {
        return Err(ValidationError::new("name", "must be 1 to 128 characters").into());
    }
    ensure_within(&state, &admin, body.org_unit_id.into()).await?;
    let unit_active = state
        .store
        .org()
        .unit(body.org_unit_id.into())
        .await?
        .is_some_and(|u| u.active);
    if !unit_active {
        return Err(ValidationError::new("org_unit_id", "that unit is deactivated").into());
    }
    let room = state
        .store
        .staffing()
        .add_room(
            NewRoom {
                unit: body.org_unit_id.into(),
                name,
                address: body.address.as_deref(),
                opening_hours: body.opening_hours.as_deref(),
            },
            chrono::Utc::now(),
        )
        .await?;
    Ok(HttpResponse::Created().json(RoomView::from(room)))
}
