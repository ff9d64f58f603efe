use crate::error::ErrorCode;
pub mod accept_offer;
pub mod case_file;
pub mod claim;
pub mod convert;
pub mod decline_offer;
pub mod duty_shifts;
pub mod events;
pub mod get_consultation;
pub mod hand_back;
pub mod list_consultations;
pub mod list_offers;
pub mod me;
pub mod next_case;
pub mod post_message;
pub mod resolve;
pub mod set_presence;
pub mod subscribe;
pub mod wechat;

use crate::extract::{CoordinatorAuth, LawyerAuth};
use crate::views::{self, ConsultationView};
use crate::{ApiError, AppState};
use sansuo_domain::catalog::Service;
use sansuo_domain::{CaseId, ConsultationStatus};
use sansuo_store::consultations::ConsultationRecord;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// The pools this lawyer serves (through their firm's signings).
pub(crate) async fn pool_units(
    state: &AppState,
    lawyer: &LawyerAuth,
) -> Result<Vec<Uuid>, ApiError> {
    let account = state
        .store
        .identity()
        .staff(lawyer.id)
        .await?
        .ok_or_else(|| ApiError::unauthenticated("account no longer exists"))?;
    match account.law_firm_id {
        Some(firm) => Ok(state.store.org().pool_units_of_firm(firm).await?),
        None => Ok(Vec::new()),
    }
}

/// A consultation this lawyer may see: one they own, one offered to them
/// now, or one waiting in a pool they serve. Anything else is "not found".
pub(crate) async fn lawyer_case(
    state: &AppState,
    id: CaseId,
    lawyer: &LawyerAuth,
) -> Result<ConsultationRecord, ApiError> {
    let record = state
        .store
        .consultations()
        .get(id)
        .await?
        .ok_or_else(ApiError::consultation_not_found)?;
    if record.case.owner_staff_id == Some(lawyer.id.as_uuid()) {
        return Ok(record);
    }
    if state
        .store
        .offers()
        .has_pending(id, lawyer.id, chrono::Utc::now())
        .await?
    {
        return Ok(record);
    }
    if record.status() == ConsultationStatus::Pooled {
        let units = pool_units(state, lawyer).await?;
        if record.case.pool_unit_id.is_some_and(|u| units.contains(&u)) {
            return Ok(record);
        }
    }
    Err(ApiError::consultation_not_found())
}

/// The staff view: the full thread including internal notes, the full history.
pub(crate) async fn lawyer_view(
    state: &AppState,
    id: CaseId,
    lawyer: &LawyerAuth,
) -> Result<ConsultationView, ApiError> {
    let record = lawyer_case(state, id, lawyer).await?;
    let owner = record.case.owner_staff_id == Some(lawyer.id.as_uuid());
    staff_consultation_view(state, &record, owner).await
}

/// A consultation in the coordinator's subtree, as staff see it (a
/// consultation view names no resident, so there is nothing to mask):
/// 404 `consultation_not_found` outside the subtree, as for a missing one.
pub(crate) async fn supervised_consultation_view(
    state: &AppState,
    id: CaseId,
    coordinator: &CoordinatorAuth,
) -> Result<ConsultationView, ApiError> {
    crate::scoped::resolve(
        state,
        coordinator.scope,
        id,
        ErrorCode::ConsultationNotFound,
    )
    .await?;
    let record = state
        .store
        .consultations()
        .get(id)
        .await?
        .ok_or_else(ApiError::consultation_not_found)?;
    tracing::info!(case_id = %id, staff_id = %coordinator.id, "consultation read under supervision");
    staff_consultation_view(state, &record, false).await
}

async fn staff_consultation_view(
    state: &AppState,
    record: &ConsultationRecord,
    owner: bool,
) -> Result<ConsultationView, ApiError> {
    let id = record.case.id.into();
    let (messages, events) = tokio::try_join!(
        state.store.cases().thread(id, true),
        state.store.cases().history(id, false)
    )?;
    let mut view =
        views::with_links(state, views::consultation(record, messages, events), owner).await?;
    view.work_order =
        Some(crate::handlers::supervision::work_order_of(state, id, Service::Consultation).await?);
    Ok(view)
}

/// A case as the staff member who now owns it sees it, whatever its
/// service: `service` says which. A consultation reads exactly as
/// `ConsultationView` (plus `service`), a mediation as `MediationView`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(tag = "service", rename_all = "snake_case")]
pub enum StaffCaseView {
    // Boxed: the views are wide and of different sizes.
    Consultation(Box<ConsultationView>),
    Mediation(Box<crate::handlers::mediations::MediationView>),
    Tip(Box<crate::handlers::tips::TipView>),
}

/// The case this staff member owns, as they see it (full thread or parties
/// opened). Anything else is "not found".
pub(crate) async fn owned_case_view(
    state: &AppState,
    id: CaseId,
    staff: sansuo_domain::StaffId,
) -> Result<StaffCaseView, ApiError> {
    let not_found = || ApiError::new(ErrorCode::CaseNotFound, "no such case of yours");
    let case = state
        .store
        .cases()
        .get(id)
        .await?
        .filter(|c| c.owner_staff_id == Some(staff.as_uuid()))
        .ok_or_else(not_found)?;
    match case.service.as_str() {
        sansuo_store::consultations::SERVICE => {
            let record = state
                .store
                .consultations()
                .get(id)
                .await?
                .ok_or_else(not_found)?;
            let (messages, events) = tokio::try_join!(
                state.store.cases().thread(id, true),
                state.store.cases().history(id, false)
            )?;
            Ok(StaffCaseView::Consultation(Box::new(views::consultation(
                &record, messages, events,
            ))))
        }
        sansuo_store::mediations::SERVICE => {
            let record = state
                .store
                .mediations()
                .get(id)
                .await?
                .ok_or_else(not_found)?;
            let view = crate::handlers::mediations::mediation_view(
                state,
                &record,
                false,
                crate::handlers::mediations::PartyDetail::Opened(
                    sansuo_domain::data_view::DataKind::PartyContact,
                ),
            )
            .await?;
            Ok(StaffCaseView::Mediation(Box::new(view)))
        }
        sansuo_store::tips::SERVICE => {
            let record = state.store.tips().get(id).await?.ok_or_else(not_found)?;
            let view = crate::handlers::tips::tip_view(
                state,
                record,
                crate::handlers::tips::Viewer::Staff,
            )
            .await?;
            Ok(StaffCaseView::Tip(Box::new(view)))
        }
        other => Err(ApiError::internal(format!(
            "no staff view of {other} cases"
        ))),
    }
}
