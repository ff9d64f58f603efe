//! The one error type of the API. Every failure carries an [`ErrorCode`]:
//! a stable snake_case string clients may switch on, and the HTTP status it
//! is answered with, both fixed in one table here. The message is for
//! people. Unexpected failures are logged with their cause and answered
//! with an opaque 500, so internals never leak to clients.
//!
//! The OpenAPI document's error responses are generated from the same
//! table (`crate::openapi`), so the spec and the server cannot disagree on
//! which code comes with which status.

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
    /// Every problem of a request checked whole (the bulk import), each
    /// naming where it is; absent for errors about one thing.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<Problem>,
}

/// One problem of a request checked whole.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Problem {
    /// Where: an entry and field of the body.
    #[schema(example = "units[17].parent")]
    pub at: String,
    #[schema(example = "unknown key `street-9`")]
    pub message: String,
}

/// The table: `Variant = ("code", STATUS, "default message")`, one line per
/// code. Adding a code here is all it takes to use it and document it.
macro_rules! error_codes {
    ($($variant:ident = ($code:literal, $status:ident, $message:literal)),* $(,)?) => {
        /// Every error code the API answers with.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum ErrorCode {
            $($variant),*
        }

        impl ErrorCode {
            /// Every code, in table order.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant),*];

            /// The stable string clients switch on.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $code),*
                }
            }

            /// The HTTP status this code is always answered with.
            pub const fn status(self) -> StatusCode {
                match self {
                    $(ErrorCode::$variant => StatusCode::$status),*
                }
            }

            /// The message used when the caller has nothing more specific to say.
            pub const fn default_message(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $message),*
                }
            }
        }
    };
}

error_codes! {
    // 400: the request could not be read.
    MalformedJson = ("malformed_json", BAD_REQUEST, "the body is not valid JSON"),
    BadParameter = ("bad_parameter", BAD_REQUEST, "a path, query or header parameter could not be read"),
    // 401: no or bad credentials.
    Unauthenticated = ("unauthenticated", UNAUTHORIZED, "send `Authorization: Bearer <access token>`"),
    TokenExpired = ("token_expired", UNAUTHORIZED, "the access token has expired; refresh it"),
    InvalidCredentials = ("invalid_credentials", UNAUTHORIZED, "wrong username or password"),
    InvalidRefreshToken = ("invalid_refresh_token", UNAUTHORIZED, "the refresh token is unknown, expired or already used; log in again"),
    SessionEnded = ("session_ended", UNAUTHORIZED, "this session has ended (the account was deactivated or changed, or its password changed); log in again"),
    WechatCodeInvalid = ("wechat_code_invalid", UNAUTHORIZED, "the login code is invalid, expired or already used; call wx.login() again"),
    // 403: authenticated, but this role may not do this.
    Forbidden = ("forbidden", FORBIDDEN, "you may not do this"),
    // 404: nothing there, or nothing the caller may see (ids reveal nothing).
    NotFound = ("not_found", NOT_FOUND, "no such resource"),
    RouteNotFound = ("route_not_found", NOT_FOUND, "no such endpoint; see /docs"),
    DemoLoginDisabled = ("demo_login_disabled", NOT_FOUND, "demo login is only available in demo mode"),
    CommunityNotFound = ("community_not_found", NOT_FOUND, "no such community"),
    CategoryNotFound = ("category_not_found", NOT_FOUND, "no such category"),
    ConsultationNotFound = ("consultation_not_found", NOT_FOUND, "no such consultation"),
    MediationNotFound = ("mediation_not_found", NOT_FOUND, "no such mediation"),
    TipNotFound = ("tip_not_found", NOT_FOUND, "no such tip"),
    PhotoNotFound = ("photo_not_found", NOT_FOUND, "no such photo"),
    CaseNotFound = ("case_not_found", NOT_FOUND, "no such case"),
    OfferNotFound = ("offer_not_found", NOT_FOUND, "no such offer to you"),
    StaffNotFound = ("staff_not_found", NOT_FOUND, "no such staff account"),
    OrgUnitNotFound = ("org_unit_not_found", NOT_FOUND, "no such organisation unit"),
    ShiftNotFound = ("shift_not_found", NOT_FOUND, "no such shift"),
    CannedReplyNotFound = ("canned_reply_not_found", NOT_FOUND, "no such canned reply"),
    RotaNotFound = ("rota_not_found", NOT_FOUND, "the unit has no duty rota"),
    RoomNotFound = ("room_not_found", NOT_FOUND, "no such mediation room"),
    LawFirmNotFound = ("law_firm_not_found", NOT_FOUND, "no such law firm"),
    SigningNotFound = ("signing_not_found", NOT_FOUND, "no such signing"),
    WorkflowNotFound = ("workflow_not_found", NOT_FOUND, "no such workflow"),
    CalendarDayNotFound = ("calendar_day_not_found", NOT_FOUND, "that date has no override"),
    HeldTextNotFound = ("held_text_not_found", NOT_FOUND, "no such held text"),
    Open311KeyNotFound = ("open311_key_not_found", NOT_FOUND, "no such Open311 key"),
    SupervisionNotFound = ("supervision_not_found", NOT_FOUND, "the case is not under supervision"),
    ExtensionNotFound = ("extension_not_found", NOT_FOUND, "no such extension request"),
    PushNotConfigured = ("push_not_configured", NOT_FOUND, "WeChat message push is not configured here"),
    FeatureDisabled = ("feature_disabled", NOT_FOUND, "this feature is switched off on this server"),
    // 405: a known path, another method.
    MethodNotAllowed = ("method_not_allowed", METHOD_NOT_ALLOWED, "this path does not take that method; see the Allow header"),
    // 409: the state moved on, or the thing exists already.
    StateConflict = ("state_conflict", CONFLICT, "the case has moved on; reload it"),
    OfferNotPending = ("offer_not_pending", CONFLICT, "the offer is no longer pending"),
    SlotTaken = ("slot_taken", CONFLICT, "the room or the mediator is already booked for part of that time"),
    SceneTaken = ("scene_taken", CONFLICT, "another community already has this QR scene"),
    NoScene = ("no_scene", CONFLICT, "this community has no QR scene yet"),
    UsernameTaken = ("username_taken", CONFLICT, "that username is taken"),
    ImportConflict = ("import_conflict", CONFLICT, "the import collides with what the district already has"),
    TipNotOpen = ("tip_not_open", CONFLICT, "the tip is closed"),
    AlreadyRated = ("already_rated", CONFLICT, "you have rated this already"),
    AlreadyAnswered = ("already_answered", CONFLICT, "you have answered the follow-up visit already"),
    TooManyPhotos = ("too_many_photos", CONFLICT, "the tip has as many photos as it may have"),
    UnitInUse = ("unit_in_use", CONFLICT, "the unit still holds open work (units, staff, communities, cases or booked sessions); move or finish it first"),
    SessionNotStarted = ("session_not_started", CONFLICT, "the session has not started yet; record it as held once it has begun"),
    RoomInUse = ("room_in_use", CONFLICT, "the room has sessions booked ahead; move or cancel them first"),
    UrgeTooEarly = ("urge_too_early", CONFLICT, "还未超过首次答复时限，请在时限过后再催办。"),
    UrgeNotNeeded = ("urge_not_needed", CONFLICT, "已有工作人员答复，请在对话中继续留言。"),
    CaseNotOpen = ("case_not_open", CONFLICT, "事项已办结或已撤回，无需催办。"),
    NotSupervisable = ("not_supervisable", CONFLICT, "the case is finished; there is nothing to supervise"),
    AlreadySupervised = ("already_supervised", CONFLICT, "the case is under supervision already; lift it first to set a new deadline"),
    ExtensionPending = ("extension_pending", CONFLICT, "an extension request on this case is waiting for a decision"),
    ExtensionDecided = ("extension_decided", CONFLICT, "this extension request was decided already"),
    AlreadyConverted = ("already_converted", CONFLICT, "the consultation has already been converted, or a conversion is waiting for the resident's answer"),
    NoConversionProposed = ("no_conversion_proposed", CONFLICT, "律师没有提出待您确认的转办建议。"),
    WechatBoundElsewhere = ("wechat_bound_elsewhere", CONFLICT, "该微信已绑定其他工作人员账号，请先在该账号解除绑定。"),
    // 413
    BodyTooLarge = ("body_too_large", PAYLOAD_TOO_LARGE, "the body is too large"),
    FieldTooLarge = ("field_too_large", PAYLOAD_TOO_LARGE, "a multipart field is too large"),
    PhotoTooLarge = ("photo_too_large", PAYLOAD_TOO_LARGE, "the photo is too large"),
    // 415
    UnsupportedMediaType = ("unsupported_media_type", UNSUPPORTED_MEDIA_TYPE, "send the body as application/json"),
    // 422: readable, but not acceptable.
    InvalidBody = ("invalid_body", UNPROCESSABLE_ENTITY, "the body does not have the expected shape"),
    ValidationFailed = ("validation_failed", UNPROCESSABLE_ENTITY, "a value breaks a rule"),
    InvalidText = ("invalid_text", UNPROCESSABLE_ENTITY, "text may not contain U+0000 or a lone surrogate"),
    IdempotencyKeyReused = ("idempotency_key_reused", UNPROCESSABLE_ENTITY, "this Idempotency-Key was already used for a different request"),
    EmergencyCall110 = ("emergency_call_110", UNPROCESSABLE_ENTITY, "这是紧急情况，请立即拨打 110。This is an emergency: call 110 now."),
    CurrentPasswordWrong = ("current_password_wrong", UNPROCESSABLE_ENTITY, "the current password is not right"),
    ContentRisky = ("content_risky", UNPROCESSABLE_ENTITY, "the text breaks the platform's content rules; please rephrase it"),
    CategoryNotOffered = ("category_not_offered", UNPROCESSABLE_ENTITY, "this category does not take this service"),
    AnonymousNotAllowed = ("anonymous_not_allowed", UNPROCESSABLE_ENTITY, "this category does not take anonymous tips; report it by name"),
    ConfirmationRequired = ("confirmation_required", UNPROCESSABLE_ENTITY, "注销账户后无法恢复，请确认后再提交（confirm 为 true）。"),
    AnonymousTipNotConvertible = ("anonymous_tip_not_convertible", UNPROCESSABLE_ENTITY, "an anonymous tip has no applicant for a mediation"),
    ConfirmationDeadlinePassed = ("confirmation_deadline_passed", UNPROCESSABLE_ENTITY, "the deadline for judicial confirmation has passed"),
    SessionInPast = ("session_in_past", UNPROCESSABLE_ENTITY, "a session can only be booked for a time that has not begun"),
    PhoneCodeInvalid = ("phone_code_invalid", UNPROCESSABLE_ENTITY, "the phone code is invalid or expired"),
    PhotoTypeNotAllowed = ("photo_type_not_allowed", UNPROCESSABLE_ENTITY, "photos must be JPEG, PNG or WebP"),
    PhotoMalformed = ("photo_malformed", UNPROCESSABLE_ENTITY, "the photo could not be read"),
    TooManyCannedReplies = ("too_many_canned_replies", UNPROCESSABLE_ENTITY, "at most 100 canned replies per staff member and 100 shared per unit; delete one first"),
    // 429, with Retry-After.
    RateLimited = ("rate_limited", TOO_MANY_REQUESTS, "too many requests; try again later"),
    WechatRateLimited = ("wechat_rate_limited", TOO_MANY_REQUESTS, "WeChat is limiting logins; try again shortly"),
    UrgeTooSoon = ("urge_too_soon", TOO_MANY_REQUESTS, "每件事项每 24 小时只能催办一次，请稍后再试。"),
    // 500: logged with its cause; the client learns nothing more.
    InternalError = ("internal_error", INTERNAL_SERVER_ERROR, "something went wrong on our side; it has been logged"),
    // 503, with Retry-After: a dependency is down (a feature switched off
    // for good is 404 `feature_disabled`: retrying will not help).
    WechatUnavailable = ("wechat_unavailable", SERVICE_UNAVAILABLE, "WeChat is busy or unreachable; try again"),
    DatabaseBusy = ("database_busy", SERVICE_UNAVAILABLE, "系统繁忙，请稍等几秒后重试；您的操作尚未完成（带同一 Idempotency-Key 重试不会重复提交）。"),
    SubmissionStored = ("submission_stored", SERVICE_UNAVAILABLE, "您的提交已保存，但暂时无法显示结果。请勿重新填写：稍后用同一 Idempotency-Key 重试即可取回。"),
    AuditUnavailable = ("audit_unavailable", SERVICE_UNAVAILABLE, "个人信息查阅记录暂时无法写入，为保护个人信息，本次不予显示；请稍后重试。"),
}

impl ErrorCode {
    /// The codes answered with `status`, in table order.
    pub fn with_status(status: StatusCode) -> impl Iterator<Item = ErrorCode> {
        Self::ALL
            .iter()
            .copied()
            .filter(move |c| c.status() == status)
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A failure: its code (and so its status), a message for people, and for
/// 429 the seconds to wait. A 500's message is the logged cause, never sent.
#[derive(Debug, Clone)]
pub struct ApiError {
    code: ErrorCode,
    message: String,
    retry_after: Option<u64>,
    /// Sent as `Location` (where what was stored can be read).
    location: Option<String>,
    problems: Vec<Problem>,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError {
            code,
            message: message.into(),
            retry_after: None,
            location: None,
            problems: Vec::new(),
        }
    }

    /// Every problem of a request checked whole; the message counts them
    /// and names the first few, for people reading a log or a terminal.
    pub fn with_problems(code: ErrorCode, problems: Vec<Problem>) -> Self {
        let first: Vec<String> = problems
            .iter()
            .take(3)
            .map(|p| format!("{}: {}", p.at, p.message))
            .collect();
        let more = problems.len().saturating_sub(first.len());
        let message = match more {
            0 => first.join("; "),
            n => format!("{}; and {n} more (see `problems`)", first.join("; ")),
        };
        ApiError {
            problems,
            ..Self::new(
                code,
                format!("{} problem(s): {message}", first.len() + more),
            )
        }
    }

    /// 503 `submission_stored`: the submission committed, reading it back
    /// for the answer failed. Never a 500, which reads as "lost" and makes
    /// people submit again.
    pub fn submission_stored(message: impl Into<String>, location: Option<String>) -> Self {
        ApiError {
            location,
            ..Self::new(ErrorCode::SubmissionStored, message)
        }
    }

    /// 503 `database_busy` with `Retry-After: 2`: the database could not
    /// serve this now (a connection lost or not to be had, a deadlock or
    /// serialization failure, SQLite's write lock held past the busy
    /// timeout). Nothing is wrong with the request; the same request in a
    /// moment will likely pass. The cause is logged, never sent.
    pub fn database_busy(cause: impl fmt::Display) -> Self {
        tracing::warn!(cause = %cause, "database busy");
        ApiError {
            retry_after: Some(DATABASE_BUSY_RETRY_SECS),
            ..ErrorCode::DatabaseBusy.into()
        }
    }

    pub fn code(&self) -> ErrorCode {
        self.code
    }

    /// The body this error is answered with.
    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            error: ErrorDetail {
                code: self.code.as_str().to_owned(),
                message: self.message(),
                problems: self.problems.clone(),
            },
        }
    }

    pub(crate) fn message(&self) -> String {
        match self.code {
            ErrorCode::InternalError => self.code.default_message().to_owned(),
            _ => self.message.clone(),
        }
    }

    pub fn malformed_json(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::MalformedJson, message)
    }

    pub fn bad_parameter(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::BadParameter, message)
    }

    pub fn invalid_body(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidBody, message)
    }

    pub fn unauthenticated(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Unauthenticated, message)
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Forbidden, message)
    }

    /// 429 with `Retry-After: secs`.
    pub fn rate_limited(code: ErrorCode, message: impl Into<String>, secs: u64) -> Self {
        ApiError {
            retry_after: Some(secs),
            ..Self::new(code, message)
        }
    }

    pub fn internal(cause: impl fmt::Display) -> Self {
        Self::new(ErrorCode::InternalError, cause.to_string())
    }

    /// The not-found answer for a consultation, used also when the case
    /// exists but belongs to someone else, so ids reveal nothing.
    pub fn consultation_not_found() -> Self {
        ErrorCode::ConsultationNotFound.into()
    }

    /// A mapper for store errors on a resource the caller may not see: its
    /// absence reads as `not_found` (so ids reveal nothing); the rest as
    /// [`From<StoreError>`].
    pub fn store_not_found(not_found: ErrorCode) -> impl Fn(StoreError) -> ApiError {
        move |err| match err {
            StoreError::NotFound => not_found.into(),
            other => other.into(),
        }
    }

    /// As [`ApiError::store_not_found`], and a lost guarded update answers
    /// with `conflict` instead of `state_conflict`.
    pub fn store_codes(
        not_found: ErrorCode,
        conflict: ErrorCode,
    ) -> impl Fn(StoreError) -> ApiError {
        move |err| match err {
            StoreError::NotFound => not_found.into(),
            StoreError::Conflict(message) => ApiError::new(conflict, message),
            other => other.into(),
        }
    }
}

/// `Retry-After` of a 503 `database_busy`: a restarted connection or a
/// released lock is a matter of a second or two.
pub const DATABASE_BUSY_RETRY_SECS: u64 = 2;

/// A code with its default message.
impl From<ErrorCode> for ApiError {
    fn from(code: ErrorCode) -> Self {
        ApiError::new(code, code.default_message())
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.code.status()
    }

    fn error_response(&self) -> HttpResponse {
        if self.code == ErrorCode::InternalError {
            tracing::error!(cause = %self.message, "internal error");
        }
        let mut response = HttpResponse::build(self.status_code());
        if let Some(secs) = self.retry_after {
            response.insert_header(("Retry-After", secs.to_string()));
        } else if self.status_code() == StatusCode::SERVICE_UNAVAILABLE {
            response.insert_header(("Retry-After", "5"));
        }
        if let Some(location) = &self.location {
            response.insert_header(("Location", location.as_str()));
        }
        response.json(self.body())
    }
}

impl From<sansuo_media::MediaError> for ApiError {
    fn from(err: sansuo_media::MediaError) -> Self {
        use sansuo_media::MediaError as M;
        let code = match err {
            M::TooLarge { .. } => ErrorCode::PhotoTooLarge,
            M::TooManyPhotos { .. } => ErrorCode::TooManyPhotos,
            M::TypeNotAllowed => ErrorCode::PhotoTypeNotAllowed,
            M::Malformed(_) => ErrorCode::PhotoMalformed,
        };
        // The media crate names its codes too; they must be ours.
        debug_assert_eq!(code.as_str(), err.code());
        ApiError::new(code, err.to_string())
    }
}

impl From<ValidationError> for ApiError {
    fn from(err: ValidationError) -> Self {
        ApiError::new(ErrorCode::ValidationFailed, err.to_string())
    }
}

impl From<TransitionError> for ApiError {
    fn from(err: TransitionError) -> Self {
        ApiError::new(ErrorCode::StateConflict, err.to_string())
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::NotFound => ErrorCode::NotFound.into(),
            StoreError::Conflict(message) => ApiError::new(ErrorCode::StateConflict, message),
            StoreError::IdempotencyKeyReused => ErrorCode::IdempotencyKeyReused.into(),
            StoreError::Transition(e) => e.into(),
            StoreError::SlotTaken => ErrorCode::SlotTaken.into(),
            StoreError::AtCapacity => {
                ApiError::new(ErrorCode::StateConflict, "that person is at capacity")
            }
            StoreError::Busy(e) => ApiError::database_busy(e),
            StoreError::Db(e) => ApiError::internal(format!("database: {e}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn codes_are_unique_snake_case_errors() {
        let mut seen = HashSet::new();
        for code in ErrorCode::ALL {
            let s = code.as_str();
            assert!(seen.insert(s), "{s} twice");
            assert!(
                s.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
                "{s}"
            );
            assert!(
                code.status().is_client_error() || code.status().is_server_error(),
                "{s}"
            );
        }
    }

    #[test]
    fn an_internal_error_says_nothing_of_its_cause() {
        let err = ApiError::internal("database: password=hunter2");
        assert_eq!(err.message(), ErrorCode::InternalError.default_message());
    }
}
