//! Residents submitting, in a realistic mix of the three services, each
//! with an `Idempotency-Key`, spread over residents, communities and the
//! categories each service takes (`GET /categories`):
//!
//! | share | op | request |
//! |---|---|---|
//! | 60 % | `submit_consultation` | `POST /api/v1/consultations` |
//! | 25 % | `submit_mediation` | `POST /api/v1/mediations`: an applicant and a respondent |
//! | 15 % | `submit_tip` | `POST /api/v1/tips`: half named, half anonymous, no photos |
//!
//! Tips are limited to 5 an hour per reporter, and that limit is not
//! configurable (`domain::tip::submission_limit`): they go round the
//! residents in turn (a counter shared by the whole run), so a resident
//! reaches the limit only after `5 × residents` tips.

use super::{Bench, Parts, ScenarioResult, exchange, id_from_location, pick, question};
use crate::load::{Op, Pace, Sample};
use futures::FutureExt;
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

/// Which service a submission is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    Consultation,
    Mediation,
    Tip,
}

use Service::{Consultation as C, Mediation as M, Tip as T};

/// Twenty submissions, interleaved: 12 consultations (60 %), 5 mediations
/// (25 %), 3 tips (15 %). Submission `seq` is `MIX[seq % 20]`.
pub const MIX: [Service; 20] = [C, M, C, T, C, M, C, C, M, C, T, C, M, C, C, M, C, T, C, C];

pub fn service_of(seq: u64) -> Service {
    MIX[(seq % MIX.len() as u64) as usize]
}

/// Facts of a dispute (10 to 2000 characters), all different.
fn facts(seq: u64) -> String {
    const TOPICS: [&str; 4] = [
        "楼上住户装修漏水，把我家卫生间天花板泡坏了，协商两次都没有结果。",
        "邻居在楼道里长期堆放杂物，影响通行和消防安全，沟通后仍不清理。",
        "小区停车位被同一辆车长期占用，车主不肯挪车，物业也协调不了。",
        "和房东因为退租时的押金和维修费用发生争执，双方各执一词。",
    ];
    format!(
        "{}（编号 {seq}）",
        TOPICS[(seq % TOPICS.len() as u64) as usize]
    )
}

/// One submission by a random resident to a random community (the probe
/// community excepted), of the service `MIX` gives `seq`.
pub async fn submit(parts: &Parts, seq: u64) -> Sample {
    let community = parts.district.communities[pick(parts.district.communities.len())];
    let catalog = &parts.categories;
    let key = uuid::Uuid::now_v7().to_string();
    let post = |path: &str, resident: usize| {
        parts
            .api
            .http
            .post(parts.api.url(path))
            .bearer_auth(&parts.accounts.residents[resident].token)
            .header("Idempotency-Key", key.as_str())
    };
    match service_of(seq) {
        Service::Consultation => {
            let resident = pick(parts.accounts.residents.len());
            let category = &catalog.consultation[pick(catalog.consultation.len())];
            let request = post("/api/v1/consultations", resident).json(&json!({
                "community_id": community,
                "category_code": category,
                "question": question(seq),
            }));
            let reply = exchange(request, false).await;
            if let Some(case) = id_from_location(reply.location.as_deref()) {
                parts.known.add_resident_case(resident, case);
            }
            Sample {
                op: "submit_consultation",
                outcome: reply.outcome,
            }
        }
        Service::Mediation => {
            let resident = pick(parts.accounts.residents.len());
            let category = &catalog.mediation[pick(catalog.mediation.len())];
            let request = post("/api/v1/mediations", resident).json(&json!({
                "community_id": community,
                "category_code": category,
                "facts": facts(seq),
                "claims": "请求对方赔偿维修费用并赔礼道歉",
                "parties": [
                    {"role": "applicant", "name": "王小明", "contact": "13800001111"},
                    {"role": "respondent", "name": "李大力"},
                ],
            }));
            Sample {
                op: "submit_mediation",
                outcome: exchange(request, false).await.outcome,
            }
        }
        Service::Tip => {
            // Round the residents (see the module's comment), alternately
            // named and anonymous.
            let n = parts.tips.fetch_add(1, Ordering::Relaxed);
            let resident = (n % parts.accounts.residents.len() as u64) as usize;
            let (category, anonymous_allowed) = &catalog.tip[pick(catalog.tip.len())];
            let request = post("/api/v1/tips", resident).json(&json!({
                "community_id": community,
                "category_code": category,
                "description": format!("小区东门消防通道被电动车堵住好几天了，晚上还有人在楼道里充电。（编号 {seq}）"),
                "anonymous": *anonymous_allowed && n % 2 == 1,
            }));
            Sample {
                op: "submit_tip",
                outcome: exchange(request, false).await.outcome,
            }
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mix_is_sixty_twenty_five_fifteen() {
        let count = |s: Service| (0..1000).filter(|&q| service_of(q) == s).count();
        assert_eq!(
            (count(C), count(M), count(T)),
            (600, 250, 150),
            "per thousand submissions"
        );
    }
}
