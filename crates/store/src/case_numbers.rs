//! Case numbers (案件编号) and the units' numbering patterns.
//!
//! A number is given once and kept: [`CaseNumbers::assign`] returns the
//! stored one when the case has it. Two first requests at once are safe on
//! both backends without a lock: each reads the highest sequence and
//! inserts the next; the unique index on (unit, service, year, seq) lets
//! one of two racers for a sequence win and the other read again, the
//! primary key on the case makes two racers for one case agree on the
//! winner's number.

use crate::entity::{case_number, org_unit};
use crate::{Store, StoreError};
use chrono::{DateTime, Utc};
use sansuo_domain::{CaseId, OrgUnitId};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QuerySelect, SqlErr};
use uuid::Uuid;

/// A number as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseNumberRecord {
    pub case_id: Uuid,
    pub unit_id: Uuid,
    pub service: String,
    pub year: i32,
    pub seq: i64,
    pub number: String,
    pub assigned_at: DateTime<Utc>,
}

impl From<case_number::Model> for CaseNumberRecord {
    fn from(m: case_number::Model) -> Self {
        CaseNumberRecord {
            case_id: m.case_id,
            unit_id: m.unit_id,
            service: m.service,
            year: m.year,
            seq: m.seq,
            number: m.number,
            assigned_at: m.assigned_at,
        }
    }
}

/// The unit that numbers a community's cases, with its pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NumberingUnit {
    pub id: Uuid,
    pub name: String,
    /// `None`: the default pattern.
    pub pattern: Option<String>,
}

/// Case numbers. Reached as `store.case_numbers()`.
#[derive(Clone, Copy)]
pub struct CaseNumbers<'a>(pub(crate) &'a Store);

impl Store {
    pub fn case_numbers(&self) -> CaseNumbers<'_> {
        CaseNumbers(self)
    }
}

/// How often a first request reads the highest sequence again after losing
/// a race for it (each loss means another case was numbered meanwhile).
const ATTEMPTS: usize = 64;

impl CaseNumbers<'_> {
    pub async fn get(self, case: CaseId) -> Result<Option<CaseNumberRecord>, StoreError> {
        Ok(case_number::Entity::find_by_id(case.as_uuid())
            .one(self.0.db())
            .await?
            .map(Into::into))
    }

    /// A unit's own pattern (`None`: it set none, or no such unit).
    pub async fn pattern(self, unit: OrgUnitId) -> Result<Option<String>, StoreError> {
        Ok(org_unit::Entity::find_by_id(unit.as_uuid())
            .one(self.0.db())
            .await?
            .and_then(|u| u.case_number_pattern))
    }

    /// Set (`Some`) or clear (`None`) a unit's pattern. Numbers already
    /// given keep their text.
    pub async fn set_pattern(
        self,
        unit: OrgUnitId,
        pattern: Option<&str>,
    ) -> Result<(), StoreError> {
        org_unit::Entity::update_many()
            .col_expr(
                org_unit::Column::CaseNumberPattern,
                Expr::value(pattern.map(str::to_owned)),
            )
            .filter(org_unit::Column::Id.eq(unit.as_uuid()))
            .exec(self.0.db())
            .await?;
        Ok(())
    }

    /// The unit that numbers the cases of `community`: the nearest unit,
    /// from the community up, that set a pattern; when none did, the
    /// community's parent (its street), or the community itself at the top.
    pub async fn numbering_unit(self, community: OrgUnitId) -> Result<NumberingUnit, StoreError> {
        let mut chain: Vec<org_unit::Model> = Vec::new();
        let mut next = Some(community.as_uuid());
        while let Some(id) = next {
            if chain.len() > 16 || chain.iter().any(|u| u.id == id) {
                break;
            }
            let Some(unit) = org_unit::Entity::find_by_id(id).one(self.0.db()).await? else {
                break;
            };
            next = unit.parent_id;
            chain.push(unit);
        }
        if let Some(unit) = chain.iter().find(|u| u.case_number_pattern.is_some()) {
            return Ok(NumberingUnit {
                id: unit.id,
                name: unit.name.clone(),
                pattern: unit.case_number_pattern.clone(),
            });
        }
        let unit = chain
            .get(1)
            .or_else(|| chain.first())
            .ok_or(StoreError::NotFound)?;
        Ok(NumberingUnit {
            id: unit.id,
            name: unit.name.clone(),
            pattern: None,
        })
    }

    /// The case's number: the stored one, or the next of (unit, service,
    /// year), printed by `render(seq)` and stored for good.
    pub async fn assign(
        self,
        case: CaseId,
        unit: Uuid,
        service: &str,
        year: i32,
        now: DateTime<Utc>,
        render: impl Fn(i64) -> String,
    ) -> Result<CaseNumberRecord, StoreError> {
        for _ in 0..ATTEMPTS {
            if let Some(found) = self.get(case).await? {
                return Ok(found);
            }
            let highest: Option<i64> = case_number::Entity::find()
                .select_only()
                .column_as(case_number::Column::Seq.max(), "highest")
                .filter(case_number::Column::UnitId.eq(unit))
                .filter(case_number::Column::Service.eq(service))
                .filter(case_number::Column::Year.eq(year))
                .into_tuple::<Option<i64>>()
                .one(self.0.db())
                .await?
                .flatten();
            let seq = highest.unwrap_or(0) + 1;
            let row = case_number::ActiveModel {
                case_id: Set(case.as_uuid()),
                unit_id: Set(unit),
                service: Set(service.to_owned()),
                year: Set(year),
                seq: Set(seq),
                number: Set(render(seq)),
                assigned_at: Set(now),
            };
            match case_number::Entity::insert(row)
                .exec_without_returning(self.0.db())
                .await
            {
                Ok(_) => {
                    return self.get(case).await?.ok_or(StoreError::NotFound);
                }
                Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
                    // Another request took this sequence, or numbered this
                    // very case: read again.
                    continue;
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(StoreError::Conflict(
            "could not number the case: too many concurrent requests".into(),
        ))
    }
}
