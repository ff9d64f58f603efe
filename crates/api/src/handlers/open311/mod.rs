//! Open311 GeoReport v2 over tips (`/open311/v2`): civic tools and
//! dashboards list our tip categories as services, file tips as service
//! requests with an administrator-issued `api_key`, and read back the tips
//! of categories marked public. The wire format (documents, XML/JSON,
//! argument parsing, errors) is the `sansuo-open311` crate's; this module
//! looks things up and stores.
//!
//! Every response, errors included, is in the format the path's extension
//! names (`.xml` or `.json`); a path with any other extension, or none,
//! is a 404 in XML, the format every client understands. Errors are the
//! specification's list of `{code, description}` with 400, 403 or 404
//! (the crate's `http_status`); the body's `code` is the HTTP status.
//!
//! Privacy: a request stores none of `first_name`, `last_name`, `email`,
//! `phone`, `device_id` or `account_id` (an Open311 tip is anonymous: no
//! resident), and the public reading shows no description, no address, no
//! photo, and a location rounded to 3 decimals (about 100 m).

pub mod discovery;
pub mod docs;
pub mod requests;
pub mod services;
pub mod tokens;

use crate::{ApiError, AppState};
use actix_web::http::StatusCode;
use actix_web::http::header::{CONTENT_TYPE, RETRY_AFTER};
use actix_web::{HttpResponse, ResponseError};
use sansuo_open311::{Format, Open311Error, Render, http_status};
use sansuo_store::StoreError;
use std::fmt;

/// The documents' `changeset`: when the shape of what this endpoint serves
/// (this mapping of tips onto GeoReport v2) last changed.
pub const CHANGESET: &str = "2026-11-24T00:00:00+08:00";

/// Service requests one key may file per hour (every keyed POST counts,
/// good or bad, so a looping client is stopped too).
pub const REQUESTS_PER_HOUR: u32 = 120;

/// A failed Open311 call: the specification's `<errors>` list in the
/// caller's format.
#[derive(Debug)]
pub struct Open311Failure {
    pub format: Format,
    pub status: StatusCode,
    pub errors: Vec<Open311Error>,
    /// Seconds, sent as `Retry-After` (a key over its hourly limit).
    pub retry_after: Option<u64>,
}

impl Open311Failure {
    /// Errors the crate produced: the status is the crate's `http_status`.
    pub fn new(format: Format, errors: Vec<Open311Error>) -> Self {
        let status = StatusCode::from_u16(http_status(&errors)).unwrap_or(StatusCode::BAD_REQUEST);
        Self {
            format,
            status,
            errors,
            retry_after: None,
        }
    }

    pub fn one(format: Format, error: Open311Error) -> Self {
        Self::new(format, vec![error])
    }

    /// A fault of ours: logged, answered with an opaque 500.
    pub fn internal(format: Format, cause: impl fmt::Display) -> Self {
        tracing::error!(error = %cause, "open311 request failed");
        Self {
            format,
            status: StatusCode::INTERNAL_SERVER_ERROR,
            errors: vec![Open311Error {
                code: 500,
                description: "internal error; try again later".into(),
            }],
            retry_after: None,
        }
    }

    /// An error from the JSON API's helpers (multipart reading, photo
    /// checks): Open311 has no 413/422/409, so a client's fault is a 400.
    pub fn from_api(format: Format, err: ApiError) -> Self {
        let status = err.code().status();
        if status.is_server_error() {
            Self::internal(format, err)
        } else if status == StatusCode::PAYLOAD_TOO_LARGE {
            Self {
                format,
                status,
                errors: vec![Open311Error {
                    code: 413,
                    description: err.message(),
                }],
                retry_after: None,
            }
        } else if status == StatusCode::NOT_FOUND {
            Self::one(format, Open311Error::not_found(err.message()))
        } else {
            Self::one(format, Open311Error::bad_request(err.message()))
        }
    }
}

impl fmt::Display for Open311Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let descriptions: Vec<&str> = self.errors.iter().map(|e| e.description.as_str()).collect();
        write!(f, "{}: {}", self.status, descriptions.join("; "))
    }
}

impl ResponseError for Open311Failure {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status);
        response.insert_header((CONTENT_TYPE, self.format.content_type()));
        if let Some(seconds) = self.retry_after {
            response.insert_header((RETRY_AFTER, seconds.to_string()));
        }
        response.body(self.errors.render(self.format))
    }
}

/// The format of a path ending in `{stem}.{extension}`, where the route
/// fixed `stem`: anything but `.xml`/`.json` is a 404 (in XML).
pub(crate) fn format_of(stem: &str, extension: &str) -> Result<Format, Open311Failure> {
    let segment = format!("{stem}.{extension}");
    match Format::split_extension(&segment) {
        Ok((found, format)) if found == stem => Ok(format),
        Ok(_) => Err(Open311Failure::one(
            Format::Xml,
            Open311Error::not_found(format!(
                "{segment:?} names no resource: expected {stem}.xml or {stem}.json"
            )),
        )),
        Err(error) => Err(Open311Failure::one(Format::Xml, error)),
    }
}

/// A `{name}.{format}` path segment split, or a 404 in XML.
pub(crate) fn split_segment(segment: &str) -> Result<(&str, Format), Open311Failure> {
    Format::split_extension(segment).map_err(|e| Open311Failure::one(Format::Xml, e))
}

/// A document in the caller's format.
pub(crate) fn document(status: StatusCode, format: Format, body: String) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((CONTENT_TYPE, format.content_type()))
        .body(body)
}

/// The decoded `(name, value)` pairs of a query string or form body.
pub(crate) fn decode_pairs(
    text: &str,
    format: Format,
) -> Result<Vec<(String, String)>, Open311Failure> {
    actix_web::web::Query::<Vec<(String, String)>>::from_query(text)
        .map(actix_web::web::Query::into_inner)
        .map_err(|e| {
            Open311Failure::one(
                format,
                Open311Error::bad_request(format!("the arguments are not readable: {e}")),
            )
        })
}

pub(crate) trait OrInternal<T> {
    fn or_internal(self, format: Format) -> Result<T, Open311Failure>;
}

impl<T> OrInternal<T> for Result<T, StoreError> {
    fn or_internal(self, format: Format) -> Result<T, Open311Failure> {
        self.map_err(|e| Open311Failure::internal(format, e))
    }
}

/// Any other path under `/open311`: the specification's 404, in XML; a
/// known path with another method is 405 with `Allow`, in the same XML.
pub async fn not_found(req: actix_web::HttpRequest) -> HttpResponse {
    match super::KnownPaths::method_not_allowed(&req) {
        Some(allow) => {
            let failure = Open311Failure {
                format: Format::Xml,
                status: StatusCode::METHOD_NOT_ALLOWED,
                errors: vec![Open311Error {
                    code: 405,
                    description: format!("this resource takes {allow}"),
                }],
                retry_after: None,
            };
            let mut response = failure.error_response();
            if let Ok(value) = actix_web::http::header::HeaderValue::from_str(&allow) {
                response
                    .headers_mut()
                    .insert(actix_web::http::header::ALLOW, value);
            }
            response
        }
        None => Open311Failure::one(
            Format::Xml,
            Open311Error::not_found(
                "no such Open311 resource; see /open311/v2/discovery.xml".to_owned(),
            ),
        )
        .error_response(),
    }
}

/// `AppState` is all the handlers need; re-exported for the submodules.
pub(crate) type State = actix_web::web::Data<AppState>;
