//! The mediator's calendar: their own sessions between two days, in one
//! bounded list (no cursor: at most 31 days of one person's sessions), so
//! a week view needs one request and opens no case's personal data.
use super::list::session_window;
use crate::extract::MediatorAuth;
use crate::{ApiError, AppState, ErrorBody};
use actix_web::{get, web};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::collections::hash_map::Entry;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// The longest span one request may cover, in days (both ends included).
const MAX_DAYS: i64 = 31;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct MySessionsQuery {
    /// The first local (Asia/Shanghai) day, `YYYY-MM-DD`.
    pub from: NaiveDate,
    /// The last local day, included: at most 31 days from `from` on.
    pub to: NaiveDate,
}

/// One of your sessions, with the case it belongs to.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CalendarSessionView {
    pub id: Uuid,
    pub case_id: Uuid,
    pub category_code: String,
    /// The case's status (`scheduled`, `heard`, ...).
    pub case_status: String,
    pub room_id: Uuid,
    pub room_name: Option<String>,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// `scheduled` or `held` (cancelled sessions are left out).
    pub status: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CalendarSessionList {
    /// In start order.
    pub items: Vec<CalendarSessionView>,
}

/// Your sessions (booked or held, not cancelled) starting on the days
/// `from` to `to`, for your calendar: only sessions you hold yourself.
#[utoipa::path(tag = "mediations", security(("bearer" = [])), params(MySessionsQuery), responses(
    (status = 200, body = CalendarSessionList),
    (status = 400, body = ErrorBody, description = "`bad_parameter`: no or bad `from`/`to`, `to` before `from`, or more than 31 days"),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody, description = "`forbidden`: not a mediator"),
))]
#[get("/staff/me/sessions")]
pub async fn my_sessions(
    state: web::Data<AppState>,
    auth: MediatorAuth,
    query: web::Query<MySessionsQuery>,
) -> Result<web::Json<CalendarSessionList>, ApiError> {
    let MySessionsQuery { from, to } = query.into_inner();
    if to < from || (to - from).num_days() >= MAX_DAYS {
        return Err(ApiError::bad_parameter(
            "`to` is on or after `from`, and at most 31 days are asked at once",
        ));
    }
    let (start, end) = session_window(Some(from), Some(to))?
        .ok_or_else(|| ApiError::bad_parameter("`from` and `to` are required"))?;
    let rows = state
        .store
        .mediations()
        .sessions_of(auth.id, start, end)
        .await?;
    let mut rooms: HashMap<Uuid, Option<String>> = HashMap::new();
    let mut items = Vec::with_capacity(rows.len());
    for row in rows {
        let s = row.session;
        if let Entry::Vacant(slot) = rooms.entry(s.room_id) {
            let room = state.store.staffing().room(s.room_id).await?;
            slot.insert(room.map(|r| r.name));
        }
        items.push(CalendarSessionView {
            id: s.id,
            case_id: s.case_id.as_uuid(),
            category_code: row.category_code,
            case_status: row.case_status,
            room_id: s.room_id,
            room_name: rooms.get(&s.room_id).cloned().flatten(),
            starts_at: s.starts_at,
            ends_at: s.ends_at,
            status: s.status.as_str().to_owned(),
        });
    }
    Ok(web::Json(CalendarSessionList { items }))
}
