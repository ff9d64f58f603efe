//! A named reporter's side: my tips, one tip, follow-ups; and for every
//! resident, likely duplicates and "me too".
use crate::error::ErrorCode;

use super::{SUPPORTER_PURPOSE, TipView, Viewer, own_tip, tip_not_found, tip_view, within_limit};
use crate::extract::{ClientLang, ResidentAuth};
use crate::extract::{ResidentWrite, write};
use crate::handlers::context;
use crate::handlers::mediations::bounded_text;
use crate::middleware::RequestId;
use crate::pagination::{PageQuery, split_page};
use crate::{ApiError, AppState, ErrorBody};
use actix_web::{get, post, web};
use chrono::{DateTime, Duration, Utc};
use sansuo_domain::CaseId;
use sansuo_domain::tip::{
    DUPLICATE_RADIUS_M, DUPLICATE_WINDOW_DAYS, Datum, FOLLOW_UP_LIMIT, GeoPoint, NearbyTip,
    TipStatus, likely_duplicates, public_distance_m,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TipPage {
    pub items: Vec<TipView>,
    pub next_cursor: Option<String>,
}

/// The calling resident's named tips, newest first (anonymous tips are
/// not linked to anyone: follow those with their tracking token).
#[utoipa::path(tag = "tips", security(("bearer" = [])), params(PageQuery), responses(
    (status = 200, body = TipPage),
    (status = 400, body = ErrorBody, description = "`bad_parameter`"),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody),
))]
#[get("/tips")]
pub async fn list_my_tips(
    state: web::Data<AppState>,
    auth: ResidentAuth,
    query: web::Query<PageQuery>,
    lang: ClientLang,
) -> Result<web::Json<TipPage>, ApiError> {
    let page = query.parse::<CaseId>()?;
    let rows = state
        .store
        .tips()
        .of_resident(auth.0, page.before, page.limit + 1)
        .await?;
    let (rows, next_cursor) = split_page(rows, page.limit, |r| r.case.id);
    let mut items = Vec::with_capacity(rows.len());
    for record in rows {
        items.push(tip_view(&state, record, Viewer::Reporter(lang.0)).await?);
    }
    Ok(web::Json(TipPage { items, next_cursor }))
}

/// One of your named tips, with its public history and messages.
#[utoipa::path(tag = "tips", security(("bearer" = [])), params(("id" = Uuid, Path)), responses(
    (status = 200, body = TipView),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody),
    (status = 404, body = ErrorBody, description = "`tip_not_found` (also someone else's)"),
))]
#[get("/tips/{id}")]
pub async fn get_my_tip(
    state: web::Data<AppState>,
    auth: ResidentAuth,
    id: web::Path<Uuid>,
    lang: ClientLang,
) -> Result<web::Json<TipView>, ApiError> {
    let record = own_tip(&state, auth.0, id.into_inner().into()).await?;
    Ok(web::Json(
        tip_view(&state, record, Viewer::Reporter(lang.0)).await?,
    ))
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FollowUpRequest {
    /// 1 to 2000 characters: what you want to add.
    pub body: String,
}

/// Add to a tip (more detail, "it is happening again"). It reaches the
/// officer handling it at once; a closed or unfounded tip is reopened and
/// goes back to the officer who had it. 20 an hour per tip.
pub(crate) async fn follow_up(
    state: &AppState,
    id: CaseId,
    body: &FollowUpRequest,
    actor: sansuo_domain::Actor,
    request_id: &RequestId,
) -> Result<(), ApiError> {
    let text = bounded_text("body", &body.body, 1, 2000)?;
    within_limit(state, &format!("tip-follow-up:{id}"), FOLLOW_UP_LIMIT).await?;
    // Checked, flagged if doubtful, never withheld from the officer
    // (`moderation::screen_tip_text`); an anonymous reporter's text is not
    // sent to WeChat.
    let reporter = match actor {
        sansuo_domain::Actor::Resident(resident) => crate::moderation::Reporter::Named(resident),
        _ => crate::moderation::Reporter::Unnamed,
    };
    let found = crate::moderation::screen_tip_text(state, reporter, &text).await?;
    let stored = state
        .store
        .tips()
        .follow_up(id, &text, context(actor, request_id))
        .await
        .map_err(|e| match e {
            sansuo_store::StoreError::Conflict(m) => ApiError::new(ErrorCode::TipNotOpen, m),
            other => other.into(),
        })?;
    if stored.reopened {
        tracing::info!(case_id = %id, "tip reopened by a follow-up");
    }
    if let Err(e) = crate::moderation::flag_content(
        state,
        sansuo_store::moderation::FlagKind::TipMessage,
        stored.message_id,
        id,
        found,
    )
    .await
    {
        tracing::warn!(case_id = %id, error = ?e, "content check of a follow-up not recorded");
    }
    Ok(())
}

#[utoipa::path(tag = "tips", security(("bearer" = [])), params(("id" = Uuid, Path)), request_body = FollowUpRequest, responses(
    (status = 200, body = TipView, description = "Added; `status` shows whether it was reopened"),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody),
    (status = 404, body = ErrorBody, description = "`tip_not_found`"),
    (status = 409, body = ErrorBody, description = "`tip_not_open`: referred, duplicate or converted — handled elsewhere"),
    (status = 422, body = ErrorBody, description = "`validation_failed`"),
    (status = 429, body = ErrorBody, description = "`rate_limited`"),
))]
#[post("/tips/{id}/follow-ups")]
pub async fn follow_up_my_tip(
    state: web::Data<AppState>,
    auth: ResidentWrite<write::TipFollowUp>,
    request_id: RequestId,
    id: web::Path<Uuid>,
    body: web::Json<FollowUpRequest>,
    lang: ClientLang,
) -> Result<web::Json<TipView>, ApiError> {
    let id: CaseId = id.into_inner().into();
    own_tip(&state, auth.0, id).await?;
    follow_up(
        &state,
        id,
        &body,
        sansuo_domain::Actor::Resident(auth.0),
        &request_id,
    )
    .await?;
    let record = own_tip(&state, auth.0, id).await?;
    Ok(web::Json(
        tip_view(&state, record, Viewer::Reporter(lang.0)).await?,
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SimilarQuery {
    pub category_code: String,
    pub lat: f64,
    pub lng: f64,
    /// `wgs84` (default), `gcj02` or `bd09`.
    pub datum: Option<String>,
}

/// An open tip that may be what you are about to report.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SimilarTip {
    pub id: Uuid,
    pub category_code: String,
    pub status: String,
    /// Rounded to 50 m.
    pub distance_m: u32,
    pub reported_at: DateTime<Utc>,
    pub supporters: i32,
}

/// Before reporting: open tips of the same category within 500 m reported
/// in the last 7 days, nearest first. Say "me too" to one instead of
/// filing a second tip. Only what is needed to recognise it is shown (no
/// description, no reporter, distance rounded to 50 m).
#[utoipa::path(tag = "tips", security(("bearer" = [])), params(SimilarQuery), responses(
    (status = 200, body = Vec<SimilarTip>),
    (status = 400, body = ErrorBody, description = "`bad_parameter`"),
    (status = 401, body = ErrorBody),
    (status = 422, body = ErrorBody, description = "`validation_failed`: a bad point or datum"),
))]
#[get("/tips/similar")]
pub async fn similar_tips(
    state: web::Data<AppState>,
    _auth: ResidentAuth,
    query: web::Query<SimilarQuery>,
) -> Result<web::Json<Vec<SimilarTip>>, ApiError> {
    let datum: Datum = match query.datum.as_deref() {
        None => Datum::Wgs84,
        Some(d) => d.parse().map_err(|_| {
            sansuo_domain::ValidationError::new("datum", "must be wgs84, gcj02 or bd09")
        })?,
    };
    let here = GeoPoint::from_datum(query.lat, query.lng, datum).ok_or_else(|| {
        sansuo_domain::ValidationError::new("lat", "lat must be within ±90 and lng within ±180")
    })?;
    let since = Utc::now() - Duration::days(DUPLICATE_WINDOW_DAYS);
    Ok(web::Json(
        nearby_tips(&state, &query.category_code, &here, since, None).await?,
    ))
}

/// Tips of `category` reported since `since` within the duplicate radius of
/// `here`, nearest first, at most ten, `except` one (the tip itself when
/// an officer asks what else looks like it). Distances are rounded and
/// nothing names a reporter: residents see the same list.
pub(super) async fn nearby_tips(
    state: &AppState,
    category: &str,
    here: &GeoPoint,
    since: chrono::DateTime<Utc>,
    except: Option<Uuid>,
) -> Result<Vec<SimilarTip>, ApiError> {
    let rows = state
        .store
        .tips()
        .in_box(category, here.bounding_box(DUPLICATE_RADIUS_M), since)
        .await?;
    let candidates: Vec<NearbyTip<usize>> = rows
        .iter()
        .enumerate()
        .filter(|(_, r)| Some(r.case_id) != except)
        .filter_map(|(i, r)| {
            Some(NearbyTip {
                id: i,
                point: GeoPoint::new(r.lat, r.lng)?,
                status: r.status.parse::<TipStatus>().ok()?,
            })
        })
        .collect();
    let near = likely_duplicates(here, &candidates, DUPLICATE_RADIUS_M);
    Ok(near
        .into_iter()
        .take(10)
        .map(|(i, distance)| {
            let r = &rows[i];
            SimilarTip {
                id: r.case_id,
                category_code: r.category_code.clone(),
                status: r.status.clone(),
                distance_m: public_distance_m(distance),
                reported_at: r.created_at,
                supporters: r.supporters,
            }
        })
        .collect())
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SupportResult {
    /// `false` when you had already said "me too" (nothing changed).
    pub counted: bool,
    pub supporters: i32,
}

/// "Me too": you see the same thing. Counted once per resident, and
/// without linking you to the tip or your other "me too"s (a pseudonym of
/// you and this tip is stored for the week, different on every tip).
#[utoipa::path(tag = "tips", security(("bearer" = [])), params(("id" = Uuid, Path)), responses(
    (status = 429, body = ErrorBody, description = "`rate_limited`: too many of these lately; see Retry-After"),
    (status = 200, body = SupportResult),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody),
    (status = 404, body = ErrorBody, description = "`tip_not_found`"),
    (status = 409, body = ErrorBody, description = "`tip_not_open`"),
))]
#[post("/tips/{id}/me-too")]
pub async fn me_too(
    state: web::Data<AppState>,
    auth: ResidentWrite<write::MeToo>,
    id: web::Path<Uuid>,
) -> Result<web::Json<SupportResult>, ApiError> {
    let id: CaseId = id.into_inner().into();
    // A pseudonym of (resident, tip) in this screening window: different
    // on every tip, and deleted with the window (docs/anonymity.md).
    let now = Utc::now();
    let subject = [*id.as_uuid().as_bytes(), *auth.0.as_uuid().as_bytes()].concat();
    let supporter = state.pseudonyms.window_pseudonym(
        SUPPORTER_PURPOSE,
        sansuo_domain::tip::screening_window(now),
        &subject,
    );
    let counted = state
        .store
        .tips()
        .support(id, &supporter, now)
        .await
        .map_err(|e| match e {
            sansuo_store::StoreError::NotFound => tip_not_found(),
            sansuo_store::StoreError::Conflict(m) => ApiError::new(ErrorCode::TipNotOpen, m),
            other => other.into(),
        })?;
    let supporters = state
        .store
        .tips()
        .get(id)
        .await?
        .map(|t| t.detail.supporters)
        .ok_or_else(tip_not_found)?;
    Ok(web::Json(SupportResult {
        counted,
        supporters,
    }))
}
