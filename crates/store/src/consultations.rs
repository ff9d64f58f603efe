//! Consultations (法律咨询): writing, reading and every state change.
//!
//! Each change loads the case, asks `sansuo_domain::consultation::transition`
//! whether the move is allowed, and saves it with a guarded update on
//! `(status, version)`: of two concurrent moves from the same state, exactly
//! one updates a row and the other gets `StoreError::Conflict`.

use crate::entity::{case, case_event, case_message, consultation, idempotency_key, offer, staff};
use crate::error::is_unique_violation;
use crate::outbox::{self, ModerationSubject, Work};
use crate::{Store, StoreError};
use chrono::{DateTime, Utc};
use sansuo_domain::catalog::Service;
use sansuo_domain::consultation::transition;
use sansuo_domain::moderation::Moderation;
use sansuo_domain::notify::NotificationEvent;
use sansuo_domain::values::{IdempotencyKey, MessageBody, QuestionText, Rating};
use sansuo_domain::work_order::{Move, MoveError, RoutingMove, routing_move};
use sansuo_domain::{
    Actor, CaseId, ConsultationAction, ConsultationStatus, OfferId, OrgUnitId, ResidentId, StaffId,
};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, TransactionTrait, UpdateMany,
};
use std::collections::HashMap;
use uuid::Uuid;

pub const SERVICE: &str = "consultation";
/// The most pending offers `pending_offers_for` returns, soonest deadline first.
pub const MAX_PENDING_OFFERS_SHOWN: u64 = 100;
/// The event that opens every case file.
pub const SUBMIT_EVENT: &str = "submit";

pub mod offer_status {
    pub const PENDING: &str = "pending";
    pub const ACCEPTED: &str = "accepted";
    pub const DECLINED: &str = "declined";
    pub const EXPIRED: &str = "expired";
    pub const CANCELLED: &str = "cancelled";
    /// Not an offer: the owner handed the case back (退单). Kept with the
    /// offers so "who already had it on this step" is one query.
    pub const RETURNED: &str = "returned";
}

pub mod visibility {
    pub const PUBLIC: &str = "public";
    pub const INTERNAL: &str = "internal";
}

pub struct NewConsultation {
    pub resident: ResidentId,
    pub community: OrgUnitId,
    /// The street (or district) whose firm pool takes it if the signed lawyer does not.
    pub pool_unit: Option<OrgUnitId>,
    pub category: String,
    pub question: QuestionText,
    /// The client's key and a hash of the request it came with.
    pub idempotency: Option<(IdempotencyKey, String)>,
    pub request_id: Option<String>,
    /// Where the content check of the question stands; only a passed
    /// question is routed.
    pub moderation: Moderation,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Submission {
    Created(CaseId),
    /// A retry of an earlier submission with the same Idempotency-Key.
    Replayed(CaseId),
}

impl Submission {
    pub fn case_id(&self) -> CaseId {
        match self {
            Submission::Created(id) | Submission::Replayed(id) => *id,
        }
    }
}

/// A consultation as read back: the case row, its question and rating, its owner.
#[derive(Debug, Clone)]
pub struct ConsultationRecord {
    pub case: case::Model,
    pub detail: consultation::Model,
    pub owner: Option<staff::Model>,
}

impl ConsultationRecord {
    pub fn id(&self) -> CaseId {
        self.case.id.into()
    }

    pub fn status(&self) -> ConsultationStatus {
        // The column only ever holds values written from ConsultationStatus.
        self.case
            .status
            .parse()
            .expect("cases.status holds a valid consultation status")
    }
}

/// The case behind an offer, as much as an offer list shows of it.
#[derive(Debug, Clone)]
pub enum OfferedCase {
    // Boxed: the rows are wide and of different sizes.
    Consultation(Box<ConsultationRecord>),
    Mediation {
        case: Box<case::Model>,
        detail: Box<crate::entity::mediation::Model>,
    },
    Tip {
        case: Box<case::Model>,
        detail: Box<crate::entity::tip::Model>,
    },
}

/// Who did something and why, for the history.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    pub actor: Actor,
    pub request_id: Option<&'a str>,
    pub now: DateTime<Utc>,
}

/// A new case row as every service writes it: waiting for its first
/// routing, nobody owns it, the router places it on its workflow's ladder.
/// Callers override what differs (`pool_unit_id`, `moderation`, ...).
pub(crate) fn new_case_row(
    id: CaseId,
    service: &str,
    community: OrgUnitId,
    category: &str,
    resident: Option<ResidentId>,
    now: DateTime<Utc>,
) -> case::ActiveModel {
    case::ActiveModel {
        id: Set(id.as_uuid()),
        service: Set(service.to_owned()),
        community_id: Set(community.as_uuid()),
        category_code: Set(category.to_owned()),
        resident_id: Set(resident.map(|r| r.as_uuid())),
        status: Set("submitted".to_owned()),
        owner_staff_id: Set(None),
        pool_unit_id: Set(None),
        version: Set(0),
        created_at: Set(now),
        updated_at: Set(now),
        accepted_at: Set(None),
        answered_at: Set(None),
        resolved_at: Set(None),
        closed_at: Set(None),
        moderation: Set(Moderation::Passed.as_str().to_owned()),
        workflow: Set(None),
        ladder_step: Set(0),
        step_entered_at: Set(None),
        priority: Set(0),
        queued_at: Set(Some(now)),
        unrouted_at: Set(None),
        preferred_staff_id: Set(None),
    }
}

pub(crate) fn actor_columns(actor: Actor) -> (&'static str, Option<Uuid>) {
    match actor {
        Actor::Resident(id) => ("resident", Some(id.as_uuid())),
        Actor::Staff { id, .. } => ("staff", Some(id.as_uuid())),
        Actor::System => ("system", None),
        Actor::AnonymousReporter => ("reporter", None),
    }
}

#[allow(clippy::too_many_arguments)]
pub(crate) async fn append_event<C: ConnectionTrait>(
    conn: &C,
    case_id: Uuid,
    action: &str,
    from: Option<&str>,
    to: &str,
    public: bool,
    reason: Option<&str>,
    ctx: Context<'_>,
) -> Result<(), StoreError> {
    let (actor_kind, actor_id) = actor_columns(ctx.actor);
    case_event::Entity::insert(case_event::ActiveModel {
        id: Set(Uuid::now_v7()),
        case_id: Set(case_id),
        action: Set(action.to_owned()),
        from_status: Set(from.map(str::to_owned)),
        to_status: Set(to.to_owned()),
        actor_kind: Set(actor_kind.to_owned()),
        actor_id: Set(actor_id),
        reason: Set(reason.map(str::to_owned)),
        public: Set(public),
        request_id: Set(ctx.request_id.map(str::to_owned)),
        created_at: Set(ctx.now),
    })
    .exec_without_returning(conn)
    .await?;
    Ok(())
}

/// Apply `action` to `case` with a guarded update and record the event.
/// `set` adds the columns this particular move changes (owner, timestamps).
pub(crate) async fn move_case<C: ConnectionTrait>(
    conn: &C,
    case: &case::Model,
    action: ConsultationAction,
    reason: Option<&str>,
    ctx: Context<'_>,
    set: impl FnOnce(UpdateMany<case::Entity>) -> UpdateMany<case::Entity>,
) -> Result<ConsultationStatus, StoreError> {
    let from: ConsultationStatus = case
        .status
        .parse()
        .map_err(|e: String| StoreError::conflict(e))?;
    let to = transition(from, action)?;
    let applied = Move {
        from: from.as_str(),
        to: to.as_str(),
        action: action.as_str(),
        public: action.is_public(),
    };
    apply_move(conn, case, applied, reason, ctx, set).await?;
    Ok(to)
}

/// A routing move on a case of any service: its own machine says where the
/// move leads (`domain::work_order`), the guarded update applies it.
pub(crate) async fn move_routed<C: ConnectionTrait>(
    conn: &C,
    case: &case::Model,
    mv: RoutingMove,
    reason: Option<&str>,
    ctx: Context<'_>,
    set: impl FnOnce(UpdateMany<case::Entity>) -> UpdateMany<case::Entity>,
) -> Result<&'static str, StoreError> {
    let service = service_of(case)?;
    let applied = routing_move(service, &case.status, mv).map_err(|e| match e {
        MoveError::Forbidden(why) => StoreError::Conflict(why),
        other => StoreError::Conflict(other.to_string()),
    })?;
    apply_move(conn, case, applied, reason, ctx, set).await?;
    Ok(applied.to)
}

pub(crate) fn service_of(case: &case::Model) -> Result<Service, StoreError> {
    serde_json::from_value(serde_json::Value::String(case.service.clone()))
        .map_err(|_| StoreError::conflict(format!("unknown service `{}`", case.service)))
}

/// `UPDATE cases SET status = to, version = version + 1 ... WHERE id = ? AND
/// status = from AND version = v`, and the event, on `conn` (the caller's
/// transaction). Zero rows: someone else moved the case first.
pub(crate) async fn apply_move<C: ConnectionTrait>(
    conn: &C,
    case: &case::Model,
    applied: Move,
    reason: Option<&str>,
    ctx: Context<'_>,
    set: impl FnOnce(UpdateMany<case::Entity>) -> UpdateMany<case::Entity>,
) -> Result<(), StoreError> {
    let update = case::Entity::update_many()
        .col_expr(case::Column::Status, Expr::value(applied.to))
        .col_expr(
            case::Column::Version,
            Expr::col(case::Column::Version).add(1),
        )
        .col_expr(case::Column::UpdatedAt, Expr::value(ctx.now))
        .filter(case::Column::Id.eq(case.id))
        .filter(case::Column::Status.eq(applied.from))
        .filter(case::Column::Version.eq(case.version));
    let result = set(update).exec(conn).await?;
    if result.rows_affected != 1 {
        return Err(StoreError::conflict(format!(
            "the case changed meanwhile (it was {}); reload it",
            applied.from
        )));
    }
    append_event(
        conn,
        case.id,
        applied.action,
        Some(applied.from),
        applied.to,
        applied.public,
        reason,
        ctx,
    )
    .await
}

/// Restart the fairness clock of someone who just took a case: the
/// longest idle are offered first.
pub(crate) async fn mark_assigned<C: ConnectionTrait>(
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

/// A pending offer of a case that was withdrawn or reassigned meanwhile.
pub(crate) async fn cancel_pending_offers<C: ConnectionTrait>(
    conn: &C,
    case_id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    offer::Entity::update_many()
        .col_expr(offer::Column::Status, Expr::value(offer_status::CANCELLED))
        .col_expr(offer::Column::RespondedAt, Expr::value(now))
        .filter(offer::Column::CaseId.eq(case_id))
        .filter(offer::Column::Status.eq(offer_status::PENDING))
        .exec(conn)
        .await?;
    Ok(())
}

async fn route_again<C: ConnectionTrait>(
    conn: &C,
    case_id: Uuid,
    ctx: Context<'_>,
) -> Result<(), StoreError> {
    crate::routing::route_again(conn, case_id, ctx.request_id, ctx.now).await
}

/// Someone has room for more work (freed capacity, back to available):
/// cases waiting in their queues are routed to them at once, not at the
/// next sweep.
pub(crate) async fn staff_freed<C: ConnectionTrait>(
    conn: &C,
    staff: StaffId,
    ctx: Context<'_>,
) -> Result<(), StoreError> {
    let work = Work::StaffAvailable { staff_id: staff };
    outbox::append(conn, &work, ctx.request_id, ctx.now).await
}

/// Owe the resident a subscribe message about this event, in the same
/// transaction as the event itself (sent later by the worker, never inline).
async fn notify_resident<C: ConnectionTrait>(
    conn: &C,
    event: NotificationEvent,
    case_id: Uuid,
    ctx: Context<'_>,
) -> Result<(), StoreError> {
    let case_id = CaseId::from(case_id);
    let work = Work::Notify { event, case_id };
    outbox::append(conn, &work, ctx.request_id, ctx.now).await
}

async fn load_any_case<C: ConnectionTrait>(conn: &C, id: Uuid) -> Result<case::Model, StoreError> {
    case::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or(StoreError::NotFound)
}

async fn load_case<C: ConnectionTrait>(conn: &C, id: CaseId) -> Result<case::Model, StoreError> {
    case::Entity::find_by_id(id.as_uuid())
        .filter(case::Column::Service.eq(SERVICE))
        .one(conn)
        .await?
        .ok_or(StoreError::NotFound)
}

async fn insert_message<C: ConnectionTrait>(
    conn: &C,
    case_id: Uuid,
    author: Actor,
    body: &MessageBody,
    visibility: &str,
    moderation: Moderation,
    now: DateTime<Utc>,
) -> Result<Uuid, StoreError> {
    let (kind, id) = actor_columns(author);
    let message_id = Uuid::now_v7();
    case_message::Entity::insert(case_message::ActiveModel {
        id: Set(message_id),
        case_id: Set(case_id),
        author_kind: Set(kind.to_owned()),
        author_id: Set(id.unwrap_or_default()),
        body: Set(body.as_str().to_owned()),
        visibility: Set(visibility.to_owned()),
        created_at: Set(now),
        moderation: Set(moderation.as_str().to_owned()),
    })
    .exec_without_returning(conn)
    .await?;
    Ok(message_id)
}

impl Store {
    /// Write a consultation, its first event and its routing outbox row in
    /// one transaction. A retry with the same Idempotency-Key (and the same
    /// request) returns the first case; with a different request it is refused.
    pub async fn submit_consultation(
        &self,
        new: NewConsultation,
        now: DateTime<Utc>,
    ) -> Result<Submission, StoreError> {
        if let Some(found) = self.replayed_submission(&new).await? {
            return Ok(found);
        }
        let case_id = CaseId::new();
        let txn = self.db().begin().await?;
        case::Entity::insert(case::ActiveModel {
            pool_unit_id: Set(new.pool_unit.map(Into::into)),
            moderation: Set(new.moderation.as_str().to_owned()),
            ..new_case_row(
                case_id,
                SERVICE,
                new.community,
                &new.category,
                Some(new.resident),
                now,
            )
        })
        .exec_without_returning(&txn)
        .await?;
        consultation::Entity::insert(consultation::ActiveModel {
            case_id: Set(case_id.as_uuid()),
            question: Set(new.question.as_str().to_owned()),
            rating_stars: Set(None),
            rating_comment: Set(None),
            rated_at: Set(None),
        })
        .exec_without_returning(&txn)
        .await?;
        if let Some((key, hash)) = &new.idempotency {
            let inserted = idempotency_key::Entity::insert(idempotency_key::ActiveModel {
                resident_id: Set(new.resident.as_uuid()),
                key: Set(key.as_str().to_owned()),
                request_hash: Set(hash.clone()),
                case_id: Set(case_id.as_uuid()),
                created_at: Set(now),
            })
            .exec_without_returning(&txn)
            .await;
            match inserted {
                Ok(_) => {}
                // A concurrent retry with the same key committed first: drop
                // ours and answer with theirs.
                Err(err) if is_unique_violation(&err) => {
                    txn.rollback().await?;
                    return self
                        .replayed_submission(&new)
                        .await?
                        .ok_or(StoreError::conflict("idempotency key race"));
                }
                Err(err) => return Err(err.into()),
            }
        }
        let ctx = Context {
            actor: Actor::Resident(new.resident),
            request_id: new.request_id.as_deref(),
            now,
        };
        append_event(
            &txn,
            case_id.as_uuid(),
            SUBMIT_EVENT,
            None,
            ConsultationStatus::Submitted.as_str(),
            true,
            None,
            ctx,
        )
        .await?;
        // Routing waits for the content check: a held question reaches no one.
        match new.moderation {
            Moderation::Passed => {
                let route = Work::RouteCase { case_id };
                outbox::append(&txn, &route, new.request_id.as_deref(), now).await?;
            }
            Moderation::Pending => {
                let check = Work::Moderate(ModerationSubject::Case(case_id));
                outbox::append(&txn, &check, new.request_id.as_deref(), now).await?;
            }
            Moderation::Review | Moderation::Rejected => {}
        }
        self.commit_work(txn).await?;
        Ok(Submission::Created(case_id))
    }

    async fn replayed_submission(
        &self,
        new: &NewConsultation,
    ) -> Result<Option<Submission>, StoreError> {
        let Some((key, hash)) = &new.idempotency else {
            return Ok(None);
        };
        let found =
            idempotency_key::Entity::find_by_id((new.resident.as_uuid(), key.as_str().to_owned()))
                .one(self.db())
                .await?;
        match found {
            None => Ok(None),
            Some(row) if &row.request_hash == hash => {
                Ok(Some(Submission::Replayed(row.case_id.into())))
            }
            Some(_) => Err(StoreError::IdempotencyKeyReused),
        }
    }

    pub async fn consultation(&self, id: CaseId) -> Result<Option<ConsultationRecord>, StoreError> {
        let Some(case) = case::Entity::find_by_id(id.as_uuid())
            .filter(case::Column::Service.eq(SERVICE))
            .one(self.db())
            .await?
        else {
            return Ok(None);
        };
        Ok(self.hydrate(vec![case]).await?.pop())
    }

    /// Join question text and owners onto case rows: three queries for a page.
    pub(crate) async fn hydrate(
        &self,
        cases: Vec<case::Model>,
    ) -> Result<Vec<ConsultationRecord>, StoreError> {
        let ids: Vec<Uuid> = cases.iter().map(|c| c.id).collect();
        let mut details: HashMap<Uuid, consultation::Model> = consultation::Entity::find()
            .filter(consultation::Column::CaseId.is_in(ids))
            .all(self.db())
            .await?
            .into_iter()
            .map(|d| (d.case_id, d))
            .collect();
        let owner_ids: Vec<Uuid> = cases.iter().filter_map(|c| c.owner_staff_id).collect();
        let owners: HashMap<Uuid, staff::Model> = if owner_ids.is_empty() {
            HashMap::new()
        } else {
            staff::Entity::find()
                .filter(staff::Column::Id.is_in(owner_ids))
                .all(self.db())
                .await?
                .into_iter()
                .map(|s| (s.id, s))
                .collect()
        };
        cases
            .into_iter()
            .map(|case| {
                let detail = details.remove(&case.id).ok_or(StoreError::NotFound)?;
                let owner = case.owner_staff_id.and_then(|id| owners.get(&id).cloned());
                Ok(ConsultationRecord {
                    case,
                    detail,
                    owner,
                })
            })
            .collect()
    }

    async fn page(
        &self,
        filter: sea_orm::Select<case::Entity>,
        before: Option<CaseId>,
        limit: u64,
    ) -> Result<Vec<ConsultationRecord>, StoreError> {
        let mut query = filter.filter(case::Column::Service.eq(SERVICE));
        if let Some(before) = before {
            query = query.filter(case::Column::Id.lt(before.as_uuid()));
        }
        let cases = query
            .order_by_desc(case::Column::Id)
            .limit(limit)
            .all(self.db())
            .await?;
        self.hydrate(cases).await
    }

    /// A resident's consultations, newest first; `before` is the cursor.
    pub async fn consultations_of_resident(
        &self,
        resident: ResidentId,
        before: Option<CaseId>,
        limit: u64,
    ) -> Result<Vec<ConsultationRecord>, StoreError> {
        self.page(
            case::Entity::find().filter(case::Column::ResidentId.eq(resident.as_uuid())),
            before,
            limit,
        )
        .await
    }

    /// Consultations a lawyer owns, newest first.
    pub async fn consultations_owned_by(
        &self,
        staff: StaffId,
        before: Option<CaseId>,
        limit: u64,
    ) -> Result<Vec<ConsultationRecord>, StoreError> {
        self.page(
            case::Entity::find().filter(case::Column::OwnerStaffId.eq(staff.as_uuid())),
            before,
            limit,
        )
        .await
    }

    /// Consultations waiting in the pools of these units, newest first.
    pub async fn pooled_consultations(
        &self,
        pool_units: Vec<Uuid>,
        before: Option<CaseId>,
        limit: u64,
    ) -> Result<Vec<ConsultationRecord>, StoreError> {
        // One indexed range scan per pool unit, merged here. A single
        // `pool_unit_id IN (...) ORDER BY id DESC` made PostgreSQL walk the
        // primary key backwards through every newer case (23 ms, 45k buffers
        // at 1M cases, BENCHMARKS.md); per unit it reads a few index pages.
        let mut cases = Vec::new();
        for unit in pool_units {
            let mut query = case::Entity::find()
                .filter(case::Column::Status.eq(ConsultationStatus::Pooled.as_str()))
                .filter(case::Column::PoolUnitId.eq(unit))
                .filter(case::Column::Service.eq(SERVICE));
            if let Some(before) = before {
                query = query.filter(case::Column::Id.lt(before.as_uuid()));
            }
            cases.extend(
                query
                    .order_by_desc(case::Column::Id)
                    .limit(limit)
                    .all(self.db())
                    .await?,
            );
        }
        cases.sort_by_key(|c| std::cmp::Reverse(c.id));
        cases.truncate(limit as usize);
        self.hydrate(cases).await
    }

    /// The thread of a case, oldest first; internal notes only for staff.
    pub async fn thread(
        &self,
        id: CaseId,
        include_internal: bool,
    ) -> Result<Vec<case_message::Model>, StoreError> {
        let mut query =
            case_message::Entity::find().filter(case_message::Column::CaseId.eq(id.as_uuid()));
        if include_internal {
            // Staff: internal notes too, but no resident text still held by moderation.
            query = query.filter(case_message::Column::Moderation.eq(Moderation::Passed.as_str()));
        } else {
            query = query.filter(case_message::Column::Visibility.eq(visibility::PUBLIC));
        }
        Ok(query
            .order_by_asc(case_message::Column::Id)
            .all(self.db())
            .await?)
    }

    /// The history of a case, oldest first; routing internals only for staff.
    pub async fn history(
        &self,
        id: CaseId,
        public_only: bool,
    ) -> Result<Vec<case_event::Model>, StoreError> {
        let mut query =
            case_event::Entity::find().filter(case_event::Column::CaseId.eq(id.as_uuid()));
        if public_only {
            query = query.filter(case_event::Column::Public.eq(true));
        }
        Ok(query
            .order_by_asc(case_event::Column::Id)
            .all(self.db())
            .await?)
    }

    /// Offers waiting for this staff member's answer, with their cases, of
    /// any service (whoever the engine offers cases to lists them here).
    pub async fn pending_offers_for(
        &self,
        staff: StaffId,
        now: DateTime<Utc>,
    ) -> Result<Vec<(offer::Model, OfferedCase)>, StoreError> {
        let offers = offer::Entity::find()
            .filter(offer::Column::StaffId.eq(staff.as_uuid()))
            .filter(offer::Column::Status.eq(offer_status::PENDING))
            .filter(offer::Column::ExpiresAt.gt(now))
            .order_by_asc(offer::Column::ExpiresAt)
            // Offers are answered one by one; the soonest hundred is a full screen.
            .limit(MAX_PENDING_OFFERS_SHOWN)
            .all(self.db())
            .await?;
        let cases = case::Entity::find()
            .filter(case::Column::Id.is_in(offers.iter().map(|o| o.case_id)))
            .all(self.db())
            .await?;
        let (consultations, others): (Vec<case::Model>, Vec<case::Model>) =
            cases.into_iter().partition(|c| c.service == SERVICE);
        let mut offered: HashMap<Uuid, OfferedCase> = self
            .hydrate(consultations)
            .await?
            .into_iter()
            .map(|r| (r.case.id, OfferedCase::Consultation(Box::new(r))))
            .collect();
        let (mediations, tips): (Vec<case::Model>, Vec<case::Model>) = others
            .into_iter()
            .partition(|c| c.service == crate::mediations::SERVICE);
        if !tips.is_empty() {
            let mut details: HashMap<Uuid, crate::entity::tip::Model> =
                crate::entity::tip::Entity::find()
                    .filter(crate::entity::tip::Column::CaseId.is_in(tips.iter().map(|c| c.id)))
                    .all(self.db())
                    .await?
                    .into_iter()
                    .map(|d| (d.case_id, d))
                    .collect();
            for case in tips {
                if let Some(detail) = details.remove(&case.id) {
                    let id = case.id;
                    let (case, detail) = (Box::new(case), Box::new(detail));
                    offered.insert(id, OfferedCase::Tip { case, detail });
                }
            }
        }
        if !mediations.is_empty() {
            let mut details: HashMap<Uuid, crate::entity::mediation::Model> =
                crate::entity::mediation::Entity::find()
                    .filter(
                        crate::entity::mediation::Column::CaseId
                            .is_in(mediations.iter().map(|c| c.id)),
                    )
                    .all(self.db())
                    .await?
                    .into_iter()
                    .map(|d| (d.case_id, d))
                    .collect();
            for case in mediations {
                if let Some(detail) = details.remove(&case.id) {
                    offered.insert(
                        case.id,
                        OfferedCase::Mediation {
                            case: Box::new(case),
                            detail: Box::new(detail),
                        },
                    );
                }
            }
        }
        Ok(offers
            .into_iter()
            .filter_map(|o| offered.remove(&o.case_id).map(|r| (o, r)))
            .collect())
    }

    /// Whether this staff member holds a live offer for this case.
    /// The live offer of this case to this person, if any.
    pub async fn pending_offer_of(
        &self,
        case_id: CaseId,
        staff: StaffId,
        now: DateTime<Utc>,
    ) -> Result<Option<offer::Model>, StoreError> {
        Ok(offer::Entity::find()
            .filter(offer::Column::CaseId.eq(case_id.as_uuid()))
            .filter(offer::Column::StaffId.eq(staff.as_uuid()))
            .filter(offer::Column::Status.eq(offer_status::PENDING))
            .filter(offer::Column::ExpiresAt.gt(now))
            .one(self.db())
            .await?)
    }

    pub async fn has_pending_offer(
        &self,
        case_id: CaseId,
        staff: StaffId,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        Ok(self.pending_offer_of(case_id, staff, now).await?.is_some())
    }

    pub async fn offer(&self, id: OfferId) -> Result<Option<offer::Model>, StoreError> {
        Ok(offer::Entity::find_by_id(id.as_uuid())
            .one(self.db())
            .await?)
    }

    /// Lawyer accepts an offer made to them. Of two concurrent accepts, one wins.
    pub async fn accept_offer(
        &self,
        offer_id: OfferId,
        staff: StaffId,
        ctx: Context<'_>,
    ) -> Result<CaseId, StoreError> {
        let txn = self.db().begin().await?;
        let offer = offer::Entity::find_by_id(offer_id.as_uuid())
            .filter(offer::Column::StaffId.eq(staff.as_uuid()))
            .one(&txn)
            .await?
            .ok_or(StoreError::NotFound)?;
        if offer.status != offer_status::PENDING {
            return Err(StoreError::conflict(format!(
                "the offer is already {}",
                offer.status
            )));
        }
        if offer.expires_at <= ctx.now {
            return Err(StoreError::conflict("the offer has expired"));
        }
        let updated = offer::Entity::update_many()
            .col_expr(offer::Column::Status, Expr::value(offer_status::ACCEPTED))
            .col_expr(offer::Column::RespondedAt, Expr::value(ctx.now))
            .filter(offer::Column::Id.eq(offer.id))
            .filter(offer::Column::Status.eq(offer_status::PENDING))
            .exec(&txn)
            .await?;
        if updated.rows_affected != 1 {
            return Err(StoreError::conflict("the offer was answered meanwhile"));
        }
        // An offer may be of any service's case.
        let case = load_any_case(&txn, offer.case_id).await?;
        move_routed(&txn, &case, RoutingMove::Accept, None, ctx, |u| {
            u.col_expr(case::Column::OwnerStaffId, Expr::value(staff.as_uuid()))
                .col_expr(case::Column::AcceptedAt, Expr::value(ctx.now))
        })
        .await?;
        mark_assigned(&txn, staff, ctx.now).await?;
        if case.service == SERVICE {
            notify_resident(&txn, NotificationEvent::ConsultationAccepted, case.id, ctx).await?;
        }
        self.commit_work(txn).await?;
        Ok(case.id.into())
    }

    /// Lawyer declines an offer: the case goes to the pool.
    pub async fn decline_offer(
        &self,
        offer_id: OfferId,
        staff: StaffId,
        reason: &str,
        ctx: Context<'_>,
    ) -> Result<CaseId, StoreError> {
        let txn = self.db().begin().await?;
        let offer = offer::Entity::find_by_id(offer_id.as_uuid())
            .filter(offer::Column::StaffId.eq(staff.as_uuid()))
            .one(&txn)
            .await?
            .ok_or(StoreError::NotFound)?;
        let updated = offer::Entity::update_many()
            .col_expr(offer::Column::Status, Expr::value(offer_status::DECLINED))
            .col_expr(offer::Column::RespondedAt, Expr::value(ctx.now))
            .col_expr(offer::Column::DeclineReason, Expr::value(reason))
            .filter(offer::Column::Id.eq(offer.id))
            .filter(offer::Column::Status.eq(offer_status::PENDING))
            .exec(&txn)
            .await?;
        if updated.rows_affected != 1 {
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
        route_again(&txn, case.id, ctx).await?;
        staff_freed(&txn, staff, ctx).await?;
        self.commit_work(txn).await?;
        Ok(case.id.into())
    }

    /// Owner hands the case back (退单: "not mine", with a reason). It is
    /// routed again, and this person is not asked again on this step.
    pub async fn hand_back_consultation(
        &self,
        id: CaseId,
        staff: StaffId,
        reason: &str,
        ctx: Context<'_>,
    ) -> Result<(), StoreError> {
        let txn = self.db().begin().await?;
        let case = load_case(&txn, id).await?;
        if case.owner_staff_id != Some(staff.as_uuid()) {
            return Err(StoreError::NotFound);
        }
        move_routed(&txn, &case, RoutingMove::HandBack, Some(reason), ctx, |u| {
            u.col_expr(case::Column::OwnerStaffId, Expr::value(None::<Uuid>))
                .col_expr(case::Column::QueuedAt, Expr::value(ctx.now))
        })
        .await?;
        // Recorded like a declined offer, so the step's exclusions see it.
        crate::routing::insert_offer(
            &txn,
            OfferId::new(),
            case.id,
            staff,
            Ord::max(case.ladder_step, 0) as usize,
            offer_status::RETURNED,
            ctx.now,
            ctx.now,
        )
        .await?;
        route_again(&txn, case.id, ctx).await?;
        staff_freed(&txn, staff, ctx).await?;
        self.commit_work(txn).await?;
        Ok(())
    }

    /// A coordinator gives the case to a named lawyer, whatever the router
    /// was doing with it: a pending offer is cancelled.
    pub async fn reassign_case(
        &self,
        id: CaseId,
        to: StaffId,
        reason: &str,
        ctx: Context<'_>,
    ) -> Result<(), StoreError> {
        let txn = self.db().begin().await?;
        // Any service: a coordinator reassigns mediations as well.
        let case = load_any_case(&txn, id.as_uuid()).await?;
        let previous = case.owner_staff_id;
        move_routed(&txn, &case, RoutingMove::Reassign, Some(reason), ctx, |u| {
            u.col_expr(case::Column::OwnerStaffId, Expr::value(to.as_uuid()))
                .col_expr(
                    case::Column::AcceptedAt,
                    Expr::value(case.accepted_at.unwrap_or(ctx.now)),
                )
                .col_expr(case::Column::UnroutedAt, Expr::value(None::<DateTime<Utc>>))
        })
        .await?;
        cancel_pending_offers(&txn, case.id, ctx.now).await?;
        mark_assigned(&txn, to, ctx.now).await?;
        if let Some(previous) = previous.filter(|p| *p != to.as_uuid()) {
            staff_freed(&txn, previous.into(), ctx).await?;
        }
        self.commit_work(txn).await?;
        Ok(())
    }

    /// A resolved case needs more work: back to routing from the bottom of
    /// its ladder, offered first to whoever resolved it if they still can.
    pub async fn reopen_consultation(
        &self,
        id: CaseId,
        reason: &str,
        ctx: Context<'_>,
    ) -> Result<(), StoreError> {
        let txn = self.db().begin().await?;
        let case = load_case(&txn, id).await?;
        if let Actor::Resident(resident) = ctx.actor
            && case.resident_id != Some(resident.as_uuid())
        {
            return Err(StoreError::NotFound);
        }
        move_routed(&txn, &case, RoutingMove::Reopen, Some(reason), ctx, |u| {
            let none: Option<DateTime<Utc>> = None;
            u.col_expr(case::Column::OwnerStaffId, Expr::value(None::<Uuid>))
                .col_expr(case::Column::ResolvedAt, Expr::value(none))
                .col_expr(case::Column::UnroutedAt, Expr::value(none))
                .col_expr(case::Column::LadderStep, Expr::value(0))
                .col_expr(case::Column::StepEnteredAt, Expr::value(ctx.now))
                .col_expr(case::Column::QueuedAt, Expr::value(ctx.now))
                .col_expr(
                    case::Column::PreferredStaffId,
                    Expr::value(case.owner_staff_id),
                )
        })
        .await?;
        route_again(&txn, case.id, ctx).await?;
        self.commit_work(txn).await?;
        Ok(())
    }

    /// Lawyer takes a pooled case. The caller has checked the lawyer serves
    /// the case's pool; the guarded update settles races between lawyers.
    pub async fn claim_consultation(
        &self,
        id: CaseId,
        staff: StaffId,
        ctx: Context<'_>,
    ) -> Result<(), StoreError> {
        self.claim_case(id, staff, Some(SERVICE), ctx).await
    }

    /// Take a waiting case of any service (`only`: of this service, else
    /// not found). The same guarded update as every claim, so a pull and a
    /// push, or two pulls, never both win.
    pub(crate) async fn claim_case(
        &self,
        id: CaseId,
        staff: StaffId,
        only: Option<&str>,
        ctx: Context<'_>,
    ) -> Result<(), StoreError> {
        let txn = self.db().begin().await?;
        let case = load_any_case(&txn, id.as_uuid()).await?;
        if only.is_some_and(|service| service != case.service) {
            return Err(StoreError::NotFound);
        }
        move_routed(&txn, &case, RoutingMove::Claim, None, ctx, |u| {
            u.col_expr(case::Column::OwnerStaffId, Expr::value(staff.as_uuid()))
                .col_expr(case::Column::AcceptedAt, Expr::value(ctx.now))
        })
        .await?;
        mark_assigned(&txn, staff, ctx.now).await?;
        // Residents are told of accepted consultations (the only template so far).
        if case.service == SERVICE {
            notify_resident(&txn, NotificationEvent::ConsultationAccepted, case.id, ctx).await?;
        }
        self.commit_work(txn).await?;
        Ok(())
    }

    /// Owner replies in the thread (public) or adds an internal note.
    pub async fn post_staff_message(
        &self,
        id: CaseId,
        staff: StaffId,
        body: &MessageBody,
        internal: bool,
        ctx: Context<'_>,
    ) -> Result<ConsultationStatus, StoreError> {
        let txn = self.db().begin().await?;
        let case = load_case(&txn, id).await?;
        if case.owner_staff_id != Some(staff.as_uuid()) {
            return Err(StoreError::NotFound);
        }
        let (action, visibility) = if internal {
            (ConsultationAction::Note, visibility::INTERNAL)
        } else {
            (ConsultationAction::Reply, visibility::PUBLIC)
        };
        let first_answer = !internal && case.answered_at.is_none();
        let status = move_case(&txn, &case, action, None, ctx, |u| {
            if first_answer {
                u.col_expr(case::Column::AnsweredAt, Expr::value(ctx.now))
            } else {
                u
            }
        })
        .await?;
        // Staff text is not checked: staff are accountable by name.
        insert_message(
            &txn,
            case.id,
            ctx.actor,
            body,
            visibility,
            Moderation::Passed,
            ctx.now,
        )
        .await?;
        if first_answer {
            notify_resident(&txn, NotificationEvent::ConsultationAnswered, case.id, ctx).await?;
        }
        self.commit_work(txn).await?;
        Ok(status)
    }

    pub async fn resolve_consultation(
        &self,
        id: CaseId,
        staff: StaffId,
        ctx: Context<'_>,
    ) -> Result<(), StoreError> {
        let txn = self.db().begin().await?;
        let case = load_case(&txn, id).await?;
        if case.owner_staff_id != Some(staff.as_uuid()) {
            return Err(StoreError::NotFound);
        }
        move_case(&txn, &case, ConsultationAction::Resolve, None, ctx, |u| {
            u.col_expr(case::Column::ResolvedAt, Expr::value(ctx.now))
        })
        .await?;
        staff_freed(&txn, staff, ctx).await?;
        self.commit_work(txn).await?;
        Ok(())
    }

    /// Resident adds to their question.
    pub async fn post_follow_up(
        &self,
        id: CaseId,
        resident: ResidentId,
        body: &MessageBody,
        moderation: Moderation,
        ctx: Context<'_>,
    ) -> Result<(), StoreError> {
        let txn = self.db().begin().await?;
        let case = self.resident_case(&txn, id, resident).await?;
        move_case(&txn, &case, ConsultationAction::FollowUp, None, ctx, |u| u).await?;
        let message = insert_message(
            &txn,
            case.id,
            ctx.actor,
            body,
            visibility::PUBLIC,
            moderation,
            ctx.now,
        )
        .await?;
        if moderation == Moderation::Pending {
            let check = Work::Moderate(ModerationSubject::Message(message.into()));
            outbox::append(&txn, &check, ctx.request_id, ctx.now).await?;
        }
        self.commit_work(txn).await?;
        Ok(())
    }

    pub async fn rate_consultation(
        &self,
        id: CaseId,
        resident: ResidentId,
        rating: &Rating,
        ctx: Context<'_>,
    ) -> Result<(), StoreError> {
        let txn = self.db().begin().await?;
        let case = self.resident_case(&txn, id, resident).await?;
        move_case(&txn, &case, ConsultationAction::Rate, None, ctx, |u| {
            u.col_expr(case::Column::ClosedAt, Expr::value(ctx.now))
        })
        .await?;
        consultation::Entity::update_many()
            .col_expr(
                consultation::Column::RatingStars,
                Expr::value(i16::from(rating.stars())),
            )
            .col_expr(
                consultation::Column::RatingComment,
                Expr::value(rating.comment().map(str::to_owned)),
            )
            .col_expr(consultation::Column::RatedAt, Expr::value(ctx.now))
            .filter(consultation::Column::CaseId.eq(case.id))
            .exec(&txn)
            .await?;
        txn.commit().await?;
        Ok(())
    }

    /// Resident withdraws; a live offer is cancelled with it.
    pub async fn withdraw_consultation(
        &self,
        id: CaseId,
        resident: ResidentId,
        ctx: Context<'_>,
    ) -> Result<(), StoreError> {
        let txn = self.db().begin().await?;
        let case = self.resident_case(&txn, id, resident).await?;
        move_case(&txn, &case, ConsultationAction::Withdraw, None, ctx, |u| {
            u.col_expr(case::Column::ClosedAt, Expr::value(ctx.now))
        })
        .await?;
        cancel_pending_offers(&txn, case.id, ctx.now).await?;
        if let Some(owner) = case.owner_staff_id {
            staff_freed(&txn, owner.into(), ctx).await?;
        }
        self.commit_work(txn).await?;
        Ok(())
    }

    /// The case, if it is this resident's; otherwise "not found", so ids of
    /// other people's cases reveal nothing.
    async fn resident_case<C: ConnectionTrait>(
        &self,
        conn: &C,
        id: CaseId,
        resident: ResidentId,
    ) -> Result<case::Model, StoreError> {
        let case = load_case(conn, id).await?;
        if case.resident_id != Some(resident.as_uuid()) {
            return Err(StoreError::NotFound);
        }
        Ok(case)
    }
}
