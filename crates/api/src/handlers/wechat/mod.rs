//! WeChat's message push (消息推送) to this server: URL verification and
//! asynchronous check results. Every request must carry a valid signature
//! over the configured push token and a fresh timestamp.
use crate::error::ErrorCode;

pub mod push_receive;
pub mod push_verify;

use crate::{ApiError, AppState};
use secrecy::ExposeSecret;
use serde::Deserialize;
use utoipa::IntoParams;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PushQuery {
    /// sha1 of the sorted push token, timestamp and nonce.
    pub signature: String,
    pub timestamp: String,
    pub nonce: String,
    /// Only when WeChat verifies the URL: echoed back.
    pub echostr: Option<String>,
}

/// How far a push's timestamp may be from our clock: a captured request
/// replayed later is refused.
const MAX_SKEW_SECS: i64 = 300;

pub(crate) fn verify(state: &AppState, query: &PushQuery) -> Result<(), ApiError> {
    let token = state.config.push_token.as_ref().ok_or_else(|| {
        ApiError::new(
            ErrorCode::PushNotConfigured,
            "WeChat message push is not configured here",
        )
    })?;
    let forged = || ApiError::forbidden("the push signature is not valid");
    let sent_at: i64 = query.timestamp.parse().map_err(|_| forged())?;
    if (chrono::Utc::now().timestamp() - sent_at).abs() > MAX_SKEW_SECS {
        return Err(ApiError::forbidden(
            "the push is too old (or from the future): replayed?",
        ));
    }
    if !sansuo_wechat::verify_push_signature(
        token.expose_secret(),
        &query.timestamp,
        &query.nonce,
        &query.signature,
    ) {
        return Err(forged());
    }
    Ok(())
}
