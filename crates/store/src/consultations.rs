//! Consultations (法律咨询): writing, reading and the consultation machine's
//! own moves (reply, resolve, follow-up, rate, withdraw, hand back, reopen).
//!
//! Each change loads the case, asks `sansuo_domain::consultation::transition`
//! whether the move is allowed, and saves it with the engine's guarded
//! update (`cases::apply_move`). Routing, offers and the shared case parts
//! are the engine's (`cases`, `offers`); the names they had here are
//! re-exported so callers outside the crate keep their paths.

pub use crate::cases::{Context, IN_PERSON, NewIntake, SUBMIT_EVENT, Submission, visibility};
pub use crate::offers::MAX_PENDING_OFFERS_SHOWN;

use crate::cases::{
    Owner, actor_columns, append_event, apply_move, claim_idempotency_key, insert_message,
    move_routed_owned, new_case_row, notify_resident, owners_of, record_intake,
    replayed_submission, route_again, staff_freed,
};
use crate::entity::{case, consultation};
use crate::offers::{cancel_pending_offers, hand_back_owned};
use crate::outbox::{self, ModerationSubject, Work};
use crate::placement::{FirstOffer, created, route_new};
use crate::records::{CaseRecord, ConsultationDetail, MediationDetail, StaffRecord, TipDetail};
use crate::{Store, StoreError};
use chrono::{DateTime, Utc};
use sansuo_domain::catalog::Service;
use sansuo_domain::consultation::transition;
use sansuo_domain::moderation::Moderation;
use sansuo_domain::notify::NotificationEvent;
use sansuo_domain::values::{IdempotencyKey, MessageBody, QuestionText, Rating};
use sansuo_domain::work_order::{CaseStatus, Move, RoutingMove};
use sansuo_domain::{
    Actor, CaseId, ConsultationAction, ConsultationStatus, OrgUnitId, ResidentId, StaffId,
};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, UpdateMany,
};
use std::collections::HashMap;
use uuid::Uuid;

pub const SERVICE: &str = Service::Consultation.as_str();

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
    /// Its first offer, made in its own transaction (`Routing::first_offer`).
    pub first_offer: Option<FirstOffer>,
}

/// A consultation a staff member files for a resident present in person
/// (代办): no resident account, the intake record instead.
pub struct InPersonConsultation {
    pub community: OrgUnitId,
    pub pool_unit: Option<OrgUnitId>,
    pub category: String,
    pub question: QuestionText,
    pub intake: NewIntake,
    /// The filer's Idempotency-Key and the request's hash: a retry at the
    /// desk replays the first filing.
    pub idempotency: Option<(IdempotencyKey, String)>,
}

/// A consultation as read back: the case row, its question and rating, its owner.
#[derive(Debug, Clone)]
pub struct ConsultationRecord {
    pub case: CaseRecord,
    pub detail: ConsultationDetail,
    pub owner: Option<StaffRecord>,
}

impl ConsultationRecord {
    pub fn id(&self) -> CaseId {
        self.case.id.into()
    }

    pub fn status(&self) -> ConsultationStatus {
        match self.case.status {
            CaseStatus::Consultation(s) => s,
            // `hydrate` reads only consultation rows.
            other => unreachable!("a consultation record of a {} case", other.service()),
        }
    }
}

/// The case behind an offer, as much as an offer list shows of it (filled
/// by `crossings`; declared here, where callers outside the crate find it).
#[derive(Debug, Clone)]
pub enum OfferedCase {
    // Boxed: the rows are wide and of different sizes.
    Consultation(Box<ConsultationRecord>),
    Mediation {
        case: Box<CaseRecord>,
        detail: Box<MediationDetail>,
    },
    Tip {
        case: Box<CaseRecord>,
        detail: Box<TipDetail>,
    },
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
        from: from.into(),
        to: to.into(),
        action: action.as_str(),
        public: action.is_public(),
    };
    apply_move(conn, case, applied, reason, ctx, set).await?;
    Ok(to)
}

async fn load_case<C: ConnectionTrait>(conn: &C, id: CaseId) -> Result<case::Model, StoreError> {
    case::Entity::find_by_id(id.as_uuid())
        .filter(case::Column::Service.eq(SERVICE))
        .one(conn)
        .await?
        .ok_or(StoreError::NotFound)
}

/// Withdraw a consultation inside the caller's transaction (the resident's
/// own withdrawal, or their account's deletion): a live offer is cancelled
/// with it and its lawyer has room again.
pub(crate) async fn withdraw_in<C: ConnectionTrait>(
    conn: &C,
    case: &case::Model,
    reason: Option<&str>,
    ctx: Context<'_>,
) -> Result<(), StoreError> {
    move_case(conn, case, ConsultationAction::Withdraw, reason, ctx, |u| {
        u.col_expr(case::Column::ClosedAt, Expr::value(ctx.now))
    })
    .await?;
    cancel_pending_offers(conn, case.id, ctx.now).await?;
    if let Some(owner) = case.owner_staff_id {
        staff_freed(conn, owner.into(), ctx).await?;
    }
    Ok(())
}

/// Consultations (法律咨询): submit, claim, answer, resolve, rate.
///
/// Reached as `store.consultations()`; see [`Store`].
#[derive(Clone, Copy)]
pub struct Consultations<'a>(pub(crate) &'a Store);

impl std::ops::Deref for Consultations<'_> {
    type Target = Store;
    fn deref(&self) -> &Store {
        self.0
    }
}

impl Store {
    /// Consultations (法律咨询): submit, claim, answer, resolve, rate.
    pub fn consultations(&self) -> Consultations<'_> {
        Consultations(self)
    }
}

impl Consultations<'_> {
    /// Write a consultation, its first event and its routing outbox row in
    /// one transaction. A retry with the same Idempotency-Key (and the same
    /// request) returns the first case; with a different request it is refused.
    pub async fn submit(
        self,
        new: NewConsultation,
        now: DateTime<Utc>,
    ) -> Result<Submission, StoreError> {
        // No look-up first: the key's claim in the transaction is the
        // check, and a retry (rare) pays a rolled-back insert instead of
        // every submission paying a read (issue 16).
        let case_id = CaseId::new();
        let txn = self.begin_write().await?;
        case::Entity::insert(case::ActiveModel {
            pool_unit_id: Set(new.pool_unit.map(Into::into)),
            moderation: Set(new.moderation.as_str().to_owned()),
            ..new_case_row(
                case_id,
                Service::Consultation,
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
        if !claim_idempotency_key(
            &txn,
            new.resident.as_uuid(),
            new.idempotency.as_ref(),
            case_id,
            now,
        )
        .await?
        {
            // A concurrent retry with the same key committed first: drop
            // ours and answer with theirs.
            txn.rollback().await?;
            return self
                .replayed_submission(&new)
                .await?
                .ok_or(StoreError::conflict("idempotency key race"));
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
        let mut offered = false;
        match new.moderation {
            Moderation::Passed => {
                let first = new.first_offer.as_ref();
                offered = route_new(&txn, case_id, first, new.request_id.as_deref(), now).await?;
            }
            Moderation::Pending => {
                let check = Work::Moderate(ModerationSubject::Case(case_id));
                outbox::append(&txn, &check, new.request_id.as_deref(), now).await?;
            }
            Moderation::Review | Moderation::Rejected => {}
        }
        self.commit_work(txn).await?;
        Ok(created(case_id, offered))
    }

    /// File a consultation for a resident present in person (代办): the
    /// case (no resident account), its question, the `submit` event (by the
    /// staff member), the intake record and its staff-only event, and the
    /// routing outbox row, in one transaction. Staff text is not
    /// content-checked: staff are accountable by name.
    pub async fn file_in_person(
        self,
        new: InPersonConsultation,
        ctx: Context<'_>,
    ) -> Result<Submission, StoreError> {
        let case_id = CaseId::new();
        let filer = actor_columns(new.intake.filed_by)
            .1
            .ok_or(StoreError::conflict(
                "a case filed in person names its filer",
            ))?;
        let txn = self.begin_write().await?;
        case::Entity::insert(case::ActiveModel {
            pool_unit_id: Set(new.pool_unit.map(Into::into)),
            ..new_case_row(
                case_id,
                Service::Consultation,
                new.community,
                &new.category,
                None,
                ctx.now,
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
        let submitted = ConsultationStatus::Submitted.as_str();
        append_event(
            &txn,
            case_id.as_uuid(),
            SUBMIT_EVENT,
            None,
            submitted,
            true,
            None,
            ctx,
        )
        .await?;
        record_intake(&txn, case_id.as_uuid(), submitted, &new.intake, ctx).await?;
        route_new(&txn, case_id, None, ctx.request_id, ctx.now).await?;
        if !claim_idempotency_key(&txn, filer, new.idempotency.as_ref(), case_id, ctx.now).await? {
            txn.rollback().await?;
            return replayed_submission(self.db(), filer, new.idempotency.as_ref())
                .await?
                .ok_or(StoreError::conflict("idempotency key race"));
        }
        self.commit_work(txn).await?;
        Ok(Submission::Created(case_id))
    }

    async fn replayed_submission(
        self,
        new: &NewConsultation,
    ) -> Result<Option<Submission>, StoreError> {
        replayed_submission(self.db(), new.resident.as_uuid(), new.idempotency.as_ref()).await
    }

    pub async fn get(self, id: CaseId) -> Result<Option<ConsultationRecord>, StoreError> {
        let Some(case) = case::Entity::find_by_id(id.as_uuid())
            .filter(case::Column::Service.eq(SERVICE))
            .one(self.db())
            .await?
        else {
            return Ok(None);
        };
        crate::db::trip_read(&case)?;
        Ok(self.hydrate(vec![case]).await?.pop())
    }

    /// Join question text and owners onto case rows: three queries for a page.
    pub(crate) async fn hydrate(
        self,
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
        let owners = owners_of(self.db(), &cases).await?;
        cases
            .into_iter()
            .map(|case| {
                let detail = details.remove(&case.id).ok_or(StoreError::NotFound)?;
                let owner = case.owner_staff_id.and_then(|id| owners.get(&id).cloned());
                Ok(ConsultationRecord {
                    case: case.try_into()?,
                    detail: detail.into(),
                    owner,
                })
            })
            .collect()
    }

    async fn page(
        self,
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
    pub async fn of_resident(
        self,
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
    pub async fn owned_by(
        self,
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
    pub async fn pooled(
        self,
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

    /// Owner hands the case back (退单: "not mine", with a reason). It is
    /// routed again, and this person is not asked again on this step.
    pub async fn hand_back(
        self,
        id: CaseId,
        staff: StaffId,
        reason: &str,
        ctx: Context<'_>,
    ) -> Result<(), StoreError> {
        let txn = self.begin_write().await?;
        let case = load_case(&txn, id).await?;
        hand_back_owned(&txn, &case, staff, reason, ctx).await?;
        self.commit_work(txn).await?;
        Ok(())
    }

    /// A resolved case needs more work: back to routing from the bottom of
    /// its ladder, offered first to whoever resolved it if they still can.
    pub async fn reopen(
        self,
        id: CaseId,
        reason: &str,
        ctx: Context<'_>,
    ) -> Result<(), StoreError> {
        let txn = self.begin_write().await?;
        let case = load_case(&txn, id).await?;
        if let Actor::Resident(resident) = ctx.actor
            && case.resident_id != Some(resident.as_uuid())
        {
            return Err(StoreError::NotFound);
        }
        move_routed_owned(
            &txn,
            &case,
            RoutingMove::Reopen,
            Owner::Becomes(None),
            Some(reason),
            ctx,
            |u| {
                let none: Option<DateTime<Utc>> = None;
                u.col_expr(case::Column::ResolvedAt, Expr::value(none))
                    .col_expr(case::Column::UnroutedAt, Expr::value(none))
                    .col_expr(case::Column::LadderStep, Expr::value(0))
                    .col_expr(case::Column::StepEnteredAt, Expr::value(ctx.now))
                    .col_expr(case::Column::QueuedAt, Expr::value(ctx.now))
                    .col_expr(
                        case::Column::PreferredStaffId,
                        Expr::value(case.owner_staff_id),
                    )
            },
        )
        .await?;
        route_again(&txn, case.id, ctx.request_id, ctx.now).await?;
        self.commit_work(txn).await?;
        Ok(())
    }

    /// Lawyer takes a pooled case. The caller has checked the lawyer serves
    /// the case's pool; the guarded update settles races between lawyers.
    pub async fn claim(
        self,
        id: CaseId,
        staff: StaffId,
        ctx: Context<'_>,
    ) -> Result<(), StoreError> {
        self.offers()
            .claim_case(id, staff, Some(Service::Consultation), ctx)
            .await
    }

    /// Owner replies in the thread (public) or adds an internal note.
    pub async fn post_staff_message(
        self,
        id: CaseId,
        staff: StaffId,
        body: &MessageBody,
        internal: bool,
        ctx: Context<'_>,
    ) -> Result<ConsultationStatus, StoreError> {
        let txn = self.begin_write().await?;
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
            notify_resident(&txn, NotificationEvent::ConsultationAnswered, &case, ctx).await?;
        }
        self.commit_work(txn).await?;
        Ok(status)
    }

    pub async fn resolve(
        self,
        id: CaseId,
        staff: StaffId,
        ctx: Context<'_>,
    ) -> Result<(), StoreError> {
        let txn = self.begin_write().await?;
        let case = load_case(&txn, id).await?;
        if case.owner_staff_id != Some(staff.as_uuid()) {
            return Err(StoreError::NotFound);
        }
        move_case(&txn, &case, ConsultationAction::Resolve, None, ctx, |u| {
            u.col_expr(case::Column::ResolvedAt, Expr::value(ctx.now))
        })
        .await?;
        notify_resident(&txn, NotificationEvent::ConsultationResolved, &case, ctx).await?;
        staff_freed(&txn, staff, ctx).await?;
        self.commit_work(txn).await?;
        Ok(())
    }

    /// Resident adds to their question.
    pub async fn post_follow_up(
        self,
        id: CaseId,
        resident: ResidentId,
        body: &MessageBody,
        moderation: Moderation,
        ctx: Context<'_>,
    ) -> Result<(), StoreError> {
        let txn = self.begin_write().await?;
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

    pub async fn rate(
        self,
        id: CaseId,
        resident: ResidentId,
        rating: &Rating,
        ctx: Context<'_>,
    ) -> Result<(), StoreError> {
        let txn = self.begin_write().await?;
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
        self.commit_work(txn).await?;
        Ok(())
    }

    /// Resident withdraws; a live offer is cancelled with it.
    pub async fn withdraw(
        self,
        id: CaseId,
        resident: ResidentId,
        ctx: Context<'_>,
    ) -> Result<(), StoreError> {
        let txn = self.begin_write().await?;
        let case = self.resident_case(&txn, id, resident).await?;
        withdraw_in(&txn, &case, None, ctx).await?;
        self.commit_work(txn).await?;
        Ok(())
    }

    /// The case, if it is this resident's; otherwise "not found", so ids of
    /// other people's cases reveal nothing.
    async fn resident_case<C: ConnectionTrait>(
        self,
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
