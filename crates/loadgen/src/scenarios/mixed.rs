//! Monday morning: residents reading their consultations, lawyers reading
//! their boards, new submissions, and lawyers acting on their work.
//!
//! | share | what |
//! |---|---|
//! | 35 % | resident lists their consultations |
//! | 15 % | resident opens one of their consultations |
//! | 20 % | lawyer reads offers / mine / pool |
//! | 20 % | resident submits |
//! | 10 % | lawyer accepts an offer seen on their board, or else replies on a case they own |

use super::board::{self, Cursors};
use super::intake;
use super::{Bench, Parts, ScenarioResult, exchange, pick};
use crate::load::{Op, Pace, Sample};
use crate::stats::Outcome;
use futures::FutureExt;
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;
use uuid::Uuid;

async fn resident_list(parts: &Parts, resident: usize) -> Sample {
    let request = parts
        .api
        .http
        .get(parts.api.url("/api/v1/consultations"))
        .bearer_auth(&parts.accounts.residents[resident].token);
    Sample {
        op: "resident_list",
        outcome: exchange(request, false).await.outcome,
    }
}

async fn resident_get(parts: &Parts) -> Sample {
    let resident = pick(parts.accounts.residents.len());
    let Some(case) = parts.known.resident_case(resident) else {
        return resident_list(parts, resident).await;
    };
    let request = parts
        .api
        .http
        .get(parts.api.url(&format!("/api/v1/consultations/{case}")))
        .bearer_auth(&parts.accounts.residents[resident].token);
    Sample {
        op: "resident_get",
        outcome: exchange(request, false).await.outcome,
    }
}

async fn accept(parts: &Parts, lawyer: usize, offer: Uuid) -> Sample {
    let request = parts
        .api
        .http
        .post(
            parts
                .api
                .url(&format!("/api/v1/staff/offers/{offer}/accept")),
        )
        .bearer_auth(&parts.accounts.lawyers[lawyer].token);
    let reply = exchange(request, true).await;
    if reply.outcome.is_success()
        && let Some(case) = reply
            .body
            .as_deref()
            .and_then(|b| serde_json::from_slice::<serde_json::Value>(b).ok())
            .and_then(|v| v["id"].as_str().and_then(|s| s.parse().ok()))
    {
        parts.known.add_lawyer_case(lawyer, case);
    }
    Sample {
        op: "accept",
        outcome: reply.outcome,
    }
}

async fn reply(parts: &Parts, lawyer: usize, case: Uuid) -> Sample {
    let request = parts
        .api
        .http
        .post(parts.api.url(&format!("/api/v1/staff/consultations/{case}/messages")))
        .bearer_auth(&parts.accounts.lawyers[lawyer].token)
        .json(&json!({
            "body": "您好，建议先保留好相关证据（照片、录音、聊天记录），再与对方协商；协商不成可申请居委会调解，必要时向法院起诉。",
        }));
    Sample {
        op: "reply",
        outcome: exchange(request, false).await.outcome,
    }
}

/// A lawyer with something to do does it: accept the oldest offer seen on
/// their board, or else reply on a case they own. A few lawyers are tried.
async fn staff_action(parts: &Parts) -> Sample {
    for _ in 0..8 {
        let lawyer = pick(parts.accounts.lawyers.len());
        if let Some(offer) = parts.known.take_offer(lawyer) {
            return accept(parts, lawyer, offer).await;
        }
        if let Some(case) = parts.known.lawyer_case(lawyer) {
            return reply(parts, lawyer, case).await;
        }
    }
    Sample {
        op: "staff_action_skipped",
        outcome: Outcome::Transport("nothing_to_act_on"),
    }
}

pub fn op(bench: &Bench) -> Op {
    let parts = bench.parts();
    let cursors = Arc::new(Cursors::default());
    Arc::new(move |seq| {
        let (parts, cursors) = (parts.clone(), cursors.clone());
        async move {
            match pick(100) {
                0..35 => resident_list(&parts, pick(parts.accounts.residents.len())).await,
                35..50 => resident_get(&parts).await,
                50..70 => board::read(&parts, &cursors).await,
                70..90 => intake::submit(&parts, seq).await,
                _ => staff_action(&parts).await,
            }
        }
        .boxed()
    })
}

pub async fn run(bench: &Bench, name: &str, pace: Pace, duration: Duration) -> ScenarioResult {
    bench.run(name, pace, duration, op(bench)).await
}
