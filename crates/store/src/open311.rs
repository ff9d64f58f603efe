//! Open311 GeoReport v2 over tips: the client keys administrators issue
//! (only their SHA-256 is stored), the communities a request may name, and
//! the public reading of tips — only of categories marked `open311_public`,
//! and never more than the public fields (the API layer picks them).

use crate::entity::{case, open311_key, org_unit, tip};
use crate::records::{self, CaseRecord, Open311KeyRecord, OrgUnitRecord};
use crate::rows::kind;
use crate::tips::{SERVICE, channel};
use crate::{Store, StoreError};
use chrono::{DateTime, Utc};
use sansuo_domain::StaffId;
use sansuo_domain::catalog::Service;
use sansuo_domain::tip::TipStatus;
use sansuo_domain::work_order::CaseStatus;
use sea_orm::sea_query::{Expr, Query};
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

/// Which tips a public Open311 read asks for. The caller has already
/// narrowed `categories` to public ones; an empty list finds nothing.
#[derive(Debug, Clone)]
pub struct PublicTipFilter {
    /// `service_request_id=...`: these tips, and no other condition but
    /// the categories (the specification: the ids override the rest).
    pub ids: Option<Vec<Uuid>>,
    pub categories: Vec<String>,
    /// Tip statuses (`cases.status`); empty means any.
    pub statuses: Vec<String>,
    /// `requested_datetime` window, both bounds inclusive.
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub offset: u64,
    pub limit: u64,
}

/// A tip as the public reading sees it: the case, the exact point (the
/// API coarsens it) and the name of the community's police station.
#[derive(Debug, Clone)]
pub struct PublicTipRow {
    pub case: CaseRecord,
    /// The case's status: a tip's case holds only a tip status.
    pub status: TipStatus,
    pub lat: Option<f64>,
    pub lng: Option<f64>,
    pub police_station: Option<String>,
}

/// Open311 client keys and the public tip reading.
///
/// Reached as `store.open311()`; see [`Store`].
#[derive(Clone, Copy)]
pub struct Open311<'a>(pub(crate) &'a Store);

impl std::ops::Deref for Open311<'_> {
    type Target = Store;
    fn deref(&self) -> &Store {
        self.0
    }
}

impl Store {
    /// Open311 client keys and the public tip reading.
    pub fn open311(&self) -> Open311<'_> {
        Open311(self)
    }
}

impl Open311<'_> {
    /// Record a new client key by its hash; the key itself is never stored.
    pub async fn issue_key(
        self,
        name: &str,
        key_hash: &str,
        created_by: StaffId,
        now: DateTime<Utc>,
    ) -> Result<Open311KeyRecord, StoreError> {
        let row = open311_key::Model {
            id: Uuid::now_v7(),
            name: name.to_owned(),
            key_hash: key_hash.to_owned(),
            created_by: created_by.as_uuid(),
            created_at: now,
            revoked_at: None,
        };
        open311_key::Entity::insert(open311_key::ActiveModel {
            id: Set(row.id),
            name: Set(row.name.clone()),
            key_hash: Set(row.key_hash.clone()),
            created_by: Set(row.created_by),
            created_at: Set(row.created_at),
            revoked_at: Set(None),
        })
        .exec_without_returning(self.db())
        .await?;
        Ok(row.into())
    }

    /// Every key ever issued, oldest first, revoked ones included.
    pub async fn keys(self) -> Result<Vec<Open311KeyRecord>, StoreError> {
        Ok(open311_key::Entity::find()
            .order_by_asc(open311_key::Column::CreatedAt)
            .order_by_asc(open311_key::Column::Id)
            .all(self.db())
            .await?
            .into_iter()
            .map(Into::into)
            .collect())
    }

    /// Revoke a key (revoking it again keeps the first time). `false` when
    /// there is no such key.
    pub async fn revoke_key(self, id: Uuid, now: DateTime<Utc>) -> Result<bool, StoreError> {
        if open311_key::Entity::find_by_id(id)
            .one(self.db())
            .await?
            .is_none()
        {
            return Ok(false);
        }
        open311_key::Entity::update_many()
            .col_expr(open311_key::Column::RevokedAt, Expr::value(now))
            .filter(open311_key::Column::Id.eq(id))
            .filter(open311_key::Column::RevokedAt.is_null())
            .exec(self.db())
            .await?;
        Ok(true)
    }

    /// The key with this hash, unless it was revoked.
    pub async fn active_key(self, key_hash: &str) -> Result<Option<Open311KeyRecord>, StoreError> {
        Ok(open311_key::Entity::find()
            .filter(open311_key::Column::KeyHash.eq(key_hash))
            .filter(open311_key::Column::RevokedAt.is_null())
            .one(self.db())
            .await?
            .map(Into::into))
    }

    /// The communities that take tips and have a QR scene (the key Open311
    /// clients name them by), by name.
    pub async fn tip_communities(self) -> Result<Vec<OrgUnitRecord>, StoreError> {
        let units: Vec<OrgUnitRecord> = records::all(
            org_unit::Entity::find()
                .filter(org_unit::Column::Kind.eq(kind::COMMUNITY))
                .filter(org_unit::Column::Scene.is_not_null())
                .order_by_asc(org_unit::Column::Name)
                .order_by_asc(org_unit::Column::Id)
                .all(self.db())
                .await?,
        )?;
        Ok(units
            .into_iter()
            .filter(|unit| unit.offers(Service::Tip))
            .collect())
    }

    /// Tips for the public reading, newest first. Tips opened from a
    /// mediation (a private dispute) are never among them.
    pub async fn tips(self, filter: &PublicTipFilter) -> Result<Vec<PublicTipRow>, StoreError> {
        if filter.categories.is_empty() || filter.ids.as_ref().is_some_and(Vec::is_empty) {
            return Ok(Vec::new());
        }
        let not_from_mediation = Query::select()
            .column(tip::Column::CaseId)
            .from(tip::Entity)
            .and_where(tip::Column::Channel.ne(channel::MEDIATION))
            .to_owned();
        let mut query = case::Entity::find()
            .filter(case::Column::Service.eq(SERVICE))
            .filter(case::Column::CategoryCode.is_in(filter.categories.clone()))
            .filter(case::Column::Id.in_subquery(not_from_mediation));
        match &filter.ids {
            Some(ids) => query = query.filter(case::Column::Id.is_in(ids.clone())),
            None => {
                query = query
                    .filter(case::Column::CreatedAt.gte(filter.from))
                    .filter(case::Column::CreatedAt.lte(filter.to));
                if !filter.statuses.is_empty() {
                    query = query.filter(case::Column::Status.is_in(filter.statuses.clone()));
                }
            }
        }
        let cases = query
            .order_by_desc(case::Column::CreatedAt)
            .order_by_desc(case::Column::Id)
            .offset(filter.offset)
            .limit(filter.limit)
            .all(self.db())
            .await?;
        if cases.is_empty() {
            return Ok(Vec::new());
        }
        let details = tip::Entity::find()
            .filter(tip::Column::CaseId.is_in(cases.iter().map(|c| c.id)))
            .all(self.db())
            .await?;
        let communities = org_unit::Entity::find()
            .filter(org_unit::Column::Id.is_in(cases.iter().map(|c| c.community_id)))
            .all(self.db())
            .await?;
        let stations = org_unit::Entity::find()
            .filter(org_unit::Column::Id.is_in(communities.iter().filter_map(|c| c.station_id)))
            .all(self.db())
            .await?;
        cases
            .into_iter()
            .map(|case| {
                let case = CaseRecord::try_from(case)?;
                let CaseStatus::Tip(status) = case.status else {
                    return Err(StoreError::Conflict(format!(
                        "case {} of the tips service holds a {} status",
                        case.id,
                        case.status.service()
                    )));
                };
                let detail = details.iter().find(|d| d.case_id == case.id);
                let police_station = communities
                    .iter()
                    .find(|c| c.id == case.community_id)
                    .and_then(|c| c.station_id)
                    .and_then(|station| stations.iter().find(|s| s.id == station))
                    .map(|s| s.name.clone());
                Ok(PublicTipRow {
                    lat: detail.and_then(|d| d.lat),
                    lng: detail.and_then(|d| d.lng),
                    police_station,
                    status,
                    case,
                })
            })
            .collect()
    }

    /// Whether `id` is a tip filed through Open311 (whatever its category).
    pub async fn filed_through(self, id: Uuid) -> Result<bool, StoreError> {
        Ok(tip::Entity::find_by_id(id)
            .filter(tip::Column::Channel.eq(channel::OPEN311))
            .one(self.db())
            .await?
            .is_some())
    }
}
