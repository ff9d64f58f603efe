//! Staff as the router sees them: units, skills, capacity, presence; the
//! duty roster; mediation rooms; and scope checks for administrators.

use crate::entity::{duty_shift, mediation_room, org_unit, staff, staff_skill, staff_unit};
use crate::{Store, StoreError};
use chrono::{DateTime, Utc};
use sansuo_domain::dispatch::Presence;
use sansuo_domain::{OrgUnitId, StaffId};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, TransactionTrait,
};
use uuid::Uuid;

pub fn presence_name(presence: Presence) -> &'static str {
    match presence {
        Presence::Available => "available",
        Presence::Away => "away",
        Presence::OffDuty => "off_duty",
    }
}

pub fn parse_presence(text: &str) -> Option<Presence> {
    match text {
        "available" => Some(Presence::Available),
        "away" => Some(Presence::Away),
        "off_duty" => Some(Presence::OffDuty),
        _ => None,
    }
}

/// A staff account with its routing attributes.
#[derive(Debug, Clone)]
pub struct StaffProfile {
    pub account: staff::Model,
    pub units: Vec<Uuid>,
    pub skills: Vec<String>,
}

pub struct NewRoom<'a> {
    pub unit: OrgUnitId,
    pub name: &'a str,
    pub address: Option<&'a str>,
    pub opening_hours: Option<&'a str>,
}

impl Store {
    /// Whether `unit` lies inside `scope`: the same unit, below it in the
    /// tree, or a community whose police station is `scope`.
    pub async fn unit_within(&self, unit: OrgUnitId, scope: OrgUnitId) -> Result<bool, StoreError> {
        let mut next = Some(unit.as_uuid());
        let mut hops = 0;
        while let Some(id) = next {
            if id == scope.as_uuid() {
                return Ok(true);
            }
            let Some(u) = org_unit::Entity::find_by_id(id).one(self.db()).await? else {
                return Ok(false);
            };
            if u.station_id == Some(scope.as_uuid()) {
                return Ok(true);
            }
            next = u.parent_id;
            hops += 1;
            if hops > 16 {
                // A cycle would be a data error; never loop on it.
                return Err(StoreError::conflict("the organisation tree has a cycle"));
            }
        }
        Ok(false)
    }

    pub async fn org_units_under(
        &self,
        parent: Option<OrgUnitId>,
    ) -> Result<Vec<org_unit::Model>, StoreError> {
        let query = match parent {
            Some(p) => org_unit::Entity::find().filter(org_unit::Column::ParentId.eq(p.as_uuid())),
            None => org_unit::Entity::find().filter(org_unit::Column::ParentId.is_null()),
        };
        Ok(query
            .order_by_asc(org_unit::Column::Name)
            .all(self.db())
            .await?)
    }

    pub async fn staff_profile(&self, id: StaffId) -> Result<Option<StaffProfile>, StoreError> {
        let Some(account) = self.staff(id).await? else {
            return Ok(None);
        };
        let mut profiles = self.profiles(vec![account]).await?;
        Ok(profiles.pop())
    }

    /// Staff whose home unit is `unit`, with their attributes.
    pub async fn staff_of_unit(&self, unit: OrgUnitId) -> Result<Vec<StaffProfile>, StoreError> {
        let accounts = staff::Entity::find()
            .filter(staff::Column::OrgUnitId.eq(unit.as_uuid()))
            .order_by_asc(staff::Column::Username)
            .all(self.db())
            .await?;
        self.profiles(accounts).await
    }

    async fn profiles(&self, accounts: Vec<staff::Model>) -> Result<Vec<StaffProfile>, StoreError> {
        let ids: Vec<Uuid> = accounts.iter().map(|a| a.id).collect();
        let units = staff_unit::Entity::find()
            .filter(staff_unit::Column::StaffId.is_in(ids.clone()))
            .all(self.db())
            .await?;
        let skills = staff_skill::Entity::find()
            .filter(staff_skill::Column::StaffId.is_in(ids))
            .order_by_asc(staff_skill::Column::CategoryCode)
            .all(self.db())
            .await?;
        Ok(accounts
            .into_iter()
            .map(|account| StaffProfile {
                units: units
                    .iter()
                    .filter(|u| u.staff_id == account.id)
                    .map(|u| u.org_unit_id)
                    .collect(),
                skills: skills
                    .iter()
                    .filter(|s| s.staff_id == account.id)
                    .map(|s| s.category_code.clone())
                    .collect(),
                account,
            })
            .collect())
    }

    /// Replace a staff member's units and skills (each `None` leaves it as it is).
    pub async fn set_staff_routing(
        &self,
        id: StaffId,
        units: Option<&[OrgUnitId]>,
        skills: Option<&[String]>,
        capacity: Option<i32>,
    ) -> Result<(), StoreError> {
        let txn = self.db().begin().await?;
        if let Some(units) = units {
            staff_unit::Entity::delete_many()
                .filter(staff_unit::Column::StaffId.eq(id.as_uuid()))
                .exec(&txn)
                .await?;
            for unit in units {
                staff_unit::Entity::insert(staff_unit::ActiveModel {
                    staff_id: Set(id.as_uuid()),
                    org_unit_id: Set(unit.as_uuid()),
                })
                .on_conflict_do_nothing()
                .exec_without_returning(&txn)
                .await?;
            }
        }
        if let Some(skills) = skills {
            staff_skill::Entity::delete_many()
                .filter(staff_skill::Column::StaffId.eq(id.as_uuid()))
                .exec(&txn)
                .await?;
            for code in skills {
                staff_skill::Entity::insert(staff_skill::ActiveModel {
                    staff_id: Set(id.as_uuid()),
                    category_code: Set(code.clone()),
                })
                .on_conflict_do_nothing()
                .exec_without_returning(&txn)
                .await?;
            }
        }
        if let Some(capacity) = capacity {
            staff::Entity::update_many()
                .col_expr(staff::Column::Capacity, Expr::value(capacity))
                .filter(staff::Column::Id.eq(id.as_uuid()))
                .exec(&txn)
                .await?;
        }
        txn.commit().await?;
        Ok(())
    }

    pub async fn set_display_name(&self, id: StaffId, name: &str) -> Result<(), StoreError> {
        staff::Entity::update_many()
            .col_expr(staff::Column::DisplayName, Expr::value(name))
            .filter(staff::Column::Id.eq(id.as_uuid()))
            .exec(self.db())
            .await?;
        Ok(())
    }

    pub async fn set_presence(
        &self,
        id: StaffId,
        presence: Presence,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let txn = self.db().begin().await?;
        staff::Entity::update_many()
            .col_expr(
                staff::Column::Presence,
                Expr::value(presence_name(presence)),
            )
            .col_expr(staff::Column::PresenceChangedAt, Expr::value(now))
            .filter(staff::Column::Id.eq(id.as_uuid()))
            .exec(&txn)
            .await?;
        if presence == Presence::Available {
            let ctx = crate::consultations::Context {
                actor: sansuo_domain::Actor::System,
                request_id: None,
                now,
            };
            crate::consultations::staff_freed(&txn, id, ctx).await?;
        }
        txn.commit().await?;
        Ok(())
    }

    /// One person as the dispatch engine sees them, with every unit they
    /// serve (home, memberships, and for lawyers their firm's pool units).
    pub async fn own_dispatch_snapshot(
        &self,
        id: StaffId,
        now: DateTime<Utc>,
    ) -> Result<Option<sansuo_domain::dispatch::StaffSnapshot>, StoreError> {
        let Some(account) = staff::Entity::find_by_id(id.as_uuid())
            .one(self.db())
            .await?
        else {
            return Ok(None);
        };
        let Ok(role) = account.role.parse::<sansuo_domain::StaffRole>() else {
            return Ok(None);
        };
        let Some(mut me) = self
            .dispatch_snapshots(role, account.org_unit_id.into(), now)
            .await?
            .into_iter()
            .find(|s| s.id == id)
        else {
            return Ok(None);
        };
        // Communities they are signed to are theirs to serve too.
        for community in me.signed_communities.clone() {
            if !me.units.contains(&community) {
                me.units.push(community);
            }
        }
        if let Some(firm) = account.law_firm_id {
            for unit in self.pool_units_of_firm(firm).await? {
                if !me.units.contains(&unit.into()) {
                    me.units.push(unit.into());
                }
            }
        }
        Ok(Some(me))
    }

    pub async fn add_duty_shift(
        &self,
        unit: OrgUnitId,
        staff: StaffId,
        starts_at: DateTime<Utc>,
        ends_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<duty_shift::Model, StoreError> {
        let shift = duty_shift::Model {
            id: Uuid::now_v7(),
            org_unit_id: unit.as_uuid(),
            staff_id: staff.as_uuid(),
            starts_at,
            ends_at,
            created_at: now,
        };
        duty_shift::Entity::insert(duty_shift::ActiveModel {
            id: Set(shift.id),
            org_unit_id: Set(shift.org_unit_id),
            staff_id: Set(shift.staff_id),
            starts_at: Set(starts_at),
            ends_at: Set(ends_at),
            created_at: Set(now),
        })
        .exec_without_returning(self.db())
        .await?;
        Ok(shift)
    }

    /// Shifts of a unit overlapping `[from, to)`, in start order.
    pub async fn duty_shifts(
        &self,
        unit: OrgUnitId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<duty_shift::Model>, StoreError> {
        Ok(duty_shift::Entity::find()
            .filter(duty_shift::Column::OrgUnitId.eq(unit.as_uuid()))
            .filter(duty_shift::Column::StartsAt.lt(to))
            .filter(duty_shift::Column::EndsAt.gt(from))
            .order_by_asc(duty_shift::Column::StartsAt)
            .all(self.db())
            .await?)
    }

    pub async fn duty_shift(&self, id: Uuid) -> Result<Option<duty_shift::Model>, StoreError> {
        Ok(duty_shift::Entity::find_by_id(id).one(self.db()).await?)
    }

    pub async fn delete_duty_shift(&self, id: Uuid) -> Result<bool, StoreError> {
        Ok(duty_shift::Entity::delete_by_id(id)
            .exec(self.db())
            .await?
            .rows_affected
            == 1)
    }

    pub async fn add_room(
        &self,
        room: NewRoom<'_>,
        now: DateTime<Utc>,
    ) -> Result<mediation_room::Model, StoreError> {
        let model = mediation_room::Model {
            id: Uuid::now_v7(),
            org_unit_id: room.unit.as_uuid(),
            name: room.name.to_owned(),
            address: room.address.map(str::to_owned),
            opening_hours: room.opening_hours.map(str::to_owned),
            active: true,
            created_at: now,
        };
        mediation_room::Entity::insert(mediation_room::ActiveModel {
            id: Set(model.id),
            org_unit_id: Set(model.org_unit_id),
            name: Set(model.name.clone()),
            address: Set(model.address.clone()),
            opening_hours: Set(model.opening_hours.clone()),
            active: Set(true),
            created_at: Set(now),
        })
        .exec_without_returning(self.db())
        .await?;
        Ok(model)
    }

    pub async fn room(&self, id: Uuid) -> Result<Option<mediation_room::Model>, StoreError> {
        Ok(mediation_room::Entity::find_by_id(id)
            .one(self.db())
            .await?)
    }

    pub async fn rooms_of(
        &self,
        unit: OrgUnitId,
    ) -> Result<Vec<mediation_room::Model>, StoreError> {
        Ok(mediation_room::Entity::find()
            .filter(mediation_room::Column::OrgUnitId.eq(unit.as_uuid()))
            .order_by_asc(mediation_room::Column::Name)
            .all(self.db())
            .await?)
    }
}

/// Case statuses that no longer count against a staff member's capacity.
/// Of every service: what is left is at most a follow-up visit or a rating.
pub(crate) use sansuo_domain::work_order::FINISHED_STATUSES;

impl Store {
    /// Everyone of `role` working for `unit` (home unit or membership), as
    /// the dispatch engine sees them at `now`: presence, duty, load, skills.
    pub async fn dispatch_snapshots(
        &self,
        role: sansuo_domain::StaffRole,
        unit: OrgUnitId,
        now: DateTime<Utc>,
    ) -> Result<Vec<sansuo_domain::dispatch::StaffSnapshot>, StoreError> {
        use crate::entity::{case, lawyer_signing};
        use sea_orm::sea_query::Query;
        use sea_orm::{Condition, FromQueryResult, QuerySelect};

        let members = Query::select()
            .column(staff_unit::Column::StaffId)
            .from(staff_unit::Entity)
            .and_where(staff_unit::Column::OrgUnitId.eq(unit.as_uuid()))
            .to_owned();
        // Lawyers also serve a unit through their firm: signed to the unit
        // itself or to the district above it (the firm pool).
        let (pool_firms, signed_here) = match role {
            sansuo_domain::StaffRole::Lawyer => {
                let signed: Vec<Uuid> = lawyer_signing::Entity::find()
                    .filter(lawyer_signing::Column::CommunityId.eq(unit.as_uuid()))
                    .all(self.db())
                    .await?
                    .into_iter()
                    .map(|s| s.staff_id)
                    .collect();
                (self.firms_serving(unit).await?, signed)
            }
            _ => (Vec::new(), Vec::new()),
        };
        let accounts = staff::Entity::find()
            .filter(staff::Column::Role.eq(role.as_str()))
            .filter(
                Condition::any()
                    .add(staff::Column::OrgUnitId.eq(unit.as_uuid()))
                    .add(staff::Column::Id.in_subquery(members))
                    .add(staff::Column::LawFirmId.is_in(pool_firms.clone()))
                    // A community's signed lawyer serves it by the signing.
                    .add(staff::Column::Id.is_in(signed_here.clone())),
            )
            .all(self.db())
            .await?;
        let profiles = self.profiles(accounts).await?;
        let ids: Vec<Uuid> = profiles.iter().map(|p| p.account.id).collect();

        let on_duty: Vec<Uuid> = duty_shift::Entity::find()
            .filter(duty_shift::Column::StaffId.is_in(ids.clone()))
            .filter(duty_shift::Column::StartsAt.lte(now))
            .filter(duty_shift::Column::EndsAt.gt(now))
            .all(self.db())
            .await?
            .into_iter()
            .map(|s| s.staff_id)
            .collect();

        #[derive(FromQueryResult)]
        struct Load {
            owner_staff_id: Uuid,
            active: i64,
        }
        let loads: Vec<Load> = case::Entity::find()
            .select_only()
            .column(case::Column::OwnerStaffId)
            .column_as(case::Column::Id.count(), "active")
            .filter(case::Column::OwnerStaffId.is_in(ids.clone()))
            .filter(case::Column::Status.is_not_in(FINISHED_STATUSES))
            .group_by(case::Column::OwnerStaffId)
            .into_model::<Load>()
            .all(self.db())
            .await?;
        // A pending offer holds a place too, or one router burst could
        // offer a person far more than their capacity.
        let offered: Vec<Load> = crate::entity::offer::Entity::find()
            .select_only()
            .column_as(crate::entity::offer::Column::StaffId, "owner_staff_id")
            .column_as(crate::entity::offer::Column::Id.count(), "active")
            .filter(crate::entity::offer::Column::StaffId.is_in(ids.clone()))
            .filter(crate::entity::offer::Column::Status.eq("pending"))
            .group_by(crate::entity::offer::Column::StaffId)
            .into_model::<Load>()
            .all(self.db())
            .await?;
        let signings = lawyer_signing::Entity::find()
            .filter(lawyer_signing::Column::StaffId.is_in(ids))
            .all(self.db())
            .await?;

        Ok(profiles
            .into_iter()
            .map(|p| {
                let id = p.account.id;
                let mut units = p.units;
                units.insert(0, p.account.org_unit_id);
                if p.account
                    .law_firm_id
                    .is_some_and(|f| pool_firms.contains(&f))
                    || signed_here.contains(&id)
                {
                    units.push(unit.as_uuid());
                }
                sansuo_domain::dispatch::StaffSnapshot {
                    id: id.into(),
                    role,
                    active: p.account.active,
                    units: units.into_iter().map(Into::into).collect(),
                    skills: p.skills,
                    presence: parse_presence(&p.account.presence).unwrap_or(Presence::OffDuty),
                    on_duty: on_duty.contains(&id),
                    active_cases: loads
                        .iter()
                        .chain(&offered)
                        .filter(|l| l.owner_staff_id == id)
                        .map(|l| l.active.max(0) as u32)
                        .sum(),
                    capacity: p.account.capacity.max(0) as u32,
                    signed_communities: signings
                        .iter()
                        .filter(|s| s.staff_id == id)
                        .map(|s| s.community_id.into())
                        .collect(),
                    idle_since: p.account.last_assigned_at.unwrap_or(p.account.created_at),
                }
            })
            .collect())
    }
}
