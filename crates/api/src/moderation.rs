//! Screening resident text before anyone sees it (WeChat `msg_sec_check`).
use crate::error::ErrorCode;

use crate::{ApiError, AppState};
use sansuo_domain::moderation::Moderation;
use sansuo_domain::{CaseId, ResidentId};
use sansuo_store::moderation::{FlagKind, FlagVerdict};
use sansuo_wechat::{CheckScene, ContentVerdict, MediaType};

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

/// Who wrote a tip's text or took its photo, as far as a check may know.
#[derive(Debug, Clone, Copy)]
pub enum Reporter {
    /// A named reporter: checked with WeChat under their openid.
    Named(ResidentId),
    /// An anonymous reporter or an Open311 client: nothing that could
    /// identify them leaves the server (docs/anonymity.md), so WeChat's
    /// checks, which require the author's openid, are not called.
    Unnamed,
}

/// Check a tip's description or a reporter's follow-up.
///
/// DECISION (issue 15): a tip's text is checked, and a doubtful or risky
/// verdict puts it in the review queue *flagged*, but it is never withheld
/// from the officer handling the tip and never refused: a scam report
/// quotes the scam, and hiding it would defeat the tip. No public view
/// shows a tip's text (Open311 lists no description), so a rejection only
/// closes the queue item.
///
/// Anonymous tips: `msg_sec_check` (version 2) needs the author's openid,
/// and sending it would tie the reporter to their tip at WeChat; the
/// version-1 API without openid is retired. So an anonymous tip's text is
/// not sent to WeChat at all: it goes to the review queue as `unchecked`
/// for a person to read. Returns the flag to record, if any.
pub async fn screen_tip_text(
    state: &AppState,
    reporter: Reporter,
    text: &str,
) -> Result<Option<(FlagVerdict, Option<i64>)>, ApiError> {
    let Some(wechat) = &state.wechat else {
        // No WeChat credentials (demo): there is no checker to ask.
        return Ok(None);
    };
    let resident = match reporter {
        Reporter::Named(resident) => resident,
        Reporter::Unnamed => return Ok(Some((FlagVerdict::Unchecked, None))),
    };
    let Some(openid) = named_openid(state, resident).await? else {
        return Ok(None);
    };
    Ok(
        match wechat.msg_sec_check(&openid, CheckScene::Forum, text).await {
            Ok(ContentVerdict::Pass) => None,
            Ok(ContentVerdict::Review { label }) => Some((FlagVerdict::Review, label)),
            Ok(ContentVerdict::Risky { label }) => Some((FlagVerdict::Risky, label)),
            Err(e) => {
                // Never refuse or delay a tip because the checker is down:
                // a person reads it instead.
                tracing::warn!(error = %e, "content check unavailable; a person reads the tip's text");
                Some((FlagVerdict::Unchecked, None))
            }
        },
    )
}

/// Record what a check found ([`screen_tip_text`], [`screen_mediation`],
/// [`check_photos`]) once its subject is stored: it joins the review queue.
pub async fn flag_content(
    state: &AppState,
    kind: FlagKind,
    subject: uuid::Uuid,
    case_id: CaseId,
    found: Option<(FlagVerdict, Option<i64>)>,
) -> Result<(), ApiError> {
    let Some((verdict, label)) = found else {
        return Ok(());
    };
    state
        .store
        .moderation()
        .flag(
            kind,
            subject,
            case_id.as_uuid(),
            verdict,
            label,
            chrono::Utc::now(),
        )
        .await?;
    tracing::info!(case_id = %case_id, kind = kind.as_str(), verdict = verdict.as_str(), "resident content flagged for review");
    Ok(())
}

/// The openid to check a named resident's content under; `None` for a
/// demo account (nothing to ask).
async fn named_openid(state: &AppState, resident: ResidentId) -> Result<Option<String>, ApiError> {
    let openid = state
        .store
        .identity()
        .resident(resident)
        .await?
        .map(|r| r.openid)
        .ok_or_else(|| ApiError::unauthenticated("this resident no longer exists"))?;
    Ok((!openid.starts_with("demo:")).then_some(openid))
}

/// How long a link handed to WeChat's image check stays valid (WeChat
/// answers within 30 minutes; retries may come later).
const MEDIA_LINK_TTL_SECS: i64 = 24 * 3600;
/// The pseudonymiser's purpose for media-check links.
const MEDIA_LINK_PURPOSE: &str = "media-check-link";

/// The signature of a media-check link: only this server can make one.
pub(crate) fn media_link_signature(state: &AppState, photo: uuid::Uuid, expires: i64) -> String {
    state.pseudonyms.pseudonym_of_pair(
        MEDIA_LINK_PURPOSE,
        photo.as_bytes(),
        expires.to_string().as_bytes(),
    )
}

/// Send each new resident photo to WeChat's asynchronous image check
/// (`media_check_async`); the verdict comes back by push
/// (`handlers::wechat::push_receive`), and a doubtful or risky photo is
/// then flagged into the review queue and hidden from resident-facing
/// views until a person passes it. Officers still see it, flagged.
///
/// Best effort after the photos are stored: a failure never loses a photo
/// or a tip; a photo that cannot be sent is queued `unchecked` for a
/// person. An unnamed reporter's photos are not sent (WeChat needs the
/// openid; see [`screen_tip_text`]) and are queued `unchecked`.
pub async fn check_photos(
    state: &AppState,
    reporter: Reporter,
    case_id: CaseId,
    photos: &[uuid::Uuid],
) -> Result<(), ApiError> {
    let Some(wechat) = &state.wechat else {
        return Ok(());
    };
    if photos.is_empty() {
        return Ok(());
    }
    let unchecked = async |photo: uuid::Uuid| {
        flag_content(
            state,
            FlagKind::Photo,
            photo,
            case_id,
            Some((FlagVerdict::Unchecked, None)),
        )
        .await
    };
    let openid = match reporter {
        Reporter::Named(resident) => match named_openid(state, resident).await? {
            Some(openid) => openid,
            None => return Ok(()),
        },
        Reporter::Unnamed => {
            for photo in photos {
                unchecked(*photo).await?;
            }
            return Ok(());
        }
    };
    let Some(base) = &state.config.public_base_url else {
        tracing::warn!(case_id = %case_id, "SANSUO_PUBLIC_BASE_URL is not set: photos are not sent to the image check");
        return Ok(());
    };
    let expires = chrono::Utc::now().timestamp() + MEDIA_LINK_TTL_SECS;
    for photo in photos {
        let sig = media_link_signature(state, *photo, expires);
        let url = format!("{base}/api/v1/wechat/media/{photo}?expires={expires}&sig={sig}");
        match wechat
            .media_check_async(&url, MediaType::Image, CheckScene::Forum, &openid)
            .await
        {
            Ok(trace_id) => {
                state
                    .store
                    .moderation()
                    .register_media_check(&trace_id, &photo_subject(*photo), chrono::Utc::now())
                    .await?;
            }
            Err(e) => {
                tracing::warn!(error = %e, case_id = %case_id, "image check unavailable; a person looks at the photo");
                unchecked(*photo).await?;
            }
        }
    }
    Ok(())
}

/// The `media_checks.subject` of a photo.
pub(crate) fn photo_subject(photo: uuid::Uuid) -> String {
    format!("photo:{photo}")
}

/// Photos of a case hidden from resident-facing views: flagged by the
/// image check and not (yet) passed by a person.
pub async fn hidden_photos(
    state: &AppState,
    case_id: CaseId,
) -> Result<std::collections::HashSet<uuid::Uuid>, ApiError> {
    Ok(state
        .store
        .moderation()
        .flags_of_case(case_id.as_uuid())
        .await?
        .into_iter()
        .filter(|f| {
            f.kind == FlagKind::Photo
                && f.verdict.hides_photo()
                && f.moderation != Moderation::Passed
        })
        .map(|f| f.subject_id)
        .collect())
}

/// Check a mediation application's facts and claims, as a consultation's
/// question is checked ([`screen`]): risky text is refused (422
/// `content_risky`, nothing stored). Doubtful text, or text the checker
/// could not look at, is booked and put in the review queue flagged
/// (`mediation`); unlike a consultation's question it is not held from
/// routing, so a booking is never lost on a checker's doubt. Returns the
/// flag to record once the case exists.
pub async fn screen_mediation(
    state: &AppState,
    resident: ResidentId,
    text: &str,
) -> Result<Option<(FlagVerdict, Option<i64>)>, ApiError> {
    screen_flagged(state, resident, text).await
}

/// Check a rating's or a visit answer's comment the same way as a
/// mediation's facts ([`screen_mediation`]): risky refused, doubtful
/// stored and flagged. No comment, nothing to check.
pub async fn screen_comment(
    state: &AppState,
    resident: ResidentId,
    comment: Option<&str>,
) -> Result<Option<(FlagVerdict, Option<i64>)>, ApiError> {
    match comment.map(str::trim).filter(|c| !c.is_empty()) {
        Some(text) => screen_flagged(state, resident, text).await,
        None => Ok(None),
    }
}

async fn screen_flagged(
    state: &AppState,
    resident: ResidentId,
    text: &str,
) -> Result<Option<(FlagVerdict, Option<i64>)>, ApiError> {
    Ok(match screen(state, resident, text).await? {
        Moderation::Passed => None,
        Moderation::Review => Some((FlagVerdict::Review, None)),
        Moderation::Pending | Moderation::Rejected => Some((FlagVerdict::Unchecked, None)),
    })
}

/// [`flag_content`] for a subject that is its case, after it is stored:
/// a failure is logged, never answered as an error (the write is done).
pub async fn flag_stored(
    state: &AppState,
    kind: FlagKind,
    case_id: CaseId,
    found: Option<(FlagVerdict, Option<i64>)>,
) {
    if let Err(e) = flag_content(state, kind, case_id.as_uuid(), case_id, found).await {
        tracing::warn!(case_id = %case_id, error = ?e, "content flag not recorded");
    }
}
