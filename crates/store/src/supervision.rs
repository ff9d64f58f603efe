//! 督办 (supervision), 延期 (extension) and the overdue view, for every
//! service alike (`domain::supervision` has the rules).
//!
//! - A supervision is a `case_supervisions` row held by the coordinators of
//!   one unit; making it writes an internal `supervised` event, tells the
//!   owner (`supervised` on their stream) and owes a `SupervisionDue` timer.
//!   A missed deadline climbs to the parent unit (`supervision_missed`
//!   event; its coordinators told). It ends when lifted or when the case
//!   finishes (`cases::apply_move` ends it in the finishing move's
//!   transaction).
//! - An extension is a `case_extensions` row the owner asks for; granting
//!   it adds its minutes to `cases.sla_extension_minutes` (the resolution
//!   clock's target) and owes an SLA check, so the timer moves with it.

use crate::cases::{Context, append_event, status_of};
use crate::entity::{case, case_extension, case_supervision, org_unit, sla_breach};
use crate::outbox;
use crate::records::{CaseRecord, SlaBreachRecord};
use crate::staff_events::{coordinators_of, coordinators_over, tell, tell_each};
use crate::{Store, StoreError};
use chrono::{DateTime, Utc};
use sansuo_domain::catalog::Service;
use sansuo_domain::staff_event::StaffEvent;
use sansuo_domain::supervision::{
    ExtensionRefusal, ExtensionStatus, SupervisionDue, SupervisionRefusal, check_deadline, due,
};
use sansuo_domain::work::Work;
use sansuo_domain::work_order::FINISHED_STATUSES;
use sansuo_domain::{Actor, CaseId, ExtensionId, OrgUnitId, StaffId, SupervisionId};
use sea_orm::sea_query::{Expr, ExprTrait, Query, SelectStatement};
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use std::collections::HashMap;
use uuid::Uuid;

/// The history's actions.
pub const SUPERVISED_EVENT: &str = "supervised";
pub const SUPERVISION_LIFTED_EVENT: &str = "supervision_lifted";
pub const SUPERVISION_MISSED_EVENT: &str = "supervision_missed";
pub const SUPERVISION_ENDED_EVENT: &str = "supervision_ended";
pub const EXTENSION_REQUESTED_EVENT: &str = "extension_requested";
pub const EXTENSION_GRANTED_EVENT: &str = "extension_granted";
pub const EXTENSION_REFUSED_EVENT: &str = "extension_refused";

/// A supervision with its case as it stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SupervisionRecord {
    pub id: SupervisionId,
    pub case: CaseRecord,
    /// The unit whose coordinators hold it now.
    pub unit_id: OrgUnitId,
    /// 0 where it was put; one more per level it climbed.
    pub level: i32,
    pub deadline: DateTime<Utc>,
    pub note: Option<String>,
    pub created_by: Option<StaffId>,
    pub created_at: DateTime<Utc>,
    /// When its deadline was missed (and it climbed).
    pub missed_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
}

/// An extension request and its decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtensionRecord {
    pub id: ExtensionId,
    pub case_id: CaseId,
    pub service: Service,
    pub requested_by: StaffId,
    pub reason: String,
    pub extra_minutes: i32,
    pub status: ExtensionStatus,
    pub decided_by: Option<StaffId>,
    pub decided_at: Option<DateTime<Utc>>,
    pub decision_note: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// An open, owned case with a recorded SLA breach.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OverdueRecord {
    pub case: CaseRecord,
    pub breaches: Vec<SlaBreachRecord>,
}

/// What a supervision's timer did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DueOutcome {
    /// Nothing to do (ended, or already climbed for this deadline).
    Nothing,
    /// Fired early: look again at this time.
    NotYet(DateTime<Utc>),
    /// Missed: it climbed to `unit` at `level` (the same unit when there is
    /// none above).
    Climbed { unit: OrgUnitId, level: i32 },
}

fn extension_record(
    row: case_extension::Model,
    service: Service,
) -> Result<ExtensionRecord, StoreError> {
    Ok(ExtensionRecord {
        id: row.id.into(),
        case_id: row.case_id.into(),
        service,
        requested_by: row.requested_by.into(),
        reason: row.reason,
        extra_minutes: row.extra_minutes,
        status: row.status.parse().map_err(StoreError::Conflict)?,
        decided_by: row.decided_by.map(StaffId::from),
        decided_at: row.decided_at,
        decision_note: row.decision_note,
        created_at: row.created_at,
    })
}

fn supervision_record(
    row: case_supervision::Model,
    case: case::Model,
) -> Result<SupervisionRecord, StoreError> {
    Ok(SupervisionRecord {
        id: row.id.into(),
        case: CaseRecord::try_from(case)?,
        unit_id: row.unit_id.into(),
        level: row.level,
        deadline: row.deadline,
        note: row.note,
        created_by: row.created_by.map(StaffId::from),
        created_at: row.created_at,
        missed_at: row.missed_at,
        ended_at: row.ended_at,
    })
}

fn service_of(case: &case::Model) -> Result<Service, StoreError> {
    case.service.parse().map_err(StoreError::Conflict)
}

/// 督办, 延期 and the overdue view, across services.
///
/// Reached as `store.supervision()`; see [`Store`].
#[derive(Clone, Copy)]
pub struct Supervision<'a>(pub(crate) &'a Store);

impl std::ops::Deref for Supervision<'_> {
    type Target = Store;
    fn deref(&self) -> &Store {
        self.0
    }
}

impl Store {
    pub fn supervision(&self) -> Supervision<'_> {
        Supervision(self)
    }
}

impl Supervision<'_> {
    /// Put case `id` under supervision of the coordinators of `unit` (the
    /// caller's scope, within which the caller resolved the case).
    pub async fn supervise(
        self,
        id: CaseId,
        unit: OrgUnitId,
        by: StaffId,
        deadline: DateTime<Utc>,
        note: Option<&str>,
        ctx: Context<'_>,
    ) -> Result<Result<SupervisionRecord, SupervisionRefusal>, StoreError> {
        if let Err(refusal) = check_deadline(deadline, ctx.now) {
            return Ok(Err(refusal));
        }
        let txn = self.begin_write().await?;
        let case = case::Entity::find_by_id(id.as_uuid())
            .one(&txn)
            .await?
            .ok_or(StoreError::NotFound)?;
        let status = status_of(&case)?;
        if status.is_finished() {
            return Ok(Err(SupervisionRefusal::Finished));
        }
        let live = case_supervision::Entity::find()
            .filter(case_supervision::Column::CaseId.eq(case.id))
            .filter(case_supervision::Column::EndedAt.is_null())
            .one(&txn)
            .await?;
        if live.is_some() {
            return Ok(Err(SupervisionRefusal::AlreadySupervised));
        }
        let row = case_supervision::Model {
            id: SupervisionId::new().as_uuid(),
            case_id: case.id,
            unit_id: unit.as_uuid(),
            level: 0,
            deadline,
            note: note.map(str::to_owned),
            created_by: Some(by.as_uuid()),
            created_at: ctx.now,
            missed_at: None,
            ended_at: None,
        };
        let inserted = case_supervision::Entity::insert(case_supervision::ActiveModel {
            id: Set(row.id),
            case_id: Set(row.case_id),
            unit_id: Set(row.unit_id),
            level: Set(0),
            deadline: Set(deadline),
            note: Set(row.note.clone()),
            created_by: Set(row.created_by),
            created_at: Set(ctx.now),
            missed_at: Set(None),
            ended_at: Set(None),
        })
        .exec_without_returning(&txn)
        .await;
        match inserted {
            Ok(_) => {}
            Err(err) if crate::error::is_unique_violation(&err) => {
                return Ok(Err(SupervisionRefusal::AlreadySupervised));
            }
            Err(err) => return Err(err.into()),
        }
        append_event(
            &txn,
            case.id,
            SUPERVISED_EVENT,
            Some(status.as_str()),
            status.as_str(),
            false,
            note,
            ctx,
        )
        .await?;
        let work = Work::SupervisionDue {
            supervision_id: row.id.into(),
        };
        outbox::append(&txn, &work, ctx.recorded_request_id(), ctx.now).await?;
        if let Some(owner) = case.owner_staff_id {
            let event = StaffEvent::Supervised {
                case_id: id,
                service: service_of(&case)?,
                deadline,
                level: 0,
            };
            tell(&txn, owner.into(), &event, ctx.now).await?;
        }
        self.commit_work(txn).await?;
        Ok(Ok(supervision_record(row, case)?))
    }

    /// End the case's live supervision. `false`: there is none.
    pub async fn lift(
        self,
        id: CaseId,
        note: Option<&str>,
        ctx: Context<'_>,
    ) -> Result<bool, StoreError> {
        let txn = self.begin_write().await?;
        let case = case::Entity::find_by_id(id.as_uuid())
            .one(&txn)
            .await?
            .ok_or(StoreError::NotFound)?;
        let ended = case_supervision::Entity::update_many()
            .col_expr(case_supervision::Column::EndedAt, Expr::value(ctx.now))
            .filter(case_supervision::Column::CaseId.eq(case.id))
            .filter(case_supervision::Column::EndedAt.is_null())
            .exec(&txn)
            .await?;
        if ended.rows_affected == 0 {
            return Ok(false);
        }
        let status = status_of(&case)?;
        append_event(
            &txn,
            case.id,
            SUPERVISION_LIFTED_EVENT,
            Some(status.as_str()),
            status.as_str(),
            false,
            note,
            ctx,
        )
        .await?;
        self.commit_work(txn).await?;
        Ok(true)
    }

    /// The case's live supervision, if any.
    pub async fn live_of(self, id: CaseId) -> Result<Option<SupervisionRecord>, StoreError> {
        let Some(row) = case_supervision::Entity::find()
            .filter(case_supervision::Column::CaseId.eq(id.as_uuid()))
            .filter(case_supervision::Column::EndedAt.is_null())
            .one(self.db())
            .await?
        else {
            return Ok(None);
        };
        let Some(case) = case::Entity::find_by_id(row.case_id).one(self.db()).await? else {
            return Ok(None);
        };
        Ok(Some(supervision_record(row, case)?))
    }

    /// Live supervisions whose deadline has not yet been missed, as
    /// `(id, deadline)`, by id after `after` (the reconciler re-arms their
    /// timers when Redis lost them).
    pub async fn timers(
        self,
        after: Option<Uuid>,
        limit: u64,
    ) -> Result<Vec<(SupervisionId, DateTime<Utc>)>, StoreError> {
        let mut query = case_supervision::Entity::find()
            .filter(case_supervision::Column::EndedAt.is_null())
            .filter(case_supervision::Column::MissedAt.is_null())
            .order_by_asc(case_supervision::Column::Id)
            .limit(limit);
        if let Some(a) = after {
            query = query.filter(case_supervision::Column::Id.gt(a));
        }
        Ok(query
            .all(self.db())
            .await?
            .into_iter()
            .map(|r| (SupervisionId::from(r.id), r.deadline))
            .collect())
    }

    /// The supervision's timer: climb a level if its deadline was missed.
    pub async fn due(
        self,
        id: SupervisionId,
        now: DateTime<Utc>,
    ) -> Result<DueOutcome, StoreError> {
        let txn = self.begin_write().await?;
        let Some(row) = case_supervision::Entity::find_by_id(id.as_uuid())
            .one(&txn)
            .await?
        else {
            return Ok(DueOutcome::Nothing);
        };
        let Some(case) = case::Entity::find_by_id(row.case_id).one(&txn).await? else {
            return Ok(DueOutcome::Nothing);
        };
        let status = status_of(&case)?;
        let ended = row.ended_at.is_some() || status.is_finished();
        match due(row.deadline, ended, row.missed_at.is_some(), now) {
            SupervisionDue::Nothing => return Ok(DueOutcome::Nothing),
            SupervisionDue::NotYet(at) => return Ok(DueOutcome::NotYet(at)),
            SupervisionDue::Missed => {}
        }
        let parent = org_unit::Entity::find_by_id(row.unit_id)
            .one(&txn)
            .await?
            .and_then(|u| u.parent_id);
        let (unit, level) = match parent {
            Some(parent) => (parent, row.level + 1),
            None => (row.unit_id, row.level),
        };
        let climbed = case_supervision::Entity::update_many()
            .col_expr(case_supervision::Column::MissedAt, Expr::value(now))
            .col_expr(case_supervision::Column::UnitId, Expr::value(unit))
            .col_expr(case_supervision::Column::Level, Expr::value(level))
            .filter(case_supervision::Column::Id.eq(row.id))
            .filter(case_supervision::Column::MissedAt.is_null())
            .filter(case_supervision::Column::EndedAt.is_null())
            .exec(&txn)
            .await?;
        if climbed.rows_affected != 1 {
            return Ok(DueOutcome::Nothing);
        }
        let reason = format!(
            "督办期限 {} 已过，升级至上一级（第 {level} 级）",
            row.deadline
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        );
        let ctx = Context {
            actor: Actor::System,
            request_id: None,
            now,
        };
        append_event(
            &txn,
            case.id,
            SUPERVISION_MISSED_EVENT,
            Some(status.as_str()),
            status.as_str(),
            false,
            Some(&reason),
            ctx,
        )
        .await?;
        let service = service_of(&case)?;
        let told = coordinators_of(&txn, unit.into()).await?;
        let events = told
            .into_iter()
            .map(|staff| {
                let event = StaffEvent::Supervised {
                    case_id: case.id.into(),
                    service,
                    deadline: row.deadline,
                    level,
                };
                (staff, event)
            })
            .collect();
        tell_each(&txn, events, now).await?;
        self.commit_work(txn).await?;
        Ok(DueOutcome::Climbed {
            unit: unit.into(),
            level,
        })
    }

    /// Live supervisions of cases within `scope`, newest first, after the
    /// cursor `before`; `limit + 1` at most (the caller pages). One read of
    /// the scope's units, one of the page and one of its cases, however
    /// many supervisions other streets hold.
    pub async fn supervised(
        self,
        scope: OrgUnitId,
        before: Option<Uuid>,
        limit: u64,
    ) -> Result<Vec<SupervisionRecord>, StoreError> {
        let in_scope = self.cases_within(scope).await?;
        let mut query = case_supervision::Entity::find()
            .filter(case_supervision::Column::EndedAt.is_null())
            .filter(case_supervision::Column::CaseId.in_subquery(in_scope))
            .order_by_desc(case_supervision::Column::Id)
            .limit(limit + 1);
        if let Some(c) = before {
            query = query.filter(case_supervision::Column::Id.lt(c));
        }
        let rows = query.all(self.db()).await?;
        let mut cases = self.cases_by_id(rows.iter().map(|r| r.case_id)).await?;
        rows.into_iter()
            .filter_map(|row| cases.remove(&row.case_id).map(|case| (row, case)))
            .map(|(row, case)| supervision_record(row, case))
            .collect()
    }

    /// The ids of every case whose community lies within `scope`, as a
    /// sub-query (the scope's units are read once, one query per level).
    async fn cases_within(self, scope: OrgUnitId) -> Result<SelectStatement, StoreError> {
        let units = self.stats().subtree_units(scope).await?;
        Ok(Query::select()
            .column(case::Column::Id)
            .from(case::Entity)
            .and_where(case::Column::CommunityId.is_in(units))
            .to_owned())
    }

    /// The case rows of `ids`, by id, in one read.
    async fn cases_by_id(
        self,
        ids: impl IntoIterator<Item = Uuid>,
    ) -> Result<HashMap<Uuid, case::Model>, StoreError> {
        let ids: Vec<Uuid> = ids.into_iter().collect();
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        Ok(case::Entity::find()
            .filter(case::Column::Id.is_in(ids))
            .all(self.db())
            .await?
            .into_iter()
            .map(|c| (c.id, c))
            .collect())
    }

    /// The owner of case `id` (of `service`) asks for `extra_minutes` more
    /// business time on its resolution target. Another's case, or another
    /// service's, reads as not found.
    pub async fn request_extension(
        self,
        id: CaseId,
        service: Service,
        owner: StaffId,
        reason: &str,
        extra_minutes: i64,
        ctx: Context<'_>,
    ) -> Result<Result<ExtensionRecord, ExtensionRefusal>, StoreError> {
        let txn = self.begin_write().await?;
        let case = case::Entity::find_by_id(id.as_uuid())
            .one(&txn)
            .await?
            .ok_or(StoreError::NotFound)?;
        if service_of(&case)? != service || case.owner_staff_id != Some(owner.as_uuid()) {
            return Err(StoreError::NotFound);
        }
        let status = status_of(&case)?;
        if status.is_finished() {
            return Ok(Err(ExtensionRefusal::Finished));
        }
        let extra = i32::try_from(extra_minutes)
            .map_err(|_| StoreError::conflict("extension out of range"))?;
        let row = case_extension::Model {
            id: ExtensionId::new().as_uuid(),
            case_id: case.id,
            requested_by: owner.as_uuid(),
            reason: reason.to_owned(),
            extra_minutes: extra,
            status: ExtensionStatus::Pending.as_str().to_owned(),
            decided_by: None,
            decided_at: None,
            decision_note: None,
            created_at: ctx.now,
        };
        let inserted = case_extension::Entity::insert(case_extension::ActiveModel {
            id: Set(row.id),
            case_id: Set(row.case_id),
            requested_by: Set(row.requested_by),
            reason: Set(row.reason.clone()),
            extra_minutes: Set(extra),
            status: Set(row.status.clone()),
            decided_by: Set(None),
            decided_at: Set(None),
            decision_note: Set(None),
            created_at: Set(ctx.now),
        })
        .exec_without_returning(&txn)
        .await;
        match inserted {
            Ok(_) => {}
            Err(err) if crate::error::is_unique_violation(&err) => {
                return Ok(Err(ExtensionRefusal::Pending));
            }
            Err(err) => return Err(err.into()),
        }
        append_event(
            &txn,
            case.id,
            EXTENSION_REQUESTED_EVENT,
            Some(status.as_str()),
            status.as_str(),
            false,
            Some(reason),
            ctx,
        )
        .await?;
        // The request waits on them: every coordinator over the community
        // hears of it at once, not at their next look at the list.
        let event = StaffEvent::ExtensionRequested {
            case_id: id,
            service,
            extension_id: row.id.into(),
            extra_minutes,
        };
        let told = coordinators_over(&txn, case.community_id.into())
            .await?
            .into_iter()
            .map(|staff| (staff, event.clone()))
            .collect();
        tell_each(&txn, told, ctx.now).await?;
        self.commit_work(txn).await?;
        Ok(Ok(extension_record(row, service)?))
    }

    pub async fn extension(self, id: ExtensionId) -> Result<Option<ExtensionRecord>, StoreError> {
        let Some(row) = case_extension::Entity::find_by_id(id.as_uuid())
            .one(self.db())
            .await?
        else {
            return Ok(None);
        };
        let Some(case) = case::Entity::find_by_id(row.case_id).one(self.db()).await? else {
            return Ok(None);
        };
        Ok(Some(extension_record(row, service_of(&case)?)?))
    }

    /// Every extension asked for on a case of `service`, oldest first (a
    /// case holds a handful; one pending at a time).
    pub async fn extensions_of(
        self,
        id: CaseId,
        service: Service,
    ) -> Result<Vec<ExtensionRecord>, StoreError> {
        case_extension::Entity::find()
            .filter(case_extension::Column::CaseId.eq(id.as_uuid()))
            .order_by_asc(case_extension::Column::Id)
            .all(self.db())
            .await?
            .into_iter()
            .map(|row| extension_record(row, service))
            .collect()
    }

    /// The case an extension asks about (for scope checks).
    pub async fn case_of_extension(self, id: ExtensionId) -> Result<Option<CaseId>, StoreError> {
        Ok(case_extension::Entity::find_by_id(id.as_uuid())
            .one(self.db())
            .await?
            .map(|e| CaseId::from(e.case_id)))
    }

    /// Grant or refuse a pending extension. Granting moves the case's
    /// resolution target and owes an SLA check (the timer moves with it);
    /// either way the one who asked is told.
    pub async fn decide_extension(
        self,
        id: ExtensionId,
        grant: bool,
        by: StaffId,
        note: Option<&str>,
        ctx: Context<'_>,
    ) -> Result<Result<ExtensionRecord, ExtensionRefusal>, StoreError> {
        let txn = self.begin_write().await?;
        let row = case_extension::Entity::find_by_id(id.as_uuid())
            .one(&txn)
            .await?
            .ok_or(StoreError::NotFound)?;
        let case = case::Entity::find_by_id(row.case_id)
            .one(&txn)
            .await?
            .ok_or(StoreError::NotFound)?;
        if row.status != ExtensionStatus::Pending.as_str() {
            return Ok(Err(ExtensionRefusal::Decided));
        }
        let status = status_of(&case)?;
        if grant && status.is_finished() {
            return Ok(Err(ExtensionRefusal::Finished));
        }
        let to = if grant {
            ExtensionStatus::Granted
        } else {
            ExtensionStatus::Refused
        };
        let decided = case_extension::Entity::update_many()
            .col_expr(case_extension::Column::Status, Expr::value(to.as_str()))
            .col_expr(case_extension::Column::DecidedBy, Expr::value(by.as_uuid()))
            .col_expr(case_extension::Column::DecidedAt, Expr::value(ctx.now))
            .col_expr(
                case_extension::Column::DecisionNote,
                Expr::value(note.map(str::to_owned)),
            )
            .filter(case_extension::Column::Id.eq(row.id))
            .filter(case_extension::Column::Status.eq(ExtensionStatus::Pending.as_str()))
            .exec(&txn)
            .await?;
        if decided.rows_affected != 1 {
            return Ok(Err(ExtensionRefusal::Decided));
        }
        if grant {
            case::Entity::update_many()
                .col_expr(
                    case::Column::SlaExtensionMinutes,
                    Expr::col(case::Column::SlaExtensionMinutes).add(row.extra_minutes),
                )
                .filter(case::Column::Id.eq(case.id))
                .exec(&txn)
                .await?;
            let work = Work::SlaCheck {
                case_id: case.id.into(),
            };
            outbox::append(&txn, &work, ctx.recorded_request_id(), ctx.now).await?;
        }
        append_event(
            &txn,
            case.id,
            if grant {
                EXTENSION_GRANTED_EVENT
            } else {
                EXTENSION_REFUSED_EVENT
            },
            Some(status.as_str()),
            status.as_str(),
            false,
            note,
            ctx,
        )
        .await?;
        let service = service_of(&case)?;
        let event = StaffEvent::Extension {
            case_id: case.id.into(),
            service,
            extension_id: id,
            status: to,
        };
        tell(&txn, row.requested_by.into(), &event, ctx.now).await?;
        self.commit_work(txn).await?;
        let decided_row = case_extension::Model {
            status: to.as_str().to_owned(),
            decided_by: Some(by.as_uuid()),
            decided_at: Some(ctx.now),
            decision_note: note.map(str::to_owned),
            ..row
        };
        Ok(Ok(extension_record(decided_row, service)?))
    }

    /// Pending extensions on cases within `scope`, newest first after the
    /// cursor; `limit + 1` at most. Three reads, as for [`Self::supervised`].
    pub async fn pending_extensions(
        self,
        scope: OrgUnitId,
        before: Option<Uuid>,
        limit: u64,
    ) -> Result<Vec<ExtensionRecord>, StoreError> {
        let in_scope = self.cases_within(scope).await?;
        let mut query = case_extension::Entity::find()
            .filter(case_extension::Column::Status.eq(ExtensionStatus::Pending.as_str()))
            .filter(case_extension::Column::CaseId.in_subquery(in_scope))
            .order_by_desc(case_extension::Column::Id)
            .limit(limit + 1);
        if let Some(c) = before {
            query = query.filter(case_extension::Column::Id.lt(c));
        }
        let rows = query.all(self.db()).await?;
        let cases = self.cases_by_id(rows.iter().map(|r| r.case_id)).await?;
        rows.into_iter()
            .filter_map(|row| {
                let case = cases.get(&row.case_id)?;
                Some(service_of(case).and_then(|service| extension_record(row, service)))
            })
            .collect()
    }

    /// Open, owned cases within `scope` with a recorded SLA breach, newest
    /// case first after the cursor; `limit + 1` at most. The page's breaches
    /// are read at once.
    pub async fn overdue(
        self,
        scope: OrgUnitId,
        before: Option<Uuid>,
        limit: u64,
    ) -> Result<Vec<OverdueRecord>, StoreError> {
        let units = self.stats().subtree_units(scope).await?;
        let breached = Query::select()
            .column(sla_breach::Column::CaseId)
            .from(sla_breach::Entity)
            .to_owned();
        let mut query = case::Entity::find()
            .filter(case::Column::CommunityId.is_in(units))
            .filter(case::Column::OwnerStaffId.is_not_null())
            .filter(case::Column::Status.is_not_in(FINISHED_STATUSES))
            .filter(case::Column::Id.in_subquery(breached))
            .order_by_desc(case::Column::Id)
            .limit(limit + 1);
        if let Some(c) = before {
            query = query.filter(case::Column::Id.lt(c));
        }
        let cases = query.all(self.db()).await?;
        let mut breaches: HashMap<Uuid, Vec<SlaBreachRecord>> = HashMap::new();
        if !cases.is_empty() {
            let rows = sla_breach::Entity::find()
                .filter(sla_breach::Column::CaseId.is_in(cases.iter().map(|c| c.id)))
                .order_by_asc(sla_breach::Column::BreachedAt)
                .all(self.db())
                .await?;
            for row in rows {
                breaches
                    .entry(row.case_id)
                    .or_default()
                    .push(SlaBreachRecord::try_from(row)?);
            }
        }
        cases
            .into_iter()
            .map(|case| {
                Ok(OverdueRecord {
                    breaches: breaches.remove(&case.id).unwrap_or_default(),
                    case: CaseRecord::try_from(case)?,
                })
            })
            .collect()
    }
}
