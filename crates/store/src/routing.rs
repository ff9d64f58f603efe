//! What the router reads and writes: snapshots for the domain's routing
//! decision, offers, their expiry, and the reconciler's scans.

use crate::consultations::{Context, SERVICE, move_case, offer_status};
use crate::entity::{case, lawyer_signing, offer, staff};
use crate::{Store, StoreError};
use chrono::{DateTime, Utc};
use sansuo_domain::routing::{RoutingSnapshot, SignedLawyer};
use sansuo_domain::{Actor, CaseId, ConsultationAction, ConsultationStatus, OfferId, StaffId};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    TransactionTrait,
};

impl Store {
    /// The case and what the router needs to decide about it.
    pub async fn routing_snapshot(
        &self,
        id: CaseId,
    ) -> Result<Option<(case::Model, RoutingSnapshot)>, StoreError> {
        let Some(case) = case::Entity::find_by_id(id.as_uuid())
            .filter(case::Column::Service.eq(SERVICE))
            .one(self.db())
            .await?
        else {
            return Ok(None);
        };
        let status: ConsultationStatus = case.status.parse().map_err(StoreError::Conflict)?;
        let signed_lawyer = match lawyer_signing::Entity::find_by_id(case.community_id)
            .one(self.db())
            .await?
        {
            Some(signing) => staff::Entity::find_by_id(signing.staff_id)
                .one(self.db())
                .await?
                .map(|s| SignedLawyer {
                    id: s.id.into(),
                    active: s.active,
                }),
            None => None,
        };
        let previously_offered = offer::Entity::find()
            .filter(offer::Column::CaseId.eq(case.id))
            .all(self.db())
            .await?
            .into_iter()
            .map(|o| StaffId::from(o.staff_id))
            .collect();
        Ok(Some((
            case,
            RoutingSnapshot {
                status,
                signed_lawyer,
                previously_offered,
            },
        )))
    }

    /// Offer the case to one lawyer until `expires_at`. The partial unique
    /// index on pending offers makes a second live offer impossible even if
    /// two routers got past the status guard.
    pub async fn offer_case(
        &self,
        case: &case::Model,
        to: StaffId,
        expires_at: DateTime<Utc>,
        request_id: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<OfferId, StoreError> {
        let ctx = Context {
            actor: Actor::System,
            request_id,
            now,
        };
        let offer_id = OfferId::new();
        let txn = self.db().begin().await?;
        move_case(&txn, case, ConsultationAction::Offer, None, ctx, |u| u).await?;
        offer::Entity::insert(offer::ActiveModel {
            id: Set(offer_id.as_uuid()),
            case_id: Set(case.id),
            staff_id: Set(to.as_uuid()),
            status: Set(offer_status::PENDING.to_owned()),
            created_at: Set(now),
            expires_at: Set(expires_at),
            responded_at: Set(None),
            decline_reason: Set(None),
        })
        .exec_without_returning(&txn)
        .await?;
        txn.commit().await?;
        Ok(offer_id)
    }

    /// Put the case in its pool, with the router's reason in the history.
    pub async fn pool_case(
        &self,
        case: &case::Model,
        reason: &str,
        request_id: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let ctx = Context {
            actor: Actor::System,
            request_id,
            now,
        };
        move_case(
            self.db(),
            case,
            ConsultationAction::Pool,
            Some(reason),
            ctx,
            |u| u,
        )
        .await?;
        Ok(())
    }

    /// Expire an offer whose deadline has passed; the case goes to the pool.
    /// Returns false when there is nothing to do (answered meanwhile, not yet
    /// due, or already expired by another instance): timers are at-least-once.
    pub async fn expire_offer(
        &self,
        id: OfferId,
        request_id: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let txn = self.db().begin().await?;
        let updated = offer::Entity::update_many()
            .col_expr(offer::Column::Status, Expr::value(offer_status::EXPIRED))
            .col_expr(offer::Column::RespondedAt, Expr::value(now))
            .filter(offer::Column::Id.eq(id.as_uuid()))
            .filter(offer::Column::Status.eq(offer_status::PENDING))
            .filter(offer::Column::ExpiresAt.lte(now))
            .exec(&txn)
            .await?;
        if updated.rows_affected != 1 {
            return Ok(false);
        }
        let offer = offer::Entity::find_by_id(id.as_uuid())
            .one(&txn)
            .await?
            .ok_or(StoreError::NotFound)?;
        let case = case::Entity::find_by_id(offer.case_id)
            .one(&txn)
            .await?
            .ok_or(StoreError::NotFound)?;
        let ctx = Context {
            actor: Actor::System,
            request_id,
            now,
        };
        move_case(
            &txn,
            &case,
            ConsultationAction::ExpireOffer,
            Some("no answer before the offer deadline"),
            ctx,
            |u| u,
        )
        .await?;
        txn.commit().await?;
        Ok(true)
    }

    /// Pending offers past their deadline: the reconciler expires these when
    /// a timer was lost with Redis.
    pub async fn overdue_offers(
        &self,
        now: DateTime<Utc>,
        limit: u64,
    ) -> Result<Vec<offer::Model>, StoreError> {
        Ok(offer::Entity::find()
            .filter(offer::Column::Status.eq(offer_status::PENDING))
            .filter(offer::Column::ExpiresAt.lte(now))
            .order_by_asc(offer::Column::ExpiresAt)
            .limit(limit)
            .all(self.db())
            .await?)
    }

    /// Pending offers still running: the reconciler re-arms their timers.
    pub async fn live_offers(
        &self,
        now: DateTime<Utc>,
        limit: u64,
    ) -> Result<Vec<offer::Model>, StoreError> {
        Ok(offer::Entity::find()
            .filter(offer::Column::Status.eq(offer_status::PENDING))
            .filter(offer::Column::ExpiresAt.gt(now))
            .order_by_asc(offer::Column::ExpiresAt)
            .limit(limit)
            .all(self.db())
            .await?)
    }

    /// Cases still waiting for their first routing decision since before
    /// `submitted_before`: their route job may have been lost with Redis.
    pub async fn unrouted_cases(
        &self,
        submitted_before: DateTime<Utc>,
        limit: u64,
    ) -> Result<Vec<CaseId>, StoreError> {
        Ok(case::Entity::find()
            .filter(case::Column::Status.eq(ConsultationStatus::Submitted.as_str()))
            .filter(case::Column::UpdatedAt.lt(submitted_before))
            .order_by_asc(case::Column::Id)
            .limit(limit)
            .all(self.db())
            .await?
            .into_iter()
            .map(|c| c.id.into())
            .collect())
    }
}
