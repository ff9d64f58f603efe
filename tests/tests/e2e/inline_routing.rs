//! A new case is routed by the instance that stored it, for every service:
//! offered to its first handler in the transaction that stores it when
//! that person is free (`store::placement`), else routed right after the
//! commit (`worker::inline`). With that switched off
//! (`SANSUO_INLINE_ROUTING=0`) the outbox's routing job still offers every
//! case, so the in-request paths are shortcuts and never the only way.
//! Which path routed a case is read from the answer, the history and
//! `/metrics` (`sansuo_inline_routings_total`). Races between the paths
//! are the engine's (`engine::three_instances_…`, `concurrency::…`), which
//! run with both on; the first offer's own race is below.

use crate::tips::officer_on_duty;
use reqwest::StatusCode;
use sansuo_tests::views::{ConsultationStatusView as Status, OfferList};
use sansuo_tests::{TestApp, TestOptions, expect_status};
use serde_json::{Value, json};
use uuid::Uuid;

const TOKEN: &str = "metrics-token-0123456789abcdef";

/// One of each service by one resident.
async fn submit_one_of_each(app: &TestApp) -> Vec<Submitted> {
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
        Submitted {
            id: consultation.id,
            person: "lawyer.zhang",
            status: serde_json::to_value(consultation.status)
                .unwrap()
                .as_str()
                .unwrap()
                .to_owned(),
        },
        Submitted {
            id: id(&tip["tip"]["id"]),
            person: "officer.liu",
            status: tip["tip"]["status"].as_str().unwrap().to_owned(),
        },
        Submitted {
            id: id(&mediation["id"]),
            person: "mediator.chen",
            status: mediation["status"].as_str().unwrap().to_owned(),
        },
    ]
}

/// A case as its submission's 201 left it, with the person its
/// community's workflow offers it to first.
struct Submitted {
    id: Uuid,
    person: &'static str,
    status: String,
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

/// The Redis queue's due time of a job, if it is queued.
async fn due_at(app: &TestApp, job_id: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    let client = redis::Client::open(sansuo_tests::redis_url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let score: Option<i64> = redis::cmd("ZSCORE")
        .arg(format!("{}q:routing:due", app.redis_prefix))
        .arg(job_id)
        .query_async(&mut conn)
        .await
        .unwrap();
    score.and_then(chrono::DateTime::from_timestamp_millis)
}

/// The case's history as (action, status after) in chain order.
async fn history(app: &TestApp, case: Uuid) -> Vec<(String, String)> {
    use sansuo_store::entity::case_event;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
    case_event::Entity::find()
        .filter(case_event::Column::CaseId.eq(case))
        .order_by_asc(case_event::Column::Seq)
        .all(app.app.store.db())
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.action, e.to_status))
        .collect()
}

#[tokio::test]
async fn each_service_s_new_case_is_offered_in_the_transaction_that_stores_it() {
    let app = spawn("8").await;
    let before = chrono::Utc::now();
    let cases = submit_one_of_each(&app).await;
    for case in &cases {
        // The 201 already says so, and the person's list shows it at once:
        // nothing was left to route.
        assert_eq!(case.status, "offered", "{}", case.person);
        let token = app.staff_token(case.person).await;
        let offers: OfferList = app.get_as("/api/v1/staff/offers", &token).await;
        let offer = offers
            .items
            .iter()
            .find(|o| o.case_id == case.id)
            .unwrap_or_else(|| panic!("{} has the offer", case.person));
        let events = history(&app, case.id).await;
        assert_eq!(events.first().unwrap().0, "submit");
        assert_eq!(events.last().unwrap(), &("offer".into(), "offered".into()));
        // The router's part came through the outbox: the offer's timer,
        // armed for its expiry, and the case's SLA check, for later.
        let timer = format!("offer_timeout:{}", offer.id);
        let expiry = sansuo_tests::eventually("the offer's timer at its expiry", || async {
            due_at(&app, &timer)
                .await
                .filter(|at| (*at - offer.expires_at).num_seconds().abs() <= 1)
        })
        .await;
        assert!(expiry > before + chrono::Duration::minutes(5));
        let sla = format!("sla_check:{}", case.id);
        sansuo_tests::eventually("the case's SLA check, armed ahead", || async {
            due_at(&app, &sla)
                .await
                .filter(|at| *at > chrono::Utc::now() + chrono::Duration::minutes(1))
        })
        .await;
    }
    assert_eq!(routed_inline(&app).await, 0.0, "no routing was left over");
    app.assert_staff_loads_counted().await;
    let report = app
        .app
        .store
        .cases()
        .verify_chains(sansuo_store::ChainScope::All)
        .await
        .unwrap();
    assert!(report.broken.is_none(), "{report:?}");
    // The history reads as the router writes it (a tip's climb from the
    // community's officer to the station's on duty included): the same
    // submissions on a server that leaves every case to the router.
    let routed = spawn("0").await;
    let by_router = submit_one_of_each(&routed).await;
    for (at_submission, later) in cases.iter().zip(&by_router) {
        let token = routed.staff_token(later.person).await;
        routed.wait_for_offer(&token, &later.id).await;
        assert_eq!(
            history(&app, at_submission.id).await,
            history(&routed, later.id).await,
            "{}",
            later.person
        );
    }
}

#[tokio::test]
async fn a_case_nobody_can_take_now_is_routed_right_after_its_commit() {
    let app = spawn("8").await;
    // Nobody on any step: no first offer; the case waits in a queue, put
    // there by the instance that stored it.
    app.set_presence("lawyer.zhang", "away").await;
    app.pool_lawyers_away().await;
    let resident = app.resident_token("inline").await;
    let case = app.submit(&resident, "劳动合同到期不续签有补偿吗").await;
    // Not offered as it was stored; the routing right after the commit may
    // already have queued it by the time the 201 reads it back.
    assert!(
        [Status::Submitted, Status::Pooled].contains(&case.status),
        "{:?}",
        case.status
    );
    sansuo_tests::eventually("routed by the instance that stored it", || async {
        (routed_inline(&app).await >= 1.0).then_some(())
    })
    .await;
    let status = app.status_of(&resident, &case.id).await;
    assert_ne!(status, Status::Submitted);
}

/// The snapshot the first offer is decided on is read before the
/// submission's transaction, so simultaneous submissions all see the
/// signed lawyer free. The transaction's `UPDATE … WHERE load < capacity`
/// decides: never more offers than room, and every other case goes on to
/// the router, none lost.
#[tokio::test]
async fn simultaneous_submissions_never_overfill_the_first_handler() {
    use sansuo_store::entity::offer;
    use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
    const SUBMISSIONS: usize = 16;
    const ROOM: i32 = 3;
    let app = spawn("8").await;
    let store = &app.app.store;
    let zhang = app.demo.account("lawyer.zhang").id;
    store
        .staffing()
        .set_routing(zhang, None, None, Some(ROOM))
        .await
        .unwrap();
    let residents: Vec<String> = futures::future::join_all((0..SUBMISSIONS).map(|i| {
        let app = &app;
        async move { app.resident_token(&format!("burst-{i}")).await }
    }))
    .await;
    let submitted = futures::future::join_all(residents.iter().enumerate().map(|(i, r)| {
        let app = &app;
        async move {
            app.submit(r, &format!("第{i}件：物业费涨价是否合法？"))
                .await
        }
    }))
    .await;
    // Offered at submission: to the signed lawyer while he had room, then
    // (his snapshot full, or every slot taken) to the firm pool's lawyers
    // or by the router; never past anyone's room.
    let offered_at_submission = submitted
        .iter()
        .filter(|c| c.status == Status::Offered)
        .count();
    assert!(offered_at_submission >= 1, "none offered at submission");
    // Every case is routed.
    for (case, resident) in submitted.iter().zip(&residents) {
        let id = case.id;
        sansuo_tests::eventually("every case routed", || async {
            let status = app.status_of(resident, &id).await;
            (status != Status::Submitted).then_some(())
        })
        .await;
    }
    let zhang_pending = offer::Entity::find()
        .filter(offer::Column::StaffId.eq(zhang.as_uuid()))
        .filter(offer::Column::Status.eq("pending"))
        .all(store.db())
        .await
        .unwrap()
        .len();
    assert!(zhang_pending <= ROOM as usize, "{zhang_pending} > {ROOM}");
    let over = store
        .db()
        .query_all_raw(sea_orm::Statement::from_string(
            store.backend(),
            "SELECT id FROM staff WHERE load > capacity",
        ))
        .await
        .unwrap();
    assert!(over.is_empty(), "{} staff past their capacity", over.len());
    app.assert_staff_loads_counted().await;
}

/// The offer's timer comes through the outbox and arms itself: an offer
/// made at submission lapses on time and the case moves on.
#[tokio::test]
async fn an_offer_made_at_submission_lapses_on_time_and_the_case_moves_on() {
    let app = TestApp::spawn_with(TestOptions {
        offer_timeout_secs: 2,
        ..TestOptions::default()
    })
    .await;
    let resident = app.resident_token("lapse").await;
    let case = app.submit(&resident, "劳动合同到期不续签有补偿吗").await;
    assert_eq!(case.status, Status::Offered);
    let zhang = app.demo.account("lawyer.zhang").id;
    let next = sansuo_tests::eventually("offered to someone else after the lapse", || async {
        use sansuo_store::entity::offer;
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
        let offers = offer::Entity::find()
            .filter(offer::Column::CaseId.eq(case.id))
            .all(app.app.store.db())
            .await
            .unwrap();
        let lapsed = offers
            .iter()
            .any(|o| o.staff_id == zhang.as_uuid() && o.status == "expired");
        let next = offers
            .iter()
            .find(|o| o.staff_id != zhang.as_uuid() && o.status == "pending");
        next.filter(|_| lapsed).map(|o| o.staff_id)
    })
    .await;
    assert_ne!(next, zhang.as_uuid());
    app.assert_staff_loads_counted().await;
}

/// Offers at submission take one of the instance's slots
/// (`SANSUO_INLINE_ROUTING` of them) for the length of the submission; a
/// submission that finds none free is stored without its offer, answered
/// at once, and routed right after its commit. So a burst the database
/// cannot keep up with queues its routing, not its requests.
#[tokio::test]
async fn with_every_slot_taken_a_submission_is_stored_at_once_and_routed_after() {
    use sansuo_domain::catalog::Service;
    let app = spawn("1").await;
    let store = &app.app.store;
    let community = app.demo.community_a;
    let now = chrono::Utc::now();
    let held = store
        .routing()
        .first_offer(community, "LJ01", Service::Consultation, now)
        .await
        .unwrap()
        .expect("the one slot, and the signed lawyer free");
    assert!(
        store
            .routing()
            .first_offer(community, "LJ01", Service::Consultation, now)
            .await
            .unwrap()
            .is_none(),
        "no second slot"
    );
    let resident = app.resident_token("slots").await;
    let without = app.submit(&resident, "劳动合同到期不续签有补偿吗").await;
    // Stored without its offer, so routed right after its commit (counted
    // below: a submission offered as it is stored is never handed there),
    // perhaps before the 201 reads it back.
    let zhang = app.staff_token("lawyer.zhang").await;
    app.wait_for_offer(&zhang, &without.id).await;
    sansuo_tests::eventually("routed by the instance that stored it", || async {
        (routed_inline(&app).await >= 1.0).then_some(())
    })
    .await;
    drop(held);
    let with = app.submit(&resident, "公司拖欠工资三个月怎么办").await;
    assert_eq!(with.status, Status::Offered);
    app.assert_staff_loads_counted().await;
}

#[tokio::test]
async fn on_the_embedded_default_too_a_new_case_is_offered_as_it_is_stored() {
    let app = TestApp::spawn_embedded().await;
    let resident = app.resident_token("embedded").await;
    let case = app.submit(&resident, "劳动合同到期不续签有补偿吗").await;
    assert_eq!(case.status, Status::Offered);
    let lawyer = app.staff_token("lawyer.zhang").await;
    let offers: OfferList = app.get_as("/api/v1/staff/offers", &lawyer).await;
    assert!(offers.items.iter().any(|o| o.case_id == case.id));
    app.assert_staff_loads_counted().await;
}

#[tokio::test]
async fn switched_off_every_service_s_case_is_still_offered_through_the_outbox() {
    let app = spawn("0").await;
    let cases = submit_one_of_each(&app).await;
    for case in &cases {
        let token = app.staff_token(case.person).await;
        app.wait_for_offer(&token, &case.id).await;
    }
    assert_eq!(routed_inline(&app).await, 0.0);
}
