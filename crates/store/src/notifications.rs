//! Subscribe-message bookkeeping: credits granted by residents, and one
//! row per message owed so that an event yields exactly one message even
//! when several instances (or a redelivered job) handle it.

use crate::entity::{notification, subscription_credit};
use crate::{Store, StoreError};
use chrono::{DateTime, Duration, Utc};
use sansuo_domain::notify::{NotificationEvent, NotificationStatus};
use sansuo_domain::{CaseId, ResidentId};
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
    /// The resident allowed one more message of each template (WeChat
    /// one-time subscriptions add up).
    pub async fn grant_subscriptions(
        self,
        resident: ResidentId,
        template_ids: &[String],
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        for template in template_ids {
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
        Ok(())
    }

    pub async fn credits(self, resident: ResidentId, template_id: &str) -> Result<i32, StoreError> {
        Ok(
            subscription_credit::Entity::find_by_id((resident.as_uuid(), template_id.to_owned()))
                .one(self.db())
                .await?
                .map_or(0, |c| c.credits),
        )
    }

    /// Spend one credit; false when there is none (guarded, so two senders
    /// cannot spend the same credit).
    pub async fn take_credit(
        self,
        resident: ResidentId,
        template_id: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let updated = subscription_credit::Entity::update_many()
            .col_expr(
                subscription_credit::Column::Credits,
                Expr::col(subscription_credit::Column::Credits).sub(1),
            )
            .col_expr(subscription_credit::Column::UpdatedAt, Expr::value(now))
            .filter(subscription_credit::Column::ResidentId.eq(resident.as_uuid()))
            .filter(subscription_credit::Column::TemplateId.eq(template_id))
            .filter(subscription_credit::Column::Credits.gt(0))
            .exec(self.db())
            .await?;
        Ok(updated.rows_affected == 1)
    }

    /// Give back a credit whose message was not delivered (transient failure).
    pub async fn refund_credit(
        self,
        resident: ResidentId,
        template_id: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.grant_subscriptions(resident, &[template_id.to_owned()], now)
            .await
    }

    /// WeChat says there is no credit (43101): ours was out of step.
    pub async fn clear_credits(
        self,
        resident: ResidentId,
        template_id: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        subscription_credit::Entity::update_many()
            .col_expr(subscription_credit::Column::Credits, Expr::value(0))
            .col_expr(subscription_credit::Column::UpdatedAt, Expr::value(now))
            .filter(subscription_credit::Column::ResidentId.eq(resident.as_uuid()))
            .filter(subscription_credit::Column::TemplateId.eq(template_id))
            .exec(self.db())
            .await?;
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
