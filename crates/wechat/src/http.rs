//! HTTP plumbing shared by every API: sending, body limits, transport errors
//! without URLs, errcode envelopes, and the access-token call helper
//! ("get token → call → on 40001/42001/40014 force-refresh once and retry
//! once").
//!
//! Only the URL path (never the query, which holds the secret, a code or the
//! access token), the errcode and the HTTP status are logged.

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::WechatClient;
use crate::error::{TOKEN_ERRCODES, WechatError, sanitize_errmsg};

/// WeChat's JSON answers are a few hundred bytes; anything far larger is not
/// WeChat.
pub(crate) const MAX_JSON_BODY_BYTES: usize = 64 * 1024;

/// A reply WeChat accepted (errcode absent or 0), or an image.
pub(crate) struct Reply {
    pub(crate) content_type: Option<String>,
    pub(crate) body: Vec<u8>,
}

/// The errcode part every WeChat JSON answer may carry.
#[derive(Deserialize)]
struct Envelope {
    #[serde(default)]
    errcode: Option<i64>,
    #[serde(default)]
    errmsg: Option<String>,
}

/// What one attempt of a token-authenticated call gave.
enum Attempt {
    Done(Reply),
    TokenRejected(i64),
}

/// One API of the token-authenticated kind.
#[derive(Clone, Copy)]
pub(crate) struct Api {
    pub(crate) path: &'static str,
    /// Largest body accepted.
    pub(crate) max_body: usize,
    /// Whether a PNG/JPEG body is a success (QR codes).
    pub(crate) image: bool,
}

impl Api {
    pub(crate) const fn json(path: &'static str) -> Self {
        Self {
            path,
            max_body: MAX_JSON_BODY_BYTES,
            image: false,
        }
    }
}

impl WechatClient {
    /// POST `body` as JSON to `api.path?access_token=..` with the shared
    /// access token. If WeChat rejects the token (40001 / 42001 / 40014), the
    /// token is force-refreshed once (single flight across instances) and the
    /// call retried once; a second rejection is [`WechatError::TokenExpired`].
    /// Other non-zero errcodes map through [`WechatError::from_errcode`];
    /// `redact` lists values to strip from WeChat's errmsg.
    pub(crate) async fn call(
        &self,
        api: Api,
        body: &serde_json::Value,
        redact: &[&str],
    ) -> Result<Reply, WechatError> {
        let token = self.access_token().await?;
        match self.attempt(api, &token, body, redact).await? {
            Attempt::Done(reply) => Ok(reply),
            Attempt::TokenRejected(errcode) => {
                tracing::info!(
                    path = api.path,
                    errcode,
                    "WeChat rejected the access token; forcing a refresh"
                );
                let token = self.force_refresh_token(&token).await?;
                match self.attempt(api, &token, body, redact).await? {
                    Attempt::Done(reply) => Ok(reply),
                    Attempt::TokenRejected(errcode) => {
                        tracing::warn!(
                            path = api.path,
                            errcode,
                            "WeChat rejected the access token again after a forced refresh"
                        );
                        Err(WechatError::TokenExpired)
                    }
                }
            }
        }
    }

    async fn attempt(
        &self,
        api: Api,
        token: &SecretString,
        body: &serde_json::Value,
        redact: &[&str],
    ) -> Result<Attempt, WechatError> {
        let url = format!("{}{}", self.base_url, api.path);
        let token = token.expose_secret();
        let request = self
            .http
            .post(&url)
            .query(&[("access_token", token)])
            .json(body);
        let (content_type, bytes) = self.send(api.path, request, api.max_body).await?;
        if api.image && is_image(&bytes) {
            tracing::debug!(path = api.path, "WeChat returned an image");
            return Ok(Attempt::Done(Reply {
                content_type,
                body: bytes,
            }));
        }
        let envelope: Envelope = parse_json(api.path, &bytes)?;
        let errcode = envelope.errcode.unwrap_or(0);
        if errcode == 0 {
            if api.image {
                // JSON without an errcode where an image was expected.
                return Err(WechatError::BadResponse(
                    "expected an image, got JSON without an errcode".to_owned(),
                ));
            }
            tracing::debug!(path = api.path, errcode, "WeChat call succeeded");
            return Ok(Attempt::Done(Reply {
                content_type,
                body: bytes,
            }));
        }
        tracing::debug!(path = api.path, errcode, "WeChat returned an error");
        if TOKEN_ERRCODES.contains(&errcode) {
            return Ok(Attempt::TokenRejected(errcode));
        }
        let mut secrets = Vec::with_capacity(redact.len() + 2);
        secrets.extend_from_slice(redact);
        secrets.push(token);
        secrets.push(self.app_secret.expose_secret());
        let errmsg = sanitize_errmsg(envelope.errmsg.unwrap_or_default(), &secrets);
        Err(WechatError::from_errcode(errcode, errmsg))
    }

    /// Send a request; return the content type and raw body of a 2xx
    /// response, whatever the content type (WeChat labels JSON `text/plain`).
    pub(crate) async fn send(
        &self,
        path: &'static str,
        request: reqwest::RequestBuilder,
        max_body: usize,
    ) -> Result<(Option<String>, Vec<u8>), WechatError> {
        let mut response = request.send().await.map_err(|e| transport_error(path, e))?;
        let status = response.status();
        if !status.is_success() {
            tracing::debug!(
                path,
                status = status.as_u16(),
                "WeChat answered a non-success HTTP status"
            );
            let message = format!("HTTP status {}", status.as_u16());
            return Err(
                if status.is_server_error()
                    || status == reqwest::StatusCode::TOO_MANY_REQUESTS
                    || status == reqwest::StatusCode::REQUEST_TIMEOUT
                {
                    WechatError::Unavailable(message)
                } else {
                    WechatError::BadResponse(message)
                },
            );
        }
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| transport_error(path, e))?
        {
            if body.len() + chunk.len() > max_body {
                return Err(WechatError::BadResponse(
                    "response body too large".to_owned(),
                ));
            }
            body.extend_from_slice(&chunk);
        }
        Ok((content_type, body))
    }
}

/// Parse a JSON body; on failure report only the category and position
/// (serde_json's message may quote values from the body).
pub(crate) fn parse_json<T: DeserializeOwned>(
    path: &'static str,
    body: &[u8],
) -> Result<T, WechatError> {
    serde_json::from_slice(body).map_err(|e| {
        tracing::debug!(path, "unparseable response body");
        WechatError::BadResponse(format!(
            "body is not the expected JSON ({:?} error at line {} column {})",
            e.classify(),
            e.line(),
            e.column()
        ))
    })
}

/// PNG or JPEG magic.
pub(crate) fn is_image(body: &[u8]) -> bool {
    body.starts_with(b"\x89PNG\r\n\x1a\n") || body.starts_with(&[0xFF, 0xD8, 0xFF])
}

/// Describe a transport error without its URL (the query holds the secret,
/// a code or the access token).
fn transport_error(path: &'static str, err: reqwest::Error) -> WechatError {
    let err = err.without_url();
    let what = if err.is_timeout() {
        "request timed out".to_owned()
    } else if err.is_connect() {
        match io_error_kind(&err) {
            Some(kind) => format!("connection failed ({kind})"),
            None => "connection failed".to_owned(),
        }
    } else {
        err.to_string()
    };
    tracing::debug!(path, error = %what, "WeChat call failed");
    WechatError::Unavailable(what)
}

fn io_error_kind(err: &(dyn std::error::Error + 'static)) -> Option<std::io::ErrorKind> {
    let mut source = err.source();
    while let Some(e) = source {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            return Some(io.kind());
        }
        source = e.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_magic() {
        assert!(is_image(b"\x89PNG\r\n\x1a\n\0\0"));
        assert!(is_image(&[0xFF, 0xD8, 0xFF, 0xE0]));
        assert!(!is_image(br#"{"errcode":40097}"#));
        assert!(!is_image(b""));
    }
}
