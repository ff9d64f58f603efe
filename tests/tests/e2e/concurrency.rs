//! Races: two lawyers claiming one case, double-clicked accepts, retries
//! of one submission arriving together.

use futures::future::join_all;
use reqwest::StatusCode;
use sansuo_store::sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use sansuo_tests::views::{ConsultationPage, ConsultationStatusView as Status, ConsultationView};
use sansuo_tests::{TestApp, TestOptions, eventually, expect_error, expect_json};
use serde_json::json;

#[tokio::test]
async fn two_lawyers_claiming_one_pooled_case_yield_one_owner_and_one_409() {
    // Offers expire at once, so every case lands in the pool.
    let app = TestApp::spawn_with(TestOptions {
        offer_timeout_secs: 1,
        ..TestOptions::default()
    })
    .await;
    app.pool_lawyers_away().await;
    let resident = app.resident_token("racer").await;
    let wang = app.staff_token("lawyer.wang").await;
    let zhao = app.staff_token("lawyer.zhao").await;
    let mut ids = Vec::new();
    for i in 0..8 {
        let case = app
            .submit(&resident, &format!("第{i}次：装修公司卷款跑路如何追讨？"))
            .await;
        ids.push(case.id);
    }
    for id in &ids {
        app.wait_for_status(&resident, id, Status::Pooled).await;
        // Pooled on zhang's step first; the router then lifts it to the
        // street's pool, which wang and zhao serve.
        eventually("the case to reach the street's pool", || async {
            (app.get(&format!("/api/v1/staff/consultations/{id}"), &wang)
                .await
                .status()
                == StatusCode::OK)
                .then_some(())
        })
        .await;
    }
    for id in &ids {
        let path = format!("/api/v1/staff/consultations/{id}/claim");
        let (a, b) = tokio::join!(
            app.post(&path, &wang, json!({})),
            app.post(&path, &zhao, json!({}))
        );
        let mut statuses = [a.status(), b.status()];
        statuses.sort();
        assert_eq!(
            statuses,
            [StatusCode::OK, StatusCode::CONFLICT],
            "case {id}"
        );
        let loser = if a.status() == StatusCode::CONFLICT {
            a
        } else {
            b
        };
        expect_error(loser, StatusCode::CONFLICT, "state_conflict").await;
    }
    // Exactly one owner each, recorded once in the history.
    for id in &ids {
        let case: ConsultationView = app
            .get_as(&format!("/api/v1/consultations/{id}"), &resident)
            .await;
        assert_eq!(case.status, Status::Assigned);
        let claims = case.history.iter().filter(|e| e.action == "claim").count();
        assert_eq!(claims, 1);
    }
    app.assert_staff_loads_counted().await;
}

#[tokio::test]
async fn a_double_clicked_accept_is_one_acceptance() {
    let app = TestApp::spawn().await;
    let resident = app.resident_token("double").await;
    let zhang = app.staff_token("lawyer.zhang").await;
    for i in 0..5 {
        let case = app
            .submit(&resident, &format!("问题{i}：公司不签劳动合同怎么办？"))
            .await;
        let offer = app.wait_for_offer(&zhang, &case.id).await;
        let path = format!("/api/v1/staff/offers/{}/accept", offer.id);
        let results = join_all((0..4).map(|_| app.post(&path, &zhang, json!({})))).await;
        let ok = results
            .iter()
            .filter(|r| r.status() == StatusCode::OK)
            .count();
        let conflicts = results
            .iter()
            .filter(|r| r.status() == StatusCode::CONFLICT)
            .count();
        assert_eq!((ok, conflicts), (1, 3), "trial {i}");
    }
    app.assert_staff_loads_counted().await;
}

#[tokio::test]
async fn concurrent_retries_with_one_idempotency_key_create_one_case() {
    let app = TestApp::spawn().await;
    let resident = app.resident_token("flaky-network").await;
    let body = json!({ "community_id": app.demo.community_a.as_uuid(), "category_code": "ZW01", "question": "朋友借钱不还，只有微信聊天记录可以起诉吗？" });
    let requests = (0..6).map(|_| {
        app.http
            .post(app.url("/api/v1/consultations"))
            .bearer_auth(&resident)
            .header("Idempotency-Key", "same-key-from-a-slow-phone")
            .json(&body)
            .send()
    });
    let responses = join_all(requests).await;
    let mut ids = Vec::new();
    for response in responses {
        let body: ConsultationView = expect_json(response.unwrap(), StatusCode::CREATED).await;
        ids.push(body.id);
    }
    ids.dedup();
    assert_eq!(ids.len(), 1, "every retry answered with the one case");
    let mine: ConsultationPage = app.get_as("/api/v1/consultations", &resident).await;
    assert_eq!(mine.items.len(), 1);
    app.assert_staff_loads_counted().await;
}

fn placement(
    case: &sansuo_store::routing::EngineCase,
    now: chrono::DateTime<chrono::Utc>,
) -> sansuo_store::routing::LadderPlacement<'_> {
    sansuo_store::routing::LadderPlacement {
        workflow: case.workflow(),
        step: case.ladder_step(),
        entered_at: now,
        priority: case.priority(),
        unit: case.pool_unit(),
    }
}

/// The offer transaction's guarantee, head on: two offers to one person
/// with room for exactly one, sent at the same moment over two connections.
/// One wins; the other finds them at capacity (the person's row lock queues
/// it, and its re-count, a statement of its own, sees the first offer).
#[tokio::test]
async fn two_simultaneous_offers_to_someone_with_room_for_one_make_one_offer() {
    use sansuo_store::StoreError;
    use sansuo_store::entity::offer;
    const ROUNDS: usize = 8;
    let app = TestApp::spawn().await;
    let store = &app.app.store;
    // Everyone away: the submissions wait in their queues, untouched.
    for lawyer in ["lawyer.zhang", "lawyer.li", "lawyer.wang", "lawyer.zhao"] {
        app.set_presence(lawyer, "away").await;
    }
    let resident = app.resident_token("two-routers").await;
    let mut ids = Vec::new();
    for i in 0..2 * ROUNDS {
        let case = app
            .submit(&resident, &format!("第{i}件：物业费涨价是否合法？"))
            .await;
        let id = case.id;
        eventually("the case to wait in a queue", || async {
            store
                .cases()
                .get(id.into())
                .await
                .unwrap()
                .filter(|c| c.status.is_pooled())
        })
        .await;
        ids.push(id);
    }
    let zhang = app.demo.account("lawyer.zhang").id;
    let now = chrono::Utc::now();
    let expires_at = now + chrono::Duration::hours(1);
    for round in 0..ROUNDS {
        // `round` pending offers already: room for exactly one more.
        store
            .staffing()
            .set_routing(zhang, None, None, Some(round as i32 + 1))
            .await
            .unwrap();
        // Read afresh: the router may have moved them on since.
        let mut pair = Vec::new();
        for id in &ids[2 * round..2 * round + 2] {
            pair.push(store.routing().case((*id).into()).await.unwrap().unwrap());
        }
        let (a, b) = tokio::join!(
            store.routing().offer_case(
                &pair[0],
                placement(&pair[0], now),
                zhang,
                expires_at,
                None,
                now
            ),
            store.routing().offer_case(
                &pair[1],
                placement(&pair[1], now),
                zhang,
                expires_at,
                None,
                now
            ),
        );
        let full = |r: &Result<_, StoreError>| matches!(r, Err(StoreError::AtCapacity));
        assert!(
            (a.is_ok() && full(&b)) || (full(&a) && b.is_ok()),
            "round {round}: one offer and one `at capacity`, got {a:?} and {b:?}"
        );
        assert!(
            !store.offers().has_room(zhang).await.unwrap(),
            "round {round}: full"
        );
    }
    let pending = offer::Entity::find()
        .filter(offer::Column::StaffId.eq(zhang.as_uuid()))
        .filter(offer::Column::Status.eq("pending"))
        .all(store.db())
        .await
        .unwrap();
    assert_eq!(pending.len(), ROUNDS, "one offer per round, never two");
    app.assert_staff_loads_counted().await;
}
