//! The specification's error document: a list of `{code, description}`.

use serde::Serialize;

/// One entry of an `<errors>` document.
///
/// `code` is the HTTP status the response is sent with (400, 403 or 404).
/// The specification allows a more specific code in the body but uses the
/// HTTP status in its own example, and so do most implementations; clients
/// that read `code` can then rely on the three documented values.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Open311Error {
    pub code: u16,
    pub description: String,
}

impl Open311Error {
    pub const BAD_REQUEST: u16 = 400;
    pub const FORBIDDEN: u16 = 403;
    pub const NOT_FOUND: u16 = 404;

    /// A missing or malformed argument, or any other request that cannot be
    /// fulfilled as asked.
    pub fn bad_request(description: impl Into<String>) -> Self {
        Self {
            code: Self::BAD_REQUEST,
            description: description.into(),
        }
    }

    /// A missing or invalid `api_key`.
    pub fn forbidden(description: impl Into<String>) -> Self {
        Self {
            code: Self::FORBIDDEN,
            description: description.into(),
        }
    }

    /// A resource that does not exist: service code, request, token,
    /// jurisdiction, or a path with an unknown format extension.
    pub fn not_found(description: impl Into<String>) -> Self {
        Self {
            code: Self::NOT_FOUND,
            description: description.into(),
        }
    }

    /// The 403 to send when the caller looked the key up and found none.
    pub fn invalid_api_key() -> Self {
        Self::forbidden("Invalid api_key received -- can't proceed with create_request.")
    }

    /// The 404 for an unknown `service_code`.
    pub fn unknown_service_code(service_code: &str) -> Self {
        Self::not_found(format!("service_code {service_code:?} was not found"))
    }

    /// The 404 for an unknown `service_request_id`.
    pub fn unknown_service_request(service_request_id: &str) -> Self {
        Self::not_found(format!(
            "service_request_id {service_request_id:?} was not found"
        ))
    }

    /// The 404 for an unknown token.
    pub fn unknown_token(token: &str) -> Self {
        Self::not_found(format!("token {token:?} was not found"))
    }
}

/// The HTTP status to send with a list of errors: one response has one
/// status, so a missing key (403) outranks a missing resource (404), which
/// outranks bad arguments (400). An empty list (a caller's bug) is a 400.
pub fn http_status(errors: &[Open311Error]) -> u16 {
    let has = |code| errors.iter().any(|e| e.code == code);
    if has(Open311Error::FORBIDDEN) {
        Open311Error::FORBIDDEN
    } else if has(Open311Error::NOT_FOUND) {
        Open311Error::NOT_FOUND
    } else {
        Open311Error::BAD_REQUEST
    }
}
