use crate::extract::CaseHandlerAuth;
use crate::{ApiError, AppState, ErrorBody};
use actix_web::{get, web};
use chrono::{DateTime, Utc};
use sansuo_domain::{StaffRole, ValidationError};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::collections::btree_map::Entry;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RosterQuery {
    pub from: DateTime<Utc>,
    /// After `from`, at most 31 days later.
    pub to: DateTime<Utc>,
}

/// Someone on duty for the caller's unit, with their name: a single shift
/// entered by hand, or one of the unit's rota (轮班表) as dispatch reads it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RosterShiftView {
    /// The single shift's id; null for a shift of the rota.
    pub id: Option<Uuid>,
    /// True for a shift of the unit's rota (business calendar, exceptions
    /// and rotations applied), false for a single shift.
    pub from_rota: bool,
    pub org_unit_id: Uuid,
    pub staff_id: Uuid,
    /// The display name of the staff member on duty.
    pub staff_name: String,
    /// True for the caller's own shifts.
    pub mine: bool,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RosterList {
    /// By start time; every shift overlapping the range.
    pub items: Vec<RosterShiftView>,
}

/// The duty roster (值班表) of the caller's own unit, read-only: the unit's
/// single shifts and its rota's shifts and, for an officer whose home is a
/// community, its police station's, overlapping `from`..`to`.
#[utoipa::path(tag = "staff", security(("bearer" = [])), params(RosterQuery), responses(
    (status = 200, body = RosterList),
    (status = 400, body = ErrorBody, description = "`bad_parameter`: `from` or `to` missing or not RFC 3339"),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody, description = "`forbidden`: for lawyers, mediators and officers (coordinators read `/admin/duty-shifts`)"),
    (status = 422, body = ErrorBody, description = "`validation_failed`: the range is empty or longer than 31 days"),
))]
#[get("/staff/duty-shifts")]
pub async fn staff_duty_shifts(
    state: web::Data<AppState>,
    auth: CaseHandlerAuth,
    query: web::Query<RosterQuery>,
) -> Result<web::Json<RosterList>, ApiError> {
    let span = query.to - query.from;
    if span <= chrono::Duration::zero() || span > chrono::Duration::days(31) {
        return Err(
            ValidationError::new("to", "must be after from and at most 31 days later").into(),
        );
    }
    let mut units = vec![auth.scope];
    if auth.role == StaffRole::Officer
        && let Some(station) = state
            .store
            .org()
            .unit(auth.scope)
            .await?
            .and_then(|u| u.station_id)
    {
        units.push(station.into());
    }
    let me = auth.id.as_uuid();
    let duty = |id: Option<Uuid>, unit: Uuid, staff_id: Uuid, starts_at, ends_at| RosterShiftView {
        id,
        from_rota: id.is_none(),
        org_unit_id: unit,
        staff_id,
        staff_name: String::new(),
        mine: staff_id == me,
        starts_at,
        ends_at,
    };
    let calendar = state.store.catalog().business_calendar().await?;
    let mut items = Vec::new();
    for unit in units {
        for s in state
            .store
            .staffing()
            .duty_shifts(unit, query.from, query.to)
            .await?
        {
            items.push(duty(
                Some(s.id),
                s.org_unit_id,
                s.staff_id,
                s.starts_at,
                s.ends_at,
            ));
        }
        if let Some(rota) = state.store.rotas().get(unit).await? {
            for s in rota.rota.between(query.from, query.to, &calendar) {
                for staff in &s.staff {
                    items.push(duty(
                        None,
                        unit.as_uuid(),
                        staff.as_uuid(),
                        s.starts_at,
                        s.ends_at,
                    ));
                }
            }
        }
    }
    items.sort_by_key(|d| (d.starts_at, d.id, d.staff_id));
    let mut names = BTreeMap::new();
    for item in &mut items {
        if let Entry::Vacant(slot) = names.entry(item.staff_id) {
            let name = state
                .store
                .identity()
                .staff(item.staff_id.into())
                .await?
                .map(|s| s.display_name)
                .unwrap_or_default();
            slot.insert(name);
        }
        item.staff_name.clone_from(&names[&item.staff_id]);
    }
    Ok(web::Json(RosterList { items }))
}
