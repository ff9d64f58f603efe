//! Subscribe messages to residents, sent from the outbox, never inline in a
//! request: one message per event (a claimed row per event), one credit per
//! message, retries with backoff on transient errors, dead after N tries.

use crate::{Worker, WorkerError};
use chrono::{DateTime, FixedOffset, Utc};
use sansuo_domain::catalog::Service;
use sansuo_domain::mediation::SessionStatus;
use sansuo_domain::notify::{
    MessageFacts, NotificationEvent, NotificationStatus, message_key, render,
};
use sansuo_domain::{CaseId, ResidentId};
use sansuo_wechat::{SubscribeMessage, WechatError};
use tracing::{info, warn};
use uuid::Uuid;

impl Worker {
    pub(crate) async fn notify(
        &self,
        event: NotificationEvent,
        case_id: CaseId,
        occurrence: Option<Uuid>,
    ) -> Result<(), WorkerError> {
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
        let beijing = FixedOffset::east_opt(8 * 3600).expect("UTC+8");
        let in_beijing = |at: DateTime<Utc>| {
            at.with_timezone(&beijing)
                .format("%Y-%m-%d %H:%M")
                .to_string()
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
        };
        let (page, fields) = render(event, template, &facts);
        let message = fields
            .into_iter()
            .fold(
                SubscribeMessage::new(resident.openid.clone(), template.template_id.clone())
                    .page(page),
                |m, (k, v)| m.field(k, v),
            )
            .state(self.config.miniprogram_state);
        match wechat.send_subscribe_message(&message).await {
            Ok(()) => {
                self.store
                    .notifications()
                    .finish(&id, NotificationStatus::Sent, None, Utc::now())
                    .await?;
                info!(%case_id, event = event.as_str(), "subscribe message sent");
                Ok(())
            }
            Err(WechatError::NoSubscriptionCredit) => {
                // Our count was ahead of WeChat's: trust WeChat, do not retry.
                self.store
                    .notifications()
                    .clear_credits(resident_id, &template.template_id, Utc::now())
                    .await?;
                self.store
                    .notifications()
                    .finish(&id, NotificationStatus::NoCredit, Some("43101"), Utc::now())
                    .await?;
                Ok(())
            }
            Err(e) if e.is_retryable() && claim.attempts < self.config.notify_max_attempts => {
                self.store
                    .notifications()
                    .refund_credit(resident_id, &template.template_id, Utc::now())
                    .await?;
                self.store
                    .notifications()
                    .finish(
                        &id,
                        NotificationStatus::Pending,
                        Some(&e.to_string()),
                        Utc::now(),
                    )
                    .await?;
                warn!(%case_id, attempt = claim.attempts, error = %e, "subscribe message failed; will retry");
                Err(e.into())
            }
            Err(e) => {
                self.store
                    .notifications()
                    .refund_credit(resident_id, &template.template_id, Utc::now())
                    .await?;
                self.store
                    .notifications()
                    .finish(
                        &id,
                        NotificationStatus::Dead,
                        Some(&e.to_string()),
                        Utc::now(),
                    )
                    .await?;
                warn!(%case_id, attempts = claim.attempts, error = %e, "subscribe message given up (dead letter)");
                Ok(())
            }
        }
    }
}
