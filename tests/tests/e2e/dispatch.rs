//! What the dispatch engine is fed: staff snapshots read from the database.

use chrono::{DateTime, Duration, Utc};
use sansuo_domain::dispatch::{
    CasePlace, CaseRouting, LadderStep, Presence, ScopeLevel, StaffSnapshot, candidates,
};
use sansuo_domain::work_order::FINISHED_STATUSES;
use sansuo_domain::{OrgUnitId, StaffRole};
use sansuo_store::Store;
use sansuo_store::identity::NewStaff;
use sansuo_store::staffing::parse_presence;
use sansuo_tests::TestApp;
use uuid::Uuid;

#[tokio::test]
async fn snapshots_carry_units_skills_duty_load_and_the_fairness_clock() {
    let app = TestApp::spawn().await;
    let store = &app.app.store;
    let zhang = app.demo.account("lawyer.zhang").id;
    let wang = app.demo.account("lawyer.wang").id;
    let officer = app.demo.account("officer.liu").id;
    for lawyer in [zhang, wang] {
        store
            .staffing()
            .set_routing(lawyer, None, Some(&["LJ".to_owned()]), Some(2))
            .await
            .unwrap();
    }
    // The other two specialise elsewhere (no skills at all would make them
    // generalists, eligible for everything).
    for other in ["lawyer.li", "lawyer.zhao"] {
        let id = app.demo.account(other).id;
        store
            .staffing()
            .set_routing(id, None, Some(&["ZW".to_owned()]), None)
            .await
            .unwrap();
    }
    store
        .staffing()
        .add_duty_shift(
            app.demo.police_station,
            officer,
            Utc::now() - Duration::hours(1),
            Utc::now() + Duration::hours(1),
            Utc::now(),
        )
        .await
        .unwrap();

    // zhang takes a case: one active case, and a fresh fairness clock.
    let resident = app.resident_token("fed").await;
    let token = app.staff_token("lawyer.zhang").await;
    let case = app
        .submit(&resident, "邻居装修把我家墙震裂了怎么办？")
        .await;
    let offer = app.wait_for_offer(&token, &case.id).await;
    app.accept_offer(&token, &offer).await;

    let lawyers = store
        .staffing()
        .dispatch_snapshots(StaffRole::Lawyer, app.demo.street, Utc::now())
        .await
        .unwrap();
    assert_eq!(lawyers.len(), 4, "the street's four lawyers");
    let idle_since = |id| lawyers.iter().find(|s| s.id == id).unwrap().idle_since;
    assert!(
        idle_since(zhang) > idle_since(wang),
        "taking a case restarts the fairness clock"
    );
    let z = lawyers.iter().find(|s| s.id == zhang).unwrap();
    assert_eq!(
        (z.active_cases, z.capacity, z.presence),
        (1, 2, Presence::Available)
    );
    assert_eq!(z.signed_communities, vec![app.demo.community_a]);
    assert_eq!(z.skills, vec!["LJ".to_owned()]);
    assert!(z.units.contains(&app.demo.street));
    let officers = store
        .staffing()
        .dispatch_snapshots(StaffRole::Officer, app.demo.police_station, Utc::now())
        .await
        .unwrap();
    assert!(officers.iter().any(|o| o.id == officer && o.on_duty));

    // Fed to the engine: wang has been idle longer than zhang, who just took one.
    let case = CaseRouting {
        place: CasePlace {
            community: app.demo.community_a,
            station: Some(app.demo.police_station),
            street: Some(app.demo.street),
            district: Some(app.demo.district),
        },
        category: "LJ01".into(),
        parent_category: Some("LJ".into()),
    };
    let step = LadderStep {
        role: StaffRole::Lawyer,
        level: ScopeLevel::Street,
        timeout_minutes: 60,
        timeout_seconds: None,
        priority_boost: 0,
        skip_when_nobody: false,
        on_duty_only: false,
        signed_lawyer_only: false,
    };
    let order: Vec<_> = candidates(&step, &case, &lawyers, &[])
        .iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(
        order,
        vec![wang, zhang],
        "only the two with the LJ skill, longest idle first"
    );
    store
        .staffing()
        .set_presence(wang, Presence::Away, Utc::now())
        .await
        .unwrap();
    let lawyers = store
        .staffing()
        .dispatch_snapshots(StaffRole::Lawyer, app.demo.street, Utc::now())
        .await
        .unwrap();
    let order: Vec<_> = candidates(&step, &case, &lawyers, &[])
        .iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(order, vec![zhang]);
}

/// The staff snapshot as it was built before the single statement (eight
/// statements: signings, firms, accounts, units, skills, roster, owned
/// load, offered load), kept here as the reference the statement must equal.
async fn reference_snapshots(
    store: &Store,
    role: StaffRole,
    unit: OrgUnitId,
    now: DateTime<Utc>,
) -> Vec<StaffSnapshot> {
    use sansuo_store::entity::{
        case, duty_shift, lawyer_signing, offer, staff, staff_skill, staff_unit,
    };
    use sansuo_store::sea_orm::sea_query::Query;
    use sansuo_store::sea_orm::{
        ColumnTrait, Condition, EntityTrait, FromQueryResult, QueryFilter, QueryOrder, QuerySelect,
    };
    let db = store.db();
    let members = Query::select()
        .column(staff_unit::Column::StaffId)
        .from(staff_unit::Entity)
        .and_where(staff_unit::Column::OrgUnitId.eq(unit.as_uuid()))
        .to_owned();
    let (pool_firms, signed_here): (Vec<Uuid>, Vec<Uuid>) = match role {
        StaffRole::Lawyer => (
            store.org().firms_serving(unit).await.unwrap(),
            lawyer_signing::Entity::find()
                .filter(lawyer_signing::Column::CommunityId.eq(unit.as_uuid()))
                .all(db)
                .await
                .unwrap()
                .into_iter()
                .map(|s| s.staff_id)
                .collect(),
        ),
        _ => (Vec::new(), Vec::new()),
    };
    let accounts = staff::Entity::find()
        .filter(staff::Column::Role.eq(role.as_str()))
        .filter(
            Condition::any()
                .add(staff::Column::OrgUnitId.eq(unit.as_uuid()))
                .add(staff::Column::Id.in_subquery(members))
                .add(staff::Column::LawFirmId.is_in(pool_firms.clone()))
                .add(staff::Column::Id.is_in(signed_here.clone())),
        )
        .all(db)
        .await
        .unwrap();
    let ids: Vec<Uuid> = accounts.iter().map(|a| a.id).collect();
    let units = staff_unit::Entity::find()
        .filter(staff_unit::Column::StaffId.is_in(ids.clone()))
        .all(db)
        .await
        .unwrap();
    let skills = staff_skill::Entity::find()
        .filter(staff_skill::Column::StaffId.is_in(ids.clone()))
        .order_by_asc(staff_skill::Column::CategoryCode)
        .all(db)
        .await
        .unwrap();
    let on_duty: Vec<Uuid> = duty_shift::Entity::find()
        .filter(duty_shift::Column::StaffId.is_in(ids.clone()))
        .filter(duty_shift::Column::StartsAt.lte(now))
        .filter(duty_shift::Column::EndsAt.gt(now))
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.staff_id)
        .collect();
    #[derive(FromQueryResult)]
    struct Load {
        owner_staff_id: Uuid,
        active: i64,
    }
    let owned: Vec<Load> = case::Entity::find()
        .select_only()
        .column(case::Column::OwnerStaffId)
        .column_as(case::Column::Id.count(), "active")
        .filter(case::Column::OwnerStaffId.is_in(ids.clone()))
        .filter(case::Column::Status.is_not_in(FINISHED_STATUSES))
        .group_by(case::Column::OwnerStaffId)
        .into_model::<Load>()
        .all(db)
        .await
        .unwrap();
    let offered: Vec<Load> = offer::Entity::find()
        .select_only()
        .column_as(offer::Column::StaffId, "owner_staff_id")
        .column_as(offer::Column::Id.count(), "active")
        .filter(offer::Column::StaffId.is_in(ids.clone()))
        .filter(offer::Column::Status.eq("pending"))
        .group_by(offer::Column::StaffId)
        .into_model::<Load>()
        .all(db)
        .await
        .unwrap();
    let signings = lawyer_signing::Entity::find()
        .filter(lawyer_signing::Column::StaffId.is_in(ids))
        .all(db)
        .await
        .unwrap();
    accounts
        .into_iter()
        .map(|account| {
            let id = account.id;
            let mut my_units = vec![account.org_unit_id];
            my_units.extend(
                units
                    .iter()
                    .filter(|u| u.staff_id == id)
                    .map(|u| u.org_unit_id),
            );
            if account.law_firm_id.is_some_and(|f| pool_firms.contains(&f))
                || signed_here.contains(&id)
            {
                my_units.push(unit.as_uuid());
            }
            StaffSnapshot {
                id: id.into(),
                role,
                active: account.active,
                units: my_units.into_iter().map(Into::into).collect(),
                skills: skills
                    .iter()
                    .filter(|s| s.staff_id == id)
                    .map(|s| s.category_code.clone())
                    .collect(),
                presence: parse_presence(&account.presence).unwrap_or(Presence::OffDuty),
                on_duty: on_duty.contains(&id),
                active_cases: owned
                    .iter()
                    .chain(&offered)
                    .filter(|l| l.owner_staff_id == id)
                    .map(|l| l.active.max(0) as u32)
                    .sum(),
                capacity: account.capacity.max(0) as u32,
                signed_communities: signings
                    .iter()
                    .filter(|s| s.staff_id == id)
                    .map(|s| s.community_id.into())
                    .collect(),
                idle_since: account.last_assigned_at.unwrap_or(account.created_at),
            }
        })
        .collect()
}

/// Snapshots in id order, each one's unit and signing lists sorted (the
/// order of those lists was never specified; the engine only asks them
/// `contains`). Skills keep their order: sorted by code in both.
fn normalised(mut snapshots: Vec<StaffSnapshot>) -> Vec<StaffSnapshot> {
    snapshots.sort_by_key(|s| s.id);
    for s in &mut snapshots {
        s.units.sort();
        s.signed_communities.sort();
    }
    snapshots
}

/// Give the demo district every kind of fact a snapshot folds in: several
/// skills, memberships, a firm signed to the district, shifts past, present
/// and future, owned cases active and finished, offers pending and not,
/// presence of each kind, an inactive account.
async fn varied_district(app: &TestApp) {
    use sansuo_store::entity::{case, offer, staff};
    use sansuo_store::sea_orm::sea_query::Expr;
    use sansuo_store::sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};
    let store = &app.app.store;
    let db = store.db();
    let now = Utc::now();
    let id = |name: &str| app.demo.account(name).id;

    // zhang (signed to community A) is offered three cases, takes two,
    // one of which is then closed: one owned active case, one pending offer.
    let resident = app.resident_token("variety").await;
    let token = app.staff_token("lawyer.zhang").await;
    let mut offers = Vec::new();
    for question in [
        "邻居装修把我家墙震裂了怎么办？",
        "楼上漏水把我家天花板泡坏了，物业不管怎么办？",
        "邻居在楼道堆放杂物，屡次沟通无果怎么办？",
    ] {
        let case = app.submit(&resident, question).await;
        offers.push(app.wait_for_offer(&token, &case.id).await);
    }
    for offer in &offers[..2] {
        app.accept_offer(&token, offer).await;
    }
    let closed: Uuid = offers[1].case_id;
    case::Entity::update_many()
        .col_expr(case::Column::Status, Expr::value("closed"))
        .filter(case::Column::Id.eq(closed))
        .exec(db)
        .await
        .unwrap();
    // Offers that no longer hold a place: expired and declined, to wang.
    for status in ["expired", "declined"] {
        offer::Entity::insert(offer::ActiveModel {
            id: Set(Uuid::now_v7()),
            case_id: Set(closed),
            staff_id: Set(id("lawyer.wang").as_uuid()),
            status: Set(status.to_owned()),
            created_at: Set(now),
            expires_at: Set(now),
            responded_at: Set(Some(now)),
            decline_reason: Set(None),
            ladder_step: Set(0),
        })
        .exec_without_returning(db)
        .await
        .unwrap();
    }

    // Skills stored out of order; memberships beyond the home unit.
    store
        .staffing()
        .set_routing(
            id("lawyer.zhang"),
            Some(&[app.demo.community_b]),
            Some(&["ZW".to_owned(), "LJ".to_owned()]),
            Some(3),
        )
        .await
        .unwrap();
    store
        .staffing()
        .set_routing(
            id("mediator.chen"),
            Some(&[app.demo.community_b, app.demo.street]),
            Some(&["LJ".to_owned()]),
            None,
        )
        .await
        .unwrap();
    store
        .staffing()
        .set_routing(id("officer.liu"), Some(&[app.demo.community_a]), None, None)
        .await
        .unwrap();

    // A second firm signed to the district serves its streets' pools.
    let firm = store
        .org()
        .insert_law_firm("区级律师事务所", now)
        .await
        .unwrap();
    store
        .org()
        .sign_firm(firm, app.demo.district)
        .await
        .unwrap();
    let qian = store
        .identity()
        .insert_staff(
            NewStaff {
                username: "lawyer.qian",
                password_hash: "x",
                display_name: "钱律师",
                role: StaffRole::Lawyer,
                org_unit: app.demo.district,
                law_firm: Some(firm),
            },
            now,
        )
        .await
        .unwrap();

    // Shifts: past, present, future.
    let hours = Duration::hours;
    for (who, unit, from, to) in [
        (
            id("mediator.chen"),
            app.demo.community_a,
            hours(-3),
            hours(-1),
        ),
        (
            id("mediator.chen"),
            app.demo.community_a,
            hours(-1),
            hours(1),
        ),
        (qian, app.demo.district, hours(1), hours(3)),
        (id("lawyer.wang"), app.demo.street, hours(-2), hours(2)),
    ] {
        store
            .staffing()
            .add_duty_shift(unit, who, now + from, now + to, now)
            .await
            .unwrap();
    }

    // Presence of each kind; an inactive account.
    store
        .staffing()
        .set_presence(id("lawyer.wang"), Presence::Away, now)
        .await
        .unwrap();
    store
        .staffing()
        .set_presence(qian, Presence::OffDuty, now)
        .await
        .unwrap();
    staff::Entity::update_many()
        .col_expr(staff::Column::Active, Expr::value(false))
        .filter(staff::Column::Id.eq(id("lawyer.zhao").as_uuid()))
        .exec(db)
        .await
        .unwrap();
    // The case closed and the offers inserted above by hand bypassed the
    // store's load counters: set them as the reconciler's pass would.
    store.offers().repair_staff_loads().await.unwrap();
}

/// Every (role, unit) of the district: the single statement gives what the
/// eight statements gave.
async fn single_statement_matches_the_reference(app: &TestApp) {
    use sansuo_store::entity::org_unit;
    use sansuo_store::sea_orm::EntityTrait;
    let store = &app.app.store;
    varied_district(app).await;
    let now = Utc::now();
    let units = org_unit::Entity::find().all(store.db()).await.unwrap();
    let mut compared = 0;
    for unit in &units {
        for role in StaffRole::ALL {
            let unit = OrgUnitId::from(unit.id);
            let new = store
                .staffing()
                .dispatch_snapshots(role, unit, now)
                .await
                .unwrap();
            let old = reference_snapshots(store, role, unit, now).await;
            assert_eq!(normalised(new), normalised(old), "{role:?} of unit {unit}");
            compared += 1;
        }
    }
    assert!(compared >= 5 * units.len());

    // And the values themselves, where each kind of fact shows.
    let lawyers = store
        .staffing()
        .dispatch_snapshots(StaffRole::Lawyer, app.demo.street, now)
        .await
        .unwrap();
    assert_eq!(
        lawyers.len(),
        5,
        "four of the street's firm and qian's district firm"
    );
    let of = |name: &str| {
        let id = app.demo.account(name).id;
        lawyers.iter().find(|s| s.id == id).unwrap().clone()
    };
    let zhang = of("lawyer.zhang");
    assert_eq!(
        (zhang.active_cases, zhang.capacity),
        (2, 3),
        "one owned active case and one pending offer; the closed case and others' offers do not count"
    );
    assert_eq!(zhang.skills, vec!["LJ".to_owned(), "ZW".to_owned()]);
    assert!(zhang.units.contains(&app.demo.community_b));
    assert!(zhang.units.contains(&app.demo.street));
    assert_eq!(zhang.signed_communities, vec![app.demo.community_a]);
    let wang = of("lawyer.wang");
    assert_eq!(
        (wang.active_cases, wang.presence, wang.on_duty),
        (0, Presence::Away, true)
    );
    assert!(!of("lawyer.zhao").active);
    let qian = lawyers
        .iter()
        .find(|s| !app.demo.accounts.iter().any(|a| a.id == s.id))
        .unwrap();
    assert_eq!((qian.presence, qian.on_duty), (Presence::OffDuty, false));
    assert!(
        qian.units.contains(&app.demo.street),
        "through the district's firm"
    );
    let mediators = store
        .staffing()
        .dispatch_snapshots(StaffRole::Mediator, app.demo.community_b, now)
        .await
        .unwrap();
    assert_eq!(mediators.len(), 1, "chen, by membership");
    assert!(mediators[0].on_duty, "the present shift, not the past one");
    assert_eq!(mediators[0].skills, vec!["LJ".to_owned()]);
    // A community's own lawyer step: only its signed lawyer (and members).
    let community = store
        .staffing()
        .dispatch_snapshots(StaffRole::Lawyer, app.demo.community_a, now)
        .await
        .unwrap();
    assert_eq!(
        community.iter().map(|s| s.id).collect::<Vec<_>>(),
        vec![app.demo.account("lawyer.zhang").id]
    );
}

#[tokio::test]
async fn the_single_statement_snapshot_equals_the_eight_statement_one_on_postgres() {
    let app = TestApp::spawn().await;
    single_statement_matches_the_reference(&app).await;
}

#[tokio::test]
async fn the_single_statement_snapshot_equals_the_eight_statement_one_on_sqlite() {
    let app = TestApp::spawn_embedded().await;
    single_statement_matches_the_reference(&app).await;
}
