//! Open311 client keys: administrators issue one per client (a dashboard,
//! a civic app), see which exist, and revoke them. The key is shown once;
//! only its SHA-256 is stored.
use crate::error::ErrorCode;

use crate::extract::AdministratorAuth;
use crate::handlers::tips::token_hash;
use crate::{ApiError, AppState, ErrorBody};
use actix_web::{HttpResponse, delete, get, post, web};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use rand::RngCore;
use sansuo_domain::ValidationError;
use sansuo_store::records::Open311KeyRecord;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// Random bytes in a key (43 characters of URL-safe base64).
const KEY_BYTES: usize = 32;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IssueOpen311KeyRequest {
    /// Who the key is for, 1 to 64 characters.
    #[schema(example = "区城运中心大屏")]
    pub name: String,
}

/// A key as listed: never the key itself.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct Open311KeyView {
    pub id: Uuid,
    pub name: String,
    pub created_at: DateTime<Utc>,
    /// Set once revoked: the key is refused from then on.
    pub revoked_at: Option<DateTime<Utc>>,
}

impl From<Open311KeyRecord> for Open311KeyView {
    fn from(row: Open311KeyRecord) -> Self {
        Self {
            id: row.id,
            name: row.name,
            created_at: row.created_at,
            revoked_at: row.revoked_at,
        }
    }
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct IssuedOpen311Key {
    pub id: Uuid,
    pub name: String,
    /// The client's `api_key`. Shown this once: only its SHA-256 is kept.
    pub api_key: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct Open311KeyList {
    pub items: Vec<Open311KeyView>,
}

/// Issue an Open311 client key (administrators only).
#[utoipa::path(tag = "admin", security(("bearer" = [])), request_body = IssueOpen311KeyRequest, responses(
    (status = 201, body = IssuedOpen311Key, description = "The key, shown once"),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody, description = "`forbidden`: administrators only"),
    (status = 422, body = ErrorBody, description = "`validation_failed`"),
))]
#[post("/admin/open311-keys")]
pub async fn issue_open311_key(
    state: web::Data<AppState>,
    admin: AdministratorAuth,
    body: web::Json<IssueOpen311KeyRequest>,
) -> Result<HttpResponse, ApiError> {
    let name = body.name.trim();
    if name.is_empty() || name.chars().count() > 64 {
        return Err(ValidationError::new("name", "must be 1 to 64 characters").into());
    }
    let mut raw = [0u8; KEY_BYTES];
    rand::rng().fill_bytes(&mut raw);
    let api_key = URL_SAFE_NO_PAD.encode(raw);
    let row = state
        .store
        .open311()
        .issue_key(name, &token_hash(&api_key), admin.id, Utc::now())
        .await?;
    tracing::info!(key_id = %row.id, by = %admin.id, "open311 key issued");
    Ok(HttpResponse::Created().json(IssuedOpen311Key {
        id: row.id,
        name: row.name,
        api_key,
        created_at: row.created_at,
    }))
}

/// Every Open311 client key, revoked ones included (administrators only).
#[utoipa::path(tag = "admin", security(("bearer" = [])), responses(
    (status = 200, body = Open311KeyList),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody, description = "`forbidden`: administrators only"),
))]
#[get("/admin/open311-keys")]
pub async fn list_open311_keys(
    state: web::Data<AppState>,
    _admin: AdministratorAuth,
) -> Result<web::Json<Open311KeyList>, ApiError> {
    let items = state
        .store
        .open311()
        .keys()
        .await?
        .into_iter()
        .map(Open311KeyView::from)
        .collect();
    Ok(web::Json(Open311KeyList { items }))
}

/// Revoke an Open311 client key: its requests are refused (403) from now
/// on. Revoking a revoked key changes nothing.
#[utoipa::path(tag = "admin", security(("bearer" = [])), params(("id" = Uuid, Path)), responses(
    (status = 204, description = "Revoked"),
    (status = 400, body = ErrorBody, description = "`bad_parameter`"),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody, description = "`forbidden`: administrators only"),
    (status = 404, body = ErrorBody, description = "`open311_key_not_found`"),
))]
#[delete("/admin/open311-keys/{id}")]
pub async fn revoke_open311_key(
    state: web::Data<AppState>,
    admin: AdministratorAuth,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    if !state.store.open311().revoke_key(id, Utc::now()).await? {
        return Err(ApiError::new(
            ErrorCode::Open311KeyNotFound,
            "no such Open311 key",
        ));
    }
    tracing::info!(key_id = %id, by = %admin.id, "open311 key revoked");
    Ok(HttpResponse::NoContent().finish())
}
