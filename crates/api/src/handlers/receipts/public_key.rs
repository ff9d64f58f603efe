use crate::AppState;
use actix_web::http::header::CACHE_CONTROL;
use actix_web::{HttpResponse, get, web};

/// The Ed25519 public key that signs photo receipts, as SPKI PEM
/// (`-----BEGIN PUBLIC KEY-----`). Save it as `pub.pem` and check a receipt
/// offline: `openssl pkeyutl -verify -pubin -inkey pub.pem -rawin -in
/// receipt.msg -sigfile receipt.sig` (docs/receipts.md). Public: a receipt
/// is meant to be checked by anyone who holds one.
#[utoipa::path(tag = "tips", responses(
    (status = 200, content_type = "application/x-pem-file", body = String, description = "The public key, SPKI PEM"),
))]
#[get("/receipts/public-key")]
pub async fn receipt_public_key(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/x-pem-file")
        .insert_header((CACHE_CONTROL, "public, max-age=3600"))
        .body(state.receipts.public_key_pem())
}
