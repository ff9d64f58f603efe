//! What an operator sees and relies on: `/metrics` after a walk (route
//! patterns, offers by outcome, gauges from the queue and the database),
//! who may read it, and a stopping worker giving back the lease of a job
//! it abandons. (SIGTERM to a real process: crates/server/tests/sigterm.rs.)

use reqwest::StatusCode;
use sansuo_tests::views::CreditList;
use sansuo_tests::{TestApp, TestOptions, eventually, expect_status};
use sansuo_wechat_fake::SUBSCRIBE_SEND_PATH;
use sansuo_worker::{REBUILD_QUEUE, ROUTING_QUEUE};
use serde_json::json;
use std::collections::HashMap;
use std::time::Duration;
use uuid::Uuid;

const TOKEN: &str = "metrics-token-0123456789abcdef";

/// The samples of an exposition: series with labels → value.
fn samples(text: &str) -> HashMap<String, f64> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .filter_map(|l| l.rsplit_once(' '))
        .map(|(series, value)| (series.to_owned(), value.parse().unwrap()))
        .collect()
}

fn value(samples: &HashMap<String, f64>, series: &str) -> f64 {
    *samples
        .get(series)
        .unwrap_or_else(|| panic!("no series {series} in {samples:#?}"))
}

async fn scrape(app: &TestApp, base: &str, token: Option<&str>) -> reqwest::Response {
    let mut request = app.http.get(format!("{base}/metrics"));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn metrics_after_a_walk_show_route_patterns_offer_outcomes_and_gauges() {
    let app = TestApp::spawn_with(TestOptions {
        env: vec![("SANSUO_METRICS_TOKEN", TOKEN.into())],
        ..TestOptions::default()
    })
    .await;
    let resident = app.resident_token("metered").await;
    let zhang = app.staff_token("lawyer.zhang").await;
    // Submit two, accept one offer, decline the other.
    let kept = app.submit(&resident, "小区物业擅自涨价，怎么维权？").await;
    let offer = app.wait_for_offer(&zhang, &kept.id).await;
    app.accept_offer(&zhang, &offer).await;
    let passed = app
        .submit(&resident, "装修噪音一直持续到深夜怎么办？")
        .await;
    let declined = app.wait_for_offer(&zhang, &passed.id).await;
    expect_status(
        app.post(
            &format!("/api/v1/staff/offers/{}/decline", declined.id),
            &zhang,
            json!({"reason": "本周出庭，无法及时回复"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    // A path no route matches, with an id in it.
    let stray = Uuid::now_v7();
    let response = app
        .get(&format!("/api/v1/nowhere/{stray}"), &resident)
        .await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);

    // Who may read it: the token, compared whole.
    let refused = scrape(&app, &app.base_url, None).await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(refused.headers()["www-authenticate"], "Bearer");
    let wrong = scrape(&app, &app.base_url, Some(&TOKEN[..TOKEN.len() - 1])).await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let response = scrape(&app, &app.base_url, Some(TOKEN)).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/openmetrics-text")
    );
    let text = response.text().await.unwrap();
    let s = samples(&text);

    // Latency by route pattern and status; no id anywhere in a label.
    let submits = r#"sansuo_http_request_duration_seconds_count{method="POST",route="/api/v1/consultations",status="201"}"#;
    assert_eq!(value(&s, submits), 2.0);
    let took = value(
        &s,
        r#"sansuo_http_request_duration_seconds_sum{method="POST",route="/api/v1/consultations",status="201"}"#,
    );
    assert!(took > 0.0 && took < 60.0, "two submissions took {took} s");
    assert_eq!(
        value(
            &s,
            r#"sansuo_http_request_duration_seconds_count{method="POST",route="/api/v1/staff/offers/{id}/accept",status="200"}"#
        ),
        1.0
    );
    assert!(
        value(
            &s,
            r#"sansuo_http_request_duration_seconds_count{method="GET",route="unmatched",status="404"}"#
        ) >= 1.0
    );
    for id in [kept.id, passed.id, offer.id, declined.id, stray] {
        assert!(
            !text.contains(&id.to_string()),
            "an id ({id}) in the metrics:\n{text}"
        );
    }

    // Offers by outcome: two made to zhang, then the declined case to the
    // pool's next lawyer.
    assert!(value(&s, r#"sansuo_offers_total{outcome="offered"}"#) >= 2.0);
    assert_eq!(value(&s, r#"sansuo_offers_total{outcome="accepted"}"#), 1.0);
    assert_eq!(value(&s, r#"sansuo_offers_total{outcome="declined"}"#), 1.0);

    // Gauges read at scrape time: the pending offer's timer and both
    // cases' SLA checks wait in the routing queue; nothing is unrouted;
    // the outbox is relayed; the pool is the configured one.
    assert!(
        value(
            &s,
            r#"sansuo_queue_jobs{queue="routing",state="scheduled"}"#
        ) >= 1.0
    );
    // At most one job per router (four) is leased at any moment.
    assert!(value(&s, r#"sansuo_queue_jobs{queue="routing",state="leased"}"#) <= 4.0);
    assert!(value(&s, r#"sansuo_queue_oldest_due_seconds{queue="routing"}"#) >= 0.0);
    assert!(s.contains_key(r#"sansuo_queue_jobs{queue="routing.rebuild",state="due"}"#));
    assert_eq!(value(&s, "sansuo_unrouted_cases"), 0.0);
    assert!(value(&s, "sansuo_outbox_unpublished") >= 0.0);
    assert!(value(&s, "sansuo_outbox_lag_seconds") < 60.0);
    assert_eq!(value(&s, "sansuo_db_pool_max_connections"), 10.0);
    let in_use = value(&s, r#"sansuo_db_pool_connections{state="in_use"}"#);
    let idle = value(&s, r#"sansuo_db_pool_connections{state="idle"}"#);
    assert!(in_use + idle >= 1.0 && in_use + idle <= 10.0);
    assert!(text.ends_with("# EOF\n"));
}

#[tokio::test]
async fn metrics_are_off_in_production_by_default_and_on_their_own_port_when_asked() {
    let plain = TestApp::spawn().await;
    assert_eq!(
        scrape(&plain, &plain.base_url, None).await.status(),
        StatusCode::NOT_FOUND,
        "production serves no metrics until told where"
    );

    let app = TestApp::spawn_with(TestOptions {
        env: vec![("SANSUO_METRICS_ADDR", "127.0.0.1:0".into())],
        ..TestOptions::default()
    })
    .await;
    let port = app.app.metrics_port.expect("a metrics listener");
    assert_eq!(
        scrape(&app, &app.base_url, None).await.status(),
        StatusCode::NOT_FOUND,
        "not on the API port, which the load balancer forwards"
    );
    let own = scrape(&app, &format!("http://127.0.0.1:{port}"), None).await;
    assert_eq!(own.status(), StatusCode::OK);
    let text = own.text().await.unwrap();
    assert!(text.contains("sansuo_queue_jobs{"), "{text}");
    // The metrics port serves nothing else.
    let other = app
        .http
        .get(format!("http://127.0.0.1:{port}/api/v1/categories"))
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), StatusCode::NOT_FOUND);
}

/// A worker stopping (SIGTERM) while a job hangs on a slow WeChat gives the
/// job's lease back: the job is due again at once, and a restarted worker
/// (another instance, as far as the queue knows) finishes it well within
/// the 30 s lease it would otherwise wait for.
#[tokio::test]
async fn a_stopping_worker_gives_back_the_lease_of_a_job_it_abandons() {
    let templates = json!({
        "consultation_accepted": {"template_id": "tmpl-accepted", "page": "pages/consultation/detail?id={case_id}",
            "fields": {"thing1": "category", "phrase2": "status"}}
    });
    let mut app = TestApp::spawn_with(TestOptions {
        env: vec![
            ("SANSUO_WECHAT_TEMPLATES", templates.to_string()),
            ("SANSUO_WECHAT_TIMEOUT_MS", "30000".into()),
        ],
        ..TestOptions::default()
    })
    .await;
    let resident = app.resident_token("waiting-for-wechat").await;
    let granted: CreditList = app
        .post_as(
            "/api/v1/me/subscriptions",
            &resident,
            json!({"template_ids": ["tmpl-accepted"]}),
        )
        .await;
    assert_eq!(granted.items.len(), 1);
    // WeChat answers sends only after 20 s: the notification job hangs.
    app.wechat
        .set_delay(SUBSCRIBE_SEND_PATH, Duration::from_secs(20));
    let zhang = app.staff_token("lawyer.zhang").await;
    let case = app.submit(&resident, "租房押金不退怎么办？").await;
    let offer = app.wait_for_offer(&zhang, &case.id).await;
    app.accept_offer(&zhang, &offer).await;
    eventually("the send to be under way", || async {
        (app.wechat.calls(SUBSCRIBE_SEND_PATH).await >= 1).then_some(())
    })
    .await;

    let report = app
        .app
        .stop_worker(Duration::from_millis(300))
        .await
        .expect("the worker was running");
    assert!(
        report.aborted >= 1 && report.released >= 1,
        "the hanging job was abandoned and its lease given back: {report:?}"
    );
    for queue in [ROUTING_QUEUE, REBUILD_QUEUE] {
        let stats = app.app.queue.stats(queue).await.unwrap();
        assert_eq!(stats.leased, 0, "{queue}: no lease left behind: {stats:?}");
    }
    let due = app.app.queue.stats(ROUTING_QUEUE).await.unwrap().due;
    assert!(due >= 1, "the abandoned job is due again at once");

    app.wechat.set_delay(SUBSCRIBE_SEND_PATH, Duration::ZERO);
    app.app.start_worker();
    eventually("the abandoned job to be run again", || async {
        let stats = app.app.queue.stats(ROUTING_QUEUE).await.ok()?;
        (stats.due == 0 && stats.leased == 0).then_some(())
    })
    .await;
}
