//! Late content checks: resident text written while WeChat's checker was
//! unreachable is held, and checked here with retries until it answers.

use crate::{Worker, WorkerError};
use chrono::Utc;
use sansuo_domain::Actor;
use sansuo_domain::moderation::{Moderation, Verdict};
use sansuo_store::consultations::Context;
use sansuo_store::moderation::Subject;
use sansuo_wechat::{CheckScene, ContentVerdict};
use tracing::info;

impl Worker {
    pub(crate) async fn moderate(
        &self,
        subject: Subject,
        request_id: Option<&str>,
    ) -> Result<(), WorkerError> {
        let Some(held) = self.store.moderation().held_text(subject).await? else {
            return Err(WorkerError::BadJob(format!("{subject:?} does not exist")));
        };
        if held.moderation != Moderation::Pending {
            return Ok(()); // checked already (a repeated job)
        }
        let verdict = match (&self.wechat, held.author_openid.as_deref()) {
            (Some(wechat), Some(openid)) if !openid.starts_with("demo:") => {
                match wechat
                    .msg_sec_check(openid, CheckScene::Comment, &held.text)
                    .await
                {
                    Ok(ContentVerdict::Pass) => Verdict::Pass,
                    Ok(ContentVerdict::Review { .. }) => Verdict::Review,
                    Ok(ContentVerdict::Risky { .. }) => Verdict::Risky,
                    // Down again: the job is retried with backoff.
                    Err(e) if e.is_retryable() => return Err(e.into()),
                    // WeChat cannot judge it: a person will.
                    Err(_) => Verdict::Review,
                }
            }
            // No checker configured (demo), or a demo resident: nothing to ask.
            _ => Verdict::Pass,
        };
        let ctx = Context {
            actor: Actor::System,
            request_id,
            now: Utc::now(),
        };
        if let Some(state) = self
            .store
            .moderation()
            .apply_check(subject, verdict, ctx)
            .await?
        {
            info!(?subject, moderation = %state, "late content check applied");
        }
        Ok(())
    }
}
