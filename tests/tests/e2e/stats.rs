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
    ByServiceView, CategoryCountView, ChannelCountView, DurationStatsView, LiveCountsView,
    LiveStatsView, OfferCountsView, OwnedByServiceView, PriorityWaitingView, QueueView,
    RoleStaffingView, SatisfactionView, ServiceStatsView, SlaBreachCountsView, StaffCountView,
    StatusCountView, SummaryStatsView, TipOutcomeView, TipOutcomesView,
};
use sansuo_tests::{TestApp, eventually, expect_error, expect_status, read_as};
use uuid::Uuid;

pub(super) fn at(rfc3339: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(rfc3339).unwrap().into()
}

/// A case as the statistics see it; tests override what they need.
pub(super) fn case_in(
    community: OrgUnitId,
    status: &str,
    created_at: DateTime<Utc>,
) -> case::Model {
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
        urge_count: 0,
        last_urged_at: None,
        sla_extension_minutes: 0,
    }
}

/// Written straight to the database: no outbox row, so the router never
/// hears of it (see [`reconciler_settled`]).
pub(super) async fn insert_case(app: &TestApp, c: case::Model) -> Uuid {
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
        urge_count: Set(0),
        last_urged_at: Set(None),
        sla_extension_minutes: Set(0),
    })
    .exec_without_returning(app.app.store.db())
    .await
    .unwrap();
    c.id
}

pub(super) async fn insert_offer(
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

pub(super) async fn insert_breach(
    app: &TestApp,
    case_id: Uuid,
    clock: &str,
    breached_at: DateTime<Utc>,
) {
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
pub(super) async fn reconciler_settled(app: &TestApp) {
    eventually("the reconciler's start-up pass", || async {
        (!app.app.queue.needs_rebuild().await.ok()?).then_some(())
    })
    .await;
}

/// A second street of the demo district, with one community, outside the
/// first street's subtree (and without a police station).
pub(super) async fn second_street(app: &TestApp) -> (OrgUnitId, OrgUnitId) {
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

fn staffing(
    role: &str,
    active: u64,
    available: u64,
    below_capacity: u64,
    owned_cases: u64,
) -> RoleStaffingView {
    RoleStaffingView {
        role: role.into(),
        active,
        available,
        available_below_capacity: below_capacity,
        owned_cases,
    }
}

/// Live counts where every owned case is a consultation.
fn counts(open_offers: u64, unrouted_cases: u64, owned_cases: u64) -> LiveCountsView {
    live_counts(open_offers, unrouted_cases, [owned_cases, 0, 0])
}

/// Live counts with the owned cases by service (consultation, mediation, tip).
fn live_counts(open_offers: u64, unrouted_cases: u64, owned: [u64; 3]) -> LiveCountsView {
    LiveCountsView {
        open_offers,
        unrouted_cases,
        owned_cases: owned.iter().sum(),
        owned_by_service: OwnedByServiceView {
            consultation: owned[0],
            mediation: owned[1],
            tip: owned[2],
        },
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

/// Every case through the mini-program.
fn by_channel(app: u64) -> Vec<ChannelCountView> {
    [
        ("app", app),
        ("open311", 0),
        ("in_person", 0),
        ("converted", 0),
    ]
    .into_iter()
    .map(|(channel, cases)| ChannelCountView {
        channel: channel.into(),
        cases,
    })
    .collect()
}

fn by_category(rows: &[(&str, u64)]) -> Vec<CategoryCountView> {
    rows.iter()
        .map(|&(code, cases)| CategoryCountView {
            category_code: code.into(),
            category_name: match code {
                "HY01" => "离婚纠纷",
                "LJ01" => "噪音扰民",
                "LJ02" => "漏水渗水",
                "AQ01" => "消防隐患",
                other => panic!("no name for {other} in this test"),
            }
            .into(),
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
    assert_eq!(staff_of(&street, "lawyer"), &staffing("lawyer", 3, 1, 0, 2));
    assert_eq!(
        staff_of(&street, "mediator"),
        &staffing("mediator", 1, 0, 0, 0)
    );
    assert_eq!(
        staff_of(&street, "officer"),
        &staffing("officer", 1, 1, 1, 0)
    );
    assert_eq!(
        staff_of(&street, "coordinator"),
        &staffing("coordinator", 1, 1, 1, 0)
    );
    assert_eq!(staff_of(&street, "admin"), &staffing("admin", 0, 0, 0, 0));

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
    assert_eq!(
        staff_of(&station, "lawyer"),
        &staffing("lawyer", 3, 1, 0, 2)
    );
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
    assert_eq!(staff_of(&district, "admin"), &staffing("admin", 1, 1, 1, 0));
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

/// The consultation statuses of the flat list (the seeds above are all consultations).
fn status_counts(summary: &SummaryStatsView) -> Vec<(String, u64)> {
    summary
        .by_status
        .iter()
        .filter(|s| s.service == "consultation")
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
            // c3 was answered: a consultation's success.
            staff("lawyer.li", "李律师", 2, 1),
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
            "rejected",
            "converted"
        ],
        "every status, in order"
    );
    assert_eq!(
        statuses.iter().map(|(_, n)| *n).collect::<Vec<_>>(),
        [0, 0, 1, 1, 1, 1, 1, 1, 0, 0]
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

/// What a hand-seeded case needs beyond its `cases` row.
pub(super) enum Detail {
    /// A consultation, with the resident's rating if any.
    Consultation { stars: Option<i16> },
    /// A mediation, with its recorded outcome if any.
    Mediation { outcome: Option<&'static str> },
    /// A tip: anonymous or named; `actioned` writes the `action` event a
    /// tip that was acted on carries.
    Tip { anonymous: bool, actioned: bool },
}

/// One case of any service with its detail row, owned (if `owner`) and
/// accepted `accept_after` seconds after its creation.
#[allow(clippy::too_many_arguments)]
pub(super) async fn seed_case(
    app: &TestApp,
    community: OrgUnitId,
    status: &str,
    created_at: DateTime<Utc>,
    owner: Option<&str>,
    accept_after: Option<i64>,
    answer_after: Option<i64>,
    detail: Detail,
) -> Uuid {
    use sansuo_store::entity::{case_event, consultation, mediation, tip};
    let (service, category) = match detail {
        Detail::Consultation { .. } => ("consultation", "HY01"),
        Detail::Mediation { .. } => ("mediation", "LJ02"),
        Detail::Tip { .. } => ("tip", "AQ01"),
    };
    let accepted_at = accept_after.map(|s| created_at + Duration::seconds(s));
    let id = insert_case(
        app,
        case::Model {
            service: service.into(),
            category_code: category.into(),
            owner_staff_id: owner.map(|name| app.demo.account(name).id.as_uuid()),
            accepted_at,
            answered_at: answer_after.and_then(|s| Some(accepted_at? + Duration::seconds(s))),
            ..case_in(community, status, created_at)
        },
    )
    .await;
    let db = app.app.store.db();
    match detail {
        Detail::Consultation { stars } => {
            consultation::Entity::insert(consultation::ActiveModel {
                case_id: Set(id),
                question: Set("统计测试的咨询".into()),
                rating_stars: Set(stars),
                rating_comment: Set(None),
                rated_at: Set(stars.map(|_| created_at + Duration::hours(2))),
            })
            .exec_without_returning(db)
            .await
            .unwrap();
        }
        Detail::Mediation { outcome } => {
            mediation::Entity::insert(mediation::ActiveModel {
                case_id: Set(id),
                facts: Set("统计测试的调解".into()),
                claims: Set("统计测试的请求".into()),
                preferred_times: Set("[]".into()),
                private: Set(false),
                refused_mediator_ids: Set("[]".into()),
                other_routes: Set("[]".into()),
                public_order_risk: Set(false),
                outcome: Set(outcome.map(Into::into)),
                ..Default::default()
            })
            .exec_without_returning(db)
            .await
            .unwrap();
        }
        Detail::Tip {
            anonymous,
            actioned,
        } => {
            tip::Entity::insert(tip::ActiveModel {
                case_id: Set(id),
                description: Set("统计测试的举报".into()),
                anonymous: Set(anonymous),
                flagged: Set(false),
                supporters: Set(0),
                channel: Set("app".into()),
                ..Default::default()
            })
            .exec_without_returning(db)
            .await
            .unwrap();
            if actioned {
                case_event::Entity::insert(case_event::ActiveModel {
                    id: Set(Uuid::now_v7()),
                    case_id: Set(id),
                    action: Set("action".into()),
                    from_status: Set(Some("valid".into())),
                    to_status: Set("actioned".into()),
                    actor_kind: Set("staff".into()),
                    actor_id: Set(owner.map(|name| app.demo.account(name).id.as_uuid())),
                    reason: Set(None),
                    public: Set(true),
                    request_id: Set(None),
                    created_at: Set(created_at + Duration::hours(1)),
                    // The case's first event; PostgreSQL's insert trigger
                    // fills its place in the hash chain whatever is sent.
                    seq: Set(1),
                    prev_hash: Set(sansuo_domain::event_chain::GENESIS.into()),
                    hash: Set(String::new()),
                })
                .exec_without_returning(db)
                .await
                .unwrap();
            }
        }
    }
    id
}

fn statuses(service: &str, rows: &[(&str, u64)]) -> Vec<StatusCountView> {
    rows.iter()
        .map(|&(status, cases)| StatusCountView {
            service: service.into(),
            status: status.into(),
            cases,
        })
        .collect()
}

/// Every status of the consultation machine with these counts (in order).
fn consultation_statuses(n: [u64; 10]) -> Vec<StatusCountView> {
    let names = [
        "submitted",
        "offered",
        "pooled",
        "assigned",
        "answered",
        "resolved",
        "closed",
        "withdrawn",
        "rejected",
        "converted",
    ];
    statuses(
        "consultation",
        &names.into_iter().zip(n).collect::<Vec<_>>(),
    )
}

fn mediation_statuses(n: [u64; 11]) -> Vec<StatusCountView> {
    let names = [
        "submitted",
        "offered",
        "pooled",
        "accepted",
        "scheduled",
        "heard",
        "agreed",
        "terminated",
        "closed",
        "refused",
        "withdrawn",
    ];
    statuses("mediation", &names.into_iter().zip(n).collect::<Vec<_>>())
}

fn tip_statuses(n: [u64; 12]) -> Vec<StatusCountView> {
    let names = [
        "submitted",
        "offered",
        "pooled",
        "acknowledged",
        "valid",
        "verifying",
        "actioned",
        "closed",
        "unfounded",
        "referred",
        "duplicate",
        "converted",
    ];
    statuses("tip", &names.into_iter().zip(n).collect::<Vec<_>>())
}

fn tip_outcomes(n: [u64; 6]) -> TipOutcomesView {
    let ended: u64 = n.iter().sum();
    let names = [
        "closed_with_action",
        "closed_without_action",
        "unfounded",
        "referred",
        "duplicate",
        "converted",
    ];
    TipOutcomesView {
        ended,
        outcomes: names
            .into_iter()
            .zip(n)
            .map(|(outcome, tips)| TipOutcomeView {
                outcome: outcome.into(),
                tips,
                rate: (ended > 0).then(|| tips as f64 / ended as f64),
            })
            .collect(),
    }
}

fn service_stats(total: u64, resolved: u64, by_status: Vec<StatusCountView>) -> ServiceStatsView {
    ServiceStatsView {
        total,
        resolved,
        success_rate: (total > 0).then(|| resolved as f64 / total as f64),
        by_status,
    }
}

/// The three services side by side, every figure worked out by hand below:
/// street A's coordinator sees street A only, the district administrator
/// both streets, in the summary and in the live view.
#[tokio::test]
async fn every_service_counts_in_the_summary_and_the_live_view() {
    every_service_counts(TestApp::spawn().await).await;
}

/// The same figures from SQLite (the embedded default): the joins and
/// groups of every service decode there too.
#[tokio::test]
async fn every_service_counts_on_sqlite_too() {
    every_service_counts(TestApp::spawn_embedded().await).await;
}

async fn every_service_counts(app: TestApp) {
    let demo = app.demo.clone();
    let (street_2, community_c) = second_street(&app).await;
    // Zhang can carry two open cases: his February case and the offer below fill him up.
    app.app
        .store
        .staffing()
        .set_routing(demo.account("lawyer.zhang").id, None, None, Some(2))
        .await
        .unwrap();
    reconciler_settled(&app).await;

    let t0 = at("2026-03-10T08:00:00Z");
    let (a, b, c) = (demo.community_a, demo.community_b, community_c);
    let consultation = |stars| Detail::Consultation { stars };
    let mediation = |outcome| Detail::Mediation { outcome };
    let tip = |anonymous, actioned| Detail::Tip {
        anonymous,
        actioned,
    };

    // Street A, created in March.
    // Consultations: two closed by the residents' ratings (5 and 2 stars),
    // one assigned, one waiting in the street's queue, one offered.
    let k1 = seed_case(
        &app,
        a,
        "closed",
        t0,
        Some("lawyer.zhang"),
        Some(60),
        Some(600),
        consultation(Some(5)),
    )
    .await;
    let k2 = seed_case(
        &app,
        b,
        "closed",
        t0,
        Some("lawyer.li"),
        Some(120),
        Some(300),
        consultation(Some(2)),
    )
    .await;
    let k3 = seed_case(
        &app,
        b,
        "assigned",
        t0,
        Some("lawyer.li"),
        Some(30),
        None,
        consultation(None),
    )
    .await;
    insert_case(
        &app,
        case::Model {
            service: "consultation".into(),
            category_code: "HY01".into(),
            pool_unit_id: Some(demo.street.as_uuid()),
            ..case_in(a, "pooled", t0)
        },
    )
    .await;
    let k5 = seed_case(&app, b, "offered", t0, None, None, None, consultation(None)).await;
    // Mediations: closed after a written agreement (a success), scheduled,
    // closed after termination (no success).
    seed_case(
        &app,
        a,
        "closed",
        t0,
        Some("mediator.chen"),
        Some(600),
        None,
        mediation(Some("agreement_written")),
    )
    .await;
    let m2 = seed_case(
        &app,
        b,
        "scheduled",
        t0,
        Some("mediator.chen"),
        Some(900),
        None,
        mediation(None),
    )
    .await;
    seed_case(
        &app,
        a,
        "closed",
        t0,
        Some("mediator.chen"),
        Some(1200),
        None,
        mediation(Some("terminated")),
    )
    .await;
    // Tips: closed after action (a success), unfounded (anonymous), valid
    // (in hand), closed without action.
    seed_case(
        &app,
        a,
        "closed",
        t0,
        Some("officer.liu"),
        Some(45),
        None,
        tip(false, true),
    )
    .await;
    seed_case(
        &app,
        b,
        "unfounded",
        t0,
        Some("officer.liu"),
        Some(90),
        None,
        tip(true, false),
    )
    .await;
    let t3 = seed_case(
        &app,
        a,
        "valid",
        t0,
        Some("officer.liu"),
        Some(15),
        None,
        tip(false, false),
    )
    .await;
    seed_case(
        &app,
        a,
        "closed",
        t0,
        Some("officer.liu"),
        Some(30),
        None,
        tip(false, false),
    )
    .await;
    // Street A, created in February: in zhang's hands now, in no March figure.
    let february = at("2026-02-20T08:00:00Z");
    let k0 = seed_case(
        &app,
        a,
        "assigned",
        february,
        Some("lawyer.zhang"),
        Some(3600),
        None,
        consultation(None),
    )
    .await;
    // Street 2, created in March: an assigned consultation, an oral
    // agreement, a referred anonymous tip.
    let c1 = seed_case(
        &app,
        c,
        "assigned",
        t0,
        Some("lawyer.wang"),
        Some(1000),
        None,
        consultation(None),
    )
    .await;
    seed_case(
        &app,
        c,
        "agreed",
        t0,
        Some("mediator.chen"),
        Some(2000),
        None,
        mediation(Some("agreement_oral")),
    )
    .await;
    seed_case(
        &app,
        c,
        "referred",
        t0,
        Some("officer.liu"),
        Some(50),
        None,
        tip(true, false),
    )
    .await;

    let march = at("2026-03-10T09:00:00Z");
    for (case_id, staff, status, when) in [
        (k1, "lawyer.zhang", "accepted", march),
        (k2, "lawyer.wang", "declined", march),
        (k2, "lawyer.li", "accepted", march),
        (k3, "lawyer.li", "accepted", march),
        (k5, "lawyer.zhang", "pending", march),
        (k0, "lawyer.zhang", "accepted", february),
        (c1, "lawyer.wang", "accepted", march),
    ] {
        insert_offer(&app, case_id, staff, status, when).await;
    }
    insert_breach(&app, k3, "accept", march).await;
    insert_breach(&app, t3, "accept", march).await;
    insert_breach(&app, m2, "resolution", march).await;
    insert_breach(&app, c1, "first_response", march).await;

    let id = |name: &str| demo.account(name).id.as_uuid();
    let staff = |name: &str, display_name: &str, cases, resolved| StaffCountView {
        staff_id: id(name),
        display_name: display_name.into(),
        cases,
        resolved,
    };

    // Street A, March: 5 consultations, 3 mediations, 4 tips.
    let coordinator = app.staff_token("coordinator.sun").await;
    let street: SummaryStatsView = app
        .get_as(&summary_path(demo.street, FROM, TO), &coordinator)
        .await;
    let consultations_a = consultation_statuses([0, 1, 1, 1, 0, 0, 2, 0, 0, 0]);
    let mediations_a = mediation_statuses([0, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0]);
    let tips_a = tip_statuses([0, 0, 0, 0, 1, 0, 0, 2, 1, 0, 0, 0]);
    let expected = SummaryStatsView {
        org_unit_id: demo.street.as_uuid(),
        from: at(FROM),
        to: at(TO),
        // k1 zhang, k2 wang declined then li, k3 li, k5 pending for zhang;
        // k0's offer was made in February.
        offers: OfferCountsView {
            created: 5,
            pending: 1,
            accepted: 3,
            declined: 1,
            expired: 0,
            cancelled: 0,
            returned: 0,
        },
        // Accepted after 60 120 30 | 600 900 1200 | 45 90 15 30 s, sorted
        // 15 30 30 45 60 90 120 600 900 1200: rank 5 and rank 9.
        time_to_accept: durations(10, Some(60), Some(900)),
        // Answered 600 and 300 s after acceptance: rank 1 and rank 2.
        time_to_first_response: durations(2, Some(300), Some(600)),
        sla_breaches: breaches(2, 0, 1),
        cases: 12,
        // k1, k2 (closed after an answer); m1 (agreement); the actioned tip.
        resolved: 4,
        success_rate: Some(4.0 / 12.0),
        // Hand-seeded: no intake, no Open311 tip, no conversion.
        by_channel: by_channel(12),
        by_service: ByServiceView {
            consultation: service_stats(5, 2, consultations_a.clone()),
            mediation: service_stats(3, 1, mediations_a.clone()),
            tip: service_stats(4, 1, tips_a.clone()),
        },
        by_category: by_category(&[("HY01", 5), ("AQ01", 4), ("LJ02", 3)]),
        by_staff: vec![
            staff("officer.liu", "刘警官", 4, 1),
            staff("mediator.chen", "陈调解员", 3, 1),
            staff("lawyer.li", "李律师", 2, 1),
            staff("lawyer.zhang", "张律师", 1, 1),
        ],
        by_status: [consultations_a, mediations_a, tips_a].concat(),
        consultation_satisfaction: SatisfactionView {
            rated: 2,
            average_stars: Some(3.5),
        },
        // Ended: the actioned one, the one closed without action, the unfounded one.
        tip_outcomes: tip_outcomes([1, 1, 1, 0, 0, 0]),
    };
    assert_eq!(street, expected);
    assert_eq!(
        street.by_status.iter().map(|s| s.cases).sum::<u64>(),
        street.cases,
        "the statuses add up to the cases"
    );

    // The district: street 2 adds a consultation, an agreed mediation (a
    // success) and a referred tip.
    let admin = app.staff_token("admin").await;
    let district: SummaryStatsView = app
        .get_as(&summary_path(demo.district, FROM, TO), &admin)
        .await;
    let consultations = consultation_statuses([0, 1, 1, 2, 0, 0, 2, 0, 0, 0]);
    let mediations = mediation_statuses([0, 0, 0, 0, 1, 0, 1, 0, 2, 0, 0]);
    let tips = tip_statuses([0, 0, 0, 0, 1, 0, 0, 2, 1, 1, 0, 0]);
    let expected = SummaryStatsView {
        org_unit_id: demo.district.as_uuid(),
        from: at(FROM),
        to: at(TO),
        offers: OfferCountsView {
            created: 6,
            pending: 1,
            accepted: 4,
            declined: 1,
            expired: 0,
            cancelled: 0,
            returned: 0,
        },
        // Adding 1000, 2000 and 50 s: 15 30 30 45 50 60 90 120 600 900
        // 1000 1200 2000, rank ⌈6.5⌉ = 7 and rank ⌈11.7⌉ = 12.
        time_to_accept: durations(13, Some(90), Some(1200)),
        time_to_first_response: durations(2, Some(300), Some(600)),
        sla_breaches: breaches(2, 1, 1),
        cases: 15,
        resolved: 5,
        success_rate: Some(5.0 / 15.0),
        by_channel: by_channel(15),
        by_service: ByServiceView {
            consultation: service_stats(6, 2, consultations.clone()),
            mediation: service_stats(4, 2, mediations.clone()),
            tip: service_stats(5, 1, tips.clone()),
        },
        by_category: by_category(&[("HY01", 6), ("AQ01", 5), ("LJ02", 4)]),
        // Ties by name: 张 (U+5F20) before 王 (U+738B).
        by_staff: vec![
            staff("officer.liu", "刘警官", 5, 1),
            staff("mediator.chen", "陈调解员", 4, 2),
            staff("lawyer.li", "李律师", 2, 1),
            staff("lawyer.zhang", "张律师", 1, 1),
            staff("lawyer.wang", "王律师", 1, 0),
        ],
        by_status: [consultations, mediations, tips].concat(),
        consultation_satisfaction: SatisfactionView {
            rated: 2,
            average_stars: Some(3.5),
        },
        tip_outcomes: tip_outcomes([1, 1, 1, 1, 0, 0]),
    };
    assert_eq!(district, expected);

    // Live, street A: k4 waits in the street's queue; k5's offer is open;
    // in hand: k0 and k3 (lawyers), m2 (mediator), the valid tip (officer).
    // Staff of the street: four lawyers (zhang full: k0 and k5's offer),
    // the mediator (m2 open), the coordinator; the officer is homed at the
    // station, outside the street, yet his tip is counted.
    let live: LiveStatsView = app.get_as(&live_path(demo.street), &coordinator).await;
    let queue = |as_of: DateTime<Utc>| QueueView {
        org_unit_id: demo.street.as_uuid(),
        org_unit_name: "欧阳路街道".into(),
        waiting: 1,
        by_priority: waiting_by_priority(&[(0, 1)]),
        longest_wait_secs: Some((as_of - t0).num_seconds()),
        oldest_queued_at: Some(t0),
    };
    let expected = LiveStatsView {
        org_unit_id: demo.street.as_uuid(),
        as_of: live.as_of,
        queues: vec![queue(live.as_of)],
        counts: live_counts(1, 0, [2, 1, 1]),
        staff: vec![
            staffing("lawyer", 4, 4, 3, 2),
            staffing("mediator", 1, 1, 1, 1),
            staffing("officer", 0, 0, 0, 1),
            staffing("coordinator", 1, 1, 1, 0),
            staffing("admin", 0, 0, 0, 0),
        ],
    };
    assert_eq!(live, expected);

    // Live, the district: c1 is in wang's hands too; the agreed mediation
    // and the referred tip are finished. Everyone is in the district.
    let live: LiveStatsView = app.get_as(&live_path(demo.district), &admin).await;
    let expected = LiveStatsView {
        org_unit_id: demo.district.as_uuid(),
        as_of: live.as_of,
        queues: vec![queue(live.as_of)],
        counts: live_counts(1, 0, [3, 1, 1]),
        staff: vec![
            staffing("lawyer", 4, 4, 3, 3),
            staffing("mediator", 1, 1, 1, 1),
            staffing("officer", 1, 1, 1, 1),
            staffing("coordinator", 1, 1, 1, 0),
            staffing("admin", 1, 1, 1, 0),
        ],
    };
    assert_eq!(live, expected);

    // Street A's coordinator cannot ask for street 2 at all.
    for path in [summary_path(street_2, FROM, TO), live_path(street_2)] {
        expect_error(
            app.get(&path, &coordinator).await,
            StatusCode::NOT_FOUND,
            "org_unit_not_found",
        )
        .await;
    }
}
