use super::docs::{Open311ErrorDoc, ReceiptDoc, ServiceRequestDoc};
use super::services::{COMMUNITY_ATTRIBUTE, ONGOING_ATTRIBUTE, definition, service_category};
use super::{
    Open311Failure, OrInternal, REQUESTS_PER_HOUR, State, decode_pairs, document, format_of,
    split_segment,
};
use crate::AppState;
use crate::extract::ClientLang;
use crate::handlers::tips::photos::{discard_photos, read_multipart_gated, store_photos};
use crate::handlers::tips::token_hash;
use crate::middleware::RequestId;
use actix_multipart::Multipart;
use actix_web::http::StatusCode;
use actix_web::http::header::CONTENT_TYPE;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::Utc;
use futures::StreamExt;
use sansuo_domain::lang::Lang;
use sansuo_domain::tip::{Open311Status, TipStatus};
use sansuo_domain::{Actor, CaseId};
use sansuo_open311::{
    Format, Open311Error, PostedRequestReceipt, ReceiptId, Render, RequestQuery, RequestStatus,
    ServiceRequest, china_standard_time, parse_post_request, parse_request_query, require_api_key,
    validate_attributes,
};
use sansuo_queue::RateDecision;
use sansuo_store::open311::{PublicTipFilter, PublicTipRow};
use sansuo_store::records::CategoryRecord;
use sansuo_store::tips::{NewTip, channel, photo_source};
use std::time::Duration;
use uuid::Uuid;

/// A form-encoded body larger than this is refused (a 4,000-character
/// description percent-encoded is at most 36 KiB).
const MAX_FORM_BODY: usize = 64 * 1024;

/// The tips' categories the public reading may show.
async fn public_categories(
    state: &AppState,
    format: Format,
) -> Result<Vec<CategoryRecord>, Open311Failure> {
    Ok(state
        .store
        .org()
        .active_categories()
        .await
        .or_internal(format)?
        .into_iter()
        .filter(|c| c.open311_public)
        .collect())
}

fn status_of(tip: TipStatus) -> RequestStatus {
    match tip.open311() {
        Open311Status::Open => RequestStatus::Open,
        Open311Status::Closed => RequestStatus::Closed,
    }
}

/// ~100 m: enough to see where hazards cluster, not which door.
fn coarse(degrees: f64) -> f64 {
    (degrees * 1000.0).round() / 1000.0
}

/// A tip as anyone may read it: no reporter, no free text, no address, no
/// photo, a coarsened place, our status in plain words.
fn public_request(row: PublicTipRow, categories: &[CategoryRecord], lang: Lang) -> ServiceRequest {
    let status = row.status;
    let updated = if status.is_finished() {
        row.case.closed_at.unwrap_or(row.case.updated_at)
    } else {
        row.case.updated_at
    };
    let category = categories.iter().find(|c| c.code == row.case.category_code);
    ServiceRequest {
        service_request_id: row.case.id.to_string(),
        status: status_of(status),
        status_notes: Some(status.public_note_in(lang).to_owned()),
        service_name: category
            .map(|c| c.name_en.clone())
            .unwrap_or_else(|| row.case.category_code.clone()),
        service_code: row.case.category_code.clone(),
        description: None,
        agency_responsible: row.police_station,
        service_notice: None,
        requested_datetime: china_standard_time(row.case.created_at),
        updated_datetime: china_standard_time(updated),
        expected_datetime: None,
        address: None,
        address_id: None,
        zipcode: None,
        lat: row.lat.map(coarse),
        long: row.lng.map(coarse),
        media_url: None,
    }
}

async fn find_public(
    state: &AppState,
    query: RequestQuery,
    format: Format,
    lang: Lang,
) -> Result<Vec<ServiceRequest>, Open311Failure> {
    let categories = public_categories(state, format).await?;
    let codes = |keep: &dyn Fn(&str) -> bool| -> Vec<String> {
        categories
            .iter()
            .filter(|c| keep(&c.code))
            .map(|c| c.code.clone())
            .collect()
    };
    let now = Utc::now();
    let filter = match query {
        RequestQuery::ByIds(ids) => PublicTipFilter {
            // Ids that are not ours cannot exist: simply absent.
            ids: Some(ids.iter().filter_map(|id| id.parse().ok()).collect()),
            categories: codes(&|_| true),
            statuses: Vec::new(),
            from: now,
            to: now,
            offset: 0,
            limit: sansuo_open311::MAX_PAGE_SIZE.into(),
        },
        RequestQuery::Search(search) => PublicTipFilter {
            ids: None,
            categories: codes(&|code| search.includes_service(code)),
            statuses: if search.statuses.len() == 1 {
                TipStatus::ALL
                    .iter()
                    .filter(|s| search.includes_status(status_of(**s)))
                    .map(|s| s.as_str().to_owned())
                    .collect()
            } else {
                Vec::new()
            },
            from: search.start.with_timezone(&Utc),
            to: search.end.with_timezone(&Utc),
            offset: search.offset(),
            limit: search.limit(),
        },
    };
    let rows = state
        .store
        .open311()
        .tips(&filter)
        .await
        .or_internal(format)?;
    Ok(rows
        .into_iter()
        .map(|row| public_request(row, &categories, lang))
        .collect())
}

/// Tips of public categories (hazards, night noise, damage to property),
/// newest first.
///
/// Filters: `service_request_id` (comma-separated, at most 100; overrides
/// the rest), `service_code`, `status` (`open`, `closed`), `start_date` and
/// `end_date` (W3C datetimes with a time zone; default the last 90 days, at
/// most 90 days apart), `page` (from 1) and `page_size` (1–100, default 50).
/// Each request shows our status in plain words in `status_notes` (in
/// Chinese; in English when `Accept-Language` prefers `en`), the
/// community's police station as `agency_responsible`, and a location
/// rounded to 3 decimals; `description`, `address` and `media_url` are
/// always empty (free text may hold personal data; photos are evidence).
/// Tips of other categories (fraud, domestic violence, ...) never appear.
#[utoipa::path(tag = "open311",
    params(
        ("format" = String, Path, description = "`xml` or `json`"),
        ("service_request_id" = Option<String>, Query),
        ("service_code" = Option<String>, Query),
        ("status" = Option<String>, Query, description = "`open`, `closed` or both, comma-separated"),
        ("start_date" = Option<String>, Query, description = "e.g. `2026-11-01T00:00:00+08:00`"),
        ("end_date" = Option<String>, Query),
        ("page" = Option<u32>, Query),
        ("page_size" = Option<u32>, Query),
        ("Accept-Language" = Option<String>, Header, description = "`status_notes` in English when `en` is preferred; Chinese otherwise"),
    ),
    responses(
        (status = 200, description = "`<service_requests><request>`", content(
            (Vec<ServiceRequestDoc> = "application/json"), (String = "text/xml"))),
        (status = 400, description = "A bad filter: date, status, page", content(
            (Vec<Open311ErrorDoc> = "application/json"), (String = "text/xml"))),
        (status = 404, description = "Unknown format extension (answered in XML)", content(
            (Vec<Open311ErrorDoc> = "application/json"), (String = "text/xml"))),
    ))]
#[get("/v2/requests.{format}")]
pub async fn list_requests(
    state: State,
    req: HttpRequest,
    format: web::Path<String>,
    lang: ClientLang,
) -> Result<HttpResponse, Open311Failure> {
    let format = format_of("requests", &format)?;
    let pairs = decode_pairs(req.query_string(), format)?;
    let query = parse_request_query(&pairs, china_standard_time(Utc::now()))
        .map_err(|errors| Open311Failure::new(format, errors))?;
    let requests = find_public(&state, query, format, lang.0).await?;
    Ok(document(
        StatusCode::OK,
        format,
        requests.as_slice().render(format),
    ))
}

/// One tip of a public category, as a one-element list (the same fields
/// as the list). Any other id, or a tip of a category that is not public,
/// is a 404.
#[utoipa::path(tag = "open311",
    params(
        ("service_request_id" = String, Path),
        ("format" = String, Path, description = "`xml` or `json`"),
        ("Accept-Language" = Option<String>, Header, description = "`status_notes` in English when `en` is preferred; Chinese otherwise"),
    ),
    responses(
        (status = 200, description = "`<service_requests><request>`, one element", content(
            (Vec<ServiceRequestDoc> = "application/json"), (String = "text/xml"))),
        (status = 404, description = "Unknown request, or format extension", content(
            (Vec<Open311ErrorDoc> = "application/json"), (String = "text/xml"))),
    ))]
#[get("/v2/requests/{service_request_id}.{format}")]
pub async fn get_request(
    state: State,
    path: web::Path<(String, String)>,
    lang: ClientLang,
) -> Result<HttpResponse, Open311Failure> {
    let (id, format) = path.into_inner();
    let segment = format!("{id}.{format}");
    let (id, format) = split_segment(&segment)?;
    let found = find_public(
        &state,
        RequestQuery::ByIds(vec![id.to_owned()]),
        format,
        lang.0,
    )
    .await?;
    if found.is_empty() {
        return Err(Open311Failure::one(
            format,
            Open311Error::unknown_service_request(id),
        ));
    }
    Ok(document(StatusCode::OK, format, found.render(format)))
}

/// The photos (`media` parts) and text fields of the body: form-encoded,
/// or multipart.
async fn read_body(
    state: &AppState,
    req: &HttpRequest,
    mut payload: web::Payload,
    format: Format,
    authenticated: bool,
) -> Result<(Vec<Vec<u8>>, Vec<(String, String)>), Open311Failure> {
    let content_type = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let bad = |text: String| Open311Failure::one(format, Open311Error::bad_request(text));
    if content_type.starts_with("multipart/form-data") {
        let multipart = Multipart::new(req.headers(), payload);
        // The key comes before any photo is read: a `media` part ahead of a
        // valid `api_key` part is refused without reading it.
        let mut refused = None;
        let gate = async |fields: &[(String, String)]| {
            if authenticated {
                return Ok(());
            }
            match authenticate(state, fields, format).await {
                Ok(_) => Ok(()),
                Err(failure) => {
                    refused = Some(failure);
                    Err(crate::ApiError::from(crate::ErrorCode::Forbidden))
                }
            }
        };
        let read = read_multipart_gated(
            state,
            multipart,
            state.photo_limits.max_photos_per_tip,
            gate,
        )
        .await;
        return match (read, refused) {
            (Ok(read), _) => Ok(read),
            (Err(_), Some(failure)) => Err(failure),
            (Err(e), None) => Err(Open311Failure::from_api(format, e)),
        };
    }
    if !(content_type.is_empty() || content_type.starts_with("application/x-www-form-urlencoded")) {
        return Err(bad(
            "send the arguments as application/x-www-form-urlencoded or multipart/form-data".into(),
        ));
    }
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| match e {
            actix_web::error::PayloadError::Overflow => {
                Open311Failure::from_api(format, crate::middleware::body_too_large())
            }
            e => bad(format!("the body could not be read: {e}")),
        })?;
        if body.len() + chunk.len() > MAX_FORM_BODY {
            return Err(bad(format!(
                "the body is larger than {MAX_FORM_BODY} bytes"
            )));
        }
        body.extend_from_slice(&chunk);
    }
    let text = std::str::from_utf8(&body).map_err(|_| bad("the body is not UTF-8".into()))?;
    let fields = decode_pairs(text, format)?;
    if fields
        .iter()
        .any(|(name, value)| name.contains('\0') || value.contains('\0'))
    {
        return Err(bad(
            "an argument contains U+0000, which no text may hold".into()
        ));
    }
    Ok((Vec::new(), fields))
}

/// The active key named by `api_key` in `fields`: 403 when missing,
/// unknown or revoked.
async fn authenticate(
    state: &AppState,
    fields: &[(String, String)],
    format: Format,
) -> Result<sansuo_store::records::Open311KeyRecord, Open311Failure> {
    let one = |error| Open311Failure::one(format, error);
    let key = require_api_key(fields).map_err(one)?;
    state
        .store
        .open311()
        .active_key(&token_hash(key))
        .await
        .or_internal(format)?
        .ok_or_else(|| one(Open311Error::invalid_api_key()))
}

/// Count one keyed POST against the key's hourly limit. The specification
/// has no 429: over the limit is a 403 (the key may not file now) with
/// `Retry-After`. An unreachable limiter lets the request through.
async fn within_key_limit(
    state: &AppState,
    key_id: Uuid,
    format: Format,
) -> Result<(), Open311Failure> {
    let decision = state
        .limiter
        .hit(
            &format!("open311-key:{key_id}"),
            REQUESTS_PER_HOUR,
            Duration::from_secs(3600),
        )
        .await;
    match decision {
        Ok(RateDecision::Allowed { .. }) => Ok(()),
        Ok(RateDecision::Limited { retry_after }) => {
            let seconds = retry_after.as_secs().max(1);
            let mut failure = Open311Failure::one(
                format,
                Open311Error::forbidden(format!(
                    "this api_key has filed {REQUESTS_PER_HOUR} requests in the last hour; try again in {seconds} seconds"
                )),
            );
            failure.retry_after = Some(seconds);
            Err(failure)
        }
        Err(e) => {
            tracing::warn!(error = %e, "rate limiter unavailable; letting the request through");
            Ok(())
        }
    }
}

/// What the officer reads: the client's description, and the answer to
/// `ongoing` if given.
fn tip_description(description: Option<String>, ongoing: Option<&str>) -> String {
    let mut text = description.unwrap_or_default();
    if let Some(ongoing) = ongoing {
        if !text.is_empty() {
            text.push('\n');
        }
        text.push_str(match ongoing {
            "yes" => "（Open311）仍在发生 / still going on",
            _ => "（Open311）已停止 / has stopped",
        });
    }
    if text.is_empty() {
        text.push_str("（Open311：未填写描述 / no description）");
    }
    text
}

/// File a tip (form-encoded, or multipart with photos as `media` parts).
///
/// Arguments: `api_key` (required: 403 when missing, unknown or revoked;
/// checked before any photo is read, so send it in the query string or as
/// a part before the `media` parts),
/// `service_code`, a location (`lat`+`long` in WGS-84, or `address_string`;
/// `address_id` is accepted but we keep no address ids), `description`,
/// `attribute[community]` (required: a key from the service definition)
/// and `attribute[ongoing]` (`yes`/`no`). The tip is anonymous: `email`,
/// `phone`, `first_name`, `last_name`, `device_id` and `account_id` are
/// accepted and **not stored**; `media_url` is neither fetched nor stored
/// (send the photo itself as a `media` part: JPEG, PNG or WebP, at most 6,
/// 8 MiB each, metadata stripped). An emergency category is refused with a
/// 400 telling the client to call 110; nothing is recorded.
///
/// Each key may file 120 requests an hour; over that, 403 with
/// `Retry-After` (the specification has no 429). The response is a
/// one-element list with the tip's id as `service_request_id`, which
/// `requests/{id}` answers when the category is public, and a
/// `service_notice` in Chinese (English when `Accept-Language` prefers `en`).
#[utoipa::path(tag = "open311",
    params(
        ("format" = String, Path, description = "`xml` or `json`"),
        ("Accept-Language" = Option<String>, Header, description = "`service_notice` in English when `en` is preferred; Chinese otherwise"),
    ),
    request_body(description = "The specification's arguments", content(
        ("application/x-www-form-urlencoded"), ("multipart/form-data"))),
    responses(
        (status = 201, description = "`<service_requests><request>`, one element", content(
            (Vec<ReceiptDoc> = "application/json"), (String = "text/xml"))),
        (status = 400, description = "A missing or bad argument (service_code, location, lat/long, attribute[community], a photo), or an emergency category: call 110", content(
            (Vec<Open311ErrorDoc> = "application/json"), (String = "text/xml"))),
        (status = 403, description = "api_key missing, unknown or revoked; or over its hourly limit (with Retry-After)", content(
            (Vec<Open311ErrorDoc> = "application/json"), (String = "text/xml"))),
        (status = 404, description = "Unknown service_code, or format extension", content(
            (Vec<Open311ErrorDoc> = "application/json"), (String = "text/xml"))),
        (status = 413, description = "The body is larger than 6 photos of 8 MiB and 1 MiB more (a declared Content-Length over it is answered with the JSON `body_too_large` before reading), or its text parts than 256 KiB", content(
            (Vec<Open311ErrorDoc> = "application/json"), (String = "text/xml"))),
    ))]
#[post("/v2/requests.{format}")]
pub async fn create_request(
    state: State,
    req: HttpRequest,
    request_id: RequestId,
    format: web::Path<String>,
    payload: web::Payload,
    lang: ClientLang,
) -> Result<HttpResponse, Open311Failure> {
    let format = format_of("requests", &format)?;
    let one = |error| Open311Failure::one(format, error);
    // An `api_key` in the query string is checked before the body is read.
    let query = decode_pairs(req.query_string(), format)?;
    let early = if require_api_key(&query).is_ok() {
        Some(authenticate(&state, &query, format).await?)
    } else {
        None
    };
    let (photos, fields) = read_body(&state, &req, payload, format, early.is_some()).await?;
    let key = match early {
        Some(key) => key,
        None => authenticate(&state, &fields, format).await?,
    };
    within_key_limit(&state, key.id, format).await?;

    // An emergency is answered before anything else, and nothing is kept.
    let asked = fields
        .iter()
        .find(|(name, value)| name == "service_code" && !value.trim().is_empty())
        .map(|(_, value)| value.trim());
    if let Some(code) = asked {
        let urgent = state.store.org().category(code).await.or_internal(format)?;
        if urgent.is_some_and(|c| c.urgent) {
            return Err(one(Open311Error::bad_request(format!(
                "service_code {code:?} is an emergency: 这是紧急情况，请立即拨打 110 — call 110 now. Nothing was recorded."
            ))));
        }
    }

    let new = parse_post_request(&fields).map_err(|errors| Open311Failure::new(format, errors))?;
    let category = service_category(&state, &new.service_code, format)
        .await?
        .ok_or_else(|| one(Open311Error::unknown_service_code(&new.service_code)))?;
    let definition = definition(&state, &category.code, format).await?;
    validate_attributes(&definition, &new.attributes)
        .map_err(|errors| Open311Failure::new(format, errors))?;
    let scene = new
        .attributes
        .get(COMMUNITY_ATTRIBUTE)
        .and_then(|v| v.first())
        .ok_or_else(|| {
            one(Open311Error::bad_request(
                "attribute[community] is required",
            ))
        })?;
    let community = state
        .store
        .org()
        .community_by_scene(scene)
        .await
        .or_internal(format)?
        .ok_or_else(|| one(Open311Error::bad_request("attribute[community] is unknown")))?;

    // Check every photo before filing, so a bad photo files nothing.
    let now = Utc::now();
    for raw in &photos {
        sansuo_media::process(raw, &state.photo_limits, now)
            .map_err(|e| Open311Failure::from_api(format, e.into()))?;
    }

    let ongoing = new
        .attributes
        .get(ONGOING_ATTRIBUTE)
        .and_then(|v| v.first())
        .map(String::as_str);
    let point = new.location.lat_long.map(|p| (p.lat, p.long));
    let id = CaseId::new();
    // The photos' bytes first; their records in the tip's own transaction.
    let stored = store_photos(&state, photos, photo_source::REPORTER)
        .await
        .map_err(|e| Open311Failure::from_api(format, e))?;
    let photo_keys = stored.keys();
    let photo_ids: Vec<uuid::Uuid> = stored.records.iter().map(|r| r.id).collect();
    let first_offer = crate::handlers::first_offer(
        &state,
        community.id,
        &category.code,
        sansuo_domain::catalog::Service::Tip,
    )
    .await;
    let filed = state
        .store
        .tips()
        .submit_with_photos(
            NewTip {
                id,
                resident: None,
                // An Open311 client files for someone we do not know.
                anonymous: true,
                submitted_by: Actor::AnonymousReporter,
                community: community.id,
                category: category.code.clone(),
                description: tip_description(new.description, ongoing),
                location: point,
                datum: point.map(|_| "wgs84".to_owned()),
                address: new.location.address_string,
                screening: None,
                submission: None,
                tracking_token_hash: None,
                flagged: false,
                channel: channel::OPEN311,
                first_offer,
                source_case: None,
                request_id: Some(request_id.as_str().to_owned()),
            },
            stored.records,
            now,
        )
        .await;
    if filed.is_err() {
        discard_photos(&state, photo_keys).await;
    }
    let filed = filed.or_internal(format)?;
    crate::handlers::route_new_case(&state, &filed, Some(request_id.as_str()));
    // An Open311 client is nobody we can name to WeChat: its text and
    // photos go to the review queue unchecked, flagged, never withheld.
    if let Some(id) = &filed.created() {
        let reporter = crate::moderation::Reporter::Unnamed;
        match crate::moderation::screen_tip_text(&state, reporter, "").await {
            Ok(found) => {
                crate::handlers::tips::report::check_new_tip(
                    &state, reporter, *id, found, &photo_ids,
                )
                .await
            }
            Err(e) => tracing::warn!(case_id = %id, error = ?e, "content check not recorded"),
        }
    }
    // No client, place or text in the log: the id and the key's name.
    tracing::info!(case_id = %id, open311_key = %key.name, "open311 request filed as a tip");

    let notice = match (lang.0, community.police_station) {
        (Lang::Zh, station) => {
            let station = station.unwrap_or_else(|| "社区派出所".into());
            format!("已作为线索转交{station}，由值班民警研判。如有人身危险，请立即拨打110。")
        }
        (Lang::En, station) => {
            let station = station.unwrap_or_else(|| "the community police".into());
            format!(
                "Filed as a tip for {station}; the officer on duty triages it. If anyone is in danger now, call 110."
            )
        }
    };
    let receipt = PostedRequestReceipt {
        id: ReceiptId::ServiceRequestId(id.to_string()),
        service_notice: Some(notice),
        account_id: None,
    };
    Ok(document(
        StatusCode::CREATED,
        format,
        std::slice::from_ref(&receipt).render(format),
    ))
}
