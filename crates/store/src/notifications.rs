//! Subscribe-message bookkeeping: credits granted by residents and by
//! staff (kept in two tables, so neither is ever spent on the other's
//! message), and one row per message owed so that an event yields exactly
//! one message even when several instances (or a redelivered job) handle it.

use crate::entity::{
    notification, staff_notification, staff_subscription_credit, subscription_credit,
};
use crate::{Store, StoreError};
use chrono::{DateTime, Duration, Utc};
use sansuo_domain::notify::{NotificationEvent, NotificationStatus};
use sansuo_domain::{CaseId, ResidentId, StaffId};
use sansuo_metrics::NotificationResult;
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{ActiveValue::Set, ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder};

/// The message owed for one event of a case, as callers read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotificationRecord {
    /// `event:case_id`: one message per event, however often it is handled.
    pub id: String,
    pub event: NotificationEvent,
    pub case_id: CaseId,
    pub resident_id: ResidentId,
    pub template_id: String,
    pub status: NotificationStatus,
    /// Sends tried, this one included once claimed.
    pub attempts: i32,
    pub last_error: Option<String>,
    pub claimed_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl TryFrom<notification::Model> for NotificationRecord {
    type Error = StoreError;
    fn try_from(n: notification::Model) -> Result<Self, StoreError> {
        let corrupt = |column: &str, value: &str| {
            StoreError::from(sea_orm::DbErr::Type(format!(
                "notifications.{column}: unknown `{value}`"
            )))
        };
        Ok(Self {
            event: NotificationEvent::parse(&n.event).ok_or_else(|| corrupt("event", &n.event))?,
            status: NotificationStatus::parse(&n.status)
                .ok_or_else(|| corrupt("status", &n.status))?,
            id: n.id,
            case_id: n.case_id.into(),
            resident_id: n.resident_id.into(),
            template_id: n.template_id,
            attempts: n.attempts,
            last_error: n.last_error,
            claimed_at: n.claimed_at,
            created_at: n.created_at,
            updated_at: n.updated_at,
        })
    }
}

/// Whose credits: a resident's or a staff member's, never mixed up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recipient {
    Resident(ResidentId),
    Staff(StaffId),
}

impl From<ResidentId> for Recipient {
    fn from(id: ResidentId) -> Self {
        Recipient::Resident(id)
    }
}

impl From<StaffId> for Recipient {
    fn from(id: StaffId) -> Self {
        Recipient::Staff(id)
    }
}

/// The message owed to a staff member for one event, as callers read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffNotificationRecord {
    /// `event:occurrence`: one message per event, however often it is handled.
    pub id: String,
    pub event: NotificationEvent,
    pub case_id: CaseId,
    pub staff_id: StaffId,
    pub template_id: String,
    pub status: NotificationStatus,
    /// Sends tried, this one included once claimed.
    pub attempts: i32,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl TryFrom<staff_notification::Model> for StaffNotificationRecord {
    type Error = StoreError;
    fn try_from(n: staff_notification::Model) -> Result<Self, StoreError> {
        let corrupt = |column: &str, value: &str| {
            StoreError::from(sea_orm::DbErr::Type(format!(
                "staff_notifications.{column}: unknown `{value}`"
            )))
        };
        Ok(Self {
            event: NotificationEvent::parse(&n.event).ok_or_else(|| corrupt("event", &n.event))?,
            status: NotificationStatus::parse(&n.status)
                .ok_or_else(|| corrupt("status", &n.status))?,
            id: n.id,
            case_id: n.case_id.into(),
            staff_id: n.staff_id.into(),
            template_id: n.template_id,
            attempts: n.attempts,
            last_error: n.last_error,
            created_at: n.created_at,
        })
    }
}

/// How long a claim on a message holds before another instance may take
/// it over (the first one crashed mid-send).
const CLAIM_TTL: Duration = Duration::seconds(60);

/// Subscribe-message credits and the notifications sent with them.
///
/// Reached as `store.notifications()`; see [`Store`].
#[derive(Clone, Copy)]
pub struct Notifications<'a>(pub(crate) &'a Store);

impl std::ops::Deref for Notifications<'_> {
    type Target = Store;
    fn deref(&self) -> &Store {
        self.0
    }
}

impl Store {
    /// Subscribe-message credits and the notifications sent with them.
    pub fn notifications(&self) -> Notifications<'_> {
        Notifications(self)
    }
}

impl Notifications<'_> {
    /// The resident (or staff member) allowed one more message of each
    /// template (WeChat one-time subscriptions add up).
    pub async fn grant_subscriptions(
        self,
        recipient: impl Into<Recipient>,
        template_ids: &[String],
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let recipient = recipient.into();
        for template in template_ids {
            match recipient {
                Recipient::Resident(resident) => {
                    subscription_credit::Entity::insert(subscription_credit::ActiveModel {
                        resident_id: Set(resident.as_uuid()),
                        template_id: Set(template.clone()),
                        credits: Set(1),
                        updated_at: Set(now),
                    })
                    .on_conflict(
                        OnConflict::columns([
                            subscription_credit::Column::ResidentId,
                            subscription_credit::Column::TemplateId,
                        ])
                        .value(
                            subscription_credit::Column::Credits,
                            Expr::col((
                                subscription_credit::Entity,
                                subscription_credit::Column::Credits,
                            ))
                            .add(1),
                        )
                        .value(subscription_credit::Column::UpdatedAt, now)
                        .to_owned(),
                    )
                    .exec_without_returning(self.db())
                    .await?;
                }
                Recipient::Staff(staff) => {
                    staff_subscription_credit::Entity::insert(
                        staff_subscription_credit::ActiveModel {
                            staff_id: Set(staff.as_uuid()),
                            template_id: Set(template.clone()),
                            credits: Set(1),
                            updated_at: Set(now),
                        },
                    )
                    .on_conflict(
                        OnConflict::columns([
                            staff_subscription_credit::Column::StaffId,
                            staff_subscription_credit::Column::TemplateId,
                        ])
                        .value(
                            staff_subscription_credit::Column::Credits,
                            Expr::col((
                                staff_subscription_credit::Entity,
                                staff_subscription_credit::Column::Credits,
                            ))
                            .add(1),
                        )
                        .value(staff_subscription_credit::Column::UpdatedAt, now)
                        .to_owned(),
                    )
                    .exec_without_returning(self.db())
                    .await?;
                }
            }
        }
        Ok(())
    }

    pub async fn credits(
        self,
        recipient: impl Into<Recipient>,
        template_id: &str,
    ) -> Result<i32, StoreError> {
        Ok(match recipient.into() {
            Recipient::Resident(resident) => subscription_credit::Entity::find_by_id((
                resident.as_uuid(),
                template_id.to_owned(),
            ))
            .one(self.db())
            .await?
            .map_or(0, |c| c.credits),
            Recipient::Staff(staff) => staff_subscription_credit::Entity::find_by_id((
                staff.as_uuid(),
                template_id.to_owned(),
            ))
            .one(self.db())
            .await?
            .map_or(0, |c| c.credits),
        })
    }

    /// Spend one credit; false when there is none (guarded, so two senders
    /// cannot spend the same credit).
    pub async fn take_credit(
        self,
        recipient: impl Into<Recipient>,
        template_id: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let updated = match recipient.into() {
            Recipient::Resident(resident) => {
                subscription_credit::Entity::update_many()
                    .col_expr(
                        subscription_credit::Column::Credits,
                        Expr::col(subscription_credit::Column::Credits).sub(1),
                    )
                    .col_expr(subscription_credit::Column::UpdatedAt, Expr::value(now))
                    .filter(subscription_credit::Column::ResidentId.eq(resident.as_uuid()))
                    .filter(subscription_credit::Column::TemplateId.eq(template_id))
                    .filter(subscription_credit::Column::Credits.gt(0))
                    .exec(self.db())
                    .await?
            }
            Recipient::Staff(staff) => {
                staff_subscription_credit::Entity::update_many()
                    .col_expr(
                        staff_subscription_credit::Column::Credits,
                        Expr::col(staff_subscription_credit::Column::Credits).sub(1),
                    )
                    .col_expr(
                        staff_subscription_credit::Column::UpdatedAt,
                        Expr::value(now),
                    )
                    .filter(staff_subscription_credit::Column::StaffId.eq(staff.as_uuid()))
                    .filter(staff_subscription_credit::Column::TemplateId.eq(template_id))
                    .filter(staff_subscription_credit::Column::Credits.gt(0))
                    .exec(self.db())
                    .await?
            }
        };
        Ok(updated.rows_affected == 1)
    }

    /// Give back a credit whose message was not delivered (transient failure).
    pub async fn refund_credit(
        self,
        recipient: impl Into<Recipient>,
        template_id: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.grant_subscriptions(recipient, &[template_id.to_owned()], now)
            .await
    }

    /// WeChat says there is no credit (43101): ours was out of step.
    pub async fn clear_credits(
        self,
        recipient: impl Into<Recipient>,
        template_id: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        match recipient.into() {
            Recipient::Resident(resident) => {
                subscription_credit::Entity::update_many()
                    .col_expr(subscription_credit::Column::Credits, Expr::value(0))
                    .col_expr(subscription_credit::Column::UpdatedAt, Expr::value(now))
                    .filter(subscription_credit::Column::ResidentId.eq(resident.as_uuid()))
                    .filter(subscription_credit::Column::TemplateId.eq(template_id))
                    .exec(self.db())
                    .await?;
            }
            Recipient::Staff(staff) => {
                staff_subscription_credit::Entity::update_many()
                    .col_expr(staff_subscription_credit::Column::Credits, Expr::value(0))
                    .col_expr(
                        staff_subscription_credit::Column::UpdatedAt,
                        Expr::value(now),
                    )
                    .filter(staff_subscription_credit::Column::StaffId.eq(staff.as_uuid()))
                    .filter(staff_subscription_credit::Column::TemplateId.eq(template_id))
                    .exec(self.db())
                    .await?;
            }
        }
        Ok(())
    }

    /// Claim the message owed for an event: creates its row on first sight,
    /// then moves it to `sending` only if it is pending (or a stale claim).
    /// `None`: another instance has it, or it is finished.
    pub async fn claim(
        self,
        id: &str,
        event: NotificationEvent,
        case_id: CaseId,
        resident: ResidentId,
        template_id: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<NotificationRecord>, StoreError> {
        notification::Entity::insert(notification::ActiveModel {
            id: Set(id.to_owned()),
            event: Set(event.as_str().to_owned()),
            case_id: Set(case_id.as_uuid()),
            resident_id: Set(resident.as_uuid()),
            template_id: Set(template_id.to_owned()),
            status: Set(NotificationStatus::Pending.as_str().to_owned()),
            attempts: Set(0),
            last_error: Set(None),
            claimed_at: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
        })
        .on_conflict_do_nothing()
        .exec_without_returning(self.db())
        .await?;
        let claimable = Condition::any()
            .add(notification::Column::Status.eq(NotificationStatus::Pending.as_str()))
            .add(
                Condition::all()
                    .add(notification::Column::Status.eq(NotificationStatus::Sending.as_str()))
                    .add(notification::Column::ClaimedAt.lt(now - CLAIM_TTL)),
            );
        let claimed = notification::Entity::update_many()
            .col_expr(
                notification::Column::Status,
                Expr::value(NotificationStatus::Sending.as_str()),
            )
            .col_expr(notification::Column::ClaimedAt, Expr::value(now))
            .col_expr(
                notification::Column::Attempts,
                Expr::col(notification::Column::Attempts).add(1),
            )
            .col_expr(notification::Column::UpdatedAt, Expr::value(now))
            .filter(notification::Column::Id.eq(id))
            .filter(claimable)
            .exec(self.db())
            .await?;
        if claimed.rows_affected != 1 {
            return Ok(None);
        }
        self.get(id).await
    }

    /// Record the outcome of a claimed send.
    pub async fn finish(
        self,
        id: &str,
        status: NotificationStatus,
        error: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        notification::Entity::update_many()
            .col_expr(notification::Column::Status, Expr::value(status.as_str()))
            .col_expr(
                notification::Column::LastError,
                Expr::value(error.map(str::to_owned)),
            )
            .col_expr(notification::Column::UpdatedAt, Expr::value(now))
            .filter(notification::Column::Id.eq(id))
            .filter(notification::Column::Status.eq(NotificationStatus::Sending.as_str()))
            .exec(self.db())
            .await?;
        count(status);
        Ok(())
    }

    /// Every message owed for one case, oldest first.
    pub async fn of_case(self, case_id: CaseId) -> Result<Vec<NotificationRecord>, StoreError> {
        notification::Entity::find()
            .filter(notification::Column::CaseId.eq(case_id.as_uuid()))
            .order_by_asc(notification::Column::CreatedAt)
            .order_by_asc(notification::Column::Id)
            .all(self.db())
            .await?
            .into_iter()
            .map(NotificationRecord::try_from)
            .collect()
    }

    pub async fn get(self, id: &str) -> Result<Option<NotificationRecord>, StoreError> {
        notification::Entity::find_by_id(id.to_owned())
            .one(self.db())
            .await?
            .map(NotificationRecord::try_from)
            .transpose()
    }
}

impl Notifications<'_> {
    /// Claim the message owed to a staff member for an event, as
    /// [`Notifications::claim`] does for a resident's.
    pub async fn claim_staff(
        self,
        id: &str,
        event: NotificationEvent,
        case_id: CaseId,
        staff: StaffId,
        template_id: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<StaffNotificationRecord>, StoreError> {
        staff_notification::Entity::insert(staff_notification::ActiveModel {
            id: Set(id.to_owned()),
            event: Set(event.as_str().to_owned()),
            case_id: Set(case_id.as_uuid()),
            staff_id: Set(staff.as_uuid()),
            template_id: Set(template_id.to_owned()),
            status: Set(NotificationStatus::Pending.as_str().to_owned()),
            attempts: Set(0),
            last_error: Set(None),
            claimed_at: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
        })
        .on_conflict_do_nothing()
        .exec_without_returning(self.db())
        .await?;
        let claimable = Condition::any()
            .add(staff_notification::Column::Status.eq(NotificationStatus::Pending.as_str()))
            .add(
                Condition::all()
                    .add(
                        staff_notification::Column::Status.eq(NotificationStatus::Sending.as_str()),
                    )
                    .add(staff_notification::Column::ClaimedAt.lt(now - CLAIM_TTL)),
            );
        let claimed = staff_notification::Entity::update_many()
            .col_expr(
                staff_notification::Column::Status,
                Expr::value(NotificationStatus::Sending.as_str()),
            )
            .col_expr(staff_notification::Column::ClaimedAt, Expr::value(now))
            .col_expr(
                staff_notification::Column::Attempts,
                Expr::col(staff_notification::Column::Attempts).add(1),
            )
            .col_expr(staff_notification::Column::UpdatedAt, Expr::value(now))
            .filter(staff_notification::Column::Id.eq(id))
            .filter(claimable)
            .exec(self.db())
            .await?;
        if claimed.rows_affected != 1 {
            return Ok(None);
        }
        staff_notification::Entity::find_by_id(id.to_owned())
            .one(self.db())
            .await?
            .map(StaffNotificationRecord::try_from)
            .transpose()
    }

    /// Record the outcome of a claimed send to a staff member.
    pub async fn finish_staff(
        self,
        id: &str,
        status: NotificationStatus,
        error: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        staff_notification::Entity::update_many()
            .col_expr(
                staff_notification::Column::Status,
                Expr::value(status.as_str()),
            )
            .col_expr(
                staff_notification::Column::LastError,
                Expr::value(error.map(str::to_owned)),
            )
            .col_expr(staff_notification::Column::UpdatedAt, Expr::value(now))
            .filter(staff_notification::Column::Id.eq(id))
            .filter(staff_notification::Column::Status.eq(NotificationStatus::Sending.as_str()))
            .exec(self.db())
            .await?;
        count(status);
        Ok(())
    }

    /// Every message owed to one staff member, oldest first.
    pub async fn of_staff(
        self,
        staff: StaffId,
    ) -> Result<Vec<StaffNotificationRecord>, StoreError> {
        staff_notification::Entity::find()
            .filter(staff_notification::Column::StaffId.eq(staff.as_uuid()))
            .order_by_asc(staff_notification::Column::CreatedAt)
            .order_by_asc(staff_notification::Column::Id)
            .all(self.db())
            .await?
            .into_iter()
            .map(StaffNotificationRecord::try_from)
            .collect()
    }
}

/// The metrics series of a finished send.
fn count(status: NotificationStatus) {
    let result = match status {
        NotificationStatus::Sent => Some(NotificationResult::sent),
        NotificationStatus::Pending => Some(NotificationResult::retried),
        NotificationStatus::Dead => Some(NotificationResult::dead),
        NotificationStatus::NoCredit => Some(NotificationResult::no_credit),
        NotificationStatus::Sending => None,
    };
    if let Some(result) = result {
        sansuo_metrics::notification(result);
    }
}
