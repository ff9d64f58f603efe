use super::MediationView;
use super::staff::{owned_mediation, room_for, staff_mediation_view};
use crate::error::ErrorCode;
use crate::extract::MediatorAuth;
use crate::handlers::context;
use crate::middleware::RequestId;
use crate::{ApiError, AppState, ErrorBody};
use actix_web::{post, web};
use chrono::{DateTime, Utc};
use sansuo_domain::values::Reason;
use sansuo_domain::{CaseId, ValidationError};
use sansuo_store::mediations::NewSlot;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RescheduleRequest {
    /// On the hour or half hour; at most 8 hours long.
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// Another room; the same room when absent.
    pub room_id: Option<Uuid>,
    /// Told to the parties (2 to 500 characters).
    #[schema(example = "申请人当天需上班，改至周六")]
    pub reason: String,
}

/// Move a booked session to another time (and room) in one step: the old
/// booking is cancelled and the new one made together. If the new time is
/// taken for the room or for you, nothing changes (409 `slot_taken`) and
/// the old session stays booked. The parties see one `reschedule` event.
#[utoipa::path(tag = "mediations", security(("bearer" = [])), params(("id" = Uuid, Path), ("session_id" = Uuid, Path)), request_body = RescheduleRequest, responses(
    (status = 200, body = MediationView),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody, description = "`forbidden`: not a mediator"),
    (status = 404, body = ErrorBody, description = "`mediation_not_found`: not yours, or no such scheduled session; `room_not_found`: no such room near the case's community"),
    (status = 409, body = ErrorBody, description = "`slot_taken`: the room or you are booked then (the old session stays); `state_conflict`: changed meanwhile"),
    (status = 422, body = ErrorBody, description = "`validation_failed`: off the half-hour grid, empty or longer than 8 hours; reason missing; `session_in_past`: the new time starts now or earlier"),
    (status = 503, body = ErrorBody, description = "`audit_unavailable`: the personal data audit could not be written, so the case is not shown with its opened personal data (whatever the request changed stands; read the case again later)"),
))]
#[post("/staff/mediations/{id}/sessions/{session_id}/reschedule")]
pub async fn reschedule_session(
    state: web::Data<AppState>,
    auth: MediatorAuth,
    request_id: RequestId,
    path: web::Path<(Uuid, Uuid)>,
    body: web::Json<RescheduleRequest>,
) -> Result<web::Json<MediationView>, ApiError> {
    let (id, session) = path.into_inner();
    let id: CaseId = id.into();
    let record = owned_mediation(&state, id, &auth).await?;
    let room = match body.room_id {
        Some(room) => Some(room_for(&state, &record, room).await?),
        None => None,
    };
    let reason = Reason::parse(&body.reason)?;
    sansuo_domain::mediation::slots_of(body.starts_at, body.ends_at)
        .map_err(|e| ApiError::from(ValidationError::new("starts_at", e.to_string())))?;
    super::staff::session_ahead(body.starts_at)?;
    let new_session = state
        .store
        .mediations()
        .reschedule_session(
            id,
            session,
            auth.id,
            NewSlot {
                room,
                starts_at: body.starts_at,
                ends_at: body.ends_at,
            },
            reason.as_str(),
            context(auth.principal(), &request_id),
        )
        .await
        .map_err(ApiError::store_not_found(ErrorCode::MediationNotFound))?;
    tracing::info!(case_id = %id, from = %session, to = %new_session, "session rescheduled");
    Ok(web::Json(staff_mediation_view(&state, id, &auth).await?))
}
