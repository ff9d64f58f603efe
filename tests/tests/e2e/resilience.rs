//! Redis going away and coming back; several instances migrating at once.

use reqwest::StatusCode;
use sansuo_store::Store;
use sansuo_tests::views::ConsultationStatusView as Status;
use sansuo_tests::{
    PrivateRedis, TestApp, TestOptions, create_database, drop_database, eventually, expect_status,
};
use serde_json::json;

#[tokio::test]
async fn submissions_survive_a_redis_restart_and_are_routed_when_it_returns() {
    let mut redis = PrivateRedis::start().await;
    let app = TestApp::spawn_with(TestOptions {
        redis_url: Some(redis.url()),
        reconcile_secs: 1,
        ..TestOptions::default()
    })
    .await;
    let resident = app.resident_token("through-the-outage").await;
    let zhang = app.staff_token("lawyer.zhang").await;
    let before = app
        .submit(&resident, "停电前提交的问题：物业乱收停车费怎么办？")
        .await;
    let before_id = before.id;
    let offer = app.wait_for_offer(&zhang, &before_id).await;

    redis.stop();
    let ready = app.http.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(
        expect_status(ready, StatusCode::SERVICE_UNAVAILABLE).await,
        json!({"database": "ok", "queue": "unavailable"})
    );
    // The database is the system of record: residents and lawyers keep working.
    let during = app
        .submit(&resident, "Redis 宕机期间提交的问题：邻居占用楼道堆物")
        .await;
    let during_id = during.id;
    app.accept_offer(&zhang, &offer).await;
    assert_eq!(
        app.status_of(&resident, &during_id).await,
        Status::Submitted
    );

    redis.restart().await;
    eventually("readiness to recover", || async {
        (app.http.get(app.url("/readyz")).send().await.ok()?.status() == StatusCode::OK)
            .then_some(())
    })
    .await;
    app.wait_for_offer(&zhang, &during_id).await;
    assert_eq!(app.status_of(&resident, &before_id).await, Status::Assigned);
}

#[tokio::test]
async fn instances_starting_together_migrate_once() {
    let (url, database) = create_database().await;
    let stores: Vec<Store> = futures::future::join_all((0..3).map(|_| Store::connect(&url, 2)))
        .await
        .into_iter()
        .map(|s| s.expect("connect"))
        .collect();
    let results = futures::future::join_all(stores.iter().map(|s| s.migrate())).await;
    for result in results {
        result.expect("every instance's migration succeeds");
    }
    // And the schema works.
    assert!(
        stores[0]
            .org()
            .active_categories()
            .await
            .unwrap()
            .is_empty()
    );
    for store in stores {
        store.close().await.unwrap();
    }
    drop_database(&database).await;
}
