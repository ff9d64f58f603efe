//! 督办 (supervision) and the overdue view, for every service: a
//! coordinator (or administrator) puts an open case of their subtree under
//! supervision with a deadline; the owner is told (`supervised` on their
//! stream); a missed deadline climbs to the parent unit's coordinators (the
//! worker's `SupervisionDue` timer); coordinators list the supervised and
//! the overdue cases of their subtree. The rules are
//! `domain::supervision`.

pub mod lift;
pub mod list;
pub mod overdue;
pub mod supervise;

use chrono::{DateTime, Utc};
use sansuo_store::supervision::SupervisionRecord;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// A live supervision and the case it holds.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SupervisionView {
    pub id: Uuid,
    pub case_id: Uuid,
    #[schema(example = "consultation")]
    pub service: String,
    /// The case's own status.
    pub case_status: String,
    pub owner_staff_id: Option<Uuid>,
    /// The unit whose coordinators hold the supervision now.
    pub unit_id: Uuid,
    /// 0 where it was put; one more for each level it climbed.
    pub level: i32,
    pub deadline: DateTime<Utc>,
    /// Whether the deadline has passed (it climbs once, when its timer finds it).
    pub missed: bool,
    pub missed_at: Option<DateTime<Utc>>,
    pub note: Option<String>,
    pub created_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
}

impl SupervisionView {
    pub(crate) fn of(record: &SupervisionRecord, now: DateTime<Utc>) -> Self {
        Self {
            id: record.id.as_uuid(),
            case_id: record.case.id,
            service: record.case.service.to_string(),
            case_status: record.case.status.to_string(),
            owner_staff_id: record.case.owner_staff_id,
            unit_id: record.unit_id.as_uuid(),
            level: record.level,
            deadline: record.deadline,
            missed: record.missed_at.is_some() || record.deadline <= now,
            missed_at: record.missed_at,
            note: record.note.clone(),
            created_by: record.created_by.map(|s| s.as_uuid()),
            created_at: record.created_at,
        }
    }
}

/// Where a case stands in the work-order practice, on the staff views of
/// every service (handlers, coordinators, administrators; never residents):
/// its live 督办 and every 延期 asked for, so the person handling it and
/// the person supervising it read the same clock.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct WorkOrderView {
    /// The live supervision, if any.
    pub supervision: Option<SupervisionView>,
    /// Every extension asked for, oldest first (at most one `pending`).
    pub extensions: Vec<crate::handlers::extensions::ExtensionView>,
}

/// The work-order view of a case of `service`.
pub(crate) async fn work_order_of(
    state: &crate::AppState,
    id: sansuo_domain::CaseId,
    service: sansuo_domain::catalog::Service,
) -> Result<WorkOrderView, crate::ApiError> {
    let supervision = state.store.supervision().live_of(id).await?;
    let extensions = state.store.supervision().extensions_of(id, service).await?;
    Ok(WorkOrderView {
        supervision: supervision.map(|s| SupervisionView::of(&s, Utc::now())),
        extensions: extensions.iter().map(Into::into).collect(),
    })
}
