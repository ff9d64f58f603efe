//! Assisted intake (代办): a mediator or a coordinator files a consultation
//! or a mediation for a resident who came in person without a smartphone.
//! The case is routed like any new one, records how it came in (channel
//! `in_person`, who filed it, a staff-only event), keeps the resident's name
//! and phone sealed (masked in views, opened for the owner only); the
//! community in the body must lie in the filer's subtree; residents and
//! other roles cannot use it.

use reqwest::StatusCode;
use sansuo_store::entity::{case_event, case_intake};
use sansuo_store::sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use sansuo_tests::views::{ConsultationView, IntakeReceipt, MediationView, StaffCaseView};
use sansuo_tests::world::StreetB;
use sansuo_tests::{TestApp, eventually, expect_error, expect_json};
use serde_json::{Value, json};
use uuid::Uuid;

const PHONE: &str = "13912344321";
const NAME: &str = "王大爷";

fn consultation_body(community: Uuid) -> Value {
    json!({
        "community_id": community,
        "category_code": "LJ01",
        "question": "老人来居委会说儿子不给赡养费，想知道怎么办",
        "resident": {"name": NAME, "phone": PHONE},
    })
}

fn mediation_body(community: Uuid) -> Value {
    json!({
        "community_id": community,
        "category_code": "LJ02",
        "facts": "楼上卫生间漏水三个月，老人不会用手机，到居委会求助",
        "claims": "请对方修好漏水",
        "parties": [
            {"role": "applicant", "name": NAME, "contact": PHONE},
            {"role": "respondent", "name": "赵大力"},
        ],
        "resident": {"name": NAME, "phone": PHONE},
    })
}

/// The receipt says how it came in, masked; the database keeps the
/// personal data sealed and a staff-only event.
async fn check_recorded(app: &TestApp, receipt: &IntakeReceipt, filer: &str) {
    assert_eq!(receipt.status, "submitted");
    assert_eq!(receipt.intake.channel, "in_person");
    assert_eq!(
        receipt.intake.filed_by,
        app.demo.account(filer).id.as_uuid()
    );
    assert_eq!(receipt.intake.resident_name, "王**");
    assert_eq!(receipt.intake.resident_phone, "139****4321");
    let db = app.app.store.db();
    let row = case_intake::Entity::find_by_id(receipt.case_id)
        .one(db)
        .await
        .unwrap()
        .expect("the intake row");
    assert!(!row.phone_sealed.contains(PHONE) && !row.name_sealed.contains(NAME));
    let events = case_event::Entity::find()
        .filter(case_event::Column::CaseId.eq(receipt.case_id))
        .all(db)
        .await
        .unwrap();
    let intake = events
        .iter()
        .find(|e| e.action == "in_person_intake")
        .expect("the intake event");
    assert!(!intake.public);
    let submit = events.iter().find(|e| e.action == "submit").unwrap();
    assert_eq!(submit.actor_kind, "staff");
}

#[tokio::test]
async fn a_mediator_files_both_services_for_a_resident_in_person() {
    let app = TestApp::spawn().await;
    let chen = app.staff_token("mediator.chen").await;
    let zhang = app.staff_token("lawyer.zhang").await;
    let community = app.demo.community_a.as_uuid();

    // A consultation: routed to the community's lawyer, who sees how to reach the resident.
    let receipt: IntakeReceipt = expect_json(
        app.post(
            "/api/v1/staff/intake/consultations",
            &chen,
            consultation_body(community),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(receipt.service, "consultation");
    check_recorded(&app, &receipt, "mediator.chen").await;
    let offer = app.wait_for_offer(&zhang, &receipt.case_id).await;
    let _: StaffCaseView = app.accept_offer(&zhang, &offer).await;
    let owned: ConsultationView = app
        .get_as(
            &format!("/api/v1/staff/consultations/{}", receipt.case_id),
            &zhang,
        )
        .await;
    let intake = owned.intake.expect("the intake on the lawyer's view");
    assert_eq!(
        (
            intake.resident_name.as_str(),
            intake.resident_phone.as_str()
        ),
        (NAME, PHONE)
    );
    let coordinator = app.staff_token("coordinator.sun").await;
    let supervised: ConsultationView = app
        .get_as(
            &format!("/api/v1/staff/consultations/{}", receipt.case_id),
            &coordinator,
        )
        .await;
    assert_eq!(supervised.intake.unwrap().resident_phone, "139****4321");

    // A mediation: routed to the community's mediators (chen, who filed it).
    let receipt: IntakeReceipt = expect_json(
        app.post(
            "/api/v1/staff/intake/mediations",
            &chen,
            mediation_body(community),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(receipt.service, "mediation");
    check_recorded(&app, &receipt, "mediator.chen").await;
    let path = format!("/api/v1/staff/mediations/{}", receipt.case_id);
    let offered: MediationView = eventually(
        "the mediation offered to the community mediator",
        || async {
            let r = app.get(&path, &chen).await;
            if r.status() == StatusCode::OK {
                Some(r.json::<MediationView>().await.unwrap())
            } else {
                None
            }
        },
    )
    .await;
    assert_eq!(offered.intake.unwrap().resident_phone, "139****4321");
    let accepted: MediationView = app
        .post_as(&format!("{path}/accept"), &chen, json!({}))
        .await;
    assert_eq!(accepted.intake.unwrap().resident_phone, PHONE);
}

#[tokio::test]
async fn a_coordinator_files_within_their_street_only() {
    let app = TestApp::spawn().await;
    let street_b = StreetB::build(&app).await;
    let coordinator = app.staff_token("coordinator.sun").await;
    let chen = app.staff_token("mediator.chen").await;

    // Any community of the street, both services.
    for community in [app.demo.community_a, app.demo.community_b] {
        let community = community.as_uuid();
        let receipt: IntakeReceipt = expect_json(
            app.post(
                "/api/v1/staff/intake/consultations",
                &coordinator,
                consultation_body(community),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
        assert_eq!(receipt.community_id, community);
        check_recorded(&app, &receipt, "coordinator.sun").await;
    }
    let receipt: IntakeReceipt = expect_json(
        app.post(
            "/api/v1/staff/intake/mediations",
            &coordinator,
            mediation_body(app.demo.community_a.as_uuid()),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    check_recorded(&app, &receipt, "coordinator.sun").await;

    // Another street's community (and, for the mediator, another community
    // of the street): not found, as if it did not exist.
    for (token, community) in [
        (&coordinator, street_b.community),
        (&chen, street_b.community),
        (&chen, app.demo.community_b.as_uuid()),
        (&coordinator, Uuid::now_v7()),
    ] {
        for (path, body) in [
            (
                "/api/v1/staff/intake/consultations",
                consultation_body(community),
            ),
            ("/api/v1/staff/intake/mediations", mediation_body(community)),
        ] {
            expect_error(
                app.post(path, token, body).await,
                StatusCode::NOT_FOUND,
                "community_not_found",
            )
            .await;
        }
    }
    // Street B's coordinator cannot file in street A.
    let other = StreetB::token(&app, StreetB::COORDINATOR).await;
    expect_error(
        app.post(
            "/api/v1/staff/intake/consultations",
            &other,
            consultation_body(app.demo.community_a.as_uuid()),
        )
        .await,
        StatusCode::NOT_FOUND,
        "community_not_found",
    )
    .await;
}

#[tokio::test]
async fn residents_and_other_roles_cannot_file_for_someone() {
    let app = TestApp::spawn().await;
    let community = app.demo.community_a.as_uuid();
    let resident = app.resident_token("self-service").await;
    let lawyer = app.staff_token("lawyer.zhang").await;
    let officer = app.staff_token("officer.liu").await;
    let chen = app.staff_token("mediator.chen").await;
    for token in [&resident, &lawyer, &officer] {
        for (path, body) in [
            (
                "/api/v1/staff/intake/consultations",
                consultation_body(community),
            ),
            ("/api/v1/staff/intake/mediations", mediation_body(community)),
        ] {
            expect_error(
                app.post(path, token, body).await,
                StatusCode::FORBIDDEN,
                "forbidden",
            )
            .await;
        }
    }
    // A phone that is no phone, a missing name: refused, nothing stored.
    let mut body = consultation_body(community);
    body["resident"] = json!({"name": NAME, "phone": "call me"});
    expect_error(
        app.post("/api/v1/staff/intake/consultations", &chen, body)
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    let rows = case_intake::Entity::find()
        .all(app.app.store.db())
        .await
        .unwrap();
    assert!(rows.is_empty());
}

/// A filing retried at the desk (a timeout on the committee's network)
/// with the same Idempotency-Key answers with the first case; the same key
/// with another body is refused; each filer has their own keys.
#[tokio::test]
async fn a_retried_filing_replays_the_first_and_a_changed_one_is_refused() {
    let app = TestApp::spawn().await;
    let chen = app.staff_token("mediator.chen").await;
    let coordinator = app.staff_token("coordinator.sun").await;
    let community = app.demo.community_a.as_uuid();
    for (path, body) in [
        (
            "/api/v1/staff/intake/consultations",
            consultation_body(community),
        ),
        ("/api/v1/staff/intake/mediations", mediation_body(community)),
    ] {
        let key = Uuid::now_v7().to_string();
        let file = |token: &str, body: Value| {
            app.http
                .post(app.url(path))
                .bearer_auth(token.to_owned())
                .header("Idempotency-Key", key.clone())
                .json(&body)
                .send()
        };
        let first = file(&chen, body.clone()).await.unwrap();
        assert!(first.headers().get("Idempotent-Replayed").is_none());
        let first: IntakeReceipt = expect_json(first, StatusCode::CREATED).await;
        let again = file(&chen, body.clone()).await.unwrap();
        assert_eq!(again.headers()["Idempotent-Replayed"], "true");
        let again: IntakeReceipt = expect_json(again, StatusCode::CREATED).await;
        assert_eq!(again.case_id, first.case_id, "{path}");
        let mut changed = body.clone();
        changed["resident"]["phone"] = json!("13700001111");
        expect_error(
            file(&chen, changed).await.unwrap(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "idempotency_key_reused",
        )
        .await;
        // Another filer's key space: a case of their own.
        let theirs: IntakeReceipt =
            expect_json(file(&coordinator, body).await.unwrap(), StatusCode::CREATED).await;
        assert_ne!(theirs.case_id, first.case_id);
    }
}
