//! Each staff member's load — owned cases not finished plus pending offers,
//! what counts against their capacity — as a counter on their `staff` row
//! (issue 16). Every write that changes what it counts changes it in the
//! same transaction: an offer made, answered, lapsed or cancelled; a case
//! taken, given, handed back, moved into or out of a finished status. It
//! replaces two `COUNT(*)` sub-queries in every routing snapshot and offer.
//! [`truth_sql`] is what it must equal; the reconciler's pass repairs any
//! drift from it (`Offers::repair_staff_loads`).
//!
//! **The counter row is the lock.** An offer takes its place with one
//! `UPDATE … WHERE load < capacity` ([`take_place`]). On PostgreSQL a
//! second such update of the same row waits for the first to commit and
//! then re-checks its `WHERE` against the row as committed, so two routers
//! can never both fill the last place; SQLite has one writer at a time.

use crate::entity::staff;
use crate::rows::{literal, numbered};
use crate::{Store, StoreError};
use chrono::{DateTime, Utc};
use sansuo_domain::offer::OfferStatus;
use sansuo_domain::work_order::FINISHED_STATUSES;
use sea_orm::{ConnectionTrait, EntityTrait, FromQueryResult, QuerySelect, Statement};
use uuid::Uuid;

/// What the load of the staff member whose id is the SQL expression `id`
/// is by definition: owned cases not finished plus pending offers (an
/// offer holds a place). Both counts use an index (`cases_owner`,
/// `offers_staff_status`).
pub(crate) fn truth_sql(id: &str) -> String {
    let finished = FINISHED_STATUSES.map(literal).join(", ");
    let pending = literal(OfferStatus::Pending.as_str());
    format!(
        "(SELECT COUNT(*) FROM cases c WHERE c.owner_staff_id = {id} \
           AND c.status NOT IN ({finished})) \
         + (SELECT COUNT(*) FROM offers o WHERE o.staff_id = {id} AND o.status = {pending})"
    )
}

async fn execute<C: ConnectionTrait>(
    conn: &C,
    sql: &str,
    values: Vec<sea_orm::Value>,
) -> Result<u64, StoreError> {
    let backend = conn.get_database_backend();
    let done = conn
        .execute_raw(Statement::from_sql_and_values(
            backend,
            numbered(backend, sql.to_owned()),
            values,
        ))
        .await?;
    Ok(done.rows_affected())
}

/// Change this person's load by `delta` (no statement when it is zero).
pub(crate) async fn add<C: ConnectionTrait>(
    conn: &C,
    staff: Uuid,
    delta: i32,
) -> Result<(), StoreError> {
    if delta != 0 {
        execute(
            conn,
            "UPDATE staff SET load = load + $1 WHERE id = $2",
            vec![delta.into(), staff.into()],
        )
        .await?;
    }
    Ok(())
}

/// Take a place for a new offer if this person has room (their load below
/// their capacity), restarting their fairness clock (the longest idle are
/// offered first), in one statement that also locks their row until the
/// transaction ends. False: no room (or nobody by that id).
pub(crate) async fn take_place<C: ConnectionTrait>(
    conn: &C,
    staff: Uuid,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let taken = execute(
        conn,
        "UPDATE staff SET load = load + 1, last_assigned_at = $1 \
         WHERE id = $2 AND load < capacity",
        vec![now.into(), staff.into()],
    )
    .await?;
    Ok(taken == 1)
}

/// The place held by the case's pending offer (at most one, by the partial
/// unique index) is given back, before the offer is cancelled.
pub(crate) async fn release_pending_offer_of<C: ConnectionTrait>(
    conn: &C,
    case_id: Uuid,
) -> Result<(), StoreError> {
    execute(
        conn,
        &format!(
            "UPDATE staff SET load = load - 1 WHERE id IN \
               (SELECT o.staff_id FROM offers o WHERE o.case_id = $1 AND o.status = {})",
            literal(OfferStatus::Pending.as_str())
        ),
        vec![case_id.into()],
    )
    .await?;
    Ok(())
}

/// The change of load a case's move makes: who held a place for it before
/// (its owner, unless it was finished; `offered`: the person whose pending
/// offer it was, answered in the same transaction) and who holds one after.
/// One statement per person whose load changes: none when the place stays
/// with the same person (an accepted offer becomes the owned case).
pub(crate) async fn moved<C: ConnectionTrait>(
    conn: &C,
    before: Option<Uuid>,
    after: Option<Uuid>,
) -> Result<(), StoreError> {
    if before == after {
        return Ok(());
    }
    if let Some(before) = before {
        add(conn, before, -1).await?;
    }
    if let Some(after) = after {
        add(conn, after, 1).await?;
    }
    Ok(())
}

/// Set every staff member's load counter that differs from what it
/// counts back to the truth ([`truth_sql`]): how many were wrong. The
/// reconciler runs it each pass; a counter is never wrong unless
/// something wrote cases or offers outside the store. Each repair locks
/// the person's row first and counts in a statement after the lock, so
/// it sees every write that held the row before it (each load-changing
/// write updates the row) and cannot undo one.
pub(crate) async fn repair(store: &Store) -> Result<u64, StoreError> {
    #[derive(FromQueryResult)]
    struct Wrong {
        id: Uuid,
    }
    let backend = store.db().get_database_backend();
    let wrong = Wrong::find_by_statement(Statement::from_string(
        backend,
        format!(
            "SELECT s.id FROM staff s WHERE s.load <> {}",
            truth_sql("s.id")
        ),
    ))
    .all(store.db())
    .await?;
    let mut repaired = 0;
    for Wrong { id } in wrong {
        let txn = store.begin_write().await?;
        staff::Entity::find_by_id(id)
            .lock_exclusive()
            .one(&txn)
            .await?;
        repaired += execute(
            &txn,
            &format!(
                "UPDATE staff SET load = {truth} WHERE id = $1 AND load <> {truth}",
                truth = truth_sql("staff.id")
            ),
            vec![id.into()],
        )
        .await?;
        store.commit_work(txn).await?;
    }
    Ok(repaired)
}
