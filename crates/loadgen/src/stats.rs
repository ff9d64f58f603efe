//! Latency histograms and outcome counts.
//!
//! Latencies are kept in an HDR histogram in microseconds (1 µs to 5 min,
//! three significant digits), so p99 and max are exact to 0.1 % whatever
//! the rate, and merging per-operation histograms costs nothing.

use hdrhistogram::Histogram;
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

const MAX_MICROS: u64 = 300_000_000;

/// What one request came to: an HTTP status, or a transport failure.
#[derive(Debug, Clone)]
pub enum Outcome {
    Status(u16),
    Transport(&'static str),
}

impl Outcome {
    pub fn is_success(&self) -> bool {
        matches!(self, Outcome::Status(s) if (200..300).contains(s))
    }

    fn label(&self) -> String {
        match self {
            Outcome::Status(s) => s.to_string(),
            Outcome::Transport(kind) => format!("transport:{kind}"),
        }
    }
}

impl From<&reqwest::Error> for Outcome {
    fn from(err: &reqwest::Error) -> Self {
        Outcome::Transport(if err.is_timeout() {
            "timeout"
        } else if err.is_connect() {
            "connect"
        } else if err.is_body() || err.is_decode() {
            "body"
        } else {
            "other"
        })
    }
}

/// One operation's latencies and outcomes.
#[derive(Clone)]
pub struct OpStats {
    pub latency: Histogram<u64>,
    pub outcomes: BTreeMap<String, u64>,
}

impl Default for OpStats {
    fn default() -> Self {
        Self {
            latency: Histogram::new_with_bounds(1, MAX_MICROS, 3).expect("valid histogram bounds"),
            outcomes: BTreeMap::new(),
        }
    }
}

impl OpStats {
    fn record(&mut self, outcome: &Outcome, latency: Duration) {
        let micros = (latency.as_micros() as u64).clamp(1, MAX_MICROS);
        self.latency.saturating_record(micros);
        *self.outcomes.entry(outcome.label()).or_default() += 1;
    }

    fn merge(&mut self, other: &OpStats) {
        self.latency
            .add(&other.latency)
            .expect("histograms share bounds");
        for (k, v) in &other.outcomes {
            *self.outcomes.entry(k.clone()).or_default() += v;
        }
    }

    pub fn summary(&self, elapsed: Duration) -> OpSummary {
        let count = self.latency.len();
        let ms = |micros: u64| micros as f64 / 1000.0;
        let errors: BTreeMap<String, u64> = self
            .outcomes
            .iter()
            .filter(|(k, _)| !k.starts_with('2'))
            .map(|(k, v)| (k.clone(), *v))
            .collect();
        OpSummary {
            requests: count,
            rps: count as f64 / elapsed.as_secs_f64().max(1e-9),
            latency_ms: LatencySummary {
                p50: ms(self.latency.value_at_quantile(0.50)),
                p90: ms(self.latency.value_at_quantile(0.90)),
                p99: ms(self.latency.value_at_quantile(0.99)),
                p999: ms(self.latency.value_at_quantile(0.999)),
                max: ms(self.latency.max()),
                mean: self.latency.mean() / 1000.0,
            },
            error_count: errors.values().sum(),
            errors,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct LatencySummary {
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub p999: f64,
    pub max: f64,
    pub mean: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct OpSummary {
    pub requests: u64,
    pub rps: f64,
    pub latency_ms: LatencySummary,
    /// Non-2xx responses by status, and transport failures (`transport:timeout`, ...).
    pub errors: BTreeMap<String, u64>,
    pub error_count: u64,
}

/// Shared by every task of a run. One mutex is plenty: a record is a few
/// hundred nanoseconds and the load generator runs on one or two threads.
#[derive(Default)]
pub struct Recorder {
    ops: Mutex<BTreeMap<&'static str, OpStats>>,
}

impl Recorder {
    pub fn record(&self, op: &'static str, outcome: &Outcome, latency: Duration) {
        self.ops
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(op)
            .or_default()
            .record(outcome, latency);
    }

    /// Every operation merged, and each on its own.
    pub fn snapshot(&self) -> (OpStats, BTreeMap<&'static str, OpStats>) {
        let ops = self.ops.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let mut total = OpStats::default();
        for stats in ops.values() {
            total.merge(stats);
        }
        (total, ops)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_and_errors_are_summarised() {
        let recorder = Recorder::default();
        for ms in 1..=100u64 {
            recorder.record("a", &Outcome::Status(201), Duration::from_millis(ms));
        }
        recorder.record("b", &Outcome::Status(503), Duration::from_millis(500));
        recorder.record("b", &Outcome::Transport("timeout"), Duration::from_secs(30));
        let (total, ops) = recorder.snapshot();
        let a = ops["a"].summary(Duration::from_secs(10));
        assert_eq!(a.requests, 100);
        assert!((a.rps - 10.0).abs() < 1e-9);
        assert!((a.latency_ms.p50 - 50.0).abs() < 0.1, "{:?}", a.latency_ms);
        assert!((a.latency_ms.p99 - 99.0).abs() < 0.1, "{:?}", a.latency_ms);
        assert_eq!(a.error_count, 0);
        let all = total.summary(Duration::from_secs(1));
        assert_eq!(all.requests, 102);
        assert_eq!(all.errors["503"], 1);
        assert_eq!(all.errors["transport:timeout"], 1);
        assert!(all.latency_ms.max >= 29_999.0);
    }
}
