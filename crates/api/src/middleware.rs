//! The request id: taken from `X-Request-Id` when the caller (load
//! balancer, mini-program) sends a sane one, generated otherwise; put on the
//! tracing span of the request, into the outbox rows and jobs the request
//! causes, and returned in the response header.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage};
use std::time::Instant;
use tracing::Instrument;

pub const REQUEST_ID_HEADER: &str = "x-request-id";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestId(pub String);

impl RequestId {
    pub fn generate() -> Self {
        RequestId(uuid::Uuid::now_v7().to_string())
    }

    /// Accept a caller's id only if it is short and plain, so it cannot be
    /// used to inject text into logs.
    fn from_header(value: &HeaderValue) -> Option<Self> {
        let s = value.to_str().ok()?;
        let ok = (1..=64).contains(&s.len())
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.:".contains(c));
        ok.then(|| RequestId(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

pub async fn request_id(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let id = req
        .headers()
        .get(REQUEST_ID_HEADER)
        .and_then(RequestId::from_header)
        .unwrap_or_else(RequestId::generate);
    req.extensions_mut().insert(id.clone());
    // The path only: query strings may carry codes and tokens.
    let span =
        tracing::info_span!("http", request_id = %id.0, method = %req.method(), path = %req.path());
    let started = Instant::now();
    let mut response = next.call(req).instrument(span.clone()).await?;
    if let Ok(value) = HeaderValue::from_str(&id.0) {
        response
            .headers_mut()
            .insert(HeaderName::from_static(REQUEST_ID_HEADER), value);
    }
    let status = response.status().as_u16();
    span.in_scope(|| {
        tracing::info!(
            status,
            elapsed_ms = started.elapsed().as_secs_f64() * 1000.0,
            "request"
        )
    });
    Ok(response)
}
