//! Redis backend: one Lua script per operation, so every state change is
//! atomic even with many processes consuming the same queue.
//!
//! Key layout (per queue; see also the crate README):
//!
//! | key                             | type | content                              |
//! |---------------------------------|------|--------------------------------------|
//! | `{prefix}q:{queue}:due`         | ZSET | waiting job id → run_at (ms)         |
//! | `{prefix}q:{queue}:leased`      | ZSET | leased job id → lease expiry (ms)    |
//! | `{prefix}q:{queue}:jobs`        | HASH | job id → job JSON                    |
//! | `{prefix}q:{queue}:attempts`    | HASH | job id → deliveries so far           |
//! | `{prefix}q:{queue}:tokens`      | HASH | job id → token of the current lease  |
//! | `{prefix}q:{queue}:parked`      | HASH | job id → job JSON enqueued during lease |
//! | `{prefix}q:{queue}:parked_at`   | HASH | job id → run_at (ms) of that enqueue |
//!
//! Clock: scripts read "now" from the Redis server (`TIME`), so lease expiry
//! is judged by one clock no matter how skewed the app servers' clocks are.
//! run_at values come from the callers' clocks (they are usually derived
//! from database timestamps anyway); NTP-level skew only shifts when a
//! delayed job becomes due by that much. Redis >= 5 replicates scripts by
//! effects, so calling `TIME` before writing is allowed.

use std::sync::{Arc, LazyLock};
use std::time::Duration;

use chrono::{DateTime, Utc};
use redis::aio::ConnectionManager;
use redis::{Script, ScriptInvocation};

use crate::{
    Delivery, Job, Notifiers, QueueError, QueueStats, WorkQueue, lease_ms, run_at_ms, until,
};

/// Prelude shared by all scripts. Every script gets the same seven KEYS, in
/// the order of [`RedisQueue::invocation`].
const PRELUDE: &str = r#"
local due, leased, jobs, attempts, tokens, parked, parked_at =
  KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7]

local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- End a lease: back to waiting at run_at, unless an enqueue was parked
-- behind the lease, which then decides body and run_at.
local function release(id, run_at)
  redis.call('ZREM', leased, id)
  redis.call('HDEL', tokens, id)
  local body = redis.call('HGET', parked, id)
  if body then
    run_at = redis.call('HGET', parked_at, id)
    redis.call('HSET', jobs, id, body)
    redis.call('HDEL', parked, id)
    redis.call('HDEL', parked_at, id)
  end
  redis.call('ZADD', due, run_at, id)
end

-- Take back leases that expired (they become due at their expiry time and
-- keep their attempt count). Bounded per call to keep scripts short; the
-- rest is taken back by the next call.
local function reclaim(now)
  local expired = redis.call('ZRANGEBYSCORE', leased, '-inf', now, 'WITHSCORES', 'LIMIT', 0, 1000)
  for i = 1, #expired, 2 do
    release(expired[i], expired[i + 1])
  end
end

-- Is the lease (id, token) still the current one?
local function holds(id, token)
  return redis.call('ZSCORE', leased, id) and redis.call('HGET', tokens, id) == token
end
"#;

fn script(body: &str) -> Script {
    Script::new(&format!("{PRELUDE}\n{body}"))
}

/// ARGV: id, job JSON, run_at ms.
static ENQUEUE: LazyLock<Script> = LazyLock::new(|| {
    script(
        r#"
local id, body, run_at = ARGV[1], ARGV[2], ARGV[3]
if redis.call('ZSCORE', leased, id) then
  redis.call('HSET', parked, id, body)
  redis.call('HSET', parked_at, id, run_at)
else
  redis.call('HSET', jobs, id, body)
  redis.call('ZADD', due, run_at, id)
end
return 1
"#,
    )
});

/// ARGV: lease ms, token. Returns nil or {job JSON, attempt}.
static RESERVE: LazyLock<Script> = LazyLock::new(|| {
    script(
        r#"
local lease_ms, token = tonumber(ARGV[1]), ARGV[2]
local now = now_ms()
reclaim(now)
-- A few rounds in case ids without a body turn up (partial data loss).
for _ = 1, 16 do
  local id = redis.call('ZRANGEBYSCORE', due, '-inf', now, 'LIMIT', 0, 1)[1]
  if not id then return false end
  redis.call('ZREM', due, id)
  local body = redis.call('HGET', jobs, id)
  if body then
    redis.call('ZADD', leased, now + lease_ms, id)
    redis.call('HSET', tokens, id, token)
    return {body, redis.call('HINCRBY', attempts, id, 1)}
  end
  redis.call('HDEL', attempts, id)
  redis.call('HDEL', tokens, id)
end
return false
"#,
    )
});

/// ARGV: id, token. Returns 1 if acked, 0 if the lease was lost.
static ACK: LazyLock<Script> = LazyLock::new(|| {
    script(
        r#"
local id, token = ARGV[1], ARGV[2]
if not holds(id, token) then return 0 end
redis.call('HDEL', attempts, id)
if redis.call('HEXISTS', parked, id) == 1 then
  -- the parked enqueue becomes a fresh job
  release(id, 0)
else
  redis.call('ZREM', leased, id)
  redis.call('HDEL', tokens, id)
  redis.call('HDEL', jobs, id)
end
return 1
"#,
    )
});

/// ARGV: id, token, run_at ms. Returns 1 if rescheduled, 0 if lease lost.
static RETRY_AT: LazyLock<Script> = LazyLock::new(|| {
    script(
        r#"
local id, token, run_at = ARGV[1], ARGV[2], ARGV[3]
if not holds(id, token) then return 0 end
release(id, run_at)
return 1
"#,
    )
});

/// ARGV: id. Returns 1 if a waiting job (or a parked enqueue) was removed.
static CANCEL: LazyLock<Script> = LazyLock::new(|| {
    script(
        r#"
local id = ARGV[1]
if redis.call('ZSCORE', leased, id) then
  redis.call('HDEL', parked_at, id)
  return redis.call('HDEL', parked, id)
end
if redis.call('ZREM', due, id) == 1 then
  redis.call('HDEL', jobs, id)
  redis.call('HDEL', attempts, id)
  redis.call('HDEL', tokens, id)
  return 1
end
return 0
"#,
    )
});

/// Returns {due, scheduled, leased}. Takes back expired leases first so they
/// are counted as due.
static STATS: LazyLock<Script> = LazyLock::new(|| {
    script(
        r#"
local now = now_ms()
reclaim(now)
return {
  redis.call('ZCOUNT', due, '-inf', now),
  redis.call('ZCOUNT', due, '(' .. now, '+inf'),
  redis.call('ZCARD', leased),
}
"#,
    )
});

/// Returns how many ms the earliest due job has been due, or -1 if none.
/// Takes back expired leases first (due from their expiry).
static OLDEST_DUE: LazyLock<Script> = LazyLock::new(|| {
    script(
        r#"
local now = now_ms()
reclaim(now)
local head = redis.call('ZRANGEBYSCORE', due, '-inf', now, 'WITHSCORES', 'LIMIT', 0, 1)
if head[2] then return now - tonumber(head[2]) end
return -1
"#,
    )
});

/// Returns {now} or {now, earliest of next run_at and next lease expiry},
/// both by the server clock so the client can compute a skew-free delay.
static NEXT_DUE: LazyLock<Script> = LazyLock::new(|| {
    script(
        r#"
local now = now_ms()
local best = false
for _, key in ipairs({due, leased}) do
  local head = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
  if head[2] then
    local score = tonumber(head[2])
    if not best or score < best then best = score end
  end
end
if best then return {now, best} end
return {now}
"#,
    )
});

/// Redis-backed [`WorkQueue`] shared by all server processes.
///
/// Cloning is cheap; clones share the connection and the in-process wake-up
/// signals used by [`WorkQueue::wait`]. The multiplexed connection is never
/// blocked (no BLPOP): `wait` sleeps locally instead.
#[derive(Clone)]
pub struct RedisQueue {
    conn: ConnectionManager,
    prefix: Arc<str>,
    notifiers: Arc<Notifiers>,
}

impl RedisQueue {
    /// Use `conn` for all queues; every key starts with `key_prefix` (e.g.
    /// `"sansuo:"`, or `"test:<uuid>:"` to isolate a test).
    pub fn new(conn: ConnectionManager, key_prefix: impl Into<String>) -> Self {
        Self {
            conn,
            prefix: Arc::from(key_prefix.into()),
            notifiers: Arc::default(),
        }
    }

    /// A script call with the queue's keys as KEYS[1..7], in the order the
    /// prelude expects.
    fn invocation<'a>(&self, script: &'a Script, queue: &str) -> ScriptInvocation<'a> {
        let mut inv = script.prepare_invoke();
        for part in [
            "due",
            "leased",
            "jobs",
            "attempts",
            "tokens",
            "parked",
            "parked_at",
        ] {
            inv.key(format!("{}q:{}:{}", self.prefix, queue, part));
        }
        inv
    }
}

#[async_trait::async_trait]
impl WorkQueue for RedisQueue {
    async fn enqueue(
        &self,
        queue: &str,
        job: Job,
        run_at: DateTime<Utc>,
    ) -> Result<(), QueueError> {
        let body = serde_json::to_string(&job)?;
        let _: i64 = self
            .invocation(&ENQUEUE, queue)
            .arg(&job.id)
            .arg(body)
            .arg(run_at_ms(run_at))
            .invoke_async(&mut self.conn.clone())
            .await?;
        self.notifiers.notify(queue);
        Ok(())
    }

    async fn reserve(&self, queue: &str, lease: Duration) -> Result<Option<Delivery>, QueueError> {
        // Tokens only need to be unique; v7 has 74 random bits.
        let token = uuid::Uuid::now_v7().to_string();
        let got: Option<(String, i64)> = self
            .invocation(&RESERVE, queue)
            .arg(lease_ms(lease))
            .arg(&token)
            .invoke_async(&mut self.conn.clone())
            .await?;
        let Some((body, attempt)) = got else {
            return Ok(None);
        };
        let job: Job = serde_json::from_str(&body).inspect_err(|e| {
            // Stays leased and comes back after the lease; only a bug or an
            // incompatible writer can cause this.
            tracing::error!(queue, error = %e, "undecodable job in redis queue");
        })?;
        let attempt = u32::try_from(attempt).unwrap_or(u32::MAX);
        Ok(Some(Delivery::new(job, attempt, token)))
    }

    async fn ack(&self, queue: &str, delivery: &Delivery) -> Result<bool, QueueError> {
        let acked: i64 = self
            .invocation(&ACK, queue)
            .arg(&delivery.job.id)
            .arg(delivery.token())
            .invoke_async(&mut self.conn.clone())
            .await?;
        if acked == 1 {
            // A parked enqueue may just have become due.
            self.notifiers.notify(queue);
        }
        Ok(acked == 1)
    }

    async fn retry_at(
        &self,
        queue: &str,
        delivery: &Delivery,
        run_at: DateTime<Utc>,
    ) -> Result<bool, QueueError> {
        let done: i64 = self
            .invocation(&RETRY_AT, queue)
            .arg(&delivery.job.id)
            .arg(delivery.token())
            .arg(run_at_ms(run_at))
            .invoke_async(&mut self.conn.clone())
            .await?;
        if done == 1 {
            self.notifiers.notify(queue);
        }
        Ok(done == 1)
    }

    async fn cancel(&self, queue: &str, job_id: &str) -> Result<bool, QueueError> {
        let removed: i64 = self
            .invocation(&CANCEL, queue)
            .arg(job_id)
            .invoke_async(&mut self.conn.clone())
            .await?;
        Ok(removed == 1)
    }

    async fn wait(&self, queue: &str, max_wait: Duration) -> Result<(), QueueError> {
        let until_due = async {
            let times: Vec<i64> = self
                .invocation(&NEXT_DUE, queue)
                .invoke_async(&mut self.conn.clone())
                .await?;
            Ok(match times[..] {
                [now, next] => Some(until(now, next)),
                _ => None,
            })
        };
        self.notifiers.wait(queue, max_wait, until_due).await
    }

    async fn stats(&self, queue: &str) -> Result<QueueStats, QueueError> {
        let (due, scheduled, leased): (u64, u64, u64) = self
            .invocation(&STATS, queue)
            .invoke_async(&mut self.conn.clone())
            .await?;
        Ok(QueueStats {
            due,
            scheduled,
            leased,
        })
    }

    async fn oldest_due(&self, queue: &str) -> Result<Option<Duration>, QueueError> {
        let ms: i64 = self
            .invocation(&OLDEST_DUE, queue)
            .invoke_async(&mut self.conn.clone())
            .await?;
        Ok(u64::try_from(ms).ok().map(Duration::from_millis))
    }

    async fn ping(&self) -> Result<(), QueueError> {
        let _: String = redis::cmd("PING")
            .query_async(&mut self.conn.clone())
            .await?;
        Ok(())
    }

    async fn needs_rebuild(&self) -> Result<bool, QueueError> {
        let present: bool = redis::cmd("EXISTS")
            .arg(self.rebuilt_key())
            .query_async(&mut self.conn.clone())
            .await?;
        Ok(!present)
    }

    async fn mark_rebuilt(&self) -> Result<(), QueueError> {
        let _: () = redis::cmd("SET")
            .arg(self.rebuilt_key())
            .arg(Utc::now().to_rfc3339())
            .query_async(&mut self.conn.clone())
            .await?;
        Ok(())
    }

    async fn claim_rebuild(&self, lease: Duration) -> Result<bool, QueueError> {
        let taken: Option<String> = redis::cmd("SET")
            .arg(self.rebuild_lease_key())
            .arg(Utc::now().to_rfc3339())
            .arg("NX")
            .arg("PX")
            .arg(lease_ms(lease))
            .query_async(&mut self.conn.clone())
            .await?;
        Ok(taken.is_some())
    }
}

impl RedisQueue {
    /// Held by the instance rebuilding the queues (`SET NX PX`).
    fn rebuild_lease_key(&self) -> String {
        format!("{}rebuild_lease", self.prefix)
    }

    /// Present while Redis still holds what the reconciler last rebuilt.
    fn rebuilt_key(&self) -> String {
        format!("{}rebuilt_at", self.prefix)
    }
}
