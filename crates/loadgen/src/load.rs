//! The load driver: open loop at a fixed rate, or closed loop with N
//! connections at full speed.
//!
//! Open loop is what phones do: they submit when residents press the button,
//! whether or not the server kept up with the previous ones. Each request is
//! scheduled at `start + i / rate` and its latency is measured from that
//! scheduled moment, not from when it was actually sent, so a stalled server
//! (or a stalled client) shows up in the percentiles instead of silently
//! lowering the offered load ("coordinated omission").

use crate::stats::{OpStats, OpSummary, Outcome, Recorder};
use futures::future::BoxFuture;
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::Semaphore;
use tokio::time::Instant;

/// More requests than this outstanding at once means the server is far
/// past saturation; further ones are counted as `client:overloaded`
/// instead of opening thousands of sockets.
const MAX_IN_FLIGHT: usize = 4096;

#[derive(Debug, Clone, Copy, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Pace {
    /// Open loop: this many requests per second.
    Rate(f64),
    /// Closed loop: this many connections, each sending its next request
    /// as soon as the previous answer arrived.
    Concurrency(usize),
    /// Closed loop until `total` requests were sent: a burst as fast as
    /// `connections` clients can send it (the duration is ignored).
    Burst { connections: usize, total: u64 },
}

impl std::fmt::Display for Pace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Pace::Rate(r) => write!(f, "{r}/s"),
            Pace::Concurrency(c) => write!(f, "c={c}"),
            Pace::Burst { connections, .. } => write!(f, "c={connections}"),
        }
    }
}

/// One request's name (for the per-operation breakdown) and outcome.
pub struct Sample {
    pub op: &'static str,
    pub outcome: Outcome,
}

/// An operation: given a sequence number, send one request and say how it went.
pub type Op = Arc<dyn Fn(u64) -> BoxFuture<'static, Sample> + Send + Sync>;

pub struct RunResult {
    pub pace: Pace,
    pub elapsed: Duration,
    pub total: OpStats,
    pub per_op: BTreeMap<&'static str, OpStats>,
}

impl RunResult {
    pub fn summary(&self) -> OpSummary {
        self.total.summary(self.elapsed)
    }

    pub fn per_op_summary(&self) -> BTreeMap<String, OpSummary> {
        self.per_op
            .iter()
            .map(|(k, v)| (k.to_string(), v.summary(self.elapsed)))
            .collect()
    }
}

pub async fn drive(pace: Pace, duration: Duration, op: Op) -> RunResult {
    let recorder = Arc::new(Recorder::default());
    let start = Instant::now();
    match pace {
        Pace::Rate(rate) => open_loop(rate, duration, op, recorder.clone()).await,
        Pace::Concurrency(n) => closed_loop(n, duration, op, recorder.clone()).await,
        Pace::Burst { connections, total } => burst(connections, total, op, recorder.clone()).await,
    }
    let elapsed = start.elapsed();
    let (total, per_op) = recorder.snapshot();
    RunResult {
        pace,
        elapsed,
        total,
        per_op,
    }
}

async fn open_loop(rate: f64, duration: Duration, op: Op, recorder: Arc<Recorder>) {
    let slots = Arc::new(Semaphore::new(MAX_IN_FLIGHT));
    let start = Instant::now();
    let total = (rate * duration.as_secs_f64()).round() as u64;
    for seq in 0..total {
        let scheduled = start + Duration::from_secs_f64(seq as f64 / rate);
        // Late (the client thread was busy)? Send at once: the latency is
        // still measured from `scheduled`.
        tokio::time::sleep_until(scheduled).await;
        let Ok(permit) = slots.clone().try_acquire_owned() else {
            recorder.record(
                "overloaded",
                &Outcome::Transport("client_overloaded"),
                scheduled.elapsed(),
            );
            continue;
        };
        let op = op.clone();
        let recorder = recorder.clone();
        tokio::spawn(async move {
            let sample = op(seq).await;
            recorder.record(sample.op, &sample.outcome, scheduled.elapsed());
            drop(permit);
        });
    }
    // Wait for the stragglers: every permit back means nothing in flight.
    let _ = slots.acquire_many(MAX_IN_FLIGHT as u32).await;
}

async fn closed_loop(connections: usize, duration: Duration, op: Op, recorder: Arc<Recorder>) {
    let deadline = Instant::now() + duration;
    let seq = Arc::new(AtomicU64::new(0));
    let workers: Vec<_> = (0..connections)
        .map(|_| {
            let (op, recorder, seq) = (op.clone(), recorder.clone(), seq.clone());
            tokio::spawn(async move {
                while Instant::now() < deadline {
                    let started = Instant::now();
                    let sample = op(seq.fetch_add(1, Ordering::Relaxed)).await;
                    recorder.record(sample.op, &sample.outcome, started.elapsed());
                }
            })
        })
        .collect();
    for worker in workers {
        let _ = worker.await;
    }
}

async fn burst(connections: usize, total: u64, op: Op, recorder: Arc<Recorder>) {
    let seq = Arc::new(AtomicU64::new(0));
    let workers: Vec<_> = (0..connections.max(1))
        .map(|_| {
            let (op, recorder, seq) = (op.clone(), recorder.clone(), seq.clone());
            tokio::spawn(async move {
                loop {
                    let n = seq.fetch_add(1, Ordering::Relaxed);
                    if n >= total {
                        break;
                    }
                    let started = Instant::now();
                    let sample = op(n).await;
                    recorder.record(sample.op, &sample.outcome, started.elapsed());
                }
            })
        })
        .collect();
    for worker in workers {
        let _ = worker.await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::FutureExt;

    fn sleepy(ms: u64) -> Op {
        Arc::new(move |_| {
            async move {
                tokio::time::sleep(Duration::from_millis(ms)).await;
                Sample {
                    op: "sleep",
                    outcome: Outcome::Status(200),
                }
            }
            .boxed()
        })
    }

    #[tokio::test]
    async fn open_loop_sends_the_scheduled_number() {
        let result = drive(Pace::Rate(200.0), Duration::from_millis(500), sleepy(5)).await;
        assert_eq!(result.summary().requests, 100);
        assert!(result.summary().latency_ms.p50 >= 5.0);
    }

    #[tokio::test]
    async fn a_burst_sends_exactly_its_total() {
        let pace = Pace::Burst {
            connections: 4,
            total: 30,
        };
        let result = drive(pace, Duration::ZERO, sleepy(1)).await;
        assert_eq!(result.summary().requests, 30);
    }

    #[tokio::test]
    async fn closed_loop_keeps_n_in_flight() {
        let result = drive(Pace::Concurrency(4), Duration::from_millis(300), sleepy(10)).await;
        let n = result.summary().requests;
        // 4 connections x ~30 rounds of 10 ms, minus timer slack.
        assert!((60..=130).contains(&n), "{n}");
    }
}
