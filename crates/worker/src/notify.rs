//! Subscribe messages to residents and to staff with WeChat bound, sent
//! from the outbox, never inline in a request: one message per event (a
//! claimed row per event), one credit per message (a resident's for a
//! resident's message, a staff member's for theirs), retries with backoff
//! on transient errors, dead after N tries.

use crate::{Worker, WorkerError};
use chrono::{DateTime, FixedOffset, Utc};
use sansuo_domain::catalog::Service;
use sansuo_domain::mediation::SessionStatus;
use sansuo_domain::notify::TemplateSettings;
use sansuo_domain::notify::{
    MessageFacts, NotificationEvent, NotificationStatus, message_key, render,
};
use sansuo_domain::{CaseId, ResidentId, StaffId};
use sansuo_store::notifications::Recipient;
use sansuo_wechat::{SubscribeMessage, WechatClient, WechatError};
use tracing::{info, warn};
use uuid::Uuid;

impl Worker {
    pub(crate) async fn notify(
        &self,
        event: NotificationEvent,
        case_id: CaseId,
        occurrence: Option<Uuid>,
    ) -> Result<(), WorkerError> {
        if event.is_staff() {
            return Err(WorkerError::BadJob(format!(
                "{} is a staff message, not a resident's",
                event.as_str()
            )));
        }
        let (Some(template), Some(wechat)) = (self.config.templates.get(&event), &self.wechat)
        else {
            return Ok(()); // this event has no template here (or no WeChat): nothing to send
        };
        let Some(case) = self.store.cases().get(case_id).await? else {
            return Err(WorkerError::BadJob(format!(
                "case {case_id} does not exist"
            )));
        };
        // An anonymous tip has no resident: nothing to send, nothing stored.
        let Some(resident_id) = case.resident_id.map(ResidentId::from) else {
            return Ok(());
        };
        let Some(resident) = self.store.identity().resident(resident_id).await? else {
            return Ok(());
        };
        if resident.openid.starts_with("demo:") {
            return Ok(());
        }
        let now = Utc::now();
        let id = message_key(event, case_id, occurrence);
        let Some(claim) = self
            .store
            .notifications()
            .claim(&id, event, case_id, resident_id, &template.template_id, now)
            .await?
        else {
            return Ok(()); // sent, given up, or being sent by another instance
        };
        if !self
            .store
            .notifications()
            .take_credit(resident_id, &template.template_id, now)
            .await?
        {
            self.store
                .notifications()
                .finish(&id, NotificationStatus::NoCredit, None, now)
                .await?;
            return Ok(());
        }
        let category = self
            .store
            .org()
            .category(&case.category_code)
            .await?
            .map_or_else(|| case.category_code.clone(), |c| c.name_zh);
        let handler = match case.owner_staff_id {
            Some(owner) => self
                .store
                .identity()
                .staff(owner.into())
                .await?
                .map(|s| s.display_name),
            None => None,
        };
        let session_time = if case.service == Service::Mediation {
            self.store
                .mediations()
                .get(case_id)
                .await?
                .and_then(|m| {
                    // The latest booking still standing: the one just
                    // booked, or where a session was moved to.
                    m.sessions
                        .iter()
                        .filter(|s| s.status == SessionStatus::Scheduled)
                        .max_by_key(|s| (s.created_at, s.id))
                        .map(|s| s.starts_at)
                })
                .map(in_beijing)
        } else {
            None
        };
        let facts = MessageFacts {
            case_id: case_id.to_string(),
            category,
            lawyer: handler,
            time: in_beijing(now),
            session_time,
            deadline: None,
        };
        let claimed = Claimed {
            id: &id,
            recipient: Recipient::Resident(resident_id),
            attempts: claim.attempts,
        };
        self.send(
            wechat,
            event,
            case_id,
            template,
            &facts,
            &resident.openid,
            claimed,
        )
        .await
    }

    /// The subscribe message owed to a staff member for something they were
    /// told on their stream: sent to the openid they bound, with one of
    /// their own credits, only while their account is active. Shows the
    /// category, the case number, the time and the deadline: nothing of
    /// the resident.
    pub(crate) async fn notify_staff(
        &self,
        event: NotificationEvent,
        staff_id: StaffId,
        case_id: CaseId,
        occurrence: Uuid,
        deadline: Option<DateTime<Utc>>,
    ) -> Result<(), WorkerError> {
        if !event.is_staff() {
            return Err(WorkerError::BadJob(format!(
                "{} is a resident's message, not a staff member's",
                event.as_str()
            )));
        }
        let (Some(template), Some(wechat)) = (self.config.templates.get(&event), &self.wechat)
        else {
            return Ok(()); // this event has no template here (or no WeChat): nothing to send
        };
        let Some(staff) = self.store.identity().staff(staff_id).await? else {
            return Ok(());
        };
        if !staff.active {
            return Ok(()); // deactivated: sent nothing more
        }
        let Some(openid) = self.store.identity().staff_wechat_openid(staff_id).await? else {
            return Ok(()); // unbound since: nothing to send
        };
        let Some(case) = self.store.cases().get(case_id).await? else {
            return Err(WorkerError::BadJob(format!(
                "case {case_id} does not exist"
            )));
        };
        let now = Utc::now();
        let id = message_key(event, case_id, Some(occurrence));
        let Some(claim) = self
            .store
            .notifications()
            .claim_staff(&id, event, case_id, staff_id, &template.template_id, now)
            .await?
        else {
            return Ok(()); // sent, given up, or being sent by another instance
        };
        if !self
            .store
            .notifications()
            .take_credit(staff_id, &template.template_id, now)
            .await?
        {
            self.store
                .notifications()
                .finish_staff(&id, NotificationStatus::NoCredit, None, now)
                .await?;
            return Ok(());
        }
        let category = self
            .store
            .org()
            .category(&case.category_code)
            .await?
            .map_or_else(|| case.category_code.clone(), |c| c.name_zh);
        let facts = MessageFacts {
            case_id: case_id.to_string(),
            category,
            lawyer: Some(staff.display_name),
            time: in_beijing(now),
            session_time: None,
            deadline: deadline.map(in_beijing),
        };
        let claimed = Claimed {
            id: &id,
            recipient: Recipient::Staff(staff_id),
            attempts: claim.attempts,
        };
        self.send(wechat, event, case_id, template, &facts, &openid, claimed)
            .await
    }

    /// Send a claimed message whose credit is taken, and record how it went.
    #[allow(clippy::too_many_arguments)]
    async fn send(
        &self,
        wechat: &WechatClient,
        event: NotificationEvent,
        case_id: CaseId,
        template: &TemplateSettings,
        facts: &MessageFacts,
        openid: &str,
        claimed: Claimed<'_>,
    ) -> Result<(), WorkerError> {
        let Claimed {
            id,
            recipient,
            attempts,
        } = claimed;
        let (page, fields) = render(event, template, facts);
        let message = fields
            .into_iter()
            .fold(
                SubscribeMessage::new(openid.to_owned(), template.template_id.clone()).page(page),
                |m, (k, v)| m.field(k, v),
            )
            .state(self.config.miniprogram_state);
        let finish = |status: NotificationStatus, error: Option<String>| async move {
            let notifications = self.store.notifications();
            match recipient {
                Recipient::Resident(_) => {
                    notifications
                        .finish(id, status, error.as_deref(), Utc::now())
                        .await
                }
                Recipient::Staff(_) => {
                    notifications
                        .finish_staff(id, status, error.as_deref(), Utc::now())
                        .await
                }
            }
        };
        match wechat.send_subscribe_message(&message).await {
            Ok(()) => {
                finish(NotificationStatus::Sent, None).await?;
                info!(%case_id, event = event.as_str(), "subscribe message sent");
                Ok(())
            }
            Err(WechatError::NoSubscriptionCredit) => {
                // Our count was ahead of WeChat's: trust WeChat, do not retry.
                self.store
                    .notifications()
                    .clear_credits(recipient, &template.template_id, Utc::now())
                    .await?;
                finish(NotificationStatus::NoCredit, Some("43101".to_owned())).await?;
                Ok(())
            }
            Err(e) if e.is_retryable() && attempts < self.config.notify_max_attempts => {
                self.store
                    .notifications()
                    .refund_credit(recipient, &template.template_id, Utc::now())
                    .await?;
                finish(NotificationStatus::Pending, Some(e.to_string())).await?;
                warn!(%case_id, attempt = attempts, error = %e, "subscribe message failed; will retry");
                Err(e.into())
            }
            Err(e) => {
                self.store
                    .notifications()
                    .refund_credit(recipient, &template.template_id, Utc::now())
                    .await?;
                finish(NotificationStatus::Dead, Some(e.to_string())).await?;
                warn!(%case_id, attempts, error = %e, "subscribe message given up (dead letter)");
                Ok(())
            }
        }
    }
}

/// A message claimed for sending: its row, whose credit paid for it, and
/// the sends tried so far (this one included).
struct Claimed<'a> {
    id: &'a str,
    recipient: Recipient,
    attempts: i32,
}

/// A time as messages show it: Beijing time, to the minute.
fn in_beijing(at: DateTime<Utc>) -> String {
    let beijing = FixedOffset::east_opt(8 * 3600).expect("UTC+8");
    at.with_timezone(&beijing)
        .format("%Y-%m-%d %H:%M")
        .to_string()
}
