//! The routing engine end to end: ladders with short timeouts, fairness,
//! capacity, next candidate, hand-back, reopen, pull, SLA breaches, Redis
//! flushed mid-run and several instances routing one workload.

use reqwest::StatusCode;
use sansuo_store::entity::{case, offer};
use sansuo_tests::views::{
    ConsultationStatusView as Status, ConsultationView, OfferList, OfferView, RoutingCasePage,
    RoutingCaseView, StaffCaseView,
};
use sansuo_tests::{
    PrivateRedis, TestApp, TestOptions, eventually, eventually_within, expect_error, expect_json,
    expect_status,
};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashSet};
use uuid::Uuid;

/// Replace the consultation workflow's ladder (SLA targets stay generous).
async fn set_ladder(app: &TestApp, ladder: Value) {
    let admin = app.staff_token("admin").await;
    let body = json!({
        "sla": {"accept_minutes": 240, "first_response_minutes": 420, "resolution_minutes": 2100},
        "ladder": ladder,
    });
    expect_status(
        app.put("/api/v1/admin/workflows/consultation_lawyer", &admin, body)
            .await,
        StatusCode::OK,
    )
    .await;
}

/// Every lawyer of the street, one ladder step, ten minutes.
fn street_only() -> Value {
    json!([{ "role": "lawyer", "level": "street", "timeout_minutes": 10 }])
}

async fn offers_of(app: &TestApp, case_id: &Uuid) -> Vec<offer::Model> {
    offer::Entity::find()
        .filter(offer::Column::CaseId.eq(*case_id))
        .order_by_asc(offer::Column::CreatedAt)
        .all(app.app.store.db())
        .await
        .unwrap()
}

async fn case_row(app: &TestApp, case_id: &Uuid) -> case::Model {
    case::Entity::find_by_id(*case_id)
        .one(app.app.store.db())
        .await
        .unwrap()
        .unwrap()
}

fn actions(view: &ConsultationView) -> Vec<String> {
    view.history.iter().map(|e| e.action.clone()).collect()
}

async fn pending_offers(app: &TestApp, token: &str) -> Vec<OfferView> {
    app.get_as::<OfferList>("/api/v1/staff/offers", token)
        .await
        .items
}

const LAWYERS: [&str; 4] = ["lawyer.zhang", "lawyer.li", "lawyer.wang", "lawyer.zhao"];

#[tokio::test]
async fn a_case_nobody_takes_climbs_three_steps_then_waits_with_the_coordinators() {
    let app = TestApp::spawn().await;
    // Three steps of two seconds: the signed lawyer, the street's pool, the
    // district (no firm is signed there, so nobody: the case waits it out).
    set_ladder(
        &app,
        json!([
            { "role": "lawyer", "level": "community", "timeout_minutes": 1, "timeout_seconds": 2, "signed_lawyer_only": true },
            { "role": "lawyer", "level": "street", "timeout_minutes": 1, "timeout_seconds": 2, "priority_boost": 1 },
            { "role": "lawyer", "level": "district", "timeout_minutes": 1, "timeout_seconds": 2, "priority_boost": 2 },
        ]),
    )
    .await;
    let resident = app.resident_token("nobody-answers").await;
    let case = app
        .submit(&resident, "房东不退押金还扣了清洁费，合理吗？")
        .await;
    let id = case.id;
    let zhang = app.staff_token("lawyer.zhang").await;
    app.wait_for_offer(&zhang, &id).await;

    let coordinator = app.staff_token("coordinator.sun").await;
    let unrouted = eventually_within(20, "the case to reach the unrouted queue", || async {
        let page: RoutingCasePage = app.get_as("/api/v1/admin/unrouted", &coordinator).await;
        page.items.into_iter().find(|c| c.id == id)
    })
    .await;
    assert_eq!(unrouted.ladder_step, 2);
    assert_eq!(unrouted.priority, 2 + 1 + 2, "category 2, boosts 1 and 2");
    assert!(unrouted.unrouted_at.is_some());

    let row = case_row(&app, &id).await;
    let offers = offers_of(&app, &id).await;
    assert_eq!(
        offers.iter().map(|o| o.ladder_step).collect::<Vec<_>>(),
        [0, 1],
        "one offer on each staffed step"
    );
    assert_eq!(
        offers[0].staff_id,
        app.demo.account("lawyer.zhang").id.as_uuid()
    );
    assert!(offers.iter().all(|o| o.status == "expired"));
    // An offer never outlives its step.
    for o in &offers {
        assert!(o.expires_at - o.created_at <= chrono::Duration::seconds(2));
    }
    assert_eq!(row.status, "pooled");

    let admin = app.staff_token("admin").await;
    expect_error(
        app.get(&format!("/api/v1/staff/consultations/{id}"), &zhang)
            .await,
        StatusCode::NOT_FOUND,
        "consultation_not_found",
    )
    .await;

    // The coordinator gives it to wang by hand; it leaves the unrouted queue.
    let wang = app.demo.account("lawyer.wang").id;
    let reassigned: RoutingCaseView = app
        .post_as(
            &format!("/api/v1/admin/cases/{id}/reassign"),
            &coordinator,
            json!({"staff_id": wang.as_uuid(), "reason": "熟悉租赁纠纷，请王律师跟进"}),
        )
        .await;
    assert_eq!(reassigned.status, "assigned");
    assert_eq!(reassigned.owner_staff_id, Some(wang.as_uuid()));
    assert!(reassigned.unrouted_at.is_none());
    let page: RoutingCasePage = app.get_as("/api/v1/admin/unrouted", &admin).await;
    assert!(page.items.is_empty(), "{page:?}");
    let wang_token = app.staff_token("lawyer.wang").await;
    let view: ConsultationView = app
        .get_as(&format!("/api/v1/staff/consultations/{id}"), &wang_token)
        .await;
    assert_eq!(
        actions(&view),
        [
            "submit",
            "offer",
            "expire_offer",
            "escalate",
            "offer",
            "expire_offer",
            "escalate",
            "unroute",
            "reassign"
        ]
    );
    app.assert_staff_loads_counted().await;
}

#[tokio::test]
async fn twenty_cases_over_four_equal_lawyers_land_five_each_and_capacity_holds() {
    let app = TestApp::spawn().await;
    set_ladder(&app, street_only()).await;
    let store = &app.app.store;
    for lawyer in LAWYERS {
        store
            .staffing()
            .set_routing(app.demo.account(lawyer).id, None, None, Some(5))
            .await
            .unwrap();
    }
    let resident = app.resident_token("busy-building").await;
    let mut ids = Vec::new();
    for i in 0..21 {
        let case = app
            .submit(&resident, &format!("第{i}户：电梯加装费用怎么分摊才合法？"))
            .await;
        ids.push(case.id);
    }
    let tokens: Vec<String> =
        futures::future::join_all(LAWYERS.iter().map(|l| app.staff_token(l))).await;
    // Twenty offers go out, five to each; the 21st case finds everyone full.
    let per_lawyer = eventually("twenty offers", || async {
        let mut counts = Vec::new();
        for token in &tokens {
            counts.push(pending_offers(&app, token).await.len());
        }
        (counts.iter().sum::<usize>() == 20).then_some(counts)
    })
    .await;
    assert_eq!(per_lawyer, [5, 5, 5, 5], "fair and within capacity");
    let waiting: Vec<&Uuid> = {
        let mut waiting = Vec::new();
        for id in &ids {
            if app.status_of(&resident, id).await == Status::Pooled {
                waiting.push(id);
            }
        }
        waiting
    };
    assert_eq!(waiting.len(), 1, "one case waits for room");
    let last = *waiting[0];

    // wang declines one: his place goes to the waiting case at once, and
    // the declined case waits (everyone else is full, wang said no to it).
    let wang = &tokens[2];
    let offers = pending_offers(&app, wang).await;
    let declined_case = offers[0].case_id;
    expect_status(
        app.post(
            &format!("/api/v1/staff/offers/{}/decline", offers[0].id),
            wang,
            json!({"reason": "与当事人存在利益冲突"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    eventually("the waiting case to be offered to wang", || async {
        pending_offers(&app, wang)
            .await
            .iter()
            .any(|o| o.case_id == last)
            .then_some(())
    })
    .await;
    app.wait_for_status(&resident, &declined_case, Status::Pooled)
        .await;
    let total: usize = {
        let mut total = 0;
        for token in &tokens {
            let mine = pending_offers(&app, token).await.len();
            assert!(mine <= 5, "capacity holds");
            total += mine;
        }
        total
    };
    assert_eq!(total, 20);
    // Everyone accepts: five owners of five cases each.
    for token in &tokens {
        for offer in pending_offers(&app, token).await {
            app.accept_offer(token, &offer).await;
        }
    }
    let mut owners: BTreeMap<Uuid, usize> = BTreeMap::new();
    for id in &ids {
        if let Some(owner) = case_row(&app, id).await.owner_staff_id {
            *owners.entry(owner).or_default() += 1;
        }
    }
    assert_eq!(owners.values().copied().collect::<Vec<_>>(), [5, 5, 5, 5]);
    app.assert_staff_loads_counted().await;
}

#[tokio::test]
async fn a_decline_goes_to_the_next_candidate_and_never_back_to_the_decliner() {
    let app = TestApp::spawn().await;
    let resident = app.resident_token("next-please").await;
    let zhang = app.staff_token("lawyer.zhang").await;
    let case = app
        .submit(&resident, "物业费上涨没有开业主大会，合法吗？")
        .await;
    let id = case.id;
    let offer = app.wait_for_offer(&zhang, &id).await;
    expect_status(
        app.post(
            &format!("/api/v1/staff/offers/{}/decline", offer.id),
            &zhang,
            json!({"reason": "本人是该小区业委会成员，需回避"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    // zhang is in the street's pool too, but said no to this case.
    let offers = eventually("a second offer", || async {
        let offers = offers_of(&app, &id).await;
        (offers.len() == 2).then_some(offers)
    })
    .await;
    let zhang_id = app.demo.account("lawyer.zhang").id.as_uuid();
    assert_eq!(offers[0].staff_id, zhang_id);
    assert_ne!(offers[1].staff_id, zhang_id);
    assert_eq!((offers[0].ladder_step, offers[1].ladder_step), (0, 1));
    assert_eq!(offers[1].status, "pending");
    app.assert_staff_loads_counted().await;
}

#[tokio::test]
async fn a_hand_back_reroutes_and_a_reopened_case_returns_to_its_lawyer() {
    let app = TestApp::spawn().await;
    set_ladder(&app, street_only()).await;
    let resident = app.resident_token("handed-back").await;
    let case = app
        .submit(&resident, "公司让签自愿放弃社保的协议，有效吗？")
        .await;
    let id = case.id;
    let first = eventually("an offer", || async {
        offers_of(&app, &id).await.into_iter().next()
    })
    .await;
    let first_lawyer = LAWYERS
        .iter()
        .find(|l| app.demo.account(l).id.as_uuid() == first.staff_id)
        .unwrap();
    let token = app.staff_token(first_lawyer).await;
    let offer = app.wait_for_offer(&token, &id).await;
    app.accept_offer(&token, &offer).await;

    let hand_back = format!("/api/v1/staff/consultations/{id}/hand-back");
    expect_error(
        app.post(&hand_back, &token, json!({"reason": "x"})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    let other = app
        .staff_token(if *first_lawyer == "lawyer.zhao" {
            "lawyer.wang"
        } else {
            "lawyer.zhao"
        })
        .await;
    expect_error(
        app.post(&hand_back, &other, json!({"reason": "不是我的案件"}))
            .await,
        StatusCode::NOT_FOUND,
        "consultation_not_found",
    )
    .await;
    let handed: sansuo_tests::views::CaseStatusView = app
        .post_as(
            &hand_back,
            &token,
            json!({"reason": "劳动争议非本人擅长，请同事处理"}),
        )
        .await;
    assert_eq!(handed.status, Status::Pooled);
    let second = eventually("the case offered to someone else", || async {
        offers_of(&app, &id)
            .await
            .into_iter()
            .find(|o| o.status == "pending")
    })
    .await;
    assert_ne!(
        second.staff_id, first.staff_id,
        "not back to who handed it back"
    );
    let second_lawyer = LAWYERS
        .iter()
        .find(|l| app.demo.account(l).id.as_uuid() == second.staff_id)
        .unwrap();
    let second_token = app.staff_token(second_lawyer).await;
    let offer = app.wait_for_offer(&second_token, &id).await;
    app.accept_offer(&second_token, &offer).await;
    expect_status(
        app.post(
            &format!("/api/v1/staff/consultations/{id}/messages"),
            &second_token,
            json!({"body": "此类协议无效，用人单位仍须依法缴纳社保。", "visibility": "public"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    expect_status(
        app.post(
            &format!("/api/v1/staff/consultations/{id}/resolve"),
            &second_token,
            json!({}),
        )
        .await,
        StatusCode::OK,
    )
    .await;

    // The resident reopens it: it goes back to the lawyer who resolved it.
    let reopen = format!("/api/v1/consultations/{id}/reopen");
    let stranger = app.resident_token("someone-else").await;
    expect_error(
        app.post(&reopen, &stranger, json!({"reason": "我也想问"}))
            .await,
        StatusCode::NOT_FOUND,
        "consultation_not_found",
    )
    .await;
    let reopened: ConsultationView = app
        .post_as(
            &reopen,
            &resident,
            json!({"reason": "公司仍不缴纳，想问下一步怎么投诉"}),
        )
        .await;
    assert_eq!(reopened.status, Status::Pooled);
    let back = app.wait_for_offer(&second_token, &id).await;
    app.accept_offer(&second_token, &back).await;
    assert_eq!(app.status_of(&resident, &id).await, Status::Assigned);
    // Reopening twice, or a case that is not resolved, is refused.
    expect_error(
        app.post(&reopen, &resident, json!({"reason": "再次重开"}))
            .await,
        StatusCode::CONFLICT,
        "state_conflict",
    )
    .await;
    app.assert_staff_loads_counted().await;
}

#[tokio::test]
async fn pulling_the_next_case_takes_each_waiting_case_once_highest_priority_first() {
    let app = TestApp::spawn().await;
    set_ladder(&app, street_only()).await;
    for lawyer in LAWYERS {
        app.set_presence(lawyer, "away").await;
    }
    let resident = app.resident_token("pull").await;
    let mut ids = HashSet::new();
    for i in 0..6 {
        let case = app
            .submit(&resident, &format!("第{i}个：小区车位只租不售合法吗？"))
            .await;
        ids.insert(case.id);
    }
    // A higher-priority category (婚姻家庭 HY, priority 3 in the catalogue is
    // not guaranteed; set one case's priority directly to make the order visible).
    for id in &ids {
        app.wait_for_status(&resident, id, Status::Pooled).await;
    }
    let urgent = *ids.iter().next().unwrap();
    case::Entity::update_many()
        .col_expr(case::Column::Priority, sea_orm::sea_query::Expr::value(9))
        .filter(case::Column::Id.eq(urgent))
        .exec(app.app.store.db())
        .await
        .unwrap();

    let wang = app.staff_token("lawyer.wang").await;
    let zhao = app.staff_token("lawyer.zhao").await;
    let first: StaffCaseView = app
        .post_as("/api/v1/staff/next-case", &wang, json!({}))
        .await;
    let StaffCaseView::Consultation(first) = first else {
        panic!("a consultation: {first:?}")
    };
    assert_eq!(first.id, urgent, "highest priority first");
    assert_eq!(first.status, Status::Assigned);
    // Two lawyers pulling at once until nothing is left: each case once.
    let mut taken = vec![urgent];
    loop {
        let (a, b) = tokio::join!(
            app.post("/api/v1/staff/next-case", &wang, json!({})),
            app.post("/api/v1/staff/next-case", &zhao, json!({}))
        );
        let mut empty = 0;
        for response in [a, b] {
            match response.status() {
                StatusCode::OK => {
                    let body: StaffCaseView = expect_json(response, StatusCode::OK).await;
                    let StaffCaseView::Consultation(body) = body else {
                        panic!("a consultation: {body:?}")
                    };
                    taken.push(body.id);
                }
                StatusCode::NO_CONTENT => empty += 1,
                other => panic!("unexpected {other}"),
            }
        }
        if empty == 2 {
            break;
        }
    }
    let unique: HashSet<Uuid> = taken.iter().copied().collect();
    assert_eq!(taken.len(), 6, "{taken:?}");
    assert_eq!(unique, ids);
    let resident_token = app.resident_token("pull").await;
    expect_error(
        app.post("/api/v1/staff/next-case", &resident_token, json!({}))
            .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    app.assert_staff_loads_counted().await;
}

#[tokio::test]
async fn coming_back_to_available_brings_the_waiting_case_at_once() {
    // Reconciliation once an hour: only the availability event can route it.
    let app = TestApp::spawn().await;
    set_ladder(&app, street_only()).await;
    for lawyer in LAWYERS {
        app.set_presence(lawyer, "away").await;
    }
    let resident = app.resident_token("waiting").await;
    let case = app
        .submit(&resident, "业主群里被人辱骂，可以起诉吗？")
        .await;
    let id = case.id;
    app.wait_for_status(&resident, &id, Status::Pooled).await;
    app.set_presence("lawyer.zhao", "available").await;
    let zhao = app.staff_token("lawyer.zhao").await;
    app.wait_for_offer(&zhao, &id).await;
    app.assert_staff_loads_counted().await;
}

#[tokio::test]
async fn a_missed_accept_target_is_recorded_once_and_escalates_the_case() {
    let app = TestApp::spawn().await;
    app.pool_lawyers_away().await;
    app.set_presence("lawyer.zhang", "away").await;
    let resident = app.resident_token("slow-day").await;
    let case = app.submit(&resident, "遗嘱没有公证，还有效吗？").await;
    let id = case.id;
    app.wait_for_status(&resident, &id, Status::Pooled).await;
    let before = case_row(&app, &id).await;
    assert_eq!(
        before.ladder_step, 1,
        "the signed lawyer's step was skipped"
    );

    // Ten days on (business time counts working hours only; ten calendar
    // days always hold more than the four-hour accept target).
    let later = chrono::Utc::now() + chrono::Duration::days(10);
    let case_id = id.into();
    app.app.worker.check_sla(case_id, later).await.unwrap();
    app.app.worker.check_sla(case_id, later).await.unwrap();
    let breaches = app
        .app
        .store
        .routing()
        .sla_breaches_of(case_id)
        .await
        .unwrap();
    let clocks: Vec<&str> = breaches.iter().map(|b| b.clock.as_str()).collect();
    assert_eq!(clocks, ["accept", "resolution"], "each clock once");
    let after = case_row(&app, &id).await;
    assert_eq!(after.ladder_step, 2, "a breach climbs one step");
    let events: Vec<String> = sansuo_store::entity::case_event::Entity::find()
        .filter(sansuo_store::entity::case_event::Column::CaseId.eq(after.id))
        .order_by_asc(sansuo_store::entity::case_event::Column::Id)
        .all(app.app.store.db())
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert_eq!(
        events.iter().filter(|a| *a == "sla_breach").count(),
        2,
        "{events:?}"
    );
    assert!(events.contains(&"escalate".to_owned()));
    app.assert_staff_loads_counted().await;
}

/// Lawyers who accept every offer they see, until told to stop.
fn accept_everything(app: &TestApp, tokens: Vec<String>) -> tokio::task::JoinHandle<()> {
    let http = app.http.clone();
    let base = app.url("");
    tokio::spawn(async move {
        loop {
            for token in &tokens {
                let Ok(response) = http
                    .get(format!("{base}/api/v1/staff/offers"))
                    .bearer_auth(token)
                    .send()
                    .await
                else {
                    continue;
                };
                let Ok(body) = response.json::<OfferList>().await else {
                    continue;
                };
                for offer in body.items {
                    let _ = http
                        .post(format!("{base}/api/v1/staff/offers/{}/accept", offer.id))
                        .bearer_auth(token)
                        .json(&json!({}))
                        .send()
                        .await;
                }
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    })
}

/// Each case owned exactly once, by one accepted offer, and never two
/// offers pending at the same time.
async fn assert_each_case_owned_once(app: &TestApp, ids: &[Uuid]) {
    for id in ids {
        let row = case_row(app, id).await;
        assert_eq!(row.status, "assigned", "{id}");
        let offers = offers_of(app, id).await;
        let accepted: Vec<_> = offers.iter().filter(|o| o.status == "accepted").collect();
        assert_eq!(accepted.len(), 1, "{id}: {offers:?}");
        assert_eq!(Some(accepted[0].staff_id), row.owner_staff_id);
        for pair in offers.windows(2) {
            let answered = pair[0].responded_at.expect("an earlier offer was answered");
            assert!(
                answered <= pair[1].created_at,
                "overlapping offers: {offers:?}"
            );
        }
    }
}

#[tokio::test]
async fn redis_flushed_mid_run_every_case_still_reaches_one_owner() {
    let redis = PrivateRedis::start().await;
    let app = TestApp::spawn_with(TestOptions {
        redis_url: Some(redis.url()),
        reconcile_secs: 1,
        offer_timeout_secs: 3,
        ..TestOptions::default()
    })
    .await;
    set_ladder(&app, street_only()).await;
    let resident = app.resident_token("flushed").await;
    let mut ids = Vec::new();
    for i in 0..12 {
        if i == 6 {
            // Everything Redis held (queued route jobs, offer timers, the
            // rebuilt marker) is gone at once.
            let mut conn = redis::Client::open(redis.url())
                .unwrap()
                .get_multiplexed_async_connection()
                .await
                .unwrap();
            let _: () = redis::cmd("FLUSHALL").query_async(&mut conn).await.unwrap();
        }
        let case = app
            .submit(
                &resident,
                &format!("第{i}宗：快递丢件平台只赔三倍运费合理吗？"),
            )
            .await;
        ids.push(case.id);
    }
    let tokens: Vec<String> =
        futures::future::join_all(LAWYERS.iter().map(|l| app.staff_token(l))).await;
    let acceptors = accept_everything(&app, tokens);
    for id in &ids {
        eventually_within(30, "every case to be owned", || async {
            (app.status_of(&resident, id).await == Status::Assigned).then_some(())
        })
        .await;
    }
    acceptors.abort();
    assert_each_case_owned_once(&app, &ids).await;
    app.assert_staff_loads_counted().await;
}

#[tokio::test]
async fn three_instances_route_one_workload_without_double_offers_or_lost_cases() {
    let app = TestApp::spawn().await;
    set_ladder(&app, street_only()).await;
    let mut siblings = vec![app.spawn_sibling().await, app.spawn_sibling().await];
    let resident = app.resident_token("three-instances").await;
    let mut ids = Vec::new();
    for i in 0..15 {
        // Spread submissions over the three instances.
        let port = match i % 3 {
            0 => app.app.port,
            n => siblings[n - 1].port,
        };
        let response = app
            .http
            .post(format!("http://127.0.0.1:{port}/api/v1/consultations"))
            .bearer_auth(&resident)
            .json(&json!({
                "community_id": app.demo.community_a.as_uuid(),
                "category_code": "LJ01",
                "question": format!("第{i}件：楼上漏水把我家天花板泡坏了谁来赔？"),
            }))
            .send()
            .await
            .unwrap();
        let case: ConsultationView = expect_json(response, StatusCode::CREATED).await;
        ids.push(case.id);
    }
    let tokens: Vec<String> =
        futures::future::join_all(LAWYERS.iter().map(|l| app.staff_token(l))).await;
    let acceptors = accept_everything(&app, tokens);
    for id in &ids {
        eventually_within(30, "every case to be owned", || async {
            (app.status_of(&resident, id).await == Status::Assigned).then_some(())
        })
        .await;
    }
    acceptors.abort();
    assert_each_case_owned_once(&app, &ids).await;
    for sibling in &mut siblings {
        sibling.stop().await;
    }
    app.assert_staff_loads_counted().await;
}

/// Outbox rows: (all, not yet published).
async fn outbox_counts(app: &TestApp) -> (u64, u64) {
    use sansuo_store::entity::outbox;
    use sea_orm::PaginatorTrait;
    let all = outbox::Entity::find()
        .count(app.app.store.db())
        .await
        .unwrap();
    (all, app.app.store.outbox().backlog().await.unwrap())
}

/// `step` must add outbox work and have it published by the relay of this
/// instance. With the relay's idle poll at an hour, only the store's own
/// wake-up after the commit can publish it within the test's ten seconds.
async fn published_at_once<F: std::future::Future<Output = ()>>(
    app: &TestApp,
    what: &str,
    step: F,
) {
    let (before, _) = outbox_counts(app).await;
    step.await;
    let (after, _) = outbox_counts(app).await;
    assert!(after > before, "{what} adds outbox work");
    eventually(&format!("the work of {what} to be published"), || async {
        (outbox_counts(app).await.1 == 0).then_some(())
    })
    .await;
}

#[tokio::test]
async fn every_commit_that_adds_work_wakes_the_relay_without_waiting_for_its_poll() {
    // An hour between polls: nothing here is published by the poll.
    let app = TestApp::spawn_with(TestOptions {
        env: vec![("SANSUO_IDLE_POLL_MS", "3600000".into())],
        ..TestOptions::default()
    })
    .await;
    app.pool_lawyers_away().await;
    let resident = app.resident_token("prompt").await;
    let zhang = app.staff_token("lawyer.zhang").await;

    // Create: the route job is published and the offer appears.
    let case = app.submit(&resident, "物业费涨价没有公示合法吗？").await;
    let id = case.id;
    let offer = app.wait_for_offer(&zhang, &id).await;

    // Accept: the resident's "accepted" message is owed.
    published_at_once(&app, "an accept", async {
        app.accept_offer(&zhang, &offer).await;
    })
    .await;

    // A staff reply (the first public one): the "answered" message is owed.
    published_at_once(&app, "a staff reply", async {
        expect_status(
            app.post(
                &format!("/api/v1/staff/consultations/{id}/messages"),
                &zhang,
                json!({ "body": "涨价须经业主大会或公示，可先向物业索要依据。" }),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
    })
    .await;

    // A resident follow-up written while WeChat's checker is down: its
    // content check is owed.
    published_at_once(&app, "a resident follow-up", async {
        app.wechat
            .fail_next_status(sansuo_wechat_fake::MSG_SEC_CHECK_PATH, 500, 1);
        expect_status(
            app.post(
                &format!("/api/v1/consultations/{id}/messages"),
                &resident,
                json!({ "body": "没有公示的话可以拒交吗？" }),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
    })
    .await;

    // Claim: a case waiting in the street's pool, taken by hand.
    set_ladder(&app, street_only()).await;
    app.set_presence("lawyer.zhang", "away").await;
    let waiting = app.submit(&resident, "楼上漏水物业不管怎么办？").await;
    let waiting_id = waiting.id;
    app.wait_for_status(&resident, &waiting_id, Status::Pooled)
        .await;
    let wang = app.staff_token("lawyer.wang").await;
    published_at_once(&app, "a claim", async {
        expect_status(
            app.post(
                &format!("/api/v1/staff/consultations/{waiting_id}/claim"),
                &wang,
                json!({}),
            )
            .await,
            StatusCode::OK,
        )
        .await;
    })
    .await;
    app.wait_for_status(&resident, &waiting_id, Status::Assigned)
        .await;
    app.assert_staff_loads_counted().await;
}

/// Issue 19, 2: the router offering a case to someone while that person
/// pulls the same case with "next case". Both touch the person's row and
/// the case's row; taken in opposite orders they deadlocked (PostgreSQL
/// killed one and the lawyer got a 500). Many rounds, with the router a
/// little earlier or later each time: no deadlock, no 500, one owner.
#[tokio::test]
async fn the_router_offering_and_next_case_racing_on_one_person_never_deadlock() {
    const ROUNDS: usize = 120;
    let app = TestApp::spawn().await;
    let store = &app.app.store;
    set_ladder(&app, street_only()).await;
    for lawyer in LAWYERS {
        app.set_presence(lawyer, "away").await;
    }
    let wang_id = app.demo.account("lawyer.wang").id;
    store
        .staffing()
        .set_routing(wang_id, None, None, Some(1000))
        .await
        .unwrap();
    let wang = app.staff_token("lawyer.wang").await;
    let resident = app.resident_token("race").await;
    let mut ids = Vec::new();
    for i in 0..ROUNDS {
        let case = app
            .submit(&resident, &format!("第{i}个：物业能否停水催缴物业费？"))
            .await;
        ids.push(case.id);
    }
    for id in &ids {
        app.wait_for_status(&resident, id, Status::Pooled).await;
    }
    let mut deadlocks = 0;
    for round in 0..ROUNDS {
        // The case "next case" takes first: highest priority, oldest.
        let Some(next) = case::Entity::find()
            .filter(case::Column::Status.eq("pooled"))
            .order_by_desc(case::Column::Priority)
            .order_by_asc(case::Column::QueuedAt)
            .one(store.db())
            .await
            .unwrap()
        else {
            break;
        };
        let now = chrono::Utc::now();
        let next = store.routing().case(next.id.into()).await.unwrap().unwrap();
        let at = sansuo_store::routing::LadderPlacement {
            workflow: next.workflow(),
            step: next.ladder_step(),
            entered_at: now,
            priority: next.priority(),
            unit: next.pool_unit(),
        };
        // 0 to 12 ms in steps of 0.1 ms, so some round lands in the window.
        let delay = std::time::Duration::from_micros((round as u64 * 100) % 12_000);
        let (offered, pulled) = tokio::join!(
            async {
                tokio::time::sleep(delay).await;
                store
                    .routing()
                    .offer_case(
                        &next,
                        at,
                        wang_id,
                        now + chrono::Duration::hours(1),
                        None,
                        now,
                    )
                    .await
            },
            app.post("/api/v1/staff/next-case", &wang, json!({}))
        );
        match offered {
            Ok(_) | Err(sansuo_store::StoreError::Conflict(_)) => {}
            Err(err) => {
                deadlocks += 1;
                eprintln!("round {round}: the offer failed: {err}");
            }
        }
        let status = pulled.status();
        let body = pulled.text().await.unwrap();
        if !(status == StatusCode::OK || status == StatusCode::NO_CONTENT) {
            deadlocks += 1;
            eprintln!("round {round}: next-case answered {status}: {body}");
        }
    }
    assert_eq!(deadlocks, 0, "no round deadlocked or failed");
    // Every case has at most one owner-or-offer.
    for id in &ids {
        let row = case_row(&app, id).await;
        let pending = offers_of(&app, id)
            .await
            .iter()
            .filter(|o| o.status == "pending")
            .count();
        assert!(
            pending + usize::from(row.owner_staff_id.is_some()) <= 1,
            "case {id}: {} with {pending} pending offers",
            row.status
        );
    }
    app.assert_staff_loads_counted().await;
}

/// Issue 15: a ladder step's timeout runs in business time. A case whose
/// step began on Friday evening is not escalated when routed on the
/// Saturday or the Sunday, and is on Monday once the step's business
/// minutes have passed. The router is asked at those instants
/// (`Worker::route_at`); nothing sleeps.
#[tokio::test]
async fn a_step_timeout_across_a_weekend() {
    use chrono::{Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Utc, Weekday};
    use sansuo_store::entity::case;
    use sea_orm::sea_query::Expr;

    let app = TestApp::spawn().await;
    // The signed lawyer for an hour of business time, then the street.
    set_ladder(
        &app,
        json!([
            { "role": "lawyer", "level": "community", "timeout_minutes": 60, "signed_lawyer_only": true },
            { "role": "lawyer", "level": "street", "timeout_minutes": 60, "priority_boost": 1 },
        ]),
    )
    .await;
    // Nobody available: the case waits on its step (steps do not skip).
    for lawyer in LAWYERS {
        app.set_presence(lawyer, "away").await;
    }
    let resident = app.resident_token("weekend").await;
    let case = app
        .submit(&resident, "周五晚上提交的咨询：物业费涨价合法吗？")
        .await;
    let id = case.id;
    app.wait_for_status(&resident, &id, Status::Pooled).await;
    assert_eq!(case_row(&app, &id).await.ladder_step, 0);

    // A coming weekend that the district's calendar leaves plain: Friday
    // and Monday working days, Saturday and Sunday not (no holiday or
    // make-up day moves them). A week ahead at least, so no timer the
    // running worker holds for this case comes due during the test.
    let calendar = app.app.store.catalog().business_calendar().await.unwrap();
    let beijing = chrono::FixedOffset::east_opt(8 * 3600).unwrap();
    let at = |date: NaiveDate, h, m| {
        beijing
            .from_local_datetime(&date.and_time(NaiveTime::from_hms_opt(h, m, 0).unwrap()))
            .unwrap()
            .with_timezone(&Utc)
    };
    let today = Utc::now().with_timezone(&beijing).date_naive();
    let friday = (7..400)
        .map(|d| today + Duration::days(d))
        .find(|d| {
            d.weekday() == Weekday::Fri
                && calendar.working_time_on(*d) > Duration::zero()
                && calendar.working_time_on(*d + Duration::days(1)).is_zero()
                && calendar.working_time_on(*d + Duration::days(2)).is_zero()
                && calendar.intervals_on(*d + Duration::days(3))
                    == calendar.intervals_on(*d - Duration::days(4))
                && !calendar.intervals_on(*d + Duration::days(3)).is_empty()
        })
        .expect("a plain weekend within a year");
    let (saturday, sunday, monday) = (
        friday + Duration::days(1),
        friday + Duration::days(2),
        friday + Duration::days(3),
    );
    // Monday's first working interval starts the business hour.
    let opens = calendar.intervals_on(monday)[0].start;
    let monday_open = beijing
        .from_local_datetime(&monday.and_time(opens))
        .unwrap()
        .with_timezone(&Utc);
    let step_ends = monday_open + Duration::minutes(60);

    // The step began on Friday evening.
    let friday_evening = at(friday, 19, 0);
    let moved = case::Entity::update_many()
        .col_expr(case::Column::StepEnteredAt, Expr::value(friday_evening))
        .filter(case::Column::Id.eq(id))
        .exec(app.app.store.db())
        .await
        .unwrap();
    assert_eq!(moved.rows_affected, 1);

    let worker = &app.app.worker;
    for now in [
        at(saturday, 10, 0),
        at(sunday, 23, 30),
        monday_open,
        step_ends - Duration::seconds(1),
    ] {
        worker.route_at(id.into(), now).await.unwrap();
        let row = case_row(&app, &id).await;
        assert_eq!(
            (row.ladder_step, row.status.as_str()),
            (0, "pooled"),
            "not escalated at {now}: only {} business minutes have passed",
            calendar.between(friday_evening, now).num_minutes()
        );
        assert_eq!(row.step_entered_at, Some(friday_evening));
    }

    // Monday, an hour of business time after the step began: escalated.
    worker.route_at(id.into(), step_ends).await.unwrap();
    let row = case_row(&app, &id).await;
    assert_eq!(row.ladder_step, 1, "escalated once the hour had passed");
    assert_eq!(row.step_entered_at, Some(step_ends));
    assert_eq!(row.status, "pooled", "nobody on the street's step either");
    let events: Vec<String> = sansuo_store::entity::case_event::Entity::find()
        .filter(sansuo_store::entity::case_event::Column::CaseId.eq(id))
        .order_by_asc(sansuo_store::entity::case_event::Column::Id)
        .all(app.app.store.db())
        .await
        .unwrap()
        .into_iter()
        .filter_map(|e| e.reason)
        .collect();
    assert!(
        events.iter().any(|r| r == "the step's time ran out"),
        "{events:?}"
    );
    app.assert_staff_loads_counted().await;
}

/// A load counter changed outside the store (a hand-made SQL fix) is set
/// back to what it counts by the reconciler's next pass.
#[tokio::test]
async fn the_reconciler_sets_drifted_load_counters_right() {
    let app = TestApp::spawn().await;
    let db = app.app.store.db();
    let staff: i64 = db
        .query_one_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            "SELECT COUNT(*) AS n FROM staff",
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get("", "n")
        .unwrap();
    db.execute_unprepared("UPDATE staff SET load = load + 3")
        .await
        .unwrap();
    // (The app's own reconciler may get to some first.)
    let report = app.app.worker.reconcile_once().await.unwrap();
    assert!(report.repaired_loads <= staff as u64, "{report:?}");
    app.assert_staff_loads_counted().await;
}
