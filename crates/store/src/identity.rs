//! Residents, staff accounts and refresh tokens.

use crate::entity::{refresh_token, resident, staff};
use crate::{Store, StoreError};
use chrono::{DateTime, Utc};
use sansuo_domain::dispatch::Presence;
use sansuo_domain::{OrgUnitId, ResidentId, StaffId, StaffRole};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

/// Active cases a staff member may hold unless an admin says otherwise.
pub const DEFAULT_CAPACITY: i32 = 5;

pub struct NewStaff<'a> {
    pub username: &'a str,
    pub password_hash: &'a str,
    pub display_name: &'a str,
    pub role: StaffRole,
    pub org_unit: OrgUnitId,
    pub law_firm: Option<Uuid>,
}

/// Rows tied to a resident keep day-granular times and random (not
/// time-ordered) ids: a fine-grained login or refresh time could be set
/// beside an anonymous tip's time and name its reporter
/// (docs/anonymity.md). Midnight UTC of `at`'s day.
pub fn resident_day(at: DateTime<Utc>) -> DateTime<Utc> {
    at.date_naive().and_time(chrono::NaiveTime::MIN).and_utc()
}

/// Who a refresh token was issued to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject {
    Resident(ResidentId),
    Staff(StaffId),
}

/// Residents, staff accounts and refresh tokens.
///
/// Reached as `store.identity()`; see [`Store`].
#[derive(Clone, Copy)]
pub struct Identity<'a>(pub(crate) &'a Store);

impl std::ops::Deref for Identity<'_> {
    type Target = Store;
    fn deref(&self) -> &Store {
        self.0
    }
}

impl Store {
    /// Residents, staff accounts and refresh tokens.
    pub fn identity(&self) -> Identity<'_> {
        Identity(self)
    }
}

impl Identity<'_> {
    /// Find or create the resident behind a WeChat openid, recording the login.
    pub async fn upsert_resident(
        self,
        openid: &str,
        unionid: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<resident::Model, StoreError> {
        let day = resident_day(now);
        resident::Entity::insert(resident::ActiveModel {
            id: Set(Uuid::new_v4()),
            openid: Set(openid.to_owned()),
            unionid: Set(unionid.map(str::to_owned)),
            created_at: Set(day),
            last_login_at: Set(day),
            phone_sealed: Set(None),
            phone_masked: Set(None),
            phone_bound_at: Set(None),
        })
        .on_conflict(
            OnConflict::column(resident::Column::Openid)
                .update_column(resident::Column::LastLoginAt)
                .to_owned(),
        )
        .exec_without_returning(self.db())
        .await?;
        resident::Entity::find()
            .filter(resident::Column::Openid.eq(openid))
            .one(self.db())
            .await?
            .ok_or(StoreError::NotFound)
    }

    /// Bind a phone number: the caller seals it (sansuo-vault); the plain
    /// number never reaches the database.
    pub async fn bind_phone(
        self,
        id: ResidentId,
        sealed: &str,
        masked: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        use sea_orm::sea_query::Expr;
        resident::Entity::update_many()
            .col_expr(resident::Column::PhoneSealed, Expr::value(sealed))
            .col_expr(resident::Column::PhoneMasked, Expr::value(masked))
            .col_expr(
                resident::Column::PhoneBoundAt,
                Expr::value(resident_day(now)),
            )
            .filter(resident::Column::Id.eq(id.as_uuid()))
            .exec(self.db())
            .await?;
        Ok(())
    }

    pub async fn resident(self, id: ResidentId) -> Result<Option<resident::Model>, StoreError> {
        Ok(resident::Entity::find_by_id(id.as_uuid())
            .one(self.db())
            .await?)
    }

    pub async fn insert_staff(
        self,
        new: NewStaff<'_>,
        now: DateTime<Utc>,
    ) -> Result<StaffId, StoreError> {
        let id = StaffId::new();
        staff::Entity::insert(staff::ActiveModel {
            id: Set(id.as_uuid()),
            username: Set(new.username.to_owned()),
            password_hash: Set(new.password_hash.to_owned()),
            display_name: Set(new.display_name.to_owned()),
            role: Set(new.role.as_str().to_owned()),
            org_unit_id: Set(new.org_unit.as_uuid()),
            law_firm_id: Set(new.law_firm),
            active: Set(true),
            created_at: Set(now),
            capacity: Set(DEFAULT_CAPACITY),
            presence: Set(Presence::Available.as_str().to_owned()),
            presence_changed_at: Set(None),
            last_assigned_at: Set(None),
        })
        .exec_without_returning(self.db())
        .await?;
        Ok(id)
    }

    pub async fn staff_by_username(
        self,
        username: &str,
    ) -> Result<Option<staff::Model>, StoreError> {
        Ok(staff::Entity::find()
            .filter(staff::Column::Username.eq(username))
            .one(self.db())
            .await?)
    }

    pub async fn staff(self, id: StaffId) -> Result<Option<staff::Model>, StoreError> {
        Ok(staff::Entity::find_by_id(id.as_uuid())
            .one(self.db())
            .await?)
    }

    pub async fn set_staff_active(self, id: StaffId, active: bool) -> Result<(), StoreError> {
        staff::Entity::update_many()
            .col_expr(staff::Column::Active, active.into())
            .filter(staff::Column::Id.eq(id.as_uuid()))
            .exec(self.db())
            .await?;
        Ok(())
    }

    pub async fn insert_refresh_token(
        self,
        token_hash: &str,
        subject: Subject,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let (kind, id) = match subject {
            Subject::Resident(id) => ("resident", id.as_uuid()),
            Subject::Staff(id) => ("staff", id.as_uuid()),
        };
        // A resident's token: issued "that day", expiring at the end of
        // the day it would expire (never earlier), a random row id.
        let (row_id, expires_at, now) = match subject {
            Subject::Resident(_) => (
                Uuid::new_v4(),
                resident_day(expires_at) + chrono::Duration::days(1),
                resident_day(now),
            ),
            Subject::Staff(_) => (Uuid::now_v7(), expires_at, now),
        };
        refresh_token::Entity::insert(refresh_token::ActiveModel {
            id: Set(row_id),
            token_hash: Set(token_hash.to_owned()),
            subject_kind: Set(kind.to_owned()),
            subject_id: Set(id),
            expires_at: Set(expires_at),
            used_at: Set(None),
            created_at: Set(now),
        })
        .exec_without_returning(self.db())
        .await?;
        Ok(())
    }

    /// Use a refresh token once. Rotation means a token works exactly one
    /// time: the guarded update lets only one of two concurrent uses win.
    pub async fn consume_refresh_token(
        self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Subject>, StoreError> {
        let updated = refresh_token::Entity::update_many()
            // A marker, not a clock: day-granular (resident rows).
            .col_expr(refresh_token::Column::UsedAt, resident_day(now).into())
            .filter(refresh_token::Column::TokenHash.eq(token_hash))
            .filter(refresh_token::Column::UsedAt.is_null())
            .filter(refresh_token::Column::ExpiresAt.gt(now))
            .exec(self.db())
            .await?;
        if updated.rows_affected != 1 {
            return Ok(None);
        }
        let token = refresh_token::Entity::find()
            .filter(refresh_token::Column::TokenHash.eq(token_hash))
            .one(self.db())
            .await?
            .ok_or(StoreError::NotFound)?;
        Ok(match token.subject_kind.as_str() {
            "resident" => Some(Subject::Resident(token.subject_id.into())),
            "staff" => Some(Subject::Staff(token.subject_id.into())),
            _ => None,
        })
    }
}
