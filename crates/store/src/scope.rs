//! Scope as structure: every id a caller names (in a path, a query or a
//! body) resolves here (`store.org().resolve_in_scope(scope, id)`), against a unit of the organisation tree, to an
//! [`InScope`] value or to [`StoreError::NotFound`]. Nothing outside this
//! module can make an `InScope`, so a function that takes one cannot be
//! handed an id nobody checked; and "outside your scope" and "does not
//! exist" are the same answer, so neither is an oracle for the other.
//!
//! What "within `scope`" means for each kind of id:
//!
//! | id | in scope when |
//! |---|---|
//! | [`OrgUnitId`] | the unit is `scope` or below it (or `scope` is its police station) |
//! | [`Station`] | a police station within `scope`, or the station of a community within it |
//! | [`StaffId`] | the account's home unit is within `scope` |
//! | [`RoomId`] | the room's unit is within `scope`, or (for a community `scope`) is one of the units over it: its street, district or police station |
//! | [`ManagedRoom`] | a room, active or not, whose unit is within `scope` (to edit it, not to book it) |
//! | [`ShiftId`] | the shift's unit is within `scope` |
//! | [`FirmId`] | the firm is signed to a unit within `scope`, or to a unit `scope` lies within |
//! | [`CaseId`] | the case's community is within `scope` |
//! | [`ExtensionId`] | its case's community is within `scope` |
//! | [`MediatorId`] | (`scope` a community) a mediator whose home unit is within the community's street, or is a unit over the community (its street or district) |
//!
//! Categories are global: they need no scope.

use crate::entity::{
    case, case_extension, duty_shift, firm_signing, law_firm, mediation_room, org_unit, staff,
};
use crate::org::Org;
use crate::rows::kind;
use crate::{Store, StoreError};
use sansuo_domain::{CaseId, ExtensionId, OrgUnitId, StaffId, StaffRole};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use std::future::Future;
use uuid::Uuid;

/// An id that was resolved within a scope. Only this module makes one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InScope<T> {
    id: T,
}

impl<T: Copy> InScope<T> {
    pub fn id(&self) -> T {
        self.id
    }
}

/// A police station named as a community's station.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Station(pub OrgUnitId);

/// A mediation room.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RoomId(pub Uuid);

/// A mediation room to edit or switch on or off: unlike [`RoomId`] (a
/// room to book), a deactivated one is found, and only within the room's
/// own unit's subtree (a community's coordinator does not edit the
/// street's rooms it may book).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ManagedRoom(pub Uuid);

/// A duty shift.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShiftId(pub Uuid);

/// A law firm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FirmId(pub Uuid);

/// A mediator named for a community's mediation (asked for, or refused,
/// by the applicant): within the community's street, or over it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MediatorId(pub StaffId);

macro_rules! from_uuid {
    ($($name:ident),*) => {$(
        impl From<Uuid> for $name {
            fn from(id: Uuid) -> Self {
                $name(id)
            }
        }
    )*};
}
from_uuid!(RoomId, ManagedRoom, ShiftId, FirmId);

/// A kind of id a caller can name, and its rule (see the module table).
pub trait Scoped: Copy + Sized {
    fn within(
        self,
        store: &Store,
        scope: OrgUnitId,
    ) -> impl Future<Output = Result<bool, StoreError>>;
}

impl Org<'_> {
    /// `id` if it exists within `scope`, else [`StoreError::NotFound`].
    pub async fn resolve_in_scope<T: Scoped>(
        self,
        scope: OrgUnitId,
        id: T,
    ) -> Result<InScope<T>, StoreError> {
        if id.within(self.0, scope).await? {
            Ok(InScope { id })
        } else {
            Err(StoreError::NotFound)
        }
    }
}

impl Scoped for OrgUnitId {
    async fn within(self, store: &Store, scope: OrgUnitId) -> Result<bool, StoreError> {
        store.staffing().unit_within(self, scope).await
    }
}

impl Scoped for Station {
    async fn within(self, store: &Store, scope: OrgUnitId) -> Result<bool, StoreError> {
        let Some(unit) = org_unit::Entity::find_by_id(self.0.as_uuid())
            .one(store.db())
            .await?
        else {
            return Ok(false);
        };
        if unit.kind != kind::POLICE_STATION {
            return Ok(false);
        }
        if store.staffing().unit_within(self.0, scope).await? {
            return Ok(true);
        }
        let served = org_unit::Entity::find()
            .filter(org_unit::Column::StationId.eq(unit.id))
            .all(store.db())
            .await?;
        for community in served {
            if store
                .staffing()
                .unit_within(community.id.into(), scope)
                .await?
            {
                return Ok(true);
            }
        }
        Ok(false)
    }
}

impl Scoped for StaffId {
    async fn within(self, store: &Store, scope: OrgUnitId) -> Result<bool, StoreError> {
        match staff::Entity::find_by_id(self.as_uuid())
            .one(store.db())
            .await?
        {
            Some(s) => {
                store
                    .staffing()
                    .unit_within(s.org_unit_id.into(), scope)
                    .await
            }
            None => Ok(false),
        }
    }
}

impl Scoped for RoomId {
    async fn within(self, store: &Store, scope: OrgUnitId) -> Result<bool, StoreError> {
        let Some(room) = mediation_room::Entity::find_by_id(self.0)
            .filter(mediation_room::Column::Active.eq(true))
            .one(store.db())
            .await?
        else {
            return Ok(false);
        };
        let unit: OrgUnitId = room.org_unit_id.into();
        if store.staffing().unit_within(unit, scope).await? {
            return Ok(true);
        }
        // A community may use its street's (or district's, or police
        // station's) rooms: the room's unit lies over the community.
        let community = org_unit::Entity::find_by_id(scope.as_uuid())
            .one(store.db())
            .await?;
        if community.is_some_and(|c| c.kind == kind::COMMUNITY) {
            return store.staffing().unit_within(scope, unit).await;
        }
        Ok(false)
    }
}

impl Scoped for ManagedRoom {
    async fn within(self, store: &Store, scope: OrgUnitId) -> Result<bool, StoreError> {
        match mediation_room::Entity::find_by_id(self.0)
            .one(store.db())
            .await?
        {
            Some(room) => {
                store
                    .staffing()
                    .unit_within(room.org_unit_id.into(), scope)
                    .await
            }
            None => Ok(false),
        }
    }
}

impl Scoped for ShiftId {
    async fn within(self, store: &Store, scope: OrgUnitId) -> Result<bool, StoreError> {
        match duty_shift::Entity::find_by_id(self.0)
            .one(store.db())
            .await?
        {
            Some(s) => {
                store
                    .staffing()
                    .unit_within(s.org_unit_id.into(), scope)
                    .await
            }
            None => Ok(false),
        }
    }
}

impl Scoped for FirmId {
    async fn within(self, store: &Store, scope: OrgUnitId) -> Result<bool, StoreError> {
        if law_firm::Entity::find_by_id(self.0)
            .one(store.db())
            .await?
            .is_none()
        {
            return Ok(false);
        }
        let signings = firm_signing::Entity::find()
            .filter(firm_signing::Column::FirmId.eq(self.0))
            .all(store.db())
            .await?;
        for signing in signings {
            let unit: OrgUnitId = signing.org_unit_id.into();
            if store.staffing().unit_within(unit, scope).await?
                || store.staffing().unit_within(scope, unit).await?
            {
                return Ok(true);
            }
        }
        Ok(false)
    }
}

impl Scoped for CaseId {
    async fn within(self, store: &Store, scope: OrgUnitId) -> Result<bool, StoreError> {
        match case::Entity::find_by_id(self.as_uuid())
            .one(store.db())
            .await?
        {
            Some(c) => {
                store
                    .staffing()
                    .unit_within(c.community_id.into(), scope)
                    .await
            }
            None => Ok(false),
        }
    }
}

impl Scoped for ExtensionId {
    async fn within(self, store: &Store, scope: OrgUnitId) -> Result<bool, StoreError> {
        match case_extension::Entity::find_by_id(self.as_uuid())
            .one(store.db())
            .await?
        {
            Some(e) => CaseId::from(e.case_id).within(store, scope).await,
            None => Ok(false),
        }
    }
}

impl Scoped for MediatorId {
    async fn within(self, store: &Store, scope: OrgUnitId) -> Result<bool, StoreError> {
        let Some(mediator) = staff::Entity::find_by_id(self.0.as_uuid())
            .one(store.db())
            .await?
        else {
            return Ok(false);
        };
        if mediator.role.parse::<StaffRole>().ok() != Some(StaffRole::Mediator) {
            return Ok(false);
        }
        let home: OrgUnitId = mediator.org_unit_id.into();
        // A unit over the community (its street, its district) serves it.
        if store.staffing().unit_within(scope, home).await? {
            return Ok(true);
        }
        // Below the community's street: the street's other communities too.
        let mut street = None;
        let mut next = Some(scope.as_uuid());
        for _ in 0..16 {
            let Some(id) = next else { break };
            let Some(unit) = org_unit::Entity::find_by_id(id).one(store.db()).await? else {
                break;
            };
            if unit.kind == kind::STREET {
                street = Some(unit.id);
                break;
            }
            next = unit.parent_id;
        }
        match street {
            Some(street) => store.staffing().unit_within(home, street.into()).await,
            None => Ok(false),
        }
    }
}
