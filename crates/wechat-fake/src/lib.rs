//! A local fake of the WeChat server APIs for tests, built on wiremock.
//!
//! It speaks each endpoint like WeChat does: HTTP 200 with errors as
//! `{"errcode": .., "errmsg": ..}`; `jscode2session` labels its JSON
//! `text/plain`, the newer APIs `application/json; encoding=utf-8`. The app
//! id and secret it accepts are [`FakeWechat::APP_ID`] and
//! [`FakeWechat::APP_SECRET`].
//!
//! | endpoint | what the fake does |
//! |---|---|
//! | `GET /sns/jscode2session` | codes from [`accept_code`](FakeWechat::accept_code) / [`fail_code`](FakeWechat::fail_code); 40013 / 40125 / 40002 / 41008 / 40029 |
//! | `POST /cgi-bin/stable_token` | 40013 / 40125 / 40002; issues `fake-token-<n>` (7200 s); normal mode returns the current token while more than 5 minutes remain, a new one after; `force_refresh` always issues a new one and revokes the previous |
//! | every `?access_token=` API | missing → 41001, unknown or revoked → 40001, expired → 42001 |
//! | `POST /cgi-bin/message/subscribe/send` | checks template values against WeChat's per-kind limits (47003), subscription credit per openid + template (43101) |
//! | `POST /wxa/msg_sec_check` | verdict by content substring ([`set_verdict`](FakeWechat::set_verdict)), default pass |
//! | `POST /wxa/media_check_async` | returns `fake-trace-<n>` |
//! | `POST /wxa/getwxacodeunlimit` | a small valid PNG (`image/png`) carrying the scene; JSON errors for an invalid scene (40169 / 40097), width (40097), unknown page with `check_path` (41030) |
//! | `POST /wxa/business/getuserphonenumber` | numbers per single-use code ([`set_phone_number`](FakeWechat::set_phone_number)), else 40029 |
//!
//! Any endpoint can be scripted to fail ([`fail_next`](FakeWechat::fail_next),
//! [`fail_next_status`](FakeWechat::fail_next_status)) or slowed
//! ([`set_delay`](FakeWechat::set_delay)); every request is recorded.
//!
//! ```no_run
//! # async fn demo() {
//! use sansuo_wechat_fake::{FakeWechat, SUBSCRIBE_SEND_PATH};
//! let wechat = FakeWechat::start().await;
//! wechat.accept_code("code-1", "openid-1").await;
//! wechat.fail_code("code-2", 45011).await;
//! wechat.fail_next(SUBSCRIBE_SEND_PATH, -1, 1);
//! wechat.deny_credit("openid-1", "tmpl-1");
//! // point the client at wechat.base_url() with FakeWechat::APP_ID / APP_SECRET
//! # }
//! ```

mod png;

use std::collections::hash_map::RandomState;
use std::collections::{HashMap, HashSet, VecDeque};
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

pub use png::{PNG_MAGIC, png_for};

/// Path of the code-to-session API.
pub const JSCODE2SESSION_PATH: &str = "/sns/jscode2session";
/// Path of the stable access-token API.
pub const STABLE_TOKEN_PATH: &str = "/cgi-bin/stable_token";
/// Path of the subscribe-message API.
pub const SUBSCRIBE_SEND_PATH: &str = "/cgi-bin/message/subscribe/send";
/// Path of the text-check API.
pub const MSG_SEC_CHECK_PATH: &str = "/wxa/msg_sec_check";
/// Path of the asynchronous media-check API.
pub const MEDIA_CHECK_ASYNC_PATH: &str = "/wxa/media_check_async";
/// Path of the unlimited mini-program code API.
pub const GETWXACODEUNLIMIT_PATH: &str = "/wxa/getwxacodeunlimit";
/// Path of the phone-number API.
pub const GETUSERPHONENUMBER_PATH: &str = "/wxa/business/getuserphonenumber";

/// WeChat's stable_token hands out a new token only in the last 5 minutes.
const RENEW_WINDOW: Duration = Duration::from_secs(300);

const JSON_TYPE: &str = "application/json; encoding=utf-8";

/// A fake WeChat server on `127.0.0.1` with a random port. Stops when dropped.
pub struct FakeWechat {
    server: MockServer,
    codes: Arc<Mutex<HashMap<String, CodeOutcome>>>,
    state: Arc<Mutex<State>>,
}

#[derive(Clone)]
enum CodeOutcome {
    Accept { openid: String },
    AcceptOnce { openid: String, used: bool },
    Fail { errcode: i64 },
}

enum Failure {
    Errcode(i64),
    Status(u16),
}

struct Phone {
    phone_number: String,
    pure: String,
    country_code: String,
    used: bool,
}

/// Everything the access-token APIs share.
struct State {
    /// Added to the real clock: tests age tokens without sleeping.
    clock_offset: Duration,
    /// Issued tokens that were not revoked → expiry (fake clock).
    tokens: HashMap<String, Instant>,
    current: Option<String>,
    issued: u64,
    token_lifetime: Duration,
    failures: HashMap<String, VecDeque<Failure>>,
    delays: HashMap<String, Duration>,
    verdicts: Vec<(String, &'static str, i64)>,
    credits: HashMap<(String, String), u32>,
    pages: HashSet<String>,
    phones: HashMap<String, Phone>,
    traces: u64,
    delivered: Vec<Value>,
}

impl State {
    fn now(&self) -> Instant {
        Instant::now() + self.clock_offset
    }

    fn issue_token(&mut self) -> String {
        self.issued += 1;
        let token = format!("fake-token-{}", self.issued);
        let expiry = self.now() + self.token_lifetime;
        self.tokens.insert(token.clone(), expiry);
        self.current = Some(token.clone());
        token
    }
}

#[derive(Clone, Copy)]
enum Endpoint {
    StableToken,
    SubscribeSend,
    MsgSecCheck,
    MediaCheckAsync,
    GetWxaCodeUnlimit,
    GetUserPhoneNumber,
}

impl Endpoint {
    const ALL: [Endpoint; 6] = [
        Endpoint::StableToken,
        Endpoint::SubscribeSend,
        Endpoint::MsgSecCheck,
        Endpoint::MediaCheckAsync,
        Endpoint::GetWxaCodeUnlimit,
        Endpoint::GetUserPhoneNumber,
    ];

    fn path(self) -> &'static str {
        match self {
            Endpoint::StableToken => STABLE_TOKEN_PATH,
            Endpoint::SubscribeSend => SUBSCRIBE_SEND_PATH,
            Endpoint::MsgSecCheck => MSG_SEC_CHECK_PATH,
            Endpoint::MediaCheckAsync => MEDIA_CHECK_ASYNC_PATH,
            Endpoint::GetWxaCodeUnlimit => GETWXACODEUNLIMIT_PATH,
            Endpoint::GetUserPhoneNumber => GETUSERPHONENUMBER_PATH,
        }
    }
}

impl FakeWechat {
    /// The app id the fake accepts (anything else answers errcode 40013).
    pub const APP_ID: &'static str = "wx-test-app";
    /// The app secret the fake accepts (anything else answers errcode 40125).
    pub const APP_SECRET: &'static str = "test-app-secret";
    /// The page [`getwxacodeunlimit`](GETWXACODEUNLIMIT_PATH) knows from the
    /// start (register more with [`register_page`](Self::register_page)).
    pub const HOME_PAGE: &'static str = "pages/index/index";

    /// Start the fake on `127.0.0.1` with a random port.
    pub async fn start() -> Self {
        let server = MockServer::start().await;
        let codes = Arc::new(Mutex::new(HashMap::new()));
        let state = Arc::new(Mutex::new(State {
            clock_offset: Duration::ZERO,
            tokens: HashMap::new(),
            current: None,
            issued: 0,
            token_lifetime: Duration::from_secs(7200),
            failures: HashMap::new(),
            delays: HashMap::new(),
            verdicts: Vec::new(),
            credits: HashMap::new(),
            pages: HashSet::from([Self::HOME_PAGE.to_owned()]),
            phones: HashMap::new(),
            traces: 0,
            delivered: Vec::new(),
        }));
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
        for endpoint in Endpoint::ALL {
            Mock::given(method("POST"))
                .and(path(endpoint.path()))
                .respond_with(Handler {
                    state: Arc::clone(&state),
                    endpoint,
                })
                .with_priority(u8::MAX)
                .mount(&server)
                .await;
        }
        Self {
            server,
            codes,
            state,
        }
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

    // ----- jscode2session -------------------------------------------------

    /// `jscode2session` with this code succeeds with this openid (a fresh
    /// random-looking `session_key` each time, no `unionid`). The code may be
    /// used any number of times.
    pub async fn accept_code(&self, code: &str, openid: &str) {
        self.set_code(
            code,
            CodeOutcome::Accept {
                openid: openid.to_owned(),
            },
        );
    }

    /// Like [`accept_code`](Self::accept_code), but like real WeChat the code
    /// works once; later uses answer errcode 40163 (code been used).
    pub async fn accept_code_once(&self, code: &str, openid: &str) {
        self.set_code(
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
        self.set_code(code, CodeOutcome::Fail { errcode });
    }

    /// How many `jscode2session` requests the fake received (any outcome).
    pub async fn code2session_calls(&self) -> usize {
        self.calls(JSCODE2SESSION_PATH).await
    }

    fn set_code(&self, code: &str, outcome: CodeOutcome) {
        self.codes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(code.to_owned(), outcome);
    }

    // ----- access tokens --------------------------------------------------

    /// Lifetime (`expires_in`) of tokens issued from now on (default 7200 s).
    pub fn set_token_lifetime(&self, lifetime: Duration) {
        self.state().token_lifetime = lifetime;
    }

    /// Move the fake's clock forward: issued tokens come closer to expiry
    /// (and `stable_token` reports less `expires_in`).
    pub fn age_tokens(&self, by: Duration) {
        self.state().clock_offset += by;
    }

    /// Every issued token expires now: calls with them answer 42001, and
    /// `stable_token` issues a new one.
    pub fn expire_tokens(&self) {
        let mut state = self.state();
        let now = state.now();
        for expiry in state.tokens.values_mut() {
            *expiry = now;
        }
    }

    /// Revoke every issued token (as a forced refresh elsewhere would):
    /// calls with them answer 40001, and `stable_token` issues a new one.
    pub fn invalidate_tokens(&self) {
        let mut state = self.state();
        state.tokens.clear();
        state.current = None;
    }

    /// The token `stable_token` would return in normal mode, if still valid.
    pub fn current_token(&self) -> Option<String> {
        let state = self.state();
        let now = state.now();
        state
            .current
            .clone()
            .filter(|t| state.tokens.get(t).is_some_and(|e| *e > now))
    }

    /// How many `stable_token` requests arrived (any outcome).
    pub async fn stable_token_calls(&self) -> usize {
        self.calls(STABLE_TOKEN_PATH).await
    }

    /// How many `stable_token` requests asked for `force_refresh: true`.
    pub async fn forced_refresh_calls(&self) -> usize {
        self.bodies(STABLE_TOKEN_PATH)
            .await
            .iter()
            .filter(|b| b["force_refresh"] == json!(true))
            .count()
    }

    /// The `access_token` query parameter of each request to `path`, in
    /// order (empty string when missing).
    pub async fn access_tokens_used(&self, path: &str) -> Vec<String> {
        self.requests(path)
            .await
            .iter()
            .map(|r| query(r, "access_token").unwrap_or_default())
            .collect()
    }

    // ----- scripting ------------------------------------------------------

    /// The next `times` requests to `path` (after the access-token check)
    /// answer HTTP 200 `{"errcode": errcode, ..}`. Queues after earlier
    /// scripted failures.
    pub fn fail_next(&self, path: &str, errcode: i64, times: usize) {
        let mut state = self.state();
        let queue = state.failures.entry(path.to_owned()).or_default();
        queue.extend((0..times).map(|_| Failure::Errcode(errcode)));
    }

    /// The next `times` requests to `path` answer this HTTP status with an
    /// empty body (e.g. 500, 502), before any check.
    pub fn fail_next_status(&self, path: &str, status: u16, times: usize) {
        let mut state = self.state();
        let queue = state.failures.entry(path.to_owned()).or_default();
        queue.extend((0..times).map(|_| Failure::Status(status)));
    }

    /// Delay every answer to `path` (a timeout test); `Duration::ZERO`
    /// removes the delay.
    pub fn set_delay(&self, path: &str, delay: Duration) {
        self.state().delays.insert(path.to_owned(), delay);
    }

    /// How many requests to `path` the fake received (any outcome).
    pub async fn calls(&self, path: &str) -> usize {
        self.requests(path).await.len()
    }

    // ----- subscribe messages ---------------------------------------------

    /// `openid` has `credit` sends left for `template_id` (each accepted
    /// send uses one; at 0 sends answer 43101). Without this, credit is
    /// unlimited.
    pub fn set_credit(&self, openid: &str, template_id: &str, credit: u32) {
        self.state()
            .credits
            .insert((openid.to_owned(), template_id.to_owned()), credit);
    }

    /// `openid` has no credit for `template_id`: sends answer 43101.
    pub fn deny_credit(&self, openid: &str, template_id: &str) {
        self.set_credit(openid, template_id, 0);
    }

    /// The JSON bodies of every subscribe send received (any outcome).
    pub async fn subscribe_sends(&self) -> Vec<Value> {
        self.bodies(SUBSCRIBE_SEND_PATH).await
    }

    /// The JSON bodies of the subscribe sends the fake accepted.
    pub fn subscribe_delivered(&self) -> Vec<Value> {
        self.state().delivered.clone()
    }

    // ----- content security -----------------------------------------------

    /// Text containing `substring` gets this verdict from `msg_sec_check`
    /// (`suggest` is `"pass"`, `"review"` or `"risky"`). The first matching
    /// rule wins; without a match the verdict is pass, label 100.
    pub fn set_verdict(&self, substring: &str, suggest: &str, label: i64) {
        let suggest = match suggest {
            "pass" => "pass",
            "review" => "review",
            "risky" => "risky",
            other => panic!("unknown suggest {other:?}"),
        };
        self.state()
            .verdicts
            .push((substring.to_owned(), suggest, label));
    }

    /// The JSON bodies of every `msg_sec_check` received.
    pub async fn msg_sec_checks(&self) -> Vec<Value> {
        self.bodies(MSG_SEC_CHECK_PATH).await
    }

    /// The JSON bodies of every `media_check_async` received.
    pub async fn media_checks(&self) -> Vec<Value> {
        self.bodies(MEDIA_CHECK_ASYNC_PATH).await
    }

    /// The JSON body WeChat pushes with the verdict of a media check.
    pub fn media_check_event(trace_id: &str, suggest: &str, label: i64) -> Value {
        json!({
            "ToUserName": "gh_fake0000000",
            "FromUserName": "oFakeSystemUser0000000000000",
            "CreateTime": unix_now(),
            "MsgType": "event",
            "Event": "wxa_media_check",
            "appid": Self::APP_ID,
            "trace_id": trace_id,
            "version": 2,
            "detail": [{
                "strategy": "content_model",
                "errcode": 0,
                "suggest": suggest,
                "label": label,
                "prob": 90,
            }],
            "errcode": 0,
            "errmsg": "ok",
            "result": { "suggest": suggest, "label": label },
        })
    }

    /// The `signature` WeChat puts in a push URL's query:
    /// `sha1(sorted([token, timestamp, nonce]).join(""))` in hex.
    pub fn push_signature(token: &str, timestamp: &str, nonce: &str) -> String {
        let mut parts = [token, timestamp, nonce];
        parts.sort_unstable();
        sha1_smol::Sha1::from(parts.concat()).digest().to_string()
    }

    // ----- QR codes -------------------------------------------------------

    /// `getwxacodeunlimit` with `check_path` accepts this page.
    pub fn register_page(&self, page: &str) {
        self.state().pages.insert(page.to_owned());
    }

    /// The JSON bodies of every `getwxacodeunlimit` received.
    pub async fn qrcode_requests(&self) -> Vec<Value> {
        self.bodies(GETWXACODEUNLIMIT_PATH).await
    }

    // ----- phone numbers --------------------------------------------------

    /// `getuserphonenumber` with this code (once, like WeChat) returns this
    /// number; `country_code` without `+`, e.g. `"86"`.
    pub fn set_phone_number(&self, code: &str, pure_phone_number: &str, country_code: &str) {
        let phone_number = if country_code == "86" {
            pure_phone_number.to_owned()
        } else {
            format!("+{country_code} {pure_phone_number}")
        };
        self.state().phones.insert(
            code.to_owned(),
            Phone {
                phone_number,
                pure: pure_phone_number.to_owned(),
                country_code: country_code.to_owned(),
                used: false,
            },
        );
    }

    /// How many `getuserphonenumber` requests arrived.
    pub async fn phone_number_calls(&self) -> usize {
        self.calls(GETUSERPHONENUMBER_PATH).await
    }

    // ----- internals ------------------------------------------------------

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    async fn requests(&self, path: &str) -> Vec<Request> {
        self.server
            .received_requests()
            .await
            .unwrap_or_default()
            .into_iter()
            .filter(|r| r.url.path() == path)
            .collect()
    }

    async fn bodies(&self, path: &str) -> Vec<Value> {
        self.requests(path)
            .await
            .iter()
            .map(|r| serde_json::from_slice(&r.body).unwrap_or(Value::Null))
            .collect()
    }
}

fn query(request: &Request, name: &str) -> Option<String> {
    request
        .url
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// The responder of every access-token endpoint and `stable_token`.
struct Handler {
    state: Arc<Mutex<State>>,
    endpoint: Endpoint,
}

impl Respond for Handler {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let path = self.endpoint.path();
        let delay = state.delays.get(path).copied().unwrap_or_default();
        let response = self.answer(&mut state, request);
        if delay.is_zero() {
            response
        } else {
            response.set_delay(delay)
        }
    }
}

impl Handler {
    fn answer(&self, state: &mut State, request: &Request) -> ResponseTemplate {
        let path = self.endpoint.path();
        if let Some(Failure::Status(status)) = take_failure(state, path, true) {
            return ResponseTemplate::new(status);
        }
        let Ok(body) = serde_json::from_slice::<Value>(&request.body) else {
            return error(47001, "data format error");
        };
        if !matches!(self.endpoint, Endpoint::StableToken)
            && let Some(response) = token_error(state, request)
        {
            return response;
        }
        if let Some(Failure::Errcode(errcode)) = take_failure(state, path, false) {
            return error(errcode, errmsg_for(errcode));
        }
        match self.endpoint {
            Endpoint::StableToken => stable_token(state, &body),
            Endpoint::SubscribeSend => subscribe_send(state, body),
            Endpoint::MsgSecCheck => msg_sec_check(state, &body),
            Endpoint::MediaCheckAsync => media_check_async(state, &body),
            Endpoint::GetWxaCodeUnlimit => getwxacodeunlimit(state, &body),
            Endpoint::GetUserPhoneNumber => getuserphonenumber(state, &body),
        }
    }
}

/// Pop the next scripted failure of `path` if it is of the kind asked for
/// (HTTP status failures come before any check, errcodes after the token
/// check).
fn take_failure(state: &mut State, path: &str, status: bool) -> Option<Failure> {
    let queue = state.failures.get_mut(path)?;
    let matches = match queue.front()? {
        Failure::Status(_) => status,
        Failure::Errcode(_) => !status,
    };
    if matches { queue.pop_front() } else { None }
}

/// `?access_token=` must be a token the fake issued, not revoked or
/// expired; otherwise the error answer.
fn token_error(state: &State, request: &Request) -> Option<ResponseTemplate> {
    let token = match query(request, "access_token") {
        Some(t) if !t.is_empty() => t,
        _ => return Some(error(41001, "access_token missing")),
    };
    match state.tokens.get(&token) {
        None => Some(error(40001, errmsg_for(40001))),
        Some(expiry) if *expiry <= state.now() => Some(error(42001, errmsg_for(42001))),
        Some(_) => None,
    }
}

fn str_field<'a>(body: &'a Value, name: &str) -> &'a str {
    body.get(name).and_then(Value::as_str).unwrap_or_default()
}

fn stable_token(state: &mut State, body: &Value) -> ResponseTemplate {
    if str_field(body, "grant_type") != "client_credential" {
        return error(40002, "invalid grant_type");
    }
    if str_field(body, "appid") != FakeWechat::APP_ID {
        return error(40013, "invalid appid");
    }
    if str_field(body, "secret") != FakeWechat::APP_SECRET {
        return error(40125, "invalid appsecret");
    }
    let force = body
        .get("force_refresh")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let now = state.now();
    let current = state
        .current
        .clone()
        .and_then(|t| state.tokens.get(&t).map(|e| (t, *e)))
        .filter(|(_, expiry)| *expiry > now);
    let (token, expiry) = match current {
        Some((token, expiry)) if !force && expiry.duration_since(now) > RENEW_WINDOW => {
            (token, expiry)
        }
        _ => {
            if force && let Some(old) = state.current.take() {
                // A forced refresh revokes the previous token.
                state.tokens.remove(&old);
            }
            let token = state.issue_token();
            let expiry = state.tokens[&token];
            (token, expiry)
        }
    };
    json_body(&json!({
        "access_token": token,
        "expires_in": expiry.duration_since(now).as_secs(),
    }))
}

/// WeChat's per-kind limit check of one template value.
fn template_value_ok(key: &str, value: &str) -> bool {
    let kind = key.trim_end_matches(|c: char| c.is_ascii_digit());
    let chars = value.chars().count();
    let chinese = |c: char| ('\u{3400}'..='\u{9FFF}').contains(&c) || c > '\u{FFFF}';
    if chars == 0 {
        return false;
    }
    match kind {
        "thing" => chars <= 20,
        "name" => chars <= if value.is_ascii() { 20 } else { 10 },
        "phrase" => chars <= 5 && value.chars().all(chinese),
        "character_string" => chars <= 32 && value.chars().all(|c| c.is_ascii_graphic()),
        "number" => chars <= 32 && value.chars().all(|c| c.is_ascii_digit() || c == '.'),
        "phone_number" => {
            chars <= 17
                && value
                    .chars()
                    .all(|c| c.is_ascii_digit() || "+-() ".contains(c))
        }
        _ => true,
    }
}

fn subscribe_send(state: &mut State, body: Value) -> ResponseTemplate {
    let touser = str_field(&body, "touser").to_owned();
    let template_id = str_field(&body, "template_id").to_owned();
    if touser.is_empty() {
        return error(40003, "invalid openid");
    }
    if template_id.is_empty() {
        return error(40037, "invalid template_id");
    }
    let Some(data) = body.get("data").and_then(Value::as_object) else {
        return error(47001, "data format error");
    };
    for (key, field) in data {
        let value = field.get("value").and_then(Value::as_str);
        if !value.is_some_and(|v| template_value_ok(key, v)) {
            return error(
                47003,
                &format!("argument invalid! data.{key}.value invalid"),
            );
        }
    }
    if let Some(state_name) = body.get("miniprogram_state").and_then(Value::as_str)
        && !matches!(state_name, "developer" | "trial" | "formal")
    {
        return error(47001, "data format error: miniprogram_state");
    }
    let credit_key = (touser, template_id);
    if let Some(credit) = state.credits.get_mut(&credit_key) {
        if *credit == 0 {
            return error(43101, "user refuse to accept the msg");
        }
        *credit -= 1;
    }
    state.delivered.push(body);
    json_body(&json!({ "errcode": 0, "errmsg": "ok", "msgid": 1000 + state.delivered.len() }))
}

fn msg_sec_check(state: &mut State, body: &Value) -> ResponseTemplate {
    if body.get("version").and_then(Value::as_i64) != Some(2) {
        return error(40097, "invalid args: version");
    }
    if !body
        .get("scene")
        .and_then(Value::as_i64)
        .is_some_and(|s| (1..=4).contains(&s))
    {
        return error(40097, "invalid args: scene");
    }
    if str_field(body, "openid").is_empty() {
        return error(40003, "invalid openid");
    }
    let Some(content) = body.get("content").and_then(Value::as_str) else {
        return error(47001, "data format error");
    };
    if content.chars().count() > 2500 {
        return error(40097, "invalid args: content too long");
    }
    let (suggest, label) = state
        .verdicts
        .iter()
        .find(|(needle, _, _)| content.contains(needle.as_str()))
        .map(|(_, s, l)| (*s, *l))
        .unwrap_or(("pass", 100));
    state.traces += 1;
    json_body(&json!({
        "errcode": 0,
        "errmsg": "ok",
        "result": { "suggest": suggest, "label": label },
        "detail": [{
            "strategy": "content_model",
            "errcode": 0,
            "suggest": suggest,
            "label": label,
            "prob": 90,
        }],
        "trace_id": format!("fake-trace-{}", state.traces),
    }))
}

fn media_check_async(state: &mut State, body: &Value) -> ResponseTemplate {
    if body.get("version").and_then(Value::as_i64) != Some(2) {
        return error(40097, "invalid args: version");
    }
    if !matches!(body.get("media_type").and_then(Value::as_i64), Some(1 | 2)) {
        return error(40097, "invalid args: media_type");
    }
    if !body
        .get("scene")
        .and_then(Value::as_i64)
        .is_some_and(|s| (1..=4).contains(&s))
    {
        return error(40097, "invalid args: scene");
    }
    let url = str_field(body, "media_url");
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return error(40097, "invalid args: media_url");
    }
    if str_field(body, "openid").is_empty() {
        return error(40003, "invalid openid");
    }
    state.traces += 1;
    json_body(&json!({
        "errcode": 0,
        "errmsg": "ok",
        "trace_id": format!("fake-trace-{}", state.traces),
    }))
}

fn getwxacodeunlimit(state: &mut State, body: &Value) -> ResponseTemplate {
    let Some(scene) = body.get("scene").and_then(Value::as_str) else {
        return error(40097, "invalid args: scene");
    };
    if scene.is_empty() || scene.chars().count() > 32 {
        return error(
            40169,
            "invalid length for scene, or the data is not json string",
        );
    }
    if !scene
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "!#$&'()*+,/:;=?@-._~".contains(c))
    {
        return error(40097, "invalid args: scene");
    }
    if let Some(width) = body.get("width").and_then(Value::as_i64)
        && !(280..=1280).contains(&width)
    {
        return error(40097, "invalid args: width");
    }
    if let Some(env) = body.get("env_version").and_then(Value::as_str)
        && !matches!(env, "release" | "trial" | "develop")
    {
        return error(40097, "invalid args: env_version");
    }
    let check_path = body
        .get("check_path")
        .and_then(Value::as_bool)
        .unwrap_or(true);
    if let Some(page) = body.get("page").and_then(Value::as_str)
        && (page.starts_with('/') || (check_path && !state.pages.contains(page)))
    {
        return error(41030, "invalid page");
    }
    ResponseTemplate::new(200).set_body_raw(png_for(scene), "image/png")
}

fn getuserphonenumber(state: &mut State, body: &Value) -> ResponseTemplate {
    let code = str_field(body, "code");
    let Some(phone) = state.phones.get_mut(code).filter(|p| !p.used) else {
        return error(40029, "invalid code");
    };
    phone.used = true;
    json_body(&json!({
        "errcode": 0,
        "errmsg": "ok",
        "phone_info": {
            "phoneNumber": phone.phone_number,
            "purePhoneNumber": phone.pure,
            "countryCode": phone.country_code,
            "watermark": { "timestamp": unix_now(), "appid": FakeWechat::APP_ID },
        },
    }))
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
        let param = |name: &str| query(request, name);
        if param("appid").as_deref() != Some(FakeWechat::APP_ID) {
            return text_error(40013, "invalid appid");
        }
        if param("secret").as_deref() != Some(FakeWechat::APP_SECRET) {
            return text_error(40125, "invalid appsecret");
        }
        if param("grant_type").as_deref() != Some("authorization_code") {
            return text_error(40002, "invalid grant_type");
        }
        let code = match param("js_code") {
            Some(code) if !code.is_empty() => code,
            _ => return text_error(41008, "missing code"),
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
            None => text_error(40029, "invalid code"),
            Some(CodeOutcome::Fail { errcode }) => text_error(errcode, errmsg_for(errcode)),
            Some(CodeOutcome::Accept { openid }) | Some(CodeOutcome::AcceptOnce { openid, .. }) => {
                text_body(&json!({
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
        40001 => "invalid credential, access_token is invalid or not latest",
        40013 => "invalid appid",
        40014 => "invalid access_token",
        40029 => "invalid code",
        40125 => "invalid appsecret",
        40163 => "code been used",
        40226 => "high risk level user, login intercepted",
        42001 => "access_token expired",
        43101 => "user refuse to accept the msg",
        45009 => "reach max api daily quota limit",
        45011 => "api minute-quota reach limit  mustslower  retry next minute",
        47003 => "argument invalid!",
        87014 => "risky content",
        _ => "fake error",
    }
}

fn with_rid(errcode: i64, errmsg: &str) -> Value {
    json!({
        "errcode": errcode,
        "errmsg": format!("{errmsg}, rid: fake-0000-0000"),
    })
}

/// An errcode answer of the newer APIs (JSON content type).
fn error(errcode: i64, errmsg: &str) -> ResponseTemplate {
    json_body(&with_rid(errcode, errmsg))
}

fn json_body(value: &Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_raw(value.to_string(), JSON_TYPE)
}

/// `jscode2session` labels its JSON `text/plain`.
fn text_error(errcode: i64, errmsg: &str) -> ResponseTemplate {
    text_body(&with_rid(errcode, errmsg))
}

fn text_body(value: &Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_raw(value.to_string(), "text/plain")
}
