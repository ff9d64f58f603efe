//! The mediator's side: see an offered or owned mediation, accept or
//! decline the offer, refuse with a ground and a referral, book and cancel
//! sessions.
use crate::error::ErrorCode;

use super::{MediationView, PartyDetail, mediation_not_found, mediation_view};
use crate::extract::{CaseReader, CoordinatorAuth, MediatorAuth};
use crate::handlers::context;
use crate::handlers::staff::accept_offer::{OfferAnswer, answer_offer_of_case};
use crate::middleware::RequestId;
use crate::{ApiError, AppState, ErrorBody};
use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use sansuo_domain::CaseId;
use sansuo_domain::mediation::RefusalGround;
use sansuo_domain::values::Reason;
use sansuo_store::mediations::MediationRecord;
use sansuo_store::scope::RoomId;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// The case if this mediator owns it (parties opened) or holds its offer
/// (parties masked); anything else is "not found".
pub(crate) async fn mediator_case(
    state: &AppState,
    id: CaseId,
    auth: &MediatorAuth,
) -> Result<(MediationRecord, PartyDetail), ApiError> {
    let record = state
        .store
        .mediations()
        .get(id)
        .await?
        .ok_or_else(mediation_not_found)?;
    if record.case.owner_staff_id == Some(auth.id.as_uuid()) {
        return Ok((
            record,
            PartyDetail::Opened(sansuo_domain::data_view::DataKind::PartyContact),
        ));
    }
    if state
        .store
        .offers()
        .has_pending(id, auth.id, Utc::now())
        .await?
    {
        return Ok((record, PartyDetail::Masked));
    }
    Err(mediation_not_found())
}

/// A mediation you own, or 404 `mediation_not_found`: checked before any
/// rule on the input or the case's state, so a non-owner learns nothing.
pub(crate) async fn owned_mediation(
    state: &AppState,
    id: CaseId,
    auth: &MediatorAuth,
) -> Result<MediationRecord, ApiError> {
    let record = state
        .store
        .mediations()
        .get(id)
        .await?
        .ok_or_else(mediation_not_found)?;
    if record.case.owner_staff_id != Some(auth.id.as_uuid()) {
        return Err(mediation_not_found());
    }
    Ok(record)
}

/// A room for a session of this mediation, resolved near its community
/// (the community's own, its street's, district's or police station's):
/// 404 `room_not_found` for another street's room.
pub(crate) async fn room_for(
    state: &AppState,
    record: &MediationRecord,
    room: Uuid,
) -> Result<Uuid, ApiError> {
    let room = crate::scoped::resolve(
        state,
        record.case.community_id.into(),
        RoomId(room),
        ErrorCode::RoomNotFound,
    )
    .await?;
    Ok(room.id().0)
}

/// A mediation in the coordinator's subtree (404 `mediation_not_found`
/// outside it, as for a missing one). The coordinator supervises and does
/// not handle it, so its parties are shown masked.
pub(crate) async fn supervised_mediation(
    state: &AppState,
    id: CaseId,
    coordinator: &CoordinatorAuth,
) -> Result<(MediationRecord, PartyDetail), ApiError> {
    crate::scoped::resolve(state, coordinator.scope, id, ErrorCode::MediationNotFound).await?;
    let record = state
        .store
        .mediations()
        .get(id)
        .await?
        .ok_or_else(mediation_not_found)?;
    tracing::info!(case_id = %id, staff_id = %coordinator.id, "mediation read under supervision");
    Ok((record, PartyDetail::Masked))
}

/// 422 `session_in_past` unless the session starts later than now.
pub(crate) fn session_ahead(starts_at: DateTime<Utc>) -> Result<(), ApiError> {
    sansuo_domain::mediation::check_bookable(starts_at, Utc::now())
        .map_err(|e| ApiError::new(ErrorCode::SessionInPast, e.to_string()))
}

pub(crate) async fn staff_mediation_view(
    state: &AppState,
    id: CaseId,
    auth: &MediatorAuth,
) -> Result<MediationView, ApiError> {
    let (record, detail) = mediator_case(state, id, auth).await?;
    mediation_view(state, &record, false, detail).await
}

/// A mediation offered to you or handled by you, or (coordinators and administrators) any
/// mediation in your subtree, with the full history. The parties' names
/// and contacts are shown in full only to the mediator who owns it.
#[utoipa::path(tag = "mediations", security(("bearer" = [])), params(("id" = Uuid, Path)), responses(
    (status = 200, body = MediationView),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody, description = "`forbidden`: not a mediator, coordinator or administrator"),
    (status = 404, body = ErrorBody, description = "`mediation_not_found`: not offered to you, not yours (a coordinator or administrator: not in your subtree)"),
    (status = 503, body = ErrorBody, description = "`audit_unavailable`: the personal data audit could not be written, so the case is not shown with its opened personal data (whatever the request changed stands; read the case again later)"),
))]
#[get("/staff/mediations/{id}")]
pub async fn get_staff_mediation(
    state: web::Data<AppState>,
    auth: CaseReader<MediatorAuth>,
    id: web::Path<Uuid>,
) -> Result<web::Json<MediationView>, ApiError> {
    let id = id.into_inner().into();
    Ok(web::Json(match auth {
        CaseReader::Handler(mediator) => staff_mediation_view(&state, id, &mediator).await?,
        CaseReader::Coordinator(coordinator) => {
            let (record, detail) = supervised_mediation(&state, id, &coordinator).await?;
            mediation_view(&state, &record, false, detail).await?
        }
    }))
}

/// Accept (受理) the mediation offered to you: it is yours.
#[utoipa::path(tag = "mediations", security(("bearer" = [])), params(("id" = Uuid, Path)), responses(
    (status = 200, body = MediationView),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody),
    (status = 404, body = ErrorBody, description = "`mediation_not_found`: no live offer of it to you"),
    (status = 409, body = ErrorBody, description = "`offer_not_pending`: answered, expired or withdrawn meanwhile"),
    (status = 503, body = ErrorBody, description = "`audit_unavailable`: the personal data audit could not be written, so the case is not shown with its opened personal data (whatever the request changed stands; read the case again later)"),
))]
#[post("/staff/mediations/{id}/accept")]
pub async fn accept_mediation(
    state: web::Data<AppState>,
    auth: MediatorAuth,
    request_id: RequestId,
    id: web::Path<Uuid>,
) -> Result<web::Json<MediationView>, ApiError> {
    let id: CaseId = id.into_inner().into();
    answer_offer_of_case(
        &state,
        id,
        auth.id,
        OfferAnswer::Accept,
        context(auth.principal(), &request_id),
        mediation_not_found,
    )
    .await?;
    tracing::info!(case_id = %id, "mediation accepted");
    Ok(web::Json(staff_mediation_view(&state, id, &auth).await?))
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeclineMediationRequest {
    /// Why (2 to 500 characters), for the coordinator.
    pub reason: String,
}

/// Decline the offer (not refusing the case: the next mediator is asked).
#[utoipa::path(tag = "mediations", security(("bearer" = [])), params(("id" = Uuid, Path)), request_body = DeclineMediationRequest, responses(
    (status = 204, description = "Declined; the case goes to the next mediator"),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody),
    (status = 404, body = ErrorBody, description = "`mediation_not_found`: no live offer of it to you"),
    (status = 409, body = ErrorBody, description = "`offer_not_pending`"),
    (status = 422, body = ErrorBody, description = "`validation_failed`"),
))]
#[post("/staff/mediations/{id}/decline")]
pub async fn decline_mediation(
    state: web::Data<AppState>,
    auth: MediatorAuth,
    request_id: RequestId,
    id: web::Path<Uuid>,
    body: web::Json<DeclineMediationRequest>,
) -> Result<HttpResponse, ApiError> {
    let reason = Reason::parse(&body.reason)?;
    let id: CaseId = id.into_inner().into();
    answer_offer_of_case(
        &state,
        id,
        auth.id,
        OfferAnswer::Decline(reason.as_str()),
        context(auth.principal(), &request_id),
        mediation_not_found,
    )
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Why a mediation is not accepted (人民调解法 grounds).
#[derive(Debug, Clone, Copy, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RefusalGroundName {
    /// A court, arbitration body or agency already handles it.
    AlreadyHandled,
    /// Only a specialised body may mediate it.
    SpecialisedBody,
    /// A party refuses mediation.
    PartyRefuses,
    /// Not a civil dispute.
    NotMediable,
}

impl From<RefusalGroundName> for RefusalGround {
    fn from(g: RefusalGroundName) -> Self {
        match g {
            RefusalGroundName::AlreadyHandled => RefusalGround::AlreadyHandled,
            RefusalGroundName::SpecialisedBody => RefusalGround::SpecialisedBody,
            RefusalGroundName::PartyRefuses => RefusalGround::PartyRefuses,
            RefusalGroundName::NotMediable => RefusalGround::NotMediable,
        }
    }
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefuseMediationRequest {
    pub ground: RefusalGroundName,
    /// Where the applicant should go instead (2 to 500 characters); they see it.
    #[schema(example = "该纠纷已由区法院立案，请关注法院通知")]
    pub referral: String,
}

/// Refuse the mediation (不予受理) with a ground and a referral the
/// applicant sees: as its owner, or while it is offered to you.
#[utoipa::path(tag = "mediations", security(("bearer" = [])), params(("id" = Uuid, Path)), request_body = RefuseMediationRequest, responses(
    (status = 200, body = MediationView),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody),
    (status = 404, body = ErrorBody, description = "`mediation_not_found`"),
    (status = 409, body = ErrorBody, description = "`state_conflict`: sessions already booked or held"),
    (status = 422, body = ErrorBody, description = "`validation_failed`"),
))]
#[post("/staff/mediations/{id}/refuse")]
pub async fn refuse_mediation(
    state: web::Data<AppState>,
    auth: MediatorAuth,
    request_id: RequestId,
    id: web::Path<Uuid>,
    body: web::Json<RefuseMediationRequest>,
) -> Result<web::Json<MediationView>, ApiError> {
    let referral = Reason::parse(&body.referral)?;
    let id: CaseId = id.into_inner().into();
    let (record, _) = mediator_case(&state, id, &auth).await?;
    state
        .store
        .mediations()
        .refuse(
            record.case.id.into(),
            body.ground.into(),
            referral.as_str(),
            context(auth.principal(), &request_id),
        )
        .await
        .map_err(ApiError::store_not_found(ErrorCode::MediationNotFound))?;
    let record = state
        .store
        .mediations()
        .get(id)
        .await?
        .ok_or_else(mediation_not_found)?;
    Ok(web::Json(
        mediation_view(&state, &record, false, PartyDetail::Masked).await?,
    ))
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BookSessionRequest {
    pub room_id: Uuid,
    /// On the hour or half hour; at most 8 hours long.
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
}

/// Book a session of your mediation in a room. Neither the room nor you
/// can be booked twice for the same half hour: the database refuses the
/// second booking (409 `slot_taken`), however close together they arrive.
#[utoipa::path(tag = "mediations", security(("bearer" = [])), params(("id" = Uuid, Path)), request_body = BookSessionRequest, responses(
    (status = 201, body = MediationView),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody),
    (status = 404, body = ErrorBody, description = "`mediation_not_found`: not yours; `room_not_found`: no such room near the case's community"),
    (status = 409, body = ErrorBody, description = "`slot_taken`: the room or you are booked then; `state_conflict`: concluded or withdrawn"),
    (status = 422, body = ErrorBody, description = "`validation_failed`: off the half-hour grid, empty or longer than 8 hours; `session_in_past`: it would start now or earlier"),
    (status = 503, body = ErrorBody, description = "`audit_unavailable`: the personal data audit could not be written, so the case is not shown with its opened personal data (whatever the request changed stands; read the case again later)"),
))]
#[post("/staff/mediations/{id}/sessions")]
pub async fn book_session(
    state: web::Data<AppState>,
    auth: MediatorAuth,
    request_id: RequestId,
    id: web::Path<Uuid>,
    body: web::Json<BookSessionRequest>,
) -> Result<HttpResponse, ApiError> {
    let id: CaseId = id.into_inner().into();
    let record = owned_mediation(&state, id, &auth).await?;
    let room = room_for(&state, &record, body.room_id).await?;
    sansuo_domain::mediation::slots_of(body.starts_at, body.ends_at).map_err(|e| {
        ApiError::from(sansuo_domain::ValidationError::new(
            "starts_at",
            e.to_string(),
        ))
    })?;
    session_ahead(body.starts_at)?;
    state
        .store
        .mediations()
        .book_session(
            id,
            auth.id,
            room,
            body.starts_at,
            body.ends_at,
            context(auth.principal(), &request_id),
        )
        .await
        .map_err(ApiError::store_not_found(ErrorCode::MediationNotFound))?;
    Ok(HttpResponse::Created().json(staff_mediation_view(&state, id, &auth).await?))
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelSessionRequest {
    /// Told to the parties (2 to 500 characters).
    pub reason: String,
}

/// Cancel a booked session; its room and time are free again at once.
#[utoipa::path(tag = "mediations", security(("bearer" = [])), params(("id" = Uuid, Path), ("session_id" = Uuid, Path)), request_body = CancelSessionRequest, responses(
    (status = 200, body = MediationView),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody),
    (status = 404, body = ErrorBody, description = "`mediation_not_found`: not yours, or no such scheduled session"),
    (status = 422, body = ErrorBody, description = "`validation_failed`"),
    (status = 503, body = ErrorBody, description = "`audit_unavailable`: the personal data audit could not be written, so the case is not shown with its opened personal data (whatever the request changed stands; read the case again later)"),
))]
#[post("/staff/mediations/{id}/sessions/{session_id}/cancel")]
pub async fn cancel_session(
    state: web::Data<AppState>,
    auth: MediatorAuth,
    request_id: RequestId,
    path: web::Path<(Uuid, Uuid)>,
    body: web::Json<CancelSessionRequest>,
) -> Result<web::Json<MediationView>, ApiError> {
    let reason = Reason::parse(&body.reason)?;
    let (id, session) = path.into_inner();
    let id: CaseId = id.into();
    state
        .store
        .mediations()
        .cancel_session(
            id,
            session,
            auth.id,
            reason.as_str(),
            context(auth.principal(), &request_id),
        )
        .await
        .map_err(ApiError::store_not_found(ErrorCode::MediationNotFound))?;
    Ok(web::Json(staff_mediation_view(&state, id, &auth).await?))
}
