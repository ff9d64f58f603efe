//! Fixed-window rate limits: "at most N in this window" per key, shared by
//! every instance through Redis (one atomic script), or kept in-process in
//! the embedded default. A limit is advice to protect the officers, not a
//! record: when Redis is unreachable the caller decides whether to fail
//! open (ours do, and log it) rather than refuse every resident.

use crate::QueueError;
use redis::Script;
use redis::aio::ConnectionManager;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What a hit on a limit decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateDecision {
    Allowed {
        remaining: u32,
    },
    /// Over the limit; the window ends after this long.
    Limited {
        retry_after: Duration,
    },
}

#[async_trait::async_trait]
pub trait RateLimiter: Send + Sync {
    /// Count one hit on `key` and say whether it is within `max` per `window`.
    async fn hit(&self, key: &str, max: u32, window: Duration) -> Result<RateDecision, QueueError>;

    /// The hits `key` has in its current window and the time that window
    /// has left, without counting one; `(0, 0)` when it has none.
    async fn peek(&self, key: &str) -> Result<(u64, Duration), QueueError>;
}

pub type SharedLimiter = Arc<dyn RateLimiter>;

/// `{prefix}rl:{key}`: a counter that expires with its window.
pub struct RedisRateLimiter {
    conn: ConnectionManager,
    prefix: Arc<str>,
    script: Script,
}

impl RedisRateLimiter {
    pub fn new(conn: ConnectionManager, key_prefix: impl Into<String>) -> Self {
        // INCR and the first PEXPIRE in one script: a counter can never be
        // left without an expiry (which would limit its key forever).
        let script = Script::new(
            r"
            local n = redis.call('INCR', KEYS[1])
            if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
            local ttl = redis.call('PTTL', KEYS[1])
            if ttl < 0 then
              redis.call('PEXPIRE', KEYS[1], ARGV[1])
              ttl = tonumber(ARGV[1])
            end
            return {n, ttl}
            ",
        );
        RedisRateLimiter {
            conn,
            prefix: Arc::from(key_prefix.into()),
            script,
        }
    }
}

#[async_trait::async_trait]
impl RateLimiter for RedisRateLimiter {
    async fn hit(&self, key: &str, max: u32, window: Duration) -> Result<RateDecision, QueueError> {
        let mut conn = self.conn.clone();
        let (count, ttl_ms): (u64, u64) = self
            .script
            .key(format!("{}rl:{}", self.prefix, key))
            .arg(window.as_millis().max(1) as u64)
            .invoke_async(&mut conn)
            .await?;
        Ok(decide(count, max, Duration::from_millis(ttl_ms)))
    }

    async fn peek(&self, key: &str) -> Result<(u64, Duration), QueueError> {
        let mut conn = self.conn.clone();
        let key = format!("{}rl:{}", self.prefix, key);
        let (count, ttl_ms): (Option<u64>, i64) = redis::pipe()
            .get(&key)
            .pttl(&key)
            .query_async(&mut conn)
            .await?;
        Ok(match count {
            Some(n) if ttl_ms > 0 => (n, Duration::from_millis(ttl_ms as u64)),
            _ => (0, Duration::ZERO),
        })
    }
}

fn decide(count: u64, max: u32, left: Duration) -> RateDecision {
    if count <= u64::from(max) {
        RateDecision::Allowed {
            remaining: (u64::from(max) - count) as u32,
        }
    } else {
        // Whole seconds, rounded up: "Retry-After: 0" would invite a hammer.
        let secs = left.as_millis().div_ceil(1000).max(1) as u64;
        RateDecision::Limited {
            retry_after: Duration::from_secs(secs),
        }
    }
}

/// The embedded default's twin: one process, one map.
#[derive(Default)]
pub struct MemoryRateLimiter {
    windows: Mutex<HashMap<String, (u64, Instant)>>,
}

impl MemoryRateLimiter {
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait::async_trait]
impl RateLimiter for MemoryRateLimiter {
    async fn hit(&self, key: &str, max: u32, window: Duration) -> Result<RateDecision, QueueError> {
        let now = Instant::now();
        let mut windows = self.windows.lock().expect("rate-limit map poisoned");
        // Forget ended windows now and then, so the map stays small.
        if windows.len() > 10_000 {
            windows.retain(|_, (_, ends)| *ends > now);
        }
        let entry = windows.entry(key.to_owned()).or_insert((0, now + window));
        if entry.1 <= now {
            *entry = (0, now + window);
        }
        entry.0 += 1;
        Ok(decide(entry.0, max, entry.1 - now))
    }

    async fn peek(&self, key: &str) -> Result<(u64, Duration), QueueError> {
        let now = Instant::now();
        let windows = self.windows.lock().expect("rate-limit map poisoned");
        Ok(match windows.get(key) {
            Some((n, ends)) if *ends > now => (*n, *ends - now),
            _ => (0, Duration::ZERO),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_memory_limiter_counts_per_key_and_window() {
        let limiter = MemoryRateLimiter::new();
        let window = Duration::from_millis(200);
        for left in (0..3).rev() {
            assert_eq!(
                limiter.hit("a", 3, window).await.unwrap(),
                RateDecision::Allowed { remaining: left }
            );
        }
        match limiter.hit("a", 3, window).await.unwrap() {
            RateDecision::Limited { retry_after } => assert_eq!(retry_after.as_secs(), 1),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            limiter.hit("b", 3, window).await.unwrap(),
            RateDecision::Allowed { remaining: 2 }
        ));
        tokio::time::sleep(Duration::from_millis(250)).await;
        assert!(matches!(
            limiter.hit("a", 3, window).await.unwrap(),
            RateDecision::Allowed { remaining: 2 }
        ));
    }

    #[test]
    fn retry_after_rounds_up_to_whole_seconds() {
        assert_eq!(
            decide(6, 5, Duration::from_millis(1_200)),
            RateDecision::Limited {
                retry_after: Duration::from_secs(2)
            }
        );
        assert_eq!(
            decide(5, 5, Duration::from_secs(30)),
            RateDecision::Allowed { remaining: 0 }
        );
    }
}
