//! Phone numbers (`POST /wxa/business/getuserphonenumber`): exchange the
//! code from a `getPhoneNumber` button for the user's number.
//!
//! The code (single use, 5 minutes) and the number are never logged or
//! shown by `Debug`/`Display`.

use std::fmt;

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::json;

use crate::WechatClient;
use crate::error::WechatError;
use crate::http::{Api, parse_json};

/// Path of the phone-number API.
pub(crate) const GETUSERPHONENUMBER_PATH: &str = "/wxa/business/getuserphonenumber";

/// Codes are short; refuse absurd input without a request.
const MAX_PHONE_CODE_LEN: usize = 512;

/// A user's phone number. `Debug` shows only the country code.
#[derive(Clone)]
pub struct PhoneNumber {
    phone_number: SecretString,
    pure_phone_number: SecretString,
    country_code: String,
}

impl PhoneNumber {
    /// The number as WeChat formats it (with the country code for numbers
    /// outside mainland China), e.g. `13800138000` or `+1 2025550123`.
    pub fn expose_phone_number(&self) -> &str {
        self.phone_number.expose_secret()
    }

    /// The number without the country code, e.g. `13800138000`.
    pub fn expose_pure_phone_number(&self) -> &str {
        self.pure_phone_number.expose_secret()
    }

    /// The country code without `+`, e.g. `86`.
    pub fn country_code(&self) -> &str {
        &self.country_code
    }
}

impl fmt::Debug for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PhoneNumber")
            .field("country_code", &self.country_code)
            .field("number", &"[redacted]")
            .finish()
    }
}

/// Deliberately not `Debug`: it holds the number.
#[derive(Deserialize)]
struct PhoneBody {
    #[serde(default)]
    phone_info: Option<PhoneInfo>,
}

#[derive(Deserialize)]
struct PhoneInfo {
    #[serde(rename = "phoneNumber", default)]
    phone_number: String,
    #[serde(rename = "purePhoneNumber", default)]
    pure_phone_number: String,
    #[serde(rename = "countryCode", default)]
    country_code: String,
    #[serde(default)]
    watermark: Option<Watermark>,
}

#[derive(Deserialize)]
struct Watermark {
    #[serde(default)]
    appid: String,
}

impl WechatClient {
    /// Exchange a phone-number code for the user's number
    /// (`POST /wxa/business/getuserphonenumber`).
    ///
    /// Errors: [`WechatError::InvalidCode`] (40029: invalid, expired or used
    /// code; empty codes are refused without a request); `Busy` (-1) and
    /// `Unavailable` are retryable.
    pub async fn get_phone_number(&self, code: &str) -> Result<PhoneNumber, WechatError> {
        if code.is_empty() || code.len() > MAX_PHONE_CODE_LEN {
            tracing::debug!(
                path = GETUSERPHONENUMBER_PATH,
                "rejected malformed phone code locally"
            );
            return Err(WechatError::InvalidCode);
        }
        let reply = self
            .call(
                Api::json(GETUSERPHONENUMBER_PATH),
                &json!({ "code": code }),
                &[code],
            )
            .await?;
        let parsed: PhoneBody = parse_json(GETUSERPHONENUMBER_PATH, &reply.body)?;
        let info = parsed
            .phone_info
            .ok_or_else(|| WechatError::BadResponse("missing phone_info".to_owned()))?;
        if info.pure_phone_number.is_empty() {
            return Err(WechatError::BadResponse(
                "missing purePhoneNumber".to_owned(),
            ));
        }
        if let Some(watermark) = &info.watermark
            && !watermark.appid.is_empty()
            && watermark.appid != self.app_id
        {
            return Err(WechatError::BadResponse(
                "phone_info watermark is for another app".to_owned(),
            ));
        }
        let phone_number = if info.phone_number.is_empty() {
            info.pure_phone_number.clone()
        } else {
            info.phone_number
        };
        Ok(PhoneNumber {
            phone_number: SecretString::from(phone_number),
            pure_phone_number: SecretString::from(info.pure_phone_number),
            country_code: info.country_code,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn number(pure: &str) -> PhoneNumber {
        PhoneNumber {
            phone_number: SecretString::from(pure),
            pure_phone_number: SecretString::from(pure),
            country_code: "86".to_owned(),
        }
    }

    #[test]
    fn debug_hides_the_number() {
        let debug = format!("{:?}", number("13800138000"));
        assert!(!debug.contains("13800138000"), "{debug}");
        assert!(!debug.contains("8000"), "{debug}");
        assert!(debug.contains("86"));
    }
}
