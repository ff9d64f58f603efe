//! Offers: one person asked to take one case on one ladder step, and the
//! other ways a case gets (or loses) an owner through the engine: accept,
//! decline, claim from the queue, reassign by hand. Also what counts
//! against a person's capacity and the lock that keeps capacity true across
//! routers ([`lock_staff_and_restart_fairness_clock`]). Offer statuses are
//! `sansuo_domain::offer::OfferStatus`; strings only at the row.

use crate::cases::{
    Context, Owner, load_any_case, move_routed, move_routed_owned, notice_on_accept,
    notify_resident, route_again, service_of, staff_freed,
};
use crate::entity::{case, offer, staff};
use crate::records::OfferRecord;
use crate::staff_events::tell_each;
use crate::{Store, StoreError};
use chrono::{DateTime, Utc};
use sansuo_domain::catalog::Service;
use sansuo_domain::offer::OfferStatus;
use sansuo_domain::staff_event::{Direction, StaffEvent};
use sansuo_domain::work_order::RoutingMove;
use sansuo_domain::{CaseId, OfferId, StaffId};
use sansuo_metrics::OfferOutcome;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use uuid::Uuid;

/// The most pending offers `pending_offers_for` returns, soonest deadline first.
pub const MAX_PENDING_OFFERS_SHOWN: u64 = 100;

/// Restart the fairness clock of someone who was just given a case (the
/// longest idle are offered first). Being an UPDATE of their `staff` row,
/// it also locks that row (PostgreSQL) until the transaction ends. An
/// offer does both with its place (`staff_load::take_place`).
pub(crate) async fn lock_staff_and_restart_fairness_clock<C: ConnectionTrait>(
    conn: &C,
    staff: StaffId,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    staff::Entity::update_many()
        .col_expr(staff::Column::LastAssignedAt, Expr::value(now))
        .filter(staff::Column::Id.eq(staff.as_uuid()))
        .exec(conn)
        .await?;
    Ok(())
}

/// Lock this person's row without changing it (`SELECT … FOR UPDATE` on
/// PostgreSQL; SQLite has one writer at a time and needs none).
///
/// **Lock order**: a transaction that touches both a person's `staff` row
/// and a case's row takes the person's row first (this, or
/// [`lock_staff_and_restart_fairness_clock`]), then the case. The router
/// offering a case and that person pulling it with "next case" once took
/// them in opposite orders and deadlocked.
pub(crate) async fn lock_staff<C: ConnectionTrait>(
    conn: &C,
    staff: StaffId,
) -> Result<(), StoreError> {
    staff::Entity::find_by_id(staff.as_uuid())
        .lock_exclusive()
        .one(conn)
        .await?;
    Ok(())
}

/// A pending offer of a case that was withdrawn or reassigned meanwhile:
/// cancelled, and its place given back.
pub(crate) async fn cancel_pending_offers<C: ConnectionTrait>(
    conn: &C,
    case_id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    crate::staff_load::release_pending_offer_of(conn, case_id).await?;
    offer::Entity::update_many()
        .col_expr(
            offer::Column::Status,
            Expr::value(OfferStatus::Cancelled.as_str()),
        )
        .col_expr(offer::Column::RespondedAt, Expr::value(now))
        .filter(offer::Column::CaseId.eq(case_id))
        .filter(offer::Column::Status.eq(OfferStatus::Pending.as_str()))
        .exec(conn)
        .await?;
    Ok(())
}

/// An offer row (or a `returned` row recording a hand-back).
#[allow(clippy::too_many_arguments)]
pub(crate) async fn insert_offer<C: ConnectionTrait>(
    conn: &C,
    id: OfferId,
    case_id: Uuid,
    to: StaffId,
    step: usize,
    status: OfferStatus,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> Result<(), StoreError> {
    offer::Entity::insert(offer::ActiveModel {
        id: Set(id.as_uuid()),
        case_id: Set(case_id),
        staff_id: Set(to.as_uuid()),
        status: Set(status.as_str().to_owned()),
        created_at: Set(now),
        expires_at: Set(expires_at),
        responded_at: Set(None),
        decline_reason: Set(None),
        ladder_step: Set(step as i32),
    })
    .exec_without_returning(conn)
    .await?;
    Ok(())
}

/// The owner hands the case back (退单: "not mine", with a reason), any
/// service, on `conn` (the caller's transaction, after its own service's
/// rule on the state): the owner is cleared, the hand-back is recorded as a
/// `returned` offer on the case's ladder step so the router does not ask
/// this person again on it, the case is routed again and their room freed.
/// The event keeps the reason for staff; it is not public. Someone else's
/// case is "not found".
pub(crate) async fn hand_back_owned<C: ConnectionTrait>(
    conn: &C,
    case: &case::Model,
    staff: StaffId,
    reason: &str,
    ctx: Context<'_>,
) -> Result<(), StoreError> {
    if case.owner_staff_id != Some(staff.as_uuid()) {
        return Err(StoreError::NotFound);
    }
    move_routed_owned(
        conn,
        case,
        RoutingMove::HandBack,
        Owner::Becomes(None),
        Some(reason),
        ctx,
        |u| u.col_expr(case::Column::QueuedAt, Expr::value(ctx.now)),
    )
    .await?;
    insert_offer(
        conn,
        OfferId::new(),
        case.id,
        staff,
        Ord::max(case.ladder_step, 0) as usize,
        OfferStatus::Returned,
        ctx.now,
        ctx.now,
    )
    .await?;
    crate::proposals::withdraw_waiting(conn, case, ctx).await?;
    route_again(conn, case.id, ctx.request_id, ctx.now).await?;
    staff_freed(conn, staff, ctx).await
}

/// Whether this person's load (active cases plus pending offers, counted
/// on their row: `staff_load`) is below their capacity. Nobody by that id
/// has no room.
pub(crate) async fn room_of<C: ConnectionTrait>(
    conn: &C,
    staff_id: StaffId,
) -> Result<bool, StoreError> {
    let room: Option<(i32, i32)> = staff::Entity::find_by_id(staff_id.as_uuid())
        .select_only()
        .column(staff::Column::Capacity)
        .column(staff::Column::Load)
        .into_tuple()
        .one(conn)
        .await?;
    Ok(room.is_some_and(|(capacity, load)| load < capacity))
}

/// The staff member's own offer (someone else's is "not found").
async fn own_offer<C: ConnectionTrait>(
    conn: &C,
    offer_id: OfferId,
    staff: StaffId,
) -> Result<offer::Model, StoreError> {
    offer::Entity::find_by_id(offer_id.as_uuid())
        .filter(offer::Column::StaffId.eq(staff.as_uuid()))
        .one(conn)
        .await?
        .ok_or(StoreError::NotFound)
}

/// Answer a still-pending offer (`accepted` or `declined`, with the
/// decline's reason). False when it was answered meanwhile.
async fn answer_pending<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
    answer: OfferStatus,
    decline_reason: Option<&str>,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let mut update = offer::Entity::update_many()
        .col_expr(offer::Column::Status, Expr::value(answer.as_str()))
        .col_expr(offer::Column::RespondedAt, Expr::value(now));
    if let Some(reason) = decline_reason {
        update = update.col_expr(offer::Column::DeclineReason, Expr::value(reason));
    }
    let updated = update
        .filter(offer::Column::Id.eq(id))
        .filter(offer::Column::Status.eq(OfferStatus::Pending.as_str()))
        .exec(conn)
        .await?;
    Ok(updated.rows_affected == 1)
}

/// Offers of a case to a staff member: accept, decline, reassign, timers.
///
/// Reached as `store.offers()`; see [`Store`].
#[derive(Clone, Copy)]
pub struct Offers<'a>(pub(crate) &'a Store);

impl std::ops::Deref for Offers<'_> {
    type Target = Store;
    fn deref(&self) -> &Store {
        self.0
    }
}

impl Store {
    /// Offers of a case to a staff member: accept, decline, reassign, timers.
    pub fn offers(&self) -> Offers<'_> {
        Offers(self)
    }
}

impl Offers<'_> {
    /// Whether this staff member holds a live offer for this case.
    /// The live offer of this case to this person, if any.
    pub async fn pending_of(
        self,
        case_id: CaseId,
        staff: StaffId,
        now: DateTime<Utc>,
    ) -> Result<Option<OfferRecord>, StoreError> {
        Ok(offer::Entity::find()
            .filter(offer::Column::CaseId.eq(case_id.as_uuid()))
            .filter(offer::Column::StaffId.eq(staff.as_uuid()))
            .filter(offer::Column::Status.eq(OfferStatus::Pending.as_str()))
            .filter(offer::Column::ExpiresAt.gt(now))
            .one(self.db())
            .await?
            .map(OfferRecord::try_from)
            .transpose()?)
    }

    pub async fn has_pending(
        self,
        case_id: CaseId,
        staff: StaffId,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        Ok(self.pending_of(case_id, staff, now).await?.is_some())
    }

    pub async fn get(self, id: OfferId) -> Result<Option<OfferRecord>, StoreError> {
        Ok(offer::Entity::find_by_id(id.as_uuid())
            .one(self.db())
            .await?
            .map(OfferRecord::try_from)
            .transpose()?)
    }

    /// Lawyer accepts an offer made to them. Of two concurrent accepts, one wins.
    pub async fn accept(
        self,
        offer_id: OfferId,
        staff: StaffId,
        ctx: Context<'_>,
    ) -> Result<CaseId, StoreError> {
        let txn = self.begin_write().await?;
        // The person's row first, then the case (see `lock_staff`).
        lock_staff_and_restart_fairness_clock(&txn, staff, ctx.now).await?;
        let offer = own_offer(&txn, offer_id, staff).await?;
        if offer.status.parse::<OfferStatus>() != Ok(OfferStatus::Pending) {
            return Err(StoreError::conflict(format!(
                "the offer is already {}",
                offer.status
            )));
        }
        if offer.expires_at <= ctx.now {
            return Err(StoreError::conflict("the offer has expired"));
        }
        if !answer_pending(&txn, offer.id, OfferStatus::Accepted, None, ctx.now).await? {
            return Err(StoreError::conflict("the offer was answered meanwhile"));
        }
        // An offer may be of any service's case.
        let case = load_any_case(&txn, offer.case_id).await?;
        move_routed_owned(
            &txn,
            &case,
            RoutingMove::Accept,
            Owner::Accepts(staff),
            None,
            ctx,
            |u| u.col_expr(case::Column::AcceptedAt, Expr::value(ctx.now)),
        )
        .await?;
        if let Some(notice) = notice_on_accept(service_of(&case)?) {
            notify_resident(&txn, notice, &case, ctx).await?;
        }
        self.commit_work(txn).await?;
        sansuo_metrics::offer(OfferOutcome::accepted);
        Ok(case.id.into())
    }

    /// Lawyer declines an offer: the case goes to the pool.
    pub async fn decline(
        self,
        offer_id: OfferId,
        staff: StaffId,
        reason: &str,
        ctx: Context<'_>,
    ) -> Result<CaseId, StoreError> {
        let txn = self.begin_write().await?;
        // The person's row first (their place back), then the offer and the
        // case (see `lock_staff`); undone with the rest if it was answered.
        crate::staff_load::add(&txn, staff.as_uuid(), -1).await?;
        let offer = own_offer(&txn, offer_id, staff).await?;
        if !answer_pending(&txn, offer.id, OfferStatus::Declined, Some(reason), ctx.now).await? {
            return Err(StoreError::conflict(format!(
                "the offer is already {}",
                offer.status
            )));
        }
        // An offer may be of any service's case.
        let case = load_any_case(&txn, offer.case_id).await?;
        move_routed(&txn, &case, RoutingMove::Decline, Some(reason), ctx, |u| u).await?;
        // The next candidate on this step, or the next step; and the
        // decliner has a place free for something else waiting.
        route_again(&txn, case.id, ctx.request_id, ctx.now).await?;
        staff_freed(&txn, staff, ctx).await?;
        self.commit_work(txn).await?;
        sansuo_metrics::offer(OfferOutcome::declined);
        Ok(case.id.into())
    }

    /// A coordinator gives the case to a named lawyer, whatever the router
    /// was doing with it: a pending offer is cancelled.
    pub async fn reassign_case(
        self,
        id: CaseId,
        to: StaffId,
        reason: &str,
        ctx: Context<'_>,
    ) -> Result<(), StoreError> {
        let txn = self.begin_write().await?;
        // The person's row first, then the case (see `lock_staff`).
        lock_staff_and_restart_fairness_clock(&txn, to, ctx.now).await?;
        // Any service: a coordinator reassigns mediations as well.
        let case = load_any_case(&txn, id.as_uuid()).await?;
        let previous = case.owner_staff_id;
        move_routed_owned(
            &txn,
            &case,
            RoutingMove::Reassign,
            Owner::Becomes(Some(to)),
            Some(reason),
            ctx,
            |u| {
                u.col_expr(
                    case::Column::AcceptedAt,
                    Expr::value(case.accepted_at.unwrap_or(ctx.now)),
                )
                .col_expr(case::Column::UnroutedAt, Expr::value(None::<DateTime<Utc>>))
            },
        )
        .await?;
        cancel_pending_offers(&txn, case.id, ctx.now).await?;
        if previous != Some(to.as_uuid()) {
            crate::proposals::withdraw_waiting(&txn, &case, ctx).await?;
        }
        let service = service_of(&case)?;
        let told = |direction| StaffEvent::Reassigned {
            case_id: id,
            service,
            direction,
        };
        let mut events = vec![(to, told(Direction::Given))];
        if let Some(previous) = previous.filter(|p| *p != to.as_uuid()) {
            staff_freed(&txn, previous.into(), ctx).await?;
            events.push((previous.into(), told(Direction::Taken)));
        }
        tell_each(&txn, events, ctx.now).await?;
        self.commit_work(txn).await?;
        Ok(())
    }

    /// Take a waiting case of any service (`only`: of this service, else
    /// not found). The same guarded update as every claim, so a pull and a
    /// push, or two pulls, never both win.
    pub(crate) async fn claim_case(
        self,
        id: CaseId,
        staff: StaffId,
        only: Option<Service>,
        ctx: Context<'_>,
    ) -> Result<(), StoreError> {
        let txn = self.begin_write().await?;
        // The person's row first, then the case (see `lock_staff`): the
        // router offering this case to this person takes them in that order.
        lock_staff_and_restart_fairness_clock(&txn, staff, ctx.now).await?;
        let case = load_any_case(&txn, id.as_uuid()).await?;
        let service = service_of(&case)?;
        if only.is_some_and(|only| only != service) {
            return Err(StoreError::NotFound);
        }
        move_routed_owned(
            &txn,
            &case,
            RoutingMove::Claim,
            Owner::Becomes(Some(staff)),
            None,
            ctx,
            |u| u.col_expr(case::Column::AcceptedAt, Expr::value(ctx.now)),
        )
        .await?;
        if let Some(notice) = notice_on_accept(service) {
            notify_resident(&txn, notice, &case, ctx).await?;
        }
        self.commit_work(txn).await?;
        sansuo_metrics::offer(OfferOutcome::claimed);
        Ok(())
    }

    /// Set every staff member's load counter that differs from what it
    /// counts back to the truth (`staff_load`): how many were wrong.
    pub async fn repair_staff_loads(self) -> Result<u64, StoreError> {
        crate::staff_load::repair(self.0).await
    }

    /// Whether this person has room for another offer now.
    pub async fn has_room(self, staff_id: StaffId) -> Result<bool, StoreError> {
        room_of(self.db(), staff_id).await
    }

    /// Pending offers past their deadline: the reconciler expires these when
    /// a timer was lost with Redis.
    pub async fn overdue(
        self,
        now: DateTime<Utc>,
        limit: u64,
    ) -> Result<Vec<OfferRecord>, StoreError> {
        let rows = offer::Entity::find()
            .filter(offer::Column::Status.eq(OfferStatus::Pending.as_str()))
            .filter(offer::Column::ExpiresAt.lte(now))
            .order_by_asc(offer::Column::ExpiresAt)
            .limit(limit)
            .all(self.db())
            .await?;
        records(rows)
    }

    /// Pending offers still running: their timers are re-armed after Redis
    /// lost its data.
    pub async fn live(
        self,
        now: DateTime<Utc>,
        after: Option<Uuid>,
        limit: u64,
    ) -> Result<Vec<OfferRecord>, StoreError> {
        let mut query = offer::Entity::find()
            .filter(offer::Column::Status.eq(OfferStatus::Pending.as_str()))
            .filter(offer::Column::ExpiresAt.gt(now));
        if let Some(after) = after {
            query = query.filter(offer::Column::Id.gt(after));
        }
        let rows = query
            .order_by_asc(offer::Column::Id)
            .limit(limit)
            .all(self.db())
            .await?;
        records(rows)
    }
}

/// Offer rows as records (a status the code never writes is corrupt data).
fn records(rows: Vec<offer::Model>) -> Result<Vec<OfferRecord>, StoreError> {
    Ok(rows
        .into_iter()
        .map(OfferRecord::try_from)
        .collect::<Result<_, _>>()?)
}
