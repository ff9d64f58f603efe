//! 催办 (urging) for every service: a resident (or a tip's reporter, named
//! or by tracking token) nudges a case that waited past its first-response
//! target unanswered, at most once a day; a coordinator nudges any open
//! case in their subtree. Whoever has the case is told on their event
//! stream (`urge`); the rule itself is `domain::urge`.

pub mod admin;
pub mod consultation;
pub mod mediation;
pub mod tip;

use super::context;
use crate::error::ErrorCode;
use crate::middleware::RequestId;
use crate::{ApiError, AppState};
use chrono::{DateTime, FixedOffset, Utc};
use sansuo_domain::catalog::Service;
use sansuo_domain::urge::UrgeRefusal;
use sansuo_domain::{Actor, CaseId};
use sansuo_store::urges::Urger;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// The case's urges after this one.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct UrgeView {
    pub case_id: Uuid,
    /// How often the case has been urged, this time included.
    pub urge_count: i32,
    pub last_urged_at: DateTime<Utc>,
}

/// Beijing time, as residents read it in a message.
fn beijing(at: DateTime<Utc>) -> String {
    let cst = FixedOffset::east_opt(8 * 3600).expect("UTC+8 is a valid offset");
    at.with_timezone(&cst).format("%Y-%m-%d %H:%M").to_string()
}

/// A refusal as the resident reads it: the stable code, and in Chinese
/// when they may urge (if ever).
fn refused(refusal: UrgeRefusal, now: DateTime<Utc>) -> ApiError {
    match refusal {
        UrgeRefusal::Finished => ErrorCode::CaseNotOpen.into(),
        UrgeRefusal::Answered => ErrorCode::UrgeNotNeeded.into(),
        UrgeRefusal::TooEarly { from: Some(from) } => ApiError::new(
            ErrorCode::UrgeTooEarly,
            format!(
                "还未超过首次答复时限，请于 {}（北京时间）之后再催办。",
                beijing(from)
            ),
        ),
        UrgeRefusal::TooEarly { from: None } => ErrorCode::UrgeTooEarly.into(),
        UrgeRefusal::TooSoon { from } => ApiError::rate_limited(
            ErrorCode::UrgeTooSoon,
            format!(
                "每件事项每 24 小时只能催办一次，请于 {}（北京时间）之后再催办。",
                beijing(from)
            ),
            u64::try_from((from - now).num_seconds().max(1)).unwrap_or(1),
        ),
    }
}

/// Urge case `id` (of `service`, when the path names one) as `actor`;
/// the store's "not found" answers `not_found`.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn urge(
    state: &AppState,
    id: CaseId,
    service: Option<Service>,
    urger: Urger,
    actor: Actor,
    note: Option<&str>,
    request_id: &RequestId,
    not_found: ErrorCode,
) -> Result<UrgeView, ApiError> {
    let ctx = context(actor, request_id);
    let now = ctx.now;
    let record = state
        .store
        .urges()
        .urge(id, service, urger, note, ctx)
        .await
        .map_err(ApiError::store_not_found(not_found))?
        .map_err(|refusal| refused(refusal, now))?;
    tracing::info!(case_id = %id, urge_count = record.urge_count, "case urged");
    Ok(UrgeView {
        case_id: id.as_uuid(),
        urge_count: record.urge_count,
        last_urged_at: record.last_urged_at,
    })
}
