//! What the dispatch engine is fed: staff snapshots read from the database.

use chrono::{Duration, Utc};
use sansuo_domain::StaffRole;
use sansuo_domain::dispatch::{
    CasePlace, CaseRouting, LadderStep, Presence, ScopeLevel, candidates,
};
use sansuo_tests::TestApp;

#[tokio::test]
async fn snapshots_carry_units_skills_duty_load_and_the_fairness_clock() {
    let app = TestApp::spawn().await;
    let store = &app.app.store;
    let zhang = app.demo.account("lawyer.zhang").id;
    let wang = app.demo.account("lawyer.wang").id;
    let officer = app.demo.account("officer.liu").id;
    for lawyer in [zhang, wang] {
        store
            .set_staff_routing(lawyer, None, Some(&["LJ".to_owned()]), Some(2))
            .await
            .unwrap();
    }
    // The other two specialise elsewhere (no skills at all would make them
    // generalists, eligible for everything).
    for other in ["lawyer.li", "lawyer.zhao"] {
        let id = app.demo.account(other).id;
        store
            .set_staff_routing(id, None, Some(&["ZW".to_owned()]), None)
            .await
            .unwrap();
    }
    store
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
    let offer = app
        .wait_for_offer(&token, case["id"].as_str().unwrap())
        .await;
    app.accept_offer(&token, &offer).await;

    let lawyers = store
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
        .set_presence(wang, Presence::Away, Utc::now())
        .await
        .unwrap();
    let lawyers = store
        .dispatch_snapshots(StaffRole::Lawyer, app.demo.street, Utc::now())
        .await
        .unwrap();
    let order: Vec<_> = candidates(&step, &case, &lawyers, &[])
        .iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(order, vec![zhang]);
}
