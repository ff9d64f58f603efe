pub mod bind_phone;
pub mod data_views;
pub mod delete;
pub mod me;
pub mod subscribe;
pub mod templates;

use crate::views::ResidentView;
use crate::{ApiError, AppState};
use sansuo_domain::ResidentId;

/// The calling resident as they see themselves (phone masked).
pub(crate) async fn resident_view(
    state: &AppState,
    id: ResidentId,
) -> Result<ResidentView, ApiError> {
    let resident = state
        .store
        .identity()
        .resident(id)
        .await?
        .ok_or_else(|| ApiError::unauthenticated("this resident no longer exists"))?;
    Ok(ResidentView {
        id: resident.id.as_uuid(),
        phone_masked: resident.phone_masked,
        phone_bound_at: resident.phone_bound_at,
    })
}
