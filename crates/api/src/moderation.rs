//! Screening resident text before anyone sees it (WeChat `msg_sec_check`).
use crate::error::ErrorCode;

use crate::{ApiError, AppState};
use sansuo_domain::ResidentId;
use sansuo_domain::moderation::Moderation;
use sansuo_wechat::{CheckScene, ContentVerdict};

/// Check a resident's text at submission: `Passed` shows it, `Review`
/// holds it for a coordinator, `Pending` holds it until WeChat answers
/// (never lose the resident's text because a checker is down); risky text
/// is refused and nothing is stored.
pub async fn screen(
    state: &AppState,
    resident: ResidentId,
    text: &str,
) -> Result<Moderation, ApiError> {
    let Some(wechat) = &state.wechat else {
        // No WeChat credentials (demo): there is no checker to ask.
        return Ok(Moderation::Passed);
    };
    let openid = state
        .store
        .identity()
        .resident(resident)
        .await?
        .map(|r| r.openid)
        .ok_or_else(|| ApiError::unauthenticated("this resident no longer exists"))?;
    if openid.starts_with("demo:") {
        return Ok(Moderation::Passed);
    }
    match wechat
        .msg_sec_check(&openid, CheckScene::Comment, text)
        .await
    {
        Ok(ContentVerdict::Pass) => Ok(Moderation::Passed),
        Ok(ContentVerdict::Review { .. }) => Ok(Moderation::Review),
        Ok(ContentVerdict::Risky { .. }) => Err(ErrorCode::ContentRisky.into()),
        Err(e) if e.is_retryable() => {
            tracing::warn!(error = %e, "content check unavailable; holding the text until it answers");
            Ok(Moderation::Pending)
        }
        Err(e) => {
            tracing::warn!(error = %e, "content check failed; holding the text for a person");
            Ok(Moderation::Review)
        }
    }
}
