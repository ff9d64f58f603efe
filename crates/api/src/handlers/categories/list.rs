use crate::views::CategoryList;
use crate::{ApiError, AppState};
use actix_web::http::header::{CACHE_CONTROL, ETAG, IF_NONE_MATCH};
use actix_web::{HttpRequest, HttpResponse, get, web};
use sha2::{Digest, Sha256};

/// The active category catalogue, parents before their sub-items.
///
/// Cacheable: send the `ETag` back as `If-None-Match` and an unchanged
/// catalogue answers 304 with no body (the mini-program loads it at every
/// start, often on a slow network).
#[utoipa::path(tag = "categories",
    params(("If-None-Match" = Option<String>, Header, description = "The ETag of a copy you hold")),
    responses(
        (status = 200, body = CategoryList, headers(("ETag" = String), ("Cache-Control" = String))),
        (status = 304, description = "Your copy is current", headers(("ETag" = String))),
    ))]
#[get("/categories")]
pub async fn list_categories(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let items = state
        .store
        .org()
        .active_categories()
        .await?
        .into_iter()
        .map(Into::into)
        .collect();
    let body = serde_json::to_vec(&CategoryList { items }).map_err(ApiError::internal)?;
    let etag = format!("\"{}\"", &hex::encode(Sha256::digest(&body))[..32]);
    let matches = req
        .headers()
        .get(IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|tags| tags.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    if matches {
        return Ok(HttpResponse::NotModified()
            .insert_header((ETAG, etag))
            .finish());
    }
    Ok(HttpResponse::Ok()
        .insert_header((ETAG, etag))
        .insert_header((CACHE_CONTROL, "public, max-age=300"))
        .content_type("application/json")
        .body(body))
}
