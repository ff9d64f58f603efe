//! Tip reports (线索举报): the report, its photos' records, "me too"
//! supporters, follow-ups from the reporter, the officer's triage verbs and
//! the screening counts. Routing (offers, the duty ladder) is the shared
//! engine's; every later move is the tip machine's, applied with the same
//! guarded update as every case.
//!
//! Anonymous tips: the case row has no resident, events and messages are
//! written by `Actor::AnonymousReporter` (no id, no request id), and the
//! reporter is known only by this screening window's pseudonym, kept in
//! `tip_screening` beside the tip until the window ends (then deleted, with
//! the window's counts in `tip_reporters`). See docs/anonymity.md.

use crate::cases::{
    Context, Owner, SUBMIT_EVENT, Submission, actor_columns, append_event, apply_move,
    move_routed_owned, new_case_row, notify_resident, route_again, staff_freed, visibility,
};
use crate::entity::{
    case, case_message, staff, tip, tip_photo, tip_reporter, tip_screening, tip_supporter,
};
use crate::error::is_unique_violation;
use crate::offers::{cancel_pending_offers, hand_back_owned};
use crate::placement::{FirstOffer, created, route_new};
use crate::records::TipPhotoRecord;
use crate::records::{CaseRecord, StaffRecord, TipDetail};
use crate::staff_events::{tell_former_owner_of_follow_up, tell_owner_of_message};
use crate::{Store, StoreError};
use chrono::{DateTime, Utc};
use sansuo_domain::catalog::Service;
use sansuo_domain::moderation::Moderation;
use sansuo_domain::notify::NotificationEvent;
use sansuo_domain::tip::{
    BoundingBox, ReporterRecord, TipAction, TipStatus, TriageVerdict, may_hand_back,
    screening_window, screening_window_start, transition,
};
use sansuo_domain::work_order::{CaseStatus, Move, RoutingMove};
use sansuo_domain::{Actor, CaseId, OrgUnitId, ResidentId, StaffId};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, QueryTrait, UpdateMany,
};
use uuid::Uuid;

pub const SERVICE: &str = Service::Tip.as_str();

/// The category of the officer's work order opened when a mediator flags
/// a dispute at risk of becoming a public-order matter (治安纠纷).
pub const PUBLIC_ORDER_CATEGORY: &str = "ZA";

/// Who added a photo.
pub mod photo_source {
    pub const REPORTER: &str = "reporter";
    pub const STAFF: &str = "staff";
}

/// How a tip reached us.
pub mod channel {
    pub const APP: &str = "app";
    pub const OPEN311: &str = "open311";
    /// Opened by a mediator's public-order flag.
    pub const MEDIATION: &str = "mediation";
    /// A consultation its lawyer converted (三所联动).
    pub const CONSULTATION: &str = "consultation";
}

pub struct NewTip {
    /// Chosen by the caller: an anonymous reporter's token is derived from it.
    pub id: CaseId,
    /// `None` for an anonymous tip (nothing links it to the reporter) and
    /// for tips opened by staff or filed through Open311.
    pub resident: Option<ResidentId>,
    /// The reporter chose anonymity (staff-opened tips are not anonymous,
    /// they simply have no resident).
    pub anonymous: bool,
    /// Who the submit event names: the resident, `AnonymousReporter`, or
    /// the staff member who opened it.
    pub submitted_by: Actor,
    pub community: OrgUnitId,
    pub category: String,
    pub description: String,
    /// WGS-84.
    pub location: Option<(f64, f64)>,
    /// The datum the client sent the location in.
    pub datum: Option<String>,
    pub address: Option<String>,
    /// Anonymous tips only: the reporter's pseudonym of this screening
    /// window. Named tips are screened by their resident, so nothing
    /// stored is shared between a resident's named and anonymous tips.
    pub screening: Option<Screening>,
    /// Keyed hash of (reporter, Idempotency-Key) and a hash of the request.
    pub submission: Option<(String, String)>,
    /// SHA-256 of the tracking token (anonymous tips).
    pub tracking_token_hash: Option<String>,
    /// The reporter's record says "mostly unfounded": shown to the officer.
    pub flagged: bool,
    pub channel: &'static str,
    /// Its first offer, made in its own transaction (`Routing::first_offer`).
    pub first_offer: Option<FirstOffer>,
    pub source_case: Option<CaseId>,
    pub request_id: Option<String>,
}

/// An anonymous reporter as screening knows them: a pseudonym that lives
/// one window (`sansuo_domain::tip::screening_window`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Screening {
    pub reporter_key: String,
    pub window: i64,
}

/// A reporter's follow-up as stored.
#[derive(Debug, Clone, Copy)]
pub struct FollowUpStored {
    /// The follow-up reopened a closed or unfounded tip.
    pub reopened: bool,
    /// The message, for the content check's flag.
    pub message_id: Uuid,
}

/// A tip with everything its views need.
#[derive(Debug, Clone)]
pub struct TipRecord {
    pub case: CaseRecord,
    pub detail: TipDetail,
    pub photos: Vec<TipPhotoRecord>,
    pub owner: Option<StaffRecord>,
}

impl TipRecord {
    pub fn id(&self) -> CaseId {
        self.case.id.into()
    }

    pub fn status(&self) -> TipStatus {
        match self.case.status {
            CaseStatus::Tip(s) => s,
            // Tip records are read from tip rows only.
            other => unreachable!("a tip record of a {} case", other.service()),
        }
    }
}

/// A photo's record, written after its bytes are stored.
pub struct NewPhoto {
    pub id: Uuid,
    pub kind: &'static str,
    pub bytes: i32,
    pub sha256: String,
    pub received_at: DateTime<Utc>,
    pub added_by: &'static str,
    pub storage_key: String,
}

/// An open tip near a point, for "is this the same as yours?".
#[derive(Debug, Clone)]
pub struct NearbyRow {
    pub case_id: Uuid,
    pub lat: f64,
    pub lng: f64,
    pub status: String,
    pub category_code: String,
    pub created_at: DateTime<Utc>,
    pub supporters: i32,
}

/// Filters of the officers' triage board.
#[derive(Debug, Clone, Default)]
pub struct BoardFilter {
    pub statuses: Vec<String>,
    pub category_prefix: Option<String>,
    pub community: Option<OrgUnitId>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

/// Board order: priority high to low, then oldest first; the cursor is the
/// last row's position in that order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BoardCursor {
    pub priority: i32,
    pub created_at: DateTime<Utc>,
    pub id: Uuid,
}

async fn load_tip_case<C: ConnectionTrait>(
    conn: &C,
    id: CaseId,
) -> Result<case::Model, StoreError> {
    case::Entity::find_by_id(id.as_uuid())
        .filter(case::Column::Service.eq(SERVICE))
        .one(conn)
        .await?
        .ok_or(StoreError::NotFound)
}

/// A tip the officer owns (anyone else: not found, as if it did not exist).
pub(crate) async fn load_owned<C: ConnectionTrait>(
    conn: &C,
    id: CaseId,
    officer: StaffId,
) -> Result<case::Model, StoreError> {
    let case = load_tip_case(conn, id).await?;
    if case.owner_staff_id != Some(officer.as_uuid()) {
        return Err(StoreError::NotFound);
    }
    Ok(case)
}

/// Apply a tip move (after acknowledgement: triage, verify, action, ...).
pub(crate) async fn move_tip<C: ConnectionTrait>(
    conn: &C,
    case: &case::Model,
    action: TipAction,
    reason: Option<&str>,
    ctx: Context<'_>,
    set: impl FnOnce(UpdateMany<case::Entity>) -> UpdateMany<case::Entity>,
) -> Result<TipStatus, StoreError> {
    let from: TipStatus = case.status.parse().map_err(StoreError::Conflict)?;
    let to = transition(from, action).map_err(|e| StoreError::Conflict(e.to_string()))?;
    let applied = Move {
        from: from.into(),
        to: to.into(),
        action: action.as_str(),
        public: action.is_public(),
    };
    apply_move(conn, case, applied, reason, ctx, set).await?;
    Ok(to)
}

/// Tips (随手拍): submit, support, photos, messages, triage, the board.
///
/// Reached as `store.tips()`; see [`Store`].
#[derive(Clone, Copy)]
pub struct Tips<'a>(pub(crate) &'a Store);

impl std::ops::Deref for Tips<'_> {
    type Target = Store;
    fn deref(&self) -> &Store {
        self.0
    }
}

impl Store {
    /// Tips (随手拍): submit, support, photos, messages, triage, the board.
    pub fn tips(&self) -> Tips<'_> {
        Tips(self)
    }
}

impl Tips<'_> {
    /// Write the tip, its first event and its routing outbox row in one
    /// transaction. A retry with the same submission key returns the first
    /// tip; with a different request it is refused.
    pub async fn submit(self, new: NewTip, now: DateTime<Utc>) -> Result<Submission, StoreError> {
        self.submit_with_photos(new, Vec::new(), now).await
    }

    /// [`Tips::submit`] with the reporter's photos (their bytes already
    /// stored): the photo records and their events are written in the
    /// tip's own transaction, so the tip and its photos are saved together
    /// or not at all, on every backend, and a replay returns the tip with
    /// its photos. A replay (or a failure) records none of `photos`: the
    /// caller discards their bytes.
    pub async fn submit_with_photos(
        self,
        new: NewTip,
        photos: Vec<NewPhoto>,
        now: DateTime<Utc>,
    ) -> Result<Submission, StoreError> {
        if let Some(found) = self.replayed_tip(&new).await? {
            return Ok(found);
        }
        let txn = self.begin_write().await?;
        let inserted = async {
            insert_tip_unrouted(&txn, &new, now).await?;
            let ctx = Context {
                actor: new.submitted_by,
                request_id: new.request_id.as_deref(),
                now,
            };
            let submitted = TipStatus::Submitted.as_str();
            let reporter = new.resident.map(|r| r.as_uuid());
            for photo in photos {
                insert_photo(&txn, new.id.as_uuid(), reporter, submitted, photo, ctx).await?;
            }
            // Last: the photos' events name the tip as submitted.
            let first = new.first_offer.as_ref();
            route_new(&txn, new.id, first, tip_request_id(&new, now), now).await
        }
        .await;
        let offered = match inserted {
            Ok(offered) => offered,
            // A concurrent retry with the same key committed first.
            Err(err) if err.is_unique_violation() && new.submission.is_some() => {
                txn.rollback().await?;
                return self
                    .replayed_tip(&new)
                    .await?
                    .ok_or(StoreError::conflict("submission key race"));
            }
            Err(err) => return Err(err),
        };
        self.commit_work(txn).await?;
        Ok(created(new.id, offered))
    }

    async fn replayed_tip(self, new: &NewTip) -> Result<Option<Submission>, StoreError> {
        let Some((key, hash)) = &new.submission else {
            return Ok(None);
        };
        let found = tip::Entity::find()
            .filter(tip::Column::SubmissionKey.eq(key.as_str()))
            .one(self.db())
            .await?;
        match found {
            None => Ok(None),
            Some(row) if row.request_hash.as_deref() == Some(hash.as_str()) => {
                Ok(Some(Submission::Replayed(row.case_id.into())))
            }
            Some(_) => Err(StoreError::IdempotencyKeyReused),
        }
    }

    /// The tip a submission key (reporter + Idempotency-Key) created, if any.
    pub async fn by_submission_key(self, key: &str) -> Result<Option<CaseId>, StoreError> {
        Ok(tip::Entity::find()
            .filter(tip::Column::SubmissionKey.eq(key))
            .one(self.db())
            .await?
            .map(|t| t.case_id.into()))
    }

    pub async fn get(self, id: CaseId) -> Result<Option<TipRecord>, StoreError> {
        let Some(case) = case::Entity::find_by_id(id.as_uuid())
            .filter(case::Column::Service.eq(SERVICE))
            .one(self.db())
            .await?
        else {
            return Ok(None);
        };
        crate::db::trip_read(&case)?;
        Ok(self.hydrate_tips(vec![case]).await?.pop())
    }

    /// The tip an anonymous reporter's tracking token belongs to.
    pub async fn by_token_hash(self, token_hash: &str) -> Result<Option<TipRecord>, StoreError> {
        let Some(detail) = tip::Entity::find()
            .filter(tip::Column::TrackingTokenHash.eq(token_hash))
            .one(self.db())
            .await?
        else {
            return Ok(None);
        };
        self.get(detail.case_id.into()).await
    }

    async fn hydrate_tips(self, cases: Vec<case::Model>) -> Result<Vec<TipRecord>, StoreError> {
        let ids: Vec<Uuid> = cases.iter().map(|c| c.id).collect();
        let details = tip::Entity::find()
            .filter(tip::Column::CaseId.is_in(ids.clone()))
            .all(self.db())
            .await?;
        let photos = tip_photo::Entity::find()
            .filter(tip_photo::Column::CaseId.is_in(ids))
            .order_by_asc(tip_photo::Column::ReceivedAt)
            .all(self.db())
            .await?;
        let owner_ids: Vec<Uuid> = cases.iter().filter_map(|c| c.owner_staff_id).collect();
        let owners = if owner_ids.is_empty() {
            Vec::new()
        } else {
            staff::Entity::find()
                .filter(staff::Column::Id.is_in(owner_ids))
                .all(self.db())
                .await?
                .into_iter()
                .map(StaffRecord::try_from)
                .collect::<Result<Vec<_>, sea_orm::DbErr>>()?
        };
        let mut out = Vec::with_capacity(cases.len());
        for case in cases {
            let detail = details
                .iter()
                .find(|d| d.case_id == case.id)
                .cloned()
                .ok_or(StoreError::NotFound)?;
            out.push(TipRecord {
                photos: photos
                    .iter()
                    .filter(|p| p.case_id == case.id)
                    .cloned()
                    .map(Into::into)
                    .collect(),
                owner: owners
                    .iter()
                    .find(|o| Some(o.id.as_uuid()) == case.owner_staff_id)
                    .cloned(),
                detail: detail.try_into()?,
                case: case.try_into()?,
            });
        }
        Ok(out)
    }

    /// A named reporter's tips, newest first.
    pub async fn of_resident(
        self,
        resident: ResidentId,
        before: Option<CaseId>,
        limit: u64,
    ) -> Result<Vec<TipRecord>, StoreError> {
        let mut query = case::Entity::find()
            .filter(case::Column::Service.eq(SERVICE))
            .filter(case::Column::ResidentId.eq(resident.as_uuid()));
        if let Some(before) = before {
            query = query.filter(case::Column::Id.lt(before.as_uuid()));
        }
        let cases = query
            .order_by_desc(case::Column::Id)
            .limit(limit)
            .all(self.db())
            .await?;
        self.hydrate_tips(cases).await
    }

    /// Open tips of a category inside a box, reported since `since` (the
    /// exact radius is the domain's to apply).
    pub async fn in_box(
        self,
        category: &str,
        bbox: BoundingBox,
        since: DateTime<Utc>,
    ) -> Result<Vec<NearbyRow>, StoreError> {
        // The category and age are filtered in the same statement as the
        // box: a cap applied before them could hide this week's tips
        // behind older ones in a busy spot.
        let recent_of_category = case::Entity::find()
            .select_only()
            .column(case::Column::Id)
            .filter(case::Column::Service.eq(SERVICE))
            .filter(case::Column::CategoryCode.eq(category))
            .filter(case::Column::CreatedAt.gte(since))
            .into_query();
        let details = tip::Entity::find()
            .filter(tip::Column::Lat.between(bbox.min_lat, bbox.max_lat))
            .filter(tip::Column::Lng.between(bbox.min_lng, bbox.max_lng))
            .filter(tip::Column::CaseId.in_subquery(recent_of_category))
            .limit(500)
            .all(self.db())
            .await?;
        if details.is_empty() {
            return Ok(Vec::new());
        }
        let cases = case::Entity::find()
            .filter(case::Column::Id.is_in(details.iter().map(|d| d.case_id)))
            .all(self.db())
            .await?;
        Ok(cases
            .into_iter()
            .filter_map(|c| {
                let d = details.iter().find(|d| d.case_id == c.id)?;
                Some(NearbyRow {
                    case_id: c.id,
                    lat: d.lat?,
                    lng: d.lng?,
                    status: c.status,
                    category_code: c.category_code,
                    created_at: c.created_at,
                    supporters: d.supporters,
                })
            })
            .collect())
    }

    /// "Me too": one supporter per pseudonym (of the resident and this tip,
    /// in this screening window); `false` when already counted. The rows go
    /// when the window ends; the count stays on the tip.
    pub async fn support(
        self,
        id: CaseId,
        supporter_key: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let txn = self.begin_write().await?;
        let case = load_tip_case(&txn, id).await?;
        let status: TipStatus = case.status.parse().map_err(StoreError::Conflict)?;
        if status.is_finished() {
            return Err(StoreError::conflict("the tip is no longer open"));
        }
        let inserted = tip_supporter::Entity::insert(tip_supporter::ActiveModel {
            case_id: Set(case.id),
            supporter_key: Set(supporter_key.to_owned()),
            screening_window: Set(screening_window(now)),
        })
        .exec_without_returning(&txn)
        .await;
        match inserted {
            Ok(_) => {}
            Err(err) if is_unique_violation(&err) => return Ok(false),
            Err(err) => return Err(err.into()),
        }
        tip::Entity::update_many()
            .col_expr(
                tip::Column::Supporters,
                Expr::col(tip::Column::Supporters).add(1),
            )
            .filter(tip::Column::CaseId.eq(case.id))
            .exec(&txn)
            .await?;
        self.commit_work(txn).await?;
        Ok(true)
    }

    /// Record a stored photo; refused past `max_photos` for the tip (counted
    /// in the same transaction, so two uploads at once cannot both slip past).
    pub async fn add_photo(
        self,
        id: CaseId,
        photo: NewPhoto,
        max_photos: usize,
        ctx: Context<'_>,
    ) -> Result<(), StoreError> {
        let txn = self.begin_write().await?;
        let case = load_tip_case(&txn, id).await?;
        // Serialise uploads of one tip: bump the case row first (a row lock
        // on PostgreSQL; SQLite has one writer anyway).
        case::Entity::update_many()
            .col_expr(case::Column::UpdatedAt, Expr::value(ctx.now))
            .filter(case::Column::Id.eq(case.id))
            .exec(&txn)
            .await?;
        let count = tip_photo::Entity::find()
            .filter(tip_photo::Column::CaseId.eq(case.id))
            .count(&txn)
            .await?;
        if count as usize >= max_photos {
            return Err(StoreError::conflict("too many photos"));
        }
        insert_photo(&txn, case.id, case.resident_id, &case.status, photo, ctx).await?;
        self.commit_work(txn).await?;
        Ok(())
    }

    pub async fn photo(
        self,
        id: CaseId,
        photo: Uuid,
    ) -> Result<Option<TipPhotoRecord>, StoreError> {
        Ok(tip_photo::Entity::find_by_id(photo)
            .filter(tip_photo::Column::CaseId.eq(id.as_uuid()))
            .one(self.db())
            .await?
            .map(Into::into))
    }

    /// The reporter adds to their tip. It reaches the handler at once: the
    /// message is on the case, and a closed or unfounded tip is reopened and
    /// routed again, offered first to the officer who had it.
    /// Returns whether the tip was reopened.
    pub async fn follow_up(
        self,
        id: CaseId,
        body: &str,
        ctx: Context<'_>,
    ) -> Result<FollowUpStored, StoreError> {
        let txn = self.begin_write().await?;
        let case = load_tip_case(&txn, id).await?;
        let status: TipStatus = case.status.parse().map_err(StoreError::Conflict)?;
        let reopened = transition(status, TipAction::Reopen).is_ok();
        if reopened {
            move_routed_owned(
                &txn,
                &case,
                RoutingMove::Reopen,
                Owner::Becomes(None),
                Some("举报人补充了新情况，线索重新办理"),
                ctx,
                |u| {
                    let none: Option<DateTime<Utc>> = None;
                    u.col_expr(case::Column::ClosedAt, Expr::value(none))
                        .col_expr(case::Column::ResolvedAt, Expr::value(none))
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
            route_again(&txn, case.id, ctx.recorded_request_id(), ctx.now).await?;
        } else if status.is_finished() {
            return Err(StoreError::conflict(format!(
                "the tip is {status}; it is handled elsewhere now"
            )));
        } else {
            case::Entity::update_many()
                .col_expr(case::Column::UpdatedAt, Expr::value(ctx.now))
                .filter(case::Column::Id.eq(case.id))
                .exec(&txn)
                .await?;
            append_event(
                &txn,
                case.id,
                "follow_up",
                Some(&case.status),
                &case.status,
                true,
                None,
                ctx,
            )
            .await?;
        }
        let message_id =
            insert_tip_message(&txn, case.id, ctx.actor, body, visibility::PUBLIC, ctx.now).await?;
        if reopened {
            // The reopen cleared the owner, so the message reached nobody:
            // the officer who had the tip reads it on their stream anyway.
            if let Some(former) = case.owner_staff_id {
                tell_former_owner_of_follow_up(
                    &txn,
                    former,
                    case.id,
                    Service::Tip,
                    message_id,
                    ctx.now,
                )
                .await?;
            }
            notify_resident(&txn, NotificationEvent::TipReopened, &case, ctx).await?;
        }
        self.commit_work(txn).await?;
        Ok(FollowUpStored {
            reopened,
            message_id,
        })
    }

    /// The officer writes to the reporter (public) or adds an internal note.
    pub async fn message(
        self,
        id: CaseId,
        officer: StaffId,
        body: &str,
        internal: bool,
        ctx: Context<'_>,
    ) -> Result<(), StoreError> {
        let txn = self.begin_write().await?;
        let case = load_owned(&txn, id, officer).await?;
        let first_answer = !internal && case.answered_at.is_none();
        if first_answer {
            case::Entity::update_many()
                .col_expr(case::Column::AnsweredAt, Expr::value(ctx.now))
                .filter(case::Column::Id.eq(case.id))
                .exec(&txn)
                .await?;
        }
        let vis = if internal {
            visibility::INTERNAL
        } else {
            visibility::PUBLIC
        };
        insert_tip_message(&txn, case.id, ctx.actor, body, vis, ctx.now).await?;
        self.commit_work(txn).await?;
        Ok(())
    }

    /// The triage verdict. An unfounded tip counts against its reporter's
    /// screening record (by pseudonym); every verdict counts as triaged.
    pub async fn triage(
        self,
        id: CaseId,
        officer: StaffId,
        verdict: TriageVerdict,
        note: Option<&str>,
        referred_to: Option<&str>,
        ctx: Context<'_>,
    ) -> Result<TipStatus, StoreError> {
        let txn = self.begin_write().await?;
        let case = load_owned(&txn, id, officer).await?;
        let finished = verdict != TriageVerdict::Valid;
        let to = move_tip(
            &txn,
            &case,
            verdict.action(),
            note.or(referred_to),
            ctx,
            |u| {
                let u = u.col_expr(
                    case::Column::AnsweredAt,
                    Expr::value(case.answered_at.unwrap_or(ctx.now)),
                );
                if finished {
                    u.col_expr(case::Column::ResolvedAt, Expr::value(ctx.now))
                        .col_expr(case::Column::ClosedAt, Expr::value(ctx.now))
                } else {
                    u
                }
            },
        )
        .await?;
        let verdict_name = verdict.as_str();
        tip::Entity::update_many()
            .col_expr(tip::Column::TriageVerdict, Expr::value(verdict_name))
            .col_expr(tip::Column::TriageNote, Expr::value(note))
            .col_expr(tip::Column::ReferredTo, Expr::value(referred_to))
            .filter(tip::Column::CaseId.eq(case.id))
            .exec(&txn)
            .await?;
        let window = screening_window(ctx.now);
        forget_ended_windows(&txn, window).await?;
        if let Some(screened) = tip_screening::Entity::find_by_id(case.id).one(&txn).await? {
            count_triage(
                &txn,
                &screened.reporter_key,
                window,
                verdict == TriageVerdict::Unfounded,
            )
            .await?;
        }
        let told = match verdict {
            TriageVerdict::Valid => NotificationEvent::TipValid,
            TriageVerdict::Unfounded => NotificationEvent::TipUnfounded,
            TriageVerdict::NotPoliceMatter => NotificationEvent::TipReferred,
        };
        notify_resident(&txn, told, &case, ctx).await?;
        if finished {
            staff_freed(&txn, officer, ctx).await?;
        }
        self.commit_work(txn).await?;
        Ok(to)
    }

    /// The owning officer hands the tip back (退单: "not mine", with a
    /// reason) before triage (`tip::may_hand_back`): routed again, never
    /// to them on this step. The reporter sees it waiting again, not why.
    pub async fn hand_back(
        self,
        id: CaseId,
        officer: StaffId,
        reason: &str,
        ctx: Context<'_>,
    ) -> Result<(), StoreError> {
        let txn = self.begin_write().await?;
        let case = load_owned(&txn, id, officer).await?;
        let status: TipStatus = case.status.parse().map_err(StoreError::Conflict)?;
        if !may_hand_back(status) {
            return Err(StoreError::conflict(format!(
                "a tip that is {status} can no longer be handed back: it was triaged"
            )));
        }
        hand_back_owned(&txn, &case, officer, reason, ctx).await?;
        self.commit_work(txn).await?;
        Ok(())
    }

    /// verify / action / close: the owner moves the tip along, with a note
    /// (for close, the note to the reporter).
    pub async fn advance(
        self,
        id: CaseId,
        officer: StaffId,
        action: TipAction,
        note: Option<&str>,
        ctx: Context<'_>,
    ) -> Result<TipStatus, StoreError> {
        if !matches!(
            action,
            TipAction::Verify | TipAction::Action | TipAction::Close
        ) {
            return Err(StoreError::conflict(format!(
                "{action} is not a step of triage"
            )));
        }
        let txn = self.begin_write().await?;
        let case = load_owned(&txn, id, officer).await?;
        let closing = action == TipAction::Close;
        let to = move_tip(&txn, &case, action, note, ctx, |u| {
            if closing {
                u.col_expr(case::Column::ResolvedAt, Expr::value(ctx.now))
                    .col_expr(case::Column::ClosedAt, Expr::value(ctx.now))
            } else {
                u
            }
        })
        .await?;
        if closing {
            tip::Entity::update_many()
                .col_expr(tip::Column::CloseNote, Expr::value(note))
                .filter(tip::Column::CaseId.eq(case.id))
                .exec(&txn)
                .await?;
            staff_freed(&txn, officer, ctx).await?;
            notify_resident(&txn, NotificationEvent::TipClosed, &case, ctx).await?;
        }
        self.commit_work(txn).await?;
        Ok(to)
    }

    /// The same matter as `original` (another open or closed tip): this one
    /// is finished, the original gains a supporter.
    pub async fn mark_duplicate(
        self,
        id: CaseId,
        officer: StaffId,
        original: CaseId,
        ctx: Context<'_>,
    ) -> Result<(), StoreError> {
        if id == original {
            return Err(StoreError::conflict("a tip cannot duplicate itself"));
        }
        let txn = self.begin_write().await?;
        let case = load_owned(&txn, id, officer).await?;
        let original_case = load_tip_case(&txn, original).await?;
        let reason = format!("duplicate of {}", original_case.id);
        move_tip(
            &txn,
            &case,
            TipAction::MarkDuplicate,
            Some(&reason),
            ctx,
            |u| {
                u.col_expr(case::Column::ResolvedAt, Expr::value(ctx.now))
                    .col_expr(case::Column::ClosedAt, Expr::value(ctx.now))
            },
        )
        .await?;
        tip::Entity::update_many()
            .col_expr(tip::Column::DuplicateOf, Expr::value(original_case.id))
            .filter(tip::Column::CaseId.eq(case.id))
            .exec(&txn)
            .await?;
        tip::Entity::update_many()
            .col_expr(
                tip::Column::Supporters,
                Expr::col(tip::Column::Supporters).add(1),
            )
            .filter(tip::Column::CaseId.eq(original_case.id))
            .exec(&txn)
            .await?;
        staff_freed(&txn, officer, ctx).await?;
        self.commit_work(txn).await?;
        Ok(())
    }

    /// The screening record of an anonymous reporter's pseudonym in
    /// `window` (empty once the window has ended).
    pub async fn reporter_record(
        self,
        reporter_key: &str,
        window: i64,
    ) -> Result<ReporterRecord, StoreError> {
        Ok(tip_reporter::Entity::find_by_id(reporter_key.to_owned())
            .filter(tip_reporter::Column::ScreeningWindow.eq(window))
            .one(self.db())
            .await?
            .map(|r| ReporterRecord {
                triaged: u32::try_from(r.triaged).unwrap_or(0),
                unfounded: u32::try_from(r.unfounded).unwrap_or(0),
            })
            .unwrap_or_default())
    }

    /// The screening record of a named reporter: the verdicts on their
    /// named tips (they carry the resident anyway).
    pub async fn named_reporter_record(
        self,
        resident: ResidentId,
    ) -> Result<ReporterRecord, StoreError> {
        let theirs = case::Entity::find()
            .select_only()
            .column(case::Column::Id)
            .filter(case::Column::Service.eq(SERVICE))
            .filter(case::Column::ResidentId.eq(resident.as_uuid()))
            .into_query();
        let verdicts: Vec<Option<String>> = tip::Entity::find()
            .select_only()
            .column(tip::Column::TriageVerdict)
            .filter(tip::Column::CaseId.in_subquery(theirs))
            .filter(tip::Column::TriageVerdict.is_not_null())
            .into_tuple()
            .all(self.db())
            .await?;
        let unfounded = verdicts
            .iter()
            .filter(|v| v.as_deref() == Some("unfounded"))
            .count();
        Ok(ReporterRecord {
            triaged: u32::try_from(verdicts.len()).unwrap_or(u32::MAX),
            unfounded: u32::try_from(unfounded).unwrap_or(u32::MAX),
        })
    }

    /// Delete what links anonymous tips to reporters once its screening
    /// window has ended (the worker calls this; every report and verdict
    /// does it too). Returns the rows deleted or cleared.
    pub async fn end_screening_windows(self, now: DateTime<Utc>) -> Result<u64, StoreError> {
        let txn = self.begin_write().await?;
        let n = forget_ended_windows(&txn, screening_window(now)).await?;
        self.commit_work(txn).await?;
        Ok(n)
    }

    /// The officers' triage board: tips they own, by priority then age.
    pub async fn board(
        self,
        officer: StaffId,
        filter: &BoardFilter,
        after: Option<BoardCursor>,
        limit: u64,
    ) -> Result<Vec<TipRecord>, StoreError> {
        let mut query = case::Entity::find()
            .filter(case::Column::Service.eq(SERVICE))
            .filter(case::Column::OwnerStaffId.eq(officer.as_uuid()));
        if !filter.statuses.is_empty() {
            query = query.filter(case::Column::Status.is_in(filter.statuses.clone()));
        }
        if let Some(prefix) = &filter.category_prefix {
            query = query.filter(case::Column::CategoryCode.starts_with(prefix.as_str()));
        }
        if let Some(community) = filter.community {
            query = query.filter(case::Column::CommunityId.eq(community.as_uuid()));
        }
        if let Some(from) = filter.from {
            query = query.filter(case::Column::CreatedAt.gte(from));
        }
        if let Some(to) = filter.to {
            query = query.filter(case::Column::CreatedAt.lt(to));
        }
        if let Some(c) = after {
            // Strictly after the cursor in (priority desc, created asc, id asc).
            query = query.filter(
                Condition::any()
                    .add(case::Column::Priority.lt(c.priority))
                    .add(
                        Condition::all()
                            .add(case::Column::Priority.eq(c.priority))
                            .add(case::Column::CreatedAt.gt(c.created_at)),
                    )
                    .add(
                        Condition::all()
                            .add(case::Column::Priority.eq(c.priority))
                            .add(case::Column::CreatedAt.eq(c.created_at))
                            .add(case::Column::Id.gt(c.id)),
                    ),
            );
        }
        let cases = query
            .order_by_desc(case::Column::Priority)
            .order_by_asc(case::Column::CreatedAt)
            .order_by_asc(case::Column::Id)
            .limit(limit)
            .all(self.db())
            .await?;
        self.hydrate_tips(cases).await
    }

    /// When the reporter last wrote, per tip (for "new from the reporter").
    pub async fn last_reporter_messages(
        self,
        ids: &[Uuid],
    ) -> Result<Vec<(Uuid, DateTime<Utc>)>, StoreError> {
        let rows = case_message::Entity::find()
            .filter(case_message::Column::CaseId.is_in(ids.to_vec()))
            .filter(case_message::Column::AuthorKind.is_in(["resident", "reporter"]))
            .order_by_asc(case_message::Column::Id)
            .all(self.db())
            .await?;
        let mut last: Vec<(Uuid, DateTime<Utc>)> = Vec::new();
        for row in rows {
            match last.iter_mut().find(|(id, _)| *id == row.case_id) {
                Some(entry) => entry.1 = row.created_at,
                None => last.push((row.case_id, row.created_at)),
            }
        }
        Ok(last)
    }

    /// Cancel whatever the router was doing with a tip that leaves triage
    /// some other way (converted into a mediation, closed by a coordinator).
    pub async fn cancel_offers(self, id: CaseId, now: DateTime<Utc>) -> Result<(), StoreError> {
        // One transaction: the offer's place is given back with it.
        let txn = self.begin_write().await?;
        cancel_pending_offers(&txn, id.as_uuid(), now).await?;
        self.commit_work(txn).await
    }
}

/// The tip and its first event, inside the caller's transaction (a
/// report, or a work order another case opens); its routing is the
/// caller's last write (`placement::route_new`).
async fn insert_tip_unrouted<C: ConnectionTrait>(
    txn: &C,
    new: &NewTip,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let case_id = new.id;
    // Tips are police reports, seen by officers only: no content filter
    // (it would refuse exactly the scams and threats they report).
    case::Entity::insert(new_case_row(
        case_id,
        Service::Tip,
        new.community,
        &new.category,
        new.resident,
        now,
    ))
    .exec_without_returning(txn)
    .await?;
    let (lat, lng) = new.location.unzip();
    let (submission_key, request_hash) = new.submission.clone().unzip();
    tip::Entity::insert(tip::ActiveModel {
        case_id: Set(case_id.as_uuid()),
        description: Set(new.description.clone()),
        lat: Set(lat),
        lng: Set(lng),
        datum: Set(new.datum.clone()),
        address_text: Set(new.address.clone()),
        anonymous: Set(new.anonymous),
        submission_key: Set(submission_key),
        request_hash: Set(request_hash),
        tracking_token_hash: Set(new.tracking_token_hash.clone()),
        flagged: Set(new.flagged),
        triage_verdict: Set(None),
        triage_note: Set(None),
        referred_to: Set(None),
        duplicate_of: Set(None),
        converted_to: Set(None),
        source_case_id: Set(new.source_case.map(|c| c.as_uuid())),
        close_note: Set(None),
        supporters: Set(0),
        channel: Set(new.channel.to_owned()),
    })
    .exec_without_returning(txn)
    .await?;
    if let Some(screening) = &new.screening {
        forget_ended_windows(txn, screening.window).await?;
        tip_screening::Entity::insert(tip_screening::ActiveModel {
            case_id: Set(case_id.as_uuid()),
            reporter_key: Set(screening.reporter_key.clone()),
            screening_window: Set(screening.window),
        })
        .exec_without_returning(txn)
        .await?;
    }
    let ctx = Context {
        actor: new.submitted_by,
        request_id: new.request_id.as_deref(),
        now,
    };
    append_event(
        txn,
        case_id.as_uuid(),
        SUBMIT_EVENT,
        None,
        TipStatus::Submitted.as_str(),
        true,
        None,
        ctx,
    )
    .await?;
    Ok(())
}

/// [`insert_tip_unrouted`], then its routing job (a work order another
/// case opens: no first offer in its transaction).
pub(crate) async fn insert_tip<C: ConnectionTrait>(
    txn: &C,
    new: &NewTip,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    insert_tip_unrouted(txn, new, now).await?;
    route_new(txn, new.id, None, tip_request_id(new, now), now).await?;
    Ok(())
}

/// The request id a tip's history and outbox keep: none for an anonymous
/// reporter (`Context::recorded_request_id`).
fn tip_request_id(new: &NewTip, now: DateTime<Utc>) -> Option<&str> {
    Context {
        actor: new.submitted_by,
        request_id: new.request_id.as_deref(),
        now,
    }
    .recorded_request_id()
}

/// A photo's record and its `add_photo` event (the status unchanged).
async fn insert_photo<C: ConnectionTrait>(
    conn: &C,
    case_id: Uuid,
    reporter: Option<Uuid>,
    status: &str,
    photo: NewPhoto,
    ctx: Context<'_>,
) -> Result<(), StoreError> {
    if let Some(resident) = reporter {
        crate::db::trip(crate::db::Fault::RecordPhotoOf { resident })?;
    }
    tip_photo::Entity::insert(tip_photo::ActiveModel {
        id: Set(photo.id),
        case_id: Set(case_id),
        kind: Set(photo.kind.to_owned()),
        bytes: Set(photo.bytes),
        sha256: Set(photo.sha256.clone()),
        received_at: Set(photo.received_at),
        added_by: Set(photo.added_by.to_owned()),
        storage_key: Set(photo.storage_key),
    })
    .exec_without_returning(conn)
    .await?;
    append_event(
        conn,
        case_id,
        "add_photo",
        Some(status),
        status,
        true,
        Some(&photo.sha256),
        ctx,
    )
    .await?;
    Ok(())
}

/// Delete the screening rows of windows before `window`, and the
/// submission keys of anonymous tips filed before it (a retry is long
/// over; the key was made from that window's pseudonym). After this no
/// stored value links those tips to anyone, even with the server's key.
async fn forget_ended_windows<C: ConnectionTrait>(
    conn: &C,
    window: i64,
) -> Result<u64, StoreError> {
    let mut n = tip_screening::Entity::delete_many()
        .filter(tip_screening::Column::ScreeningWindow.lt(window))
        .exec(conn)
        .await?
        .rows_affected;
    n += tip_reporter::Entity::delete_many()
        .filter(tip_reporter::Column::ScreeningWindow.lt(window))
        .exec(conn)
        .await?
        .rows_affected;
    n += tip_supporter::Entity::delete_many()
        .filter(tip_supporter::Column::ScreeningWindow.lt(window))
        .exec(conn)
        .await?
        .rows_affected;
    let earlier = case::Entity::find()
        .select_only()
        .column(case::Column::Id)
        .filter(case::Column::Service.eq(SERVICE))
        .filter(case::Column::CreatedAt.lt(screening_window_start(window)))
        .into_query();
    n += tip::Entity::update_many()
        .col_expr(tip::Column::SubmissionKey, Expr::value(None::<String>))
        .col_expr(tip::Column::RequestHash, Expr::value(None::<String>))
        .filter(tip::Column::Anonymous.eq(true))
        .filter(tip::Column::SubmissionKey.is_not_null())
        .filter(tip::Column::CaseId.in_subquery(earlier))
        .exec(conn)
        .await?
        .rows_affected;
    Ok(n)
}

async fn count_triage<C: ConnectionTrait>(
    conn: &C,
    reporter_key: &str,
    window: i64,
    unfounded: bool,
) -> Result<(), StoreError> {
    let add = i32::from(unfounded);
    let updated = tip_reporter::Entity::update_many()
        .col_expr(
            tip_reporter::Column::Triaged,
            Expr::col(tip_reporter::Column::Triaged).add(1),
        )
        .col_expr(
            tip_reporter::Column::Unfounded,
            Expr::col(tip_reporter::Column::Unfounded).add(add),
        )
        .filter(tip_reporter::Column::ReporterKey.eq(reporter_key))
        .exec(conn)
        .await?;
    if updated.rows_affected == 0 {
        tip_reporter::Entity::insert(tip_reporter::ActiveModel {
            reporter_key: Set(reporter_key.to_owned()),
            screening_window: Set(window),
            triaged: Set(1),
            unfounded: Set(add),
        })
        .exec_without_returning(conn)
        .await?;
    }
    Ok(())
}

async fn insert_tip_message<C: ConnectionTrait>(
    conn: &C,
    case_id: Uuid,
    author: Actor,
    body: &str,
    vis: &str,
    now: DateTime<Utc>,
) -> Result<Uuid, StoreError> {
    let (kind, id) = actor_columns(author);
    let message_id = Uuid::now_v7();
    case_message::Entity::insert(case_message::ActiveModel {
        id: Set(message_id),
        case_id: Set(case_id),
        author_kind: Set(kind.to_owned()),
        author_id: Set(id.unwrap_or_default()),
        body: Set(body.to_owned()),
        visibility: Set(vis.to_owned()),
        created_at: Set(now),
        moderation: Set(Moderation::Passed.as_str().to_owned()),
    })
    .exec_without_returning(conn)
    .await?;
    // Never who wrote it: an anonymous reporter's follow-up is told as any other.
    tell_owner_of_message(conn, case_id, author, message_id, now).await?;
    Ok(message_id)
}
