use super::{
    LIMIT_PURPOSE, SCREENING_PURPOSE, SUBMISSION_PURPOSE, TipView, Viewer, tip_view, token_hash,
    tracking_token, window_key, within_limit,
};
use crate::error::ErrorCode;
use crate::extract::{Idempotency, ResidentAuth};
use crate::handlers::mediations::bounded_text;
use crate::middleware::RequestId;
use crate::{ApiError, AppState, ErrorBody};
use actix_web::{HttpResponse, post, web};
use sansuo_domain::ValidationError;
use sansuo_domain::catalog::Service;
use sansuo_domain::lang::Lang;
use sansuo_domain::tip::{
    CategoryRules, Datum, GeoPoint, TipRefusal, admit_tip, combined, is_flagged, screening_window,
    submission_limit,
};
use sansuo_domain::{Actor, CaseId, ResidentId};
use sansuo_store::consultations::Submission;
use sansuo_store::records::CategoryRecord;
use sansuo_store::tips::{NewTip, Screening, channel};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Debug, Deserialize, Serialize, ToSchema, Clone)]
#[serde(deny_unknown_fields)]
pub struct LocationRequest {
    #[schema(example = 31.2646)]
    pub lat: f64,
    #[schema(example = 121.5052)]
    pub lng: f64,
    /// `wgs84` (default; `wx.getLocation`'s default), `gcj02`
    /// (`wx.getLocation({type: 'gcj02'})`, Tencent/Amap maps) or `bd09`
    /// (Baidu). Converted to WGS-84 on the way in.
    pub datum: Option<String>,
    /// Where, in words (up to 200 characters), e.g. "3号楼东侧消防通道".
    pub address: Option<String>,
}

/// The multipart form of `POST /tips/with-photos`, for the spec: the
/// handler reads it field by field (`photos::read_multipart`).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct ReportTipForm {
    /// The report as `POST /tips` takes it, as JSON.
    tip: ReportTipRequest,
    /// Photos (JPEG, PNG or WebP), one `photo` field each.
    #[schema(value_type = Option<Vec<String>>)]
    photo: Option<Vec<Vec<u8>>>,
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportTipRequest {
    /// The community whose QR code the resident scanned.
    pub community_id: Uuid,
    /// A category code that takes tips (`GET /categories`).
    #[schema(example = "AQ01")]
    pub category_code: String,
    /// What is happening, 5 to 2000 characters.
    pub description: String,
    pub location: Option<LocationRequest>,
    /// Report without your identity: the tip stores no link to you and
    /// you follow it with the tracking token in the response. Only in
    /// categories that allow it.
    #[serde(default)]
    pub anonymous: bool,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TipReceipt {
    pub tip: TipView,
    /// Anonymous tips only: keep it private; send it as `X-Tracking-Token`
    /// to follow the tip, add photos and follow-ups. It is the only way
    /// back to an anonymous tip.
    pub tracking_token: Option<String>,
}

/// A category's checks for a tip: an emergency is refused with "call 110
/// now" before anything else (nothing recorded); then it must take tips,
/// and anonymity must be allowed if asked for.
pub(crate) fn tip_category(
    category: Option<CategoryRecord>,
    anonymous: bool,
) -> Result<CategoryRecord, ApiError> {
    let category = crate::handlers::admit_category(category, Service::Tip)?;
    let rules = CategoryRules {
        urgent: category.urgent,
        takes_tips: true,
        anonymous_allowed: category.anonymous_allowed,
    };
    match admit_tip(rules, anonymous) {
        Ok(()) => Ok(category),
        Err(TipRefusal::Emergency) => Err(ErrorCode::EmergencyCall110.into()),
        Err(TipRefusal::NotForTips) => Err(ErrorCode::CategoryNotOffered.into()),
        Err(TipRefusal::AnonymousNotAllowed) => Err(ErrorCode::AnonymousNotAllowed.into()),
    }
}

/// A location parsed: WGS-84 (lat, lng), the datum it came in, the address.
#[derive(Debug, Default)]
pub(crate) struct ParsedLocation {
    pub point: Option<(f64, f64)>,
    pub datum: Option<String>,
    pub address: Option<String>,
}

/// A location as the client sent it → WGS-84, with the datum it came in.
pub(crate) fn parse_location(
    location: Option<&LocationRequest>,
) -> Result<ParsedLocation, ApiError> {
    let Some(loc) = location else {
        return Ok(ParsedLocation::default());
    };
    let datum: Datum = match loc.datum.as_deref() {
        None => Datum::Wgs84,
        Some(d) => d
            .parse()
            .map_err(|_| ValidationError::new("location.datum", "must be wgs84, gcj02 or bd09"))?,
    };
    let point = GeoPoint::from_datum(loc.lat, loc.lng, datum).ok_or_else(|| {
        ValidationError::new("location", "lat must be within ±90 and lng within ±180")
    })?;
    let address = loc
        .address
        .as_deref()
        .map(|a| bounded_text("location.address", a, 1, 200))
        .transpose()?;
    Ok(ParsedLocation {
        point: Some((point.lat(), point.lng())),
        datum: Some(datum.as_str().to_owned()),
        address,
    })
}

/// Report a tip (线索举报), named or anonymous.
///
/// Urgent categories are refused with `emergency_call_110`: the client must
/// tell the resident to call 110 now; nothing is recorded. Send an
/// `Idempotency-Key` header: a retry returns the same tip (and the same
/// tracking token). At most 5 tips an hour per resident (1 for a reporter
/// whose tips were mostly unfounded).
#[utoipa::path(tag = "tips", security(("bearer" = [])), request_body = ReportTipRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "8–128 visible ASCII characters (a UUID is ideal); a retry with the same key and body replays the first answer", min_length = 8, max_length = 128, pattern = r"^[!-~]{8,128}$")),
    responses(
        (status = 201, body = TipReceipt, description = "Reported, or replayed for a repeated Idempotency-Key"),
        (status = 400, body = ErrorBody, description = "`malformed_json`"),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody, description = "`forbidden`: not a resident"),
        (status = 404, body = ErrorBody, description = "`community_not_found`, `category_not_found`"),
        (status = 422, body = ErrorBody, description = "`emergency_call_110` (call 110 now; nothing recorded), `category_not_offered`, `anonymous_not_allowed`, `validation_failed`, `invalid_body`, `idempotency_key_reused`"),
        (status = 429, body = ErrorBody, description = "`rate_limited`, with Retry-After"),
        (status = 503, body = ErrorBody, description = "`submission_stored`: the tip is stored but could not be read back; retry with the same Idempotency-Key to get it (and an anonymous tip's tracking token), never report it anew"),
    ))]
#[post("/tips")]
pub async fn report_tip(
    state: web::Data<AppState>,
    auth: ResidentAuth,
    request_id: RequestId,
    body: web::Json<ReportTipRequest>,
    idempotency: Idempotency,
) -> Result<HttpResponse, ApiError> {
    file_tip(
        &state,
        auth.0,
        &request_id,
        idempotency,
        body.into_inner(),
        Vec::new(),
    )
    .await
}

/// Report a tip with its photos in one request (multipart/form-data): a
/// `tip` field holding the same JSON as `POST /tips`, and up to 6 `photo`
/// fields. Every photo is checked before anything is recorded: a refused
/// photo means no tip either, so a retry starts clean.
#[utoipa::path(tag = "tips", security(("bearer" = [])),
    request_body(content = ReportTipForm, content_type = "multipart/form-data", description = "`tip`: the ReportTipRequest JSON; `photo`: one field per photo"),
    params(("Idempotency-Key" = Option<String>, Header, description = "8–128 visible ASCII characters (a UUID is ideal); a retry with the same key and body replays the first answer", min_length = 8, max_length = 128, pattern = r"^[!-~]{8,128}$")),
    responses(
        (status = 201, body = TipReceipt),
        (status = 400, body = ErrorBody, description = "`bad_parameter`: not multipart, or no `tip` field; `malformed_json`"),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody, description = "`community_not_found`, `category_not_found`"),
        (status = 409, body = ErrorBody, description = "`too_many_photos`"),
        (status = 413, body = ErrorBody, description = "`photo_too_large`, `field_too_large`"),
        (status = 422, body = ErrorBody, description = "`emergency_call_110`, `category_not_offered`, `anonymous_not_allowed`, `photo_type_not_allowed`, `photo_malformed`, `validation_failed`, `invalid_body`, `idempotency_key_reused`"),
        (status = 429, body = ErrorBody, description = "`rate_limited`"),
        (status = 503, body = ErrorBody, description = "`submission_stored`: the tip is stored but could not be read back; retry with the same Idempotency-Key to get it, never report it anew"),
    ))]
#[post("/tips/with-photos")]
pub async fn report_tip_with_photos(
    state: web::Data<AppState>,
    auth: ResidentAuth,
    request_id: RequestId,
    payload: actix_multipart::Multipart,
    idempotency: Idempotency,
) -> Result<HttpResponse, ApiError> {
    let (photos, fields) =
        super::photos::read_multipart(&state, payload, state.photo_limits.max_photos_per_tip)
            .await?;
    let json = fields
        .iter()
        .find(|(name, _)| name == "tip")
        .map(|(_, v)| v.as_str())
        .ok_or_else(|| ApiError::bad_parameter("send the report as a `tip` field"))?;
    crate::middleware::check_json_text(json.as_bytes(), "the `tip` field")?;
    let body: ReportTipRequest = serde_json::from_str(json).map_err(|e| {
        if e.is_syntax() || e.is_eof() {
            ApiError::malformed_json(format!("the `tip` field is not JSON: {e}"))
        } else {
            ApiError::invalid_body(format!("the `tip` field: {e}"))
        }
    })?;
    // Refuse a bad photo before the tip exists.
    for raw in &photos {
        sansuo_media::process(raw, &state.photo_limits, chrono::Utc::now())?;
    }
    file_tip(&state, auth.0, &request_id, idempotency, body, photos).await
}

async fn file_tip(
    state: &AppState,
    resident: ResidentId,
    request_id: &RequestId,
    idempotency: Idempotency,
    body: ReportTipRequest,
    photos: Vec<Vec<u8>>,
) -> Result<HttpResponse, ApiError> {
    let category = tip_category(
        state.store.org().category(&body.category_code).await?,
        body.anonymous,
    )?;
    let description = bounded_text("description", &body.description, 5, 2000)?;
    let place = parse_location(body.location.as_ref())?;
    let community = state
        .store
        .org()
        .community(body.community_id.into())
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::CommunityNotFound, "no such community"))?;
    // Screening (docs/anonymity.md): a named reporter by their resident, an
    // anonymous one by this window's pseudonym, stored beside the tip only
    // until the window ends. The two records are judged together here,
    // in memory; nothing stored joins them.
    let now = chrono::Utc::now();
    let window = screening_window(now);
    let screening_key = window_key(state, SCREENING_PURPOSE, resident, window);
    let record = combined(
        state.store.tips().named_reporter_record(resident).await?,
        state
            .store
            .tips()
            .reporter_record(&screening_key, window)
            .await?,
    );
    let flagged = is_flagged(&record);
    // A retried anonymous report finds its tip by a key made from the
    // window pseudonym (cleared when the window ends), a named one by the
    // resident.
    let submitter = if body.anonymous {
        screening_key.clone().into_bytes()
    } else {
        resident.as_uuid().as_bytes().to_vec()
    };
    let submission = idempotency.with_body(&body)?.map(|(key, hash)| {
        (
            state.pseudonyms.pseudonym_of_pair(
                SUBMISSION_PURPOSE,
                &submitter,
                key.as_str().as_bytes(),
            ),
            hash,
        )
    });
    // A replay is not a new submission: only count fresh ones.
    let replay = match &submission {
        Some((key, _)) => state.store.tips().by_submission_key(key).await?,
        None => None,
    };
    if replay.is_none() {
        // Named and anonymous reports share one hourly limit; its key
        // lives in the limiter (Redis) for the hour, never in the database.
        let limit_key = window_key(state, LIMIT_PURPOSE, resident, window);
        within_limit(
            state,
            &format!("{LIMIT_PURPOSE}:{limit_key}"),
            submission_limit(flagged),
        )
        .await?;
    }
    // The content check runs on fresh reports only; it never refuses or
    // withholds a tip (see `moderation::screen_tip_text`).
    let reporter = if body.anonymous {
        crate::moderation::Reporter::Unnamed
    } else {
        crate::moderation::Reporter::Named(resident)
    };
    let found = match replay {
        None => crate::moderation::screen_tip_text(state, reporter, &description).await?,
        Some(_) => None,
    };
    let id = CaseId::new();
    let token_for = |id: CaseId| body.anonymous.then(|| tracking_token(state, id));
    // The photos' bytes first (a replay needs none); their records go in
    // the tip's own transaction: the tip and its photos are one unit.
    let stored = match replay {
        None if !photos.is_empty() => Some(
            super::photos::store_photos(state, photos, sansuo_store::tips::photo_source::REPORTER)
                .await?,
        ),
        _ => None,
    };
    let photo_keys = stored.as_ref().map(|s| s.keys()).unwrap_or_default();
    let photo_records = stored.map(|s| s.records).unwrap_or_default();
    let photo_ids: Vec<Uuid> = photo_records.iter().map(|p| p.id).collect();
    let first_offer = match replay {
        None => {
            let community = community.id.into();
            crate::handlers::first_offer(state, community, &category.code, Service::Tip).await
        }
        Some(_) => None,
    };
    let submitted = state
        .store
        .tips()
        .submit_with_photos(
            NewTip {
                id,
                resident: (!body.anonymous).then_some(resident),
                anonymous: body.anonymous,
                submitted_by: if body.anonymous {
                    Actor::AnonymousReporter
                } else {
                    Actor::Resident(resident)
                },
                community: community.id.into(),
                category: category.code.clone(),
                description,
                location: place.point,
                datum: place.datum,
                address: place.address,
                screening: body.anonymous.then(|| Screening {
                    reporter_key: screening_key.clone(),
                    window,
                }),
                submission,
                tracking_token_hash: token_for(id).map(|t| token_hash(&t)),
                flagged,
                channel: channel::APP,
                first_offer,
                source_case: None,
                // Never kept for an anonymous report (the store drops it
                // too: `Context::recorded_request_id`).
                request_id: (!body.anonymous).then(|| request_id.as_str().to_owned()),
            },
            photo_records,
            now,
        )
        .await;
    let submitted = match submitted {
        Ok(stored) if stored.created().is_some() => {
            let id = stored.case_id();
            // No reporter, place or text in the log: the id says enough.
            tracing::info!(case_id = %id, anonymous = body.anonymous, photos = photo_keys.len(), "tip reported");
            check_new_tip(state, reporter, id, found, &photo_ids).await;
            stored
        }
        Ok(replayed) => {
            // A racing retry stored the tip and its photos first.
            super::photos::discard_photos(state, photo_keys).await;
            replayed
        }
        Err(err) => {
            super::photos::discard_photos(state, photo_keys).await;
            return Err(err.into());
        }
    };
    // Never the request id of an anonymous report (see above).
    crate::handlers::route_new_case(
        state,
        &submitted,
        (!body.anonymous).then(|| request_id.as_str()),
    );
    let id = submitted.case_id();
    let tip = crate::handlers::read_back(
        id,
        (!body.anonymous).then(|| format!("/api/v1/tips/{id}")),
        "您的线索已保存，但暂时无法显示。请勿重新提交：稍后用同一 Idempotency-Key 重试即可取回（匿名线索的查询码也在其中）。",
        async {
            let record = state
                .store
                .tips()
                .get(id)
                .await?
                .ok_or_else(super::tip_not_found)?;
            tip_view(state, record, Viewer::Reporter(Lang::Zh)).await
        },
    )
    .await?;
    let mut response = HttpResponse::Created();
    if !body.anonymous {
        response.insert_header(("Location", format!("/api/v1/tips/{id}")));
    }
    if matches!(submitted, Submission::Replayed(_)) {
        response.insert_header(("Idempotent-Replayed", "true"));
    }
    Ok(response.json(TipReceipt {
        tip,
        tracking_token: token_for(id),
    }))
}

/// Flag a new tip's text and send its photos to the image check. The tip
/// is stored already: a failure here is logged, never answered as an
/// error (the reporter would retry a tip that exists).
pub(crate) async fn check_new_tip(
    state: &AppState,
    reporter: crate::moderation::Reporter,
    id: CaseId,
    found: Option<(sansuo_store::moderation::FlagVerdict, Option<i64>)>,
    photos: &[Uuid],
) {
    use sansuo_store::moderation::FlagKind;
    let flagged =
        crate::moderation::flag_content(state, FlagKind::Tip, id.as_uuid(), id, found).await;
    let checked = crate::moderation::check_photos(state, reporter, id, photos).await;
    if let Err(e) = flagged.and(checked) {
        tracing::warn!(case_id = %id, error = ?e, "content check of a new tip not recorded");
    }
}
