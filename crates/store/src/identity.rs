//! Residents, staff accounts and refresh tokens.

use crate::entity::{refresh_token, resident, resident_deletion, staff, staff_wechat};
use crate::records::{ResidentRecord, StaffRecord};
use crate::{Store, StoreError};
use chrono::{DateTime, Utc};
use sansuo_domain::dispatch::Presence;
use sansuo_domain::{OrgUnitId, ResidentId, StaffId, StaffRole};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter, QuerySelect,
};

pub use crate::cache::{DELETIONS_KEPT, SESSION_TTL, StaffSession};
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
    ) -> Result<ResidentRecord, StoreError> {
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
            .map(ResidentRecord::from)
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

    pub async fn resident(self, id: ResidentId) -> Result<Option<ResidentRecord>, StoreError> {
        Ok(resident::Entity::find_by_id(id.as_uuid())
            .one(self.db())
            .await?
            .map(ResidentRecord::from))
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
            session_epoch: Set(0),
            demo: Set(false),
            load: Set(0),
        })
        .exec_without_returning(self.db())
        .await?;
        Ok(id)
    }

    pub async fn staff_by_username(
        self,
        username: &str,
    ) -> Result<Option<StaffRecord>, StoreError> {
        Ok(staff::Entity::find()
            .filter(staff::Column::Username.eq(username))
            .one(self.db())
            .await?
            .map(TryInto::try_into)
            .transpose()?)
    }

    pub async fn staff(self, id: StaffId) -> Result<Option<StaffRecord>, StoreError> {
        Ok(self
            .staff_row(id)
            .await?
            .map(TryInto::try_into)
            .transpose()?)
    }

    /// The row itself, for the store's own joins.
    pub(crate) async fn staff_row(self, id: StaffId) -> Result<Option<staff::Model>, StoreError> {
        Ok(staff::Entity::find_by_id(id.as_uuid())
            .one(self.db())
            .await?)
    }

    /// Activate or deactivate an account. Deactivating ends every session
    /// of it (`end_staff_sessions`) in the same transaction.
    pub async fn set_staff_active(self, id: StaffId, active: bool) -> Result<(), StoreError> {
        let txn = self.begin_write().await?;
        let changed = staff::Entity::update_many()
            .col_expr(staff::Column::Active, active.into())
            .filter(staff::Column::Id.eq(id.as_uuid()))
            .filter(staff::Column::Active.eq(!active))
            .exec(&txn)
            .await?;
        if changed.rows_affected > 0 && !active {
            end_sessions(&txn, id).await?;
            // A deactivated account is sent nothing more, and its WeChat
            // user may bind another account.
            staff_wechat::Entity::delete_by_id(id.as_uuid())
                .exec(&txn)
                .await?;
        }
        self.commit_work(txn).await?;
        self.reference().forget_session(id.as_uuid());
        Ok(())
    }

    /// Bind a WeChat user (the openid of a `wx.login` code) to a staff
    /// account, replacing the one it had. `false`: that openid is bound to
    /// another staff account (the unique index decides, whatever the race).
    pub async fn bind_staff_wechat(
        self,
        id: StaffId,
        openid: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let bound = staff_wechat::Entity::insert(staff_wechat::ActiveModel {
            staff_id: Set(id.as_uuid()),
            openid: Set(openid.to_owned()),
            bound_at: Set(now),
        })
        .on_conflict(
            OnConflict::column(staff_wechat::Column::StaffId)
                .update_columns([staff_wechat::Column::Openid, staff_wechat::Column::BoundAt])
                .to_owned(),
        )
        .exec_without_returning(self.db())
        .await;
        match bound {
            Ok(_) => Ok(true),
            Err(e) => {
                let e = StoreError::from(e);
                if e.is_unique_violation() {
                    Ok(false)
                } else {
                    Err(e)
                }
            }
        }
    }

    /// Forget the staff account's WeChat user; `false`: none was bound.
    pub async fn unbind_staff_wechat(self, id: StaffId) -> Result<bool, StoreError> {
        let deleted = staff_wechat::Entity::delete_by_id(id.as_uuid())
            .exec(self.db())
            .await?;
        Ok(deleted.rows_affected > 0)
    }

    /// The openid a staff account bound, if any (only the sender needs it;
    /// no view shows it).
    pub async fn staff_wechat_openid(self, id: StaffId) -> Result<Option<String>, StoreError> {
        Ok(staff_wechat::Entity::find_by_id(id.as_uuid())
            .one(self.db())
            .await?
            .map(|row| row.openid))
    }

    /// A new password hash; every session of the account ends.
    pub async fn set_staff_password(
        self,
        id: StaffId,
        password_hash: &str,
    ) -> Result<(), StoreError> {
        let txn = self.begin_write().await?;
        let changed = staff::Entity::update_many()
            .col_expr(staff::Column::PasswordHash, password_hash.into())
            .filter(staff::Column::Id.eq(id.as_uuid()))
            .exec(&txn)
            .await?;
        if changed.rows_affected == 0 {
            return Err(StoreError::NotFound);
        }
        end_sessions(&txn, id).await?;
        self.commit_work(txn).await?;
        self.reference().forget_session(id.as_uuid());
        Ok(())
    }

    /// End every session of an account now: its access tokens (they carry
    /// the old epoch) and its refresh tokens. Called on any change of what
    /// a token says (role, unit) or of how one is obtained (password).
    pub async fn end_staff_sessions(self, id: StaffId) -> Result<(), StoreError> {
        let txn = self.begin_write().await?;
        end_sessions(&txn, id).await?;
        self.commit_work(txn).await?;
        self.reference().forget_session(id.as_uuid());
        Ok(())
    }

    /// What a staff access token is checked against on every request: read
    /// at most once a second per instance, so a change made anywhere is
    /// seen everywhere within [`crate::cache::SESSION_TTL`], and at once
    /// through the instance that made it. `None`: no such account.
    pub async fn staff_session(self, id: StaffId) -> Result<Option<StaffSession>, StoreError> {
        if let Some(cached) = self.reference().session(id.as_uuid()) {
            return Ok(cached);
        }
        let session = staff::Entity::find_by_id(id.as_uuid())
            .one(self.db())
            .await?
            .and_then(|row| {
                Some(StaffSession {
                    epoch: row.session_epoch,
                    active: row.active,
                    demo: row.demo,
                    role: row.role.parse().ok()?,
                    scope: row.org_unit_id.into(),
                })
            });
        self.reference().put_session(id.as_uuid(), session);
        Ok(session)
    }

    /// Whether a resident's account still stands, as every resident request
    /// checks its token: not among the accounts deleted within
    /// [`DELETIONS_KEPT`]. Those are read as one query for the whole
    /// instance at most once a [`SESSION_TTL`] (at once through the instance
    /// that deleted it), instead of one read of the resident's row per
    /// request. By time rather than by a sequence: a deletion committed
    /// after a later-numbered one would be skipped by `seq > last seen`,
    /// and deletions are rare enough that re-reading the window is cheap.
    /// Tokens are only issued to accounts that exist, so an account not
    /// deleted stands.
    pub async fn resident_session(self, id: ResidentId) -> Result<bool, StoreError> {
        let mut deleted = self.reference().deleted_residents.lock().await;
        let stale = deleted
            .as_ref()
            .is_none_or(|(at, _)| at.elapsed() >= SESSION_TTL);
        if stale {
            let ids = resident_deletion::Entity::find()
                .select_only()
                .column(resident_deletion::Column::ResidentId)
                .filter(resident_deletion::Column::DeletedAt.gt(Utc::now() - DELETIONS_KEPT))
                .into_tuple::<Uuid>()
                .all(self.db())
                .await?;
            *deleted = Some((std::time::Instant::now(), ids.into_iter().collect()));
        }
        Ok(deleted
            .as_ref()
            .is_none_or(|(_, ids)| !ids.contains(&id.as_uuid())))
    }

    /// Mark accounts as the demo's (`seed-demo`): refused outside `--demo`.
    pub async fn mark_demo_staff(self, ids: &[StaffId]) -> Result<(), StoreError> {
        let txn = self.begin_write().await?;
        staff::Entity::update_many()
            .col_expr(staff::Column::Demo, true.into())
            .filter(staff::Column::Id.is_in(ids.iter().map(|id| id.as_uuid())))
            .exec(&txn)
            .await?;
        self.commit_work(txn).await?;
        for id in ids {
            self.reference().forget_session(id.as_uuid());
        }
        Ok(())
    }

    /// What `seed-demo` may write into: a database with demo accounts, or
    /// one with no staff and no organisation yet.
    pub async fn demo_seed_target(self) -> Result<DemoSeedTarget, StoreError> {
        use crate::entity::org_unit;
        use sea_orm::PaginatorTrait;
        if staff::Entity::find()
            .filter(staff::Column::Demo.eq(true))
            .count(self.db())
            .await?
            > 0
        {
            return Ok(DemoSeedTarget::Demo);
        }
        let staff = staff::Entity::find().count(self.db()).await?;
        let units = org_unit::Entity::find().count(self.db()).await?;
        Ok(if staff == 0 && units == 0 {
            DemoSeedTarget::Empty
        } else {
            DemoSeedTarget::NotDemo
        })
    }

    /// Remember a new refresh token of `family` (a login starts a family;
    /// each rotation adds to it).
    pub async fn insert_refresh_token(
        self,
        token_hash: &str,
        family: Uuid,
        subject: Subject,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let txn = self.begin_write().await?;
        insert_token(&txn, token_hash, family, subject, expires_at).await?;
        self.commit_work(txn).await?;
        Ok(())
    }

    /// Trade a refresh token for a new one of the same family, in one
    /// transaction. A token works once: presenting one already used means
    /// it was copied, and the whole family (the thief's and the owner's
    /// tokens alike) ends. `expiry` gives the new token's expiry by subject.
    pub async fn rotate_refresh_token(
        self,
        token_hash: &str,
        new_hash: &str,
        expiry: impl Fn(Subject) -> DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Rotation, StoreError> {
        let txn = self.begin_write().await?;
        // The guarded update: of two concurrent uses only one wins; the
        // other then reads a used token, a reuse.
        let won = refresh_token::Entity::update_many()
            .col_expr(refresh_token::Column::Used, true.into())
            .filter(refresh_token::Column::TokenHash.eq(token_hash))
            .filter(refresh_token::Column::Used.eq(false))
            .filter(refresh_token::Column::ExpiresAt.gt(now))
            .exec(&txn)
            .await?
            .rows_affected
            == 1;
        let token = refresh_token::Entity::find()
            .filter(refresh_token::Column::TokenHash.eq(token_hash))
            .one(&txn)
            .await?;
        let outcome = match token {
            None => Rotation::Unknown,
            Some(token) if won => match subject_of(&token) {
                Some(subject) => {
                    insert_token(&txn, new_hash, token.family_id, subject, expiry(subject)).await?;
                    Rotation::Rotated {
                        subject,
                        family: token.family_id,
                    }
                }
                None => Rotation::Unknown,
            },
            Some(token) if token.used => {
                refresh_token::Entity::delete_many()
                    .filter(refresh_token::Column::FamilyId.eq(token.family_id))
                    .exec(&txn)
                    .await?;
                Rotation::Reused
            }
            // Expired: gone with its family's other expired tokens.
            Some(_) => Rotation::Unknown,
        };
        self.commit_work(txn).await?;
        Ok(outcome)
    }

    /// Log out: end the family of this refresh token. False when the token
    /// was not known (already ended).
    pub async fn end_refresh_family(self, token_hash: &str) -> Result<bool, StoreError> {
        let txn = self.begin_write().await?;
        let token = refresh_token::Entity::find()
            .filter(refresh_token::Column::TokenHash.eq(token_hash))
            .one(&txn)
            .await?;
        if let Some(token) = &token {
            refresh_token::Entity::delete_many()
                .filter(refresh_token::Column::FamilyId.eq(token.family_id))
                .exec(&txn)
                .await?;
        }
        self.commit_work(txn).await?;
        Ok(token.is_some())
    }

    /// End a family by id (a refresh that turned out to be for an account
    /// that may no longer have sessions).
    pub async fn end_refresh_family_id(self, family: Uuid) -> Result<(), StoreError> {
        let txn = self.begin_write().await?;
        refresh_token::Entity::delete_many()
            .filter(refresh_token::Column::FamilyId.eq(family))
            .exec(&txn)
            .await?;
        self.commit_work(txn).await?;
        Ok(())
    }

    /// Forget refresh tokens that expired (they can neither be used nor
    /// reused: an expired token is simply unknown).
    pub async fn delete_expired_refresh_tokens(
        self,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        let txn = self.begin_write().await?;
        let gone = refresh_token::Entity::delete_many()
            .filter(refresh_token::Column::ExpiresAt.lte(now))
            .exec(&txn)
            .await?
            .rows_affected;
        self.commit_work(txn).await?;
        Ok(gone)
    }
}

/// What presenting a refresh token came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rotation {
    /// The token was good; a new one of `family` is stored.
    Rotated { subject: Subject, family: Uuid },
    /// The token had been used before: its family has ended.
    Reused,
    /// Unknown or expired.
    Unknown,
}

/// Whose database `seed-demo` was pointed at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DemoSeedTarget {
    /// Demo accounts are there: seeding again changes nothing.
    Demo,
    /// No staff, no organisation: a fresh database.
    Empty,
    /// Real accounts or units, no demo: refused unless forced.
    NotDemo,
}

fn subject_of(token: &refresh_token::Model) -> Option<Subject> {
    match token.subject_kind.as_str() {
        "resident" => Some(Subject::Resident(token.subject_id.into())),
        "staff" => Some(Subject::Staff(token.subject_id.into())),
        _ => None,
    }
}

async fn insert_token(
    txn: &DatabaseTransaction,
    token_hash: &str,
    family: Uuid,
    subject: Subject,
    expires_at: DateTime<Utc>,
) -> Result<(), StoreError> {
    let (kind, id) = match subject {
        Subject::Resident(id) => ("resident", id.as_uuid()),
        Subject::Staff(id) => ("staff", id.as_uuid()),
    };
    refresh_token::Entity::insert(refresh_token::ActiveModel {
        // Random, not time-ordered: the id must not date the row.
        id: Set(Uuid::new_v4()),
        token_hash: Set(token_hash.to_owned()),
        family_id: Set(family),
        subject_kind: Set(kind.to_owned()),
        subject_id: Set(id),
        expires_at: Set(expires_at),
        used: Set(false),
    })
    .exec_without_returning(txn)
    .await?;
    Ok(())
}

/// Bump the epoch (every access token dies) and drop the refresh tokens.
async fn end_sessions(txn: &DatabaseTransaction, id: StaffId) -> Result<(), StoreError> {
    use sea_orm::sea_query::{Expr, ExprTrait};
    staff::Entity::update_many()
        .col_expr(
            staff::Column::SessionEpoch,
            Expr::col(staff::Column::SessionEpoch).add(1),
        )
        .filter(staff::Column::Id.eq(id.as_uuid()))
        .exec(txn)
        .await?;
    refresh_token::Entity::delete_many()
        .filter(refresh_token::Column::SubjectKind.eq("staff"))
        .filter(refresh_token::Column::SubjectId.eq(id.as_uuid()))
        .exec(txn)
        .await?;
    Ok(())
}
