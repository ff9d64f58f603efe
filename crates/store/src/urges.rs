//! 催办 (urging), for every service alike: the rule (`domain::urge`) is
//! checked on the case as it stands, then in one transaction the case's
//! counter moves (guarded on the last urge it read, so two urges at once
//! count once and the other is refused as too soon), the history gets an
//! `urged` event, and the person who has the case — its owner, or whoever
//! holds its open offer — is told on their stream.

use crate::cases::{Context, append_event, status_of};
use crate::entity::{case, offer};
use crate::staff_events::tell;
use crate::{Store, StoreError};
use chrono::{DateTime, Utc};
use sansuo_domain::catalog::Service;
use sansuo_domain::offer::OfferStatus;
use sansuo_domain::staff_event::StaffEvent;
use sansuo_domain::urge::{
    FIRST_RESPONSE_MINUTES_WITHOUT_WORKFLOW, UrgeRefusal, UrgeState, UrgedBy, coordinator_may_urge,
    resident_may_urge,
};
use sansuo_domain::{CaseId, ResidentId, StaffId};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

/// The history's action for an urge.
pub const URGED_EVENT: &str = "urged";

/// Who is urging, as the store checks it.
#[derive(Debug, Clone, Copy)]
pub enum Urger {
    /// The resident who filed the case (checked against the case: another
    /// resident's id reads as not found).
    Resident(ResidentId),
    /// A tip's reporter whose claim on the tip the caller already checked
    /// (named: their tip; anonymous: its tracking token).
    Reporter,
    /// A coordinator, within whose subtree the caller already resolved the case.
    Coordinator,
}

/// The case's urges after this one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UrgeRecord {
    pub urge_count: i32,
    pub last_urged_at: DateTime<Utc>,
    /// Who was told (`None`: nobody has the case yet; it waits in a queue).
    pub told: Option<StaffId>,
}

/// 催办 across services.
///
/// Reached as `store.urges()`; see [`Store`].
#[derive(Clone, Copy)]
pub struct Urges<'a>(pub(crate) &'a Store);

impl std::ops::Deref for Urges<'_> {
    type Target = Store;
    fn deref(&self) -> &Store {
        self.0
    }
}

impl Store {
    pub fn urges(&self) -> Urges<'_> {
        Urges(self)
    }
}

impl Urges<'_> {
    /// Urge case `id` of `service` (another service's id reads as not
    /// found). `Ok(Err(_))`: the rule refuses, nothing was written.
    pub async fn urge(
        self,
        id: CaseId,
        service: Option<Service>,
        urger: Urger,
        note: Option<&str>,
        ctx: Context<'_>,
    ) -> Result<Result<UrgeRecord, UrgeRefusal>, StoreError> {
        let calendar = self.catalog().business_calendar().await?;
        let txn = self.begin_write().await?;
        let case = case::Entity::find_by_id(id.as_uuid())
            .one(&txn)
            .await?
            .ok_or(StoreError::NotFound)?;
        let case_service: Service = case.service.parse().map_err(StoreError::Conflict)?;
        if service.is_some_and(|s| s != case_service) {
            return Err(StoreError::NotFound);
        }
        if let Urger::Resident(resident) = urger
            && case.resident_id != Some(resident.as_uuid())
        {
            return Err(StoreError::NotFound);
        }
        let status = status_of(&case)?;
        let first_response_minutes = match case.workflow.as_deref() {
            Some(name) => self
                .routing()
                .workflow_rules(name)
                .await?
                .map(|w| w.sla.first_response_minutes),
            None => None,
        }
        .unwrap_or(FIRST_RESPONSE_MINUTES_WITHOUT_WORKFLOW);
        let state = UrgeState {
            submitted_at: case.created_at,
            first_response_at: case.answered_at,
            first_response_minutes,
            last_urged_at: case.last_urged_at,
            finished: status.is_finished() || case.closed_at.is_some(),
        };
        let (by, allowed) = match urger {
            Urger::Coordinator => (UrgedBy::Coordinator, coordinator_may_urge(&state)),
            Urger::Resident(_) | Urger::Reporter => (
                UrgedBy::Resident,
                resident_may_urge(&state, &calendar, ctx.now),
            ),
        };
        if let Err(refusal) = allowed {
            return Ok(Err(refusal));
        }
        // Guarded on the last urge read: of two urges at once, one counts.
        let last_filter = match case.last_urged_at {
            Some(last) => case::Column::LastUrgedAt.eq(last),
            None => case::Column::LastUrgedAt.is_null(),
        };
        let updated = case::Entity::update_many()
            .col_expr(
                case::Column::UrgeCount,
                Expr::col(case::Column::UrgeCount).add(1),
            )
            .col_expr(case::Column::LastUrgedAt, Expr::value(ctx.now))
            .filter(case::Column::Id.eq(case.id))
            .filter(last_filter)
            .exec(&txn)
            .await?;
        if updated.rows_affected != 1 {
            if by == UrgedBy::Coordinator {
                return Err(StoreError::conflict("the case was urged meanwhile; retry"));
            }
            return Ok(Err(UrgeRefusal::TooSoon {
                from: ctx.now + chrono::Duration::hours(sansuo_domain::urge::URGE_PERIOD_HOURS),
            }));
        }
        append_event(
            &txn,
            case.id,
            URGED_EVENT,
            Some(status.as_str()),
            status.as_str(),
            // A resident's urge shows in their history; a coordinator's
            // (and its note) is staff business.
            by == UrgedBy::Resident,
            note,
            ctx,
        )
        .await?;
        let told = match case.owner_staff_id {
            Some(owner) => Some(StaffId::from(owner)),
            None => offer::Entity::find()
                .filter(offer::Column::CaseId.eq(case.id))
                .filter(offer::Column::Status.eq(OfferStatus::Pending.as_str()))
                .one(&txn)
                .await?
                .map(|o| StaffId::from(o.staff_id)),
        };
        if let Some(staff) = told {
            let event = StaffEvent::Urge {
                case_id: id,
                service: case_service,
                by,
            };
            tell(&txn, staff, &event, ctx.now).await?;
        }
        self.commit_work(txn).await?;
        Ok(Ok(UrgeRecord {
            urge_count: case.urge_count + 1,
            last_urged_at: ctx.now,
            told,
        }))
    }
}
