//! Mediation bookings (预约调解): the application, its parties (names and
//! contacts arrive sealed by the caller; only masks are stored in clear),
//! refusal, and sessions booked in rooms. Routing (offers, the tiers) is
//! the shared engine's; the moves after acceptance are the mediation
//! machine's, applied with the same guarded update as every case.

use crate::cases::{
    Context, Owner, SUBMIT_EVENT, Submission, actor_columns, append_event, apply_move,
    apply_move_owned, claim_idempotency_key, insert_message, new_case_row, notify_resident,
    owners_of, replayed_submission, route_again, staff_freed, visibility,
};
use crate::entity::{
    booking_slot, case, mediation, mediation_party, mediation_room, mediation_session, staff,
};
use crate::error::is_unique_violation;
use crate::offers::{cancel_pending_offers, hand_back_owned};
use crate::outbox::{self, ModerationSubject, Work};
use crate::placement::{FirstOffer, created, route_new};
use crate::records::{CaseRecord, MediationDetail, PartyRecord, SessionRecord, StaffRecord};
use crate::{Store, StoreError};
use chrono::{DateTime, Utc};
use sansuo_domain::catalog::Service;
use sansuo_domain::mediation::{
    AttendanceAnswer, MediationAction, MediationStatus, Outcome, Performance, RefusalGround,
    VisitAnswer, hand_back_cancels_bookings, may_answer_visit, may_hand_back, may_message,
    may_rate, slots_of, status_after_cancel, transition,
};
use sansuo_domain::moderation::Moderation;
use sansuo_domain::notify::NotificationEvent;
use sansuo_domain::values::{IdempotencyKey, MessageBody, Rating};
use sansuo_domain::work_order::{CaseStatus, Move};
use sansuo_domain::{CaseId, OrgUnitId, ResidentId, StaffId};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    UpdateMany,
};
use uuid::Uuid;

pub const SERVICE: &str = Service::Mediation.as_str();

/// `mediation_sessions.status` as written: `SessionStatus`'s names.
pub mod session_status {
    use sansuo_domain::mediation::SessionStatus;
    pub const SCHEDULED: &str = SessionStatus::Scheduled.as_str();
    pub const HELD: &str = SessionStatus::Held.as_str();
    pub const CANCELLED: &str = SessionStatus::Cancelled.as_str();
}

/// One party as the caller prepared it: sealed values and their masks.
pub struct NewParty {
    /// applicant | respondent | other
    pub role: &'static str,
    pub name_sealed: String,
    pub name_masked: String,
    pub contact_sealed: Option<String>,
    pub contact_masked: Option<String>,
}

pub struct NewMediation {
    /// The applicant's account; `None` when a staff member files it for a
    /// resident present in person (`intake`).
    pub resident: Option<ResidentId>,
    pub community: OrgUnitId,
    pub category: String,
    pub facts: String,
    pub claims: String,
    /// JSON list of `{"from", "to"}`.
    pub preferred_times: String,
    pub private: bool,
    pub attendees: Option<String>,
    pub requested_mediator: Option<StaffId>,
    pub refused_mediators: Vec<StaffId>,
    pub parties: Vec<NewParty>,
    pub request_id: Option<String>,
    /// Filed in person by a staff member (代办).
    pub intake: Option<crate::cases::NewIntake>,
    /// Its first offer, made in its own transaction (`Routing::first_offer`);
    /// ignored when a party asked for or refused a mediator (the router
    /// weighs those).
    pub first_offer: Option<FirstOffer>,
}

/// A mediation with everything its views need.
#[derive(Debug, Clone)]
pub struct MediationRecord {
    pub case: CaseRecord,
    pub detail: MediationDetail,
    pub parties: Vec<PartyRecord>,
    /// In start order.
    pub sessions: Vec<SessionRecord>,
    pub owner: Option<StaffRecord>,
}

impl MediationRecord {
    pub fn status(&self) -> MediationStatus {
        match self.case.status {
            CaseStatus::Mediation(s) => s,
            // Mediation records are read from mediation rows only.
            other => unreachable!("a mediation record of a {} case", other.service()),
        }
    }
}

/// Apply a mediation move (after acceptance: schedule, hold, agree, ...).
async fn move_mediation<C: ConnectionTrait>(
    conn: &C,
    case: &case::Model,
    action: MediationAction,
    reason: Option<&str>,
    ctx: Context<'_>,
    set: impl FnOnce(UpdateMany<case::Entity>) -> UpdateMany<case::Entity>,
) -> Result<MediationStatus, StoreError> {
    move_mediation_owned(conn, case, action, Owner::Kept, reason, ctx, set).await
}

/// [`move_mediation`], changing who owns the case.
async fn move_mediation_owned<C: ConnectionTrait>(
    conn: &C,
    case: &case::Model,
    action: MediationAction,
    owner: Owner,
    reason: Option<&str>,
    ctx: Context<'_>,
    set: impl FnOnce(UpdateMany<case::Entity>) -> UpdateMany<case::Entity>,
) -> Result<MediationStatus, StoreError> {
    let from: MediationStatus = case.status.parse().map_err(StoreError::Conflict)?;
    let to = transition(from, action).map_err(|e| StoreError::Conflict(e.to_string()))?;
    let applied = Move {
        from: from.into(),
        to: to.into(),
        action: action.as_str(),
        public: action.is_public(),
    };
    apply_move_owned(conn, case, applied, owner, reason, ctx, set).await?;
    Ok(to)
}

/// Withdraw a mediation inside the caller's transaction (the applicant's
/// own withdrawal, or their account's deletion): offers and booked
/// sessions are cancelled, the mediator has room again.
pub(crate) async fn withdraw_in<C: ConnectionTrait>(
    conn: &C,
    case: &case::Model,
    reason: Option<&str>,
    ctx: Context<'_>,
) -> Result<(), StoreError> {
    move_mediation(conn, case, MediationAction::Withdraw, reason, ctx, |u| {
        u.col_expr(case::Column::ClosedAt, Expr::value(ctx.now))
    })
    .await?;
    cancel_pending_offers(conn, case.id, ctx.now).await?;
    cancel_scheduled_sessions(conn, case.id).await?;
    if let Some(owner) = case.owner_staff_id {
        staff_freed(conn, owner.into(), ctx).await?;
    }
    Ok(())
}

async fn load_mediation_case<C: ConnectionTrait>(
    conn: &C,
    id: CaseId,
) -> Result<case::Model, StoreError> {
    case::Entity::find_by_id(id.as_uuid())
        .filter(case::Column::Service.eq(SERVICE))
        .one(conn)
        .await?
        .ok_or(StoreError::NotFound)
}

/// Mediations (人民调解): sessions, agreements, visits, the report.
///
/// Reached as `store.mediations()`; see [`Store`].
#[derive(Clone, Copy)]
pub struct Mediations<'a>(pub(crate) &'a Store);

impl std::ops::Deref for Mediations<'_> {
    type Target = Store;
    fn deref(&self) -> &Store {
        self.0
    }
}

impl Store {
    /// Mediations (人民调解): sessions, agreements, visits, the report.
    pub fn mediations(&self) -> Mediations<'_> {
        Mediations(self)
    }
}

impl Mediations<'_> {
    /// Write the application, its parties, its first event and its routing
    /// outbox row in one transaction. A retry with the same Idempotency-Key
    /// (and the same request hash) returns the first case; with a different
    /// request it is refused, as for consultations.
    pub async fn submit(
        self,
        new: NewMediation,
        idempotency: Option<(IdempotencyKey, String)>,
        now: DateTime<Utc>,
    ) -> Result<Submission, StoreError> {
        let Some(resident) = new.resident else {
            return Err(StoreError::conflict("a booking names its resident"));
        };
        let idempotency = idempotency.as_ref();
        // No look-up first: the key's claim in the transaction is the
        // check, and a retry (rare) pays a rolled-back insert instead of
        // every submission paying a read (issue 16).
        let txn = self.begin_write().await?;
        let request_id = new.request_id.clone();
        let (case_id, first) = insert_mediation(&txn, new, now).await?;
        if !claim_idempotency_key(&txn, resident.as_uuid(), idempotency, case_id, now).await? {
            // A concurrent retry with the same key committed first: drop
            // ours and answer with theirs.
            txn.rollback().await?;
            return replayed_submission(self.db(), resident.as_uuid(), idempotency)
                .await?
                .ok_or(StoreError::conflict("idempotency key race"));
        }
        let request_id = request_id.as_deref();
        let offered = route_new(&txn, case_id, first.as_ref(), request_id, now).await?;
        self.commit_work(txn).await?;
        Ok(created(case_id, offered))
    }

    /// File a mediation for a resident present in person (代办): no
    /// resident account, `new.intake` says who filed it and for whom; routed
    /// like any new booking, in one transaction.
    pub async fn file_in_person(
        self,
        new: NewMediation,
        idempotency: Option<&(IdempotencyKey, String)>,
        now: DateTime<Utc>,
    ) -> Result<Submission, StoreError> {
        let Some(intake) = new.intake.as_ref().filter(|_| new.resident.is_none()) else {
            return Err(StoreError::conflict(
                "a mediation filed in person has an intake and no resident account",
            ));
        };
        // The filer's own key space, as a resident's is theirs.
        let filer = actor_columns(intake.filed_by)
            .1
            .ok_or(StoreError::conflict(
                "a case filed in person names its filer",
            ))?;
        let txn = self.begin_write().await?;
        let request_id = new.request_id.clone();
        let (case_id, _) = insert_mediation(&txn, new, now).await?;
        if !claim_idempotency_key(&txn, filer, idempotency, case_id, now).await? {
            txn.rollback().await?;
            return replayed_submission(self.db(), filer, idempotency)
                .await?
                .ok_or(StoreError::conflict("idempotency key race"));
        }
        route_new(&txn, case_id, None, request_id.as_deref(), now).await?;
        self.commit_work(txn).await?;
        Ok(Submission::Created(case_id))
    }

    pub async fn get(self, id: CaseId) -> Result<Option<MediationRecord>, StoreError> {
        let Some(case) = case::Entity::find_by_id(id.as_uuid())
            .filter(case::Column::Service.eq(SERVICE))
            .one(self.db())
            .await?
        else {
            return Ok(None);
        };
        crate::db::trip_read(&case)?;
        let detail = mediation::Entity::find_by_id(case.id)
            .one(self.db())
            .await?
            .ok_or(StoreError::NotFound)?
            .try_into()?;
        let parties = mediation_party::Entity::find()
            .filter(mediation_party::Column::CaseId.eq(case.id))
            .order_by_asc(mediation_party::Column::Id)
            .all(self.db())
            .await?
            .into_iter()
            .map(PartyRecord::try_from)
            .collect::<Result<_, _>>()?;
        let sessions = mediation_session::Entity::find()
            .filter(mediation_session::Column::CaseId.eq(case.id))
            .order_by_asc(mediation_session::Column::StartsAt)
            .all(self.db())
            .await?
            .into_iter()
            .map(SessionRecord::try_from)
            .collect::<Result<_, _>>()?;
        let owner = match case.owner_staff_id {
            Some(owner) => staff::Entity::find_by_id(owner)
                .one(self.db())
                .await?
                .map(StaffRecord::try_from)
                .transpose()?,
            None => None,
        };
        Ok(Some(MediationRecord {
            case: case.try_into()?,
            detail,
            parties,
            sessions,
            owner,
        }))
    }

    /// Not accepted (不予受理), with the ground and where to go instead. The
    /// owner, or the mediator holding the offer, decides.
    pub async fn refuse(
        self,
        id: CaseId,
        ground: RefusalGround,
        referral: &str,
        ctx: Context<'_>,
    ) -> Result<(), StoreError> {
        let txn = self.begin_write().await?;
        let case = load_mediation_case(&txn, id).await?;
        move_mediation(
            &txn,
            &case,
            MediationAction::Refuse,
            Some(referral),
            ctx,
            |u| u.col_expr(case::Column::ClosedAt, Expr::value(ctx.now)),
        )
        .await?;
        mediation::Entity::update_many()
            .col_expr(
                mediation::Column::RefusalGround,
                Expr::value(ground.as_str()),
            )
            .col_expr(mediation::Column::Referral, Expr::value(referral))
            .filter(mediation::Column::CaseId.eq(case.id))
            .exec(&txn)
            .await?;
        cancel_pending_offers(&txn, case.id, ctx.now).await?;
        self.commit_work(txn).await?;
        Ok(())
    }

    /// Book a session of the owner's case in a room. The room's and the
    /// mediator's half-hour slots are inserted under their primary key: of
    /// two bookings touching one slot, exactly one commits (`SlotTaken`).
    pub async fn book_session(
        self,
        id: CaseId,
        mediator: StaffId,
        room: Uuid,
        starts_at: DateTime<Utc>,
        ends_at: DateTime<Utc>,
        ctx: Context<'_>,
    ) -> Result<Uuid, StoreError> {
        let slots =
            slots_of(starts_at, ends_at).map_err(|e| StoreError::Conflict(e.to_string()))?;
        let txn = self.begin_write().await?;
        let case = load_mediation_case(&txn, id).await?;
        if case.owner_staff_id != Some(mediator.as_uuid()) {
            return Err(StoreError::NotFound);
        }
        mediation_room::Entity::find_by_id(room)
            .filter(mediation_room::Column::Active.eq(true))
            .one(&txn)
            .await?
            .ok_or(StoreError::NotFound)?;
        // The first booking is the first response to the applicant (the
        // SLA's first-response clock stops here).
        move_mediation(&txn, &case, MediationAction::Schedule, None, ctx, |u| {
            u.col_expr(
                case::Column::AnsweredAt,
                Expr::value(case.answered_at.unwrap_or(ctx.now)),
            )
        })
        .await?;
        let session_id = insert_session(
            &txn,
            &case,
            NewSession {
                room,
                mediator,
                starts_at,
                ends_at,
                slots: &slots,
                rescheduled_from: None,
            },
            ctx.now,
        )
        .await?;
        notify_resident(&txn, NotificationEvent::MediationSessionBooked, &case, ctx).await?;
        self.commit_work(txn).await?;
        Ok(session_id)
    }

    /// Cancel a scheduled session (notice to the parties is the event):
    /// its slots are free again at once.
    pub async fn cancel_session(
        self,
        id: CaseId,
        session: Uuid,
        mediator: StaffId,
        reason: &str,
        ctx: Context<'_>,
    ) -> Result<(), StoreError> {
        let txn = self.begin_write().await?;
        let case = load_mediation_case(&txn, id).await?;
        if case.owner_staff_id != Some(mediator.as_uuid()) {
            return Err(StoreError::NotFound);
        }
        let cancelled = mediation_session::Entity::update_many()
            .col_expr(
                mediation_session::Column::Status,
                Expr::value(session_status::CANCELLED),
            )
            .col_expr(mediation_session::Column::CancelReason, Expr::value(reason))
            .filter(mediation_session::Column::Id.eq(session))
            .filter(mediation_session::Column::CaseId.eq(case.id))
            .filter(mediation_session::Column::Status.eq(session_status::SCHEDULED))
            .exec(&txn)
            .await?;
        if cancelled.rows_affected != 1 {
            return Err(StoreError::NotFound);
        }
        booking_slot::Entity::delete_many()
            .filter(booking_slot::Column::SessionId.eq(session))
            .exec(&txn)
            .await?;
        let sessions = mediation_session::Entity::find()
            .filter(mediation_session::Column::CaseId.eq(case.id))
            .all(&txn)
            .await?;
        let upcoming = sessions
            .iter()
            .filter(|s| s.status == session_status::SCHEDULED)
            .count();
        let held = sessions.iter().any(|s| s.status == session_status::HELD);
        let to = status_after_cancel(upcoming, held);
        let from = status_of(&case)?;
        if to == from || from != MediationStatus::Scheduled {
            // Other sessions remain, or a session was already held: record
            // the cancellation, status unchanged.
            append_event(
                &txn,
                case.id,
                MediationAction::CancelSession.as_str(),
                Some(&case.status),
                &case.status,
                true,
                Some(reason),
                ctx,
            )
            .await?;
        } else {
            let applied = Move {
                from: MediationStatus::Scheduled.into(),
                to: to.into(),
                action: MediationAction::CancelSession.as_str(),
                public: true,
            };
            apply_move(&txn, &case, applied, Some(reason), ctx, |u| u).await?;
        }
        notify_resident(
            &txn,
            NotificationEvent::MediationSessionCancelled,
            &case,
            ctx,
        )
        .await?;
        self.commit_work(txn).await?;
        Ok(())
    }

    /// The applicant withdraws before any session was held: offers and
    /// booked sessions are cancelled, the mediator has room again.
    pub async fn withdraw(
        self,
        id: CaseId,
        resident: ResidentId,
        ctx: Context<'_>,
    ) -> Result<(), StoreError> {
        let txn = self.begin_write().await?;
        let case = load_mediation_case(&txn, id).await?;
        if case.resident_id != Some(resident.as_uuid()) {
            return Err(StoreError::NotFound);
        }
        withdraw_in(&txn, &case, None, ctx).await?;
        self.commit_work(txn).await?;
        Ok(())
    }

    /// Record a held session: who attended, the minutes (笔录).
    pub async fn hold_session(
        self,
        id: CaseId,
        session: Uuid,
        mediator: StaffId,
        attendees: &str,
        minutes: &str,
        ctx: Context<'_>,
    ) -> Result<(), StoreError> {
        let txn = self.begin_write().await?;
        let case = owned_case(&txn, id, mediator).await?;
        let held = mediation_session::Entity::update_many()
            .col_expr(
                mediation_session::Column::Status,
                Expr::value(session_status::HELD),
            )
            .col_expr(mediation_session::Column::Attendees, Expr::value(attendees))
            .col_expr(mediation_session::Column::Minutes, Expr::value(minutes))
            .filter(mediation_session::Column::Id.eq(session))
            .filter(mediation_session::Column::CaseId.eq(case.id))
            .filter(mediation_session::Column::Status.eq(session_status::SCHEDULED))
            .exec(&txn)
            .await?;
        if held.rows_affected != 1 {
            return Err(StoreError::NotFound);
        }
        if status_of(&case)? == MediationStatus::Scheduled {
            move_mediation(&txn, &case, MediationAction::Hold, None, ctx, |u| u).await?;
        } else {
            // Already heard: another session of the same case.
            append_event(
                &txn,
                case.id,
                MediationAction::Hold.as_str(),
                Some(&case.status),
                &case.status,
                true,
                None,
                ctx,
            )
            .await?;
        }
        self.commit_work(txn).await?;
        Ok(())
    }

    /// The outcome: an agreement. The follow-up visit falls due from its
    /// performance deadline (`domain::mediation::visit_due`).
    pub async fn record_agreement(
        self,
        id: CaseId,
        mediator: StaffId,
        agreement: &Agreement,
        ctx: Context<'_>,
    ) -> Result<(), StoreError> {
        let txn = self.begin_write().await?;
        let case = owned_case(&txn, id, mediator).await?;
        move_mediation(&txn, &case, MediationAction::Agree, None, ctx, |u| {
            u.col_expr(case::Column::ResolvedAt, Expr::value(ctx.now))
        })
        .await?;
        let due = sansuo_domain::mediation::visit_due(agreement.effective_on, agreement.perform_by);
        mediation::Entity::update_many()
            .col_expr(
                mediation::Column::Outcome,
                Expr::value(agreement.kind.as_str()),
            )
            .col_expr(
                mediation::Column::AgreementTerms,
                Expr::value(agreement.terms.as_str()),
            )
            .col_expr(
                mediation::Column::PerformanceMethod,
                Expr::value(agreement.performance_method.as_str()),
            )
            .col_expr(
                mediation::Column::PerformBy,
                Expr::value(agreement.perform_by),
            )
            .col_expr(
                mediation::Column::EffectiveOn,
                Expr::value(agreement.effective_on),
            )
            .col_expr(mediation::Column::VisitDue, Expr::value(due))
            .col_expr(mediation::Column::ConcludedAt, Expr::value(ctx.now))
            .filter(mediation::Column::CaseId.eq(case.id))
            .exec(&txn)
            .await?;
        notify_resident(&txn, NotificationEvent::MediationAgreed, &case, ctx).await?;
        self.commit_work(txn).await?;
        Ok(())
    }

    /// The outcome: no agreement; the parties were told their other routes.
    pub async fn terminate(
        self,
        id: CaseId,
        mediator: StaffId,
        reason: &str,
        routes: &[&str],
        ctx: Context<'_>,
    ) -> Result<(), StoreError> {
        let txn = self.begin_write().await?;
        let case = owned_case(&txn, id, mediator).await?;
        move_mediation(
            &txn,
            &case,
            MediationAction::Terminate,
            Some(reason),
            ctx,
            |u| u.col_expr(case::Column::ResolvedAt, Expr::value(ctx.now)),
        )
        .await?;
        mediation::Entity::update_many()
            .col_expr(
                mediation::Column::Outcome,
                Expr::value(Outcome::Terminated.as_str()),
            )
            .col_expr(mediation::Column::TerminationReason, Expr::value(reason))
            .col_expr(
                mediation::Column::OtherRoutes,
                Expr::value(routes.join(",")),
            )
            .col_expr(mediation::Column::ConcludedAt, Expr::value(ctx.now))
            .filter(mediation::Column::CaseId.eq(case.id))
            .exec(&txn)
            .await?;
        cancel_scheduled_sessions(&txn, case.id).await?;
        notify_resident(&txn, NotificationEvent::MediationTerminated, &case, ctx).await?;
        self.commit_work(txn).await?;
        Ok(())
    }

    /// Judicial confirmation (司法确认) applied for; the caller checked the
    /// 30-day deadline. The ruling may follow later (a second call).
    pub async fn record_confirmation(
        self,
        id: CaseId,
        mediator: StaffId,
        applied_on: chrono::NaiveDate,
        court: &str,
        ruling: Option<&str>,
        ctx: Context<'_>,
    ) -> Result<(), StoreError> {
        let txn = self.begin_write().await?;
        let case = owned_case(&txn, id, mediator).await?;
        let detail = mediation::Entity::find_by_id(case.id)
            .one(&txn)
            .await?
            .ok_or(StoreError::NotFound)?;
        if detail.effective_on.is_none() {
            return Err(StoreError::conflict("only an agreement can be confirmed"));
        }
        mediation::Entity::update_many()
            .col_expr(
                mediation::Column::ConfirmationAppliedOn,
                Expr::value(applied_on),
            )
            .col_expr(mediation::Column::ConfirmationCourt, Expr::value(court))
            .col_expr(mediation::Column::ConfirmationRuling, Expr::value(ruling))
            .filter(mediation::Column::CaseId.eq(case.id))
            .exec(&txn)
            .await?;
        append_event(
            &txn,
            case.id,
            "judicial_confirmation",
            Some(&case.status),
            &case.status,
            true,
            Some(court),
            ctx,
        )
        .await?;
        self.commit_work(txn).await?;
        Ok(())
    }

    /// The follow-up visit (回访): performance and satisfaction; the case closes.
    pub async fn record_visit(
        self,
        id: CaseId,
        mediator: StaffId,
        performance: Performance,
        satisfaction: i16,
        ctx: Context<'_>,
    ) -> Result<(), StoreError> {
        let txn = self.begin_write().await?;
        let case = owned_case(&txn, id, mediator).await?;
        move_mediation(&txn, &case, MediationAction::Visit, None, ctx, |u| {
            u.col_expr(case::Column::ClosedAt, Expr::value(ctx.now))
        })
        .await?;
        mediation::Entity::update_many()
            .col_expr(mediation::Column::VisitedAt, Expr::value(ctx.now))
            .col_expr(
                mediation::Column::PerformanceStatus,
                Expr::value(performance.as_str()),
            )
            .col_expr(mediation::Column::Satisfaction, Expr::value(satisfaction))
            .filter(mediation::Column::CaseId.eq(case.id))
            .exec(&txn)
            .await?;
        notify_resident(&txn, NotificationEvent::MediationVisited, &case, ctx).await?;
        self.commit_work(txn).await?;
        Ok(())
    }

    /// Close a terminated mediation (nothing to follow up).
    pub async fn close(
        self,
        id: CaseId,
        mediator: StaffId,
        ctx: Context<'_>,
    ) -> Result<(), StoreError> {
        let txn = self.begin_write().await?;
        let case = owned_case(&txn, id, mediator).await?;
        move_mediation(&txn, &case, MediationAction::Close, None, ctx, |u| {
            u.col_expr(case::Column::ClosedAt, Expr::value(ctx.now))
        })
        .await?;
        self.commit_work(txn).await?;
        Ok(())
    }

    /// The owning mediator hands the case back (退单: "not mine", with a
    /// reason) while it is untouched (`mediation::may_hand_back`: accepted,
    /// no session ever held, no outcome ever recorded): routed again on the
    /// same tier, never to them on this step. Sessions booked but not held
    /// are cancelled first, the resident told. The parties see it waiting
    /// again, not why.
    pub async fn hand_back(
        self,
        id: CaseId,
        mediator: StaffId,
        reason: &str,
        ctx: Context<'_>,
    ) -> Result<(), StoreError> {
        let txn = self.begin_write().await?;
        let mut case = owned_case(&txn, id, mediator).await?;
        let any_session_held = mediation_session::Entity::find()
            .filter(mediation_session::Column::CaseId.eq(case.id))
            .filter(mediation_session::Column::Status.eq(session_status::HELD))
            .one(&txn)
            .await?
            .is_some();
        let outcome_recorded = mediation::Entity::find_by_id(case.id)
            .one(&txn)
            .await?
            .is_some_and(|m| m.outcome.is_some());
        let mut status = status_of(&case)?;
        if hand_back_cancels_bookings(status, any_session_held, outcome_recorded) {
            cancel_bookings_for_hand_back(&txn, &case, ctx).await?;
            case = owned_case(&txn, id, mediator).await?;
            status = status_of(&case)?;
        }
        if !may_hand_back(status, any_session_held, outcome_recorded) {
            return Err(StoreError::conflict(format!(
                "a mediation that is {status} cannot be handed back: only an accepted or \
                 scheduled one with no session ever held and no outcome"
            )));
        }
        hand_back_owned(&txn, &case, mediator, reason, ctx).await?;
        self.commit_work(txn).await?;
        Ok(())
    }

    /// By hand, with a reason: to the next tier (专业助调 → 公调对接). The
    /// case leaves its mediator, climbs one ladder step and is routed there.
    pub async fn escalate_tier(
        self,
        id: CaseId,
        mediator: StaffId,
        reason: &str,
        ctx: Context<'_>,
    ) -> Result<(), StoreError> {
        let txn = self.begin_write().await?;
        let case = owned_case(&txn, id, mediator).await?;
        move_mediation_owned(
            &txn,
            &case,
            MediationAction::EscalateTier,
            Owner::Becomes(None),
            Some(reason),
            ctx,
            |u| {
                u.col_expr(case::Column::LadderStep, Expr::value(case.ladder_step + 1))
                    .col_expr(case::Column::StepEnteredAt, Expr::value(ctx.now))
                    .col_expr(case::Column::QueuedAt, Expr::value(ctx.now))
            },
        )
        .await?;
        cancel_scheduled_sessions(&txn, case.id).await?;
        route_again(&txn, case.id, ctx.request_id, ctx.now).await?;
        staff_freed(&txn, mediator, ctx).await?;
        notify_resident(&txn, NotificationEvent::MediationEscalated, &case, ctx).await?;
        self.commit_work(txn).await?;
        Ok(())
    }
}

/// Where a rescheduled session goes. The room stays the same unless named.
pub struct NewSlot {
    pub room: Option<Uuid>,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
}

impl Mediations<'_> {
    /// Move a booked session (改期) in one transaction: the old booking is
    /// cancelled and its slots freed, the new one booked. If the new time
    /// is taken (`SlotTaken`) nothing changes: the old session stays booked.
    /// One `reschedule` event tells the parties, like a cancel and a booking.
    pub async fn reschedule_session(
        self,
        id: CaseId,
        session: Uuid,
        mediator: StaffId,
        to: NewSlot,
        reason: &str,
        ctx: Context<'_>,
    ) -> Result<Uuid, StoreError> {
        let slots =
            slots_of(to.starts_at, to.ends_at).map_err(|e| StoreError::Conflict(e.to_string()))?;
        let txn = self.begin_write().await?;
        let case = owned_case(&txn, id, mediator).await?;
        let old = mediation_session::Entity::find_by_id(session)
            .filter(mediation_session::Column::CaseId.eq(case.id))
            .filter(mediation_session::Column::Status.eq(session_status::SCHEDULED))
            .one(&txn)
            .await?
            .ok_or(StoreError::NotFound)?;
        let room = to.room.unwrap_or(old.room_id);
        mediation_room::Entity::find_by_id(room)
            .filter(mediation_room::Column::Active.eq(true))
            .one(&txn)
            .await?
            .ok_or(StoreError::NotFound)?;
        move_mediation(
            &txn,
            &case,
            MediationAction::Reschedule,
            Some(reason),
            ctx,
            |u| u,
        )
        .await?;
        let cancelled = mediation_session::Entity::update_many()
            .col_expr(
                mediation_session::Column::Status,
                Expr::value(session_status::CANCELLED),
            )
            .col_expr(mediation_session::Column::CancelReason, Expr::value(reason))
            .filter(mediation_session::Column::Id.eq(old.id))
            .filter(mediation_session::Column::Status.eq(session_status::SCHEDULED))
            .exec(&txn)
            .await?;
        if cancelled.rows_affected != 1 {
            return Err(StoreError::conflict("the session changed meanwhile"));
        }
        // Freed first, so a new time overlapping the old one (moved by half
        // an hour) does not collide with itself.
        booking_slot::Entity::delete_many()
            .filter(booking_slot::Column::SessionId.eq(old.id))
            .exec(&txn)
            .await?;
        let new_id = insert_session(
            &txn,
            &case,
            NewSession {
                room,
                mediator,
                starts_at: to.starts_at,
                ends_at: to.ends_at,
                slots: &slots,
                rescheduled_from: Some(old.id),
            },
            ctx.now,
        )
        .await?;
        notify_resident(
            &txn,
            NotificationEvent::MediationSessionRescheduled,
            &case,
            ctx,
        )
        .await?;
        self.commit_work(txn).await?;
        Ok(new_id)
    }

    /// The applicant answers whether they will attend a booked session of
    /// their own case. They may change their mind until it is held; each
    /// answer is an event, and "cannot attend" is the mediator's cue to
    /// reschedule.
    pub async fn confirm_attendance(
        self,
        id: CaseId,
        session: Uuid,
        resident: ResidentId,
        answer: &AttendanceAnswer,
        ctx: Context<'_>,
    ) -> Result<(), StoreError> {
        let txn = self.begin_write().await?;
        let case = applicants_case(&txn, id, resident).await?;
        let row = mediation_session::Entity::find_by_id(session)
            .filter(mediation_session::Column::CaseId.eq(case.id))
            .one(&txn)
            .await?
            .ok_or(StoreError::NotFound)?;
        let updated = mediation_session::Entity::update_many()
            .col_expr(
                mediation_session::Column::Attending,
                Expr::value(answer.attending()),
            )
            .col_expr(
                mediation_session::Column::AttendanceNote,
                Expr::value(answer.note()),
            )
            .col_expr(
                mediation_session::Column::AttendanceAnsweredAt,
                Expr::value(ctx.now),
            )
            .col_expr(
                mediation_session::Column::AttendanceResidentId,
                Expr::value(resident.as_uuid()),
            )
            .filter(mediation_session::Column::Id.eq(row.id))
            .filter(mediation_session::Column::Status.eq(session_status::SCHEDULED))
            .exec(&txn)
            .await?;
        if updated.rows_affected != 1 {
            return Err(StoreError::conflict(format!(
                "the session is {}, not scheduled",
                row.status
            )));
        }
        let action = if answer.attending() {
            "confirm_attendance"
        } else {
            "cannot_attend"
        };
        append_event(
            &txn,
            case.id,
            action,
            Some(&case.status),
            &case.status,
            true,
            Some(&answer.summary()),
            ctx,
        )
        .await?;
        self.commit_work(txn).await?;
        Ok(())
    }

    /// The applicant rates the service, once, after an outcome. `false`:
    /// they had rated it already (the first rating stands).
    pub async fn rate(
        self,
        id: CaseId,
        resident: ResidentId,
        rating: &Rating,
        ctx: Context<'_>,
    ) -> Result<bool, StoreError> {
        let txn = self.begin_write().await?;
        let case = applicants_case(&txn, id, resident).await?;
        let status = status_of(&case)?;
        if !may_rate(status) {
            return Err(StoreError::conflict(format!(
                "a mediation that is {status} cannot be rated yet"
            )));
        }
        let updated = mediation::Entity::update_many()
            .col_expr(
                mediation::Column::RatingStars,
                Expr::value(i16::from(rating.stars())),
            )
            .col_expr(
                mediation::Column::RatingComment,
                Expr::value(rating.comment()),
            )
            .col_expr(mediation::Column::RatedAt, Expr::value(ctx.now))
            .filter(mediation::Column::CaseId.eq(case.id))
            .filter(mediation::Column::RatedAt.is_null())
            .exec(&txn)
            .await?;
        if updated.rows_affected != 1 {
            return Ok(false);
        }
        let stars = format!("{} stars", rating.stars());
        append_event(
            &txn,
            case.id,
            "rate",
            Some(&case.status),
            &case.status,
            true,
            Some(&stars),
            ctx,
        )
        .await?;
        self.commit_work(txn).await?;
        Ok(true)
    }

    /// The applicant's own answer to the follow-up visit of an agreement,
    /// once. It is for the mediator, who still records the official visit
    /// that closes the case. `false`: answered already.
    pub async fn answer_visit(
        self,
        id: CaseId,
        resident: ResidentId,
        answer: &VisitAnswer,
        ctx: Context<'_>,
    ) -> Result<bool, StoreError> {
        let txn = self.begin_write().await?;
        let case = applicants_case(&txn, id, resident).await?;
        let status = status_of(&case)?;
        if !may_answer_visit(status) {
            return Err(StoreError::conflict(format!(
                "a mediation that is {status} has no visit to answer"
            )));
        }
        let updated = mediation::Entity::update_many()
            .col_expr(
                mediation::Column::VisitAnswerPerformance,
                Expr::value(answer.performance().as_str()),
            )
            .col_expr(
                mediation::Column::VisitAnswerSatisfaction,
                Expr::value(answer.satisfaction()),
            )
            .col_expr(
                mediation::Column::VisitAnswerComment,
                Expr::value(answer.comment()),
            )
            .col_expr(mediation::Column::VisitAnsweredAt, Expr::value(ctx.now))
            .filter(mediation::Column::CaseId.eq(case.id))
            .filter(mediation::Column::VisitAnsweredAt.is_null())
            .exec(&txn)
            .await?;
        if updated.rows_affected != 1 {
            return Ok(false);
        }
        append_event(
            &txn,
            case.id,
            "visit_answer",
            Some(&case.status),
            &case.status,
            true,
            Some(answer.performance().as_str()),
            ctx,
        )
        .await?;
        self.commit_work(txn).await?;
        Ok(true)
    }

    /// A closed mediation needs more work (typically: the visit found the
    /// agreement not performed). It goes back to `accepted` with the
    /// mediator who had it; the recorded outcome stays until a new one
    /// replaces it. `owner`: only this mediator may reopen it (`None`: a
    /// coordinator, who has checked their scope).
    pub async fn reopen(
        self,
        id: CaseId,
        owner: Option<StaffId>,
        reason: &str,
        ctx: Context<'_>,
    ) -> Result<(), StoreError> {
        let txn = self.begin_write().await?;
        let case = match owner {
            Some(mediator) => owned_case(&txn, id, mediator).await?,
            None => load_mediation_case(&txn, id).await?,
        };
        let none: Option<DateTime<Utc>> = None;
        move_mediation(
            &txn,
            &case,
            MediationAction::Reopen,
            Some(reason),
            ctx,
            |u| {
                u.col_expr(case::Column::ClosedAt, Expr::value(none))
                    .col_expr(case::Column::ResolvedAt, Expr::value(none))
            },
        )
        .await?;
        self.commit_work(txn).await?;
        Ok(())
    }
}

/// The case, if this resident applied for it.
async fn applicants_case<C: ConnectionTrait>(
    conn: &C,
    id: CaseId,
    resident: ResidentId,
) -> Result<case::Model, StoreError> {
    let case = load_mediation_case(conn, id).await?;
    if case.resident_id != Some(resident.as_uuid()) {
        return Err(StoreError::NotFound);
    }
    Ok(case)
}

fn status_of(case: &case::Model) -> Result<MediationStatus, StoreError> {
    case.status.parse().map_err(StoreError::Conflict)
}

/// An agreement as recorded.
pub struct Agreement {
    /// `AgreementWritten` or `AgreementOral`.
    pub kind: Outcome,
    pub terms: String,
    pub performance_method: String,
    pub perform_by: Option<chrono::NaiveDate>,
    pub effective_on: chrono::NaiveDate,
}

/// The case, if this mediator owns it.
pub(crate) async fn owned_case<C: ConnectionTrait>(
    conn: &C,
    id: CaseId,
    mediator: StaffId,
) -> Result<case::Model, StoreError> {
    let case = load_mediation_case(conn, id).await?;
    if case.owner_staff_id != Some(mediator.as_uuid()) {
        return Err(StoreError::NotFound);
    }
    Ok(case)
}

/// A session about to be booked.
struct NewSession<'a> {
    room: Uuid,
    mediator: StaffId,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
    slots: &'a [DateTime<Utc>],
    rescheduled_from: Option<Uuid>,
}

/// Insert a scheduled session and its half-hour slots for the room and the
/// mediator. A slot already taken fails the insert under the primary key
/// (`SlotTaken`); the caller's transaction then rolls back whole.
async fn insert_session<C: ConnectionTrait>(
    conn: &C,
    case: &case::Model,
    new: NewSession<'_>,
    now: DateTime<Utc>,
) -> Result<Uuid, StoreError> {
    let session_id = Uuid::now_v7();
    mediation_session::Entity::insert(mediation_session::ActiveModel {
        id: Set(session_id),
        case_id: Set(case.id),
        room_id: Set(new.room),
        mediator_id: Set(new.mediator.as_uuid()),
        starts_at: Set(new.starts_at),
        ends_at: Set(new.ends_at),
        status: Set(session_status::SCHEDULED.to_owned()),
        attendees: Set(None),
        minutes: Set(None),
        cancel_reason: Set(None),
        created_at: Set(now),
        rescheduled_from: Set(new.rescheduled_from),
        ..Default::default()
    })
    .exec_without_returning(conn)
    .await?;
    let rows = new.slots.iter().flat_map(|slot| {
        [("room", new.room), ("mediator", new.mediator.as_uuid())].map(|(kind, resource)| {
            booking_slot::ActiveModel {
                resource_kind: Set(kind.to_owned()),
                resource_id: Set(resource),
                slot_start: Set(*slot),
                session_id: Set(session_id),
            }
        })
    });
    match booking_slot::Entity::insert_many(rows)
        .exec_without_returning(conn)
        .await
    {
        Ok(_) => Ok(session_id),
        Err(err) if is_unique_violation(&err) => Err(StoreError::SlotTaken),
        Err(err) => Err(err.into()),
    }
}

/// Sessions still booked when the case ends or leaves its mediator: cancelled,
/// their slots freed.
async fn cancel_scheduled_sessions<C: ConnectionTrait>(
    conn: &C,
    case_id: Uuid,
) -> Result<(), StoreError> {
    let scheduled: Vec<Uuid> = mediation_session::Entity::find()
        .filter(mediation_session::Column::CaseId.eq(case_id))
        .filter(mediation_session::Column::Status.eq(session_status::SCHEDULED))
        .all(conn)
        .await?
        .into_iter()
        .map(|s| s.id)
        .collect();
    if scheduled.is_empty() {
        return Ok(());
    }
    mediation_session::Entity::update_many()
        .col_expr(
            mediation_session::Column::Status,
            Expr::value(session_status::CANCELLED),
        )
        .filter(mediation_session::Column::Id.is_in(scheduled.clone()))
        .exec(conn)
        .await?;
    booking_slot::Entity::delete_many()
        .filter(booking_slot::Column::SessionId.is_in(scheduled))
        .exec(conn)
        .await?;
    Ok(())
}

impl Mediations<'_> {
    /// The rows of the programme report: mediations booked in `[from, to)`
    /// in these communities (and other units), with what the report counts.
    pub async fn report_rows(
        self,
        units: &[Uuid],
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<sansuo_domain::mediation::ReportRow>, StoreError> {
        let cases = case::Entity::find()
            .filter(case::Column::Service.eq(SERVICE))
            .filter(case::Column::CommunityId.is_in(units.iter().copied()))
            .filter(case::Column::CreatedAt.gte(from))
            .filter(case::Column::CreatedAt.lt(to))
            .all(self.db())
            .await?;
        let details: std::collections::HashMap<Uuid, mediation::Model> = mediation::Entity::find()
            .filter(mediation::Column::CaseId.is_in(cases.iter().map(|c| c.id)))
            .all(self.db())
            .await?
            .into_iter()
            .map(|m| (m.case_id, m))
            .collect();
        // Days as the programme counts them: Beijing dates.
        let beijing = chrono::FixedOffset::east_opt(8 * 3600).expect("UTC+8");
        let day = |t: DateTime<Utc>| t.with_timezone(&beijing).date_naive();
        Ok(cases
            .into_iter()
            .filter_map(|c| {
                let d = details.get(&c.id)?;
                Some(sansuo_domain::mediation::ReportRow {
                    status: c.status.parse().ok()?,
                    accepted_on: c.accepted_at.map(day),
                    concluded_on: d.concluded_at.map(day),
                    outcome: d.outcome.clone(),
                    confirmation_applied: d.confirmation_applied_on.is_some(),
                    satisfaction: d.satisfaction,
                    rating: d.rating_stars,
                    resident_satisfaction: d.visit_answer_satisfaction,
                })
            })
            .collect())
    }
}

/// The application, its parties and its first event, inside the caller's
/// transaction (a booking, or a case converted into a mediation). Returns
/// the case and its first offer, if it may have one (nobody asked for or
/// refused a mediator): routing is the caller's last write
/// (`placement::route_new`), after the Idempotency-Key's claim, so that
/// the staff row it locks is the last lock taken.
pub(crate) async fn insert_mediation<C: ConnectionTrait>(
    txn: &C,
    mut new: NewMediation,
    now: DateTime<Utc>,
) -> Result<(CaseId, Option<FirstOffer>), StoreError> {
    let case_id = CaseId::new();
    let intake = new.intake.take();
    let first = new
        .first_offer
        .take()
        .filter(|_| new.requested_mediator.is_none() && new.refused_mediators.is_empty());
    let submitted_by = match (new.resident, &intake) {
        (Some(resident), _) => sansuo_domain::Actor::Resident(resident),
        (None, Some(intake)) => intake.filed_by,
        (None, None) => return Err(StoreError::conflict("a mediation names who filed it")),
    };
    case::Entity::insert(case::ActiveModel {
        // A party may ask for a mediator: offered first if eligible.
        preferred_staff_id: Set(new.requested_mediator.map(|s| s.as_uuid())),
        ..new_case_row(
            case_id,
            Service::Mediation,
            new.community,
            &new.category,
            new.resident,
            now,
        )
    })
    .exec_without_returning(txn)
    .await?;
    let ids = |ids: &[StaffId]| {
        ids.iter()
            .map(|s| s.to_string())
            .collect::<Vec<_>>()
            .join(",")
    };
    mediation::Entity::insert(mediation::ActiveModel {
        case_id: Set(case_id.as_uuid()),
        facts: Set(new.facts),
        claims: Set(new.claims),
        preferred_times: Set(new.preferred_times),
        private: Set(new.private),
        attendees: Set(new.attendees),
        requested_mediator_id: Set(new.requested_mediator.map(|s| s.as_uuid())),
        refused_mediator_ids: Set(ids(&new.refused_mediators)),
        refusal_ground: Set(None),
        referral: Set(None),
        outcome: Set(None),
        agreement_terms: Set(None),
        performance_method: Set(None),
        perform_by: Set(None),
        effective_on: Set(None),
        termination_reason: Set(None),
        other_routes: Set(String::new()),
        confirmation_applied_on: Set(None),
        confirmation_court: Set(None),
        confirmation_ruling: Set(None),
        visit_due: Set(None),
        visited_at: Set(None),
        performance_status: Set(None),
        satisfaction: Set(None),
        public_order_risk: Set(false),
        concluded_at: Set(None),
        ..Default::default()
    })
    .exec_without_returning(txn)
    .await?;
    for party in new.parties {
        mediation_party::Entity::insert(mediation_party::ActiveModel {
            id: Set(Uuid::now_v7()),
            case_id: Set(case_id.as_uuid()),
            role: Set(party.role.to_owned()),
            name_sealed: Set(party.name_sealed),
            name_masked: Set(party.name_masked),
            contact_sealed: Set(party.contact_sealed),
            contact_masked: Set(party.contact_masked),
        })
        .exec_without_returning(txn)
        .await?;
    }
    let ctx = Context {
        actor: submitted_by,
        request_id: new.request_id.as_deref(),
        now,
    };
    append_event(
        txn,
        case_id.as_uuid(),
        SUBMIT_EVENT,
        None,
        MediationStatus::Submitted.as_str(),
        true,
        None,
        ctx,
    )
    .await?;
    if let Some(intake) = &intake {
        crate::cases::record_intake(
            txn,
            case_id.as_uuid(),
            MediationStatus::Submitted.as_str(),
            intake,
            ctx,
        )
        .await?;
    }
    Ok((case_id, first))
}

/// [`insert_mediation`], then its routing job (a mediation another case
/// opens: no first offer in its transaction).
pub(crate) async fn insert_routed_mediation<C: ConnectionTrait>(
    txn: &C,
    new: NewMediation,
    now: DateTime<Utc>,
) -> Result<CaseId, StoreError> {
    let request_id = new.request_id.clone();
    let (case_id, _) = insert_mediation(txn, new, now).await?;
    route_new(txn, case_id, None, request_id.as_deref(), now).await?;
    Ok(case_id)
}

/// Which mediations a list shows, besides whose they are.
#[derive(Debug, Clone, Copy, Default)]
pub struct MediationFilter {
    pub status: Option<MediationStatus>,
    /// Only cases with a scheduled session starting in `[from, to)`.
    pub sessions_between: Option<(DateTime<Utc>, DateTime<Utc>)>,
}

/// A line of a list of mediations: the case, its mediator, its sessions.
#[derive(Debug, Clone)]
pub struct MediationSummaryRecord {
    pub case: CaseRecord,
    pub owner: Option<StaffRecord>,
    /// The scheduled sessions, in start order.
    pub scheduled: Vec<SessionRecord>,
}

/// A session on a mediator's calendar, with the case it belongs to.
#[derive(Debug, Clone)]
pub struct CalendarSessionRecord {
    pub session: SessionRecord,
    pub category_code: String,
    pub case_status: String,
}

/// Who writes in a mediation's thread.
#[derive(Debug, Clone, Copy)]
pub enum ThreadAuthor {
    /// The applicant: public text, held by moderation until it passes.
    Applicant(ResidentId, Moderation),
    /// The mediator who owns the case: a public message or an internal note.
    Owner { staff: StaffId, internal: bool },
}

impl Mediations<'_> {
    /// A resident's mediations, newest first; `before` is the cursor.
    pub async fn of_resident(
        self,
        resident: ResidentId,
        filter: MediationFilter,
        before: Option<CaseId>,
        limit: u64,
    ) -> Result<Vec<MediationSummaryRecord>, StoreError> {
        self.page(
            case::Entity::find().filter(case::Column::ResidentId.eq(resident.as_uuid())),
            filter,
            before,
            limit,
        )
        .await
    }

    /// The mediations a mediator owns, newest first.
    pub async fn owned_by(
        self,
        mediator: StaffId,
        filter: MediationFilter,
        before: Option<CaseId>,
        limit: u64,
    ) -> Result<Vec<MediationSummaryRecord>, StoreError> {
        self.page(
            case::Entity::find().filter(case::Column::OwnerStaffId.eq(mediator.as_uuid())),
            filter,
            before,
            limit,
        )
        .await
    }

    /// The mediations of these communities (a coordinator's subtree), newest first.
    pub async fn in_communities(
        self,
        communities: Vec<Uuid>,
        filter: MediationFilter,
        before: Option<CaseId>,
        limit: u64,
    ) -> Result<Vec<MediationSummaryRecord>, StoreError> {
        self.page(
            case::Entity::find().filter(case::Column::CommunityId.is_in(communities)),
            filter,
            before,
            limit,
        )
        .await
    }

    /// A mediator's booked and held sessions (not the cancelled ones)
    /// starting in `[from, to)`, in start order: their calendar.
    pub async fn sessions_of(
        self,
        mediator: StaffId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<CalendarSessionRecord>, StoreError> {
        let sessions = mediation_session::Entity::find()
            .filter(mediation_session::Column::MediatorId.eq(mediator.as_uuid()))
            .filter(mediation_session::Column::Status.ne(session_status::CANCELLED))
            .filter(mediation_session::Column::StartsAt.gte(from))
            .filter(mediation_session::Column::StartsAt.lt(to))
            .order_by_asc(mediation_session::Column::StartsAt)
            .order_by_asc(mediation_session::Column::Id)
            .all(self.db())
            .await?;
        let ids: Vec<Uuid> = sessions.iter().map(|s| s.case_id).collect();
        let cases: std::collections::HashMap<Uuid, case::Model> = if ids.is_empty() {
            Default::default()
        } else {
            case::Entity::find()
                .filter(case::Column::Id.is_in(ids))
                .all(self.db())
                .await?
                .into_iter()
                .map(|c| (c.id, c))
                .collect()
        };
        let mut out = Vec::with_capacity(sessions.len());
        for s in sessions {
            let Some(case) = cases.get(&s.case_id) else {
                continue;
            };
            out.push(CalendarSessionRecord {
                category_code: case.category_code.clone(),
                case_status: case.status.clone(),
                session: SessionRecord::try_from(s)?,
            });
        }
        Ok(out)
    }

    async fn page(
        self,
        query: sea_orm::Select<case::Entity>,
        filter: MediationFilter,
        before: Option<CaseId>,
        limit: u64,
    ) -> Result<Vec<MediationSummaryRecord>, StoreError> {
        use sea_orm::QuerySelect;
        use sea_orm::sea_query::Query;
        let mut query = query.filter(case::Column::Service.eq(SERVICE));
        if let Some(before) = before {
            query = query.filter(case::Column::Id.lt(before.as_uuid()));
        }
        if let Some(status) = filter.status {
            query = query.filter(case::Column::Status.eq(status.as_str()));
        }
        if let Some((from, to)) = filter.sessions_between {
            query = query.filter(
                case::Column::Id.in_subquery(
                    Query::select()
                        .column(mediation_session::Column::CaseId)
                        .from(mediation_session::Entity)
                        .and_where(mediation_session::Column::Status.eq(session_status::SCHEDULED))
                        .and_where(mediation_session::Column::StartsAt.gte(from))
                        .and_where(mediation_session::Column::StartsAt.lt(to))
                        .to_owned(),
                ),
            );
        }
        let cases = query
            .order_by_desc(case::Column::Id)
            .limit(limit)
            .all(self.db())
            .await?;
        let ids: Vec<Uuid> = cases.iter().map(|c| c.id).collect();
        let owners = owners_of(self.db(), &cases).await?;
        let mut scheduled: std::collections::HashMap<Uuid, Vec<SessionRecord>> = Default::default();
        if !ids.is_empty() {
            for s in mediation_session::Entity::find()
                .filter(mediation_session::Column::CaseId.is_in(ids))
                .filter(mediation_session::Column::Status.eq(session_status::SCHEDULED))
                .order_by_asc(mediation_session::Column::StartsAt)
                .all(self.db())
                .await?
            {
                let record = SessionRecord::try_from(s)?;
                scheduled
                    .entry(record.case_id.as_uuid())
                    .or_default()
                    .push(record);
            }
        }
        cases
            .into_iter()
            .map(|case| {
                let owner = case.owner_staff_id.and_then(|id| owners.get(&id).cloned());
                let sessions = scheduled.remove(&case.id).unwrap_or_default();
                Ok(MediationSummaryRecord {
                    case: case.try_into()?,
                    owner,
                    scheduled: sessions,
                })
            })
            .collect()
    }

    /// Add a message to the case's thread: the applicant's (public; a
    /// held one is checked again by the worker) or the owner's (public, or
    /// an internal note staff alone read). Not once the case is refused,
    /// withdrawn or closed (`may_message`). Someone else's case is
    /// `NotFound`, before anything about its state.
    pub async fn post_message(
        self,
        id: CaseId,
        author: ThreadAuthor,
        body: &MessageBody,
        ctx: Context<'_>,
    ) -> Result<Uuid, StoreError> {
        let txn = self.begin_write().await?;
        let case = load_mediation_case(&txn, id).await?;
        let (visibility, moderation) = match author {
            ThreadAuthor::Applicant(resident, moderation) => {
                if case.resident_id != Some(resident.as_uuid()) {
                    return Err(StoreError::NotFound);
                }
                (visibility::PUBLIC, moderation)
            }
            ThreadAuthor::Owner { staff, internal } => {
                if case.owner_staff_id != Some(staff.as_uuid()) {
                    return Err(StoreError::NotFound);
                }
                let visibility = if internal {
                    visibility::INTERNAL
                } else {
                    visibility::PUBLIC
                };
                // Staff text is not checked: staff are accountable by name.
                (visibility, Moderation::Passed)
            }
        };
        let status = status_of(&case)?;
        if !may_message(status) {
            return Err(StoreError::Conflict(format!(
                "a {status} mediation takes no more messages"
            )));
        }
        let message = insert_message(
            &txn, case.id, ctx.actor, body, visibility, moderation, ctx.now,
        )
        .await?;
        if moderation == Moderation::Pending {
            let check = Work::Moderate(ModerationSubject::Message(message.into()));
            outbox::append(&txn, &check, ctx.request_id, ctx.now).await?;
        }
        self.commit_work(txn).await?;
        Ok(message)
    }

    /// The half-hour slots already booked in `[from, to)` for a room or a
    /// mediator (as `booking_slots` holds them): what a free-slot lookup
    /// must avoid.
    pub async fn booked_slots(
        self,
        room: Uuid,
        mediator: StaffId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<DateTime<Utc>>, StoreError> {
        use sea_orm::Condition;
        Ok(booking_slot::Entity::find()
            .filter(
                Condition::any()
                    .add(
                        Condition::all()
                            .add(booking_slot::Column::ResourceKind.eq("room"))
                            .add(booking_slot::Column::ResourceId.eq(room)),
                    )
                    .add(
                        Condition::all()
                            .add(booking_slot::Column::ResourceKind.eq("mediator"))
                            .add(booking_slot::Column::ResourceId.eq(mediator.as_uuid())),
                    ),
            )
            .filter(booking_slot::Column::SlotStart.gte(from))
            .filter(booking_slot::Column::SlotStart.lt(to))
            .all(self.db())
            .await?
            .into_iter()
            .map(|s| s.slot_start)
            .collect())
    }
}

/// What the resident reads when the mediator hands back a case with
/// sessions booked.
const HAND_BACK_CANCELS: &str = "调解员退单，已预约的调解场次取消，将另行安排调解员";

/// Cancel every booked session of a scheduled case being handed back, free
/// their room slots and move the case back to accepted, with the resident
/// told, in the hand-back's transaction.
async fn cancel_bookings_for_hand_back<C: ConnectionTrait>(
    txn: &C,
    case: &case::Model,
    ctx: Context<'_>,
) -> Result<(), StoreError> {
    let booked: Vec<Uuid> = mediation_session::Entity::find()
        .filter(mediation_session::Column::CaseId.eq(case.id))
        .filter(mediation_session::Column::Status.eq(session_status::SCHEDULED))
        .all(txn)
        .await?
        .into_iter()
        .map(|s| s.id)
        .collect();
    mediation_session::Entity::update_many()
        .col_expr(
            mediation_session::Column::Status,
            Expr::value(session_status::CANCELLED),
        )
        .col_expr(
            mediation_session::Column::CancelReason,
            Expr::value(HAND_BACK_CANCELS),
        )
        .filter(mediation_session::Column::Id.is_in(booked.clone()))
        .filter(mediation_session::Column::Status.eq(session_status::SCHEDULED))
        .exec(txn)
        .await?;
    booking_slot::Entity::delete_many()
        .filter(booking_slot::Column::SessionId.is_in(booked))
        .exec(txn)
        .await?;
    let applied = Move {
        from: MediationStatus::Scheduled.into(),
        to: MediationStatus::Accepted.into(),
        action: MediationAction::CancelSession.as_str(),
        public: true,
    };
    apply_move(txn, case, applied, Some(HAND_BACK_CANCELS), ctx, |u| u).await?;
    notify_resident(txn, NotificationEvent::MediationSessionCancelled, case, ctx).await
}
