//! The access token (`POST /cgi-bin/stable_token`), shared by every server
//! instance through a [`TokenCache`].
//!
//! # Protocol
//!
//! The cache holds one [`CachedToken`] per app: the token, when it expires
//! and when it should be refreshed (by default 5 minutes before expiry).
//!
//! * **Read.** A token before its `refresh_at` is used as is: one cache read
//!   per API call, no call to WeChat.
//! * **Refresh (single flight).** A missing, expired or due token is
//!   refreshed by whichever instance wins the refresh lock
//!   ([`TokenCache::try_lock`], Redis `SET key owner NX PX ttl`). The winner
//!   re-reads the cache (another winner may just have stored a token), calls
//!   `stable_token` with `force_refresh: false`, stores the token and
//!   releases the lock (compare-and-delete on its owner id). A loser whose
//!   token is due but still valid keeps using it; a loser without a valid
//!   token polls the cache every 25 ms until a token appears, taking the lock
//!   itself if it becomes free (the winner died: the lock expires after its
//!   TTL), and gives up after the lock TTL plus one second with a retryable
//!   [`WechatError::Unavailable`].
//! * **Forced refresh.** When WeChat rejects a token (40001 / 42001 / 40014),
//!   the caller asks for a forced refresh *of that token*. If the cache
//!   already holds a different token (another instance refreshed it), that
//!   one is used. Otherwise, under the same lock, one forced refresh is
//!   counted for the day (Beijing time) in the cache (atomically refused at
//!   [`TokenOptions::forced_refresh_limit`] → [`WechatError::ForcedRefreshLimit`])
//!   and `stable_token` is called with `force_refresh: true`.
//!
//! If a refresh of a due-but-valid token fails, the old token is used until
//! it expires. The token and the secret are never logged.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, LazyLock, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use chrono::{DateTime, FixedOffset};
use redis::Script;
use redis::aio::ConnectionManager;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use crate::WechatClient;
use crate::error::{WechatError, sanitize_errmsg};
use crate::http::{MAX_JSON_BODY_BYTES, parse_json};

/// Path of the stable access-token API.
pub(crate) const STABLE_TOKEN_PATH: &str = "/cgi-bin/stable_token";

/// How often a waiting instance re-reads the cache.
const POLL_INTERVAL: Duration = Duration::from_millis(25);

/// If WeChat hands out a token that is already within the refresh margin,
/// wait at least this long (or half its remaining life) before refreshing
/// again, so instances do not call WeChat on every API call.
const MIN_REFRESH_INTERVAL_MS: i64 = 30_000;

/// WeChat's day (for the forced-refresh quota) is Beijing time.
const BEIJING_OFFSET_SECS: i32 = 8 * 3600;

/// How the client keeps its access token.
#[derive(Clone, Debug)]
pub struct TokenOptions {
    /// Refresh a token this long before it expires (default 5 minutes).
    pub refresh_margin: Duration,
    /// Forced refreshes allowed per day (Beijing time) for the app, counted
    /// in the cache across instances (default 10; WeChat allows 20).
    pub forced_refresh_limit: u32,
    /// How long the refresh lock is held at most (default 10 s; always at
    /// least the HTTP timeout plus one second). Waiting instances give up
    /// after this plus one second.
    pub lock_ttl: Duration,
}

impl Default for TokenOptions {
    fn default() -> Self {
        Self {
            refresh_margin: Duration::from_secs(300),
            forced_refresh_limit: 10,
            lock_ttl: Duration::from_secs(10),
        }
    }
}

/// A token as the cache stores it. Times are Unix milliseconds (wall clock).
/// `Debug` does not print the token.
#[derive(Clone, Debug)]
pub struct CachedToken {
    pub access_token: SecretString,
    /// When WeChat stops accepting the token.
    pub expires_at_ms: i64,
    /// When an instance should start refreshing it (before `expires_at_ms`).
    pub refresh_at_ms: i64,
}

impl CachedToken {
    fn is_valid(&self, now_ms: i64) -> bool {
        now_ms < self.expires_at_ms
    }
    fn is_fresh(&self, now_ms: i64) -> bool {
        now_ms < self.refresh_at_ms && self.is_valid(now_ms)
    }
}

/// The token cache failed (e.g. Redis unreachable). The message never
/// contains the token.
#[derive(thiserror::Error, Debug, Clone)]
#[error("{0}")]
pub struct TokenCacheError(String);

impl TokenCacheError {
    pub fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }
}

impl From<redis::RedisError> for TokenCacheError {
    fn from(e: redis::RedisError) -> Self {
        // Only the kind: Redis messages can echo arguments.
        let what = if e.is_timeout() {
            "timeout".to_owned()
        } else if e.is_connection_dropped() || e.is_connection_refusal() {
            "connection failed".to_owned()
        } else {
            format!("{:?}", e.kind())
        };
        Self(format!("redis: {what}"))
    }
}

/// Where the access token lives, shared by every instance that uses the same
/// cache: [`RedisTokenCache`] across servers, [`MemoryTokenCache`] within one
/// process. Every operation is atomic on its own; [`WechatClient`] builds the
/// single-flight protocol (see the module docs) on top.
#[async_trait]
pub trait TokenCache: Send + Sync {
    /// The stored token of `app_id`, if any and not expired.
    async fn load(&self, app_id: &str) -> Result<Option<CachedToken>, TokenCacheError>;
    /// Store `token` for `app_id` (replacing any) until it expires.
    async fn store(&self, app_id: &str, token: &CachedToken) -> Result<(), TokenCacheError>;
    /// Take the refresh lock of `app_id` for `ttl` if nobody holds it.
    async fn try_lock(
        &self,
        app_id: &str,
        owner: &str,
        ttl: Duration,
    ) -> Result<bool, TokenCacheError>;
    /// Release the lock if `owner` still holds it.
    async fn unlock(&self, app_id: &str, owner: &str) -> Result<(), TokenCacheError>;
    /// Count one forced refresh on `day` unless `limit` are counted already:
    /// the new count, or `None` at the limit.
    async fn count_forced_refresh(
        &self,
        app_id: &str,
        day: &str,
        limit: u32,
    ) -> Result<Option<u32>, TokenCacheError>;
    /// Forced refreshes counted on `day`.
    async fn forced_refreshes(&self, app_id: &str, day: &str) -> Result<u32, TokenCacheError>;
}

/// An in-process [`TokenCache`], for a single instance (the embedded
/// default of [`WechatClient::new`]). Share one `Arc` between clients to
/// share the token.
#[derive(Default)]
pub struct MemoryTokenCache {
    state: Mutex<MemoryState>,
}

#[derive(Default)]
struct MemoryState {
    tokens: HashMap<String, CachedToken>,
    locks: HashMap<String, (String, Instant)>,
    forced: HashMap<(String, String), u32>,
}

impl MemoryTokenCache {
    pub fn new() -> Self {
        Self::default()
    }

    fn state(&self) -> std::sync::MutexGuard<'_, MemoryState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl fmt::Debug for MemoryTokenCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryTokenCache").finish_non_exhaustive()
    }
}

#[async_trait]
impl TokenCache for MemoryTokenCache {
    async fn load(&self, app_id: &str) -> Result<Option<CachedToken>, TokenCacheError> {
        let now = now_ms();
        Ok(self
            .state()
            .tokens
            .get(app_id)
            .filter(|t| t.is_valid(now))
            .cloned())
    }

    async fn store(&self, app_id: &str, token: &CachedToken) -> Result<(), TokenCacheError> {
        self.state().tokens.insert(app_id.to_owned(), token.clone());
        Ok(())
    }

    async fn try_lock(
        &self,
        app_id: &str,
        owner: &str,
        ttl: Duration,
    ) -> Result<bool, TokenCacheError> {
        let now = Instant::now();
        let mut state = self.state();
        if let Some((_, until)) = state.locks.get(app_id)
            && *until > now
        {
            return Ok(false);
        }
        state
            .locks
            .insert(app_id.to_owned(), (owner.to_owned(), now + ttl));
        Ok(true)
    }

    async fn unlock(&self, app_id: &str, owner: &str) -> Result<(), TokenCacheError> {
        let mut state = self.state();
        if state.locks.get(app_id).is_some_and(|(o, _)| o == owner) {
            state.locks.remove(app_id);
        }
        Ok(())
    }

    async fn count_forced_refresh(
        &self,
        app_id: &str,
        day: &str,
        limit: u32,
    ) -> Result<Option<u32>, TokenCacheError> {
        let mut state = self.state();
        // Forget other days.
        state.forced.retain(|(_, d), _| d == day);
        let count = state
            .forced
            .entry((app_id.to_owned(), day.to_owned()))
            .or_insert(0);
        if *count >= limit {
            return Ok(None);
        }
        *count += 1;
        Ok(Some(*count))
    }

    async fn forced_refreshes(&self, app_id: &str, day: &str) -> Result<u32, TokenCacheError> {
        Ok(self
            .state()
            .forced
            .get(&(app_id.to_owned(), day.to_owned()))
            .copied()
            .unwrap_or(0))
    }
}

/// A [`TokenCache`] in Redis, shared by every server instance.
///
/// Keys (all start with the key prefix):
///
/// | key                                 | type   | content                                        | expiry |
/// |-------------------------------------|--------|------------------------------------------------|--------|
/// | `{prefix}wechat:{appid}:token`      | STRING | JSON `{access_token, expires_at_ms, refresh_at_ms}` | at the token's expiry |
/// | `{prefix}wechat:{appid}:token_lock` | STRING | random owner id of the refreshing instance     | lock TTL |
/// | `{prefix}wechat:{appid}:forced:{yyyymmdd}` | STRING | forced refreshes that day (Beijing time) | 2 days |
#[derive(Clone)]
pub struct RedisTokenCache {
    conn: ConnectionManager,
    prefix: Arc<str>,
}

impl fmt::Debug for RedisTokenCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisTokenCache")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

/// Delete the lock only if we still own it. ARGV: owner.
static UNLOCK: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r#"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"#,
    )
});

/// Count a forced refresh unless at the limit. ARGV: limit, ttl seconds.
static COUNT_FORCED: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r#"
local n = tonumber(redis.call('GET', KEYS[1]) or '0')
if n >= tonumber(ARGV[1]) then
  return -1
end
n = redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], ARGV[2])
return n
"#,
    )
});

/// Keep the day counter a little longer than the day.
const FORCED_COUNTER_TTL_SECS: u64 = 2 * 24 * 3600;

#[derive(Serialize, Deserialize)]
struct StoredToken {
    access_token: String,
    expires_at_ms: i64,
    refresh_at_ms: i64,
}

impl RedisTokenCache {
    /// Use `conn`; every key starts with `key_prefix` (e.g. `"sansuo:"`, or
    /// `"test:<uuid>:"` to isolate a test).
    pub fn new(conn: ConnectionManager, key_prefix: impl Into<String>) -> Self {
        Self {
            conn,
            prefix: Arc::from(key_prefix.into()),
        }
    }

    fn key(&self, app_id: &str, part: &str) -> String {
        format!("{}wechat:{}:{}", self.prefix, app_id, part)
    }
}

#[async_trait]
impl TokenCache for RedisTokenCache {
    async fn load(&self, app_id: &str) -> Result<Option<CachedToken>, TokenCacheError> {
        let raw: Option<String> = redis::cmd("GET")
            .arg(self.key(app_id, "token"))
            .query_async(&mut self.conn.clone())
            .await?;
        let Some(raw) = raw else { return Ok(None) };
        let Ok(stored) = serde_json::from_str::<StoredToken>(&raw) else {
            // Overwritten by the next refresh.
            tracing::warn!("undecodable access token entry in the cache; ignoring it");
            return Ok(None);
        };
        let token = CachedToken {
            access_token: SecretString::from(stored.access_token),
            expires_at_ms: stored.expires_at_ms,
            refresh_at_ms: stored.refresh_at_ms,
        };
        Ok(token.is_valid(now_ms()).then_some(token))
    }

    async fn store(&self, app_id: &str, token: &CachedToken) -> Result<(), TokenCacheError> {
        let ttl_ms = (token.expires_at_ms - now_ms()).max(1);
        let value = serde_json::to_string(&StoredToken {
            access_token: token.access_token.expose_secret().to_owned(),
            expires_at_ms: token.expires_at_ms,
            refresh_at_ms: token.refresh_at_ms,
        })
        .map_err(|_| TokenCacheError::new("cannot encode token entry"))?;
        let () = redis::cmd("SET")
            .arg(self.key(app_id, "token"))
            .arg(value)
            .arg("PX")
            .arg(ttl_ms)
            .query_async(&mut self.conn.clone())
            .await?;
        Ok(())
    }

    async fn try_lock(
        &self,
        app_id: &str,
        owner: &str,
        ttl: Duration,
    ) -> Result<bool, TokenCacheError> {
        let ttl_ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1);
        let set: Option<String> = redis::cmd("SET")
            .arg(self.key(app_id, "token_lock"))
            .arg(owner)
            .arg("NX")
            .arg("PX")
            .arg(ttl_ms)
            .query_async(&mut self.conn.clone())
            .await?;
        Ok(set.is_some())
    }

    async fn unlock(&self, app_id: &str, owner: &str) -> Result<(), TokenCacheError> {
        let _: i64 = UNLOCK
            .key(self.key(app_id, "token_lock"))
            .arg(owner)
            .invoke_async(&mut self.conn.clone())
            .await?;
        Ok(())
    }

    async fn count_forced_refresh(
        &self,
        app_id: &str,
        day: &str,
        limit: u32,
    ) -> Result<Option<u32>, TokenCacheError> {
        let n: i64 = COUNT_FORCED
            .key(self.key(app_id, &format!("forced:{day}")))
            .arg(limit)
            .arg(FORCED_COUNTER_TTL_SECS)
            .invoke_async(&mut self.conn.clone())
            .await?;
        Ok(u32::try_from(n).ok())
    }

    async fn forced_refreshes(&self, app_id: &str, day: &str) -> Result<u32, TokenCacheError> {
        let n: Option<u32> = redis::cmd("GET")
            .arg(self.key(app_id, &format!("forced:{day}")))
            .query_async(&mut self.conn.clone())
            .await?;
        Ok(n.unwrap_or(0))
    }
}

/// The `stable_token` body. Deliberately not `Debug`: it holds the token.
#[derive(Deserialize)]
struct StableTokenBody {
    #[serde(default)]
    errcode: Option<i64>,
    #[serde(default)]
    errmsg: Option<String>,
    #[serde(default)]
    access_token: Option<String>,
    #[serde(default)]
    expires_in: Option<i64>,
}

/// Unix milliseconds, wall clock (shared between instances through the
/// cache).
pub(crate) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// The WeChat day (Beijing time) of `now_ms`, as `yyyymmdd`.
pub(crate) fn wechat_day(now_ms: i64) -> String {
    let offset = FixedOffset::east_opt(BEIJING_OFFSET_SECS).expect("valid offset");
    DateTime::from_timestamp_millis(now_ms)
        .unwrap_or_default()
        .with_timezone(&offset)
        .format("%Y%m%d")
        .to_string()
}

/// When to refresh a token that expires at `expires_at_ms`.
fn refresh_at(now_ms: i64, expires_at_ms: i64, margin: Duration) -> i64 {
    let margin_ms = i64::try_from(margin.as_millis()).unwrap_or(i64::MAX);
    let early = expires_at_ms.saturating_sub(margin_ms);
    let remaining = expires_at_ms - now_ms;
    early.max(now_ms + MIN_REFRESH_INTERVAL_MS.min(remaining / 2))
}

fn new_owner() -> String {
    format!(
        "{:016x}{:016x}",
        rand::random::<u64>(),
        rand::random::<u64>()
    )
}

impl WechatClient {
    fn lock_ttl(&self) -> Duration {
        self.token_options
            .lock_ttl
            .max(self.timeout + Duration::from_secs(1))
    }

    /// How many forced refreshes the shared cache counted today (Beijing
    /// time) for this app.
    pub async fn forced_refreshes_today(&self) -> Result<u32, WechatError> {
        Ok(self
            .token_cache
            .forced_refreshes(&self.app_id, &wechat_day(now_ms()))
            .await?)
    }

    /// The shared access token, refreshed if due (single flight).
    pub(crate) async fn access_token(&self) -> Result<SecretString, WechatError> {
        let cache = &self.token_cache;
        let deadline = Instant::now() + self.lock_ttl() + Duration::from_secs(1);
        loop {
            let cached = cache.load(&self.app_id).await?;
            let now = now_ms();
            if let Some(token) = &cached
                && token.is_fresh(now)
            {
                return Ok(token.access_token.clone());
            }
            let owner = new_owner();
            if cache
                .try_lock(&self.app_id, &owner, self.lock_ttl())
                .await?
            {
                let result = self.refresh_locked(cached).await;
                self.unlock(&owner).await;
                return result;
            }
            if let Some(token) = cached {
                // Due but valid; another instance is refreshing it.
                return Ok(token.access_token);
            }
            if Instant::now() >= deadline {
                tracing::warn!("gave up waiting for another instance to refresh the access token");
                return Err(WechatError::Unavailable(
                    "timed out waiting for the access token refresh".to_owned(),
                ));
            }
            tokio::time::sleep(POLL_INTERVAL).await;
        }
    }

    /// Holding the lock: refresh unless someone just did. `due` is what the
    /// cache held before the lock was taken.
    async fn refresh_locked(&self, due: Option<CachedToken>) -> Result<SecretString, WechatError> {
        if let Some(token) = self.token_cache.load(&self.app_id).await?
            && token.is_fresh(now_ms())
        {
            return Ok(token.access_token);
        }
        match self.fetch_and_store(false).await {
            Ok(token) => Ok(token),
            Err(e) => match due.filter(|t| t.is_valid(now_ms())) {
                Some(old) => {
                    tracing::warn!(error = %e, "early access token refresh failed; using the current token");
                    Ok(old.access_token)
                }
                None => Err(e),
            },
        }
    }

    /// WeChat rejected `rejected`: get a new token, by a forced refresh
    /// unless another instance already replaced it (single flight, counted
    /// against the daily limit).
    pub(crate) async fn force_refresh_token(
        &self,
        rejected: &SecretString,
    ) -> Result<SecretString, WechatError> {
        let cache = &self.token_cache;
        let deadline = Instant::now() + self.lock_ttl() + Duration::from_secs(1);
        let replaced = |cached: Option<CachedToken>| {
            cached
                .filter(|t| t.access_token.expose_secret() != rejected.expose_secret())
                .map(|t| t.access_token)
        };
        loop {
            if let Some(token) = replaced(cache.load(&self.app_id).await?) {
                return Ok(token);
            }
            let owner = new_owner();
            if cache
                .try_lock(&self.app_id, &owner, self.lock_ttl())
                .await?
            {
                let result = async {
                    if let Some(token) = replaced(cache.load(&self.app_id).await?) {
                        return Ok(token);
                    }
                    let limit = self.token_options.forced_refresh_limit;
                    let day = wechat_day(now_ms());
                    let Some(count) = cache
                        .count_forced_refresh(&self.app_id, &day, limit)
                        .await?
                    else {
                        tracing::error!(
                            limit,
                            "forced access token refresh refused: daily limit reached"
                        );
                        return Err(WechatError::ForcedRefreshLimit { limit });
                    };
                    tracing::info!(count, limit, "forcing an access token refresh");
                    self.fetch_and_store(true).await
                }
                .await;
                self.unlock(&owner).await;
                return result;
            }
            if Instant::now() >= deadline {
                tracing::warn!("gave up waiting for another instance to refresh the access token");
                return Err(WechatError::Unavailable(
                    "timed out waiting for the access token refresh".to_owned(),
                ));
            }
            tokio::time::sleep(POLL_INTERVAL).await;
        }
    }

    async fn unlock(&self, owner: &str) {
        if let Err(e) = self.token_cache.unlock(&self.app_id, owner).await {
            // The lock expires by itself.
            tracing::warn!(error = %e, "cannot release the access token refresh lock");
        }
    }

    /// Call `stable_token` and store the token in the cache.
    async fn fetch_and_store(&self, force_refresh: bool) -> Result<SecretString, WechatError> {
        let path = STABLE_TOKEN_PATH;
        let secret = self.app_secret.expose_secret();
        let request =
            self.http
                .post(format!("{}{}", self.base_url, path))
                .json(&serde_json::json!({
                    "grant_type": "client_credential",
                    "appid": self.app_id,
                    "secret": secret,
                    "force_refresh": force_refresh,
                }));
        let (_, body) = self.send(path, request, MAX_JSON_BODY_BYTES).await?;
        let parsed: StableTokenBody = parse_json(path, &body)?;
        let errcode = parsed.errcode.unwrap_or(0);
        if errcode != 0 {
            tracing::warn!(
                path,
                errcode,
                force_refresh,
                "WeChat refused an access token"
            );
            let errmsg = sanitize_errmsg(parsed.errmsg.unwrap_or_default(), &[secret]);
            return Err(WechatError::from_errcode(errcode, errmsg));
        }
        let token = parsed
            .access_token
            .filter(|t| !t.is_empty())
            .ok_or_else(|| WechatError::BadResponse("missing access_token".to_owned()))?;
        let expires_in = parsed
            .expires_in
            .filter(|s| *s > 0)
            .ok_or_else(|| WechatError::BadResponse("missing expires_in".to_owned()))?;
        let now = now_ms();
        let expires_at_ms = now + expires_in.saturating_mul(1000);
        let cached = CachedToken {
            access_token: SecretString::from(token),
            expires_at_ms,
            refresh_at_ms: refresh_at(now, expires_at_ms, self.token_options.refresh_margin),
        };
        self.token_cache.store(&self.app_id, &cached).await?;
        tracing::debug!(path, expires_in, force_refresh, "stored a new access token");
        Ok(cached.access_token)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refresh_is_early_by_the_margin() {
        let now = 1_000_000;
        let expires = now + 7_200_000;
        assert_eq!(
            refresh_at(now, expires, Duration::from_secs(300)),
            expires - 300_000
        );
    }

    #[test]
    fn short_lived_tokens_are_not_refreshed_on_every_call() {
        let now = 1_000_000;
        // Already within the margin: wait 30 s, or half its life if shorter.
        assert_eq!(
            refresh_at(now, now + 200_000, Duration::from_secs(300)),
            now + 30_000
        );
        assert_eq!(
            refresh_at(now, now + 20_000, Duration::from_secs(300)),
            now + 10_000
        );
    }

    #[test]
    fn wechat_day_is_beijing_time() {
        // 2024-03-01T15:59:59Z is 23:59:59 in Beijing; a second later it is
        // the 2nd there.
        let ms = 1_709_308_799_000;
        assert_eq!(wechat_day(ms), "20240301");
        assert_eq!(wechat_day(ms + 1000), "20240302");
    }

    #[tokio::test]
    async fn memory_cache_lock_is_exclusive_until_released_or_expired() {
        let cache = MemoryTokenCache::new();
        assert!(
            cache
                .try_lock("a", "o1", Duration::from_secs(5))
                .await
                .unwrap()
        );
        assert!(
            !cache
                .try_lock("a", "o2", Duration::from_secs(5))
                .await
                .unwrap()
        );
        // Other apps are independent.
        assert!(
            cache
                .try_lock("b", "o2", Duration::from_secs(5))
                .await
                .unwrap()
        );
        // Only the owner releases.
        cache.unlock("a", "o2").await.unwrap();
        assert!(
            !cache
                .try_lock("a", "o2", Duration::from_secs(5))
                .await
                .unwrap()
        );
        cache.unlock("a", "o1").await.unwrap();
        assert!(
            cache
                .try_lock("a", "o2", Duration::from_millis(1))
                .await
                .unwrap()
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
        assert!(
            cache
                .try_lock("a", "o3", Duration::from_secs(5))
                .await
                .unwrap()
        );
    }

    #[tokio::test]
    async fn memory_cache_counts_forced_refreshes_up_to_the_limit() {
        let cache = MemoryTokenCache::new();
        assert_eq!(
            cache.count_forced_refresh("a", "d1", 2).await.unwrap(),
            Some(1)
        );
        assert_eq!(
            cache.count_forced_refresh("a", "d1", 2).await.unwrap(),
            Some(2)
        );
        assert_eq!(
            cache.count_forced_refresh("a", "d1", 2).await.unwrap(),
            None
        );
        assert_eq!(cache.forced_refreshes("a", "d1").await.unwrap(), 2);
        assert_eq!(cache.forced_refreshes("b", "d1").await.unwrap(), 0);
        // A new day starts from zero.
        assert_eq!(
            cache.count_forced_refresh("a", "d2", 2).await.unwrap(),
            Some(1)
        );
    }

    #[tokio::test]
    async fn memory_cache_drops_expired_tokens() {
        let cache = MemoryTokenCache::new();
        let now = now_ms();
        let token = |expires_at_ms| CachedToken {
            access_token: SecretString::from("t"),
            expires_at_ms,
            refresh_at_ms: expires_at_ms,
        };
        cache.store("a", &token(now - 1)).await.unwrap();
        assert!(cache.load("a").await.unwrap().is_none());
        cache.store("a", &token(now + 60_000)).await.unwrap();
        assert!(cache.load("a").await.unwrap().is_some());
    }

    #[test]
    fn cached_token_debug_hides_the_token() {
        let token = CachedToken {
            access_token: SecretString::from("tok-very-secret"),
            expires_at_ms: 1,
            refresh_at_ms: 1,
        };
        assert!(!format!("{token:?}").contains("tok-very-secret"));
    }
}
