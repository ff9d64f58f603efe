//! A district's organisation tree, law firms, rooms and staff written from
//! one checked file (`domain::import`) in one transaction: all of it or
//! none. What the file would collide with in the database (a username, a
//! QR scene, a street or station of the same name already under the
//! district) is listed like the file's own problems and nothing is
//! written, so importing the same file twice is refused rather than
//! doubled.

use crate::Store;
use crate::entity::{firm_signing, law_firm, lawyer_signing, mediation_room, org_unit, staff};
use crate::error::StoreError;
use crate::identity::DEFAULT_CAPACITY;
use chrono::{DateTime, Utc};
use sansuo_domain::OrgUnitId;
use sansuo_domain::dispatch::Presence;
use sansuo_domain::import::{ImportError, ImportPlan};
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QuerySelect};
use std::collections::HashSet;
use uuid::Uuid;

/// Rows a statement: well under SQLite's and PostgreSQL's bound-parameter
/// limits for the widest row (staff, 15 columns).
const CHUNK: usize = 500;

/// What an import created, in the file's terms.
#[derive(Debug, Clone)]
pub struct ImportedDistrict {
    /// Each unit's file key and new id, in the file's order.
    pub units: Vec<(String, OrgUnitId)>,
    pub firms: usize,
    pub rooms: usize,
    /// Each account's username and new id, in the file's order.
    pub staff: Vec<(String, Uuid)>,
    pub signings: usize,
}

/// Bulk import. Reached as `store.imports()`; see [`Store`].
#[derive(Clone, Copy)]
pub struct Imports<'a>(pub(crate) &'a Store);

impl std::ops::Deref for Imports<'_> {
    type Target = Store;
    fn deref(&self) -> &Store {
        self.0
    }
}

impl Store {
    /// Bulk import of a district's organisation tree and staff.
    pub fn imports(&self) -> Imports<'_> {
        Imports(self)
    }
}

impl Imports<'_> {
    /// What `plan` would collide with under `district`, each named like a
    /// file problem (`staff[3].username`); empty when it can be written.
    pub async fn conflicts(
        self,
        district: OrgUnitId,
        plan: &ImportPlan,
    ) -> Result<Vec<ImportError>, StoreError> {
        conflicts(self.db(), district, plan).await
    }

    /// Write `plan` under `district` in one transaction. `password_hashes`
    /// are the staff's, in the plan's order. `Ok(Err(..))`: conflicts
    /// found inside the transaction (nothing written).
    pub async fn write(
        self,
        district: OrgUnitId,
        plan: &ImportPlan,
        password_hashes: &[String],
        now: DateTime<Utc>,
    ) -> Result<Result<ImportedDistrict, Vec<ImportError>>, StoreError> {
        assert_eq!(plan.staff.len(), password_hashes.len(), "a hash a person");
        let txn = self.begin_write().await?;
        // Checked again under the write lock (SQLite) or answered by the
        // unique indexes (PostgreSQL) if another import races this one.
        let found = conflicts(&txn, district, plan).await?;
        if !found.is_empty() {
            return Ok(Err(found));
        }

        let ids: Vec<OrgUnitId> = plan.units.iter().map(|_| OrgUnitId::new()).collect();
        let units = plan.units.iter().zip(&ids).map(|(unit, id)| {
            let services: Vec<&str> = unit.services.iter().map(|s| s.as_str()).collect();
            org_unit::ActiveModel {
                id: Set(id.as_uuid()),
                kind: Set(unit.kind.as_str().to_owned()),
                parent_id: Set(Some(unit.parent.map_or(district, |p| ids[p]).as_uuid())),
                station_id: Set(unit.station.map(|s| ids[s].as_uuid())),
                name: Set(unit.name.as_str().to_owned()),
                scene: Set(unit.scene.as_ref().map(|s| s.as_str().to_owned())),
                address: Set(unit.address.clone()),
                office_hours: Set(unit.office_hours.clone()),
                services: Set(services.join(",")),
                created_at: Set(now),
                active: Set(true),
                case_number_pattern: Set(None),
            }
        });
        insert_chunked(&txn, units.collect()).await?;

        let firm_ids: Vec<Uuid> = plan.firms.iter().map(|_| Uuid::now_v7()).collect();
        let firms = plan
            .firms
            .iter()
            .zip(&firm_ids)
            .map(|(firm, id)| law_firm::ActiveModel {
                id: Set(*id),
                name: Set(firm.name.as_str().to_owned()),
                created_at: Set(now),
            });
        insert_chunked(&txn, firms.collect()).await?;
        let firm_signings = plan.firms.iter().zip(&firm_ids).flat_map(|(firm, id)| {
            let units: Vec<OrgUnitId> = if firm.serves.is_empty() {
                vec![district]
            } else {
                firm.serves.iter().map(|s| ids[*s]).collect()
            };
            units.into_iter().map(|unit| firm_signing::ActiveModel {
                firm_id: Set(*id),
                org_unit_id: Set(unit.as_uuid()),
            })
        });
        insert_chunked(&txn, firm_signings.collect()).await?;

        let rooms = plan.rooms.iter().map(|room| mediation_room::ActiveModel {
            id: Set(Uuid::now_v7()),
            org_unit_id: Set(ids[room.unit].as_uuid()),
            name: Set(room.name.as_str().to_owned()),
            address: Set(room.address.clone()),
            opening_hours: Set(room.opening_hours.clone()),
            active: Set(true),
            created_at: Set(now),
        });
        insert_chunked(&txn, rooms.collect()).await?;

        let staff_ids: Vec<Uuid> = plan.staff.iter().map(|_| Uuid::now_v7()).collect();
        let people =
            plan.staff
                .iter()
                .zip(&staff_ids)
                .zip(password_hashes)
                .map(|((person, id), hash)| staff::ActiveModel {
                    id: Set(*id),
                    username: Set(person.username.as_str().to_owned()),
                    password_hash: Set(hash.clone()),
                    display_name: Set(person.display_name.as_str().to_owned()),
                    role: Set(person.role.as_str().to_owned()),
                    org_unit_id: Set(ids[person.unit].as_uuid()),
                    law_firm_id: Set(person.firm.map(|f| firm_ids[f])),
                    active: Set(true),
                    created_at: Set(now),
                    capacity: Set(DEFAULT_CAPACITY),
                    presence: Set(Presence::Available.as_str().to_owned()),
                    presence_changed_at: Set(None),
                    last_assigned_at: Set(None),
                    session_epoch: Set(0),
                    demo: Set(false),
                    load: Set(0),
                });
        insert_chunked(&txn, people.collect()).await?;
        let unit_ids = &ids;
        let signings: Vec<lawyer_signing::ActiveModel> = plan
            .staff
            .iter()
            .zip(&staff_ids)
            .flat_map(|(person, id)| {
                person
                    .signs
                    .iter()
                    .map(move |community| lawyer_signing::ActiveModel {
                        community_id: Set(unit_ids[*community].as_uuid()),
                        staff_id: Set(*id),
                        created_at: Set(now),
                    })
            })
            .collect();
        let signed = signings.len();
        insert_chunked(&txn, signings).await?;

        self.commit_work(txn).await?;
        self.reference().clear();

        let mut units: Vec<(usize, String, OrgUnitId)> = plan
            .units
            .iter()
            .zip(&ids)
            .map(|(unit, id)| (unit.index, unit.key.clone(), *id))
            .collect();
        units.sort_by_key(|(index, _, _)| *index);
        Ok(Ok(ImportedDistrict {
            units: units.into_iter().map(|(_, key, id)| (key, id)).collect(),
            firms: plan.firms.len(),
            rooms: plan.rooms.len(),
            staff: plan
                .staff
                .iter()
                .zip(&staff_ids)
                .map(|(person, id)| (person.username.as_str().to_owned(), *id))
                .collect(),
            signings: signed,
        }))
    }
}

async fn insert_chunked<A>(
    conn: &impl sea_orm::ConnectionTrait,
    rows: Vec<A>,
) -> Result<(), StoreError>
where
    A: sea_orm::ActiveModelTrait + Send,
{
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<A> = rows.by_ref().take(CHUNK).collect();
        A::Entity::insert_many(chunk)
            .exec_without_returning(conn)
            .await?;
    }
    Ok(())
}

async fn conflicts(
    conn: &impl sea_orm::ConnectionTrait,
    district: OrgUnitId,
    plan: &ImportPlan,
) -> Result<Vec<ImportError>, StoreError> {
    let mut staff_found = Vec::new();

    let usernames: Vec<&str> = plan.staff.iter().map(|s| s.username.as_str()).collect();
    let mut taken: HashSet<String> = HashSet::new();
    for chunk in usernames.chunks(CHUNK) {
        taken.extend(
            staff::Entity::find()
                .select_only()
                .column(staff::Column::Username)
                .filter(staff::Column::Username.is_in(chunk.iter().copied()))
                .into_tuple::<String>()
                .all(conn)
                .await?,
        );
    }
    for (i, person) in plan.staff.iter().enumerate() {
        if taken.contains(person.username.as_str()) {
            staff_found.push(ImportError {
                at: format!("staff[{i}].username"),
                message: format!("`{}` is already an account", person.username.as_str()),
            });
        }
    }

    let scenes: Vec<&str> = plan
        .units
        .iter()
        .filter_map(|u| u.scene.as_ref().map(|s| s.as_str()))
        .collect();
    let mut taken: HashSet<String> = HashSet::new();
    for chunk in scenes.chunks(CHUNK) {
        taken.extend(
            org_unit::Entity::find()
                .select_only()
                .column(org_unit::Column::Scene)
                .filter(org_unit::Column::Scene.is_in(chunk.iter().copied()))
                .into_tuple::<Option<String>>()
                .all(conn)
                .await?
                .into_iter()
                .flatten(),
        );
    }

    // Units directly under the district (streets, stations): the same
    // name twice is what importing one file twice looks like.
    let existing: HashSet<(String, String)> = org_unit::Entity::find()
        .select_only()
        .column(org_unit::Column::Kind)
        .column(org_unit::Column::Name)
        .filter(org_unit::Column::ParentId.eq(district.as_uuid()))
        .into_tuple::<(String, String)>()
        .all(conn)
        .await?
        .into_iter()
        .collect();
    let mut units: Vec<&sansuo_domain::import::PlannedUnit> = plan.units.iter().collect();
    units.sort_by_key(|u| u.index);
    let mut found = Vec::new();
    for unit in units {
        let i = unit.index;
        if let Some(scene) = &unit.scene
            && taken.contains(scene.as_str())
        {
            found.push(ImportError {
                at: format!("units[{i}].scene"),
                message: format!("`{}` is another community's scene", scene.as_str()),
            });
        }
        let key = (unit.kind.as_str().to_owned(), unit.name.as_str().to_owned());
        if unit.parent.is_none() && existing.contains(&key) {
            found.push(ImportError {
                at: format!("units[{i}].name"),
                message: format!(
                    "the district already has a {} named `{}`",
                    unit.kind,
                    unit.name.as_str()
                ),
            });
        }
    }
    found.extend(staff_found);
    found.truncate(sansuo_domain::import::MAX_ERRORS);
    Ok(found)
}
