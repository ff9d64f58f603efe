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
    let mut response = match next.call(req).instrument(span.clone()).await {
        Ok(response) => response,
        Err(e) => {
            // An error no inner layer rendered (a panic caught by
            // `catch_panic`): rendered here, so it carries the id too.
            let mut response = e.error_response();
            let status = response.status().as_u16();
            if let Ok(value) = HeaderValue::from_str(&id.0) {
                response
                    .headers_mut()
                    .insert(HeaderName::from_static(REQUEST_ID_HEADER), value);
            }
            span.in_scope(|| {
                tracing::info!(
                    status,
                    elapsed_ms = started.elapsed().as_secs_f64() * 1000.0,
                    "request"
                )
            });
            return Err(actix_web::error::InternalError::from_response(
                "rendered with its request id",
                response,
            )
            .into());
        }
    };
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

/// Authentication, once per request of the `/api/v1` scope (wrapped there
/// in [`crate::routes`]): the bearer token is decoded and its session
/// checked (`staff.session_epoch`, read at most once a second), and what
/// was found, a principal or the 401 to answer, is stored in the
/// request's extensions. The role extractors (`ResidentAuth`, `AdminAuth`,
/// `Scoped<Id>`, `ResidentWrite<A>`, …) read it synchronously, so a
/// wrong role's 403 or a missing token's 401 always comes before any
/// answer about the body, path or query. Public operations ignore it.
pub async fn authenticate(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let found = crate::extract::authentication(req.request()).await;
    req.extensions_mut().insert(found);
    // A slot for the staff member the role extractors find, read by the
    // personal data audit (`crate::audit`).
    crate::audit::in_request(next.call(req)).await
}

/// The largest body of any request that is not a photo upload: the JSON
/// bodies have their own, smaller limit ([`crate::MAX_JSON_BODY`]); this
/// one covers forms and pushes (`web::Bytes` reads up to 256 KiB too).
pub const MAX_BODY: usize = 256 * 1024;
/// What a photo upload may carry besides its photos (text fields, part
/// headers, boundaries).
pub const UPLOAD_OVERHEAD: usize = 1024 * 1024;

/// The bulk import's limit (`POST /api/v1/admin/import`): a district of
/// 198 communities and 700 staff is about 120 KB of JSON. Only a request
/// bearing a validly signed administrator's token gets it; any other
/// request to that path has the ordinary JSON limit, so an unauthenticated
/// client cannot make the server read more than anywhere else.
pub const MAX_IMPORT_BODY: usize = 1024 * 1024;

/// Is this the bulk import, sent by an administrator?
fn is_administrators_import(req: &ServiceRequest) -> bool {
    req.method() == actix_web::http::Method::POST
        && req.path() == "/api/v1/admin/import"
        && crate::extract::bears_administrator_token(req.request())
}

/// The most bytes of a JSON body this request may have.
fn json_limit_of(req: &ServiceRequest) -> usize {
    if is_administrators_import(req) {
        MAX_IMPORT_BODY
    } else {
        crate::MAX_JSON_BODY
    }
}

/// Is this a request that carries photos (multipart)?
fn is_upload(req: &ServiceRequest) -> bool {
    if req.method() != actix_web::http::Method::POST {
        return false;
    }
    let path = req.path();
    path == "/api/v1/tips/with-photos"
        || (path.starts_with("/api/v1/tips/") && path.ends_with("/photos"))
        || path.starts_with("/open311/v2/requests.")
}

/// The most bytes this request's body may have.
fn body_limit_of(req: &ServiceRequest) -> usize {
    if is_administrators_import(req) {
        return MAX_IMPORT_BODY;
    }
    if !is_upload(req) {
        return MAX_BODY;
    }
    let limits = req
        .app_data::<actix_web::web::Data<crate::AppState>>()
        .map(|s| s.photo_limits)
        .unwrap_or_default();
    limits.max_bytes.saturating_mul(limits.max_photos_per_tip) + UPLOAD_OVERHEAD
}

/// Body limits, enforced on every path before anything reads the body: a
/// declared `Content-Length` over the limit is refused at once (413
/// `body_too_large`, the body unread); any other body is counted while it
/// streams and cut off at the limit with `PayloadError::Overflow`, which the
/// extractors and the multipart reader answer with the same 413. So no
/// handler, authenticated or not, can be made to buffer more than its
/// route's limit.
pub async fn body_limit(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<actix_web::body::BoxBody>, Error> {
    use actix_web::error::PayloadError;
    use futures::StreamExt;
    let limit = body_limit_of(&req);
    let declared = req
        .headers()
        .get(actix_web::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        let error = crate::ApiError::new(
            crate::ErrorCode::BodyTooLarge,
            format!("the body is larger than {limit} bytes"),
        );
        let (http, _) = req.into_parts();
        let mut response = actix_web::ResponseError::error_response(&error);
        // The body is not read: the connection cannot be reused.
        response
            .head_mut()
            .set_connection_type(actix_web::http::ConnectionType::Close);
        return Ok(ServiceResponse::new(http, response));
    }
    let mut seen = 0usize;
    let stream = req.take_payload().map(move |chunk| {
        let chunk = chunk?;
        seen = seen.saturating_add(chunk.len());
        if seen > limit {
            Err(PayloadError::Overflow)
        } else {
            Ok(chunk)
        }
    });
    req.set_payload(actix_web::dev::Payload::Stream {
        payload: Box::pin(stream),
    });
    Ok(next.call(req).await?.map_into_boxed_body())
}

/// The body of a 413 for an overflow a reader met while streaming.
pub fn body_too_large() -> crate::ApiError {
    crate::ApiError::new(
        crate::ErrorCode::BodyTooLarge,
        "the body is larger than this endpoint accepts",
    )
}

/// Response headers for every answer: `X-Content-Type-Options: nosniff`;
/// `Cache-Control: no-store` on the JSON API (`/api/v1`: it carries
/// personal data) unless the handler chose a policy itself; and a
/// Content-Security-Policy on every HTML page (the docs page, the case
/// file), which loads nothing from elsewhere and may not be framed.
pub async fn security_headers(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<actix_web::body::BoxBody>, Error> {
    use actix_web::http::header::{
        CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, X_CONTENT_TYPE_OPTIONS,
    };
    let personal = req.path().starts_with("/api/v1/");
    // (An `Err` here is a panic caught by `catch_panic`: the server renders
    // it as a JSON 500.)
    let mut response = next.call(req).await?.map_into_boxed_body();
    let headers = response.headers_mut();
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    if personal && !headers.contains_key(CACHE_CONTROL) {
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    let html = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().to_ascii_lowercase().starts_with("text/html"));
    if html && !headers.contains_key(CONTENT_SECURITY_POLICY) {
        headers.insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static(HTML_CSP));
    }
    Ok(response)
}

/// The Content-Security-Policy of our HTML: our own scripts and styles
/// (Swagger UI's bundle; the case file's inline `<style>`), images from
/// here or inline, nothing else, never in a frame.
pub const HTML_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// A panic while handling a request becomes a 500 `internal_error` (JSON,
/// logged with the panic's message), not a dropped connection: the worker
/// keeps serving. Innermost, so the request has been routed; it answers
/// with an `Err` the server renders, since the request cannot be kept for
/// a response after it has been handed on.
pub async fn catch_panic(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    use futures::FutureExt;
    match std::panic::AssertUnwindSafe(next.call(req))
        .catch_unwind()
        .await
    {
        Ok(result) => result,
        Err(panic) => {
            let message = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a panic without a message".to_owned());
            Err(crate::ApiError::internal(format!("the handler panicked: {message}")).into())
        }
    }
}

/// Is this text unfit to store: a U+0000 (PostgreSQL's text refuses it)?
/// Lone surrogates cannot reach a Rust string; the JSON reader meets them.
fn has_nul(text: &str) -> bool {
    text.contains('\0')
}

/// Does any string (or object key) in this JSON value carry a U+0000?
fn json_has_nul(value: &serde_json::Value) -> bool {
    use serde_json::Value;
    match value {
        Value::String(s) => has_nul(s),
        Value::Array(items) => items.iter().any(json_has_nul),
        Value::Object(map) => map.iter().any(|(k, v)| has_nul(k) || json_has_nul(v)),
        _ => false,
    }
}

/// 422 `invalid_text` when a JSON document holds text no one may store: a
/// U+0000 in any string or key, or a lone surrogate escape (`"\ud800"`).
/// Other syntax errors are left to the JSON reader, which says 400.
pub(crate) fn check_json_text(json: &[u8], what: &str) -> Result<(), crate::ApiError> {
    match serde_json::from_slice::<serde_json::Value>(json) {
        Ok(value) if json_has_nul(&value) => Err(invalid_text(what)),
        // serde_json: "lone leading surrogate in hex escape", or "unexpected
        // end of hex escape" for a high surrogate not followed by a low one.
        Err(e)
            if e.to_string().contains("surrogate")
                || e.to_string().contains("end of hex escape") =>
        {
            Err(invalid_text(what))
        }
        _ => Ok(()),
    }
}

fn invalid_text(where_: &str) -> crate::ApiError {
    crate::ApiError::new(
        crate::ErrorCode::InvalidText,
        format!("{where_} contains U+0000 or a lone surrogate, which no text may hold"),
    )
}

/// Input hygiene in one place, before any handler: text that cannot be
/// stored (U+0000; in JSON also a lone surrogate escape) is refused with
/// 422 `invalid_text` wherever it is, path, query or any string or key of
/// a JSON body, so no handler and no database sees it. A JSON body is read
/// here (up to [`crate::MAX_JSON_BODY`], an administrator's bulk import up
/// to [`MAX_IMPORT_BODY`]; larger is 413 as the JSON reader
/// would say) and handed on unchanged. Form and multipart text is checked
/// where it is read.
pub async fn input_hygiene(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<actix_web::body::BoxBody>, Error> {
    use futures::StreamExt;
    let refuse = |req: ServiceRequest, error: crate::ApiError| {
        let (http, _) = req.into_parts();
        let response = actix_web::ResponseError::error_response(&error);
        Ok(ServiceResponse::new(http, response))
    };
    let raw_nul = |s: &str| {
        let lower = s.to_ascii_lowercase();
        lower.contains("%00") || s.contains('\0')
    };
    if raw_nul(req.path()) {
        return refuse(req, invalid_text("the path"));
    }
    if raw_nul(req.query_string()) {
        return refuse(req, invalid_text("the query string"));
    }
    let is_json = req
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .is_some_and(|m| m == "application/json" || m.ends_with("+json"));
    if !is_json {
        return Ok(next.call(req).await?.map_into_boxed_body());
    }
    let limit = json_limit_of(&req);
    let mut payload = req.take_payload();
    let mut body = actix_web::web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = match chunk {
            Ok(chunk) => chunk,
            Err(actix_web::error::PayloadError::Overflow) => return refuse(req, body_too_large()),
            Err(e) => {
                return refuse(
                    req,
                    crate::ApiError::malformed_json(format!("the body could not be read: {e}")),
                );
            }
        };
        if body.len() + chunk.len() > limit {
            return refuse(
                req,
                crate::ApiError::new(
                    crate::ErrorCode::BodyTooLarge,
                    format!("the body is larger than {limit} bytes"),
                ),
            );
        }
        body.extend_from_slice(&chunk);
    }
    let body = body.freeze();
    if let Err(error) = check_json_text(&body, "the body") {
        return refuse(req, error);
    }
    let replay = futures::stream::iter((!body.is_empty()).then_some(Ok(body)));
    req.set_payload(actix_web::dev::Payload::Stream {
        payload: Box::pin(replay),
    });
    Ok(next.call(req).await?.map_into_boxed_body())
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::{App, HttpResponse, HttpServer, web};
    use std::io::{Read, Write};

    #[test]
    fn json_text_refuses_nul_and_lone_surrogates_anywhere() {
        for bad in [
            r#""\u0000""#,
            r#"{"a": ["x", {"b": "y\u0000"}]}"#,
            r#"{"a\u0000": 1}"#,
            r#""\ud800""#,
            r#""\ud800x""#,
            r#""\udc00""#,
            r#"{"name": "\ud800\u0041"}"#,
        ] {
            let err = check_json_text(bad.as_bytes(), "the body").unwrap_err();
            assert_eq!(err.code(), crate::ErrorCode::InvalidText, "{bad}");
        }
        for fine in [r#""\ud83d\ude00""#, r#"{"a": "\\u0000"}"#, "not json", "{"] {
            assert!(
                check_json_text(fine.as_bytes(), "the body").is_ok(),
                "{fine}"
            );
        }
    }

    async fn panics() -> HttpResponse {
        let huge: i64 = std::hint::black_box(i64::MAX);
        let _ = chrono::Duration::minutes(huge);
        HttpResponse::Ok().finish()
    }

    fn get(stream: &mut std::net::TcpStream, path: &str) -> String {
        write!(
            stream,
            "GET {path} HTTP/1.1\r\nHost: x\r\nX-Request-Id: req-{}\r\n\r\n",
            path.trim_start_matches('/')
        )
        .unwrap();
        let mut raw = Vec::new();
        let mut buf = [0u8; 4096];
        // One response: headers, then Content-Length bytes.
        loop {
            let n = stream.read(&mut buf).unwrap();
            assert!(n > 0, "the connection was dropped after {path}");
            raw.extend_from_slice(&buf[..n]);
            let text = String::from_utf8_lossy(&raw).into_owned();
            if let Some(end) = text.find("\r\n\r\n") {
                let length: usize = text[..end]
                    .lines()
                    .find_map(|l| {
                        l.to_ascii_lowercase()
                            .strip_prefix("content-length:")
                            .map(|v| v.trim().parse().unwrap())
                    })
                    .unwrap_or(0);
                if raw.len() >= end + 4 + length {
                    return text;
                }
            }
        }
    }

    /// A handler that panics (here, as `timeout_minutes = i64::MAX` did, in
    /// chrono's arithmetic) answers 500 `internal_error` as JSON, with its
    /// `X-Request-Id` like every other answer, and the same connection then
    /// serves the next request.
    #[actix_web::test]
    async fn a_panic_is_a_json_500_and_the_connection_lives_on() {
        let server = HttpServer::new(|| {
            App::new()
                .wrap(actix_web::middleware::from_fn(catch_panic))
                .wrap(actix_web::middleware::from_fn(request_id))
                .route("/panic", web::get().to(panics))
                .route("/ok", web::get().to(HttpResponse::Ok))
        })
        .workers(1)
        .bind("127.0.0.1:0")
        .unwrap();
        let port = server.addrs()[0].port();
        let server = server.run();
        let handle = server.handle();
        actix_web::rt::spawn(server);
        let answers = actix_web::rt::task::spawn_blocking(move || {
            let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
            stream
                .set_read_timeout(Some(std::time::Duration::from_secs(10)))
                .unwrap();
            let first = get(&mut stream, "/panic");
            let second = get(&mut stream, "/ok");
            let third = get(&mut stream, "/panic");
            (first, second, third)
        })
        .await
        .unwrap();
        handle.stop(true).await;
        let (first, second, third) = answers;
        for answer in [&first, &third] {
            assert!(answer.starts_with("HTTP/1.1 500"), "{answer}");
            assert!(answer.contains(r#""code":"internal_error""#), "{answer}");
            assert!(
                answer
                    .to_ascii_lowercase()
                    .contains("\r\nx-request-id: req-panic\r\n"),
                "a caught panic's 500 carries the request id: {answer}"
            );
            assert!(
                !answer.contains("overflow"),
                "the cause stays in the log: {answer}"
            );
        }
        assert!(second.starts_with("HTTP/1.1 200"), "{second}");
        assert!(
            second.to_ascii_lowercase().contains("x-request-id: req-ok"),
            "{second}"
        );
    }
}
