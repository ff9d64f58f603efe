//! The organisation tree, law firms, signings and the category tree.

use crate::entity::{
    case, category, firm_signing, law_firm, lawyer_signing, mediation_room, mediation_session,
    org_unit, staff,
};
use crate::records::{
    self, CategoryRecord, LawFirmRecord, LawyerSigningRecord, OrgUnitRecord, QrCodeRecord,
};
use crate::{Store, StoreError};
use chrono::{DateTime, Utc};
use sansuo_domain::org::UnitKind;
use sansuo_domain::work_order::FINISHED_STATUSES;
use sansuo_domain::{OrgUnitId, StaffId};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder,
};
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

/// A change to a unit: each `Some` replaces the value (`Some(None)`
/// clears an optional one), each `None` leaves it.
#[derive(Debug, Default)]
pub struct UnitEdit<'a> {
    pub name: Option<&'a str>,
    pub address: Option<Option<&'a str>>,
    pub office_hours: Option<Option<&'a str>>,
    pub services: Option<&'a [&'a str]>,
    /// A community's police station.
    pub station: Option<OrgUnitId>,
}

/// Why a unit (or room) cannot be deactivated: the open work it still
/// holds, which deactivating would orphan. Nothing is moved silently; the
/// caller moves or finishes it first.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct InUse {
    /// Active units directly under it.
    pub active_children: u64,
    /// Active staff accounts whose home unit it is.
    pub active_staff: u64,
    /// Active communities whose police station it is.
    pub served_communities: u64,
    /// Cases of the community not yet finished.
    pub open_cases: u64,
    /// Mediation sessions booked ahead in its rooms (or in the room).
    pub booked_sessions: u64,
}

impl InUse {
    pub fn is_free(&self) -> bool {
        *self == InUse::default()
    }

    /// For the administrator: what to move or finish first.
    pub fn describe(&self) -> String {
        let parts = [
            (self.active_children, "active units under it"),
            (self.active_staff, "active staff accounts at home there"),
            (self.served_communities, "active communities it polices"),
            (self.open_cases, "open cases"),
            (self.booked_sessions, "mediation sessions booked ahead"),
        ];
        let held: Vec<String> = parts
            .iter()
            .filter(|(n, _)| *n > 0)
            .map(|(n, what)| format!("{n} {what}"))
            .collect();
        format!(
            "still in use: {}; move, deactivate or finish them first",
            held.join(", ")
        )
    }
}

/// Sessions booked ahead in these rooms (scheduled, not yet over).
pub(crate) async fn booked_sessions<C: ConnectionTrait>(
    conn: &C,
    rooms: Vec<Uuid>,
    now: DateTime<Utc>,
) -> Result<u64, StoreError> {
    if rooms.is_empty() {
        return Ok(0);
    }
    // `mediations::session_status::SCHEDULED` (org sits below the services).
    Ok(mediation_session::Entity::find()
        .filter(mediation_session::Column::RoomId.is_in(rooms))
        .filter(mediation_session::Column::Status.eq("scheduled"))
        .filter(mediation_session::Column::EndsAt.gt(now))
        .count(conn)
        .await?)
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
            active: Set(true),
            case_number_pattern: Set(None),
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

    /// An active community (a deactivated one takes no new work). Every
    /// submission asks, so the unit is kept per instance like the other
    /// reference data (`cache`): an edit through this instance is seen at
    /// once, through another within its time to live.
    pub async fn community(self, id: OrgUnitId) -> Result<Option<OrgUnitRecord>, StoreError> {
        let unit = match self.reference().unit(id.as_uuid()) {
            Some(unit) => Some(unit),
            None => {
                let unit = self.unit(id).await?;
                if let Some(unit) = &unit {
                    self.reference().put_unit(unit);
                }
                unit
            }
        };
        Ok(unit.filter(|unit| unit.kind == UnitKind::Community && unit.active))
    }

    /// Whether any community, active or not, has this QR scene.
    pub async fn scene_taken(self, scene: &str) -> Result<bool, StoreError> {
        Ok(org_unit::Entity::find()
            .filter(org_unit::Column::Scene.eq(scene))
            .count(self.db())
            .await?
            > 0)
    }

    pub async fn edit_unit(self, id: OrgUnitId, edit: UnitEdit<'_>) -> Result<(), StoreError> {
        use org_unit::Column;
        let mut update = org_unit::Entity::update_many().filter(Column::Id.eq(id.as_uuid()));
        let mut changed = false;
        if let Some(name) = edit.name {
            update = update.col_expr(Column::Name, Expr::value(name));
            changed = true;
        }
        if let Some(address) = edit.address {
            update = update.col_expr(Column::Address, Expr::value(address.map(str::to_owned)));
            changed = true;
        }
        if let Some(hours) = edit.office_hours {
            update = update.col_expr(Column::OfficeHours, Expr::value(hours.map(str::to_owned)));
            changed = true;
        }
        if let Some(services) = edit.services {
            update = update.col_expr(Column::Services, Expr::value(services.join(",")));
            changed = true;
        }
        if let Some(station) = edit.station {
            update = update.col_expr(Column::StationId, Expr::value(station.as_uuid()));
            changed = true;
        }
        if changed {
            update.exec(self.db()).await?;
            self.reference().clear();
        }
        Ok(())
    }

    /// Deactivate a unit, with its rooms, unless open work would be
    /// orphaned: active units under it, active staff at home there, active
    /// communities it polices, the community's open cases, sessions booked
    /// ahead in its rooms. Then nothing changes and the answer says what
    /// holds it ([`InUse::is_free`] false). Duty shifts, signings and
    /// memberships stay: they name inactive people or a unit that takes no
    /// work, and come back with a reactivation.
    pub async fn deactivate_unit(
        self,
        id: OrgUnitId,
        now: DateTime<Utc>,
    ) -> Result<InUse, StoreError> {
        let uid = id.as_uuid();
        let txn = self.begin_write().await?;
        let rooms: Vec<Uuid> = mediation_room::Entity::find()
            .filter(mediation_room::Column::OrgUnitId.eq(uid))
            .all(&txn)
            .await?
            .into_iter()
            .map(|r| r.id)
            .collect();
        let in_use = InUse {
            active_children: org_unit::Entity::find()
                .filter(org_unit::Column::ParentId.eq(uid))
                .filter(org_unit::Column::Active.eq(true))
                .count(&txn)
                .await?,
            active_staff: staff::Entity::find()
                .filter(staff::Column::OrgUnitId.eq(uid))
                .filter(staff::Column::Active.eq(true))
                .count(&txn)
                .await?,
            served_communities: org_unit::Entity::find()
                .filter(org_unit::Column::StationId.eq(uid))
                .filter(org_unit::Column::Active.eq(true))
                .count(&txn)
                .await?,
            open_cases: case::Entity::find()
                .filter(case::Column::CommunityId.eq(uid))
                .filter(case::Column::Status.is_not_in(FINISHED_STATUSES))
                .count(&txn)
                .await?,
            booked_sessions: booked_sessions(&txn, rooms, now).await?,
        };
        if !in_use.is_free() {
            txn.rollback().await?;
            return Ok(in_use);
        }
        org_unit::Entity::update_many()
            .col_expr(org_unit::Column::Active, Expr::value(false))
            .filter(org_unit::Column::Id.eq(uid))
            .exec(&txn)
            .await?;
        mediation_room::Entity::update_many()
            .col_expr(mediation_room::Column::Active, Expr::value(false))
            .filter(mediation_room::Column::OrgUnitId.eq(uid))
            .exec(&txn)
            .await?;
        self.commit_work(txn).await?;
        self.reference().clear();
        Ok(in_use)
    }

    /// Take a deactivated unit back into service (its rooms stay as they
    /// are: reactivate each on its own).
    pub async fn reactivate_unit(self, id: OrgUnitId) -> Result<(), StoreError> {
        org_unit::Entity::update_many()
            .col_expr(org_unit::Column::Active, Expr::value(true))
            .filter(org_unit::Column::Id.eq(id.as_uuid()))
            .exec(self.db())
            .await?;
        self.reference().clear();
        Ok(())
    }

    pub async fn community_by_scene(
        self,
        scene: &str,
    ) -> Result<Option<CommunityCard>, StoreError> {
        let Some(community) = org_unit::Entity::find()
            .filter(org_unit::Column::Scene.eq(scene))
            .filter(org_unit::Column::Kind.eq(kind::COMMUNITY))
            .filter(org_unit::Column::Active.eq(true))
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

    /// An active category; kept per instance like [`Org::community`].
    pub async fn category(self, code: &str) -> Result<Option<CategoryRecord>, StoreError> {
        if let Some(found) = self.reference().category(code) {
            return Ok(Some(found));
        }
        let found = category::Entity::find_by_id(code.to_owned())
            .filter(category::Column::Active.eq(true))
            .one(self.db())
            .await?
            .map(CategoryRecord::try_from)
            .transpose()?;
        if let Some(found) = &found {
            self.reference().put_category(found);
        }
        Ok(found)
    }
}

/// Law firms and signings as administrators manage them.
impl Org<'_> {
    /// A new firm signed to `unit` (a street or district) in one
    /// transaction: a firm signed nowhere would be in nobody's scope.
    pub async fn create_signed_firm(
        self,
        name: &str,
        unit: OrgUnitId,
        now: DateTime<Utc>,
    ) -> Result<LawFirmRecord, StoreError> {
        let id = Uuid::now_v7();
        let txn = self.begin_write().await?;
        law_firm::Entity::insert(law_firm::ActiveModel {
            id: Set(id),
            name: Set(name.to_owned()),
            created_at: Set(now),
        })
        .exec_without_returning(&txn)
        .await?;
        firm_signing::Entity::insert(firm_signing::ActiveModel {
            firm_id: Set(id),
            org_unit_id: Set(unit.as_uuid()),
        })
        .exec_without_returning(&txn)
        .await?;
        self.commit_work(txn).await?;
        Ok(LawFirmRecord {
            id,
            name: name.to_owned(),
            created_at: now,
            signed_units: vec![unit.as_uuid()],
        })
    }

    pub async fn law_firm(self, id: Uuid) -> Result<Option<LawFirmRecord>, StoreError> {
        let Some(firm) = law_firm::Entity::find_by_id(id).one(self.db()).await? else {
            return Ok(None);
        };
        Ok(self.with_signings(vec![firm]).await?.pop())
    }

    async fn with_signings(
        self,
        firms: Vec<law_firm::Model>,
    ) -> Result<Vec<LawFirmRecord>, StoreError> {
        let ids: Vec<Uuid> = firms.iter().map(|f| f.id).collect();
        let signings = firm_signing::Entity::find()
            .filter(firm_signing::Column::FirmId.is_in(ids))
            .all(self.db())
            .await?;
        Ok(firms
            .into_iter()
            .map(|f| LawFirmRecord {
                signed_units: signings
                    .iter()
                    .filter(|s| s.firm_id == f.id)
                    .map(|s| s.org_unit_id)
                    .collect(),
                id: f.id,
                name: f.name,
                created_at: f.created_at,
            })
            .collect())
    }

    /// Firms serving `scope`: signed to a unit within it, or to a unit it
    /// lies within (the rule of `scope::FirmId`), by name.
    pub async fn law_firms_serving(
        self,
        scope: OrgUnitId,
    ) -> Result<Vec<LawFirmRecord>, StoreError> {
        let signings = firm_signing::Entity::find().all(self.db()).await?;
        let mut ids: Vec<Uuid> = Vec::new();
        for signing in signings {
            if ids.contains(&signing.firm_id) {
                continue;
            }
            let unit: OrgUnitId = signing.org_unit_id.into();
            if self.staffing().unit_within(unit, scope).await?
                || self.staffing().unit_within(scope, unit).await?
            {
                ids.push(signing.firm_id);
            }
        }
        let firms = law_firm::Entity::find()
            .filter(law_firm::Column::Id.is_in(ids))
            .order_by_asc(law_firm::Column::Name)
            .all(self.db())
            .await?;
        self.with_signings(firms).await
    }

    /// End a firm's signing to a unit; false when there was none. Cases
    /// its lawyers hold stay theirs; new ones there no longer reach them.
    pub async fn end_firm_signing(self, firm: Uuid, unit: OrgUnitId) -> Result<bool, StoreError> {
        Ok(firm_signing::Entity::delete_many()
            .filter(firm_signing::Column::FirmId.eq(firm))
            .filter(firm_signing::Column::OrgUnitId.eq(unit.as_uuid()))
            .exec(self.db())
            .await?
            .rows_affected
            > 0)
    }

    /// The community's signed lawyer, if it has one (active or not).
    pub async fn lawyer_signing(
        self,
        community: OrgUnitId,
    ) -> Result<Option<LawyerSigningRecord>, StoreError> {
        let Some(signing) = lawyer_signing::Entity::find_by_id(community.as_uuid())
            .one(self.db())
            .await?
        else {
            return Ok(None);
        };
        Ok(self.signing_records(vec![signing]).await?.pop())
    }

    async fn signing_records(
        self,
        signings: Vec<lawyer_signing::Model>,
    ) -> Result<Vec<LawyerSigningRecord>, StoreError> {
        let ids: Vec<Uuid> = signings.iter().map(|s| s.staff_id).collect();
        let lawyers = staff::Entity::find()
            .filter(staff::Column::Id.is_in(ids))
            .all(self.db())
            .await?;
        Ok(signings
            .into_iter()
            .map(|s| LawyerSigningRecord {
                display_name: lawyers
                    .iter()
                    .find(|l| l.id == s.staff_id)
                    .map(|l| l.display_name.clone())
                    .unwrap_or_default(),
                community_id: s.community_id,
                staff_id: s.staff_id,
                since: s.created_at,
            })
            .collect())
    }

    /// Signed lawyers of the communities within `scope`.
    pub async fn lawyer_signings_within(
        self,
        scope: OrgUnitId,
    ) -> Result<Vec<LawyerSigningRecord>, StoreError> {
        let mut within = Vec::new();
        for signing in lawyer_signing::Entity::find().all(self.db()).await? {
            if self
                .staffing()
                .unit_within(signing.community_id.into(), scope)
                .await?
            {
                within.push(signing);
            }
        }
        self.signing_records(within).await
    }

    /// End the community's signing; false when it had none. Consultations
    /// its lawyer holds stay theirs; new ones go down the ladder.
    pub async fn end_lawyer_signing(self, community: OrgUnitId) -> Result<bool, StoreError> {
        Ok(lawyer_signing::Entity::delete_many()
            .filter(lawyer_signing::Column::CommunityId.eq(community.as_uuid()))
            .exec(self.db())
            .await?
            .rows_affected
            > 0)
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
