//! A new case is routed by the instance that stored it, right after its
//! commit (`worker::inline`), for every service; with that switched off
//! (`SANSUO_INLINE_ROUTING=0`) the outbox's routing job still offers every
//! case, so the in-request path is a shortcut and never the only way.
//! Which path made an offer is read from `/metrics`
//! (`sansuo_inline_routings_total`). Races between the two paths are
//! the engine's (`engine::three_instances_…`, `concurrency::…`), which run
//! with both on.

use crate::tips::officer_on_duty;
use reqwest::StatusCode;
use sansuo_tests::{TestApp, TestOptions, expect_status};
use serde_json::{Value, json};
use uuid::Uuid;

const TOKEN: &str = "metrics-token-0123456789abcdef";

/// One of each service by one resident; the cases' ids, each with the
/// staff member its community's workflow offers it to first.
async fn submit_one_of_each(app: &TestApp) -> Vec<(Uuid, &'static str)> {
    officer_on_duty(app).await;
    let resident = app.resident_token("inline").await;
    let consultation = app.submit(&resident, "劳动合同到期不续签有补偿吗").await;
    let tip: Value = expect_status(
        app.post(
            "/api/v1/tips",
            &resident,
            json!({
                "community_id": app.demo.community_a.as_uuid(),
                "category_code": "ZP01",
                "description": "3号楼东侧消防通道被电动车和杂物堵死了",
                "location": {"lat": 31.2646, "lng": 121.5052, "address": "3号楼东侧"},
                "anonymous": false,
            }),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let mediation: Value = expect_status(
        app.post(
            "/api/v1/mediations",
            &resident,
            json!({
                "community_id": app.demo.community_a.as_uuid(),
                "category_code": "LJ02",
                "facts": "楼上漏水，多次协商不成，天花板已经发霉",
                "claims": "请对方修好漏水",
                "parties": [
                    {"role": "applicant", "name": "王小明", "contact": "13812341234"},
                    {"role": "respondent", "name": "赵大力", "contact": "13900001111"},
                ],
                "preferred_times": [{"from": "2026-12-01T01:00:00Z", "to": "2026-12-01T04:00:00Z"}],
                "private": true,
            }),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let id = |v: &Value| v.as_str().unwrap().parse::<Uuid>().unwrap();
    vec![
        (consultation.id, "lawyer.zhang"),
        (id(&tip["tip"]["id"]), "officer.liu"),
        (id(&mediation["id"]), "mediator.chen"),
    ]
}

/// `sansuo_inline_routings_total{result="routed"}`, 0 when absent.
async fn routed_inline(app: &TestApp) -> f64 {
    let text = app
        .http
        .get(format!("{}/metrics", app.base_url))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .find(|l| l.starts_with("sansuo_inline_routings_total{result=\"routed\"}"))
        .and_then(|l| l.rsplit_once(' '))
        .map_or(0.0, |(_, v)| v.parse().unwrap())
}

async fn spawn(inline: &str) -> TestApp {
    TestApp::spawn_with(TestOptions {
        env: vec![
            ("SANSUO_METRICS_TOKEN", TOKEN.into()),
            ("SANSUO_INLINE_ROUTING", inline.into()),
        ],
        ..TestOptions::default()
    })
    .await
}

#[tokio::test]
async fn each_service_s_new_case_is_offered_by_the_instance_that_stored_it() {
    let app = spawn("8").await;
    let cases = submit_one_of_each(&app).await;
    for (case_id, person) in &cases {
        let token = app.staff_token(person).await;
        app.wait_for_offer(&token, case_id).await;
    }
    sansuo_tests::eventually("three routings in the requests' instance", || async {
        (routed_inline(&app).await >= 3.0).then_some(())
    })
    .await;
}

#[tokio::test]
async fn switched_off_every_service_s_case_is_still_offered_through_the_outbox() {
    let app = spawn("0").await;
    let cases = submit_one_of_each(&app).await;
    for (case_id, person) in &cases {
        let token = app.staff_token(person).await;
        app.wait_for_offer(&token, case_id).await;
    }
    assert_eq!(routed_inline(&app).await, 0.0);
}
