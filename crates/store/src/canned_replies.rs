//! 常用回复: a staff member's own reply texts and the shared ones a unit's
//! coordinators keep for the staff of that unit and below. A row belongs to
//! exactly one keeper (its owner or its unit), written here and nowhere
//! else; the limits (`domain::canned_reply`) are counted in the same
//! transaction as the insert.

use crate::entity::{canned_reply, org_unit, staff};
use crate::{Store, StoreError};
use chrono::{DateTime, Utc};
use sansuo_domain::canned_reply::{CannedTitle, room_for_one};
use sansuo_domain::catalog::Service;
use sansuo_domain::values::MessageBody;
use sansuo_domain::{OrgUnitId, StaffId};
use sea_orm::sea_query::Condition;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use uuid::Uuid;

/// Whose reply it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keeper {
    /// One staff member's own.
    Own(StaffId),
    /// Shared by a unit with its staff and the staff of the units below it.
    Unit(OrgUnitId),
}

/// A canned reply as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CannedReplyRecord {
    pub id: Uuid,
    pub keeper: Keeper,
    /// The one service whose threads it is for (`None`: any).
    pub service: Option<Service>,
    pub title: String,
    pub body: String,
    pub created_by: StaffId,
    pub created_at: DateTime<Utc>,
}

impl TryFrom<canned_reply::Model> for CannedReplyRecord {
    type Error = DbErr;

    fn try_from(row: canned_reply::Model) -> Result<Self, DbErr> {
        let keeper = match (row.owner_staff_id, row.org_unit_id) {
            (Some(staff), None) => Keeper::Own(staff.into()),
            (None, Some(unit)) => Keeper::Unit(unit.into()),
            _ => {
                return Err(DbErr::Custom(format!(
                    "canned reply {} has not exactly one keeper",
                    row.id
                )));
            }
        };
        let service = row
            .service
            .map(|s| s.parse::<Service>().map_err(DbErr::Custom))
            .transpose()?;
        Ok(CannedReplyRecord {
            id: row.id,
            keeper,
            service,
            title: row.title,
            body: row.body,
            created_by: row.created_by.into(),
            created_at: row.created_at,
        })
    }
}

/// What a new reply says.
pub struct NewCannedReply<'a> {
    pub keeper: Keeper,
    pub service: Option<Service>,
    pub title: &'a CannedTitle,
    pub body: &'a MessageBody,
    pub created_by: StaffId,
}

/// 常用回复.
///
/// Reached as `store.canned_replies()`; see [`Store`].
#[derive(Clone, Copy)]
pub struct CannedReplies<'a>(pub(crate) &'a Store);

impl std::ops::Deref for CannedReplies<'_> {
    type Target = Store;
    fn deref(&self) -> &Store {
        self.0
    }
}

impl Store {
    pub fn canned_replies(&self) -> CannedReplies<'_> {
        CannedReplies(self)
    }
}

impl CannedReplies<'_> {
    /// `staff`'s own replies, then the shared ones of `units` (in the order
    /// given), newest first within each; for `service` only those for it
    /// or for any service. At most `limit`.
    pub async fn visible(
        self,
        staff: StaffId,
        units: &[OrgUnitId],
        service: Option<Service>,
        limit: u64,
    ) -> Result<Vec<CannedReplyRecord>, StoreError> {
        let unit_ids: Vec<Uuid> = units.iter().map(|u| u.as_uuid()).collect();
        let mut query = canned_reply::Entity::find().filter(
            Condition::any()
                .add(canned_reply::Column::OwnerStaffId.eq(staff.as_uuid()))
                .add(canned_reply::Column::OrgUnitId.is_in(unit_ids.clone())),
        );
        if let Some(service) = service {
            query = query.filter(
                Condition::any()
                    .add(canned_reply::Column::Service.is_null())
                    .add(canned_reply::Column::Service.eq(service.as_str())),
            );
        }
        let rows = query
            .order_by_desc(canned_reply::Column::CreatedAt)
            .order_by_desc(canned_reply::Column::Id)
            .all(self.db())
            .await?;
        // Own first, then the nearest unit's: the order of `units`.
        let rank = |row: &canned_reply::Model| match row.org_unit_id {
            None => 0,
            Some(unit) => {
                1 + unit_ids
                    .iter()
                    .position(|u| *u == unit)
                    .unwrap_or(unit_ids.len())
            }
        };
        let mut rows = rows;
        rows.sort_by_key(rank);
        rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        Ok(crate::records::all(rows)?)
    }

    pub async fn get(self, id: Uuid) -> Result<Option<CannedReplyRecord>, StoreError> {
        canned_reply::Entity::find_by_id(id)
            .one(self.db())
            .await?
            .map(CannedReplyRecord::try_from)
            .transpose()
            .map_err(Into::into)
    }

    /// Store a new reply, unless its keeper already holds `max`
    /// (`Ok(None)`: refused, nothing written).
    pub async fn add(
        self,
        new: NewCannedReply<'_>,
        max: u64,
        now: DateTime<Utc>,
    ) -> Result<Option<CannedReplyRecord>, StoreError> {
        let (owner, unit) = match new.keeper {
            Keeper::Own(staff) => (Some(staff.as_uuid()), None),
            Keeper::Unit(unit) => (None, Some(unit.as_uuid())),
        };
        let txn = self.begin_write().await?;
        // The keeper's row is the lock (PostgreSQL; SQLite has one writer at
        // a time): two adds at once cannot both count 99 and end at 101.
        match new.keeper {
            Keeper::Own(staff) => {
                staff::Entity::find_by_id(staff.as_uuid())
                    .lock_exclusive()
                    .one(&txn)
                    .await?;
            }
            Keeper::Unit(unit) => {
                org_unit::Entity::find_by_id(unit.as_uuid())
                    .lock_exclusive()
                    .one(&txn)
                    .await?;
            }
        }
        let held = canned_reply::Entity::find()
            .filter(match new.keeper {
                Keeper::Own(staff) => canned_reply::Column::OwnerStaffId.eq(staff.as_uuid()),
                Keeper::Unit(unit) => canned_reply::Column::OrgUnitId.eq(unit.as_uuid()),
            })
            .select_only()
            .column(canned_reply::Column::Id)
            .count(&txn)
            .await?;
        if !room_for_one(held, max) {
            return Ok(None);
        }
        let row = canned_reply::Model {
            id: Uuid::now_v7(),
            owner_staff_id: owner,
            org_unit_id: unit,
            service: new.service.map(|s| s.as_str().to_owned()),
            title: new.title.as_str().to_owned(),
            body: new.body.as_str().to_owned(),
            created_by: new.created_by.as_uuid(),
            created_at: now,
        };
        canned_reply::Entity::insert(canned_reply::ActiveModel {
            id: Set(row.id),
            owner_staff_id: Set(row.owner_staff_id),
            org_unit_id: Set(row.org_unit_id),
            service: Set(row.service.clone()),
            title: Set(row.title.clone()),
            body: Set(row.body.clone()),
            created_by: Set(row.created_by),
            created_at: Set(row.created_at),
        })
        .exec_without_returning(&txn)
        .await?;
        self.commit_work(txn).await?;
        Ok(Some(row.try_into()?))
    }

    /// Remove reply `id` if `keeper` keeps it; whether one was removed.
    pub async fn delete(self, id: Uuid, keeper: Keeper) -> Result<bool, StoreError> {
        let kept_by = match keeper {
            Keeper::Own(staff) => canned_reply::Column::OwnerStaffId.eq(staff.as_uuid()),
            Keeper::Unit(unit) => canned_reply::Column::OrgUnitId.eq(unit.as_uuid()),
        };
        let gone = canned_reply::Entity::delete_many()
            .filter(canned_reply::Column::Id.eq(id))
            .filter(kept_by)
            .exec(self.db())
            .await?;
        Ok(gone.rows_affected > 0)
    }
}
