//! A unit's recurring duty rota (排班): a weekly pattern plus dated
//! exceptions, written in one call ("24/7 in three shifts", "weekdays
//! 09:00–17:30 except holidays"). One rota per unit; writing it again
//! replaces it. Dispatch reads the rota as it stands beside the single
//! shifts of `/admin/duty-shifts` (`store::rotas`), so nothing is
//! materialised: a replaced or deleted rota counts from the next case on.
//! The rules (days, midnight, rotation, exceptions) are
//! `sansuo_domain::rota`.
use crate::error::ErrorCode;
use crate::extract::AdminAuth;
use crate::scoped::{Body, Scoped};
use crate::{ApiError, AppState, ErrorBody};
use actix_web::{HttpResponse, delete, get, put, web};
use chrono::{DateTime, NaiveDate, Utc};
use sansuo_domain::rota::{ExceptionSpec, Rota, RotaSpec, SlotSpec};
use sansuo_domain::{OrgUnitId, StaffId};
use sansuo_store::rotas::RotaRecord;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// A rota as written: the pattern's slots repeat every day they name;
/// times are Asia/Shanghai wall-clock.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RotaBody {
    /// The first day the rota applies; day 0 of every rotation.
    pub starts_on: NaiveDate,
    /// The last day it applies (inclusive); open-ended when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ends_on: Option<NaiveDate>,
    /// 1 to 50 slots.
    pub slots: Vec<RotaSlot>,
    /// Days whose shifts are replaced (or, with no slots, removed); they
    /// must not overlap. At most 200.
    #[serde(default)]
    pub exceptions: Vec<RotaException>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RotaSlot {
    /// `every_day`, `workdays` (working days of the business calendar:
    /// public holidays off, make-up days on), `rest_days`, or weekdays such
    /// as `mon,tue,wed,thu,fri`.
    #[schema(example = "every_day")]
    pub days: String,
    /// `HH:MM`, 00:00 to 23:59.
    #[schema(example = "16:00")]
    pub start: String,
    /// `HH:MM`, up to 24:00. At or before `start` the shift ends the next
    /// day (20:00–08:00; 08:00–08:00 is 24 hours). A shift belongs to the
    /// day it starts on.
    #[schema(example = "24:00")]
    pub end: String,
    /// 1 to 50 active staff of the unit (at home in it or below).
    pub staff: Vec<Uuid>,
    /// One of `staff` per day in turn instead of all of them: day n after
    /// `starts_on` takes `staff[n % len]`.
    #[serde(default)]
    pub rotate: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RotaException {
    pub from: NaiveDate,
    /// Inclusive; at most 366 days after `from`.
    pub to: NaiveDate,
    /// The shifts starting on these days instead; empty for no duty.
    #[serde(default)]
    pub slots: Vec<RotaSlot>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RotaView {
    pub org_unit_id: Uuid,
    pub rota: RotaBody,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RotaList {
    pub items: Vec<RotaView>,
}

/// One concrete shift of a rota.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RotaShiftView {
    /// The local day it starts on.
    pub day: NaiveDate,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub staff_ids: Vec<Uuid>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RotaPreview {
    pub items: Vec<RotaShiftView>,
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PreviewQuery {
    /// How many shifts, 1 to 200 (default 20), looking at most 366 days ahead.
    pub count: Option<u32>,
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RotaQuery {
    /// Only rotas of this unit and the units below it; default: your whole
    /// subtree.
    pub org_unit_id: Option<Uuid>,
}

fn slot_spec(slot: &RotaSlot) -> SlotSpec {
    SlotSpec {
        days: slot.days.clone(),
        start: slot.start.clone(),
        end: slot.end.clone(),
        staff: slot.staff.iter().copied().map(StaffId::from).collect(),
        rotate: slot.rotate,
    }
}

fn slot_body(slot: &SlotSpec) -> RotaSlot {
    RotaSlot {
        days: slot.days.clone(),
        start: slot.start.clone(),
        end: slot.end.clone(),
        staff: slot.staff.iter().map(|s| s.as_uuid()).collect(),
        rotate: slot.rotate,
    }
}

impl From<&RotaBody> for RotaSpec {
    fn from(body: &RotaBody) -> Self {
        RotaSpec {
            starts_on: body.starts_on,
            ends_on: body.ends_on,
            slots: body.slots.iter().map(slot_spec).collect(),
            exceptions: body
                .exceptions
                .iter()
                .map(|e| ExceptionSpec {
                    from: e.from,
                    to: e.to,
                    slots: e.slots.iter().map(slot_spec).collect(),
                })
                .collect(),
        }
    }
}

impl From<RotaRecord> for RotaView {
    fn from(r: RotaRecord) -> Self {
        Self {
            org_unit_id: r.org_unit_id.as_uuid(),
            rota: RotaBody {
                starts_on: r.spec.starts_on,
                ends_on: r.spec.ends_on,
                slots: r.spec.slots.iter().map(slot_body).collect(),
                exceptions: r
                    .spec
                    .exceptions
                    .iter()
                    .map(|e| RotaException {
                        from: e.from,
                        to: e.to,
                        slots: e.slots.iter().map(slot_body).collect(),
                    })
                    .collect(),
            },
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

/// Create or replace the unit's duty rota in one call. Everyone named must
/// be an active account at home in the unit (or below it).
#[utoipa::path(tag = "admin", security(("bearer" = [])), params(("id" = Uuid, Path)), request_body = RotaBody, responses(
    (status = 200, body = RotaView, description = "Replaced"),
    (status = 201, body = RotaView, description = "Created"),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody, description = "`forbidden`: not a coordinator or administrator"),
    (status = 404, body = ErrorBody, description = "`org_unit_not_found`: no such unit in your organisation; `staff_not_found`: someone named is no active account of that unit"),
    (status = 422, body = ErrorBody, description = "`validation_failed`: the message names the field, e.g. `slots[1].end`"),
))]
#[put("/admin/org-units/{id}/duty-rota")]
pub async fn put_rota(
    state: web::Data<AppState>,
    admin: AdminAuth,
    id: Scoped<OrgUnitId>,
    body: Body<RotaBody>,
) -> Result<HttpResponse, ApiError> {
    let unit = id.id();
    let spec = RotaSpec::from(&*body);
    // Everyone named, within the unit first (404 before any 422 about
    // them), then the rules.
    let named: Vec<StaffId> = {
        let mut all: Vec<StaffId> = Vec::new();
        let every = spec
            .slots
            .iter()
            .chain(spec.exceptions.iter().flat_map(|e| e.slots.iter()));
        for id in every.flat_map(|s| s.staff.iter()) {
            if !all.contains(id) {
                all.push(*id);
            }
        }
        all
    };
    for staff in named {
        let staff = crate::scoped::resolve(&state, unit, staff, ErrorCode::StaffNotFound).await?;
        state
            .store
            .identity()
            .staff(staff.id())
            .await?
            .filter(|s| s.active)
            .ok_or_else(|| {
                ApiError::new(ErrorCode::StaffNotFound, "no such active staff account")
            })?;
    }
    Rota::parse(&spec).map_err(|e| ApiError::new(ErrorCode::ValidationFailed, e.to_string()))?;
    let (rota, created) = state.store.rotas().put(unit, &spec, Utc::now()).await?;
    tracing::info!(admin = %admin.id, unit = %unit, created, "duty rota written");
    let view = RotaView::from(rota);
    Ok(if created {
        HttpResponse::Created().json(view)
    } else {
        HttpResponse::Ok().json(view)
    })
}

/// The unit's duty rota as written.
#[utoipa::path(tag = "admin", security(("bearer" = [])), params(("id" = Uuid, Path)), responses(
    (status = 200, body = RotaView),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody, description = "`forbidden`: not a coordinator or administrator"),
    (status = 404, body = ErrorBody, description = "`org_unit_not_found`: no such unit in your organisation; `rota_not_found`: it has no rota"),
))]
#[get("/admin/org-units/{id}/duty-rota")]
pub async fn get_rota(
    state: web::Data<AppState>,
    _admin: AdminAuth,
    id: Scoped<OrgUnitId>,
) -> Result<web::Json<RotaView>, ApiError> {
    let rota = state
        .store
        .rotas()
        .get(id.id())
        .await?
        .ok_or_else(|| ApiError::from(ErrorCode::RotaNotFound))?;
    Ok(web::Json(rota.into()))
}

/// Remove the unit's duty rota; single shifts stay.
#[utoipa::path(tag = "admin", security(("bearer" = [])), params(("id" = Uuid, Path)), responses(
    (status = 204, description = "Removed"),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody, description = "`forbidden`: not a coordinator or administrator"),
    (status = 404, body = ErrorBody, description = "`org_unit_not_found`: no such unit in your organisation; `rota_not_found`: it has no rota"),
))]
#[delete("/admin/org-units/{id}/duty-rota")]
pub async fn delete_rota(
    state: web::Data<AppState>,
    admin: AdminAuth,
    id: Scoped<OrgUnitId>,
) -> Result<HttpResponse, ApiError> {
    let unit = id.id();
    if !state.store.rotas().delete(unit).await? {
        return Err(ErrorCode::RotaNotFound.into());
    }
    tracing::info!(admin = %admin.id, unit = %unit, "duty rota removed");
    Ok(HttpResponse::NoContent().finish())
}

/// The rota's next shifts from now (the one running now first), as
/// dispatch will read them: business calendar, exceptions and rotations
/// applied.
#[utoipa::path(tag = "admin", security(("bearer" = [])), params(("id" = Uuid, Path), PreviewQuery), responses(
    (status = 200, body = RotaPreview),
    (status = 400, body = ErrorBody, description = "`bad_parameter`"),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody, description = "`forbidden`: not a coordinator or administrator"),
    (status = 404, body = ErrorBody, description = "`org_unit_not_found`: no such unit in your organisation; `rota_not_found`: it has no rota"),
    (status = 422, body = ErrorBody, description = "`validation_failed`: count out of range"),
))]
#[get("/admin/org-units/{id}/duty-rota/preview")]
pub async fn preview_rota(
    state: web::Data<AppState>,
    _admin: AdminAuth,
    id: Scoped<OrgUnitId>,
    query: web::Query<PreviewQuery>,
) -> Result<web::Json<RotaPreview>, ApiError> {
    let count = query.count.unwrap_or(20);
    if !(1..=200).contains(&count) {
        return Err(sansuo_domain::ValidationError::new("count", "must be 1 to 200").into());
    }
    let rota = state
        .store
        .rotas()
        .get(id.id())
        .await?
        .ok_or_else(|| ApiError::from(ErrorCode::RotaNotFound))?;
    let calendar = state.store.catalog().business_calendar().await?;
    let items = rota
        .rota
        .upcoming(Utc::now(), count as usize, 366, &calendar)
        .into_iter()
        .map(|s| RotaShiftView {
            day: s.day,
            starts_at: s.starts_at,
            ends_at: s.ends_at,
            staff_ids: s.staff.iter().map(|id| id.as_uuid()).collect(),
        })
        .collect();
    Ok(web::Json(RotaPreview { items }))
}

/// The duty rotas of the units in your subtree (or below one unit of it).
#[utoipa::path(tag = "admin", security(("bearer" = [])), params(RotaQuery), responses(
    (status = 200, body = RotaList),
    (status = 400, body = ErrorBody, description = "`bad_parameter`"),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody, description = "`forbidden`: not a coordinator or administrator"),
    (status = 404, body = ErrorBody, description = "`org_unit_not_found`"),
))]
#[get("/admin/duty-rotas")]
pub async fn list_rotas(
    state: web::Data<AppState>,
    admin: AdminAuth,
    query: web::Query<RotaQuery>,
) -> Result<web::Json<RotaList>, ApiError> {
    let within = match query.org_unit_id {
        Some(unit) => super::ensure_within(&state, &admin, unit.into())
            .await?
            .id(),
        None => admin.scope,
    };
    let mut items = Vec::new();
    for rota in state.store.rotas().all().await? {
        if state
            .store
            .staffing()
            .unit_within(rota.org_unit_id, within)
            .await?
        {
            items.push(rota.into());
        }
    }
    Ok(web::Json(RotaList { items }))
}
