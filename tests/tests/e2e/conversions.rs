//! 三所联动 conversions: a lawyer who owns a consultation turns it into a
//! mediation (proposed, then consented to or refused by the resident) or
//! into a tip for the officer on duty (at once). The new case is routed
//! like any new one; both cases link to each other and both histories keep
//! an event; the consultation ends as `converted`. Only the owner converts:
//! another lawyer, another street's lawyer, other roles and other ids are
//! refused; converting twice is 409.

use crate::tips::officer_on_duty;
use reqwest::StatusCode;
use sansuo_tests::views::{
    CaseLinkView, ConsultationStatusView, ConsultationView, MediationView, StaffCaseView, TipView,
};
use sansuo_tests::world::StreetB;
use sansuo_tests::{TestApp, eventually, expect_error, expect_json, expect_status};
use serde_json::{Value, json};
use uuid::Uuid;

const RESPONDENT_PHONE: &str = "13987655678";

fn mediation_body() -> Value {
    json!({
        "to": "mediation",
        "category_code": "LJ02",
        "facts": "楼上卫生间漏水三个月，居民多次沟通无果，属于邻里纠纷",
        "claims": "请对方修好漏水并赔偿天花板维修费",
        "parties": [
            {"role": "applicant", "name": "王小明", "contact": "13812341234"},
            {"role": "respondent", "name": "赵大力", "contact": RESPONDENT_PHONE},
        ],
    })
}

fn tip_body() -> Value {
    json!({
        "to": "tip",
        "category_code": "ZA05",
        "description": "居民咨询中反映小区内有人以投资为名收取老人钱款，疑似诈骗",
    })
}

/// A consultation submitted by `resident` and accepted by lawyer.zhang.
async fn owned_consultation(app: &TestApp, resident: &str, zhang: &str) -> Uuid {
    let case = app.submit(resident, "楼上漏水，物业不管，能怎么办？").await;
    let offer = app.wait_for_offer(zhang, &case.id).await;
    let _: StaffCaseView = app.accept_offer(zhang, &offer).await;
    case.id
}

fn convert_path(id: Uuid) -> String {
    format!("/api/v1/staff/consultations/{id}/convert")
}

fn actions(view: &ConsultationView) -> Vec<&str> {
    view.history.iter().map(|e| e.action.as_str()).collect()
}

#[tokio::test]
async fn a_consultation_becomes_a_mediation_once_the_resident_consents() {
    let app = TestApp::spawn().await;
    let zhang = app.staff_token("lawyer.zhang").await;
    let resident = app.resident_token("leaky").await;
    let stranger = app.resident_token("stranger").await;
    let id = owned_consultation(&app, &resident, &zhang).await;

    // Proposed: nothing moves yet; the resident sees the proposal, parties masked.
    let proposed: ConsultationView = expect_json(
        app.post(&convert_path(id), &zhang, mediation_body()).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(proposed.status, ConsultationStatusView::Assigned);
    let mine: ConsultationView = app
        .get_as(&format!("/api/v1/consultations/{id}"), &resident)
        .await;
    let conversion = mine.conversion.as_ref().expect("the proposal");
    assert_eq!(
        (conversion.to.as_str(), conversion.status.as_str()),
        ("mediation", "proposed")
    );
    assert_eq!(conversion.parties[1].name, "赵**");
    assert_eq!(
        conversion.parties[1].contact.as_deref(),
        Some("139****5678")
    );
    assert!(mine.converted_to.is_none());
    assert!(actions(&mine).contains(&"propose_conversion"));
    let raw = app
        .get(&format!("/api/v1/consultations/{id}"), &resident)
        .await
        .text()
        .await
        .unwrap();
    assert!(!raw.contains(RESPONDENT_PHONE) && !raw.contains("赵大力"));

    // Another resident cannot answer it; a second proposal is refused.
    expect_error(
        app.post(
            &format!("/api/v1/consultations/{id}/conversion/accept"),
            &stranger,
            json!({}),
        )
        .await,
        StatusCode::NOT_FOUND,
        "consultation_not_found",
    )
    .await;
    expect_error(
        app.post(&convert_path(id), &zhang, mediation_body()).await,
        StatusCode::CONFLICT,
        "already_converted",
    )
    .await;

    // Consent: the mediation exists, routed to the community's mediators.
    let converted: ConsultationView = expect_json(
        app.post(
            &format!("/api/v1/consultations/{id}/conversion/accept"),
            &resident,
            json!({}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(converted.status, ConsultationStatusView::Converted);
    let link = converted
        .converted_to
        .clone()
        .expect("linked to the mediation");
    assert_eq!(link.service, "mediation");
    assert_eq!(converted.conversion.as_ref().unwrap().status, "converted");
    assert!(actions(&converted).contains(&"convert"));
    let mediation: MediationView = app
        .get_as(&format!("/api/v1/mediations/{}", link.id), &resident)
        .await;
    assert_eq!(
        mediation.converted_from,
        Some(CaseLinkView {
            service: "consultation".into(),
            id
        })
    );
    assert_eq!(mediation.community_id, app.demo.community_a.as_uuid());
    assert_eq!(mediation.category_code, "LJ02");
    assert_eq!(mediation.parties[1].name, "赵**");
    let history: Vec<&str> = mediation
        .history
        .iter()
        .map(|e| e.action.as_str())
        .collect();
    assert!(
        history.contains(&"submit") && history.contains(&"convert_from_consultation"),
        "{history:?}"
    );
    let chen = app.staff_token("mediator.chen").await;
    let offered: MediationView = eventually(
        "the mediation offered to the community mediator",
        || async {
            let r = app
                .get(&format!("/api/v1/staff/mediations/{}", link.id), &chen)
                .await;
            if r.status() == StatusCode::OK {
                Some(r.json::<MediationView>().await.unwrap())
            } else {
                None
            }
        },
    )
    .await;
    assert_eq!(offered.converted_from.as_ref().map(|l| l.id), Some(id));

    // The lawyer's view shows the link; nothing converts twice.
    let staff: ConsultationView = app
        .get_as(&format!("/api/v1/staff/consultations/{id}"), &zhang)
        .await;
    assert_eq!(staff.converted_to, Some(link));
    expect_error(
        app.post(
            &format!("/api/v1/consultations/{id}/conversion/accept"),
            &resident,
            json!({}),
        )
        .await,
        StatusCode::CONFLICT,
        "no_conversion_proposed",
    )
    .await;
    expect_error(
        app.post(&convert_path(id), &zhang, tip_body()).await,
        StatusCode::CONFLICT,
        "already_converted",
    )
    .await;
}

#[tokio::test]
async fn a_refused_conversion_leaves_the_consultation_with_its_lawyer() {
    let app = TestApp::spawn().await;
    let zhang = app.staff_token("lawyer.zhang").await;
    let resident = app.resident_token("refuser").await;
    let id = owned_consultation(&app, &resident, &zhang).await;
    let refuse = format!("/api/v1/consultations/{id}/conversion/refuse");

    // Nothing proposed: nothing to refuse.
    expect_error(
        app.post(&refuse, &resident, json!({})).await,
        StatusCode::CONFLICT,
        "no_conversion_proposed",
    )
    .await;
    let _: ConsultationView = app
        .post_as(&convert_path(id), &zhang, mediation_body())
        .await;
    // While the proposal waits, no tip either.
    expect_error(
        app.post(&convert_path(id), &zhang, tip_body()).await,
        StatusCode::CONFLICT,
        "already_converted",
    )
    .await;
    let refused: ConsultationView = expect_json(
        app.post(&refuse, &resident, json!({})).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(refused.status, ConsultationStatusView::Assigned);
    assert_eq!(refused.conversion.as_ref().unwrap().status, "refused");
    assert!(refused.converted_to.is_none());
    assert!(actions(&refused).contains(&"refuse_conversion"));
    // The lawyer still owns it and answers it; a new proposal may follow.
    let staff: ConsultationView = app
        .get_as(&format!("/api/v1/staff/consultations/{id}"), &zhang)
        .await;
    assert_eq!(staff.status, ConsultationStatusView::Assigned);
    let again: ConsultationView = app
        .post_as(&convert_path(id), &zhang, mediation_body())
        .await;
    assert_eq!(again.conversion.unwrap().status, "proposed");
}

#[tokio::test]
async fn a_consultation_becomes_a_tip_for_the_officer_on_duty_at_once() {
    let app = TestApp::spawn().await;
    officer_on_duty(&app).await;
    let zhang = app.staff_token("lawyer.zhang").await;
    let resident = app.resident_token("worried").await;
    let id = owned_consultation(&app, &resident, &zhang).await;

    let converted: ConsultationView = expect_json(
        app.post(&convert_path(id), &zhang, tip_body()).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(converted.status, ConsultationStatusView::Converted);
    let link = converted.converted_to.clone().expect("linked to the tip");
    assert_eq!(link.service, "tip");

    // The resident is told on their consultation and has the tip as theirs.
    let mine: ConsultationView = app
        .get_as(&format!("/api/v1/consultations/{id}"), &resident)
        .await;
    assert_eq!(mine.converted_to, Some(link.clone()));
    let convert = mine
        .history
        .iter()
        .find(|e| e.action == "convert")
        .expect("a public event");
    assert!(convert.reason.as_deref().unwrap().contains("民警"));
    let tip: TipView = app
        .get_as(&format!("/api/v1/tips/{}", link.id), &resident)
        .await;
    assert!(!tip.anonymous);
    assert_eq!(tip.community_id, app.demo.community_a.as_uuid());
    assert_eq!(
        tip.converted_from,
        Some(CaseLinkView {
            service: "consultation".into(),
            id
        })
    );
    assert!(
        tip.history
            .iter()
            .any(|e| e.action == "convert_from_consultation")
    );

    // Routed like any new tip: offered to the officer on duty.
    let officer = app.staff_token("officer.liu").await;
    let seen: TipView = eventually("the tip offered to the officer on duty", || async {
        let r = app
            .get(&format!("/api/v1/staff/tips/{}", link.id), &officer)
            .await;
        if r.status() == StatusCode::OK {
            Some(r.json::<TipView>().await.unwrap())
        } else {
            None
        }
    })
    .await;
    assert_eq!(seen.converted_from.map(|l| l.id), Some(id));

    // Twice: refused.
    expect_error(
        app.post(&convert_path(id), &zhang, tip_body()).await,
        StatusCode::CONFLICT,
        "already_converted",
    )
    .await;
}

#[tokio::test]
async fn only_the_owning_lawyer_converts() {
    let app = TestApp::spawn().await;
    let street_b = StreetB::build(&app).await;
    let zhang = app.staff_token("lawyer.zhang").await;
    let li = app.staff_token("lawyer.li").await;
    let lawyer_b = StreetB::token(&app, StreetB::LAWYER).await;
    let coordinator = app.staff_token("coordinator.sun").await;
    let chen = app.staff_token("mediator.chen").await;
    let resident = app.resident_token("owner-test").await;
    let resident_b = app.resident_token("other-street-resident").await;

    // Offered but not accepted: not the lawyer's to convert yet.
    let case = app.submit(&resident, "邻居噪音扰民怎么办？").await;
    let offer = app.wait_for_offer(&zhang, &case.id).await;
    expect_error(
        app.post(&convert_path(case.id), &zhang, mediation_body())
            .await,
        StatusCode::NOT_FOUND,
        "consultation_not_found",
    )
    .await;
    let _: StaffCaseView = app.accept_offer(&zhang, &offer).await;
    let id = case.id;

    // Another lawyer of the street, another street's lawyer: not found,
    // before any look at the body (a malformed one too).
    for token in [&li, &lawyer_b] {
        for body in [mediation_body(), tip_body(), json!({"to": "nowhere"})] {
            expect_error(
                app.post(&convert_path(id), token, body).await,
                StatusCode::NOT_FOUND,
                "consultation_not_found",
            )
            .await;
        }
    }
    // Other roles: forbidden.
    for token in [&coordinator, &chen, &resident] {
        expect_error(
            app.post(&convert_path(id), token, mediation_body()).await,
            StatusCode::FORBIDDEN,
            "forbidden",
        )
        .await;
    }
    // Another case's id in the path (a mediation's, an unknown one): not found.
    let unknown = Uuid::now_v7();
    expect_error(
        app.post(&convert_path(unknown), &zhang, mediation_body())
            .await,
        StatusCode::NOT_FOUND,
        "consultation_not_found",
    )
    .await;
    // Ids smuggled into the body (another street's community or case) are refused, never used.
    for (field, value) in [("community_id", street_b.community), ("case_id", unknown)] {
        let mut body = mediation_body();
        body[field] = json!(value);
        let response = app.post(&convert_path(id), &zhang, body).await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{field}"
        );
    }
    // A staff role cannot answer for the resident; another resident's answer is not found.
    let _: ConsultationView = app
        .post_as(&convert_path(id), &zhang, mediation_body())
        .await;
    expect_error(
        app.post(
            &format!("/api/v1/consultations/{id}/conversion/accept"),
            &zhang,
            json!({}),
        )
        .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    expect_error(
        app.post(
            &format!("/api/v1/consultations/{id}/conversion/refuse"),
            &resident_b,
            json!({}),
        )
        .await,
        StatusCode::NOT_FOUND,
        "consultation_not_found",
    )
    .await;
    let still: ConsultationView = app
        .get_as(&format!("/api/v1/consultations/{id}"), &resident)
        .await;
    assert_eq!(still.conversion.unwrap().status, "proposed");
}

/// The resident hears of a proposal (it waits on them) and of a conversion
/// into a tip; the lawyer hears the resident's answer on their stream.
#[tokio::test]
async fn the_resident_is_told_of_a_proposal_and_the_lawyer_of_the_answer() {
    use crate::notify_walks::{expect_nth, sent_to, subscribe, templates};
    use sansuo_domain::notify::NotificationEvent as N;
    // Streams that stay open through the walk (the default test life is 1 s).
    let app = crate::staff_events::spawn_with(sansuo_tests::TestOptions {
        env: vec![("SANSUO_WECHAT_TEMPLATES", templates())],
        ..Default::default()
    })
    .await;
    let zhang = app.staff_token("lawyer.zhang").await;
    let mut stream = crate::staff_events::Stream::open(&app.base_url, &zhang, None).await;
    let resident = app.resident_token("told-of-conversion").await;
    let openid = "openid-told-of-conversion";
    subscribe(
        &app,
        &resident,
        &[
            N::ConsultationAccepted,
            N::ConsultationConversionProposed,
            N::ConsultationConvertedToTip,
        ],
    )
    .await;
    let id = owned_consultation(&app, &resident, &zhang).await;
    stream.expect_kind("offer").await;
    expect_nth(&app, openid, 1, N::ConsultationAccepted).await;

    expect_status(
        app.post(&convert_path(id), &zhang, mediation_body()).await,
        StatusCode::OK,
    )
    .await;
    let told = expect_nth(&app, openid, 2, N::ConsultationConversionProposed).await;
    assert!(
        !told.to_string().contains("赵大力") && !told.to_string().contains(RESPONDENT_PHONE),
        "{told}"
    );
    let accepted: ConsultationView = expect_json(
        app.post(
            &format!("/api/v1/consultations/{id}/conversion/accept"),
            &resident,
            json!({}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let mediation = accepted.converted_to.expect("the mediation").id;
    let answer = stream.expect_kind("conversion_answered").await;
    assert_eq!(crate::staff_events::as_uuid(&answer.data["case_id"]), id);
    assert_eq!(answer.data["consent"], true);
    assert_eq!(
        crate::staff_events::as_uuid(&answer.data["mediation_id"]),
        mediation
    );

    // A refusal reaches the lawyer too; a tip conversion tells the resident.
    let second = owned_consultation(&app, &resident, &zhang).await;
    stream.expect_kind("offer").await;
    expect_status(
        app.post(&convert_path(second), &zhang, mediation_body())
            .await,
        StatusCode::OK,
    )
    .await;
    expect_status(
        app.post(
            &format!("/api/v1/consultations/{second}/conversion/refuse"),
            &resident,
            json!({}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let refused = stream.expect_kind("conversion_answered").await;
    assert_eq!(refused.data["consent"], false);
    assert!(refused.data["mediation_id"].is_null());
    officer_on_duty(&app).await;
    expect_status(
        app.post(&convert_path(second), &zhang, tip_body()).await,
        StatusCode::OK,
    )
    .await;
    eventually("the tip conversion's message", || async {
        sent_to(&app, openid)
            .iter()
            .any(|m| {
                m["template_id"]
                    == crate::notify_walks::template_of(N::ConsultationConvertedToTip).as_str()
            })
            .then_some(())
    })
    .await;
}

/// A proposal waiting for the resident belongs to the lawyer who made it:
/// once the consultation leaves their hands it is withdrawn, and consent
/// is refused; the next lawyer may propose again.
#[tokio::test]
async fn a_hand_back_withdraws_the_proposal_waiting_for_the_resident() {
    let app = TestApp::spawn().await;
    let zhang = app.staff_token("lawyer.zhang").await;
    let resident = app.resident_token("withdrawn-proposal").await;
    let id = owned_consultation(&app, &resident, &zhang).await;
    expect_status(
        app.post(&convert_path(id), &zhang, mediation_body()).await,
        StatusCode::OK,
    )
    .await;
    expect_status(
        app.post(
            &format!("/api/v1/staff/consultations/{id}/hand-back"),
            &zhang,
            json!({"reason": "涉及本人代理过的当事人，需要回避"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let mine: ConsultationView = app
        .get_as(&format!("/api/v1/consultations/{id}"), &resident)
        .await;
    assert_eq!(mine.conversion.as_ref().unwrap().status, "withdrawn");
    assert!(actions(&mine).contains(&"withdraw_conversion"));
    expect_error(
        app.post(
            &format!("/api/v1/consultations/{id}/conversion/accept"),
            &resident,
            json!({}),
        )
        .await,
        StatusCode::CONFLICT,
        "no_conversion_proposed",
    )
    .await;
    // A coordinator gives it to lawyer.zhao, who may propose anew.
    let coordinator = app.staff_token("coordinator.sun").await;
    let zhao_id = app.demo.account("lawyer.zhao").id.as_uuid();
    expect_status(
        app.post(
            &format!("/api/v1/admin/cases/{id}/reassign"),
            &coordinator,
            json!({"staff_id": zhao_id, "reason": "换一位律师跟进"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let zhao = app.staff_token("lawyer.zhao").await;
    expect_status(
        app.post(&convert_path(id), &zhao, mediation_body()).await,
        StatusCode::OK,
    )
    .await;
}
