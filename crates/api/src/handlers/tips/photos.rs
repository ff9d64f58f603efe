//! Photos of a tip: uploaded as multipart (`photo` fields), accepted by
//! content (JPEG, PNG, WebP), stripped of metadata (no GPS, no device, no
//! owner), fingerprinted, stored; the reporter gets a receipt per photo.
use crate::error::ErrorCode;

use super::{PhotoReceiptView, own_tip, photo_view, tip_not_found, tracked_tip, within_limit};
use crate::extract::{ResidentAuth, StaffAuth};
use crate::extract::{ResidentWrite, write};
use crate::handlers::context;
use crate::middleware::RequestId;
use crate::{ApiError, AppState, ErrorBody};
use actix_multipart::Multipart;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::Utc;
use futures::TryStreamExt;
use sansuo_domain::tip::FOLLOW_UP_LIMIT;
use sansuo_domain::{Actor, CaseId};
use sansuo_media::{MediaError, photo_key, process};
use sansuo_store::tips::{NewPhoto, TipRecord, photo_source};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// The multipart field names that carry a photo (Open311 clients say `media`).
const PHOTO_FIELDS: [&str; 3] = ["photo", "photos", "media"];
/// Any other field is read and dropped, up to this size.
const MAX_OTHER_FIELD: usize = 64 * 1024;
/// All other fields together, at most.
const MAX_OTHER_FIELDS: usize = 256 * 1024;

/// Read the photos of a multipart body, at most `room` of them, each
/// within the size limit (checked while it streams in, so an oversized
/// upload is cut off, not buffered). Other fields are returned as text.
pub(crate) async fn read_multipart(
    state: &AppState,
    payload: Multipart,
    room: usize,
) -> Result<(Vec<Vec<u8>>, Vec<(String, String)>), ApiError> {
    read_multipart_gated(state, payload, room, async |_| Ok(())).await
}

/// [`read_multipart`], asking `before_photos` (with the text fields read
/// so far) once, before the first photo's bytes are read: a caller whose
/// credentials travel in the body (Open311's `api_key`) refuses there, so
/// an unauthenticated request never has a photo buffered.
pub(crate) async fn read_multipart_gated(
    state: &AppState,
    mut payload: Multipart,
    room: usize,
    mut before_photos: impl AsyncFnMut(&[(String, String)]) -> Result<(), ApiError>,
) -> Result<(Vec<Vec<u8>>, Vec<(String, String)>), ApiError> {
    let mut gated = false;
    let mut text_bytes = 0usize;
    let limits = state.photo_limits;
    let mut photos = Vec::new();
    let mut fields = Vec::new();
    let bad = |e: actix_multipart::MultipartError| match e {
        // Cut off while streaming by `middleware::body_limit`.
        actix_multipart::MultipartError::Payload(actix_web::error::PayloadError::Overflow) => {
            crate::middleware::body_too_large()
        }
        e => ApiError::bad_parameter(format!("the multipart body is not readable: {e}")),
    };
    while let Some(mut field) = payload.try_next().await.map_err(bad)? {
        let name = field.name().unwrap_or_default().to_owned();
        let is_photo = PHOTO_FIELDS.contains(&name.as_str());
        if is_photo && !gated {
            before_photos(&fields).await?;
            gated = true;
        }
        // `room` already counts the tip's existing photos.
        if is_photo && photos.len() >= room {
            return Err(MediaError::TooManyPhotos {
                max: limits.max_photos_per_tip,
            }
            .into());
        }
        let cap = if is_photo {
            limits.max_bytes
        } else {
            MAX_OTHER_FIELD.min(MAX_OTHER_FIELDS - text_bytes)
        };
        let mut bytes = Vec::new();
        while let Some(chunk) = field.try_next().await.map_err(bad)? {
            if bytes.len() + chunk.len() > cap {
                return Err(if is_photo {
                    MediaError::TooLarge {
                        len: bytes.len() + chunk.len(),
                        max: cap,
                    }
                    .into()
                } else {
                    ApiError::new(
                        ErrorCode::FieldTooLarge,
                        format!(
                            "the field `{name}` is larger than {MAX_OTHER_FIELD} bytes, or the text fields together than {MAX_OTHER_FIELDS}"
                        ),
                    )
                });
            }
            bytes.extend_from_slice(&chunk);
        }
        if is_photo {
            photos.push(bytes);
        } else {
            text_bytes += bytes.len();
            let text = String::from_utf8(bytes).map_err(|_| {
                ApiError::bad_parameter(format!("the field `{name}` is not UTF-8 text"))
            })?;
            if text.contains('\0') || name.contains('\0') {
                return Err(ApiError::new(
                    ErrorCode::InvalidText,
                    format!("the field `{}` contains U+0000", name.replace('\0', "")),
                ));
            }
            fields.push((name, text));
        }
    }
    Ok((photos, fields))
}

/// Photos checked and their bytes stored, not yet recorded: the records to
/// write (with a new tip, in its transaction, or on an existing one) and
/// the receipts, in upload order.
pub(crate) struct StoredPhotos {
    pub records: Vec<NewPhoto>,
    pub receipts: Vec<PhotoReceiptView>,
}

impl StoredPhotos {
    /// The storage keys, to discard the bytes if the records are not written.
    pub fn keys(&self) -> Vec<String> {
        self.records.iter().map(|r| r.storage_key.clone()).collect()
    }
}

/// Process each photo (all are checked before any is stored: all or
/// nothing per request) and store its bytes. A photo is stored before its
/// record, so a record never points at nothing; bytes whose record is
/// never written are discarded ([`discard_photos`]), and a crash in
/// between leaves an unreferenced blob, never a lie.
pub(crate) async fn store_photos(
    state: &AppState,
    photos: Vec<Vec<u8>>,
    added_by: &'static str,
) -> Result<StoredPhotos, ApiError> {
    // Microseconds, as the database keeps them: the receipt signed now and
    // the one signed again from the stored record are the same text.
    let now = Utc::now();
    let now = chrono::DateTime::from_timestamp_micros(now.timestamp_micros()).unwrap_or(now);
    let mut processed = Vec::with_capacity(photos.len());
    for raw in &photos {
        processed.push(process(raw, &state.photo_limits, now)?);
    }
    let mut stored = StoredPhotos {
        records: Vec::with_capacity(processed.len()),
        receipts: Vec::with_capacity(processed.len()),
    };
    for (bytes, receipt) in processed {
        let photo_id = Uuid::now_v7();
        let key = photo_key(photo_id, receipt.kind);
        if let Err(e) = state.photos.put(&key, &bytes).await {
            discard_photos(state, stored.keys()).await;
            return Err(ApiError::internal(format!("photo storage: {e}")));
        }
        let size = i32::try_from(receipt.bytes).unwrap_or(i32::MAX);
        stored.records.push(NewPhoto {
            id: photo_id,
            kind: receipt.kind.extension(),
            bytes: size,
            sha256: receipt.sha256_hex.clone(),
            received_at: receipt.received_at,
            added_by,
            storage_key: key,
        });
        let signed = state
            .receipts
            .sign(photo_id, &receipt.sha256_hex, receipt.received_at);
        stored.receipts.push(PhotoReceiptView {
            signed_receipt: signed.message,
            signature: signed.signature,
            id: photo_id,
            sha256: receipt.sha256_hex,
            bytes: size,
            content_type: receipt.kind.mime().to_owned(),
            received_at: receipt.received_at,
            added_by: added_by.to_owned(),
        });
    }
    Ok(stored)
}

/// Best effort: bytes stored for records that were not written.
pub(crate) async fn discard_photos(state: &AppState, keys: Vec<String>) {
    for key in keys {
        let _ = state.photos.delete(&key).await;
    }
}

/// Process, store and record each photo on an existing tip; the receipts
/// in upload order.
pub(crate) async fn attach_photos(
    state: &AppState,
    id: CaseId,
    photos: Vec<Vec<u8>>,
    added_by: &'static str,
    actor: Actor,
    request_id: &RequestId,
) -> Result<Vec<PhotoReceiptView>, ApiError> {
    let stored = store_photos(state, photos, added_by).await?;
    let mut keys = stored.keys();
    for record in stored.records {
        let photo_id = record.id;
        let added = state
            .store
            .tips()
            .add_photo(
                id,
                record,
                state.photo_limits.max_photos_per_tip,
                context(actor, request_id),
            )
            .await;
        if let Err(e) = added {
            // The record was refused: its bytes and the rest are not needed.
            discard_photos(state, keys).await;
            return Err(match e {
                sansuo_store::StoreError::Conflict(_) => MediaError::TooManyPhotos {
                    max: state.photo_limits.max_photos_per_tip,
                }
                .into(),
                other => other.into(),
            });
        }
        keys.remove(0);
        tracing::info!(case_id = %id, photo_id = %photo_id, "tip photo stored");
    }
    Ok(stored.receipts)
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PhotoReceipts {
    pub receipts: Vec<PhotoReceiptView>,
}

async fn upload(
    state: &AppState,
    record: TipRecord,
    payload: Multipart,
    actor: Actor,
    request_id: &RequestId,
) -> Result<HttpResponse, ApiError> {
    let id = record.id();
    let room = state
        .photo_limits
        .max_photos_per_tip
        .saturating_sub(record.photos.len());
    within_limit(state, &format!("tip-photos:{id}"), FOLLOW_UP_LIMIT).await?;
    let (photos, _) = read_multipart(state, payload, room).await?;
    if photos.is_empty() {
        return Err(sansuo_domain::ValidationError::new(
            "photo",
            "send at least one `photo` field (multipart/form-data)",
        )
        .into());
    }
    let receipts =
        attach_photos(state, id, photos, photo_source::REPORTER, actor, request_id).await?;
    let reporter = match actor {
        Actor::Resident(resident) => crate::moderation::Reporter::Named(resident),
        _ => crate::moderation::Reporter::Unnamed,
    };
    let ids: Vec<Uuid> = receipts.iter().map(|r| r.id).collect();
    // Stored already: a failed check is logged, never answered as an error.
    if let Err(e) = crate::moderation::check_photos(state, reporter, id, &ids).await {
        tracing::warn!(case_id = %id, error = ?e, "image check of new photos not recorded");
    }
    Ok(HttpResponse::Created().json(PhotoReceipts { receipts }))
}

/// Add photos to your named tip (multipart/form-data, one `photo` field per
/// photo). At most 6 per tip, 8 MiB each, JPEG/PNG/WebP by content.
/// Location and other metadata are removed before storing; each receipt
/// holds the SHA-256 of the stored photo and the server's receipt time.
#[utoipa::path(tag = "tips", security(("bearer" = [])), params(("id" = Uuid, Path)),
    request_body(content_type = "multipart/form-data", description = "One or more `photo` fields"),
    responses(
        (status = 201, body = PhotoReceipts),
        (status = 400, body = ErrorBody, description = "`bad_parameter`: not a readable multipart body"),
        (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody, description = "`tip_not_found`"),
        (status = 409, body = ErrorBody, description = "`too_many_photos`"),
        (status = 413, body = ErrorBody, description = "`photo_too_large`, `field_too_large`"),
        (status = 422, body = ErrorBody, description = "`photo_type_not_allowed`, `photo_malformed`, `validation_failed`"),
        (status = 429, body = ErrorBody, description = "`rate_limited`"),
    ))]
#[post("/tips/{id}/photos")]
pub async fn upload_my_tip_photos(
    state: web::Data<AppState>,
    auth: ResidentWrite<write::TipPhotos>,
    request_id: RequestId,
    id: web::Path<Uuid>,
    payload: Multipart,
) -> Result<HttpResponse, ApiError> {
    let record = own_tip(&state, auth.0, id.into_inner().into()).await?;
    upload(
        &state,
        record,
        payload,
        Actor::Resident(auth.0),
        &request_id,
    )
    .await
}

/// Add photos to an anonymous tip, by its tracking token.
#[utoipa::path(tag = "tips",
    params(("X-Tracking-Token" = String, Header, description = "The tip's tracking token")),
    request_body(content_type = "multipart/form-data", description = "One or more `photo` fields"),
    responses(
        (status = 201, body = PhotoReceipts),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody, description = "`unauthenticated`: no token"),
        (status = 404, body = ErrorBody, description = "`tip_not_found`: unknown token"),
        (status = 409, body = ErrorBody, description = "`too_many_photos`"),
        (status = 413, body = ErrorBody, description = "`photo_too_large`"),
        (status = 422, body = ErrorBody, description = "`photo_type_not_allowed`, `photo_malformed`"),
        (status = 429, body = ErrorBody, description = "`rate_limited`"),
    ))]
#[post("/tips/tracked/photos")]
pub async fn upload_tracked_tip_photos(
    state: web::Data<AppState>,
    request_id: RequestId,
    req: HttpRequest,
    payload: Multipart,
) -> Result<HttpResponse, ApiError> {
    let record = tracked_tip(&state, &req).await?;
    upload(
        &state,
        record,
        payload,
        Actor::AnonymousReporter,
        &request_id,
    )
    .await
}

pub(crate) async fn photo_response(
    state: &AppState,
    record: &TipRecord,
    photo_id: Uuid,
) -> Result<HttpResponse, ApiError> {
    let photo = record
        .photos
        .iter()
        .find(|p| p.id == photo_id)
        .ok_or_else(|| ApiError::new(ErrorCode::PhotoNotFound, "no such photo"))?;
    let bytes = state
        .photos
        .get(&photo.storage_key)
        .await
        .map_err(|e| ApiError::internal(format!("photo storage: {e}")))?
        .ok_or_else(|| ApiError::internal(format!("photo {} has no bytes", photo.id)))?;
    let view = photo_view(&state.receipts, photo);
    Ok(HttpResponse::Ok()
        .content_type(view.content_type)
        // Evidence: private to whoever may see the tip, never cached by proxies.
        .insert_header(("Cache-Control", "private, no-store"))
        .insert_header(("X-Content-SHA256", photo.sha256.clone()))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .body(bytes))
}

/// A photo of your named tip.
#[utoipa::path(tag = "tips", security(("bearer" = [])), params(("id" = Uuid, Path), ("photo_id" = Uuid, Path)), responses(
    (status = 200, content_type = "image/jpeg", description = "The stored photo; `X-Content-SHA256` is its receipt hash"),
    (status = 401, body = ErrorBody),
    (status = 404, body = ErrorBody, description = "`tip_not_found`, `photo_not_found`"),
))]
#[get("/tips/{id}/photos/{photo_id}")]
pub async fn my_tip_photo(
    state: web::Data<AppState>,
    auth: ResidentAuth,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, ApiError> {
    let (id, photo_id) = path.into_inner();
    let record = own_tip(&state, auth.0, id.into()).await?;
    reporter_photo_response(&state, &record, photo_id).await
}

/// A photo of an anonymous tip, by its tracking token.
#[utoipa::path(tag = "tips", params(("photo_id" = Uuid, Path), ("X-Tracking-Token" = String, Header)), responses(
    (status = 200, content_type = "image/jpeg", description = "The stored photo"),
    (status = 401, body = ErrorBody),
    (status = 404, body = ErrorBody, description = "`tip_not_found`, `photo_not_found`"),
))]
#[get("/tips/tracked/photos/{photo_id}")]
pub async fn tracked_tip_photo(
    state: web::Data<AppState>,
    req: HttpRequest,
    photo_id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let record = tracked_tip(&state, &req).await?;
    reporter_photo_response(&state, &record, photo_id.into_inner()).await
}

/// A photo for its reporter: one the image check flagged is hidden
/// (`photo_not_found`) until a person passes it.
async fn reporter_photo_response(
    state: &AppState,
    record: &TipRecord,
    photo_id: Uuid,
) -> Result<HttpResponse, ApiError> {
    if crate::moderation::hidden_photos(state, record.id())
        .await?
        .contains(&photo_id)
    {
        return Err(ApiError::new(ErrorCode::PhotoNotFound, "no such photo"));
    }
    photo_response(state, record, photo_id).await
}

/// The link WeChat's image check fetches a photo by.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MediaLinkQuery {
    /// Unix seconds after which the link is refused.
    pub expires: i64,
    /// The server's signature over the photo and `expires`.
    pub sig: String,
}

/// A photo, for WeChat's asynchronous image check only: the link is
/// signed by this server and expires; there is no other way to use it.
#[utoipa::path(tag = "wechat", params(("photo_id" = Uuid, Path), MediaLinkQuery), responses(
    (status = 200, content_type = "image/jpeg", description = "The stored photo"),
    (status = 400, body = ErrorBody, description = "`bad_parameter`"),
    (status = 404, body = ErrorBody, description = "`photo_not_found`: unknown photo, bad signature or expired link"),
))]
#[get("/wechat/media/{photo_id}")]
pub async fn media_check_photo(
    state: web::Data<AppState>,
    photo_id: web::Path<Uuid>,
    query: web::Query<MediaLinkQuery>,
) -> Result<HttpResponse, ApiError> {
    let photo_id = photo_id.into_inner();
    let not_found = || ApiError::new(ErrorCode::PhotoNotFound, "no such photo");
    let expected = crate::moderation::media_link_signature(&state, photo_id, query.expires);
    let valid = expected.len() == query.sig.len()
        && expected
            .bytes()
            .zip(query.sig.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0;
    if !valid || query.expires < Utc::now().timestamp() {
        return Err(not_found());
    }
    let case_id = state
        .store
        .moderation()
        .photo_case(photo_id)
        .await?
        .ok_or_else(not_found)?;
    let record = state
        .store
        .tips()
        .get(case_id.into())
        .await?
        .ok_or_else(not_found)?;
    photo_response(&state, &record, photo_id).await
}

/// A photo of a tip, for the officer who has it or holds its offer.
#[utoipa::path(tag = "tips", security(("bearer" = [])), params(("id" = Uuid, Path), ("photo_id" = Uuid, Path)), responses(
    (status = 200, content_type = "image/jpeg", description = "The stored photo"),
    (status = 401, body = ErrorBody),
    (status = 404, body = ErrorBody, description = "`tip_not_found`, `photo_not_found`"),
))]
#[get("/staff/tips/{id}/photos/{photo_id}")]
pub async fn staff_tip_photo(
    state: web::Data<AppState>,
    auth: StaffAuth,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, ApiError> {
    let (id, photo_id) = path.into_inner();
    let record = super::staff::visible_tip(&state, auth.id, id.into())
        .await?
        .ok_or_else(tip_not_found)?;
    photo_response(&state, &record, photo_id).await
}
