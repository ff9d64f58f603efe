use super::create_org_unit::ServiceName;
use super::{name_text, optional_text};
use crate::error::ErrorCode;
use crate::extract::AdminAuth;
use crate::scoped::{Body, Scoped};
use crate::views::OrgUnitView;
use crate::{ApiError, AppState, ErrorBody};
use actix_web::{patch, web};
use sansuo_domain::org::UnitKind;
use sansuo_domain::{OrgUnitId, ValidationError};
use sansuo_store::org::UnitEdit;
use sansuo_store::scope::Station;
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateOrgUnitRequest {
    /// 1 to 128 characters.
    pub name: Option<String>,
    /// At most 256 characters; an empty string clears it.
    pub address: Option<String>,
    /// At most 128 characters; an empty string clears it.
    #[schema(example = "周一至周五 09:00–17:00")]
    pub office_hours: Option<String>,
    /// Communities only: replaces the services offered.
    pub services: Option<Vec<ServiceName>>,
    /// Communities only: the police station responsible for it from now on
    /// (its open tips stay with whoever holds them).
    pub station_id: Option<Uuid>,
    /// `false` deactivates the unit and its rooms: no new work (residents
    /// cannot submit to it, its QR code opens nothing), history kept. It is
    /// refused with 409 `unit_in_use` while open work would be orphaned:
    /// active units under it, active staff at home there, active
    /// communities it polices, open cases, sessions booked ahead in its
    /// rooms; nothing is moved for you. `true` takes it back (its parent
    /// must be active; its rooms are switched on one by one).
    pub active: Option<bool>,
    /// The unit's case-number pattern for the case files of the
    /// communities under it (the nearest unit up that set one numbers the
    /// case; with none, the community's street numbers it with the
    /// default `〔{year}〕{unit}{kind}字第{n}号`). Placeholders: `{year}`
    /// (registration year, Beijing), `{unit}` (this unit's name), `{kind}`
    /// (调 mediation, 询 consultation, 线 tip) and `{n}` (required, once).
    /// At most 64 characters; an empty string clears it. Numbers already
    /// given keep their text.
    #[schema(example = "〔{year}〕{unit}{kind}字第{n}号")]
    pub case_number_pattern: Option<String>,
}

/// Edit a unit of your subtree (name, address, office hours; a community's
/// services and police station), or deactivate / reactivate it.
#[utoipa::path(tag = "admin", security(("bearer" = [])), params(("id" = Uuid, Path)), request_body = UpdateOrgUnitRequest, responses(
    (status = 200, body = OrgUnitView),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody, description = "`forbidden`: not a coordinator or administrator"),
    (status = 404, body = ErrorBody, description = "`org_unit_not_found`: no such unit in your organisation, or no such police station serving it"),
    (status = 409, body = ErrorBody, description = "`unit_in_use`: deactivating would orphan open work (the message says which)"),
    (status = 422, body = ErrorBody, description = "`validation_failed`: a bad name or text, services or a station for a unit that is not a community, a station that is not active, reactivating under a deactivated parent"),
))]
#[patch("/admin/org-units/{id}")]
pub async fn update_org_unit(
    state: web::Data<AppState>,
    admin: AdminAuth,
    id: Scoped<OrgUnitId>,
    body: Body<UpdateOrgUnitRequest>,
) -> Result<web::Json<OrgUnitView>, ApiError> {
    let id = id.id();
    let not_found = || ApiError::from(ErrorCode::OrgUnitNotFound);
    let unit = state.store.org().unit(id).await?.ok_or_else(not_found)?;
    let body = body.into_inner();
    // Ids first (outside your scope reads as absent), then everything else
    // is checked before anything is written.
    if let Some(station) = body.station_id {
        // Another street's station would get this community's tips.
        crate::scoped::resolve(
            &state,
            admin.scope,
            Station(station.into()),
            ErrorCode::OrgUnitNotFound,
        )
        .await?;
    }
    let name = body
        .name
        .as_deref()
        .map(|n| name_text("name", n, 128))
        .transpose()?;
    let address = optional_text("address", body.address.as_deref(), 256)?;
    let office_hours = optional_text("office_hours", body.office_hours.as_deref(), 128)?;
    let community = unit.kind == UnitKind::Community;
    let pattern = match body.case_number_pattern.as_deref().map(str::trim) {
        None => None,
        Some("") => Some(None),
        Some(p) => {
            sansuo_casefile::number::check_pattern(p)
                .map_err(|why| ValidationError::new("case_number_pattern", why))?;
            Some(Some(p.to_owned()))
        }
    };
    if body.services.is_some() && !community {
        return Err(ValidationError::new("services", "only communities offer services").into());
    }
    let services: Option<Vec<&str>> = body.services.as_ref().map(|list| {
        let mut names: Vec<&str> = Vec::new();
        for service in list {
            let name = service.as_str();
            if !names.contains(&name) {
                names.push(name);
            }
        }
        names
    });
    if let Some(station) = body.station_id {
        if !community {
            return Err(ValidationError::new(
                "station_id",
                "only communities have a police station",
            )
            .into());
        }
        let active = state
            .store
            .org()
            .unit(station.into())
            .await?
            .is_some_and(|s| s.active);
        if !active {
            return Err(
                ValidationError::new("station_id", "that police station is deactivated").into(),
            );
        }
    }
    if body.active == Some(true) && !unit.active {
        let parent_active = match unit.parent_id {
            Some(parent) => state
                .store
                .org()
                .unit(parent.into())
                .await?
                .is_some_and(|p| p.active),
            None => true,
        };
        if !parent_active {
            return Err(ValidationError::new(
                "active",
                "the unit above it is deactivated: reactivate that first",
            )
            .into());
        }
    }

    match body.active {
        Some(false) if unit.active => {
            let in_use = state
                .store
                .org()
                .deactivate_unit(id, chrono::Utc::now())
                .await?;
            if !in_use.is_free() {
                return Err(ApiError::new(ErrorCode::UnitInUse, in_use.describe()));
            }
            tracing::info!(admin = %admin.id, unit = %id, "org unit deactivated");
        }
        Some(true) if !unit.active => {
            state.store.org().reactivate_unit(id).await?;
            tracing::info!(admin = %admin.id, unit = %id, "org unit reactivated");
        }
        _ => {}
    }
    state
        .store
        .org()
        .edit_unit(
            id,
            UnitEdit {
                name: name.as_deref(),
                address: address.as_ref().map(|a| a.as_deref()),
                office_hours: office_hours.as_ref().map(|h| h.as_deref()),
                services: services.as_deref(),
                station: body.station_id.map(Into::into),
            },
        )
        .await?;
    if let Some(pattern) = pattern {
        state
            .store
            .case_numbers()
            .set_pattern(id, pattern.as_deref())
            .await?;
    }
    tracing::info!(admin = %admin.id, unit = %id, "org unit changed");
    let unit = state.store.org().unit(id).await?.ok_or_else(not_found)?;
    Ok(web::Json(unit.into()))
}
