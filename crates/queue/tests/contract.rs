//! Contract tests for every `WorkQueue` backend.
//!
//! Each test is written once as an async fn over a [`Ctx`] and instantiated
//! for `MemoryQueue` and `RedisQueue` by the `contract!` macro at the bottom.
//! Redis tests use `SANSUO_TEST_REDIS_URL` (default `redis://127.0.0.1:6379`),
//! a unique key prefix per test, and delete their keys afterwards (never
//! FLUSHALL: the Redis is shared).

use std::collections::{BTreeSet, HashMap};
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeDelta, Utc};
use futures::FutureExt;
use redis::aio::ConnectionManager;
use sansuo_queue::{Job, MemoryQueue, QueueStats, RedisQueue, SharedQueue, WorkQueue};
use serde_json::json;

const Q: &str = "jobs";
const LONG: Duration = Duration::from_secs(30);

/// What a contract test gets: the queue under test, plus independent handles
/// to the same queues. For Redis each peer has its own connection, like a
/// separate server process; for memory they are clones.
struct Ctx {
    q: SharedQueue,
    peers: Vec<SharedQueue>,
}

fn job(id: &str) -> Job {
    Job {
        id: id.to_owned(),
        kind: "test.kind".to_owned(),
        payload: json!({ "id": id }),
        request_id: Some(format!("req-{id}")),
    }
}

fn job_with(id: &str, payload: serde_json::Value) -> Job {
    Job {
        payload,
        request_id: None,
        ..job(id)
    }
}

fn at(offset_ms: i64) -> DateTime<Utc> {
    Utc::now() + TimeDelta::milliseconds(offset_ms)
}

fn stats(due: u64, scheduled: u64, leased: u64) -> QueueStats {
    QueueStats {
        due,
        scheduled,
        leased,
    }
}

// ---------------------------------------------------------------- contract

async fn enqueue_reserve_ack(Ctx { q, .. }: Ctx) {
    q.enqueue(Q, job("a"), at(0)).await.unwrap();
    let d = q.reserve(Q, LONG).await.unwrap().expect("job is due");
    assert_eq!(d.job, job("a"));
    assert_eq!(d.attempt, 1);
    assert!(
        q.reserve(Q, LONG).await.unwrap().is_none(),
        "a leased job must not be handed out twice"
    );
    assert!(q.ack(Q, &d).await.unwrap());
    assert!(!q.ack(Q, &d).await.unwrap(), "second ack finds nothing");
    assert!(q.reserve(Q, LONG).await.unwrap().is_none());
    assert_eq!(q.stats(Q).await.unwrap(), stats(0, 0, 0));
}

async fn queues_are_separate(Ctx { q, .. }: Ctx) {
    q.enqueue("one", job("a"), at(0)).await.unwrap();
    assert!(q.reserve("two", LONG).await.unwrap().is_none());
    assert_eq!(q.stats("two").await.unwrap(), stats(0, 0, 0));
    let d = q.reserve("one", LONG).await.unwrap().unwrap();
    assert!(!q.ack("two", &d).await.unwrap());
    assert!(q.ack("one", &d).await.unwrap());
}

async fn delayed_job_waits_until_due(Ctx { q, .. }: Ctx) {
    q.enqueue(Q, job("later"), at(600)).await.unwrap();
    assert!(q.reserve(Q, LONG).await.unwrap().is_none(), "not due yet");
    assert_eq!(q.stats(Q).await.unwrap(), stats(0, 1, 0));
    tokio::time::sleep(Duration::from_millis(800)).await;
    let d = q.reserve(Q, LONG).await.unwrap().expect("due by now");
    assert_eq!(d.job.id, "later");
    assert!(q.ack(Q, &d).await.unwrap());
}

async fn earliest_due_first(Ctx { q, .. }: Ctx) {
    q.enqueue(Q, job("c"), at(-1_000)).await.unwrap();
    q.enqueue(Q, job("future"), at(60_000)).await.unwrap();
    q.enqueue(Q, job("a"), at(-3_000)).await.unwrap();
    q.enqueue(Q, job("b"), at(-2_000)).await.unwrap();
    let mut order = Vec::new();
    while let Some(d) = q.reserve(Q, LONG).await.unwrap() {
        order.push(d.job.id.clone());
        assert!(q.ack(Q, &d).await.unwrap());
    }
    assert_eq!(order, ["a", "b", "c"]);
    assert_eq!(q.stats(Q).await.unwrap(), stats(0, 1, 0));
}

async fn dedupe_by_id(Ctx { q, .. }: Ctx) {
    q.enqueue(Q, job_with("x", json!(1)), at(0)).await.unwrap();
    q.enqueue(Q, job_with("x", json!(2)), at(-10))
        .await
        .unwrap();
    assert_eq!(q.stats(Q).await.unwrap(), stats(1, 0, 0));

    // Re-scheduling to later moves the single job, it does not add one.
    q.enqueue(Q, job_with("x", json!(3)), at(60_000))
        .await
        .unwrap();
    assert_eq!(q.stats(Q).await.unwrap(), stats(0, 1, 0));
    assert!(q.reserve(Q, LONG).await.unwrap().is_none());

    // ... and back to now, with the latest body.
    q.enqueue(Q, job_with("x", json!(4)), at(0)).await.unwrap();
    let d = q.reserve(Q, LONG).await.unwrap().unwrap();
    assert_eq!(d.job.payload, json!(4));
    assert!(q.reserve(Q, LONG).await.unwrap().is_none());
    assert!(q.ack(Q, &d).await.unwrap());
    assert_eq!(q.stats(Q).await.unwrap(), stats(0, 0, 0));
}

async fn cancel(Ctx { q, .. }: Ctx) {
    q.enqueue(Q, job("a"), at(0)).await.unwrap();
    q.enqueue(Q, job("b"), at(10)).await.unwrap();
    q.enqueue(Q, job("timer"), at(60_000)).await.unwrap();
    assert!(q.cancel(Q, "a").await.unwrap());
    assert!(!q.cancel(Q, "a").await.unwrap());
    assert!(!q.cancel(Q, "missing").await.unwrap());
    assert!(
        q.cancel(Q, "timer").await.unwrap(),
        "scheduled jobs cancel too"
    );
    tokio::time::sleep(Duration::from_millis(20)).await;
    let d = q.reserve(Q, LONG).await.unwrap().unwrap();
    assert_eq!(d.job.id, "b");
    assert!(
        !q.cancel(Q, "b").await.unwrap(),
        "a leased job is not cancelled"
    );
    assert!(q.ack(Q, &d).await.unwrap(), "its holder still owns it");
    assert_eq!(q.stats(Q).await.unwrap(), stats(0, 0, 0));
    // A cancelled id can be enqueued again and starts over.
    q.enqueue(Q, job("a"), at(0)).await.unwrap();
    let d = q.reserve(Q, LONG).await.unwrap().unwrap();
    assert_eq!((d.job.id.as_str(), d.attempt), ("a", 1));
}

async fn lease_expiry_redelivers(Ctx { q, peers }: Ctx) {
    let (p1, p2) = (&peers[0], &peers[1]);
    q.enqueue(Q, job("a"), at(0)).await.unwrap();
    let d1 = p1
        .reserve(Q, Duration::from_millis(300))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(d1.attempt, 1);
    assert!(
        p2.reserve(Q, LONG).await.unwrap().is_none(),
        "lease still holds"
    );
    tokio::time::sleep(Duration::from_millis(450)).await;
    let d2 = p2.reserve(Q, LONG).await.unwrap().expect("lease expired");
    assert_eq!(d2.job, job("a"));
    assert_eq!(d2.attempt, 2);
    assert!(!p1.ack(Q, &d1).await.unwrap(), "old holder lost the lease");
    assert!(!p1.retry_at(Q, &d1, at(0)).await.unwrap());
    assert!(
        q.reserve(Q, LONG).await.unwrap().is_none(),
        "the old holder's calls changed nothing"
    );
    assert!(p2.ack(Q, &d2).await.unwrap());
    assert_eq!(q.stats(Q).await.unwrap(), stats(0, 0, 0));
}

async fn late_ack_without_redelivery_succeeds(Ctx { q, .. }: Ctx) {
    q.enqueue(Q, job("a"), at(0)).await.unwrap();
    let d = q
        .reserve(Q, Duration::from_millis(50))
        .await
        .unwrap()
        .unwrap();
    tokio::time::sleep(Duration::from_millis(150)).await;
    // Nobody took the job back yet, so the result still counts.
    assert!(q.ack(Q, &d).await.unwrap());
    assert!(q.reserve(Q, LONG).await.unwrap().is_none());
}

async fn retry_at(Ctx { q, .. }: Ctx) {
    q.enqueue(Q, job("a"), at(0)).await.unwrap();
    let d1 = q.reserve(Q, LONG).await.unwrap().unwrap();
    assert!(q.retry_at(Q, &d1, at(400)).await.unwrap());
    assert!(!q.ack(Q, &d1).await.unwrap(), "lease was given back");
    assert!(!q.retry_at(Q, &d1, at(0)).await.unwrap());
    assert!(q.reserve(Q, LONG).await.unwrap().is_none(), "backing off");
    assert_eq!(q.stats(Q).await.unwrap(), stats(0, 1, 0));
    tokio::time::sleep(Duration::from_millis(550)).await;
    let d2 = q.reserve(Q, LONG).await.unwrap().expect("backoff over");
    assert_eq!((d2.job.clone(), d2.attempt), (job("a"), 2));
    assert!(q.retry_at(Q, &d2, at(-1_000)).await.unwrap());
    let d3 = q.reserve(Q, LONG).await.unwrap().expect("due at once");
    assert_eq!(d3.attempt, 3);
    assert!(q.ack(Q, &d3).await.unwrap());
    // Attempts start over once the job is gone.
    q.enqueue(Q, job("a"), at(0)).await.unwrap();
    assert_eq!(q.reserve(Q, LONG).await.unwrap().unwrap().attempt, 1);
}

async fn enqueue_during_lease_is_parked(Ctx { q, peers }: Ctx) {
    // Applied on ack: becomes a fresh job with the new body.
    q.enqueue(Q, job_with("a", json!("v1")), at(0))
        .await
        .unwrap();
    let d1 = q.reserve(Q, LONG).await.unwrap().unwrap();
    peers[0]
        .enqueue(Q, job_with("a", json!("v2")), at(0))
        .await
        .unwrap();
    assert!(
        peers[1].reserve(Q, LONG).await.unwrap().is_none(),
        "never two holders"
    );
    assert_eq!(q.stats(Q).await.unwrap(), stats(0, 0, 1));
    assert!(q.ack(Q, &d1).await.unwrap());
    let d2 = q.reserve(Q, LONG).await.unwrap().expect("parked enqueue");
    assert_eq!((d2.job.payload.clone(), d2.attempt), (json!("v2"), 1));

    // Applied on retry_at: its run_at wins over the holder's.
    q.enqueue(Q, job_with("a", json!("v3")), at(60_000))
        .await
        .unwrap();
    assert!(q.retry_at(Q, &d2, at(0)).await.unwrap());
    assert!(q.reserve(Q, LONG).await.unwrap().is_none());
    assert_eq!(q.stats(Q).await.unwrap(), stats(0, 1, 0));

    // Applied on lease expiry, keeping the attempt count.
    q.enqueue(Q, job_with("b", json!("v1")), at(0))
        .await
        .unwrap();
    let b1 = q
        .reserve(Q, Duration::from_millis(100))
        .await
        .unwrap()
        .unwrap();
    q.enqueue(Q, job_with("b", json!("v2")), at(0))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let b2 = q.reserve(Q, LONG).await.unwrap().unwrap();
    assert_eq!((b2.job.payload.clone(), b2.attempt), (json!("v2"), 2));
    assert!(!q.ack(Q, &b1).await.unwrap());

    // A parked enqueue can be cancelled; the holder keeps its lease.
    q.enqueue(Q, job_with("b", json!("v3")), at(0))
        .await
        .unwrap();
    assert!(q.cancel(Q, "b").await.unwrap());
    assert!(!q.cancel(Q, "b").await.unwrap());
    assert!(q.ack(Q, &b2).await.unwrap());
    assert!(q.reserve(Q, LONG).await.unwrap().is_none());
    assert_eq!(q.stats(Q).await.unwrap(), stats(0, 1, 0));
}

async fn concurrent_reservers_exactly_once(Ctx { q, peers }: Ctx) {
    const JOBS: usize = 200;
    const WORKERS: usize = 8;
    for i in 0..JOBS {
        q.enqueue(Q, job(&format!("j{i:03}")), at(-(i as i64)))
            .await
            .unwrap();
    }
    // All reservers start together, so they really compete for the jobs.
    let start = std::sync::Arc::new(tokio::sync::Barrier::new(WORKERS));
    let workers = (0..WORKERS).map(|w| {
        let q = peers[w % peers.len()].clone();
        let start = start.clone();
        tokio::spawn(async move {
            start.wait().await;
            let mut got = Vec::new();
            while let Some(d) = q.reserve(Q, LONG).await.unwrap() {
                assert_eq!(d.attempt, 1);
                assert!(q.ack(Q, &d).await.unwrap(), "lease of {}", d.job.id);
                got.push(d.job.id);
                // Park briefly so the others get turns even on the in-memory
                // backend under a loaded machine (a yield alone is not enough
                // when the OS runs one worker thread at a time).
                tokio::time::sleep(std::time::Duration::from_micros(300)).await;
            }
            got
        })
    });
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut busy_workers = 0;
    for handle in futures::future::join_all(workers).await {
        let got = handle.unwrap();
        busy_workers += usize::from(!got.is_empty());
        for id in got {
            *seen.entry(id).or_default() += 1;
        }
    }
    let dupes: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();
    assert!(dupes.is_empty(), "delivered twice: {dupes:?}");
    let expected: BTreeSet<String> = (0..JOBS).map(|i| format!("j{i:03}")).collect();
    assert_eq!(seen.keys().cloned().collect::<BTreeSet<_>>(), expected);
    assert!(busy_workers > 1, "the reservers did not actually compete");
    assert_eq!(q.stats(Q).await.unwrap(), stats(0, 0, 0));
}

async fn stats_counts(Ctx { q, .. }: Ctx) {
    assert_eq!(q.stats(Q).await.unwrap(), stats(0, 0, 0));
    for id in ["d1", "d2", "d3"] {
        q.enqueue(Q, job(id), at(-100)).await.unwrap();
    }
    for id in ["s1", "s2"] {
        q.enqueue(Q, job(id), at(60_000)).await.unwrap();
    }
    assert_eq!(q.stats(Q).await.unwrap(), stats(3, 2, 0));
    let held = q.reserve(Q, LONG).await.unwrap().unwrap();
    let short = q
        .reserve(Q, Duration::from_millis(100))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(q.stats(Q).await.unwrap(), stats(1, 2, 2));
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        q.stats(Q).await.unwrap(),
        stats(2, 2, 1),
        "an expired lease counts as due"
    );
    assert!(q.ack(Q, &held).await.unwrap());
    assert!(!q.ack(Q, &short).await.unwrap());
    assert_eq!(q.stats(Q).await.unwrap(), stats(2, 2, 0));
}

async fn wait_wakes_on_local_enqueue(Ctx { q, .. }: Ctx) {
    let producer = q.clone();
    let enqueue = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(200)).await;
        producer.enqueue(Q, job("a"), at(0)).await.unwrap();
    });
    let start = Instant::now();
    q.wait(Q, Duration::from_secs(5)).await.unwrap();
    let waited = start.elapsed();
    enqueue.await.unwrap();
    assert!(
        waited >= Duration::from_millis(150),
        "returned before anything happened: {waited:?}"
    );
    assert!(
        waited < Duration::from_secs(1),
        "not woken by enqueue: {waited:?}"
    );
    assert!(q.reserve(Q, LONG).await.unwrap().is_some());
}

async fn wait_returns_by_next_due(Ctx { q, .. }: Ctx) {
    q.enqueue(Q, job("a"), at(500)).await.unwrap();
    let start = Instant::now();
    q.wait(Q, Duration::from_secs(5)).await.unwrap();
    let waited = start.elapsed();
    assert!(
        waited >= Duration::from_millis(350),
        "returned long before due: {waited:?}"
    );
    assert!(
        waited < Duration::from_millis(1_500),
        "slept past due time: {waited:?}"
    );
    assert!(q.reserve(Q, LONG).await.unwrap().is_some());
}

async fn wait_returns_by_lease_expiry(Ctx { q, .. }: Ctx) {
    q.enqueue(Q, job("a"), at(0)).await.unwrap();
    let _lost = q
        .reserve(Q, Duration::from_millis(400))
        .await
        .unwrap()
        .unwrap();
    let start = Instant::now();
    q.wait(Q, Duration::from_secs(5)).await.unwrap();
    let waited = start.elapsed();
    assert!(waited >= Duration::from_millis(250), "{waited:?}");
    assert!(waited < Duration::from_millis(1_500), "{waited:?}");
    assert_eq!(q.reserve(Q, LONG).await.unwrap().unwrap().attempt, 2);
}

async fn wait_returns_at_once_when_due(Ctx { q, .. }: Ctx) {
    q.enqueue(Q, job("a"), at(-1_000)).await.unwrap();
    let start = Instant::now();
    q.wait(Q, Duration::from_secs(5)).await.unwrap();
    assert!(start.elapsed() < Duration::from_millis(300));
}

async fn wait_times_out_and_ignores_other_queues(Ctx { q, .. }: Ctx) {
    let producer = q.clone();
    let other = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(50)).await;
        producer.enqueue("other", job("a"), at(0)).await.unwrap();
    });
    let start = Instant::now();
    q.wait(Q, Duration::from_millis(400)).await.unwrap();
    let waited = start.elapsed();
    other.await.unwrap();
    assert!(
        waited >= Duration::from_millis(350),
        "woken by another queue or not waiting at all: {waited:?}"
    );
    assert!(waited < Duration::from_millis(1_500), "{waited:?}");
}

async fn ping(Ctx { q, .. }: Ctx) {
    q.ping().await.unwrap();
}

// ----------------------------------------------------------------- harness

const PEERS: usize = 4;

async fn with_memory<F, Fut>(test: F)
where
    F: FnOnce(Ctx) -> Fut,
    Fut: Future<Output = ()>,
{
    let q = MemoryQueue::new();
    let peers = (0..PEERS)
        .map(|_| Arc::new(q.clone()) as SharedQueue)
        .collect();
    test(Ctx {
        q: Arc::new(q),
        peers,
    })
    .await;
}

async fn connect() -> ConnectionManager {
    let url = std::env::var("SANSUO_TEST_REDIS_URL")
        .unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned());
    let client = redis::Client::open(url.as_str()).expect("valid redis url");
    ConnectionManager::new(client)
        .await
        .unwrap_or_else(|e| panic!("cannot connect to test redis at {url}: {e}"))
}

fn unique_prefix() -> String {
    format!("test:{}:", uuid::Uuid::now_v7())
}

async fn keys_under(conn: &mut ConnectionManager, prefix: &str) -> Vec<String> {
    let mut keys = Vec::new();
    let mut cursor: u64 = 0;
    loop {
        let (next, batch): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(format!("{prefix}*"))
            .arg("COUNT")
            .arg(1000)
            .query_async(conn)
            .await
            .unwrap();
        keys.extend(batch);
        if next == 0 {
            break;
        }
        cursor = next;
    }
    keys.sort();
    keys
}

async fn delete_under(conn: &mut ConnectionManager, prefix: &str) {
    let keys = keys_under(conn, prefix).await;
    if !keys.is_empty() {
        let _: i64 = redis::cmd("DEL")
            .arg(&keys)
            .query_async(conn)
            .await
            .unwrap();
    }
}

/// Run `test` against Redis under a fresh prefix and delete the prefix's
/// keys afterwards, also when the test panics.
async fn with_redis_prefix<F, Fut>(test: F)
where
    F: FnOnce(ConnectionManager, String) -> Fut,
    Fut: Future<Output = ()>,
{
    let mut conn = connect().await;
    let prefix = unique_prefix();
    let outcome = AssertUnwindSafe(test(conn.clone(), prefix.clone()))
        .catch_unwind()
        .await;
    delete_under(&mut conn, &prefix).await;
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

async fn with_redis<F, Fut>(test: F)
where
    F: FnOnce(Ctx) -> Fut,
    Fut: Future<Output = ()>,
{
    with_redis_prefix(|conn, prefix| async move {
        let mut peers: Vec<SharedQueue> = Vec::new();
        for _ in 0..PEERS {
            // Own connection each: behaves like another server process.
            peers.push(Arc::new(RedisQueue::new(connect().await, prefix.clone())));
        }
        let q = Arc::new(RedisQueue::new(conn, prefix));
        test(Ctx { q, peers }).await;
    })
    .await;
}

async fn oldest_due_is_the_earliest_due_jobs_wait(Ctx { q, .. }: Ctx) {
    assert_eq!(q.oldest_due(Q).await.unwrap(), None, "an empty queue");
    q.enqueue(Q, job("later"), at(60_000)).await.unwrap();
    assert_eq!(
        q.oldest_due(Q).await.unwrap(),
        None,
        "a scheduled job is not waiting yet"
    );
    q.enqueue(Q, job("new"), at(-1_000)).await.unwrap();
    q.enqueue(Q, job("old"), at(-5_000)).await.unwrap();
    let age = q.oldest_due(Q).await.unwrap().expect("two jobs are due");
    assert!(
        age >= Duration::from_millis(5_000) && age < Duration::from_secs(60),
        "the oldest is 5 s overdue, not {age:?}"
    );
    // Taken by a router, it no longer waits; the next one does.
    let d = q.reserve(Q, LONG).await.unwrap().unwrap();
    assert_eq!(d.job.id, "old");
    let age = q.oldest_due(Q).await.unwrap().expect("one job is due");
    assert!(age >= Duration::from_millis(1_000) && age < Duration::from_millis(5_000));
}

macro_rules! contract {
    ($($name:ident),* $(,)?) => {
        mod memory {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    super::with_memory(super::$name).await;
                }
            )*
        }
        mod redis_backend {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    super::with_redis(super::$name).await;
                }
            )*
        }
    };
}

contract!(
    enqueue_reserve_ack,
    queues_are_separate,
    delayed_job_waits_until_due,
    earliest_due_first,
    dedupe_by_id,
    cancel,
    lease_expiry_redelivers,
    late_ack_without_redelivery_succeeds,
    retry_at,
    enqueue_during_lease_is_parked,
    concurrent_reservers_exactly_once,
    stats_counts,
    oldest_due_is_the_earliest_due_jobs_wait,
    wait_wakes_on_local_enqueue,
    wait_returns_by_next_due,
    wait_returns_by_lease_expiry,
    wait_returns_at_once_when_due,
    wait_times_out_and_ignores_other_queues,
    ping,
);

// ------------------------------------------------------ redis-only checks

/// The key layout documented in the README, and nothing left behind once
/// every job is gone.
#[tokio::test]
async fn redis_key_layout_and_no_residue() {
    with_redis_prefix(|mut conn, prefix| async move {
        let q = RedisQueue::new(conn.clone(), prefix.clone());
        q.enqueue("mail", job("a"), at(0)).await.unwrap();
        q.enqueue("mail", job("b"), at(0)).await.unwrap();
        let a = q.reserve("mail", LONG).await.unwrap().unwrap();
        q.enqueue("mail", job("a"), at(0)).await.unwrap(); // parked
        let expected: Vec<String> = [
            "attempts",
            "due",
            "jobs",
            "leased",
            "parked",
            "parked_at",
            "tokens",
        ]
        .iter()
        .map(|part| format!("{prefix}q:mail:{part}"))
        .collect();
        assert_eq!(keys_under(&mut conn, &prefix).await, expected);

        assert!(q.cancel("mail", "a").await.unwrap());
        assert!(q.ack("mail", &a).await.unwrap());
        assert!(q.cancel("mail", "b").await.unwrap());
        q.enqueue("mail", job("c"), at(0)).await.unwrap();
        let c = q.reserve("mail", LONG).await.unwrap().unwrap();
        assert!(q.retry_at("mail", &c, at(0)).await.unwrap());
        let c = q.reserve("mail", LONG).await.unwrap().unwrap();
        assert!(q.ack("mail", &c).await.unwrap());
        q.stats("mail").await.unwrap();
        q.wait("mail", Duration::from_millis(1)).await.unwrap();
        assert_eq!(keys_under(&mut conn, &prefix).await, Vec::<String>::new());
    })
    .await;
}

/// Redis may lose everything; the queue must cope and accept a rebuild.
#[tokio::test]
async fn redis_data_loss_is_survivable() {
    with_redis_prefix(|mut conn, prefix| async move {
        let q = RedisQueue::new(conn.clone(), prefix.clone());
        q.enqueue(Q, job("a"), at(0)).await.unwrap();
        q.enqueue(Q, job("b"), at(0)).await.unwrap();
        let a = q.reserve(Q, LONG).await.unwrap().unwrap();
        delete_under(&mut conn, &prefix).await;
        // Also forget the scripts, as after a Redis restart.
        let _: () = redis::cmd("SCRIPT")
            .arg("FLUSH")
            .query_async(&mut conn)
            .await
            .unwrap();
        assert!(!q.ack(Q, &a).await.unwrap());
        assert!(q.reserve(Q, LONG).await.unwrap().is_none());
        assert_eq!(q.stats(Q).await.unwrap(), stats(0, 0, 0));
        // The caller rebuilds from its database.
        q.enqueue(Q, job("a"), at(0)).await.unwrap();
        let a = q.reserve(Q, LONG).await.unwrap().unwrap();
        assert_eq!((a.job, a.attempt), (job("a"), 1));
    })
    .await;
}

/// An enqueue made by another process is not signalled locally, but `wait`
/// still returns by `max_wait`, and sees it as due on the next call.
#[tokio::test]
async fn redis_wait_sees_remote_enqueue_after_max_wait() {
    with_redis_prefix(|conn, prefix| async move {
        let local = RedisQueue::new(conn, prefix.clone());
        let remote = RedisQueue::new(connect().await, prefix);
        let start = Instant::now();
        let (waited, ()) = tokio::join!(local.wait(Q, Duration::from_millis(300)), async {
            tokio::time::sleep(Duration::from_millis(50)).await;
            remote.enqueue(Q, job("a"), at(0)).await.unwrap();
        });
        waited.unwrap();
        assert!(start.elapsed() < Duration::from_secs(1));
        let start = Instant::now();
        local.wait(Q, Duration::from_secs(5)).await.unwrap();
        assert!(start.elapsed() < Duration::from_millis(300));
    })
    .await;
}
