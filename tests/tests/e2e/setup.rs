//! A district set up through the API alone (issue #14, item 2): units and
//! rooms edited and deactivated, law firms and signings, and dispatch
//! following what the API wrote.

use reqwest::StatusCode;
use sansuo_tests::views::{
    CommunityCardView, ConsultationView, LawFirmList, LawFirmView, LawyerSigningList,
    LawyerSigningView, OfferList, OrgUnitList, OrgUnitView, RoomList, RoomView, StaffProfileView,
    TokenResponse,
};
use sansuo_tests::world::StreetB;
use sansuo_tests::{TestApp, eventually, expect_error, expect_json, expect_status};
use serde_json::{Value, json};
use uuid::Uuid;

async fn login(app: &TestApp, username: &str, password: &str) -> String {
    let response = app
        .http
        .post(app.url("/api/v1/auth/staff"))
        .json(&json!({ "username": username, "password": password }))
        .send()
        .await
        .unwrap();
    expect_json::<TokenResponse>(response, StatusCode::OK)
        .await
        .access_token
}

async fn consult(
    app: &TestApp,
    resident: &str,
    community: Uuid,
    question: &str,
) -> reqwest::Response {
    app.http
        .post(app.url("/api/v1/consultations"))
        .bearer_auth(resident)
        .header("Idempotency-Key", Uuid::now_v7().to_string())
        .json(&json!({"community_id": community, "category_code": "LJ01", "question": question}))
        .send()
        .await
        .unwrap()
}

fn unit_path(id: Uuid) -> String {
    format!("/api/v1/admin/org-units/{id}")
}

#[tokio::test]
async fn units_and_rooms_are_edited_and_deactivated_only_when_no_open_work_is_orphaned() {
    let app = TestApp::spawn().await;
    let b = StreetB::build(&app).await;
    let admin = app.staff_token("admin").await;
    let resident = app.resident_token("setup-units").await;

    // Edit: name, address, office hours, services; the QR card shows it.
    let edited: OrgUnitView = expect_json(
        app.patch(
            &unit_path(b.community),
            &admin,
            json!({"name": "新港居委会", "address": "新港路 1 号", "office_hours": "周一至周五 09:00–17:00",
                   "services": ["consultation", "mediation"]}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(edited.name, "新港居委会");
    assert_eq!(edited.services, ["consultation", "mediation"]);
    assert!(edited.active);
    let card: CommunityCardView = app
        .get_as("/api/v1/communities/by-scene/hk-xg", &resident)
        .await;
    assert_eq!(card.name, "新港居委会");
    assert_eq!(card.office_hours.as_deref(), Some("周一至周五 09:00–17:00"));
    // An empty string clears; a blank name and services on a street are refused.
    let cleared: OrgUnitView = expect_json(
        app.patch(&unit_path(b.community), &admin, json!({"address": ""}))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(cleared.address, None);
    expect_error(
        app.patch(&unit_path(b.community), &admin, json!({"name": "  "}))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    expect_error(
        app.patch(&unit_path(b.street), &admin, json!({"services": ["tip"]}))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;

    // Open work holds every unit of street B: the street has a community
    // and a coordinator, the station polices the community, the community
    // has its mediator and, soon, an open consultation.
    let open: ConsultationView = expect_json(
        consult(
            &app,
            &resident,
            b.community,
            "停用测试：楼上漏水物业不管怎么办？",
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    for unit in [b.street, b.station, b.community] {
        expect_error(
            app.patch(&unit_path(unit), &admin, json!({"active": false}))
                .await,
            StatusCode::CONFLICT,
            "unit_in_use",
        )
        .await;
    }
    // A refused deactivation changes nothing, the edits in the same call included.
    let unchanged: OrgUnitList = app
        .get_as(
            &format!("/api/v1/admin/org-units?parent_id={}", b.street),
            &admin,
        )
        .await;
    assert!(unchanged.items.iter().all(|u| u.active));
    let mediator_path = format!("/api/v1/admin/staff/{}", b.mediator);
    expect_status(
        app.patch(&mediator_path, &admin, json!({"active": false}))
            .await,
        StatusCode::OK,
    )
    .await;
    let held = expect_error(
        app.patch(&unit_path(b.community), &admin, json!({"active": false}))
            .await,
        StatusCode::CONFLICT,
        "unit_in_use",
    )
    .await;
    assert!(
        held.error.message.contains("1 open cases"),
        "{}",
        held.error.message
    );
    expect_status(
        app.post(
            &format!("/api/v1/consultations/{}/withdraw", open.id),
            &resident,
            json!({}),
        )
        .await,
        StatusCode::OK,
    )
    .await;

    // Now it goes, with its room; residents cannot reach it any more.
    let off: OrgUnitView = expect_json(
        app.patch(&unit_path(b.community), &admin, json!({"active": false}))
            .await,
        StatusCode::OK,
    )
    .await;
    assert!(!off.active);
    expect_status(
        app.get("/api/v1/communities/by-scene/hk-xg", &resident)
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    expect_error(
        consult(
            &app,
            &resident,
            b.community,
            "停用之后：还能向这个居委提问吗？",
        )
        .await,
        StatusCode::NOT_FOUND,
        "community_not_found",
    )
    .await;
    let rooms: RoomList = app
        .get_as(
            &format!("/api/v1/admin/rooms?org_unit_id={}", b.community),
            &admin,
        )
        .await;
    assert!(rooms.items.iter().all(|r| !r.active));
    let room_path = format!("/api/v1/admin/rooms/{}", b.room);
    expect_error(
        app.patch(&room_path, &admin, json!({"active": true})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    // Nothing new goes under it, and its scene stays taken.
    expect_error(
        app.post(
            "/api/v1/admin/rooms",
            &admin,
            json!({"org_unit_id": b.community, "name": "停用后的调解室"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    expect_error(
        app.post(
            "/api/v1/admin/org-units",
            &admin,
            json!({"kind": "community", "parent_id": b.street, "station_id": b.station, "name": "抢场景", "scene": "hk-xg"}),
        )
        .await,
        StatusCode::CONFLICT,
        "scene_taken",
    )
    .await;

    // Back into service: the unit, then its room on its own.
    let on: OrgUnitView = expect_json(
        app.patch(&unit_path(b.community), &admin, json!({"active": true}))
            .await,
        StatusCode::OK,
    )
    .await;
    assert!(on.active);
    let room: RoomView = expect_json(
        app.patch(
            &room_path,
            &admin,
            json!({"active": true, "name": "新港居委一号调解室", "opening_hours": "周六 09:00–12:00"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert!(room.active);
    assert_eq!(room.name, "新港居委一号调解室");
    assert_eq!(room.opening_hours.as_deref(), Some("周六 09:00–12:00"));
    expect_status(
        app.get("/api/v1/communities/by-scene/hk-xg", &resident)
            .await,
        StatusCode::OK,
    )
    .await;
    expect_status(
        consult(
            &app,
            &resident,
            b.community,
            "恢复之后：这个居委又能提问了吗？",
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
}

#[tokio::test]
async fn edits_and_signings_stay_inside_the_callers_street() {
    let app = TestApp::spawn().await;
    let b = StreetB::build(&app).await;
    let sun = app.staff_token("coordinator.sun").await;
    let community_a = app.demo.community_a.as_uuid();

    // Another street's unit or room in the path: absent.
    for (path, code) in [
        (unit_path(b.community), "org_unit_not_found"),
        (unit_path(b.street), "org_unit_not_found"),
        (format!("/api/v1/admin/rooms/{}", b.room), "room_not_found"),
    ] {
        expect_error(
            app.patch(&path, &sun, json!({"name": "越界"})).await,
            StatusCode::NOT_FOUND,
            code,
        )
        .await;
    }
    // Another street's id in the body, with one's own in the path: absent too.
    expect_error(
        app.patch(
            &unit_path(community_a),
            &sun,
            json!({"station_id": b.station}),
        )
        .await,
        StatusCode::NOT_FOUND,
        "org_unit_not_found",
    )
    .await;
    expect_error(
        app.put(
            &format!("/api/v1/admin/communities/{community_a}/lawyer"),
            &sun,
            json!({"staff_id": b.lawyer}),
        )
        .await,
        StatusCode::NOT_FOUND,
        "staff_not_found",
    )
    .await;
    expect_error(
        app.post(
            "/api/v1/admin/law-firms",
            &sun,
            json!({"name": "越界律师事务所", "org_unit_id": b.street}),
        )
        .await,
        StatusCode::NOT_FOUND,
        "org_unit_not_found",
    )
    .await;
    // Street B's coordinator does not see street A's firm, nor sign it.
    let coordinator_b = StreetB::token(&app, StreetB::COORDINATOR).await;
    let firms_a: LawFirmList = app.get_as("/api/v1/admin/law-firms", &sun).await;
    let demo_firm = firms_a.items.first().expect("the demo firm").id;
    let firms_b: LawFirmList = app.get_as("/api/v1/admin/law-firms", &coordinator_b).await;
    assert!(firms_b.items.iter().all(|f| f.id != demo_firm));
    expect_error(
        app.post(
            &format!("/api/v1/admin/law-firms/{demo_firm}/signings"),
            &coordinator_b,
            json!({"org_unit_id": b.street}),
        )
        .await,
        StatusCode::NOT_FOUND,
        "law_firm_not_found",
    )
    .await;
    // A coordinator cannot deactivate their own street: they are at home there.
    expect_error(
        app.patch(
            &unit_path(app.demo.street.as_uuid()),
            &sun,
            json!({"active": false}),
        )
        .await,
        StatusCode::CONFLICT,
        "unit_in_use",
    )
    .await;
}

/// The pending offer of `case` to the lawyer holding `token`, if any.
async fn offer_of(app: &TestApp, token: &str, case: Uuid) -> Option<Uuid> {
    let offers: OfferList = app.get_as("/api/v1/staff/offers", token).await;
    offers
        .items
        .into_iter()
        .find(|o| o.case_id == case)
        .map(|o| o.id)
}

/// Who is offered `case` first: one of `lawyers` (by index).
async fn offered_to(app: &TestApp, lawyers: &[&str], case: Uuid) -> usize {
    let (who, offer) = eventually("the consultation to be offered", || async {
        for (i, token) in lawyers.iter().enumerate() {
            if let Some(offer) = offer_of(app, token, case).await {
                return Some((i, offer));
            }
        }
        None
    })
    .await;
    let accepted = app
        .post(
            &format!("/api/v1/staff/offers/{offer}/accept"),
            lawyers[who],
            json!({}),
        )
        .await;
    expect_status(accepted, StatusCode::OK).await;
    who
}

#[tokio::test]
async fn a_lawyer_signed_through_the_api_is_offered_the_communitys_consultations() {
    let app = TestApp::spawn().await;
    let b = StreetB::build(&app).await;
    let admin = app.staff_token("admin").await;
    let coordinator = StreetB::token(&app, StreetB::COORDINATOR).await;
    let resident = app.resident_token("setup-signing").await;

    // A firm for street B, and a second lawyer of it. lawyer.b is older,
    // so the street's pool (longest idle first) would pick lawyer.b: only
    // the signing sends a case to the new one.
    let firm: LawFirmView = expect_json(
        app.post(
            "/api/v1/admin/law-firms",
            &coordinator,
            json!({"name": "嘉兴路律师事务所", "org_unit_id": b.street}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(firm.signed_unit_ids, [b.street]);
    let listed: LawFirmList = app.get_as("/api/v1/admin/law-firms", &coordinator).await;
    assert!(listed.items.iter().any(|f| f.id == firm.id));
    let newcomer: StaffProfileView = expect_json(
        app.post(
            "/api/v1/admin/staff",
            &coordinator,
            json!({"username": "lawyer.b2", "password": "lawyer-b2-password", "display_name": "新律师",
                   "role": "lawyer", "org_unit_id": b.street, "law_firm_id": firm.id, "capacity": 5}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let old = StreetB::token(&app, StreetB::LAWYER).await;
    let new = login(&app, "lawyer.b2", "lawyer-b2-password").await;
    let lawyers = [old.as_str(), new.as_str()];

    let signing: LawyerSigningView = expect_json(
        app.put(
            &format!("/api/v1/admin/communities/{}/lawyer", b.community),
            &coordinator,
            json!({"staff_id": newcomer.id}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(signing.staff_id, newcomer.id);
    let signings: LawyerSigningList = app
        .get_as(
            &format!("/api/v1/admin/lawyer-signings?org_unit_id={}", b.street),
            &coordinator,
        )
        .await;
    assert_eq!(signings.items.len(), 1);
    let card: CommunityCardView = app
        .get_as("/api/v1/communities/by-scene/hk-xg", &resident)
        .await;
    let signed = card
        .signed_lawyer
        .expect("the card names the signed lawyer");
    assert_eq!(signed.display_name, "新律师");
    assert_eq!(signed.firm.as_deref(), Some("嘉兴路律师事务所"));

    // Signed: the community's consultations go to the newcomer, twice
    // (the pool would have given both to lawyer.b).
    for question in [
        "签约测试一：房东不退押金怎么办？",
        "签约测试二：装修噪音扰民能投诉吗？",
    ] {
        let case: ConsultationView = expect_json(
            consult(&app, &resident, b.community, question).await,
            StatusCode::CREATED,
        )
        .await;
        assert_eq!(offered_to(&app, &lawyers, case.id).await, 1, "{question}");
    }

    // Signing ended: the next one starts at the street's pool, lawyer.b first.
    expect_status(
        app.delete(
            &format!("/api/v1/admin/communities/{}/lawyer", b.community),
            &coordinator,
        )
        .await,
        StatusCode::NO_CONTENT,
    )
    .await;
    expect_error(
        app.delete(
            &format!("/api/v1/admin/communities/{}/lawyer", b.community),
            &coordinator,
        )
        .await,
        StatusCode::NOT_FOUND,
        "signing_not_found",
    )
    .await;
    let case: ConsultationView = expect_json(
        consult(
            &app,
            &resident,
            b.community,
            "签约结束：邻居占用车位怎么处理？",
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(offered_to(&app, &lawyers, case.id).await, 0);

    // The firm's signing ends too; a second end finds nothing.
    let end = format!(
        "/api/v1/admin/law-firms/{}/signings?org_unit_id={}",
        firm.id, b.street
    );
    expect_status(app.delete(&end, &admin).await, StatusCode::NO_CONTENT).await;
    let after: Value = app.get_as("/api/v1/admin/law-firms", &admin).await;
    assert!(
        !after["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["id"] == json!(firm.id)),
        "a firm signed nowhere serves no one: {after}"
    );
}

async fn categories(app: &TestApp, etag: Option<&str>) -> reqwest::Response {
    let mut request = app.http.get(app.url("/api/v1/categories"));
    if let Some(etag) = etag {
        request = request.header("If-None-Match", etag);
    }
    request.send().await.unwrap()
}

fn etag_of(response: &reqwest::Response) -> String {
    response.headers()["etag"].to_str().unwrap().to_owned()
}

#[tokio::test]
async fn an_edited_category_changes_the_etag_takes_effect_and_outlives_a_restart() {
    let app = TestApp::spawn().await;
    let admin = app.staff_token("admin").await;
    let resident = app.resident_token("setup-categories").await;
    let community = app.demo.community_a.as_uuid();

    let first = categories(&app, None).await;
    assert_eq!(first.status(), StatusCode::OK);
    let before = etag_of(&first);
    assert_eq!(
        categories(&app, Some(&before)).await.status(),
        StatusCode::NOT_MODIFIED
    );

    // Only an administrator edits the global catalogue.
    let sun = app.staff_token("coordinator.sun").await;
    expect_error(
        app.patch(
            "/api/v1/admin/categories/LJ",
            &sun,
            json!({"name_zh": "越权"}),
        )
        .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    for bad in [
        json!({"name_zh": ""}),
        json!({"workflows": []}),
        json!({"workflows": ["no_such_workflow"]}),
        json!({"workflows": ["consultation_lawyer", "consultation_urgent_lawyer"]}),
    ] {
        expect_error(
            app.patch("/api/v1/admin/categories/LJ", &admin, bad).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
    }
    expect_error(
        app.patch(
            "/api/v1/admin/categories/XX99",
            &admin,
            json!({"urgent": true}),
        )
        .await,
        StatusCode::NOT_FOUND,
        "category_not_found",
    )
    .await;
    // Refused edits changed nothing.
    assert_eq!(
        categories(&app, Some(&before)).await.status(),
        StatusCode::NOT_MODIFIED
    );

    // An edit: the held copy is stale, the new one current.
    let edited: Value = expect_json(
        app.patch(
            "/api/v1/admin/categories/LJ01",
            &admin,
            json!({"name_zh": "噪音与油烟扰民", "name_en": "Noise and fumes"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(edited["name_zh"], "噪音与油烟扰民");
    let stale = categories(&app, Some(&before)).await;
    assert_eq!(stale.status(), StatusCode::OK);
    let after = etag_of(&stale);
    assert_ne!(after, before);
    let list: Value = stale.json().await.unwrap();
    assert!(
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["code"] == "LJ01" && c["name_zh"] == "噪音与油烟扰民")
    );
    assert_eq!(
        categories(&app, Some(&after)).await.status(),
        StatusCode::NOT_MODIFIED
    );

    // Urgency on the parent reaches the sub-items that inherited it:
    // a consultation in LJ01 is now a 110 emergency, refused.
    expect_status(
        app.patch(
            "/api/v1/admin/categories/LJ",
            &admin,
            json!({"urgent": true}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    expect_error(
        consult(
            &app,
            &resident,
            community,
            "紧急测试：楼下有人打架，怎么办？",
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "emergency_call_110",
    )
    .await;

    // Another instance starts (and syncs the catalogue file): the edits stay.
    let sibling = app.spawn_sibling().await;
    let listed: Value = app
        .http
        .get(format!(
            "http://127.0.0.1:{}/api/v1/admin/categories",
            sibling.port
        ))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let find = |code: &str| {
        listed["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["code"] == code)
            .cloned()
            .unwrap()
    };
    assert_eq!(find("LJ01")["name_zh"], "噪音与油烟扰民");
    assert_eq!(find("LJ01")["urgent"], true);
    assert_eq!(find("LJ")["urgent"], true);
    // Back to normal: consultations in LJ01 are taken again.
    expect_status(
        app.patch(
            "/api/v1/admin/categories/LJ",
            &admin,
            json!({"urgent": false}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    expect_status(
        consult(
            &app,
            &resident,
            community,
            "恢复之后：楼上噪音扰民可以投诉吗？",
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
}
