//! Rooms for the mediator's sessions: the rooms they may book (their own
//! unit's, and for a community mediator those over the community: its
//! street's, district's or police station's), and the free times of one
//! room on a day, computed from its opening hours, the official calendar
//! and what is booked (`domain::room_hours`).
use crate::error::ErrorCode;
use crate::extract::MediatorAuth;
use crate::scoped::Scoped;
use crate::views::{RoomList, RoomView};
use crate::{ApiError, AppState, ErrorBody};
use actix_web::{HttpRequest, get, web};
use chrono::{DateTime, NaiveDate, Utc};
use sansuo_domain::room_hours::{
    OpeningHours, free_slots, local_day_bounds, open_intervals, open_spans,
};
use sansuo_store::scope::RoomId;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// The rooms you may book sessions in, by name.
#[utoipa::path(tag = "mediations", security(("bearer" = [])), responses(
    (status = 200, body = RoomList),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody, description = "`forbidden`: not a mediator"),
))]
#[get("/staff/rooms")]
pub async fn list_staff_rooms(
    state: web::Data<AppState>,
    auth: MediatorAuth,
) -> Result<web::Json<RoomList>, ApiError> {
    let mut items: Vec<RoomView> = Vec::new();
    for room in state.store.staffing().active_rooms().await? {
        // The same rule a booking's room is resolved by.
        let usable = state
            .store
            .org()
            .resolve_in_scope(auth.scope, RoomId(room.id))
            .await
            .is_ok();
        if usable {
            items.push(room.into());
        }
    }
    Ok(web::Json(RoomList { items }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct FreeSlotsQuery {
    /// The local (Asia/Shanghai) date, `YYYY-MM-DD`.
    pub date: NaiveDate,
    /// The session's length in minutes: 30 to 480, a multiple of 30 (default 60).
    #[param(minimum = 30, maximum = 480, multiple_of = 30)]
    pub minutes: Option<i64>,
}

/// `[starts_at, ends_at)`, in UTC.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TimeSpanView {
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct FreeSlotsView {
    pub room_id: Uuid,
    pub date: NaiveDate,
    pub minutes: i64,
    /// The room's opening hours as entered; when they cannot be read, the
    /// official working hours apply.
    pub opening_hours: Option<String>,
    /// When the room is open that day (none on a holiday or a closed day).
    pub open: Vec<TimeSpanView>,
    /// Session times of `minutes` that start on the half hour, have not
    /// begun, and touch no booked half hour of the room or of you.
    pub items: Vec<TimeSpanView>,
}

/// The free session times of a room you may book, on one day.
#[utoipa::path(tag = "mediations", security(("bearer" = [])), params(("id" = Uuid, Path), FreeSlotsQuery), responses(
    (status = 200, body = FreeSlotsView),
    (status = 400, body = ErrorBody, description = "`bad_parameter`: no or bad `date`, bad `minutes` (a day outside the years 2000 to 2999 has nothing open)"),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody, description = "`forbidden`: not a mediator"),
    (status = 404, body = ErrorBody, description = "`room_not_found`: no such room you may book"),
))]
#[get("/staff/rooms/{id}/free-slots")]
pub async fn room_free_slots(
    state: web::Data<AppState>,
    auth: MediatorAuth,
    room: Scoped<RoomId>,
    req: HttpRequest,
) -> Result<web::Json<FreeSlotsView>, ApiError> {
    // Read after the room's lookup, so another street's room is 404
    // whatever the query says.
    let query = web::Query::<FreeSlotsQuery>::from_query(req.query_string())
        .map_err(|e| ApiError::bad_parameter(e.to_string()))?
        .into_inner();
    // A day no session can be on: nothing is open (see `plausible_day`).
    let plausible = super::list::plausible_day(super::list::four_digit_year(query.date)?);
    let minutes = query.minutes.unwrap_or(60);
    let record = state
        .store
        .staffing()
        .room(room.id().0)
        .await?
        .ok_or_else(|| ApiError::from(ErrorCode::RoomNotFound))?;
    let calendar = state.store.catalog().business_calendar().await?;
    let hours = record
        .opening_hours
        .as_deref()
        .and_then(OpeningHours::parse);
    let open = match plausible {
        true => open_intervals(hours.as_ref(), &calendar, query.date),
        false => Vec::new(),
    };
    let busy: BTreeSet<DateTime<Utc>> = match plausible {
        true => {
            let (from, to) = local_day_bounds(query.date);
            state
                .store
                .mediations()
                .booked_slots(record.id, auth.id, from, to)
                .await?
                .into_iter()
                .collect()
        }
        false => BTreeSet::new(),
    };
    let slots = free_slots(query.date, &open, &busy, minutes, Utc::now())
        .map_err(|e| ApiError::bad_parameter(e.to_string()))?;
    Ok(web::Json(FreeSlotsView {
        room_id: record.id,
        date: query.date,
        minutes,
        opening_hours: record.opening_hours.clone(),
        open: open_spans(query.date, &open)
            .into_iter()
            .map(|s| TimeSpanView {
                starts_at: s.starts_at,
                ends_at: s.ends_at,
            })
            .collect(),
        items: slots
            .into_iter()
            .map(|s| TimeSpanView {
                starts_at: s.starts_at,
                ends_at: s.ends_at,
            })
            .collect(),
    }))
}
