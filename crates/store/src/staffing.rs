//! Staff as the router sees them: units, skills, capacity, presence; the
//! duty roster; mediation rooms; and scope checks for administrators.

use crate::cases::{Context, staff_freed};
use crate::entity::{duty_shift, mediation_room, org_unit, staff, staff_skill, staff_unit};
use crate::org::{InUse, booked_sessions};
use crate::records::{self, DutyShiftRecord, OrgUnitRecord, RoomRecord, StaffRecord};
use crate::rows::{kind, literal, numbered};
use crate::{Store, StoreError};
use chrono::{DateTime, Utc};
use sansuo_domain::dispatch::Presence;
use sansuo_domain::{OrgUnitId, StaffId};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DbBackend, EntityTrait, FromQueryResult, QueryFilter,
    QueryOrder, Statement,
};
use uuid::Uuid;

/// `staff.presence` as written (kept for callers outside the crate;
/// the names are `Presence::as_str`).
pub fn presence_name(presence: Presence) -> &'static str {
    presence.as_str()
}

/// `staff.presence` as read; `None` for a value no code writes.
pub fn parse_presence(text: &str) -> Option<Presence> {
    text.parse().ok()
}

/// A staff account with its routing attributes.
#[derive(Debug, Clone)]
pub struct StaffProfile {
    pub account: StaffRecord,
    pub units: Vec<Uuid>,
    pub skills: Vec<String>,
}

/// A change to a room: each `Some` replaces the value (`Some(None)`
/// clears an optional one), each `None` leaves it.
#[derive(Debug, Default)]
pub struct RoomEdit<'a> {
    pub name: Option<&'a str>,
    pub address: Option<Option<&'a str>>,
    pub opening_hours: Option<Option<&'a str>>,
}

pub struct NewRoom<'a> {
    pub unit: OrgUnitId,
    pub name: &'a str,
    pub address: Option<&'a str>,
    pub opening_hours: Option<&'a str>,
}

/// Staff profiles, presence, duty shifts and rooms; dispatch snapshots.
///
/// Reached as `store.staffing()`; see [`Store`].
#[derive(Clone, Copy)]
pub struct Staffing<'a>(pub(crate) &'a Store);

impl std::ops::Deref for Staffing<'_> {
    type Target = Store;
    fn deref(&self) -> &Store {
        self.0
    }
}

impl Store {
    /// Staff profiles, presence, duty shifts and rooms; dispatch snapshots.
    pub fn staffing(&self) -> Staffing<'_> {
        Staffing(self)
    }
}

impl Staffing<'_> {
    /// Whether `unit` lies inside `scope`: the same unit, below it in the
    /// tree, or a community whose police station is `scope`.
    pub async fn unit_within(self, unit: OrgUnitId, scope: OrgUnitId) -> Result<bool, StoreError> {
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
        self,
        parent: Option<OrgUnitId>,
    ) -> Result<Vec<OrgUnitRecord>, StoreError> {
        let query = match parent {
            Some(p) => org_unit::Entity::find().filter(org_unit::Column::ParentId.eq(p.as_uuid())),
            None => org_unit::Entity::find().filter(org_unit::Column::ParentId.is_null()),
        };
        Ok(records::all(
            query
                .order_by_asc(org_unit::Column::Name)
                .all(self.db())
                .await?,
        )?)
    }

    pub async fn profile(self, id: StaffId) -> Result<Option<StaffProfile>, StoreError> {
        let Some(account) = self.identity().staff_row(id).await? else {
            return Ok(None);
        };
        let mut profiles = self.profiles(vec![account]).await?;
        Ok(profiles.pop())
    }

    /// Staff whose home unit is `unit`, with their attributes.
    pub async fn of_unit(self, unit: OrgUnitId) -> Result<Vec<StaffProfile>, StoreError> {
        let accounts = staff::Entity::find()
            .filter(staff::Column::OrgUnitId.eq(unit.as_uuid()))
            .order_by_asc(staff::Column::Username)
            .all(self.db())
            .await?;
        self.profiles(accounts).await
    }

    async fn profiles(self, accounts: Vec<staff::Model>) -> Result<Vec<StaffProfile>, StoreError> {
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
        accounts
            .into_iter()
            .map(|row| -> Result<StaffProfile, StoreError> {
                let account = StaffRecord::try_from(row)?;
                let id = account.id.as_uuid();
                Ok(StaffProfile {
                    units: units
                        .iter()
                        .filter(|u| u.staff_id == id)
                        .map(|u| u.org_unit_id)
                        .collect(),
                    skills: skills
                        .iter()
                        .filter(|s| s.staff_id == id)
                        .map(|s| s.category_code.clone())
                        .collect(),
                    account,
                })
            })
            .collect()
    }

    /// Replace a staff member's units and skills (each `None` leaves it as it is).
    pub async fn set_routing(
        self,
        id: StaffId,
        units: Option<&[OrgUnitId]>,
        skills: Option<&[String]>,
        capacity: Option<i32>,
    ) -> Result<(), StoreError> {
        let txn = self.begin_write().await?;
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
        self.commit_work(txn).await?;
        Ok(())
    }

    pub async fn set_display_name(self, id: StaffId, name: &str) -> Result<(), StoreError> {
        staff::Entity::update_many()
            .col_expr(staff::Column::DisplayName, Expr::value(name))
            .filter(staff::Column::Id.eq(id.as_uuid()))
            .exec(self.db())
            .await?;
        Ok(())
    }

    pub async fn set_presence(
        self,
        id: StaffId,
        presence: Presence,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let txn = self.begin_write().await?;
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
            let ctx = Context {
                actor: sansuo_domain::Actor::System,
                request_id: None,
                now,
            };
            staff_freed(&txn, id, ctx).await?;
        }
        self.commit_work(txn).await?;
        Ok(())
    }

    /// One person as the dispatch engine sees them, with every unit they
    /// serve (home, memberships, and for lawyers their firm's pool units).
    pub async fn own_dispatch_snapshot(
        self,
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
            for unit in self.org().pool_units_of_firm(firm).await? {
                if !me.units.contains(&unit.into()) {
                    me.units.push(unit.into());
                }
            }
        }
        Ok(Some(me))
    }

    pub async fn add_duty_shift(
        self,
        unit: OrgUnitId,
        staff: StaffId,
        starts_at: DateTime<Utc>,
        ends_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<DutyShiftRecord, StoreError> {
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
        Ok(shift.into())
    }

    /// Shifts of a unit overlapping `[from, to)`, in start order.
    pub async fn duty_shifts(
        self,
        unit: OrgUnitId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<DutyShiftRecord>, StoreError> {
        Ok(duty_shift::Entity::find()
            .filter(duty_shift::Column::OrgUnitId.eq(unit.as_uuid()))
            .filter(duty_shift::Column::StartsAt.lt(to))
            .filter(duty_shift::Column::EndsAt.gt(from))
            .order_by_asc(duty_shift::Column::StartsAt)
            .all(self.db())
            .await?
            .into_iter()
            .map(Into::into)
            .collect())
    }

    pub async fn duty_shift(self, id: Uuid) -> Result<Option<DutyShiftRecord>, StoreError> {
        Ok(duty_shift::Entity::find_by_id(id)
            .one(self.db())
            .await?
            .map(Into::into))
    }

    pub async fn delete_duty_shift(self, id: Uuid) -> Result<bool, StoreError> {
        Ok(duty_shift::Entity::delete_by_id(id)
            .exec(self.db())
            .await?
            .rows_affected
            == 1)
    }

    pub async fn add_room(
        self,
        room: NewRoom<'_>,
        now: DateTime<Utc>,
    ) -> Result<RoomRecord, StoreError> {
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
        Ok(model.into())
    }

    pub async fn room(self, id: Uuid) -> Result<Option<RoomRecord>, StoreError> {
        Ok(mediation_room::Entity::find_by_id(id)
            .one(self.db())
            .await?
            .map(Into::into))
    }

    pub async fn edit_room(self, id: Uuid, edit: RoomEdit<'_>) -> Result<(), StoreError> {
        use mediation_room::Column;
        let mut update = mediation_room::Entity::update_many().filter(Column::Id.eq(id));
        let mut changed = false;
        if let Some(name) = edit.name {
            update = update.col_expr(Column::Name, Expr::value(name));
            changed = true;
        }
        if let Some(address) = edit.address {
            update = update.col_expr(Column::Address, Expr::value(address.map(str::to_owned)));
            changed = true;
        }
        if let Some(hours) = edit.opening_hours {
            update = update.col_expr(Column::OpeningHours, Expr::value(hours.map(str::to_owned)));
            changed = true;
        }
        if changed {
            update.exec(self.db()).await?;
        }
        Ok(())
    }

    /// Switch a room on or off. Off is refused while sessions are booked
    /// ahead in it (the answer says how many; nothing changes): they are
    /// moved or cancelled first. Held sessions keep their room.
    pub async fn set_room_active(
        self,
        id: Uuid,
        active: bool,
        now: DateTime<Utc>,
    ) -> Result<InUse, StoreError> {
        let txn = self.begin_write().await?;
        if !active {
            let booked = booked_sessions(&txn, vec![id], now).await?;
            if booked > 0 {
                txn.rollback().await?;
                return Ok(InUse {
                    booked_sessions: booked,
                    ..InUse::default()
                });
            }
        }
        mediation_room::Entity::update_many()
            .col_expr(mediation_room::Column::Active, Expr::value(active))
            .filter(mediation_room::Column::Id.eq(id))
            .exec(&txn)
            .await?;
        self.commit_work(txn).await?;
        Ok(InUse::default())
    }

    /// Every room that takes bookings, by name: the caller keeps those it
    /// may name (`scope::RoomId`), so a list and a lookup never disagree.
    pub async fn active_rooms(self) -> Result<Vec<RoomRecord>, StoreError> {
        Ok(mediation_room::Entity::find()
            .filter(mediation_room::Column::Active.eq(true))
            .order_by_asc(mediation_room::Column::Name)
            .all(self.db())
            .await?
            .into_iter()
            .map(Into::into)
            .collect())
    }

    pub async fn rooms_of(self, unit: OrgUnitId) -> Result<Vec<RoomRecord>, StoreError> {
        Ok(mediation_room::Entity::find()
            .filter(mediation_room::Column::OrgUnitId.eq(unit.as_uuid()))
            .order_by_asc(mediation_room::Column::Name)
            .all(self.db())
            .await?
            .into_iter()
            .map(Into::into)
            .collect())
    }
}

/// One row of [`Store::dispatch_snapshots`]: a staff member, their lists
/// folded into comma-separated text, their load counted.
#[derive(Debug, FromQueryResult)]
struct SnapshotRow {
    id: Uuid,
    org_unit_id: Uuid,
    active: bool,
    capacity: i32,
    presence: String,
    created_at: DateTime<Utc>,
    last_assigned_at: Option<DateTime<Utc>>,
    /// Units beyond the home unit (`staff_units`), UUIDs as text.
    units: Option<String>,
    /// Category codes (two capitals and digits: never a comma), sorted.
    skills: Option<String>,
    /// Communities whose signed lawyer this is, UUIDs as text.
    signed: Option<String>,
    on_duty: i32,
    /// Named on some duty rota: whether the rotas need reading.
    in_rota: i32,
    load: i64,
    /// Serves the unit through a firm signed to it (or to the street's
    /// district), or as the community's signed lawyer: the unit is theirs.
    serves_here: i32,
}

fn uuid_list(list: Option<String>) -> Result<Vec<Uuid>, StoreError> {
    list.iter()
        .flat_map(|l| l.split(','))
        .map(|text| {
            Uuid::parse_str(text).map_err(|e| {
                StoreError::Db(sea_orm::DbErr::Custom(format!(
                    "staff snapshot: `{text}` is not a UUID: {e}"
                )))
            })
        })
        .collect()
}

/// The staff snapshot of one (role, unit) as ONE statement; it replaced
/// eight (accounts, units, skills, signings, firms, roster, owned load,
/// offered load: BENCHMARKS.md, the routing engine). Who works for the
/// unit: home unit, membership, and for lawyers a firm serving it (signed
/// to it, or for a street to its district) or the community's signing.
/// The text serves PostgreSQL and SQLite alike (the bundled SQLite is
/// ≥ 3.44: `string_agg` with `ORDER BY`) except for two spellings: the
/// placeholders ([`numbered`]) and UUIDs as text (SQLite stores them as
/// 16-byte blobs: `hex()`; PostgreSQL casts). The roster and the signings
/// have no index by staff member, so they are read once for everyone
/// (`IN (SELECT id FROM who)`), not once per person.
fn snapshot_sql(backend: DbBackend, lawyers: bool) -> String {
    let as_text = |column: &str| match backend {
        DbBackend::Postgres => format!("CAST({column} AS TEXT)"),
        _ => format!("hex({column})"),
    };
    let (pool_firms, signed_here) = if lawyers {
        (
            format!(
                "SELECT fs.firm_id FROM firm_signings fs WHERE fs.org_unit_id = $2 \
                   OR fs.org_unit_id IN (SELECT u.parent_id FROM org_units u \
                                         WHERE u.id = $2 AND u.kind = {street})",
                street = literal(kind::STREET)
            ),
            "SELECT ls.staff_id FROM lawyer_signings ls WHERE ls.community_id = $2",
        )
    } else {
        // Other roles serve a unit only as its own staff or members.
        (
            "SELECT fs.firm_id FROM firm_signings fs WHERE 1 = 0".to_owned(),
            "SELECT ls.staff_id FROM lawyer_signings ls WHERE 1 = 0",
        )
    };
    let units = as_text("su.org_unit_id");
    let communities = as_text("ls.community_id");
    numbered(
        backend,
        format!(
            "WITH pool_firms AS ({pool_firms}), \
             signed_here AS ({signed_here}), \
             who AS (\
               SELECT s.id, s.org_unit_id, s.law_firm_id, s.active, s.capacity, s.presence, \
                      s.created_at, s.last_assigned_at, s.load \
               FROM staff s \
               WHERE s.role = $1 AND (s.org_unit_id = $2 \
                 OR s.id IN (SELECT su.staff_id FROM staff_units su WHERE su.org_unit_id = $2) \
                 OR s.law_firm_id IN (SELECT firm_id FROM pool_firms) \
                 OR s.id IN (SELECT staff_id FROM signed_here))), \
             member_units AS (\
               SELECT su.staff_id, string_agg({units}, ',') AS list FROM staff_units su \
               WHERE su.staff_id IN (SELECT id FROM who) GROUP BY su.staff_id), \
             skills AS (\
               SELECT sk.staff_id, string_agg(sk.category_code, ',' ORDER BY sk.category_code) AS list \
               FROM staff_skills sk WHERE sk.staff_id IN (SELECT id FROM who) GROUP BY sk.staff_id), \
             signings AS (\
               SELECT ls.staff_id, string_agg({communities}, ',') AS list FROM lawyer_signings ls \
               WHERE ls.staff_id IN (SELECT id FROM who) GROUP BY ls.staff_id), \
             duty AS (\
               SELECT DISTINCT d.staff_id FROM duty_shifts d \
               WHERE d.staff_id IN (SELECT id FROM who) AND d.starts_at <= $3 AND d.ends_at > $3) \
             SELECT w.id, w.org_unit_id, w.active, w.capacity, w.presence, w.created_at, \
                    w.last_assigned_at, member_units.list AS units, skills.list AS skills, \
                    signings.list AS signed, \
                    CASE WHEN duty.staff_id IS NULL THEN 0 ELSE 1 END AS on_duty, \
                    CASE WHEN EXISTS (SELECT 1 FROM duty_rota_staff r WHERE r.staff_id = w.id) \
                         THEN 1 ELSE 0 END AS in_rota, \
                    CAST(w.load AS BIGINT) AS load, \
                    CASE WHEN w.law_firm_id IN (SELECT firm_id FROM pool_firms) \
                           OR w.id IN (SELECT staff_id FROM signed_here) \
                         THEN 1 ELSE 0 END AS serves_here \
             FROM who w \
             LEFT JOIN member_units ON member_units.staff_id = w.id \
             LEFT JOIN skills ON skills.staff_id = w.id \
             LEFT JOIN signings ON signings.staff_id = w.id \
             LEFT JOIN duty ON duty.staff_id = w.id \
             ORDER BY w.id"
        ),
    )
}

impl Staffing<'_> {
    /// Everyone of `role` working for `unit` (home unit or membership), as
    /// the dispatch engine sees them at `now`: presence, duty, load, skills.
    /// One statement (see [`snapshot_sql`]).
    pub async fn dispatch_snapshots(
        self,
        role: sansuo_domain::StaffRole,
        unit: OrgUnitId,
        now: DateTime<Utc>,
    ) -> Result<Vec<sansuo_domain::dispatch::StaffSnapshot>, StoreError> {
        let backend = self.backend();
        let statement = Statement::from_sql_and_values(
            backend,
            snapshot_sql(backend, role == sansuo_domain::StaffRole::Lawyer),
            [role.as_str().into(), unit.as_uuid().into(), now.into()],
        );
        let rows = SnapshotRow::find_by_statement(statement)
            .all(self.db())
            .await?;
        // The single shifts are in the statement; the rotas are rules,
        // read as they stand (see `rotas`), for those in one (lawyers, say,
        // never are: no further statement for them).
        let weighed: Vec<StaffId> = rows
            .iter()
            .filter(|row| row.in_rota != 0)
            .map(|row| row.id.into())
            .collect();
        let on_rota = self.rotas().on_duty_at(&weighed, now).await?;
        rows.into_iter()
            .map(|row| {
                // Home unit first, then memberships, then the unit served
                // through a firm or signing (the engine only asks `contains`).
                let mut units = vec![row.org_unit_id];
                units.extend(uuid_list(row.units)?);
                if row.serves_here != 0 {
                    units.push(unit.as_uuid());
                }
                Ok(sansuo_domain::dispatch::StaffSnapshot {
                    id: row.id.into(),
                    role,
                    active: row.active,
                    units: units.into_iter().map(Into::into).collect(),
                    skills: row
                        .skills
                        .iter()
                        .flat_map(|s| s.split(','))
                        .map(str::to_owned)
                        .collect(),
                    presence: parse_presence(&row.presence).unwrap_or(Presence::OffDuty),
                    on_duty: row.on_duty != 0 || on_rota.contains(&StaffId::from(row.id)),
                    active_cases: row.load.max(0) as u32,
                    capacity: row.capacity.max(0) as u32,
                    signed_communities: uuid_list(row.signed)?
                        .into_iter()
                        .map(Into::into)
                        .collect(),
                    idle_since: row.last_assigned_at.unwrap_or(row.created_at),
                })
            })
            .collect()
    }
}
