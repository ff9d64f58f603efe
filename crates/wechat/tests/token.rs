//! The shared access token: single flight across instances (Redis), early
//! refresh, forced refresh on a rejected token, the daily forced-refresh
//! limit, and stable_token errors.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use common::{client, client_with_cache, config, with_redis};
use sansuo_wechat::{
    CachedToken, CheckScene, ContentVerdict, MemoryTokenCache, TokenCache, TokenCacheError,
    TokenOptions, WechatClient, WechatError,
};
use sansuo_wechat_fake::{FakeWechat, MSG_SEC_CHECK_PATH, STABLE_TOKEN_PATH, SUBSCRIBE_SEND_PATH};
use secrecy::{ExposeSecret, SecretString};

const APP: &str = FakeWechat::APP_ID;

/// One token-authenticated call; passes unless the fake says otherwise.
async fn check(client: &WechatClient) -> Result<ContentVerdict, WechatError> {
    client
        .msg_sec_check("openid-1", CheckScene::Comment, "你好")
        .await
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

#[tokio::test]
async fn two_instances_share_one_token_even_concurrently() {
    with_redis(|redis| async move {
        let fake = FakeWechat::start().await;
        // A slow stable_token widens the race window.
        fake.set_delay(STABLE_TOKEN_PATH, Duration::from_millis(300));
        let a = client_with_cache(&fake, redis.cache().await);
        let b = client_with_cache(&fake, redis.cache().await);

        let calls = (0..10).map(|i| {
            let client = if i % 2 == 0 { a.clone() } else { b.clone() };
            async move { check(&client).await }
        });
        let results = futures::future::join_all(calls).await;

        for result in results {
            assert_eq!(result.unwrap(), ContentVerdict::Pass);
        }
        assert_eq!(fake.stable_token_calls().await, 1);
        let used = fake.access_tokens_used(MSG_SEC_CHECK_PATH).await;
        assert_eq!(used.len(), 10);
        assert!(used.iter().all(|t| t == "fake-token-1"), "{used:?}");

        // A third instance started later reads the token from Redis.
        let c = client_with_cache(&fake, redis.cache().await);
        check(&c).await.unwrap();
        assert_eq!(fake.stable_token_calls().await, 1);

        // The entry is in Redis under the documented key, expiring with the token.
        let keys = redis.keys().await;
        assert_eq!(keys, vec![format!("{}wechat:{APP}:token", redis.prefix)]);
    })
    .await;
}

#[tokio::test]
async fn clones_sharing_a_memory_cache_fetch_once() {
    let fake = FakeWechat::start().await;
    fake.set_delay(STABLE_TOKEN_PATH, Duration::from_millis(200));
    let cache: Arc<dyn TokenCache> = Arc::new(MemoryTokenCache::new());
    let a = client_with_cache(&fake, Arc::clone(&cache));
    let b = client_with_cache(&fake, cache);
    let calls = (0..10).map(|i| {
        let client = if i % 2 == 0 { a.clone() } else { b.clone() };
        async move { check(&client).await }
    });
    for result in futures::future::join_all(calls).await {
        result.unwrap();
    }
    assert_eq!(fake.stable_token_calls().await, 1);
}

#[tokio::test]
async fn separate_memory_caches_do_not_share() {
    // The embedded default: each `WechatClient::new` has its own token.
    let fake = FakeWechat::start().await;
    check(&client(&fake)).await.unwrap();
    check(&client(&fake)).await.unwrap();
    assert_eq!(fake.stable_token_calls().await, 2);
}

#[tokio::test]
async fn fresh_token_is_reused() {
    with_redis(|redis| async move {
        let fake = FakeWechat::start().await;
        let client = client_with_cache(&fake, redis.cache().await);
        for _ in 0..5 {
            check(&client).await.unwrap();
        }
        assert_eq!(fake.stable_token_calls().await, 1);
        let cached = redis.cache().await.load(APP).await.unwrap().unwrap();
        let remaining = cached.expires_at_ms - now_ms();
        assert!((7_190_000..=7_200_000).contains(&remaining), "{remaining}");
        assert_eq!(cached.expires_at_ms - cached.refresh_at_ms, 300_000);
    })
    .await;
}

#[tokio::test]
async fn token_near_expiry_is_refreshed_early() {
    with_redis(|redis| async move {
        let fake = FakeWechat::start().await;
        let cache = redis.cache().await;
        let client = client_with_cache(&fake, cache.clone());
        check(&client).await.unwrap();
        assert_eq!(fake.current_token().as_deref(), Some("fake-token-1"));

        // Two hours pass, less one minute, for WeChat and for the cache.
        fake.age_tokens(Duration::from_secs(7200 - 60));
        let token = cache.load(APP).await.unwrap().unwrap().access_token;
        cache
            .store(
                APP,
                &CachedToken {
                    access_token: token,
                    expires_at_ms: now_ms() + 60_000,
                    refresh_at_ms: now_ms() - 1,
                },
            )
            .await
            .unwrap();

        // Another instance holds the refresh lock: the due but valid token
        // is used as is, without waiting and without calling WeChat.
        assert!(
            cache
                .try_lock(APP, "other-instance", Duration::from_secs(30))
                .await
                .unwrap()
        );
        let started = Instant::now();
        check(&client).await.unwrap();
        assert!(started.elapsed() < Duration::from_secs(1));
        assert_eq!(fake.stable_token_calls().await, 1);
        cache.unlock(APP, "other-instance").await.unwrap();

        // Lock free: this instance refreshes before expiry (normal mode).
        check(&client).await.unwrap();
        assert_eq!(fake.stable_token_calls().await, 2);
        assert_eq!(fake.forced_refresh_calls().await, 0);
        assert_eq!(
            fake.access_tokens_used(MSG_SEC_CHECK_PATH).await,
            ["fake-token-1", "fake-token-1", "fake-token-2"]
        );
        let cached = cache.load(APP).await.unwrap().unwrap();
        assert_eq!(cached.access_token.expose_secret(), "fake-token-2");
        assert!(cached.expires_at_ms - now_ms() > 7_000_000);
        // The lock was released.
        assert!(
            cache
                .try_lock(APP, "probe", Duration::from_secs(1))
                .await
                .unwrap()
        );
    })
    .await;
}

#[tokio::test]
async fn failed_early_refresh_keeps_using_the_valid_token() {
    let fake = FakeWechat::start().await;
    let cache = Arc::new(MemoryTokenCache::new());
    let client = client_with_cache(&fake, cache.clone());
    check(&client).await.unwrap();
    let token = cache.load(APP).await.unwrap().unwrap().access_token;
    cache
        .store(
            APP,
            &CachedToken {
                access_token: token,
                expires_at_ms: now_ms() + 60_000,
                refresh_at_ms: now_ms() - 1,
            },
        )
        .await
        .unwrap();
    fake.fail_next(STABLE_TOKEN_PATH, -1, 1);

    check(&client).await.unwrap();

    assert_eq!(fake.stable_token_calls().await, 2);
    assert_eq!(
        fake.access_tokens_used(MSG_SEC_CHECK_PATH).await,
        ["fake-token-1", "fake-token-1"]
    );
}

#[tokio::test]
async fn rejected_token_forces_one_refresh_and_one_retry() {
    with_redis(|redis| async move {
        let fake = FakeWechat::start().await;
        let client = client_with_cache(&fake, redis.cache().await);
        check(&client).await.unwrap();
        assert_eq!(client.forced_refreshes_today().await.unwrap(), 0);

        fake.fail_next(MSG_SEC_CHECK_PATH, 40001, 1);
        assert_eq!(check(&client).await.unwrap(), ContentVerdict::Pass);

        assert_eq!(fake.stable_token_calls().await, 2);
        assert_eq!(fake.forced_refresh_calls().await, 1);
        assert_eq!(
            fake.access_tokens_used(MSG_SEC_CHECK_PATH).await,
            ["fake-token-1", "fake-token-1", "fake-token-2"]
        );
        assert_eq!(client.forced_refreshes_today().await.unwrap(), 1);
        // The counter is in Redis for every instance to see.
        let other = client_with_cache(&fake, redis.cache().await);
        assert_eq!(other.forced_refreshes_today().await.unwrap(), 1);
        assert!(
            redis
                .keys()
                .await
                .iter()
                .any(|k| k.starts_with(&format!("{}wechat:{APP}:forced:", redis.prefix)))
        );
    })
    .await;
}

#[tokio::test]
async fn expired_and_revoked_tokens_are_replaced() {
    let fake = FakeWechat::start().await;
    let client = client(&fake);
    check(&client).await.unwrap();

    // 42001: WeChat says the token expired (our cache still thought it valid).
    fake.expire_tokens();
    check(&client).await.unwrap();
    // 40001: someone else forced a refresh.
    fake.invalidate_tokens();
    check(&client).await.unwrap();

    assert_eq!(fake.forced_refresh_calls().await, 2);
    assert_eq!(client.forced_refreshes_today().await.unwrap(), 2);
    assert_eq!(
        fake.access_tokens_used(MSG_SEC_CHECK_PATH).await,
        [
            "fake-token-1",
            "fake-token-1",
            "fake-token-2",
            "fake-token-2",
            "fake-token-3"
        ]
    );
}

#[tokio::test]
async fn token_errcode_40014_is_retried_too() {
    let fake = FakeWechat::start().await;
    let client = client(&fake);
    fake.fail_next(SUBSCRIBE_SEND_PATH, 40014, 1);
    client
        .send_subscribe_message(
            &sansuo_wechat::SubscribeMessage::new("openid-1", "tmpl-1").field("thing1", "ok"),
        )
        .await
        .unwrap();
    assert_eq!(fake.forced_refresh_calls().await, 1);
    assert_eq!(fake.subscribe_sends().await.len(), 2);
}

#[tokio::test]
async fn second_rejection_is_token_expired_without_more_retries() {
    let fake = FakeWechat::start().await;
    let client = client(&fake);
    fake.fail_next(MSG_SEC_CHECK_PATH, 40001, 2);

    let err = check(&client).await.unwrap_err();

    assert!(matches!(err, WechatError::TokenExpired), "{err:?}");
    assert!(err.is_retryable());
    assert_eq!(fake.calls(MSG_SEC_CHECK_PATH).await, 2);
    assert_eq!(fake.forced_refresh_calls().await, 1);
}

#[tokio::test]
async fn concurrent_rejections_force_a_single_refresh() {
    with_redis(|redis| async move {
        let fake = FakeWechat::start().await;
        let a = client_with_cache(&fake, redis.cache().await);
        let b = client_with_cache(&fake, redis.cache().await);
        check(&a).await.unwrap();
        fake.invalidate_tokens();
        fake.set_delay(STABLE_TOKEN_PATH, Duration::from_millis(200));

        let calls = (0..10).map(|i| {
            let client = if i % 2 == 0 { a.clone() } else { b.clone() };
            async move { check(&client).await }
        });
        for result in futures::future::join_all(calls).await {
            result.unwrap();
        }

        assert_eq!(fake.forced_refresh_calls().await, 1);
        assert_eq!(a.forced_refreshes_today().await.unwrap(), 1);
    })
    .await;
}

#[tokio::test]
async fn forced_refresh_limit_is_enforced_across_instances() {
    with_redis(|redis| async move {
        let fake = FakeWechat::start().await;
        let options = TokenOptions {
            forced_refresh_limit: 2,
            ..TokenOptions::default()
        };
        let a = client_with_cache(&fake, redis.cache().await).token_options(options.clone());
        let b = client_with_cache(&fake, redis.cache().await).token_options(options);
        check(&a).await.unwrap();

        for client in [&a, &b] {
            fake.invalidate_tokens();
            check(client).await.unwrap();
        }
        assert_eq!(fake.forced_refresh_calls().await, 2);
        assert_eq!(b.forced_refreshes_today().await.unwrap(), 2);

        fake.invalidate_tokens();
        let err = check(&a).await.unwrap_err();
        assert!(
            matches!(err, WechatError::ForcedRefreshLimit { limit: 2 }),
            "{err:?}"
        );
        assert!(!err.is_retryable());
        // Refused before calling WeChat; the call was not retried.
        assert_eq!(fake.forced_refresh_calls().await, 2);
        assert_eq!(a.forced_refreshes_today().await.unwrap(), 2);
    })
    .await;
}

#[tokio::test]
async fn a_waiting_instance_takes_over_from_a_dead_lock_holder() {
    with_redis(|redis| async move {
        let fake = FakeWechat::start().await;
        let cache = redis.cache().await;
        // A crashed instance left the lock behind, with a short TTL. The
        // clock starts before the lock is taken: whatever the machine's
        // load, nobody may refresh before the lock expires (a lower bound
        // that cannot flake, unlike timing from after the lock was set).
        let started = Instant::now();
        assert!(
            cache
                .try_lock(APP, "crashed", Duration::from_millis(400))
                .await
                .unwrap()
        );
        let client = client_with_cache(&fake, cache);
        check(&client).await.unwrap();
        assert!(started.elapsed() >= Duration::from_millis(390));
        assert_eq!(fake.stable_token_calls().await, 1);
    })
    .await;
}

#[tokio::test]
async fn waiting_for_a_lock_that_is_never_released_gives_up() {
    let fake = FakeWechat::start().await;
    let cache = Arc::new(MemoryTokenCache::new());
    assert!(
        cache
            .try_lock(APP, "stuck", Duration::from_secs(60))
            .await
            .unwrap()
    );
    let client = WechatClient::with_token_cache(
        config(
            fake.base_url(),
            FakeWechat::APP_SECRET,
            Duration::from_millis(200),
        ),
        cache,
    )
    .unwrap()
    .token_options(TokenOptions {
        lock_ttl: Duration::from_millis(500),
        ..TokenOptions::default()
    });

    let started = Instant::now();
    let err = check(&client).await.unwrap_err();

    // lock TTL (at least timeout + 1 s = 1.2 s) + 1 s.
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(2000) && waited < Duration::from_secs(5),
        "{waited:?}"
    );
    assert!(matches!(err, WechatError::Unavailable(_)), "{err:?}");
    assert!(err.is_retryable());
    assert_eq!(fake.stable_token_calls().await, 0);
}

#[tokio::test]
async fn stable_token_errors_map_without_leaking_the_secret() {
    let fake = FakeWechat::start().await;
    let client =
        WechatClient::new(config(fake.base_url(), "wrong-secret-xyz", common::TIMEOUT)).unwrap();
    let err = check(&client).await.unwrap_err();
    assert!(
        matches!(err, WechatError::Api { errcode: 40125, .. }),
        "{err:?}"
    );
    let shown = format!("{err} {err:?}");
    assert!(!shown.contains("wrong-secret-xyz"), "{shown}");
    // No token, no API call.
    assert_eq!(fake.calls(MSG_SEC_CHECK_PATH).await, 0);

    let client = common::client(&fake);
    fake.fail_next(STABLE_TOKEN_PATH, -1, 1);
    let err = check(&client).await.unwrap_err();
    assert!(matches!(err, WechatError::Busy), "{err:?}");
    assert!(err.is_retryable());
    fake.fail_next(STABLE_TOKEN_PATH, 45011, 1);
    let err = check(&client).await.unwrap_err();
    assert!(matches!(err, WechatError::RateLimited), "{err:?}");
    // The next call gets a token: failures are not cached.
    check(&client).await.unwrap();
}

#[tokio::test]
async fn rate_limit_and_busy_on_a_call_are_not_retried_here() {
    let fake = FakeWechat::start().await;
    let client = client(&fake);
    let message =
        sansuo_wechat::SubscribeMessage::new("openid-1", "tmpl-1").field("thing1", "hello");

    fake.fail_next(SUBSCRIBE_SEND_PATH, 45011, 1);
    let err = client.send_subscribe_message(&message).await.unwrap_err();
    assert!(matches!(err, WechatError::RateLimited), "{err:?}");
    assert!(!err.is_retryable());

    fake.fail_next(SUBSCRIBE_SEND_PATH, -1, 1);
    let err = client.send_subscribe_message(&message).await.unwrap_err();
    assert!(matches!(err, WechatError::Busy), "{err:?}");
    assert!(err.is_retryable());

    // One request each: only token errors are retried inside the client.
    assert_eq!(fake.subscribe_sends().await.len(), 2);
    assert_eq!(fake.forced_refresh_calls().await, 0);
    client.send_subscribe_message(&message).await.unwrap();
}

/// A cache whose backend is down.
struct BrokenCache;

#[async_trait]
impl TokenCache for BrokenCache {
    async fn load(&self, _: &str) -> Result<Option<CachedToken>, TokenCacheError> {
        Err(TokenCacheError::new("redis: connection failed"))
    }
    async fn store(&self, _: &str, _: &CachedToken) -> Result<(), TokenCacheError> {
        Err(TokenCacheError::new("redis: connection failed"))
    }
    async fn try_lock(&self, _: &str, _: &str, _: Duration) -> Result<bool, TokenCacheError> {
        Err(TokenCacheError::new("redis: connection failed"))
    }
    async fn unlock(&self, _: &str, _: &str) -> Result<(), TokenCacheError> {
        Err(TokenCacheError::new("redis: connection failed"))
    }
    async fn count_forced_refresh(
        &self,
        _: &str,
        _: &str,
        _: u32,
    ) -> Result<Option<u32>, TokenCacheError> {
        Err(TokenCacheError::new("redis: connection failed"))
    }
    async fn forced_refreshes(&self, _: &str, _: &str) -> Result<u32, TokenCacheError> {
        Err(TokenCacheError::new("redis: connection failed"))
    }
}

#[tokio::test]
async fn cache_failure_is_a_retryable_error() {
    let fake = FakeWechat::start().await;
    let client = client_with_cache(&fake, Arc::new(BrokenCache));
    let err = check(&client).await.unwrap_err();
    assert!(matches!(err, WechatError::TokenCache(_)), "{err:?}");
    assert!(err.is_retryable());
    assert_eq!(fake.stable_token_calls().await, 0);
}

#[tokio::test]
async fn redis_entry_holds_the_token_until_it_expires() {
    with_redis(|redis| async move {
        let cache = redis.cache().await;
        let token = CachedToken {
            access_token: SecretString::from("tok-1"),
            expires_at_ms: now_ms() + 300,
            refresh_at_ms: now_ms() + 100,
        };
        cache.store(APP, &token).await.unwrap();
        let loaded = redis.cache().await.load(APP).await.unwrap().unwrap();
        assert_eq!(loaded.access_token.expose_secret(), "tok-1");
        assert_eq!(loaded.refresh_at_ms, token.refresh_at_ms);
        tokio::time::sleep(Duration::from_millis(400)).await;
        assert!(cache.load(APP).await.unwrap().is_none());
        // Redis expired the key itself.
        assert!(redis.keys().await.is_empty());
    })
    .await;
}

#[tokio::test]
async fn redis_lock_and_counter_semantics() {
    with_redis(|redis| async move {
        let a = redis.cache().await;
        let b = redis.cache().await;
        assert!(a.try_lock(APP, "a", Duration::from_secs(5)).await.unwrap());
        assert!(!b.try_lock(APP, "b", Duration::from_secs(5)).await.unwrap());
        b.unlock(APP, "b").await.unwrap(); // not the owner: no effect
        assert!(!b.try_lock(APP, "b", Duration::from_secs(5)).await.unwrap());
        a.unlock(APP, "a").await.unwrap();
        assert!(b.try_lock(APP, "b", Duration::from_secs(5)).await.unwrap());

        assert_eq!(
            a.count_forced_refresh(APP, "20240301", 2).await.unwrap(),
            Some(1)
        );
        assert_eq!(
            b.count_forced_refresh(APP, "20240301", 2).await.unwrap(),
            Some(2)
        );
        assert_eq!(
            a.count_forced_refresh(APP, "20240301", 2).await.unwrap(),
            None
        );
        assert_eq!(b.forced_refreshes(APP, "20240301").await.unwrap(), 2);
        assert_eq!(b.forced_refreshes(APP, "20240302").await.unwrap(), 0);
    })
    .await;
}
