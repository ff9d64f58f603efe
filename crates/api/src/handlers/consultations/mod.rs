pub mod conversion;
pub mod create;
pub mod follow_up;
pub mod get;
pub mod list;
pub mod rate;
pub mod reopen;
pub mod withdraw;

use crate::ApiError;
use crate::AppState;
use crate::views::{self, ConsultationView};
use sansuo_domain::{CaseId, ResidentId};

/// A resident's own consultation, with its public thread and history.
/// Someone else's case is "not found", never "forbidden".
pub(crate) async fn resident_view(
    state: &AppState,
    id: CaseId,
    resident: ResidentId,
) -> Result<ConsultationView, ApiError> {
    let record = state
        .store
        .consultations()
        .get(id)
        .await?
        .filter(|r| r.case.resident_id == Some(resident.as_uuid()))
        .ok_or_else(ApiError::consultation_not_found)?;
    let (messages, events) = tokio::try_join!(
        state.store.cases().thread(id, false),
        state.store.cases().history(id, true)
    )?;
    views::with_links(state, views::consultation(&record, messages, events), false).await
}
