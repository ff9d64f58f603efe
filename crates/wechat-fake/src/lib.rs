//! A local fake of the WeChat server APIs for tests, built on wiremock.
//!
//! It speaks `GET /sns/jscode2session` like WeChat does: HTTP 200 with a JSON
//! body labelled `Content-Type: text/plain`, errors as
//! `{"errcode": .., "errmsg": ..}`. The app id and secret it accepts are
//! [`FakeWechat::APP_ID`] and [`FakeWechat::APP_SECRET`].
//!
//! ```no_run
//! # async fn demo() {
//! use sansuo_wechat_fake::FakeWechat;
//! let wechat = FakeWechat::start().await;
//! wechat.accept_code("code-1", "openid-1").await;
//! wechat.fail_code("code-2", 45011).await;
//! // point the client at wechat.base_url() with FakeWechat::APP_ID / APP_SECRET
//! # }
//! ```

use std::collections::HashMap;
use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// Path of the code-to-session API.
pub const JSCODE2SESSION_PATH: &str = "/sns/jscode2session";

/// A fake WeChat server on `127.0.0.1` with a random port. Stops when dropped.
pub struct FakeWechat {
    server: MockServer,
    codes: Arc<Mutex<HashMap<String, CodeOutcome>>>,
}

#[derive(Clone)]
enum CodeOutcome {
    Accept { openid: String },
    AcceptOnce { openid: String, used: bool },
    Fail { errcode: i64 },
}

impl FakeWechat {
    /// The app id the fake accepts (anything else answers errcode 40013).
    pub const APP_ID: &'static str = "wx-test-app";
    /// The app secret the fake accepts (anything else answers errcode 40125).
    pub const APP_SECRET: &'static str = "test-app-secret";

    /// Start the fake on `127.0.0.1` with a random port.
    pub async fn start() -> Self {
        let server = MockServer::start().await;
        let codes = Arc::new(Mutex::new(HashMap::new()));
        Mock::given(method("GET"))
            .and(path(JSCODE2SESSION_PATH))
            .respond_with(Code2Session {
                codes: Arc::clone(&codes),
                key_seed: RandomState::new(),
                counter: AtomicU64::new(0),
            })
            // Lowest priority: tests may mount more specific mocks on
            // `server()` that win over this one.
            .with_priority(u8::MAX)
            .mount(&server)
            .await;
        Self { server, codes }
    }

    /// Base URL to configure the client with, e.g. `http://127.0.0.1:34567`.
    pub fn base_url(&self) -> String {
        self.server.uri()
    }

    /// The underlying wiremock server, to mount extra mocks (raw HTTP errors,
    /// delays). Mocks with a priority below 255 win over the fake's own.
    pub fn server(&self) -> &MockServer {
        &self.server
    }

    /// `jscode2session` with this code succeeds with this openid (a fresh
    /// random-looking `session_key` each time, no `unionid`). The code may be
    /// used any number of times.
    pub async fn accept_code(&self, code: &str, openid: &str) {
        self.set(
            code,
            CodeOutcome::Accept {
                openid: openid.to_owned(),
            },
        );
    }

    /// Like [`accept_code`](Self::accept_code), but like real WeChat the code
    /// works once; later uses answer errcode 40163 (code been used).
    pub async fn accept_code_once(&self, code: &str, openid: &str) {
        self.set(
            code,
            CodeOutcome::AcceptOnce {
                openid: openid.to_owned(),
                used: false,
            },
        );
    }

    /// `jscode2session` with this code answers
    /// `{"errcode": errcode, "errmsg": ..}` with HTTP 200, like WeChat.
    pub async fn fail_code(&self, code: &str, errcode: i64) {
        self.set(code, CodeOutcome::Fail { errcode });
    }

    /// How many `jscode2session` requests the fake received (any outcome).
    pub async fn code2session_calls(&self) -> usize {
        self.server
            .received_requests()
            .await
            .unwrap_or_default()
            .iter()
            .filter(|r| r.url.path() == JSCODE2SESSION_PATH)
            .count()
    }

    fn set(&self, code: &str, outcome: CodeOutcome) {
        self.codes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(code.to_owned(), outcome);
    }
}

/// The `jscode2session` responder: checks the request the way WeChat does,
/// then looks the code up.
struct Code2Session {
    codes: Arc<Mutex<HashMap<String, CodeOutcome>>>,
    key_seed: RandomState,
    counter: AtomicU64,
}

impl Respond for Code2Session {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let param = |name: &str| {
            request
                .url
                .query_pairs()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.into_owned())
        };
        if param("appid").as_deref() != Some(FakeWechat::APP_ID) {
            return error(40013, "invalid appid");
        }
        if param("secret").as_deref() != Some(FakeWechat::APP_SECRET) {
            return error(40125, "invalid appsecret");
        }
        if param("grant_type").as_deref() != Some("authorization_code") {
            return error(40002, "invalid grant_type");
        }
        let code = match param("js_code") {
            Some(code) if !code.is_empty() => code,
            _ => return error(41008, "missing code"),
        };

        let outcome = {
            let mut codes = self.codes.lock().unwrap_or_else(PoisonError::into_inner);
            match codes.get_mut(&code) {
                None => None,
                Some(CodeOutcome::AcceptOnce { used: true, .. }) => {
                    Some(CodeOutcome::Fail { errcode: 40163 })
                }
                Some(CodeOutcome::AcceptOnce { openid, used }) => {
                    *used = true;
                    Some(CodeOutcome::Accept {
                        openid: openid.clone(),
                    })
                }
                Some(other) => Some(other.clone()),
            }
        };
        match outcome {
            None => error(40029, "invalid code"),
            Some(CodeOutcome::Fail { errcode }) => error(errcode, errmsg_for(errcode)),
            Some(CodeOutcome::Accept { openid }) | Some(CodeOutcome::AcceptOnce { openid, .. }) => {
                body(&json!({
                    "openid": openid,
                    "session_key": self.session_key(),
                }))
            }
        }
    }
}

impl Code2Session {
    /// 24 base64 characters, like WeChat's (base64 of 16 bytes); differs per
    /// call and per process.
    fn session_key(&self) -> String {
        const ALPHABET: &[u8; 64] =
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let mut key = String::with_capacity(24);
        for half in 0..2u64 {
            let mut hasher = self.key_seed.build_hasher();
            hasher.write_u64(n);
            hasher.write_u64(half);
            let mut bits = hasher.finish();
            for _ in 0..11 {
                key.push(ALPHABET[(bits & 63) as usize] as char);
                bits >>= 6;
            }
        }
        key.push_str("==");
        key
    }
}

fn errmsg_for(errcode: i64) -> &'static str {
    match errcode {
        -1 => "system error",
        40013 => "invalid appid",
        40029 => "invalid code",
        40125 => "invalid appsecret",
        40163 => "code been used",
        40226 => "high risk level user, login intercepted",
        45011 => "api minute-quota reach limit  mustslower  retry next minute",
        _ => "fake error",
    }
}

fn error(errcode: i64, errmsg: &str) -> ResponseTemplate {
    body(&json!({
        "errcode": errcode,
        "errmsg": format!("{errmsg}, rid: fake-0000-0000"),
    }))
}

/// WeChat labels its JSON `text/plain`.
fn body(value: &serde_json::Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_raw(value.to_string(), "text/plain")
}
