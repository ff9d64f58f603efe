//! The organisation tree, law firms, signings and the category tree.

use crate::entity::{category, firm_signing, law_firm, lawyer_signing, org_unit, staff};
use crate::records::{self, CategoryRecord, OrgUnitRecord, QrCodeRecord};
use crate::{Store, StoreError};
use chrono::{DateTime, Utc};
use sansuo_domain::org::UnitKind;
use sansuo_domain::{OrgUnitId, StaffId};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

/// Kinds of organisation unit (BRIEF §2); the list helper. Both live with
/// the other column spellings in `rows` and are re-exported from here.
pub use crate::rows::{kind, split_list};

pub struct NewOrgUnit<'a> {
    pub kind: &'a str,
    pub parent: Option<OrgUnitId>,
    pub station: Option<OrgUnitId>,
    pub name: &'a str,
    pub scene: Option<&'a str>,
    pub address: Option<&'a str>,
    pub office_hours: Option<&'a str>,
    pub services: &'a [&'a str],
}

/// The public card a resident sees after scanning a community's QR code.
#[derive(Debug, Clone)]
pub struct CommunityCard {
    pub id: OrgUnitId,
    pub name: String,
    pub scene: String,
    pub street: Option<String>,
    pub police_station: Option<String>,
    pub signed_lawyer: Option<LawyerCard>,
    pub services: Vec<String>,
    pub office_hours: Option<String>,
    pub address: Option<String>,
}

#[derive(Debug, Clone)]
pub struct LawyerCard {
    pub display_name: String,
    pub firm: Option<String>,
}

/// The organisation tree, law firms, communities and their QR codes.
///
/// Reached as `store.org()`; see [`Store`].
#[derive(Clone, Copy)]
pub struct Org<'a>(pub(crate) &'a Store);

impl std::ops::Deref for Org<'_> {
    type Target = Store;
    fn deref(&self) -> &Store {
        self.0
    }
}

impl Store {
    /// The organisation tree, law firms, communities and their QR codes.
    pub fn org(&self) -> Org<'_> {
        Org(self)
    }
}

impl Org<'_> {
    pub async fn insert_unit(
        self,
        unit: NewOrgUnit<'_>,
        now: DateTime<Utc>,
    ) -> Result<OrgUnitId, StoreError> {
        let id = OrgUnitId::new();
        org_unit::Entity::insert(org_unit::ActiveModel {
            id: Set(id.as_uuid()),
            kind: Set(unit.kind.to_owned()),
            parent_id: Set(unit.parent.map(Into::into)),
            station_id: Set(unit.station.map(Into::into)),
            name: Set(unit.name.to_owned()),
            scene: Set(unit.scene.map(str::to_owned)),
            address: Set(unit.address.map(str::to_owned)),
            office_hours: Set(unit.office_hours.map(str::to_owned)),
            services: Set(unit.services.join(",")),
            created_at: Set(now),
        })
        .exec_without_returning(self.db())
        .await?;
        self.reference().clear();
        Ok(id)
    }

    /// The district unit with this exact name, if there is one.
    pub async fn district_named(self, name: &str) -> Result<Option<OrgUnitId>, StoreError> {
        Ok(org_unit::Entity::find()
            .filter(org_unit::Column::Kind.eq(kind::DISTRICT))
            .filter(org_unit::Column::Name.eq(name))
            .one(self.db())
            .await?
            .map(|unit| unit.id.into()))
    }

    pub async fn insert_law_firm(self, name: &str, now: DateTime<Utc>) -> Result<Uuid, StoreError> {
        let id = Uuid::now_v7();
        law_firm::Entity::insert(law_firm::ActiveModel {
            id: Set(id),
            name: Set(name.to_owned()),
            created_at: Set(now),
        })
        .exec_without_returning(self.db())
        .await?;
        Ok(id)
    }

    /// The firm's lawyers form the consultation pool of `unit` (a street or district).
    pub async fn sign_firm(self, firm_id: Uuid, unit: OrgUnitId) -> Result<(), StoreError> {
        firm_signing::Entity::insert(firm_signing::ActiveModel {
            firm_id: Set(firm_id),
            org_unit_id: Set(unit.as_uuid()),
        })
        .on_conflict_do_nothing()
        .exec_without_returning(self.db())
        .await?;
        Ok(())
    }

    /// Make `lawyer` the signed lawyer of `community`, replacing any other.
    pub async fn sign_lawyer(
        self,
        community: OrgUnitId,
        lawyer: StaffId,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        lawyer_signing::Entity::insert(lawyer_signing::ActiveModel {
            community_id: Set(community.as_uuid()),
            staff_id: Set(lawyer.as_uuid()),
            created_at: Set(now),
        })
        .on_conflict(
            OnConflict::column(lawyer_signing::Column::CommunityId)
                .update_columns([
                    lawyer_signing::Column::StaffId,
                    lawyer_signing::Column::CreatedAt,
                ])
                .to_owned(),
        )
        .exec_without_returning(self.db())
        .await?;
        Ok(())
    }

    pub async fn unit(self, id: OrgUnitId) -> Result<Option<OrgUnitRecord>, StoreError> {
        Ok(org_unit::Entity::find_by_id(id.as_uuid())
            .one(self.db())
            .await?
            .map(OrgUnitRecord::try_from)
            .transpose()?)
    }

    pub async fn community(self, id: OrgUnitId) -> Result<Option<OrgUnitRecord>, StoreError> {
        Ok(self
            .unit(id)
            .await?
            .filter(|unit| unit.kind == UnitKind::Community))
    }

    pub async fn community_by_scene(
        self,
        scene: &str,
    ) -> Result<Option<CommunityCard>, StoreError> {
        let Some(community) = org_unit::Entity::find()
            .filter(org_unit::Column::Scene.eq(scene))
            .filter(org_unit::Column::Kind.eq(kind::COMMUNITY))
            .one(self.db())
            .await?
        else {
            return Ok(None);
        };
        let name_of = |id: Option<Uuid>| async move {
            match id {
                Some(id) => org_unit::Entity::find_by_id(id)
                    .one(self.db())
                    .await
                    .map(|unit| unit.map(|u| u.name)),
                None => Ok(None),
            }
        };
        let street = name_of(community.parent_id).await?;
        let police_station = name_of(community.station_id).await?;
        let signed_lawyer = self.signed_lawyer_card(community.id).await?;
        Ok(Some(CommunityCard {
            id: community.id.into(),
            scene: community.scene.unwrap_or_default(),
            name: community.name,
            street,
            police_station,
            signed_lawyer,
            services: split_list(&community.services),
            office_hours: community.office_hours,
            address: community.address,
        }))
    }

    async fn signed_lawyer_card(self, community: Uuid) -> Result<Option<LawyerCard>, StoreError> {
        let Some(signing) = lawyer_signing::Entity::find_by_id(community)
            .one(self.db())
            .await?
        else {
            return Ok(None);
        };
        let Some(lawyer) = staff::Entity::find_by_id(signing.staff_id)
            .filter(staff::Column::Active.eq(true))
            .one(self.db())
            .await?
        else {
            return Ok(None);
        };
        let firm = match lawyer.law_firm_id {
            Some(id) => law_firm::Entity::find_by_id(id)
                .one(self.db())
                .await?
                .map(|f| f.name),
            None => None,
        };
        Ok(Some(LawyerCard {
            display_name: lawyer.display_name,
            firm,
        }))
    }

    /// Every unit whose staff have a say over this community: the community
    /// itself, its street and district, its police station. A staff member
    /// whose scope is one of these may act on the community's cases.
    pub async fn units_covering(self, community: OrgUnitId) -> Result<Vec<Uuid>, StoreError> {
        let mut covering = Vec::with_capacity(4);
        let mut next = Some(community.as_uuid());
        let mut station = None;
        while let Some(id) = next {
            let Some(unit) = org_unit::Entity::find_by_id(id).one(self.db()).await? else {
                break;
            };
            covering.push(unit.id);
            station = station.or(unit.station_id);
            next = unit.parent_id;
        }
        covering.extend(station);
        Ok(covering)
    }

    /// The units whose consultation pool this firm serves: the units it is
    /// signed to, and the streets of a district it is signed to.
    pub async fn pool_units_of_firm(self, firm_id: Uuid) -> Result<Vec<Uuid>, StoreError> {
        let signed: Vec<Uuid> = firm_signing::Entity::find()
            .filter(firm_signing::Column::FirmId.eq(firm_id))
            .all(self.db())
            .await?
            .into_iter()
            .map(|s| s.org_unit_id)
            .collect();
        let children: Vec<Uuid> = org_unit::Entity::find()
            .filter(org_unit::Column::ParentId.is_in(signed.clone()))
            .filter(org_unit::Column::Kind.eq(kind::STREET))
            .all(self.db())
            .await?
            .into_iter()
            .map(|u| u.id)
            .collect();
        Ok(signed.into_iter().chain(children).collect())
    }

    /// Firms whose lawyers serve `unit`: signed to it, or, for a street,
    /// to its district (a firm signed to a district serves each street).
    /// A community's own step is its signed lawyer's, not the whole pool's.
    pub async fn firms_serving(self, unit: OrgUnitId) -> Result<Vec<Uuid>, StoreError> {
        let parent = org_unit::Entity::find_by_id(unit.as_uuid())
            .one(self.db())
            .await?
            .filter(|u| u.kind == kind::STREET)
            .and_then(|u| u.parent_id);
        let units: Vec<Uuid> = std::iter::once(unit.as_uuid()).chain(parent).collect();
        Ok(firm_signing::Entity::find()
            .filter(firm_signing::Column::OrgUnitId.is_in(units))
            .all(self.db())
            .await?
            .into_iter()
            .map(|s| s.firm_id)
            .collect())
    }

    pub async fn active_categories(self) -> Result<Vec<CategoryRecord>, StoreError> {
        Ok(records::all(
            category::Entity::find()
                .filter(category::Column::Active.eq(true))
                .order_by_asc(category::Column::SortOrder)
                .all(self.db())
                .await?,
        )?)
    }

    pub async fn category(self, code: &str) -> Result<Option<CategoryRecord>, StoreError> {
        Ok(category::Entity::find_by_id(code.to_owned())
            .filter(category::Column::Active.eq(true))
            .one(self.db())
            .await?
            .map(CategoryRecord::try_from)
            .transpose()?)
    }
}

impl Org<'_> {
    pub async fn qr_code(self, unit: OrgUnitId) -> Result<Option<QrCodeRecord>, StoreError> {
        Ok(crate::entity::qr_code::Entity::find_by_id(unit.as_uuid())
            .one(self.db())
            .await?
            .map(Into::into))
    }

    /// Keep (or replace) the generated QR code of a unit.
    pub async fn save_qr_code(
        self,
        unit: OrgUnitId,
        scene: &str,
        png: Vec<u8>,
        source: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        use crate::entity::qr_code;
        qr_code::Entity::insert(qr_code::ActiveModel {
            org_unit_id: Set(unit.as_uuid()),
            scene: Set(scene.to_owned()),
            png: Set(png),
            source: Set(source.to_owned()),
            created_at: Set(now),
        })
        .on_conflict(
            OnConflict::column(qr_code::Column::OrgUnitId)
                .update_columns([
                    qr_code::Column::Scene,
                    qr_code::Column::Png,
                    qr_code::Column::Source,
                    qr_code::Column::CreatedAt,
                ])
                .to_owned(),
        )
        .exec_without_returning(self.db())
        .await?;
        Ok(())
    }
}
