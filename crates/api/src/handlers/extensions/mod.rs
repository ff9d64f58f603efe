//! 延期 (extension) for every service: the case's owner asks for more
//! business time on its resolution target (`POST /staff/{service}/{id}/extension`);
//! a coordinator or administrator over the case grants or refuses it; a
//! granted extension moves the resolution clock, so no breach is recorded
//! for the extended time. The owner is told of the decision on their stream
//! (`extension`).

pub mod consultation;
pub mod grant;
pub mod list;
pub mod mediation;
pub mod refuse;
pub mod tip;

use crate::error::ErrorCode;
use crate::handlers::context;
use crate::middleware::RequestId;
use crate::{ApiError, AppState};
use chrono::{DateTime, Utc};
use sansuo_domain::catalog::Service;
use sansuo_domain::supervision::{ExtensionRefusal, MAX_EXTENSION_HOURS, extension_minutes};
use sansuo_domain::values::Reason;
use sansuo_domain::{Actor, CaseId, StaffId};
use sansuo_store::supervision::ExtensionRecord;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExtensionRequest {
    /// Why more time is needed (2 to 500 characters), for the coordinator.
    #[schema(example = "需等待当事人补充材料")]
    pub reason: String,
    /// Business hours to add to the resolution target, 1 to 240.
    #[schema(minimum = 1, maximum = 240, example = 16)]
    pub extra_hours: i64,
}

#[derive(Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExtensionDecision {
    /// Optional, 2 to 500 characters, kept in the case's internal history.
    #[schema(example = "同意延期，请按期办结")]
    pub note: Option<String>,
}

/// An extension request and its decision.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ExtensionView {
    pub id: Uuid,
    pub case_id: Uuid,
    #[schema(example = "mediation")]
    pub service: String,
    pub requested_by: Uuid,
    pub reason: String,
    /// Business minutes asked for.
    pub extra_minutes: i32,
    /// `pending`, `granted` or `refused`.
    #[schema(example = "pending")]
    pub status: String,
    pub decided_by: Option<Uuid>,
    pub decided_at: Option<DateTime<Utc>>,
    pub decision_note: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl From<&ExtensionRecord> for ExtensionView {
    fn from(e: &ExtensionRecord) -> Self {
        Self {
            id: e.id.as_uuid(),
            case_id: e.case_id.as_uuid(),
            service: e.service.to_string(),
            requested_by: e.requested_by.as_uuid(),
            reason: e.reason.clone(),
            extra_minutes: e.extra_minutes,
            status: e.status.to_string(),
            decided_by: e.decided_by.map(|s| s.as_uuid()),
            decided_at: e.decided_at,
            decision_note: e.decision_note.clone(),
            created_at: e.created_at,
        }
    }
}

pub(crate) fn refused(refusal: ExtensionRefusal) -> ApiError {
    match refusal {
        ExtensionRefusal::Finished => ErrorCode::StateConflict.into(),
        ExtensionRefusal::Pending => ErrorCode::ExtensionPending.into(),
        ExtensionRefusal::Decided => ErrorCode::ExtensionDecided.into(),
    }
}

/// The owner `staff` asks for more time on case `id` of `service`.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn request(
    state: &AppState,
    id: CaseId,
    service: Service,
    staff: StaffId,
    actor: Actor,
    body: &ExtensionRequest,
    request_id: &RequestId,
    not_found: ErrorCode,
) -> Result<ExtensionView, ApiError> {
    let reason = Reason::parse(&body.reason)?;
    let minutes = extension_minutes(body.extra_hours).ok_or_else(|| {
        ApiError::new(
            ErrorCode::ValidationFailed,
            format!("extra_hours must be between 1 and {MAX_EXTENSION_HOURS}"),
        )
    })?;
    let record = state
        .store
        .supervision()
        .request_extension(
            id,
            service,
            staff,
            reason.as_str(),
            minutes,
            context(actor, request_id),
        )
        .await
        .map_err(ApiError::store_not_found(not_found))?
        .map_err(refused)?;
    tracing::info!(case_id = %id, extension_id = %record.id, "extension requested");
    Ok(ExtensionView::from(&record))
}
