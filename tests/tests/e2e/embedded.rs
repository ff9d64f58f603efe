//! The same walk on the embedded default: SQLite file + in-process queue,
//! with the demo resident login.

use reqwest::StatusCode;
use sansuo_tests::views::{
    ConsultationStatusView as Status, ConsultationView, MediationView, TokenResponse,
};
use sansuo_tests::{Backend, TestApp, TestOptions, eventually, expect_json, expect_status};
use serde_json::json;

#[tokio::test]
async fn the_walk_works_on_sqlite_and_the_in_process_queue() {
    let app = TestApp::spawn_embedded().await;
    let login = app
        .http
        .post(app.url("/api/v1/auth/demo"))
        .json(&json!({"name": "xiaoming"}))
        .send()
        .await
        .unwrap();
    let resident = expect_json::<TokenResponse>(login, StatusCode::OK)
        .await
        .access_token;
    let ready = expect_status(
        app.http.get(app.url("/readyz")).send().await.unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(ready["queue"], "ok");

    let case = app
        .submit(&resident, "楼下餐馆油烟太大，可以要求他们整改吗？")
        .await;
    let id = case.id;
    let zhang = app.staff_token("lawyer.zhang").await;
    let offer = app.wait_for_offer(&zhang, &id).await;
    app.accept_offer(&zhang, &offer).await;
    expect_status(
        app.post(
            &format!("/api/v1/staff/consultations/{id}/messages"),
            &zhang,
            json!({"body": "可以向环保部门投诉，也可申请调解。"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(app.status_of(&resident, &id).await, Status::Answered);
    let rated: ConsultationView = app
        .post_as(
            &format!("/api/v1/consultations/{id}/rating"),
            &resident,
            json!({"stars": 4}),
        )
        .await;
    assert_eq!(rated.status, Status::Closed);

    // Two lawyers racing for a pooled case on SQLite: still one owner.
    let second = app
        .submit(&resident, "第二个问题：小区公共收益归谁所有？")
        .await;
    let second_id = second.id;
    let offer = app.wait_for_offer(&zhang, &second_id).await;
    app.pool_lawyers_away().await;
    expect_status(
        app.post(
            &format!("/api/v1/staff/offers/{}/decline", offer.id),
            &zhang,
            json!({"reason": "利益冲突"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let wang = app.staff_token("lawyer.wang").await;
    let zhao = app.staff_token("lawyer.zhao").await;
    // The router lifts the declined case from zhang's step to the street's pool.
    eventually("the case to reach the street's pool", || async {
        (app.get(&format!("/api/v1/staff/consultations/{second_id}"), &wang)
            .await
            .status()
            == StatusCode::OK)
            .then_some(())
    })
    .await;
    let path = format!("/api/v1/staff/consultations/{second_id}/claim");
    let (a, b) = tokio::join!(
        app.post(&path, &wang, json!({})),
        app.post(&path, &zhao, json!({}))
    );
    let mut statuses = [a.status(), b.status()];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::OK, StatusCode::CONFLICT]);
    app.assert_staff_loads_counted().await;
}

#[tokio::test]
async fn a_restarted_demo_still_opens_the_party_data_it_sealed() {
    // No SANSUO_DATA_KEYS: the demo keeps its key in a file beside the
    // SQLite database, and a second start on the same directory reads it.
    let dir = std::env::temp_dir().join(format!("sansuo-restart-{}", uuid::Uuid::now_v7()));
    let options = TestOptions {
        backend: Backend::Embedded,
        data_keys: false,
        sqlite_dir: Some(dir.clone()),
        ..TestOptions::default()
    };
    let mut first = TestApp::spawn_with(options.clone()).await;
    let key_file = dir.join("sansuo.key");
    assert!(key_file.exists(), "the demo made its key file");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key_file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "only the server's user reads the key");
    }
    let key = std::fs::read(&key_file).unwrap();
    let resident = first.resident_token("restart").await;
    let applied: MediationView = expect_json(
        first
            .post(
                "/api/v1/mediations",
                &resident,
                json!({
                    "community_id": first.demo.community_a.as_uuid(),
                    "category_code": "LJ02",
                    "facts": "楼上漏水到我家厨房，物业协调无果",
                    "claims": "修好漏水",
                    "parties": [
                        {"role": "applicant", "name": "王小明", "contact": "13812341234"},
                        {"role": "respondent", "name": "赵大力", "contact": "13912345678"},
                    ],
                }),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
    let id = applied.id;
    let path = format!("/api/v1/staff/mediations/{id}");
    let chen = first.staff_token("mediator.chen").await;
    eventually("the offer to the mediator", || async {
        (first.get(&path, &chen).await.status() == StatusCode::OK).then_some(())
    })
    .await;
    let accepted: MediationView = first
        .post_as(&format!("{path}/accept"), &chen, json!({}))
        .await;
    assert_eq!(accepted.parties[1].name, "赵大力");
    first.app.stop().await;
    drop(first);

    let second = TestApp::spawn_with(options).await;
    assert_eq!(
        std::fs::read(&key_file).unwrap(),
        key,
        "the key is made once, then only read"
    );
    let chen = second.staff_token("mediator.chen").await;
    let view: MediationView = second.get_as(&path, &chen).await;
    assert_eq!(view.parties[1].name, "赵大力");
    assert_eq!(view.parties[1].contact.as_deref(), Some("13912345678"));
    drop(second);
    std::fs::remove_dir_all(&dir).unwrap();
}
