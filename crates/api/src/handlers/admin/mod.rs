//! Coordinators and administrators set up their part of the district:
//! the organisation tree, staff and their routing attributes, the duty
//! roster, mediation rooms and the public-holiday calendar; they route by
//! hand what the engine could not (the unrouted queue, reassignment,
//! reopening), read the routing statistics, and administrators edit the
//! workflows. Every read and write is confined to the caller's own subtree.
use crate::error::ErrorCode;

pub mod add_shift;
pub mod cases;
pub mod categories;
pub mod community_qrcode;
pub mod create_org_unit;
pub mod create_room;
pub mod create_staff;
pub mod decide_held;
pub mod delete_calendar_day;
pub mod delete_shift;
pub mod duty_rotas;
pub mod generate_qrcodes;
pub mod import_calendar;
pub mod import_district;
pub mod integrity;
pub mod law_firms;
pub mod lawyer_signings;
pub mod list_calendar;
pub mod list_held;
pub mod list_mediations;
pub mod list_org_units;
pub mod list_rooms;
pub mod list_shifts;
pub mod list_staff;
pub mod mediation_report;
pub mod monthly_report;
pub mod open311_keys;
pub mod personal_data_views;
pub mod set_calendar_day;
pub mod stats_live;
pub mod stats_summary;
pub mod update_org_unit;
pub mod update_room;
pub mod update_staff;
pub mod workflows;

use crate::extract::AdminAuth;
use crate::{ApiError, AppState};
use sansuo_domain::OrgUnitId;
use sansuo_store::scope::InScope;

/// The unit, resolved within the caller's subtree: 404 `org_unit_not_found`
/// whether it does not exist or lies outside (ids reveal nothing).
pub(crate) async fn ensure_within(
    state: &AppState,
    admin: &AdminAuth,
    unit: OrgUnitId,
) -> Result<InScope<OrgUnitId>, ApiError> {
    crate::scoped::resolve(state, admin.scope, unit, ErrorCode::OrgUnitNotFound).await
}

/// An optional free-text field of a PATCH: absent leaves it, an empty (or
/// blank) string clears it, otherwise at most `max` characters, trimmed.
pub(crate) fn optional_text(
    field: &'static str,
    raw: Option<&str>,
    max: usize,
) -> Result<Option<Option<String>>, ApiError> {
    let Some(raw) = raw else {
        return Ok(None);
    };
    let text = raw.trim();
    if text.is_empty() {
        return Ok(Some(None));
    }
    if text.chars().count() > max {
        return Err(sansuo_domain::ValidationError::new(
            field,
            format!("must be at most {max} characters"),
        )
        .into());
    }
    Ok(Some(Some(text.to_owned())))
}

/// A required name: 1 to `max` characters, trimmed.
pub(crate) fn name_text(field: &'static str, raw: &str, max: usize) -> Result<String, ApiError> {
    let name = raw.trim();
    if name.is_empty() || name.chars().count() > max {
        return Err(sansuo_domain::ValidationError::new(
            field,
            format!("must be 1 to {max} characters"),
        )
        .into());
    }
    Ok(name.to_owned())
}
