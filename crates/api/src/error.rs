//! The one error type of the API. Each variant has a stable `code` that
//! clients may switch on and an explicit HTTP status; the message is for
//! people. Unexpected failures are logged with their cause and answered
//! with an opaque 500, so internals never leak to clients.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use sansuo_domain::{TransitionError, ValidationError};
use sansuo_store::StoreError;
use serde::{Deserialize, Serialize};
use std::fmt;
use utoipa::ToSchema;

/// `{"error": {"code": "...", "message": "..."}}`
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable, machine-readable: `validation_failed`, `not_found`, `state_conflict`, ...
    #[schema(example = "validation_failed")]
    pub code: String,
    /// For people; may change between versions.
    #[schema(example = "question: must be at least 10 characters (got 4)")]
    pub message: String,
}

#[derive(Debug)]
pub enum ApiError {
    /// 400: the body is not JSON at all.
    MalformedJson(String),
    /// 400: a path or query parameter could not be read.
    BadParameter(String),
    /// 413
    BodyTooLarge,
    /// 413 with a specific code (`photo_too_large`, ...).
    TooLarge(&'static str, String),
    /// 415
    UnsupportedMediaType,
    /// 422: JSON, but not the shape we expect (unknown field, wrong type).
    InvalidBody(String),
    /// 422: the right shape, but a value breaks a rule.
    Validation(ValidationError),
    /// 422 with a specific code (`phone_code_invalid`, ...).
    Unprocessable(&'static str, String),
    /// 422: the Idempotency-Key was used before for a different request.
    IdempotencyKeyReused,
    /// 422: an emergency category: call 110 now; nothing was recorded.
    Emergency,
    /// 422: the content check refused the text; nothing was recorded.
    ContentRisky,
    /// 401: no or bad credentials.
    Unauthenticated(&'static str, String),
    /// 403: authenticated, but this role may not do this.
    Forbidden(String),
    /// 404 with a specific code (`community_not_found`, ...).
    NotFound(&'static str, String),
    /// 409: the state moved on (`state_conflict`, `offer_not_pending`, ...).
    Conflict(&'static str, String),
    /// 429, with the seconds to wait.
    RateLimited(&'static str, String, u64),
    /// 503: a dependency is down; the client may retry.
    Unavailable(&'static str, String),
    /// 500: logged with its cause; the client learns nothing more.
    Internal(String),
}

impl ApiError {
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::MalformedJson(_) => "malformed_json",
            ApiError::BadParameter(_) => "bad_parameter",
            ApiError::BodyTooLarge => "body_too_large",
            ApiError::UnsupportedMediaType => "unsupported_media_type",
            ApiError::InvalidBody(_) => "invalid_body",
            ApiError::Validation(_) => "validation_failed",
            ApiError::IdempotencyKeyReused => "idempotency_key_reused",
            ApiError::Emergency => "emergency_call_110",
            ApiError::ContentRisky => "content_risky",
            ApiError::Unauthenticated(code, _)
            | ApiError::Unprocessable(code, _)
            | ApiError::NotFound(code, _)
            | ApiError::Conflict(code, _)
            | ApiError::RateLimited(code, _, _)
            | ApiError::TooLarge(code, _)
            | ApiError::Unavailable(code, _) => code,
            ApiError::Forbidden(_) => "forbidden",
            ApiError::Internal(_) => "internal_error",
        }
    }

    pub(crate) fn message(&self) -> String {
        match self {
            ApiError::MalformedJson(m) | ApiError::BadParameter(m) | ApiError::InvalidBody(m) => {
                m.clone()
            }
            ApiError::BodyTooLarge => {
                format!("the body is larger than {} bytes", crate::MAX_JSON_BODY)
            }
            ApiError::UnsupportedMediaType => "send the body as application/json".into(),
            ApiError::Validation(e) => e.to_string(),
            ApiError::ContentRisky => {
                "the text breaks the platform's content rules; please rephrase it".into()
            }
            ApiError::Emergency => {
                "这是紧急情况，请立即拨打 110。This is an emergency: call 110 now.".into()
            }
            ApiError::IdempotencyKeyReused => {
                "this Idempotency-Key was already used for a different request".into()
            }
            ApiError::Unauthenticated(_, m)
            | ApiError::Forbidden(m)
            | ApiError::Unprocessable(_, m)
            | ApiError::NotFound(_, m)
            | ApiError::Conflict(_, m)
            | ApiError::RateLimited(_, m, _)
            | ApiError::TooLarge(_, m)
            | ApiError::Unavailable(_, m) => m.clone(),
            ApiError::Internal(_) => "something went wrong on our side; it has been logged".into(),
        }
    }

    pub fn unauthenticated(message: impl Into<String>) -> Self {
        ApiError::Unauthenticated("unauthenticated", message.into())
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        ApiError::Forbidden(message.into())
    }

    pub fn internal(cause: impl fmt::Display) -> Self {
        ApiError::Internal(cause.to_string())
    }

    /// The not-found answer for a consultation, used also when the case
    /// exists but belongs to someone else, so ids reveal nothing.
    pub fn consultation_not_found() -> Self {
        ApiError::NotFound("consultation_not_found", "no such consultation".into())
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code(), self.message())
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::MalformedJson(_) | ApiError::BadParameter(_) => StatusCode::BAD_REQUEST,
            ApiError::BodyTooLarge | ApiError::TooLarge(..) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::InvalidBody(_)
            | ApiError::Validation(_)
            | ApiError::IdempotencyKeyReused
            | ApiError::Emergency
            | ApiError::ContentRisky
            | ApiError::Unprocessable(..) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Unauthenticated(..) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(..) => StatusCode::NOT_FOUND,
            ApiError::Conflict(..) => StatusCode::CONFLICT,
            ApiError::RateLimited(..) => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable(..) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let ApiError::Internal(cause) = self {
            tracing::error!(%cause, "internal error");
        }
        let mut response = HttpResponse::build(self.status_code());
        match self {
            ApiError::RateLimited(_, _, secs) => {
                response.insert_header(("Retry-After", secs.to_string()));
            }
            ApiError::Unavailable(..) => {
                response.insert_header(("Retry-After", "5"));
            }
            _ => {}
        }
        response.json(ErrorBody {
            error: ErrorDetail {
                code: self.code().to_owned(),
                message: self.message(),
            },
        })
    }
}

impl From<sansuo_media::MediaError> for ApiError {
    fn from(err: sansuo_media::MediaError) -> Self {
        use sansuo_media::MediaError as M;
        let code = err.code();
        match err {
            M::TooLarge { .. } => ApiError::TooLarge(code, err.to_string()),
            M::TooManyPhotos { .. } => ApiError::Conflict(code, err.to_string()),
            M::TypeNotAllowed | M::Malformed(_) => ApiError::Unprocessable(code, err.to_string()),
        }
    }
}

impl From<ValidationError> for ApiError {
    fn from(err: ValidationError) -> Self {
        ApiError::Validation(err)
    }
}

impl From<TransitionError> for ApiError {
    fn from(err: TransitionError) -> Self {
        ApiError::Conflict("state_conflict", err.to_string())
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::NotFound => ApiError::NotFound("not_found", "no such resource".into()),
            StoreError::Conflict(message) => ApiError::Conflict("state_conflict", message),
            StoreError::IdempotencyKeyReused => ApiError::IdempotencyKeyReused,
            StoreError::Transition(e) => e.into(),
            StoreError::SlotTaken => ApiError::Conflict(
                "slot_taken",
                "the room or the mediator is already booked for part of that time".into(),
            ),
            StoreError::AtCapacity => {
                ApiError::Conflict("state_conflict", "that person is at capacity".into())
            }
            StoreError::Db(e) => ApiError::internal(format!("database: {e}")),
        }
    }
}
