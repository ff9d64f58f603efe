//! Residents submitting consultations: `POST /api/v1/consultations` with an
//! `Idempotency-Key`, spread over residents, communities and categories.

use super::{Bench, Parts, ScenarioResult, exchange, id_from_location, pick, question};
use crate::load::{Op, Pace, Sample};
use futures::FutureExt;
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;

/// One submission by a random resident to a random community (the probe
/// community excepted) in a random consultation category.
pub async fn submit(parts: &Parts, seq: u64) -> Sample {
    let resident = pick(parts.accounts.residents.len());
    let community = parts.district.communities[pick(parts.district.communities.len())];
    let category = &parts.categories[pick(parts.categories.len())];
    let request = parts
        .api
        .http
        .post(parts.api.url("/api/v1/consultations"))
        .bearer_auth(&parts.accounts.residents[resident].token)
        .header("Idempotency-Key", uuid::Uuid::now_v7().to_string())
        .json(&json!({
            "community_id": community,
            "category_code": category,
            "question": question(seq),
        }));
    let reply = exchange(request, false).await;
    if let Some(case) = id_from_location(reply.location.as_deref()) {
        parts.known.add_resident_case(resident, case);
    }
    Sample {
        op: "submit",
        outcome: reply.outcome,
    }
}

pub fn op(bench: &Bench) -> Op {
    let parts = bench.parts();
    Arc::new(move |seq| {
        let parts = parts.clone();
        async move { submit(&parts, seq).await }.boxed()
    })
}

pub async fn run(bench: &Bench, name: &str, pace: Pace, duration: Duration) -> ScenarioResult {
    bench.run(name, pace, duration, op(bench)).await
}
