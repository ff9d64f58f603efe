//! Routing through the outbox and Redis: offers, timeouts, the pool,
//! Redis losing its data, several instances, the request id's journey.

use reqwest::StatusCode;
use sansuo_tests::views::{
    CaseStatusView, ConsultationPage, ConsultationStatusView as Status, ConsultationView, OfferList,
};
use sansuo_tests::{TestApp, TestOptions, eventually, expect_error, expect_json, expect_status};
use serde_json::json;
use uuid::Uuid;

#[tokio::test]
async fn an_offer_nobody_answers_times_out_into_the_firm_pool() {
    let app = TestApp::spawn_with(TestOptions {
        offer_timeout_secs: 1,
        ..TestOptions::default()
    })
    .await;
    app.pool_lawyers_away().await;
    let resident = app.resident_token("patient").await;
    let zhang = app.staff_token("lawyer.zhang").await;
    let wang = app.staff_token("lawyer.wang").await;
    let case = app
        .submit(&resident, "单位拖欠三个月工资，去哪里投诉最快？")
        .await;
    let id = case.id;
    let offer = app.wait_for_offer(&zhang, &id).await;

    app.wait_for_status(&resident, &id, Status::Pooled).await;
    expect_error(
        app.post(
            &format!("/api/v1/staff/offers/{}/accept", offer.id),
            &zhang,
            json!({}),
        )
        .await,
        StatusCode::CONFLICT,
        "offer_not_pending",
    )
    .await;
    // The router climbs from zhang's step to the street's pool.
    eventually("the case to reach the street's pool", || async {
        let pool: ConsultationPage = app
            .get_as("/api/v1/staff/consultations?view=pool", &wang)
            .await;
        pool.items.iter().any(|c| c.id == id).then_some(())
    })
    .await;
    let claimed: ConsultationView = app
        .post_as(
            &format!("/api/v1/staff/consultations/{id}/claim"),
            &wang,
            json!({}),
        )
        .await;
    assert_eq!(claimed.lawyer.unwrap().display_name, "王律师");
    let actions: Vec<&str> = claimed.history.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        ["submit", "offer", "expire_offer", "escalate", "claim"],
        "the signed lawyer's step ends with them; the street's pool takes it"
    );
    // Gone from the pool once claimed.
    let pool: ConsultationPage = app
        .get_as("/api/v1/staff/consultations?view=pool", &wang)
        .await;
    assert!(!pool.items.iter().any(|c| c.id == id));
}

#[tokio::test]
async fn a_declined_offer_goes_to_the_pool_with_its_reason_kept_for_staff() {
    let app = TestApp::spawn().await;
    app.pool_lawyers_away().await;
    let resident = app.resident_token("declined").await;
    let zhang = app.staff_token("lawyer.zhang").await;
    let zhao = app.staff_token("lawyer.zhao").await;
    let case = app
        .submit(&resident, "网购商品有质量问题，商家拒绝退货怎么办？")
        .await;
    let id = case.id;
    let offer = app.wait_for_offer(&zhang, &id).await;
    let decline = format!("/api/v1/staff/offers/{}/decline", offer.id);
    expect_error(
        app.post(&decline, &zhang, json!({})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_body",
    )
    .await;
    expect_error(
        app.post(&decline, &zhang, json!({"reason": "x"})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    let declined: CaseStatusView = app
        .post_as(&decline, &zhang, json!({"reason": "本周在外地开庭"}))
        .await;
    assert_eq!(declined.status, Status::Pooled);
    expect_error(
        app.post(&decline, &zhang, json!({"reason": "再拒一次"}))
            .await,
        StatusCode::CONFLICT,
        "offer_not_pending",
    )
    .await;

    let staff_view = eventually("the case to reach the street's pool", || async {
        let response = app
            .get(&format!("/api/v1/staff/consultations/{id}"), &zhao)
            .await;
        match response.status() {
            StatusCode::OK => Some(expect_json::<ConsultationView>(response, StatusCode::OK).await),
            _ => None,
        }
    })
    .await;
    let decline_event = staff_view
        .history
        .iter()
        .find(|e| e.action == "decline")
        .unwrap();
    assert_eq!(decline_event.reason.as_deref(), Some("本周在外地开庭"));
    // Raw as well: the reason must appear nowhere on the resident's wire.
    let resident_raw = expect_status(
        app.get(&format!("/api/v1/consultations/{id}"), &resident)
            .await,
        StatusCode::OK,
    )
    .await;
    let resident_view: ConsultationView = sansuo_tests::read_as(&resident_raw);
    assert_eq!(resident_view.status, Status::Pooled);
    assert!(
        !resident_raw.to_string().contains("开庭"),
        "the resident does not see why a lawyer declined"
    );
}

#[tokio::test]
async fn a_community_without_a_signed_lawyer_goes_straight_to_the_pool() {
    let app = TestApp::spawn().await;
    app.pool_lawyers_away().await;
    app.set_presence("lawyer.zhang", "away").await;
    // Deactivate community B's signed lawyer: nobody to offer it to.
    app.app
        .store
        .identity()
        .set_staff_active(app.demo.account("lawyer.li").id, false)
        .await
        .unwrap();
    let resident = app.resident_token("no-lawyer").await;
    let body = json!({ "community_id": app.demo.community_b.as_uuid(), "category_code": "HY01", "question": "离婚时孩子抚养权一般怎么判？" });
    let case: ConsultationView = expect_json(
        app.post("/api/v1/consultations", &resident, body).await,
        StatusCode::CREATED,
    )
    .await;
    let id = case.id;
    app.wait_for_status(&resident, &id, Status::Pooled).await;
    let wang = app.staff_token("lawyer.wang").await;
    let view: ConsultationView = app
        .get_as(&format!("/api/v1/staff/consultations/{id}"), &wang)
        .await;
    assert_eq!(view.history[1].action, "escalate");
    assert_eq!(
        view.history[1].reason.as_deref(),
        Some("nobody eligible on this step")
    );
}

#[tokio::test]
async fn losing_all_redis_data_mid_flight_loses_no_case() {
    let app = TestApp::spawn_with(TestOptions {
        offer_timeout_secs: 2,
        reconcile_secs: 1,
        ..TestOptions::default()
    })
    .await;
    app.pool_lawyers_away().await;
    // Pending offers count against capacity; zhang takes the whole run.
    app.app
        .store
        .staffing()
        .set_routing(app.demo.account("lawyer.zhang").id, None, None, Some(20))
        .await
        .unwrap();
    let resident = app.resident_token("unlucky").await;
    let mut ids = Vec::new();
    for i in 0..6 {
        let case = app
            .submit(&resident, &format!("第{i}件：共有产权房的继承怎么办理？"))
            .await;
        ids.push(case.id);
        // Redis forgets everything between submissions: route jobs are lost.
        app.lose_redis_data().await;
    }
    // The reconciler re-publishes what the database says is unrouted.
    for id in &ids {
        eventually("each case to be offered or pooled", || async {
            let status = app.status_of(&resident, id).await;
            (status == Status::Offered || status == Status::Pooled).then_some(())
        })
        .await;
    }
    // Redis forgets the offer timers too; the reconciler expires the offers from the database.
    app.lose_redis_data().await;
    for id in &ids {
        app.wait_for_status(&resident, id, Status::Pooled).await;
    }
    // Nothing happened twice.
    let zhang = app.staff_token("lawyer.zhang").await;
    for id in &ids {
        let view: ConsultationView = app
            .get_as(
                &format!("/api/v1/staff/consultations/{id}"),
                &app.staff_token("lawyer.wang").await,
            )
            .await;
        let offers = view.history.iter().filter(|e| e.action == "offer").count();
        assert_eq!(offers, 1, "exactly one offer for {id}: {view:?}");
    }
    let offers: OfferList = app.get_as("/api/v1/staff/offers", &zhang).await;
    assert!(offers.items.is_empty());
}

#[tokio::test]
async fn two_instances_route_one_workload_without_double_offers() {
    let app = TestApp::spawn().await;
    let mut sibling = app.spawn_sibling().await;
    let sibling_url = format!("http://127.0.0.1:{}", sibling.port);
    // Pending offers count against capacity; zhang takes the whole run.
    app.app
        .store
        .staffing()
        .set_routing(app.demo.account("lawyer.zhang").id, None, None, Some(20))
        .await
        .unwrap();
    let resident = app.resident_token("busy-district").await;
    let zhang = app.staff_token("lawyer.zhang").await;
    let mut ids = Vec::new();
    for i in 0..12 {
        // Alternate instances, as a load balancer would.
        let base = if i % 2 == 0 {
            app.base_url.clone()
        } else {
            sibling_url.clone()
        };
        let body = json!({ "community_id": app.demo.community_a.as_uuid(), "category_code": "WF01", "question": format!("第{i}户：物业费能不能因为服务差少交？") });
        let response = app
            .http
            .post(format!("{base}/api/v1/consultations"))
            .bearer_auth(&resident)
            .json(&body)
            .send()
            .await
            .unwrap();
        ids.push(
            expect_json::<ConsultationView>(response, StatusCode::CREATED)
                .await
                .id,
        );
    }
    for id in &ids {
        app.wait_for_offer(&zhang, id).await;
    }
    let offers: OfferList = app.get_as("/api/v1/staff/offers", &zhang).await;
    assert_eq!(offers.items.len(), ids.len(), "one live offer per case");
    for id in &ids {
        let history = app
            .app
            .store
            .cases()
            .history((*id).into(), false)
            .await
            .unwrap();
        assert_eq!(
            history.iter().filter(|e| e.action == "offer").count(),
            1,
            "case {id}"
        );
    }
    sibling.stop().await;
}

#[tokio::test]
async fn the_request_id_travels_from_http_through_the_queue_to_the_router() {
    let app = TestApp::spawn().await;
    let resident = app.resident_token("traced").await;
    let zhang = app.staff_token("lawyer.zhang").await;
    let body = json!({ "community_id": app.demo.community_a.as_uuid(), "category_code": "JT01", "question": "电动车撞了行人，保险不赔怎么办？" });
    let response = app
        .http
        .post(app.url("/api/v1/consultations"))
        .bearer_auth(&resident)
        .header("X-Request-Id", "req-trace-0001")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.headers().get("x-request-id").unwrap(),
        "req-trace-0001"
    );
    let case: ConsultationView = expect_json(response, StatusCode::CREATED).await;
    let id = case.id;
    app.wait_for_offer(&zhang, &id).await;
    let history = app
        .app
        .store
        .cases()
        .history(id.into(), false)
        .await
        .unwrap();
    let traced: Vec<(&str, Option<&str>)> = history
        .iter()
        .map(|e| (e.action.as_str(), e.request_id.as_deref()))
        .collect();
    assert_eq!(
        traced,
        [
            ("submit", Some("req-trace-0001")),
            ("offer", Some("req-trace-0001"))
        ]
    );

    // A hostile request id is replaced, not echoed into logs.
    let response = app
        .http
        .get(app.url("/healthz"))
        .header("X-Request-Id", "evil id; with spaces=\"quoted\"")
        .send()
        .await
        .unwrap();
    let echoed = response
        .headers()
        .get("x-request-id")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert_ne!(echoed, "evil id; with spaces=\"quoted\"");
    assert!(Uuid::parse_str(&echoed).is_ok());
}

#[tokio::test]
async fn readiness_reports_database_and_queue() {
    let app = TestApp::spawn().await;
    let ready = expect_status(
        app.http.get(app.url("/readyz")).send().await.unwrap(),
        StatusCode::OK,
    )
    .await;
    // The calendar detail is there; what it says depends on today's date.
    assert!(ready["calendar"]["covered_until"].is_string(), "{ready}");
    let mut verdicts = ready;
    verdicts.as_object_mut().unwrap().remove("calendar");
    assert_eq!(
        verdicts,
        json!({ "database": "ok", "queue": "ok", "routing": "ok" })
    );
    let health = expect_status(
        app.http.get(app.url("/healthz")).send().await.unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(health["status"], "ok");
}

#[tokio::test]
async fn a_firm_serving_two_streets_sees_one_merged_pool_newest_first() {
    use sansuo_store::org::{NewOrgUnit, kind};
    let app = TestApp::spawn().await;
    app.pool_lawyers_away().await;
    app.set_presence("lawyer.zhang", "away").await;
    let store = &app.app.store;
    let now = chrono::Utc::now();
    // A second street, its community, and the demo firm signed to it too.
    let street = store
        .org()
        .insert_unit(
            NewOrgUnit {
                kind: kind::STREET,
                parent: Some(app.demo.district),
                station: None,
                name: "曲阳路街道",
                scene: None,
                address: None,
                office_hours: None,
                services: &[],
            },
            now,
        )
        .await
        .unwrap();
    let services: &[&str] = &["consultation"];
    let community = store
        .org()
        .insert_unit(
            NewOrgUnit {
                kind: kind::COMMUNITY,
                parent: Some(street),
                station: None,
                name: "玉田居委",
                scene: Some("hk-yt"),
                address: None,
                office_hours: None,
                services,
            },
            now,
        )
        .await
        .unwrap();
    let wang = app.demo.account("lawyer.wang").id;
    let firm = store
        .identity()
        .staff(wang)
        .await
        .unwrap()
        .unwrap()
        .law_firm_id
        .unwrap();
    store.org().sign_firm(firm, street).await.unwrap();

    // No signed lawyer in the new community: its cases go straight to the pool.
    app.app
        .store
        .identity()
        .set_staff_active(app.demo.account("lawyer.li").id, false)
        .await
        .unwrap();
    let resident = app.resident_token("two-streets").await;
    let mut ids = Vec::new();
    for i in 0..6 {
        let community_id = if i % 2 == 0 {
            community.as_uuid()
        } else {
            app.demo.community_b.as_uuid()
        };
        let body = json!({ "community_id": community_id, "category_code": "ZW01", "question": format!("第{i}笔：朋友借钱不还，有转账记录怎么办？") });
        let case: ConsultationView = expect_json(
            app.post("/api/v1/consultations", &resident, body).await,
            StatusCode::CREATED,
        )
        .await;
        ids.push(case.id);
    }
    for id in &ids {
        app.wait_for_status(&resident, id, Status::Pooled).await;
    }
    let token = app.staff_token("lawyer.wang").await;
    let mut seen = Vec::new();
    let mut path = "/api/v1/staff/consultations?view=pool&limit=4".to_owned();
    loop {
        let page: ConsultationPage = app.get_as(&path, &token).await;
        seen.extend(page.items.iter().map(|c| c.id));
        match page.next_cursor.as_deref() {
            Some(cursor) => {
                path = format!("/api/v1/staff/consultations?view=pool&limit=4&cursor={cursor}")
            }
            None => break,
        }
    }
    ids.reverse();
    assert_eq!(seen, ids, "both streets' pools, newest first, each once");
}
