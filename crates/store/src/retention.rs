//! Account deletion and retention purges (issue 18, item 6;
//! docs/retention.md). The decisions (what is due, what an open case of a
//! deleted resident becomes) are `sansuo_domain::retention`'s; this module
//! applies them, each run in one transaction.

use crate::cases::Context;
use crate::entity::{
    case, case_conversion, case_event, case_extension, case_intake, case_message, case_supervision,
    consultation, content_flag, idempotency_key, media_check, mediation, mediation_party,
    mediation_session, notification, offer, outbox, personal_data_view, photo_blob, refresh_token,
    resident, resident_deletion, sla_breach, staff_notification, subscription_credit, tip,
    tip_photo, tip_screening, tip_supporter,
};
use crate::identity::{DELETIONS_KEPT, resident_day};
use crate::{Store, StoreError};
use chrono::{DateTime, Utc};
use sansuo_domain::catalog::Service;
use sansuo_domain::retention::{Cutoffs, ERASED, OnAccountDeletion, PURGE_REASON};
use sansuo_domain::work_order::CaseStatus;
use sansuo_domain::{Actor, ResidentId};
use sea_orm::sea_query::{Alias, Expr, ExprTrait};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseTransaction, DbBackend, EntityTrait,
    QueryFilter, QuerySelect, Statement, Value,
};
use uuid::Uuid;

/// The reason written on the event of a case withdrawn because its
/// resident deleted their account.
pub const WITHDRAWN_ON_DELETION: &str = "居民注销账户，案件自动撤回";

/// How many cases one statement handles.
const BATCH: u64 = 200;

/// What deleting one resident's account did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct AccountDeletion {
    /// `false`: there was no such account (already deleted): nothing done.
    pub existed: bool,
    /// Open cases withdrawn for them.
    pub withdrawn: u64,
    /// Cases unlinked and anonymised (the withdrawn ones too).
    pub anonymised: u64,
}

/// What one retention run did (or, in a dry run, would do).
#[derive(Debug, Default, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PurgeReport {
    pub dry_run: bool,
    /// Closed cases whose personal data was erased.
    pub anonymised_cases: u64,
    /// Whole closed cases deleted, listed in `case_event_purges`.
    pub purged_cases: u64,
    pub purged_events: u64,
    pub photos: u64,
    pub notifications: u64,
    pub outbox: u64,
    pub content_flags: u64,
    pub sessions: u64,
    pub media_checks: u64,
    pub data_views: u64,
    /// Storage keys of the deleted photos, for a photo store outside the
    /// database (`dir:`) to delete after the commit.
    #[serde(skip)]
    pub photo_keys: Vec<String>,
}

/// Account deletion and retention purges.
///
/// Reached as `store.retention()`; see [`Store`].
#[derive(Clone, Copy)]
pub struct Retention<'a>(pub(crate) &'a Store);

impl std::ops::Deref for Retention<'_> {
    type Target = Store;
    fn deref(&self) -> &Store {
        self.0
    }
}

impl Store {
    /// Account deletion and retention purges.
    pub fn retention(&self) -> Retention<'_> {
        Retention(self)
    }
}

/// Which mediation parties of a case are erased.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Parties {
    /// The applicants: the deleted resident (the client cannot tell which
    /// applicant they are, so all of them).
    Applicants,
    /// Every party (the case's personal-data period ran out).
    All,
}

fn ids_filter<C: ColumnTrait>(col: C, ids: &[Uuid]) -> sea_orm::Condition {
    sea_orm::Condition::all().add(col.is_in(ids.iter().copied()))
}

/// Erase what identifies people on these cases, keeping the case for the
/// staff record and the statistics (docs/retention.md lists what stays).
async fn erase_cases<C: ConnectionTrait>(
    conn: &C,
    ids: &[Uuid],
    parties: Parties,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    if ids.is_empty() {
        return Ok(());
    }
    case::Entity::update_many()
        .col_expr(case::Column::ResidentId, Expr::value(Option::<Uuid>::None))
        .col_expr(Alias::new("erased_at"), Expr::value(resident_day(now)))
        .filter(ids_filter(case::Column::Id, ids))
        .exec(conn)
        .await?;
    case_intake::Entity::update_many()
        .col_expr(case_intake::Column::NameSealed, Expr::value(ERASED))
        .col_expr(case_intake::Column::NameMasked, Expr::value(ERASED))
        .col_expr(case_intake::Column::PhoneSealed, Expr::value(ERASED))
        .col_expr(case_intake::Column::PhoneMasked, Expr::value(ERASED))
        .filter(ids_filter(case_intake::Column::CaseId, ids))
        .exec(conn)
        .await?;
    let mut party = mediation_party::Entity::update_many()
        .col_expr(mediation_party::Column::NameSealed, Expr::value(ERASED))
        .col_expr(mediation_party::Column::NameMasked, Expr::value(ERASED))
        .col_expr(
            mediation_party::Column::ContactSealed,
            Expr::value(Option::<String>::None),
        )
        .col_expr(
            mediation_party::Column::ContactMasked,
            Expr::value(Option::<String>::None),
        )
        .filter(ids_filter(mediation_party::Column::CaseId, ids));
    if parties == Parties::Applicants {
        party = party.filter(mediation_party::Column::Role.eq("applicant"));
    }
    party.exec(conn).await?;
    mediation_session::Entity::update_many()
        .col_expr(
            mediation_session::Column::AttendanceResidentId,
            Expr::value(Option::<Uuid>::None),
        )
        .filter(ids_filter(mediation_session::Column::CaseId, ids))
        .exec(conn)
        .await?;
    case_message::Entity::update_many()
        .col_expr(case_message::Column::AuthorId, Expr::value(Uuid::nil()))
        .filter(ids_filter(case_message::Column::CaseId, ids))
        .filter(case_message::Column::AuthorKind.eq("resident"))
        .exec(conn)
        .await?;
    notification::Entity::delete_many()
        .filter(ids_filter(notification::Column::CaseId, ids))
        .exec(conn)
        .await?;
    idempotency_key::Entity::delete_many()
        .filter(ids_filter(idempotency_key::Column::CaseId, ids))
        .exec(conn)
        .await?;
    Ok(())
}

fn statement(backend: DbBackend, sql: &str, values: Vec<Value>) -> Statement {
    let sql = if backend == DbBackend::Sqlite {
        let mut out = sql.to_owned();
        for n in (1..=values.len()).rev() {
            out = out.replace(&format!("${n}"), "?");
        }
        out
    } else {
        sql.to_owned()
    };
    Statement::from_sql_and_values(backend, sql, values)
}

/// Delete whole cases with everything that hangs on them. Their events go
/// through the seam of docs/event-chain.md: each case is listed in
/// `case_event_purges` first (the row stays as the record that it was).
async fn purge_cases(
    txn: &DatabaseTransaction,
    ids: &[Uuid],
    now: DateTime<Utc>,
    report: &mut PurgeReport,
) -> Result<(), StoreError> {
    if ids.is_empty() {
        return Ok(());
    }
    let backend = txn.get_database_backend();
    for id in ids {
        txn.execute_raw(statement(
            backend,
            "INSERT INTO case_event_purges (case_id, purged_at, reason) VALUES ($1, $2, $3)",
            vec![(*id).into(), now.into(), PURGE_REASON.into()],
        ))
        .await?;
    }
    report.purged_events += case_event::Entity::delete_many()
        .filter(ids_filter(case_event::Column::CaseId, ids))
        .exec(txn)
        .await?
        .rows_affected;
    purge_photos(
        txn,
        tip_photo::Entity::find()
            .filter(ids_filter(tip_photo::Column::CaseId, ids))
            .all(txn)
            .await?,
        report,
    )
    .await?;
    // Rows of other cases that point at these: the pointer goes.
    for col in [
        tip::Column::DuplicateOf,
        tip::Column::ConvertedTo,
        tip::Column::SourceCaseId,
    ] {
        tip::Entity::update_many()
            .col_expr(col, Expr::value(Option::<Uuid>::None))
            .filter(ids_filter(col, ids))
            .exec(txn)
            .await?;
    }
    case_conversion::Entity::delete_many()
        .filter(
            sea_orm::Condition::any()
                .add(case_conversion::Column::FromCaseId.is_in(ids.iter().copied()))
                .add(case_conversion::Column::ToCaseId.is_in(ids.iter().copied())),
        )
        .exec(txn)
        .await?;
    macro_rules! delete_of {
        ($($m:ident),* $(,)?) => {$(
            $m::Entity::delete_many()
                .filter(ids_filter($m::Column::CaseId, ids))
                .exec(txn)
                .await?;
        )*};
    }
    delete_of!(
        case_message,
        content_flag,
        offer,
        notification,
        staff_notification,
        sla_breach,
        case_extension,
        case_supervision,
        case_intake,
        idempotency_key,
        tip_supporter,
        tip_screening,
        mediation_session,
        mediation_party,
        consultation,
        mediation,
        tip,
    );
    report.purged_cases += case::Entity::delete_many()
        .filter(ids_filter(case::Column::Id, ids))
        .exec(txn)
        .await?
        .rows_affected;
    Ok(())
}

async fn purge_photos(
    txn: &DatabaseTransaction,
    photos: Vec<tip_photo::Model>,
    report: &mut PurgeReport,
) -> Result<(), StoreError> {
    if photos.is_empty() {
        return Ok(());
    }
    let ids: Vec<Uuid> = photos.iter().map(|p| p.id).collect();
    let keys: Vec<String> = photos.into_iter().map(|p| p.storage_key).collect();
    content_flag::Entity::delete_many()
        .filter(ids_filter(content_flag::Column::SubjectId, &ids))
        .exec(txn)
        .await?;
    report.photos += tip_photo::Entity::delete_many()
        .filter(tip_photo::Column::Id.is_in(ids))
        .exec(txn)
        .await?
        .rows_affected;
    photo_blob::Entity::delete_many()
        .filter(photo_blob::Column::Key.is_in(keys.iter().cloned()))
        .exec(txn)
        .await?;
    report.photo_keys.extend(keys);
    Ok(())
}

/// Closed cases (by `closed_at`) at or before `cutoff`, a batch at a time.
async fn closed_before<C: ConnectionTrait>(
    conn: &C,
    cutoff: DateTime<Utc>,
    not_erased: bool,
) -> Result<Vec<Uuid>, StoreError> {
    let mut find = case::Entity::find()
        .select_only()
        .column(case::Column::Id)
        .filter(case::Column::ClosedAt.is_not_null())
        .filter(case::Column::ClosedAt.lte(cutoff))
        .limit(BATCH);
    if not_erased {
        find = find.filter(Expr::col(Alias::new("erased_at")).is_null());
    }
    Ok(find.into_tuple().all(conn).await?)
}

const DONE_NOTIFICATIONS: [&str; 3] = ["sent", "no_credit", "dead"];

impl Retention<'_> {
    /// Delete a resident's account (docs/retention.md), in one
    /// transaction: open consultations and not-yet-heard mediations are
    /// withdrawn, every case of theirs is unlinked and its identifying
    /// fields replaced by the placeholder, and their identity (openid,
    /// unionid, phone), credits, messages owed, idempotency keys and
    /// sessions are deleted. Idempotent: a second call finds no account.
    pub async fn delete_resident(
        self,
        id: ResidentId,
        now: DateTime<Utc>,
    ) -> Result<AccountDeletion, StoreError> {
        let txn = self.begin_write().await?;
        let mut done = AccountDeletion::default();
        if resident::Entity::find_by_id(id.as_uuid())
            .one(&txn)
            .await?
            .is_none()
        {
            txn.rollback().await?;
            return Ok(done);
        }
        done.existed = true;
        let cases = case::Entity::find()
            .filter(case::Column::ResidentId.eq(id.as_uuid()))
            .all(&txn)
            .await?;
        let ctx = Context {
            actor: Actor::System,
            request_id: None,
            now,
        };
        for case in &cases {
            let service = Service::parse(&case.service).ok_or_else(|| {
                StoreError::Conflict(format!("unknown service `{}`", case.service))
            })?;
            let status = CaseStatus::parse(service, &case.status)
                .map_err(|e| StoreError::Conflict(e.to_string()))?;
            if sansuo_domain::retention::on_account_deletion(status) == OnAccountDeletion::Withdraw
            {
                match service {
                    Service::Consultation => {
                        crate::consultations::withdraw_in(
                            &txn,
                            case,
                            Some(WITHDRAWN_ON_DELETION),
                            ctx,
                        )
                        .await?
                    }
                    Service::Mediation => {
                        crate::mediations::withdraw_in(&txn, case, Some(WITHDRAWN_ON_DELETION), ctx)
                            .await?
                    }
                    Service::Tip => {}
                }
                done.withdrawn += 1;
            }
        }
        let ids: Vec<Uuid> = cases.iter().map(|c| c.id).collect();
        for chunk in ids.chunks(BATCH as usize) {
            erase_cases(&txn, chunk, Parties::Applicants, now).await?;
        }
        done.anonymised = ids.len() as u64;
        // Rows of theirs outside their cases.
        mediation_session::Entity::update_many()
            .col_expr(
                mediation_session::Column::AttendanceResidentId,
                Expr::value(Option::<Uuid>::None),
            )
            .filter(mediation_session::Column::AttendanceResidentId.eq(id.as_uuid()))
            .exec(&txn)
            .await?;
        case_message::Entity::update_many()
            .col_expr(case_message::Column::AuthorId, Expr::value(Uuid::nil()))
            .filter(case_message::Column::AuthorKind.eq("resident"))
            .filter(case_message::Column::AuthorId.eq(id.as_uuid()))
            .exec(&txn)
            .await?;
        notification::Entity::delete_many()
            .filter(notification::Column::ResidentId.eq(id.as_uuid()))
            .exec(&txn)
            .await?;
        subscription_credit::Entity::delete_many()
            .filter(subscription_credit::Column::ResidentId.eq(id.as_uuid()))
            .exec(&txn)
            .await?;
        idempotency_key::Entity::delete_many()
            .filter(idempotency_key::Column::ResidentId.eq(id.as_uuid()))
            .exec(&txn)
            .await?;
        refresh_token::Entity::delete_many()
            .filter(refresh_token::Column::SubjectKind.eq("resident"))
            .filter(refresh_token::Column::SubjectId.eq(id.as_uuid()))
            .exec(&txn)
            .await?;
        resident::Entity::delete_by_id(id.as_uuid())
            .exec(&txn)
            .await?;
        // Every instance refuses the account's tokens from the deletion's
        // next read (`Store::resident_session`).
        resident_deletion::Entity::insert(resident_deletion::ActiveModel {
            resident_id: Set(id.as_uuid()),
            deleted_at: Set(now),
        })
        .exec_without_returning(&txn)
        .await?;
        self.commit_work(txn).await?;
        self.reference().note_deleted_resident(id.as_uuid()).await;
        Ok(done)
    }

    /// Enforce the retention periods at `now` (`cutoffs` from
    /// `RetentionPolicy::cutoffs`), in one transaction; a dry run rolls it
    /// back and reports what it would have done.
    pub async fn purge(
        self,
        now: DateTime<Utc>,
        cutoffs: &Cutoffs,
        dry_run: bool,
    ) -> Result<PurgeReport, StoreError> {
        let txn = self.begin_write().await?;
        let mut report = PurgeReport {
            dry_run,
            ..PurgeReport::default()
        };
        // Whole cases first: what is purged need not be anonymised.
        loop {
            let ids = closed_before(&txn, cutoffs.case, false).await?;
            purge_cases(&txn, &ids, now, &mut report).await?;
            if (ids.len() as u64) < BATCH {
                break;
            }
        }
        loop {
            let ids = closed_before(&txn, cutoffs.case_personal_data, true).await?;
            erase_cases(&txn, &ids, Parties::All, now).await?;
            report.anonymised_cases += ids.len() as u64;
            if (ids.len() as u64) < BATCH {
                break;
            }
        }
        // Photos of tips closed long enough ago.
        loop {
            let closed: Vec<Uuid> = case::Entity::find()
                .select_only()
                .column(case::Column::Id)
                .filter(case::Column::ClosedAt.is_not_null())
                .filter(case::Column::ClosedAt.lte(cutoffs.photos))
                .filter(
                    case::Column::Id.in_subquery(
                        sea_orm::sea_query::Query::select()
                            .column(tip_photo::Column::CaseId)
                            .from(tip_photo::Entity)
                            .to_owned(),
                    ),
                )
                .limit(BATCH)
                .into_tuple()
                .all(&txn)
                .await?;
            let photos = tip_photo::Entity::find()
                .filter(tip_photo::Column::CaseId.is_in(closed.iter().copied()))
                .all(&txn)
                .await?;
            purge_photos(&txn, photos, &mut report).await?;
            if (closed.len() as u64) < BATCH {
                break;
            }
        }
        report.notifications += notification::Entity::delete_many()
            .filter(notification::Column::Status.is_in(DONE_NOTIFICATIONS))
            .filter(notification::Column::UpdatedAt.lte(cutoffs.notifications))
            .exec(&txn)
            .await?
            .rows_affected;
        report.notifications += staff_notification::Entity::delete_many()
            .filter(staff_notification::Column::Status.is_in(DONE_NOTIFICATIONS))
            .filter(staff_notification::Column::UpdatedAt.lte(cutoffs.notifications))
            .exec(&txn)
            .await?
            .rows_affected;
        report.outbox += outbox::Entity::delete_many()
            .filter(outbox::Column::PublishedAt.is_not_null())
            .filter(outbox::Column::PublishedAt.lte(cutoffs.outbox))
            .exec(&txn)
            .await?
            .rows_affected;
        report.content_flags += content_flag::Entity::delete_many()
            .filter(content_flag::Column::DecidedAt.is_not_null())
            .filter(content_flag::Column::DecidedAt.lte(cutoffs.content_flags))
            .exec(&txn)
            .await?
            .rows_affected;
        // Deletions no token can outlive any more: only tokens are checked
        // against them, so they are not counted as personal data purged.
        resident_deletion::Entity::delete_many()
            .filter(resident_deletion::Column::DeletedAt.lte(now - DELETIONS_KEPT))
            .exec(&txn)
            .await?;
        report.sessions += refresh_token::Entity::delete_many()
            .filter(refresh_token::Column::ExpiresAt.lte(cutoffs.sessions))
            .exec(&txn)
            .await?
            .rows_affected;
        report.media_checks += media_check::Entity::delete_many()
            .filter(media_check::Column::Status.ne("pending"))
            .filter(media_check::Column::CreatedAt.lte(cutoffs.media_checks))
            .exec(&txn)
            .await?
            .rows_affected;
        report.data_views += personal_data_view::Entity::delete_many()
            .filter(personal_data_view::Column::ViewedAt.lte(cutoffs.data_views))
            .exec(&txn)
            .await?
            .rows_affected;
        if dry_run {
            txn.rollback().await?;
        } else {
            self.commit_work(txn).await?;
        }
        Ok(report)
    }

    /// When a case was purged by retention, if it was
    /// (`case_event_purges`): `sansuo verify --case` says so.
    pub async fn purged_at(self, id: Uuid) -> Result<Option<DateTime<Utc>>, StoreError> {
        let db = self.db();
        let row = db
            .query_one_raw(statement(
                db.get_database_backend(),
                "SELECT purged_at FROM case_event_purges WHERE case_id = $1",
                vec![id.into()],
            ))
            .await?;
        Ok(match row {
            Some(row) => Some(row.try_get("", "purged_at")?),
            None => None,
        })
    }

    /// How many cases were purged by retention (`case_event_purges`).
    pub async fn purged_count(self) -> Result<u64, StoreError> {
        let db = self.db();
        let row = db
            .query_one_raw(statement(
                db.get_database_backend(),
                "SELECT COUNT(*) AS n FROM case_event_purges",
                vec![],
            ))
            .await?;
        let n: i64 = match row {
            Some(row) => row.try_get("", "n")?,
            None => 0,
        };
        Ok(n as u64)
    }
}
