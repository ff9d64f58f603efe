//! Tip reports (线索举报): residents report, named or anonymously (then
//! they follow the tip with a private tracking token), add photos and
//! follow-ups; the officer on duty triages. Nothing stored with an
//! anonymous tip links back to the reporter or to their named tips
//! (docs/anonymity.md): screening knows them by a pseudonym that lives one
//! window, and no request id or fine-grained resident time is kept.
use crate::error::ErrorCode;
use sansuo_domain::moderation::Moderation;
use sansuo_store::moderation::FlagKind;

pub mod case_file;
pub mod hand_back;
pub mod photos;
pub mod report;
pub mod resident;
pub mod staff;
pub mod tracked;
pub mod triage;

use crate::{ApiError, AppState};
use actix_web::HttpRequest;
use chrono::{DateTime, Utc};
use sansuo_domain::lang::Lang;
use sansuo_domain::tip::{SubmissionLimit, TipStatus};
use sansuo_domain::{CaseId, ResidentId};
use sansuo_queue::RateDecision;
use sansuo_store::records::{CaseEventRecord, CaseMessageRecord, TipPhotoRecord};
use sansuo_store::tips::TipRecord;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::time::Duration;
use utoipa::ToSchema;
use uuid::Uuid;

/// The header an anonymous reporter sends their tracking token in. A
/// header rather than a path segment, so the token stays out of access
/// logs and proxies' caches.
pub const TRACKING_HEADER: &str = "X-Tracking-Token";

/// Pseudonym purposes: one secret, separate namespaces.
pub(crate) const SCREENING_PURPOSE: &str = "tip-screening";
pub(crate) const LIMIT_PURPOSE: &str = "tip-limit";
pub(crate) const SUBMISSION_PURPOSE: &str = "tip-submission";
pub(crate) const TRACKING_PURPOSE: &str = "tip-tracking";
pub(crate) const SUPPORTER_PURPOSE: &str = "tip-supporter";

pub(crate) fn tip_not_found() -> ApiError {
    ApiError::new(ErrorCode::TipNotFound, "no such tip")
}

/// A resident's pseudonym for `purpose` in screening window `window`
/// (`domain::tip::screening_window`): stable within the window, unrelated
/// across windows, and stored only in rows deleted when the window ends.
pub(crate) fn window_key(
    state: &AppState,
    purpose: &str,
    resident: ResidentId,
    window: i64,
) -> String {
    state
        .pseudonyms
        .window_pseudonym(purpose, window, resident.as_uuid().as_bytes())
}

pub(crate) fn tracking_token(state: &AppState, id: CaseId) -> String {
    state
        .pseudonyms
        .token(TRACKING_PURPOSE, id.as_uuid().as_bytes())
}

pub(crate) fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Count one hit against a limit; over it → 429 with Retry-After. When the
/// limiter itself is unreachable the request goes through (and it is
/// logged): a Redis restart must not stop residents reporting hazards.
pub(crate) async fn within_limit(
    state: &AppState,
    key: &str,
    limit: SubmissionLimit,
) -> Result<(), ApiError> {
    let window = Duration::from_secs(limit.window_seconds);
    match state.limiter.hit(key, limit.max, window).await {
        Ok(RateDecision::Allowed { .. }) => Ok(()),
        Ok(RateDecision::Limited { retry_after }) => Err(ApiError::rate_limited(
            ErrorCode::RateLimited,
            format!(
                "too many submissions; try again in {} seconds",
                retry_after.as_secs()
            ),
            retry_after.as_secs(),
        )),
        Err(e) => {
            tracing::warn!(error = %e, "rate limiter unavailable; letting the request through");
            Ok(())
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct LocationView {
    /// WGS-84.
    pub lat: f64,
    pub lng: f64,
    /// The datum the client sent (`wgs84`, `gcj02`, `bd09`); stored as WGS-84.
    pub datum_sent: String,
    pub address: Option<String>,
}

/// A photo's receipt: the SHA-256 of the stored (metadata-stripped) bytes
/// and when the server received it — tamper-evident evidence.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PhotoReceiptView {
    pub id: Uuid,
    pub sha256: String,
    pub bytes: i32,
    /// `image/jpeg`, `image/png` or `image/webp`.
    pub content_type: String,
    pub received_at: DateTime<Utc>,
    /// `reporter` or `staff`.
    pub added_by: String,
    /// The exact text the server signed: its tag, the photo id, `sha256`
    /// and `received_at` (microseconds, UTC), one `name=value` a line.
    #[schema(
        example = "sansuo-photo-receipt-v1\nphoto_id=0193a5b2-8f1e-7c3d-9a4b-5c6d7e8f9a0b\nsha256=9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\nreceived_at=2026-12-03T08:00:00.123456Z\n"
    )]
    pub signed_receipt: String,
    /// Ed25519 signature of `signed_receipt`, base64; check it offline
    /// against `GET /api/v1/receipts/public-key` (docs/receipts.md).
    pub signature: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TipEventView {
    pub action: String,
    pub from_status: Option<String>,
    pub to_status: String,
    /// `resident`, `reporter` (anonymous), `staff`, `system`.
    pub actor: String,
    pub note: Option<String>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TipMessageView {
    /// `reporter` (the resident, named or not) or `officer`.
    pub author: String,
    pub body: String,
    /// Staff-only notes (only in staff views).
    pub internal: bool,
    pub created_at: DateTime<Utc>,
}

/// What only staff see.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TipStaffDetail {
    /// The reporter's earlier tips were mostly unfounded (screening).
    pub flagged: bool,
    /// `app`, `open311` or `mediation` (opened by a mediator's public-order flag).
    pub channel: String,
    pub priority: i32,
    pub owner_id: Option<Uuid>,
    pub source_case_id: Option<Uuid>,
    /// When the reporter last added something: new information to read.
    pub last_reporter_message_at: Option<DateTime<Utc>>,
    /// 催办: how often the case was urged, and when last.
    pub urge_count: i32,
    pub last_urged_at: Option<DateTime<Utc>>,
    /// The live 督办 and every 延期 asked for.
    pub work_order: crate::handlers::supervision::WorkOrderView,
    /// What the content check flagged on this tip (its description, a
    /// follow-up, a photo). Flagged items are never withheld from the
    /// officer: a scam report quotes the scam.
    #[serde(default)]
    pub content_flags: Vec<ContentFlagView>,
}

/// One flagged item of a tip, as its officer sees it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ContentFlagView {
    /// `tip` (the description), `tip_message` (a follow-up) or `photo`.
    pub kind: String,
    /// The tip, message or photo id.
    pub id: Uuid,
    /// `review`, `risky` or `unchecked` (no automatic check was possible).
    pub verdict: String,
    /// `review` until a coordinator decides, then `passed` or `rejected`.
    pub moderation: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TipView {
    pub id: Uuid,
    pub community_id: Uuid,
    pub category_code: String,
    /// `submitted`, `offered`, `pooled`, `acknowledged`, `valid`,
    /// `verifying`, `actioned`, `closed`, `unfounded`, `referred`,
    /// `duplicate`, `converted`.
    pub status: String,
    /// The status in plain words, in Chinese (the reporter's own views:
    /// English when `Accept-Language` prefers `en`).
    pub status_note: String,
    pub anonymous: bool,
    pub description: String,
    pub location: Option<LocationView>,
    /// Residents who said "me too".
    pub supporters: i32,
    pub photos: Vec<PhotoReceiptView>,
    /// `valid`, `unfounded`, `not_police_matter`.
    pub triage_verdict: Option<String>,
    /// The body it was referred to, when not a police matter.
    pub referred_to: Option<String>,
    /// The officer's closing note to the reporter.
    pub close_note: Option<String>,
    pub duplicate_of: Option<Uuid>,
    /// The mediation case it became.
    pub converted_to: Option<Uuid>,
    /// The consultation it was converted from (a lawyer's 三所联动 转办).
    #[serde(default)]
    pub converted_from: Option<crate::views::CaseLinkView>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub history: Vec<TipEventView>,
    pub messages: Vec<TipMessageView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub staff: Option<TipStaffDetail>,
}

/// Who is looking: the reporter sees public history only, with the status
/// note in the language their client asked for (staff: Chinese).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Viewer {
    Reporter(Lang),
    Staff,
}

/// A stored photo's receipt, signed again: Ed25519 is deterministic, so it
/// is the very receipt given at upload.
pub(crate) fn photo_view(
    signer: &sansuo_media::ReceiptSigner,
    p: &TipPhotoRecord,
) -> PhotoReceiptView {
    let signed = signer.sign(p.id, &p.sha256, p.received_at);
    PhotoReceiptView {
        signed_receipt: signed.message,
        signature: signed.signature,
        id: p.id,
        sha256: p.sha256.clone(),
        bytes: p.bytes,
        content_type: format!(
            "image/{}",
            if p.kind == "jpg" {
                "jpeg"
            } else {
                p.kind.as_str()
            }
        ),
        received_at: p.received_at,
        added_by: p.added_by.clone(),
    }
}

fn event_view(e: CaseEventRecord) -> TipEventView {
    TipEventView {
        action: e.action,
        from_status: e.from_status,
        to_status: e.to_status,
        actor: e.actor_kind,
        note: e.reason,
        created_at: e.created_at,
    }
}

fn message_view(m: CaseMessageRecord) -> TipMessageView {
    TipMessageView {
        author: if m.author_kind == "staff" {
            "officer".into()
        } else {
            "reporter".into()
        },
        body: m.body,
        internal: m.visibility != sansuo_store::consultations::visibility::PUBLIC,
        created_at: m.created_at,
    }
}

pub(crate) async fn tip_view(
    state: &AppState,
    record: TipRecord,
    viewer: Viewer,
) -> Result<TipView, ApiError> {
    let id = record.id();
    let staff = viewer == Viewer::Staff;
    let history = state
        .store
        .cases()
        .history(id, !staff)
        .await?
        .into_iter()
        .map(event_view)
        .collect();
    let messages: Vec<TipMessageView> = state
        .store
        .cases()
        .thread(id, staff)
        .await?
        .into_iter()
        .map(message_view)
        .collect();
    let status: TipStatus = record.status();
    let d = &record.detail;
    let flags = state
        .store
        .moderation()
        .flags_of_case(record.case.id)
        .await?;
    let staff_detail = if staff {
        let last = state
            .store
            .tips()
            .last_reporter_messages(&[record.case.id])
            .await?
            .first()
            .map(|(_, at)| *at);
        let work_order = crate::handlers::supervision::work_order_of(
            state,
            record.case.id.into(),
            sansuo_domain::catalog::Service::Tip,
        )
        .await?;
        Some(TipStaffDetail {
            flagged: d.flagged,
            channel: d.channel.clone(),
            priority: record.case.priority,
            owner_id: record.case.owner_staff_id,
            source_case_id: d.source_case_id,
            last_reporter_message_at: last,
            urge_count: record.case.urge_count,
            last_urged_at: record.case.last_urged_at,
            work_order,
            content_flags: flags
                .iter()
                .map(|f| ContentFlagView {
                    kind: f.kind.as_str().to_owned(),
                    id: f.subject_id,
                    verdict: f.verdict.as_str().to_owned(),
                    moderation: f.moderation.as_str().to_owned(),
                })
                .collect(),
        })
    } else {
        None
    };
    Ok(TipView {
        id: record.case.id,
        community_id: record.case.community_id,
        category_code: record.case.category_code.clone(),
        status: status.as_str().to_owned(),
        status_note: status
            .public_note_in(match viewer {
                Viewer::Reporter(lang) => lang,
                Viewer::Staff => Lang::Zh,
            })
            .to_owned(),
        anonymous: d.anonymous,
        description: d.description.clone(),
        location: match (d.lat, d.lng) {
            (Some(lat), Some(lng)) => Some(LocationView {
                lat,
                lng,
                datum_sent: d.datum.unwrap_or_default().as_str().to_owned(),
                address: d.address_text.clone(),
            }),
            _ => None,
        },
        supporters: d.supporters,
        // A photo the image check flagged is hidden from its reporter until
        // a person passes it; the officer sees it (flagged, above).
        photos: record
            .photos
            .iter()
            .filter(|p| {
                staff
                    || !flags.iter().any(|f| {
                        f.kind == FlagKind::Photo
                            && f.subject_id == p.id
                            && f.verdict.hides_photo()
                            && f.moderation != Moderation::Passed
                    })
            })
            .map(|p| photo_view(&state.receipts, p))
            .collect(),
        triage_verdict: d.triage_verdict.map(|v| v.as_str().to_owned()),
        referred_to: d.referred_to.clone(),
        close_note: d.close_note.clone(),
        duplicate_of: d.duplicate_of,
        converted_to: d.converted_to,
        converted_from: d
            .source_case_id
            .filter(|_| d.channel == sansuo_store::tips::channel::CONSULTATION)
            .map(|id| crate::views::CaseLinkView {
                service: sansuo_domain::catalog::Service::Consultation
                    .as_str()
                    .to_owned(),
                id,
            }),
        created_at: record.case.created_at,
        updated_at: record.case.updated_at,
        history,
        messages,
        staff: staff_detail,
    })
}

/// The tracking token from its header (anonymous reporters).
pub(crate) async fn tracked_tip(
    state: &AppState,
    req: &HttpRequest,
) -> Result<TipRecord, ApiError> {
    let token = req
        .headers()
        .get(TRACKING_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|t| (16..=64).contains(&t.len()))
        .ok_or_else(|| {
            ApiError::unauthenticated(
                "send the tip's tracking token in the X-Tracking-Token header",
            )
        })?;
    state
        .store
        .tips()
        .by_token_hash(&token_hash(token))
        .await?
        .ok_or_else(tip_not_found)
}

/// A named reporter's own tip (anyone else's: not found).
pub(crate) async fn own_tip(
    state: &AppState,
    resident: ResidentId,
    id: CaseId,
) -> Result<TipRecord, ApiError> {
    state
        .store
        .tips()
        .get(id)
        .await?
        .filter(|t| t.case.resident_id == Some(resident.as_uuid()))
        .ok_or_else(tip_not_found)
}
