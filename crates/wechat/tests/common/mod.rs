//! Shared test helpers: clients against the fake, and Redis with a unique
//! key prefix per test whose keys are deleted afterwards (never FLUSHALL:
//! the Redis is shared).

#![allow(dead_code)] // each test binary uses a different subset

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures::FutureExt;
use redis::aio::ConnectionManager;
use sansuo_wechat::{RedisTokenCache, TokenCache, WechatClient, WechatConfig};
use sansuo_wechat_fake::FakeWechat;
use secrecy::SecretString;

pub const TIMEOUT: Duration = Duration::from_secs(5);

pub fn config(base_url: String, secret: &str, timeout: Duration) -> WechatConfig {
    WechatConfig {
        base_url,
        app_id: FakeWechat::APP_ID.to_owned(),
        app_secret: SecretString::from(secret),
        timeout,
    }
}

/// A client with its own in-memory token cache.
pub fn client(fake: &FakeWechat) -> WechatClient {
    WechatClient::new(config(fake.base_url(), FakeWechat::APP_SECRET, TIMEOUT)).unwrap()
}

/// A client sharing its token through `cache`.
pub fn client_with_cache(fake: &FakeWechat, cache: Arc<dyn TokenCache>) -> WechatClient {
    WechatClient::with_token_cache(
        config(fake.base_url(), FakeWechat::APP_SECRET, TIMEOUT),
        cache,
    )
    .unwrap()
}

pub fn redis_url() -> String {
    std::env::var("SANSUO_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

/// A Redis key prefix of one test.
pub struct RedisCtx {
    pub prefix: String,
}

impl RedisCtx {
    /// A token cache on its own connection, like a separate server process.
    pub async fn cache(&self) -> Arc<RedisTokenCache> {
        Arc::new(RedisTokenCache::new(connect().await, self.prefix.clone()))
    }

    /// The keys this test created.
    pub async fn keys(&self) -> Vec<String> {
        scan(&mut connect().await, &format!("{}*", self.prefix)).await
    }
}

async fn connect() -> ConnectionManager {
    let client = redis::Client::open(redis_url()).expect("valid redis url");
    ConnectionManager::new(client)
        .await
        .expect("Redis is running (SANSUO_TEST_REDIS_URL, default redis://127.0.0.1:6379)")
}

async fn scan(conn: &mut ConnectionManager, pattern: &str) -> Vec<String> {
    let mut keys = Vec::new();
    let mut cursor: u64 = 0;
    loop {
        let (next, batch): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(pattern)
            .arg("COUNT")
            .arg(1000)
            .query_async(conn)
            .await
            .unwrap();
        keys.extend(batch);
        if next == 0 {
            return keys;
        }
        cursor = next;
    }
}

/// Run `test` with a fresh key prefix; delete the prefix's keys afterwards,
/// even when the test panics.
pub async fn with_redis<F, Fut>(test: F)
where
    F: FnOnce(Arc<RedisCtx>) -> Fut,
    Fut: Future<Output = ()>,
{
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let ctx = Arc::new(RedisCtx {
        prefix: format!(
            "test:wechat:{}:{nanos}:{}:",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ),
    });
    let outcome = AssertUnwindSafe(test(Arc::clone(&ctx)))
        .catch_unwind()
        .await;
    let mut conn = connect().await;
    let keys = scan(&mut conn, &format!("{}*", ctx.prefix)).await;
    if !keys.is_empty() {
        let _: i64 = redis::cmd("DEL")
            .arg(&keys)
            .query_async(&mut conn)
            .await
            .unwrap();
    }
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}
