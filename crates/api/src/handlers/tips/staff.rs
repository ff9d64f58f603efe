//! The officer's side of a tip: the triage board, one tip, signing for an
//! offer (签收) or declining it, writing to the reporter.

use super::resident::SimilarTip;
use super::{TipView, Viewer, tip_not_found, tip_view};
use crate::error::ErrorCode;
use crate::extract::{CaseReader, OfficerAuth};
use crate::handlers::context;
use crate::handlers::mediations::bounded_text;
use crate::handlers::staff::accept_offer::{OfferAnswer, answer_offer_of_case};
use crate::middleware::RequestId;
use crate::{ApiError, AppState, ErrorBody};
use actix_web::{HttpResponse, get, post, web};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use sansuo_domain::tip::TipStatus;
use sansuo_domain::values::Reason;
use sansuo_domain::{CaseId, OrgUnitId, StaffId};
use sansuo_store::tips::{BoardCursor, BoardFilter, TipRecord};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// A tip this person may see: they own it or hold its live offer.
pub(crate) async fn visible_tip(
    state: &AppState,
    staff: StaffId,
    id: CaseId,
) -> Result<Option<TipRecord>, ApiError> {
    let Some(record) = state.store.tips().get(id).await? else {
        return Ok(None);
    };
    if record.case.owner_staff_id == Some(staff.as_uuid())
        || state
            .store
            .offers()
            .has_pending(id, staff, Utc::now())
            .await?
    {
        Ok(Some(record))
    } else {
        Ok(None)
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct BoardQuery {
    /// Comma-separated statuses (default: the open ones — acknowledged,
    /// valid, verifying, actioned).
    #[param(
        pattern = r"^ *(submitted|offered|pooled|acknowledged|valid|verifying|actioned|closed|unfounded|referred|duplicate|converted) *( *, *(submitted|offered|pooled|acknowledged|valid|verifying|actioned|closed|unfounded|referred|duplicate|converted) *)*$"
    )]
    pub status: Option<String>,
    /// A category code or its two-letter parent (`AQ` matches `AQ01`...).
    pub category: Option<String>,
    pub community_id: Option<Uuid>,
    /// Reported at or after.
    pub from: Option<DateTime<Utc>>,
    /// Reported before.
    pub to: Option<DateTime<Utc>>,
    /// `next_cursor` of the previous page.
    #[param(pattern = r"^b2\.-?[0-9]{1,9}\.-?[0-9]{1,15}\.[0-9a-f]{32}$")]
    pub cursor: Option<String>,
    /// 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u64>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TipBoard {
    pub items: Vec<TipView>,
    pub next_cursor: Option<String>,
}

/// `b2.{priority}.{created_at in µs}.{id}`: plain enough that the spec's
/// pattern describes every cursor the server reads (the earlier base64 `b1.`
/// form is still read, so pages already handed out keep working).
fn encode_cursor(c: &BoardCursor) -> String {
    format!(
        "b2.{}.{}.{}",
        c.priority,
        c.created_at.timestamp_micros(),
        c.id.simple()
    )
}

fn decode_cursor(cursor: &str) -> Option<BoardCursor> {
    let raw = match cursor.strip_prefix("b2.") {
        Some(plain) => plain.replacen('.', "|", 2),
        None => {
            let raw = URL_SAFE_NO_PAD.decode(cursor.strip_prefix("b1.")?).ok()?;
            String::from_utf8(raw).ok()?
        }
    };
    let mut parts = raw.split('|');
    let priority = parts.next()?.parse().ok()?;
    let created_at = DateTime::from_timestamp_micros(parts.next()?.parse().ok()?)?;
    let id = Uuid::try_parse(parts.next()?).ok()?;
    parts.next().is_none().then_some(BoardCursor {
        priority,
        created_at,
        id,
    })
}

/// Your tips, most urgent first (priority, then oldest), filtered and
/// paged with a cursor — the Monday-morning triage list.
#[utoipa::path(tag = "tips", security(("bearer" = [])), params(BoardQuery), responses(
    (status = 200, body = TipBoard),
    (status = 400, body = ErrorBody, description = "`bad_parameter`: a bad cursor, limit or status"),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody, description = "`forbidden`: not an officer"),
    (status = 404, body = ErrorBody, description = "`community_not_found`: `community_id` names no community within your reach"),
))]
#[get("/staff/tips")]
pub async fn triage_board(
    state: web::Data<AppState>,
    auth: OfficerAuth,
    query: web::Query<BoardQuery>,
) -> Result<web::Json<TipBoard>, ApiError> {
    let limit = query.limit.unwrap_or(crate::pagination::DEFAULT_LIMIT);
    if !(1..=crate::pagination::MAX_LIMIT).contains(&limit) {
        return Err(ApiError::bad_parameter("limit must be between 1 and 100"));
    }
    let statuses: Vec<String> = match &query.status {
        None => ["acknowledged", "valid", "verifying", "actioned"]
            .map(str::to_owned)
            .to_vec(),
        Some(list) => list
            .split(',')
            .map(|s| {
                s.trim()
                    .parse::<TipStatus>()
                    .map(|st| st.as_str().to_owned())
                    .map_err(ApiError::bad_parameter)
            })
            .collect::<Result<_, _>>()?,
    };
    let after = match &query.cursor {
        None => None,
        Some(c) => {
            Some(decode_cursor(c).ok_or_else(|| ApiError::bad_parameter("cursor is not valid"))?)
        }
    };
    // A community named in the query resolves within your reach, like any
    // id: another station's community does not exist for you.
    let community = match query.community_id {
        Some(id) => Some(
            crate::scoped::resolve(
                &state,
                auth.scope,
                OrgUnitId::from(id),
                ErrorCode::CommunityNotFound,
            )
            .await?
            .id(),
        ),
        None => None,
    };
    let filter = BoardFilter {
        statuses,
        category_prefix: query.category.clone(),
        community,
        from: query.from,
        to: query.to,
    };
    let mut rows = state
        .store
        .tips()
        .board(auth.id, &filter, after, limit + 1)
        .await?;
    let next_cursor = if rows.len() as u64 > limit {
        rows.truncate(limit as usize);
        rows.last().map(|r| {
            encode_cursor(&BoardCursor {
                priority: r.case.priority,
                created_at: r.case.created_at,
                id: r.case.id,
            })
        })
    } else {
        None
    };
    let mut items = Vec::with_capacity(rows.len());
    for record in rows {
        items.push(tip_view(&state, record, Viewer::Staff).await?);
    }
    Ok(web::Json(TipBoard { items, next_cursor }))
}

/// One tip, with its full history, internal notes and the screening flag:
/// an officer's own or offered tip, or (coordinators and administrators) any tip in your subtree.
#[utoipa::path(tag = "tips", security(("bearer" = [])), params(("id" = Uuid, Path)), responses(
    (status = 200, body = TipView),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody, description = "`forbidden`: not an officer, coordinator or administrator"),
    (status = 404, body = ErrorBody, description = "`tip_not_found`: not yours, and no offer of it to you (a coordinator or administrator: not in your subtree)"),
))]
#[get("/staff/tips/{id}")]
pub async fn get_staff_tip(
    state: web::Data<AppState>,
    auth: CaseReader<OfficerAuth>,
    id: web::Path<Uuid>,
) -> Result<web::Json<TipView>, ApiError> {
    let id: CaseId = id.into_inner().into();
    let record = match auth {
        CaseReader::Handler(officer) => visible_tip(&state, officer.id, id).await?,
        CaseReader::Coordinator(coordinator) => {
            crate::scoped::resolve(&state, coordinator.scope, id, ErrorCode::TipNotFound).await?;
            tracing::info!(case_id = %id, staff_id = %coordinator.id, "tip read under supervision");
            state.store.tips().get(id).await?
        }
    }
    .ok_or_else(tip_not_found)?;
    Ok(web::Json(tip_view(&state, record, Viewer::Staff).await?))
}

/// Likely duplicates of a tip, for triage: other open tips of its category
/// within 500 m, reported in the 7 days before it or since, nearest first
/// (at most 10) — the rule residents see before reporting. A tip without a
/// location has none. Readable by whoever may read the tip.
#[utoipa::path(tag = "tips", security(("bearer" = [])), params(("id" = Uuid, Path)), responses(
    (status = 200, body = Vec<SimilarTip>),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody, description = "`forbidden`: not an officer, coordinator or administrator"),
    (status = 404, body = ErrorBody, description = "`tip_not_found`: not yours, and no offer of it to you (a coordinator or administrator: not in your subtree)"),
))]
#[get("/staff/tips/{id}/similar")]
pub async fn similar_to_tip(
    state: web::Data<AppState>,
    auth: CaseReader<OfficerAuth>,
    id: web::Path<Uuid>,
) -> Result<web::Json<Vec<SimilarTip>>, ApiError> {
    use sansuo_domain::tip::{DUPLICATE_WINDOW_DAYS, GeoPoint};
    let id: CaseId = id.into_inner().into();
    let record = match auth {
        CaseReader::Handler(officer) => visible_tip(&state, officer.id, id).await?,
        CaseReader::Coordinator(coordinator) => {
            crate::scoped::resolve(&state, coordinator.scope, id, ErrorCode::TipNotFound).await?;
            state.store.tips().get(id).await?
        }
    }
    .ok_or_else(tip_not_found)?;
    let Some(here) = record
        .detail
        .lat
        .zip(record.detail.lng)
        .and_then(|(lat, lng)| GeoPoint::new(lat, lng))
    else {
        return Ok(web::Json(Vec::new()));
    };
    let since = record.case.created_at - chrono::Duration::days(DUPLICATE_WINDOW_DAYS);
    Ok(web::Json(
        super::resident::nearby_tips(
            &state,
            &record.case.category_code,
            &here,
            since,
            Some(record.case.id),
        )
        .await?,
    ))
}

/// Sign for the tip offered to you (签收): it is yours to triage.
#[utoipa::path(tag = "tips", security(("bearer" = [])), params(("id" = Uuid, Path)), responses(
    (status = 200, body = TipView),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody),
    (status = 404, body = ErrorBody, description = "`tip_not_found`: no live offer of it to you"),
    (status = 409, body = ErrorBody, description = "`offer_not_pending`"),
))]
#[post("/staff/tips/{id}/acknowledge")]
pub async fn acknowledge_tip(
    state: web::Data<AppState>,
    auth: OfficerAuth,
    request_id: RequestId,
    id: web::Path<Uuid>,
) -> Result<web::Json<TipView>, ApiError> {
    let id: CaseId = id.into_inner().into();
    answer_offer_of_case(
        &state,
        id,
        auth.id,
        OfferAnswer::Accept,
        context(auth.principal(), &request_id),
        tip_not_found,
    )
    .await?;
    tracing::info!(case_id = %id, "tip acknowledged");
    let record = state
        .store
        .tips()
        .get(id)
        .await?
        .ok_or_else(tip_not_found)?;
    Ok(web::Json(tip_view(&state, record, Viewer::Staff).await?))
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeclineTipRequest {
    /// Why (2 to 500 characters), for the coordinator.
    pub reason: String,
}

/// Decline the offer: the next officer on duty is asked.
#[utoipa::path(tag = "tips", security(("bearer" = [])), params(("id" = Uuid, Path)), request_body = DeclineTipRequest, responses(
    (status = 204, description = "Declined"),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody),
    (status = 404, body = ErrorBody, description = "`tip_not_found`: no live offer of it to you"),
    (status = 409, body = ErrorBody, description = "`offer_not_pending`"),
    (status = 422, body = ErrorBody, description = "`validation_failed`"),
))]
#[post("/staff/tips/{id}/decline")]
pub async fn decline_tip(
    state: web::Data<AppState>,
    auth: OfficerAuth,
    request_id: RequestId,
    id: web::Path<Uuid>,
    body: web::Json<DeclineTipRequest>,
) -> Result<HttpResponse, ApiError> {
    let reason = Reason::parse(&body.reason)?;
    let id: CaseId = id.into_inner().into();
    answer_offer_of_case(
        &state,
        id,
        auth.id,
        OfferAnswer::Decline(reason.as_str()),
        context(auth.principal(), &request_id),
        tip_not_found,
    )
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TipMessageRequest {
    /// 1 to 2000 characters.
    pub body: String,
    /// A note for staff only; the reporter never sees it.
    #[serde(default)]
    pub internal: bool,
}

/// Write to the reporter (named or anonymous: they read it with the tip)
/// or add an internal note.
#[utoipa::path(tag = "tips", security(("bearer" = [])), params(("id" = Uuid, Path)), request_body = TipMessageRequest, responses(
    (status = 200, body = TipView),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody),
    (status = 404, body = ErrorBody, description = "`tip_not_found`: not yours"),
    (status = 422, body = ErrorBody, description = "`validation_failed`"),
))]
#[post("/staff/tips/{id}/messages")]
pub async fn message_tip(
    state: web::Data<AppState>,
    auth: OfficerAuth,
    request_id: RequestId,
    id: web::Path<Uuid>,
    body: web::Json<TipMessageRequest>,
) -> Result<web::Json<TipView>, ApiError> {
    let id: CaseId = id.into_inner().into();
    let text = bounded_text("body", &body.body, 1, 2000)?;
    state
        .store
        .tips()
        .message(
            id,
            auth.id,
            &text,
            body.internal,
            context(auth.principal(), &request_id),
        )
        .await
        .map_err(|e| match e {
            sansuo_store::StoreError::NotFound => tip_not_found(),
            other => other.into(),
        })?;
    let record = state
        .store
        .tips()
        .get(id)
        .await?
        .ok_or_else(tip_not_found)?;
    Ok(web::Json(tip_view(&state, record, Viewer::Staff).await?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn board_cursors_round_trip_and_reject_garbage() {
        let c = BoardCursor {
            priority: 5,
            created_at: DateTime::from_timestamp_micros(1_790_000_000_123_456).unwrap(),
            id: Uuid::now_v7(),
        };
        // The earlier form is still read.
        let b1 = format!(
            "b1.{}",
            URL_SAFE_NO_PAD.encode(format!(
                "{}|{}|{}",
                c.priority,
                c.created_at.timestamp_micros(),
                c.id.simple()
            ))
        );
        let encoded = encode_cursor(&c);
        assert!(encoded.starts_with("b2.5.1790000000123456."), "{encoded}");
        assert_eq!(decode_cursor(&b1), decode_cursor(&encoded));
        assert_eq!(decode_cursor(&encoded), Some(c));
        assert_eq!(decode_cursor("b1.bm9wZQ"), None);
        assert_eq!(decode_cursor("b2.1.2"), None);
        assert_eq!(decode_cursor("c1.abc"), None);
        assert_eq!(decode_cursor(""), None);
    }
}
