//! The case engine's core, shared by every service: the change context,
//! the new case row, the history (events) and the thread (messages), the
//! guarded move, and the outbox rows every service owes (route again,
//! someone has room, tell the resident). Consultations, mediations, tips,
//! offers, routing and staffing build on this module; it imports none of
//! them.
//!
//! Every move loads the case, asks the case's own machine in
//! `sansuo_domain` whether the move is allowed and where it leads, and
//! saves it with a guarded update on `(status, version)`: of two concurrent
//! moves from the same state, exactly one updates a row and the other gets
//! `StoreError::Conflict`.

use crate::entity::{case, case_event, case_intake, case_message, idempotency_key, staff};
use crate::error::is_unique_violation;
use crate::outbox::{self, Work};
use crate::records::{CaseEventRecord, CaseMessageRecord, CaseRecord, IntakeRecord, StaffRecord};
use crate::{Store, StoreError};
use chrono::{DateTime, Utc};
use sansuo_domain::catalog::Service;
use sansuo_domain::event_chain::{self, ChainedEvent};
use sansuo_domain::moderation::Moderation;
use sansuo_domain::notify::NotificationEvent;
use sansuo_domain::values::{IdempotencyKey, MessageBody};
use sansuo_domain::work_order::{CaseStatus, Move, MoveError, RoutingMove, routing_move};
use sansuo_domain::{Actor, CaseId, OrgUnitId, ResidentId, StaffId};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Statement, UpdateMany,
};
use uuid::Uuid;

/// The event that opens every case file.
pub const SUBMIT_EVENT: &str = "submit";

/// Who sees a thread message (`case_messages.visibility`).
pub mod visibility {
    pub const PUBLIC: &str = "public";
    pub const INTERNAL: &str = "internal";
}

/// What a submission with an Idempotency-Key led to (any service).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Submission {
    Created(CaseId),
    /// Stored and offered to its first handler in the same transaction
    /// (`placement::route_new`): nothing is left for the router.
    Offered(CaseId),
    /// A retry of an earlier submission with the same Idempotency-Key.
    Replayed(CaseId),
}

impl Submission {
    pub fn case_id(&self) -> CaseId {
        match self {
            Submission::Created(id) | Submission::Offered(id) | Submission::Replayed(id) => *id,
        }
    }

    /// The case, if this request stored it (not a replay).
    pub fn created(&self) -> Option<CaseId> {
        match self {
            Submission::Created(id) | Submission::Offered(id) => Some(*id),
            Submission::Replayed(_) => None,
        }
    }
}

/// The earlier submission a resident made under this Idempotency-Key, if
/// any: the same request hash replays its case; another hash is refused
/// (`IdempotencyKeyReused`). Keys are the resident's, across services.
pub(crate) async fn replayed_submission<C: ConnectionTrait>(
    conn: &C,
    owner: Uuid,
    idempotency: Option<&(IdempotencyKey, String)>,
) -> Result<Option<Submission>, StoreError> {
    let Some((key, hash)) = idempotency else {
        return Ok(None);
    };
    let found = idempotency_key::Entity::find_by_id((owner, key.as_str().to_owned()))
        .one(conn)
        .await?;
    match found {
        None => Ok(None),
        Some(row) if &row.request_hash == hash => {
            Ok(Some(Submission::Replayed(row.case_id.into())))
        }
        Some(_) => Err(StoreError::IdempotencyKeyReused),
    }
}

/// Record the Idempotency-Key of a new case, in the case's own
/// transaction. `false`: a concurrent retry with the same key committed
/// first; the caller rolls back and answers with [`replayed_submission`].
/// `owner` is whose key space it is: the resident submitting, or the staff
/// member filing in person (代办). Both are UUIDs, so the two kinds never
/// meet in `idempotency_keys.resident_id`, which holds either.
pub(crate) async fn claim_idempotency_key<C: ConnectionTrait>(
    txn: &C,
    owner: Uuid,
    idempotency: Option<&(IdempotencyKey, String)>,
    case_id: CaseId,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let Some((key, hash)) = idempotency else {
        return Ok(true);
    };
    let inserted = idempotency_key::Entity::insert(idempotency_key::ActiveModel {
        resident_id: Set(owner),
        key: Set(key.as_str().to_owned()),
        request_hash: Set(hash.clone()),
        case_id: Set(case_id.as_uuid()),
        created_at: Set(now),
    })
    .exec_without_returning(txn)
    .await;
    match inserted {
        Ok(_) => Ok(true),
        Err(err) if is_unique_violation(&err) => Ok(false),
        Err(err) => Err(err.into()),
    }
}

/// Who did something and why, for the history.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    pub actor: Actor,
    pub request_id: Option<&'a str>,
    pub now: DateTime<Utc>,
}

impl<'a> Context<'a> {
    /// The request id as the history and the outbox may keep it: none for
    /// an anonymous reporter, whose client's `X-Request-Id` could carry
    /// (or repeat) something that identifies them (docs/anonymity.md).
    pub fn recorded_request_id(&self) -> Option<&'a str> {
        match self.actor {
            Actor::AnonymousReporter => None,
            _ => self.request_id,
        }
    }
}

/// A new case row as every service writes it: waiting for its first
/// routing, nobody owns it, the router places it on its workflow's ladder.
/// Callers override what differs (`pool_unit_id`, `moderation`, ...).
pub(crate) fn new_case_row(
    id: CaseId,
    service: Service,
    community: OrgUnitId,
    category: &str,
    resident: Option<ResidentId>,
    now: DateTime<Utc>,
) -> case::ActiveModel {
    case::ActiveModel {
        id: Set(id.as_uuid()),
        service: Set(service.as_str().to_owned()),
        community_id: Set(community.as_uuid()),
        category_code: Set(category.to_owned()),
        resident_id: Set(resident.map(|r| r.as_uuid())),
        status: Set(CaseStatus::submitted(service).as_str().to_owned()),
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
        urge_count: Set(0),
        last_urged_at: Set(None),
        sla_extension_minutes: Set(0),
    }
}

/// `(actor_kind, actor_id)` of events and `(author_kind, author_id)` of messages.
pub(crate) fn actor_columns(actor: Actor) -> (&'static str, Option<Uuid>) {
    match actor {
        Actor::Resident(id) => ("resident", Some(id.as_uuid())),
        Actor::Staff { id, .. } => ("staff", Some(id.as_uuid())),
        Actor::System => ("system", None),
        Actor::AnonymousReporter => ("reporter", None),
    }
}

/// Append one `case_events` row on `conn` (the caller's transaction).
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
    let id = Uuid::now_v7();
    let request_id = ctx.recorded_request_id().map(str::to_owned);
    // A history is read in `created_at` order, so an event is never dated
    // before the case's latest one. `ctx.now` is taken when a request or job
    // starts; one that then waited for the case's row lock behind another
    // move (the caller holds that lock now) would otherwise be dated before
    // the move it follows, and the history would read out of order (the
    // cluster drill's "history gap": a claim of a pooled case listed before
    // the escalation that pooled it).
    //
    // Every event also extends the case's hash chain (`seq`, `prev_hash`,
    // `hash`; `sansuo_domain::event_chain`, migration
    // `m20261205_130000_event_chain`).
    if conn.get_database_backend() == DbBackend::Postgres {
        // One round trip: the insert trigger `case_events_chain` locks the
        // case row (queueing concurrent appends even for a caller that did
        // not take it), reads the case's latest event after the lock, dates
        // this one after it and fills its place, link and hash. Whatever we
        // send for those columns is replaced.
        let sql = "INSERT INTO case_events (id, case_id, action, from_status, to_status, \
                     actor_kind, actor_id, reason, public, request_id, created_at, \
                     seq, prev_hash, hash) \
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 0, '', '')";
        conn.execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            sql,
            [
                id.into(),
                case_id.into(),
                action.into(),
                from.map(str::to_owned).into(),
                to.into(),
                actor_kind.into(),
                actor_id.into(),
                reason.map(str::to_owned).into(),
                public.into(),
                request_id.into(),
                ctx.now.into(),
            ],
        ))
        .await?;
        return Ok(());
    }
    // SQLite: the caller's transaction began IMMEDIATE, so no other writer
    // can append between this read and the insert.
    let tip: Option<(i64, String, DateTime<Utc>)> = case_event::Entity::find()
        .select_only()
        .column(case_event::Column::Seq)
        .column(case_event::Column::Hash)
        .column(case_event::Column::CreatedAt)
        .filter(case_event::Column::CaseId.eq(case_id))
        .order_by_desc(case_event::Column::Seq)
        .limit(1)
        .into_tuple()
        .one(conn)
        .await?;
    // Microseconds, as PostgreSQL keeps them: the hash covers the stored time.
    let now = DateTime::from_timestamp_micros(ctx.now.timestamp_micros()).unwrap_or(ctx.now);
    let created_at = match &tip {
        Some((_, _, latest)) if *latest >= now => *latest + chrono::Duration::microseconds(1),
        _ => now,
    };
    let mut event = ChainedEvent {
        id,
        case_id,
        seq: 0,
        action: action.to_owned(),
        from_status: from.map(str::to_owned),
        to_status: to.to_owned(),
        actor_kind: actor_kind.to_owned(),
        actor_id,
        reason: reason.map(str::to_owned),
        public,
        request_id,
        created_at,
        prev_hash: String::new(),
        hash: String::new(),
    };
    event_chain::chain_after(
        tip.as_ref().map(|(seq, hash, _)| (*seq, hash.as_str())),
        &mut event,
    );
    case_event::Entity::insert(case_event::ActiveModel {
        id: Set(event.id),
        case_id: Set(event.case_id),
        action: Set(event.action),
        from_status: Set(event.from_status),
        to_status: Set(event.to_status),
        actor_kind: Set(event.actor_kind),
        actor_id: Set(event.actor_id),
        reason: Set(event.reason),
        public: Set(event.public),
        request_id: Set(event.request_id),
        created_at: Set(event.created_at),
        seq: Set(event.seq),
        prev_hash: Set(event.prev_hash),
        hash: Set(event.hash),
    })
    .exec_without_returning(conn)
    .await?;
    Ok(())
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
) -> Result<CaseStatus, StoreError> {
    move_routed_owned(conn, case, mv, Owner::Kept, reason, ctx, set).await
}

/// [`move_routed`], changing who owns the case.
pub(crate) async fn move_routed_owned<C: ConnectionTrait>(
    conn: &C,
    case: &case::Model,
    mv: RoutingMove,
    owner: Owner,
    reason: Option<&str>,
    ctx: Context<'_>,
    set: impl FnOnce(UpdateMany<case::Entity>) -> UpdateMany<case::Entity>,
) -> Result<CaseStatus, StoreError> {
    let applied = routing_move(status_of(case)?, mv).map_err(|e| match e {
        MoveError::Forbidden(why) => StoreError::Conflict(why),
        other => StoreError::Conflict(other.to_string()),
    })?;
    apply_move_owned(conn, case, applied, owner, reason, ctx, set).await?;
    Ok(applied.to)
}

/// The case's service, read from its column.
pub(crate) fn service_of(case: &case::Model) -> Result<Service, StoreError> {
    case.service.parse().map_err(StoreError::Conflict)
}

/// The case's status, read from its service and status columns.
pub(crate) fn status_of(case: &case::Model) -> Result<CaseStatus, StoreError> {
    CaseStatus::parse(service_of(case)?, &case.status)
        .map_err(|e| StoreError::Conflict(e.to_string()))
}

/// Who owns a case after a move, as far as its owner's load counts it
/// (`staff_load`). Only these moves may change the owner: one that set the
/// column in its `set` would leave the load counter wrong until the
/// reconciler's repair.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Owner {
    /// The owner stays; their place is taken or given back only when the
    /// move leads into or out of a finished status.
    Kept,
    /// Someone else, or nobody.
    Becomes(Option<StaffId>),
    /// The person whose pending offer of the case was accepted in this
    /// transaction: the offer's place becomes the case's.
    Accepts(StaffId),
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
    apply_move_owned(conn, case, applied, Owner::Kept, reason, ctx, set).await
}

/// [`apply_move`], changing who owns the case, with their loads.
pub(crate) async fn apply_move_owned<C: ConnectionTrait>(
    conn: &C,
    case: &case::Model,
    applied: Move,
    owner: Owner,
    reason: Option<&str>,
    ctx: Context<'_>,
    set: impl FnOnce(UpdateMany<case::Entity>) -> UpdateMany<case::Entity>,
) -> Result<(), StoreError> {
    let mut update = case::Entity::update_many()
        .col_expr(case::Column::Status, Expr::value(applied.to.as_str()))
        .col_expr(
            case::Column::Version,
            Expr::col(case::Column::Version).add(1),
        )
        .col_expr(case::Column::UpdatedAt, Expr::value(ctx.now))
        .filter(case::Column::Id.eq(case.id))
        .filter(case::Column::Status.eq(applied.from.as_str()))
        .filter(case::Column::Version.eq(case.version));
    let counted = |owner: Option<Uuid>, status: CaseStatus| owner.filter(|_| !status.is_finished());
    let mut before = counted(case.owner_staff_id, applied.from);
    let after = match owner {
        Owner::Kept => case.owner_staff_id,
        Owner::Becomes(to) => to.map(|s| s.as_uuid()),
        Owner::Accepts(staff) => {
            before = Some(staff.as_uuid());
            Some(staff.as_uuid())
        }
    };
    if !matches!(owner, Owner::Kept) {
        update = update.col_expr(case::Column::OwnerStaffId, Expr::value(after));
    }
    let result = set(update).exec(conn).await?;
    if result.rows_affected != 1 {
        return Err(StoreError::conflict(format!(
            "the case changed meanwhile (it was {}); reload it",
            applied.from
        )));
    }
    crate::staff_load::moved(conn, before, counted(after, applied.to)).await?;
    crate::db::trip(crate::db::Fault::BetweenMoveAndEvent { case: case.id })?;
    if applied.to.is_finished() {
        // 督办 ends with the case (store::supervision).
        crate::entity::case_supervision::Entity::update_many()
            .col_expr(
                crate::entity::case_supervision::Column::EndedAt,
                Expr::value(ctx.now),
            )
            .filter(crate::entity::case_supervision::Column::CaseId.eq(case.id))
            .filter(crate::entity::case_supervision::Column::EndedAt.is_null())
            .exec(conn)
            .await?;
    }
    append_event(
        conn,
        case.id,
        applied.action,
        Some(applied.from.as_str()),
        applied.to.as_str(),
        applied.public,
        reason,
        ctx,
    )
    .await
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
    outbox::append(conn, &work, ctx.recorded_request_id(), ctx.now).await
}

/// Owe the resident a subscribe message about this event, in the same
/// transaction as the event itself (sent later by the worker, never inline).
/// A case without a resident (an anonymous tip) owes nothing: no work is
/// written that names it. An event owed once per occurrence draws its
/// occurrence here, once, so a redelivered job still sends one message.
pub(crate) async fn notify_resident<C: ConnectionTrait>(
    conn: &C,
    event: NotificationEvent,
    case: &case::Model,
    ctx: Context<'_>,
) -> Result<(), StoreError> {
    if case.resident_id.is_none() {
        return Ok(());
    }
    let occurrence = (!event.once_per_case()).then(Uuid::now_v7);
    let work = Work::Notify {
        event,
        case_id: CaseId::from(case.id),
        occurrence,
    };
    outbox::append(conn, &work, ctx.recorded_request_id(), ctx.now).await
}

/// A case of any service, by id.
pub(crate) async fn load_any_case<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
) -> Result<case::Model, StoreError> {
    case::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or(StoreError::NotFound)
}

/// A message in the case's thread.
pub(crate) async fn insert_message<C: ConnectionTrait>(
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
    crate::staff_events::tell_owner_of_message(conn, case_id, author, message_id, now).await?;
    Ok(message_id)
}

/// Which subscribe message tells the resident that someone took their
/// case (accepted an offer or claimed it from the queue).
pub(crate) fn notice_on_accept(service: Service) -> Option<NotificationEvent> {
    match service {
        Service::Consultation => Some(NotificationEvent::ConsultationAccepted),
        Service::Mediation => Some(NotificationEvent::MediationAccepted),
        Service::Tip => Some(NotificationEvent::TipAcknowledged),
    }
}

/// Owe the case a routing decision, in the same transaction as the change
/// that calls for it (a decline, a lapse, a hand-back, a reopen).
pub(crate) async fn route_again<C: ConnectionTrait>(
    conn: &C,
    case_id: Uuid,
    request_id: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let route = Work::RouteCase {
        case_id: case_id.into(),
    };
    outbox::append(conn, &route, request_id, now).await
}

/// The case engine's reads shared by every service: a case, its thread and history.
///
/// Reached as `store.cases()`; see [`Store`].
#[derive(Clone, Copy)]
pub struct Cases<'a>(pub(crate) &'a Store);

impl std::ops::Deref for Cases<'_> {
    type Target = Store;
    fn deref(&self) -> &Store {
        self.0
    }
}

impl Store {
    /// The case engine's reads shared by every service: a case, its thread and history.
    pub fn cases(&self) -> Cases<'_> {
        Cases(self)
    }
}

impl Cases<'_> {
    /// The thread of a case, oldest first; internal notes only for staff.
    pub async fn thread(
        self,
        id: CaseId,
        include_internal: bool,
    ) -> Result<Vec<CaseMessageRecord>, StoreError> {
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
            .await?
            .into_iter()
            .map(Into::into)
            .collect())
    }

    /// The history of a case, oldest first; routing internals only for staff.
    pub async fn history(
        self,
        id: CaseId,
        public_only: bool,
    ) -> Result<Vec<CaseEventRecord>, StoreError> {
        let mut query =
            case_event::Entity::find().filter(case_event::Column::CaseId.eq(id.as_uuid()));
        if public_only {
            query = query.filter(case_event::Column::Public.eq(true));
        }
        Ok(query
            .order_by_asc(case_event::Column::Id)
            .all(self.db())
            .await?
            .into_iter()
            .map(Into::into)
            .collect())
    }

    /// Any service's case, by id.
    pub async fn get(self, id: CaseId) -> Result<Option<CaseRecord>, StoreError> {
        Ok(case::Entity::find_by_id(id.as_uuid())
            .one(self.db())
            .await?
            .map(CaseRecord::try_from)
            .transpose()?)
    }
}

/// The owners of a page of cases, by staff id, in one query (none for a
/// page nobody owns): the services' lists show who holds each case.
pub(crate) async fn owners_of(
    conn: &impl ConnectionTrait,
    cases: &[case::Model],
) -> Result<std::collections::HashMap<Uuid, StaffRecord>, StoreError> {
    let ids: Vec<Uuid> = cases.iter().filter_map(|c| c.owner_staff_id).collect();
    if ids.is_empty() {
        return Ok(Default::default());
    }
    Ok(staff::Entity::find()
        .filter(staff::Column::Id.is_in(ids))
        .all(conn)
        .await?
        .into_iter()
        .map(|s| Ok((s.id, StaffRecord::try_from(s)?)))
        .collect::<Result<_, sea_orm::DbErr>>()?)
}

/// A case filed on a resident's behalf by a staff member (代办): who filed
/// it and the resident's name and phone, sealed by the caller with their
/// masks. The case itself has no resident account.
pub struct NewIntake {
    /// The mediator or coordinator who filed it.
    pub filed_by: Actor,
    pub name_sealed: String,
    pub name_masked: String,
    pub phone_sealed: String,
    pub phone_masked: String,
}

/// The channel of a case filed in person (`case_intakes.channel`).
pub const IN_PERSON: &str = "in_person";

/// Record how the new case came in, with a staff-only event, in the
/// caller's transaction (after the case's `submit` event).
pub(crate) async fn record_intake<C: ConnectionTrait>(
    conn: &C,
    case_id: Uuid,
    submitted: &str,
    intake: &NewIntake,
    ctx: Context<'_>,
) -> Result<(), StoreError> {
    let Actor::Staff { id: filed_by, .. } = intake.filed_by else {
        return Err(StoreError::conflict("only staff file a case in person"));
    };
    case_intake::Entity::insert(case_intake::ActiveModel {
        case_id: Set(case_id),
        channel: Set(IN_PERSON.to_owned()),
        filed_by: Set(filed_by.as_uuid()),
        name_sealed: Set(intake.name_sealed.clone()),
        name_masked: Set(intake.name_masked.clone()),
        phone_sealed: Set(intake.phone_sealed.clone()),
        phone_masked: Set(intake.phone_masked.clone()),
        created_at: Set(ctx.now),
    })
    .exec_without_returning(conn)
    .await?;
    append_event(
        conn,
        case_id,
        "in_person_intake",
        Some(submitted),
        submitted,
        false,
        Some("居民到场，工作人员代为登记"),
        ctx,
    )
    .await
}

impl Cases<'_> {
    /// How the case came in, if a staff member filed it in person.
    pub async fn intake(self, id: CaseId) -> Result<Option<IntakeRecord>, StoreError> {
        Ok(case_intake::Entity::find_by_id(id.as_uuid())
            .one(self.db())
            .await?
            .map(Into::into))
    }
}

/// Which cases `Cases::verify_chains` reads.
#[derive(Debug, Clone)]
pub enum ChainScope {
    /// Every case in the database (`sansuo verify`).
    All,
    /// One case.
    Case(CaseId),
    /// The cases of these communities (an administrator's subtree).
    Communities(Vec<Uuid>),
}

/// Cases read per query when checking many.
const VERIFY_BATCH: u64 = 500;

fn chained(e: case_event::Model) -> ChainedEvent {
    ChainedEvent {
        id: e.id,
        case_id: e.case_id,
        seq: e.seq,
        action: e.action,
        from_status: e.from_status,
        to_status: e.to_status,
        actor_kind: e.actor_kind,
        actor_id: e.actor_id,
        reason: e.reason,
        public: e.public,
        request_id: e.request_id,
        created_at: e.created_at,
        prev_hash: e.prev_hash,
        hash: e.hash,
    }
}

impl Cases<'_> {
    /// Recomputes the hash chains of the cases in `scope`
    /// (`sansuo_domain::event_chain`), in case id order, a batch of cases
    /// per query; stops reading at the first broken link.
    pub async fn verify_chains(
        self,
        scope: ChainScope,
    ) -> Result<event_chain::ChainReport, StoreError> {
        let mut report = event_chain::ChainReport::default();
        let mut after: Option<Uuid> = None;
        loop {
            let mut ids = case::Entity::find()
                .select_only()
                .column(case::Column::Id)
                .order_by_asc(case::Column::Id)
                .limit(VERIFY_BATCH);
            match &scope {
                ChainScope::All => {}
                ChainScope::Case(id) => ids = ids.filter(case::Column::Id.eq(id.as_uuid())),
                ChainScope::Communities(units) => {
                    ids = ids.filter(case::Column::CommunityId.is_in(units.iter().copied()))
                }
            }
            if let Some(after) = after {
                ids = ids.filter(case::Column::Id.gt(after));
            }
            let ids: Vec<Uuid> = ids.into_tuple().all(self.db()).await?;
            let Some(last) = ids.last().copied() else {
                break;
            };
            let events = case_event::Entity::find()
                .filter(case_event::Column::CaseId.is_in(ids.iter().copied()))
                .order_by_asc(case_event::Column::CaseId)
                .order_by_asc(case_event::Column::Seq)
                .order_by_asc(case_event::Column::Id)
                .all(self.db())
                .await?;
            let mut events = events.into_iter().map(chained).peekable();
            for id in &ids {
                let mut of_case = Vec::new();
                while let Some(e) = events.next_if(|e| e.case_id == *id) {
                    of_case.push(e);
                }
                report.check_case(&of_case);
                if report.broken.is_some() {
                    return Ok(report);
                }
            }
            if (ids.len() as u64) < VERIFY_BATCH {
                break;
            }
            after = Some(last);
        }
        Ok(report)
    }
}
