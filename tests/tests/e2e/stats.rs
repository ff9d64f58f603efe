//! Routing statistics: the real-time picture and the cumulative report of
//! one subtree, checked against small data sets whose figures are worked
//! out by hand, and the scope and parameter rules around them.

use chrono::{DateTime, Duration, Utc};
use reqwest::StatusCode;
use sansuo_domain::OrgUnitId;
use sansuo_store::entity::{case, offer, sla_breach};
use sansuo_store::org::{NewOrgUnit, kind};
use sansuo_store::sea_orm::{ActiveValue::Set, EntityTrait};
use sansuo_tests::views::{
    CategoryCountView, DurationStatsView, LiveCountsView, LiveStatsView, OfferCountsView,
    PriorityWaitingView, QueueView, RoleStaffingView, SlaBreachCountsView, StaffCountView,
    SummaryStatsView,
};
use sansuo_tests::{TestApp, eventually, expect_error, expect_status, read_as};
use uuid::Uuid;

fn at(rfc3339: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(rfc3339).unwrap().into()
}

/// A case as the statistics see it; tests override what they need.
fn case_in(community: OrgUnitId, status: &str, created_at: DateTime<Utc>) -> case::Model {
    case::Model {
        id: Uuid::now_v7(),
        service: "consultation".into(),
        community_id: community.as_uuid(),
        category_code: "LJ01".into(),
        resident_id: None,
        status: status.into(),
        owner_staff_id: None,
        pool_unit_id: None,
        version: 0,
        created_at,
        updated_at: created_at,
        accepted_at: None,
        answered_at: None,
        resolved_at: None,
        closed_at: None,
        moderation: "passed".into(),
        workflow: None,
        ladder_step: 0,
        step_entered_at: None,
        priority: 0,
        queued_at: Some(created_at),
        unrouted_at: None,
        preferred_staff_id: None,
    }
}

/// Written straight to the database: no outbox row, so the router never
/// hears of it (see [`reconciler_settled`]).
async fn insert_case(app: &TestApp, c: case::Model) -> Uuid {
    case::Entity::insert(case::ActiveModel {
        id: Set(c.id),
        service: Set(c.service),
        community_id: Set(c.community_id),
        category_code: Set(c.category_code),
        resident_id: Set(c.resident_id),
        status: Set(c.status),
        owner_staff_id: Set(c.owner_staff_id),
        pool_unit_id: Set(c.pool_unit_id),
        version: Set(c.version),
        created_at: Set(c.created_at),
        updated_at: Set(c.updated_at),
        accepted_at: Set(c.accepted_at),
        answered_at: Set(c.answered_at),
        resolved_at: Set(c.resolved_at),
        closed_at: Set(c.closed_at),
        moderation: Set(c.moderation),
        workflow: Set(c.workflow),
        ladder_step: Set(c.ladder_step),
        step_entered_at: Set(c.step_entered_at),
        priority: Set(c.priority),
        queued_at: Set(c.queued_at),
        unrouted_at: Set(c.unrouted_at),
        preferred_staff_id: Set(None),
    })
    .exec_without_returning(app.app.store.db())
    .await
    .unwrap();
    c.id
}

async fn insert_offer(
    app: &TestApp,
    case_id: Uuid,
    staff: &str,
    status: &str,
    created_at: DateTime<Utc>,
) {
    offer::Entity::insert(offer::ActiveModel {
        id: Set(Uuid::now_v7()),
        case_id: Set(case_id),
        staff_id: Set(app.demo.account(staff).id.as_uuid()),
        status: Set(status.into()),
        created_at: Set(created_at),
        expires_at: Set(created_at + Duration::minutes(10)),
        responded_at: Set(None),
        decline_reason: Set(None),
        ladder_step: Set(0),
    })
    .exec_without_returning(app.app.store.db())
    .await
    .unwrap();
}

async fn insert_breach(app: &TestApp, case_id: Uuid, clock: &str, breached_at: DateTime<Utc>) {
    sla_breach::Entity::insert(sla_breach::ActiveModel {
        case_id: Set(case_id),
        clock: Set(clock.into()),
        ladder_step: Set(0),
        due_at: Set(breached_at),
        breached_at: Set(breached_at),
    })
    .exec_without_returning(app.app.store.db())
    .await
    .unwrap();
}

/// The reconciler's start-up pass re-publishes every open case it finds;
/// rows written before it finished could be routed under the test's feet.
/// After it, the next pass is an hour away.
async fn reconciler_settled(app: &TestApp) {
    eventually("the reconciler's start-up pass", || async {
        (!app.app.queue.needs_rebuild().await.ok()?).then_some(())
    })
    .await;
}

/// A second street of the demo district, with one community, outside the
/// first street's subtree (and without a police station).
async fn second_street(app: &TestApp) -> (OrgUnitId, OrgUnitId) {
    let store = &app.app.store;
    let unit = |kind, parent, name| NewOrgUnit {
        kind,
        parent: Some(parent),
        station: None,
        name,
        scene: None,
        address: None,
        office_hours: None,
        services: &["consultation"],
    };
    let street = store
        .org()
        .insert_unit(
            unit(kind::STREET, app.demo.district, "嘉兴路街道"),
            Utc::now(),
        )
        .await
        .unwrap();
    let community = store
        .org()
        .insert_unit(unit(kind::COMMUNITY, street, "新港居委"), Utc::now())
        .await
        .unwrap();
    (street, community)
}

fn live_path(unit: OrgUnitId) -> String {
    format!("/api/v1/admin/stats/live?org_unit_id={}", unit.as_uuid())
}

fn summary_path(unit: OrgUnitId, from: &str, to: &str) -> String {
    format!(
        "/api/v1/admin/stats/summary?org_unit_id={}&from={from}&to={to}",
        unit.as_uuid()
    )
}

fn queue_of(live: &LiveStatsView, unit: OrgUnitId) -> &QueueView {
    live.queues
        .iter()
        .find(|q| q.org_unit_id == unit.as_uuid())
        .unwrap_or_else(|| panic!("a queue for {unit:?} in {live:?}"))
}

fn queue_units(live: &LiveStatsView) -> Vec<Uuid> {
    live.queues.iter().map(|q| q.org_unit_id).collect()
}

fn staff_of<'a>(live: &'a LiveStatsView, role: &str) -> &'a RoleStaffingView {
    live.staff
        .iter()
        .find(|s| s.role == role)
        .unwrap_or_else(|| panic!("a {role} row in {live:?}"))
}

fn staffing(role: &str, active: u64, available: u64, below_capacity: u64) -> RoleStaffingView {
    RoleStaffingView {
        role: role.into(),
        active,
        available,
        available_below_capacity: below_capacity,
    }
}

fn counts(open_offers: u64, unrouted_cases: u64, owned_cases: u64) -> LiveCountsView {
    LiveCountsView {
        open_offers,
        unrouted_cases,
        owned_cases,
    }
}

fn waiting_by_priority(rows: &[(i32, u64)]) -> Vec<PriorityWaitingView> {
    rows.iter()
        .map(|&(priority, waiting)| PriorityWaitingView { priority, waiting })
        .collect()
}

fn durations(count: u64, median_secs: Option<i64>, p90_secs: Option<i64>) -> DurationStatsView {
    DurationStatsView {
        count,
        median_secs,
        p90_secs,
    }
}

fn breaches(accept: u64, first_response: u64, resolution: u64) -> SlaBreachCountsView {
    SlaBreachCountsView {
        accept,
        first_response,
        resolution,
    }
}

fn by_category(rows: &[(&str, u64)]) -> Vec<CategoryCountView> {
    rows.iter()
        .map(|&(code, cases)| CategoryCountView {
            category_code: code.into(),
            cases,
        })
        .collect()
}

#[tokio::test]
async fn subtrees_follow_parents_and_police_stations() {
    let app = TestApp::spawn().await;
    let store = &app.app.store;
    let demo = &app.demo;
    let judicial_office = store
        .staffing()
        .org_units_under(Some(demo.street))
        .await
        .unwrap()
        .into_iter()
        .find(|u| u.kind == sansuo_domain::org::UnitKind::JudicialOffice)
        .unwrap()
        .id;
    let grid = store
        .org()
        .insert_unit(
            NewOrgUnit {
                kind: kind::GRID,
                parent: Some(demo.community_a),
                station: None,
                name: "第一网格",
                scene: None,
                address: None,
                office_hours: None,
                services: &[],
            },
            Utc::now(),
        )
        .await
        .unwrap();
    let sorted = |mut ids: Vec<Uuid>| {
        ids.sort();
        ids
    };
    let a = demo.community_a.as_uuid();
    let b = demo.community_b.as_uuid();

    let street = store.stats().subtree_units(demo.street).await.unwrap();
    assert_eq!(
        sorted(street),
        sorted(vec![
            demo.street.as_uuid(),
            judicial_office,
            a,
            b,
            grid.as_uuid()
        ])
    );
    // The station has no children by parent: its communities come through
    // their station_id, and their grids with them.
    let station = store
        .stats()
        .subtree_units(demo.police_station)
        .await
        .unwrap();
    assert_eq!(
        sorted(station),
        sorted(vec![demo.police_station.as_uuid(), a, b, grid.as_uuid()])
    );
    // The communities are reachable both ways; each is listed once.
    let district = store.stats().subtree_units(demo.district).await.unwrap();
    assert_eq!(district.len(), 7, "{district:?}");
    assert_eq!(
        sorted(district),
        sorted(vec![
            demo.district.as_uuid(),
            demo.street.as_uuid(),
            demo.police_station.as_uuid(),
            judicial_office,
            a,
            b,
            grid.as_uuid()
        ])
    );
    assert_eq!(
        store.stats().subtree_units(grid).await.unwrap(),
        vec![grid.as_uuid()]
    );
    // Every unit listed passes the scope check the endpoints use.
    for unit in store.stats().subtree_units(demo.district).await.unwrap() {
        assert!(
            store
                .staffing()
                .unit_within(unit.into(), demo.district)
                .await
                .unwrap()
        );
    }
}

#[tokio::test]
async fn the_live_view_counts_queues_offers_and_staff_of_the_subtree() {
    let app = TestApp::spawn().await;
    let demo = app.demo.clone();
    let store = &app.app.store;
    let (street_2, community_c) = second_street(&app).await;

    // Staff first: presence changes may route waiting cases, so none are
    // made once the cases below exist.
    app.pool_lawyers_away().await;
    app.set_presence("mediator.chen", "away").await;
    store
        .identity()
        .set_staff_active(demo.account("lawyer.zhao").id, false)
        .await
        .unwrap();
    // Zhang can carry two open cases; the two owned below fill him up.
    store
        .staffing()
        .set_routing(demo.account("lawyer.zhang").id, None, None, Some(2))
        .await
        .unwrap();
    // The officer's home is the station (outside the street); a
    // membership of community B brings him into the street's subtree.
    store
        .staffing()
        .set_routing(
            demo.account("officer.liu").id,
            Some(&[demo.community_b]),
            None,
            None,
        )
        .await
        .unwrap();
    // The demo firm serves the street; signing it to the police station
    // too brings its lawyers into the station's subtree.
    let firm = store
        .identity()
        .staff(demo.account("lawyer.wang").id)
        .await
        .unwrap()
        .unwrap()
        .law_firm_id
        .unwrap();
    store
        .org()
        .sign_firm(firm, demo.police_station)
        .await
        .unwrap();

    // One real offer, through the router: the resident's case goes to
    // community A's signed lawyer.
    let resident = app.resident_token("stats-live").await;
    let zhang = app.staff_token("lawyer.zhang").await;
    let submitted = app
        .submit(&resident, "物业费涨价没有经过业主大会，合法吗？")
        .await;
    app.wait_for_offer(&zhang, &submitted.id).await;
    reconciler_settled(&app).await;

    let now = Utc::now();
    let waiting = |community, unit: OrgUnitId, priority, secs_ago| case::Model {
        pool_unit_id: Some(unit.as_uuid()),
        priority,
        queued_at: Some(now - Duration::seconds(secs_ago)),
        ..case_in(community, "pooled", now - Duration::seconds(secs_ago))
    };
    // The street's queue: two at priority 5, one at 0.
    insert_case(&app, waiting(demo.community_a, demo.street, 5, 600)).await;
    insert_case(&app, waiting(demo.community_b, demo.street, 5, 300)).await;
    insert_case(&app, waiting(demo.community_a, demo.street, 0, 100)).await;
    // Community B's own queue.
    let oldest_b = now - Duration::seconds(50);
    insert_case(&app, waiting(demo.community_b, demo.community_b, 0, 50)).await;
    // The police station's queue: not under the street.
    insert_case(&app, waiting(demo.community_a, demo.police_station, 2, 900)).await;
    // With the coordinator: unrouted, in no queue.
    insert_case(
        &app,
        case::Model {
            unrouted_at: Some(now),
            ..waiting(demo.community_b, demo.street, 9, 7200)
        },
    )
    .await;
    // Owned by zhang: two open, one finished.
    let zhang_id = demo.account("lawyer.zhang").id.as_uuid();
    for status in ["assigned", "answered", "resolved"] {
        insert_case(
            &app,
            case::Model {
                owner_staff_id: Some(zhang_id),
                accepted_at: Some(now),
                ..case_in(demo.community_a, status, now)
            },
        )
        .await;
    }
    // The second street: a queue, an owned case and an open offer, all
    // outside the first street.
    insert_case(&app, waiting(community_c, street_2, 0, 60)).await;
    insert_case(
        &app,
        case::Model {
            owner_staff_id: Some(demo.account("lawyer.wang").id.as_uuid()),
            ..case_in(community_c, "assigned", now)
        },
    )
    .await;
    let offered_c = insert_case(&app, case_in(community_c, "offered", now)).await;
    insert_offer(&app, offered_c, "lawyer.li", "pending", now).await;

    let coordinator = app.staff_token("coordinator.sun").await;
    // Raw as well: nothing personal may be on the wire (checked below).
    let street_raw = expect_status(
        app.get(&live_path(demo.street), &coordinator).await,
        StatusCode::OK,
    )
    .await;
    let street: LiveStatsView = read_as(&street_raw);
    assert_eq!(street.org_unit_id, demo.street.as_uuid());
    assert!(street.as_of >= now, "{street:?}");

    // Longest wait first: the street's queue, then community B's.
    assert_eq!(
        queue_units(&street),
        [demo.street.as_uuid(), demo.community_b.as_uuid()],
        "{street:?}"
    );
    let street_queue = queue_of(&street, demo.street);
    assert_eq!(street_queue.org_unit_name, "欧阳路街道");
    assert_eq!(street_queue.waiting, 3);
    assert_eq!(
        street_queue.by_priority,
        waiting_by_priority(&[(5, 2), (0, 1)])
    );
    let longest = street_queue.longest_wait_secs.unwrap();
    assert!((600..600 + 60).contains(&longest), "{street_queue:?}");
    let oldest = street_queue.oldest_queued_at.unwrap();
    assert!(
        (oldest - (now - Duration::seconds(600)))
            .num_milliseconds()
            .abs()
            < 1,
        "{oldest} is the first case's queue time"
    );
    let queue_b = queue_of(&street, demo.community_b);
    assert_eq!(queue_b.org_unit_name, "商丘居委");
    assert_eq!(queue_b.waiting, 1);
    assert_eq!(queue_b.by_priority, waiting_by_priority(&[(0, 1)]));
    let oldest = queue_b.oldest_queued_at.unwrap();
    assert!((oldest - oldest_b).num_milliseconds().abs() < 1);

    assert_eq!(street.counts, counts(1, 1, 2));
    // Lawyers: zhao inactive; of zhang, li and wang only zhang is
    // available, and he is at capacity.
    assert_eq!(staff_of(&street, "lawyer"), &staffing("lawyer", 3, 1, 0));
    assert_eq!(
        staff_of(&street, "mediator"),
        &staffing("mediator", 1, 0, 0)
    );
    assert_eq!(staff_of(&street, "officer"), &staffing("officer", 1, 1, 1));
    assert_eq!(
        staff_of(&street, "coordinator"),
        &staffing("coordinator", 1, 1, 1)
    );
    assert_eq!(staff_of(&street, "admin"), &staffing("admin", 0, 0, 0));

    // The police station: its own queue and community B's; the street's
    // queue is not below it. Its lawyers are the firm's (homed in the street).
    let admin = app.staff_token("admin").await;
    let station_raw = expect_status(
        app.get(&live_path(demo.police_station), &admin).await,
        StatusCode::OK,
    )
    .await;
    let station: LiveStatsView = read_as(&station_raw);
    assert_eq!(
        queue_units(&station),
        [demo.police_station.as_uuid(), demo.community_b.as_uuid()],
        "{station:?}"
    );
    assert_eq!(
        queue_of(&station, demo.police_station).by_priority,
        waiting_by_priority(&[(2, 1)])
    );
    assert_eq!(station.counts, counts(1, 1, 2));
    assert_eq!(staff_of(&station, "lawyer"), &staffing("lawyer", 3, 1, 0));
    assert_eq!(staff_of(&station, "coordinator").active, 0);
    assert_eq!(staff_of(&station, "officer").active, 1);
    assert_eq!(staff_of(&station, "mediator").active, 1);

    // The district: everything.
    let district_raw = expect_status(
        app.get(&live_path(demo.district), &admin).await,
        StatusCode::OK,
    )
    .await;
    let district: LiveStatsView = read_as(&district_raw);
    assert_eq!(
        queue_units(&district),
        [
            demo.police_station.as_uuid(),
            demo.street.as_uuid(),
            street_2.as_uuid(),
            demo.community_b.as_uuid()
        ],
        "{district:?}"
    );
    assert_eq!(district.counts, counts(2, 1, 3));
    assert_eq!(staff_of(&district, "admin"), &staffing("admin", 1, 1, 1));
    // Lawyers reach the district through their home street and through
    // their firm's signing; each counts once.
    assert_eq!(staff_of(&district, "lawyer").active, 3);

    // Nothing personal: no resident, no question text.
    for body in [&street_raw, &station_raw, &district_raw] {
        let text = body.to_string();
        assert!(!text.contains("物业费"), "{text}");
        assert!(!text.contains("resident"), "{text}");
    }
}

/// The period of the cumulative report in the tests below.
const FROM: &str = "2026-03-01T00:00:00Z";
const TO: &str = "2026-04-01T00:00:00Z";

/// Cases created in, before and after March 2026 in both streets, with
/// offers and SLA breaches; the figures are worked out in the test.
async fn seed_march(app: &TestApp, community_c: OrgUnitId) {
    let demo = &app.demo;
    let staff = |name: &str| Some(demo.account(name).id.as_uuid());
    let t0 = at("2026-03-10T08:00:00Z");
    let secs = Duration::seconds;
    let taken =
        |community, status, category: &str, owner, accept: i64, answer: Option<i64>| case::Model {
            category_code: category.into(),
            owner_staff_id: owner,
            accepted_at: Some(t0 + secs(accept)),
            answered_at: answer.map(|a| t0 + secs(accept + a)),
            ..case_in(community, status, t0)
        };
    let a = demo.community_a;
    let b = demo.community_b;
    let c1 = insert_case(
        app,
        taken(a, "closed", "LJ01", staff("lawyer.zhang"), 60, Some(600)),
    )
    .await;
    let c2 = insert_case(
        app,
        taken(a, "resolved", "LJ01", staff("lawyer.zhang"), 120, Some(300)),
    )
    .await;
    let c3 = insert_case(
        app,
        taken(b, "answered", "HY01", staff("lawyer.li"), 300, Some(1200)),
    )
    .await;
    let c4 = insert_case(
        app,
        taken(b, "assigned", "HY01", staff("lawyer.li"), 30, None),
    )
    .await;
    let c5 = insert_case(app, case_in(a, "pooled", t0)).await;
    // Withdrawn after zhang took it: his, not resolved, never accepted.
    let c6 = insert_case(
        app,
        case::Model {
            owner_staff_id: staff("lawyer.zhang"),
            ..case_in(a, "withdrawn", t0)
        },
    )
    .await;
    // Created in February and accepted an hour later: no March case
    // figure, but its March offer and breach count in March.
    let february = at("2026-02-15T08:00:00Z");
    let c7 = insert_case(
        app,
        case::Model {
            owner_staff_id: staff("lawyer.wang"),
            accepted_at: Some(february + secs(3600)),
            ..case_in(a, "assigned", february)
        },
    )
    .await;
    // Created at the very end of the period: outside it.
    insert_case(app, case_in(a, "withdrawn", at(TO))).await;
    // The second street.
    let c8 = insert_case(
        app,
        taken(
            community_c,
            "assigned",
            "LJ01",
            staff("lawyer.zhao"),
            1000,
            None,
        ),
    )
    .await;

    let march = at("2026-03-10T09:00:00Z");
    for (case_id, staff, status) in [
        (c1, "lawyer.zhang", "accepted"),
        (c2, "lawyer.li", "declined"),
        (c2, "lawyer.zhang", "accepted"),
        (c3, "lawyer.li", "accepted"),
        (c4, "lawyer.zhang", "expired"),
        (c4, "lawyer.li", "accepted"),
        (c4, "lawyer.zhao", "returned"),
        (c5, "lawyer.wang", "pending"),
        (c6, "lawyer.zhang", "cancelled"),
        (c7, "lawyer.wang", "accepted"),
        (c8, "lawyer.zhao", "accepted"),
    ] {
        insert_offer(app, case_id, staff, status, march).await;
    }
    // Made in February: outside the period.
    insert_offer(
        app,
        c7,
        "lawyer.zhang",
        "expired",
        at("2026-02-15T08:05:00Z"),
    )
    .await;

    insert_breach(app, c2, "accept", march).await;
    insert_breach(app, c4, "accept", march).await;
    insert_breach(app, c3, "first_response", march).await;
    insert_breach(app, c7, "resolution", march).await;
    insert_breach(app, c7, "accept", at("2026-02-16T00:00:00Z")).await;
    insert_breach(app, c8, "accept", march).await;
}

fn status_counts(summary: &SummaryStatsView) -> Vec<(String, u64)> {
    summary
        .by_status
        .iter()
        .map(|s| (s.status.clone(), s.cases))
        .collect()
}

#[tokio::test]
async fn the_summary_reports_offers_durations_breaches_and_cases_of_the_period() {
    let app = TestApp::spawn().await;
    let (_, community_c) = second_street(&app).await;
    reconciler_settled(&app).await;
    seed_march(&app, community_c).await;
    let demo = &app.demo;
    let staff = |name: &str, display_name: &str, cases, resolved| StaffCountView {
        staff_id: demo.account(name).id.as_uuid(),
        display_name: display_name.into(),
        cases,
        resolved,
    };

    let coordinator = app.staff_token("coordinator.sun").await;
    let street: SummaryStatsView = app
        .get_as(&summary_path(demo.street, FROM, TO), &coordinator)
        .await;
    assert_eq!(street.org_unit_id, demo.street.as_uuid());
    assert_eq!(street.from, at(FROM));
    assert_eq!(street.to, at(TO));
    // Made in March for the street's cases (c7's included, its February
    // offer not); the hand-back is not an offer.
    assert_eq!(
        street.offers,
        OfferCountsView {
            created: 9,
            pending: 1,
            accepted: 5,
            declined: 1,
            expired: 1,
            cancelled: 1,
            returned: 1
        }
    );
    // Accepted after 60, 120, 300, 30 s: sorted 30 60 120 300; the median
    // is rank ⌈0.5·4⌉ = 2, p90 rank ⌈0.9·4⌉ = 4. c7 was created in February.
    assert_eq!(street.time_to_accept, durations(4, Some(60), Some(300)));
    // Answered 600, 300, 1200 s after acceptance: 300 600 1200.
    assert_eq!(
        street.time_to_first_response,
        durations(3, Some(600), Some(1200))
    );
    assert_eq!(street.sla_breaches, breaches(2, 1, 1));
    assert_eq!(street.cases, 6);
    assert_eq!(street.by_category, by_category(&[("LJ01", 4), ("HY01", 2)]));
    assert_eq!(
        street.by_staff,
        [
            staff("lawyer.zhang", "张律师", 3, 2),
            staff("lawyer.li", "李律师", 2, 0),
        ]
    );
    let statuses = status_counts(&street);
    assert_eq!(
        statuses.iter().map(|(s, _)| s.as_str()).collect::<Vec<_>>(),
        [
            "submitted",
            "offered",
            "pooled",
            "assigned",
            "answered",
            "resolved",
            "closed",
            "withdrawn",
            "rejected"
        ],
        "every status, in order"
    );
    assert_eq!(
        statuses.iter().map(|(_, n)| *n).collect::<Vec<_>>(),
        [0, 0, 1, 1, 1, 1, 1, 1, 0]
    );

    // The district adds the second street's case, offer and breach.
    let admin = app.staff_token("admin").await;
    let district: SummaryStatsView = app
        .get_as(&summary_path(demo.district, FROM, TO), &admin)
        .await;
    assert_eq!(district.offers.created, 10);
    assert_eq!(district.offers.accepted, 6);
    // 30 60 120 300 1000: rank 3 and rank ⌈4.5⌉ = 5.
    assert_eq!(district.time_to_accept, durations(5, Some(120), Some(1000)));
    assert_eq!(district.time_to_first_response.count, 3);
    assert_eq!(district.sla_breaches, breaches(3, 1, 1));
    assert_eq!(district.cases, 7);
    assert_eq!(
        district.by_category,
        by_category(&[("LJ01", 5), ("HY01", 2)])
    );
    assert_eq!(district.by_staff[2], staff("lawyer.zhao", "赵律师", 1, 0));

    // Community B alone: c3 and c4.
    let b: SummaryStatsView = app
        .get_as(&summary_path(demo.community_b, FROM, TO), &coordinator)
        .await;
    assert_eq!(b.time_to_accept, durations(2, Some(30), Some(300)));
    assert_eq!(
        b.time_to_first_response,
        durations(1, Some(1200), Some(1200))
    );
    assert_eq!(b.cases, 2);

    // February: only c7 was created then, accepted an hour later; its
    // expired offer and accept breach are February's.
    let february: SummaryStatsView = app
        .get_as(
            &summary_path(demo.street, "2026-02-01T00:00:00Z", FROM),
            &coordinator,
        )
        .await;
    assert_eq!(
        february.offers,
        OfferCountsView {
            created: 1,
            pending: 0,
            accepted: 0,
            declined: 0,
            expired: 1,
            cancelled: 0,
            returned: 0
        }
    );
    assert_eq!(
        february.time_to_accept,
        durations(1, Some(3600), Some(3600))
    );
    assert_eq!(february.sla_breaches, breaches(1, 0, 0));

    // A period with nothing in it: zeros and nulls, not errors.
    let empty: SummaryStatsView = app
        .get_as(
            &summary_path(demo.street, "2025-01-01T00:00:00Z", "2025-02-01T00:00:00Z"),
            &coordinator,
        )
        .await;
    assert_eq!(empty.time_to_accept, durations(0, None, None));
    assert_eq!(empty.cases, 0);
    assert!(empty.by_category.is_empty());
    assert!(empty.by_staff.is_empty());
    assert!(status_counts(&empty).iter().all(|(_, n)| *n == 0));
}

#[tokio::test]
async fn stats_are_for_coordinators_and_administrators_within_their_subtree() {
    let app = TestApp::spawn().await;
    let demo = &app.demo;
    let coordinator = app.staff_token("coordinator.sun").await;
    let lawyer = app.staff_token("lawyer.zhang").await;
    let officer = app.staff_token("officer.liu").await;
    let resident = app.resident_token("stats-curious").await;
    let summary = |unit| summary_path(unit, FROM, TO);

    for path in [live_path(demo.street), summary(demo.street)] {
        let response = app.http.get(app.url(&path)).send().await.unwrap();
        expect_error(response, StatusCode::UNAUTHORIZED, "unauthenticated").await;
        for token in [&resident, &lawyer, &officer] {
            expect_error(
                app.get(&path, token).await,
                StatusCode::FORBIDDEN,
                "forbidden",
            )
            .await;
        }
        expect_status(app.get(&path, &coordinator).await, StatusCode::OK).await;
    }
    // The street coordinator's scope is the street: the district above it
    // and the police station beside it are someone else's, and read as absent.
    for unit in [demo.district, demo.police_station] {
        for path in [live_path(unit), summary(unit)] {
            expect_error(
                app.get(&path, &coordinator).await,
                StatusCode::NOT_FOUND,
                "org_unit_not_found",
            )
            .await;
        }
    }
    // Below the street: allowed.
    for path in [live_path(demo.community_a), summary(demo.community_b)] {
        expect_status(app.get(&path, &coordinator).await, StatusCode::OK).await;
    }
    // Unknown units are 404 for everyone, before any scope check.
    let nowhere = OrgUnitId::from(Uuid::now_v7());
    for path in [live_path(nowhere), summary(nowhere)] {
        expect_error(
            app.get(&path, &coordinator).await,
            StatusCode::NOT_FOUND,
            "org_unit_not_found",
        )
        .await;
    }
}

#[tokio::test]
async fn stats_parameters_are_checked() {
    let app = TestApp::spawn().await;
    let admin = app.staff_token("admin").await;
    let street = app.demo.street.as_uuid();

    for path in [
        "/api/v1/admin/stats/live".to_owned(),
        "/api/v1/admin/stats/live?org_unit_id=not-a-uuid".to_owned(),
        format!("/api/v1/admin/stats/live?org_unit_id={street}&extra=1"),
        format!("/api/v1/admin/stats/summary?org_unit_id={street}"),
        format!("/api/v1/admin/stats/summary?org_unit_id=12345&from={FROM}&to={TO}"),
        format!("/api/v1/admin/stats/summary?org_unit_id={street}&from=yesterday&to={TO}"),
        format!("/api/v1/admin/stats/summary?org_unit_id={street}&from={FROM}&to=2026-04-01"),
    ] {
        expect_error(
            app.get(&path, &admin).await,
            StatusCode::BAD_REQUEST,
            "bad_parameter",
        )
        .await;
    }

    let unit = app.demo.street;
    for (from, to) in [
        // Empty.
        (FROM, FROM),
        // Backwards.
        (TO, FROM),
        // 367 days.
        ("2025-01-01T00:00:00Z", "2026-01-03T00:00:00Z"),
    ] {
        expect_error(
            app.get(&summary_path(unit, from, to), &admin).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
    }
    // 366 days exactly is allowed (a leap year).
    expect_status(
        app.get(
            &summary_path(unit, "2028-01-01T00:00:00Z", "2029-01-01T00:00:00Z"),
            &admin,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    // An offset other than Z, percent-encoded as a query string needs.
    expect_status(
        app.get(
            &summary_path(unit, "2026-03-01T08:00:00%2B08:00", TO),
            &admin,
        )
        .await,
        StatusCode::OK,
    )
    .await;
}

/// SQLite, the embedded default, runs the same queries: aggregates over
/// timestamps and joins decode there too.
#[tokio::test]
async fn the_stats_queries_run_on_sqlite() {
    let app = TestApp::spawn_embedded().await;
    let demo = app.demo.clone();
    let (_, community_c) = second_street(&app).await;
    reconciler_settled(&app).await;
    seed_march(&app, community_c).await;
    let queued_at = at("2026-03-20T10:00:00Z");
    insert_case(
        &app,
        case::Model {
            pool_unit_id: Some(demo.street.as_uuid()),
            priority: 3,
            queued_at: Some(queued_at),
            ..case_in(demo.community_a, "pooled", queued_at)
        },
    )
    .await;

    let admin = app.staff_token("admin").await;
    let summary: SummaryStatsView = app
        .get_as(&summary_path(demo.street, FROM, TO), &admin)
        .await;
    assert_eq!(summary.offers.created, 9);
    assert_eq!(summary.offers.returned, 1);
    assert_eq!(summary.time_to_accept, durations(4, Some(60), Some(300)));
    assert_eq!(
        summary.time_to_first_response,
        durations(3, Some(600), Some(1200))
    );
    assert_eq!(summary.sla_breaches, breaches(2, 1, 1));
    assert_eq!(summary.cases, 7);
    assert_eq!(summary.by_staff[0].cases, 3);
    assert_eq!(summary.by_staff[0].resolved, 2);

    let live: LiveStatsView = app.get_as(&live_path(demo.street), &admin).await;
    // c5 (pooled in March, no queue unit) is in no queue; the case above is.
    let queue = queue_of(&live, demo.street);
    assert_eq!(queue.by_priority, waiting_by_priority(&[(3, 1)]));
    assert_eq!(queue.oldest_queued_at, Some(queued_at));
    assert!(queue.longest_wait_secs.unwrap() > 0);
    // c5's pending offer; owned: c3 answered, c4 and c7 assigned.
    assert_eq!(live.counts, counts(1, 0, 3));
    assert_eq!(staff_of(&live, "lawyer").active, 4);
}
