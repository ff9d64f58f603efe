//! Recurring duty rotas, one per unit, stored as written and read as they
//! stand: dispatch asks [`Rotas::on_duty_at`] beside the single
//! `duty_shifts`, so a created, replaced or deleted rota counts from the
//! next case on and nothing has to be materialised or topped up.

use crate::entity::{duty_rota, duty_rota_staff};
use crate::{Store, StoreError};
use chrono::{DateTime, SubsecRound, Utc};
use sansuo_domain::rota::{Rota, RotaSpec};
use sansuo_domain::{OrgUnitId, StaffId};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use std::collections::BTreeSet;

/// Duty rotas: write, read, delete; who they put on duty.
///
/// Reached as `store.rotas()`; see [`Store`].
#[derive(Clone, Copy)]
pub struct Rotas<'a>(pub(crate) &'a Store);

impl std::ops::Deref for Rotas<'_> {
    type Target = Store;
    fn deref(&self) -> &Store {
        self.0
    }
}

impl Store {
    /// Duty rotas: write, read, delete; who they put on duty.
    pub fn rotas(&self) -> Rotas<'_> {
        Rotas(self)
    }
}

/// A unit's rota as stored.
#[derive(Debug, Clone)]
pub struct RotaRecord {
    pub org_unit_id: OrgUnitId,
    pub spec: RotaSpec,
    pub rota: Rota,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

fn record(row: duty_rota::Model) -> Result<RotaRecord, StoreError> {
    let corrupt = |why: String| {
        StoreError::Db(sea_orm::DbErr::Custom(format!(
            "duty rota of unit {}: {why}",
            row.org_unit_id
        )))
    };
    let spec: RotaSpec = serde_json::from_str(&row.spec).map_err(|e| corrupt(e.to_string()))?;
    let rota = Rota::parse(&spec).map_err(|e| corrupt(e.to_string()))?;
    Ok(RotaRecord {
        org_unit_id: row.org_unit_id.into(),
        spec,
        rota,
        created_at: row.created_at,
        updated_at: row.updated_at,
    })
}

impl Rotas<'_> {
    /// Create or replace the rota of `unit` (the spec already checked by
    /// `Rota::parse`, its people by the caller's scope), with the index of
    /// who it names, in one transaction. `true` when it was created.
    pub async fn put(
        self,
        unit: OrgUnitId,
        spec: &RotaSpec,
        now: DateTime<Utc>,
    ) -> Result<(RotaRecord, bool), StoreError> {
        // As the column keeps it (microseconds), so the answer is what a
        // read gives back.
        let now = now.trunc_subsecs(6);
        let rota = Rota::parse(spec)
            .map_err(|e| StoreError::Conflict(format!("not a valid rota: {e}")))?;
        let text = serde_json::to_string(spec)
            .map_err(|e| StoreError::Db(sea_orm::DbErr::Custom(e.to_string())))?;
        let txn = self.begin_write().await?;
        let existing = duty_rota::Entity::find_by_id(unit.as_uuid())
            .one(&txn)
            .await?;
        let created_at = existing.as_ref().map_or(now, |row| row.created_at);
        duty_rota::Entity::insert(duty_rota::ActiveModel {
            org_unit_id: Set(unit.as_uuid()),
            spec: Set(text),
            created_at: Set(created_at),
            updated_at: Set(now),
        })
        .on_conflict(
            OnConflict::column(duty_rota::Column::OrgUnitId)
                .update_columns([duty_rota::Column::Spec, duty_rota::Column::UpdatedAt])
                .to_owned(),
        )
        .exec_without_returning(&txn)
        .await?;
        duty_rota_staff::Entity::delete_many()
            .filter(duty_rota_staff::Column::OrgUnitId.eq(unit.as_uuid()))
            .exec(&txn)
            .await?;
        let named = rota.staff();
        if !named.is_empty() {
            duty_rota_staff::Entity::insert_many(named.iter().map(|staff| {
                duty_rota_staff::ActiveModel {
                    org_unit_id: Set(unit.as_uuid()),
                    staff_id: Set(staff.as_uuid()),
                }
            }))
            .exec_without_returning(&txn)
            .await?;
        }
        self.commit_work(txn).await?;
        Ok((
            RotaRecord {
                org_unit_id: unit,
                spec: spec.clone(),
                rota,
                created_at,
                updated_at: now,
            },
            existing.is_none(),
        ))
    }

    pub async fn get(self, unit: OrgUnitId) -> Result<Option<RotaRecord>, StoreError> {
        duty_rota::Entity::find_by_id(unit.as_uuid())
            .one(self.db())
            .await?
            .map(record)
            .transpose()
    }

    /// The rotas of these units (those that have one), in unit order.
    pub async fn of_units(self, units: &[OrgUnitId]) -> Result<Vec<RotaRecord>, StoreError> {
        if units.is_empty() {
            return Ok(Vec::new());
        }
        duty_rota::Entity::find()
            .filter(duty_rota::Column::OrgUnitId.is_in(units.iter().map(|u| u.as_uuid())))
            .order_by_asc(duty_rota::Column::OrgUnitId)
            .all(self.db())
            .await?
            .into_iter()
            .map(record)
            .collect()
    }

    /// Every rota, in unit order (the caller filters by scope).
    pub async fn all(self) -> Result<Vec<RotaRecord>, StoreError> {
        duty_rota::Entity::find()
            .order_by_asc(duty_rota::Column::OrgUnitId)
            .all(self.db())
            .await?
            .into_iter()
            .map(record)
            .collect()
    }

    /// Remove a unit's rota; `false` when it had none.
    pub async fn delete(self, unit: OrgUnitId) -> Result<bool, StoreError> {
        let txn = self.begin_write().await?;
        duty_rota_staff::Entity::delete_many()
            .filter(duty_rota_staff::Column::OrgUnitId.eq(unit.as_uuid()))
            .exec(&txn)
            .await?;
        let gone = duty_rota::Entity::delete_by_id(unit.as_uuid())
            .exec(&txn)
            .await?
            .rows_affected
            == 1;
        self.commit_work(txn).await?;
        Ok(gone)
    }

    /// Which of `staff` some rota puts on duty at `now` (over the business
    /// calendar, for `workdays` slots).
    pub async fn on_duty_at(
        self,
        staff: &[StaffId],
        now: DateTime<Utc>,
    ) -> Result<BTreeSet<StaffId>, StoreError> {
        if staff.is_empty() {
            return Ok(BTreeSet::new());
        }
        let units: BTreeSet<uuid::Uuid> = duty_rota_staff::Entity::find()
            .filter(duty_rota_staff::Column::StaffId.is_in(staff.iter().map(|s| s.as_uuid())))
            .all(self.db())
            .await?
            .into_iter()
            .map(|row| row.org_unit_id)
            .collect();
        if units.is_empty() {
            return Ok(BTreeSet::new());
        }
        let units: Vec<OrgUnitId> = units.into_iter().map(Into::into).collect();
        let calendar = self.catalog().business_calendar().await?;
        let mut on = BTreeSet::new();
        for rota in self.of_units(&units).await? {
            for id in rota.rota.on_duty_at(now, &calendar) {
                if staff.contains(&id) {
                    on.insert(id);
                }
            }
        }
        Ok(on)
    }
}
