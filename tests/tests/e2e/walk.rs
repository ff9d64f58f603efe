//! The whole consultation walk of a resident and a lawyer.

use reqwest::StatusCode;
use sansuo_tests::views::{
    CategoryList, CommunityCardView, ConsultationPage, ConsultationStatusView as Status,
    ConsultationView, OfferList, StaffCaseView,
};
use sansuo_tests::{TestApp, expect_error, expect_json, expect_status, read_as};
use serde_json::json;

#[tokio::test]
async fn a_resident_asks_the_signed_lawyer_answers_and_the_resident_rates() {
    let app = TestApp::spawn().await;

    // Scan the QR code: the community card names the signed lawyer.
    let card: CommunityCardView = expect_json(
        app.http
            .get(app.url("/api/v1/communities/by-scene/hk-jjq"))
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(card.name, "蒋家桥居委");
    assert_eq!(card.street.as_deref(), Some("欧阳路街道"));
    assert_eq!(card.police_station.as_deref(), Some("欧阳路派出所"));
    assert_eq!(card.signed_lawyer.unwrap().display_name, "张律师");
    assert!(card.services.iter().any(|s| s == "consultation"));

    let categories: CategoryList = expect_json(
        app.http
            .get(app.url("/api/v1/categories"))
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert!(
        categories
            .items
            .iter()
            .any(|c| c.code == "LJ01" && c.parent_code.as_deref() == Some("LJ"))
    );

    let resident = app.resident_token("walker").await;
    let created = app
        .submit(
            &resident,
            "楼上邻居装修噪音每天持续到晚上十点，我可以怎么维权？",
        )
        .await;
    let case_id = created.id;
    // Offered to the signed lawyer in the transaction that stored it.
    assert_eq!(created.status, Status::Offered);
    assert_eq!(created.history[0].action, "submit");

    let zhang = app.staff_token("lawyer.zhang").await;
    let offer = app.wait_for_offer(&zhang, &case_id).await;
    assert_eq!(offer.consultation.unwrap().status, Status::Offered);
    let offer_id = offer.id;

    let accepted: StaffCaseView = app
        .post_as(
            &format!("/api/v1/staff/offers/{offer_id}/accept"),
            &zhang,
            json!({}),
        )
        .await;
    let StaffCaseView::Consultation(accepted) = accepted else {
        panic!("a consultation: {accepted:?}")
    };
    assert_eq!(accepted.status, Status::Assigned);
    assert_eq!(accepted.lawyer.unwrap().display_name, "张律师");
    let mine: ConsultationPage = app.get_as("/api/v1/staff/consultations", &zhang).await;
    assert_eq!(mine.items[0].id, case_id);

    // An internal note, then the public answer.
    let note = json!({ "body": "居民情绪较急，先电话安抚", "visibility": "internal" });
    let noted: ConsultationView = expect_json(
        app.post(
            &format!("/api/v1/staff/consultations/{case_id}/messages"),
            &zhang,
            note,
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(
        noted.status,
        Status::Assigned,
        "an internal note is not an answer"
    );
    let reply = json!({ "body": "根据《民法典》第二百九十四条，可先与物业沟通，再申请居委调解。" });
    let answered: ConsultationView = expect_json(
        app.post(
            &format!("/api/v1/staff/consultations/{case_id}/messages"),
            &zhang,
            reply,
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(answered.status, Status::Answered);
    assert_eq!(
        answered.messages.len(),
        2,
        "staff see the note and the reply"
    );

    // The resident reads the answer, not the note, and no routing internals.
    // Raw as well: the note must appear nowhere on the wire.
    let seen_raw = expect_status(
        app.get(&format!("/api/v1/consultations/{case_id}"), &resident)
            .await,
        StatusCode::OK,
    )
    .await;
    let seen: ConsultationView = read_as(&seen_raw);
    assert_eq!(seen.status, Status::Answered);
    let messages = &seen.messages;
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].author, "lawyer");
    assert_eq!(messages[0].author_name.as_deref(), Some("张律师"));
    assert!(
        !seen_raw.to_string().contains("先电话安抚"),
        "internal note leaked: {seen_raw}"
    );
    let actions: Vec<&str> = seen.history.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["submit", "accept", "reply"]);

    // Staff history has everything, with who did what.
    let staff_view: ConsultationView = app
        .get_as(&format!("/api/v1/staff/consultations/{case_id}"), &zhang)
        .await;
    let actions: Vec<&str> = staff_view
        .history
        .iter()
        .map(|e| e.action.as_str())
        .collect();
    assert_eq!(actions, ["submit", "offer", "accept", "note", "reply"]);
    assert_eq!(staff_view.history[1].actor, "system");

    // A follow-up question, and the lawyer marks it resolved.
    let follow = json!({ "body": "如果物业不管怎么办？" });
    expect_status(
        app.post(
            &format!("/api/v1/consultations/{case_id}/messages"),
            &resident,
            follow,
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let resolved: ConsultationView = app
        .post_as(
            &format!("/api/v1/staff/consultations/{case_id}/resolve"),
            &zhang,
            json!({}),
        )
        .await;
    assert_eq!(resolved.status, Status::Resolved);

    // The resident rates the answer; that closes it, once.
    let rated: ConsultationView = app
        .post_as(
            &format!("/api/v1/consultations/{case_id}/rating"),
            &resident,
            json!({ "stars": 5, "comment": "很专业" }),
        )
        .await;
    assert_eq!(rated.status, Status::Closed);
    let rating = rated.rating.unwrap();
    assert_eq!(rating.stars, 5);
    assert_eq!(rating.comment.as_deref(), Some("很专业"));
    expect_error(
        app.post(
            &format!("/api/v1/consultations/{case_id}/rating"),
            &resident,
            json!({ "stars": 1 }),
        )
        .await,
        StatusCode::CONFLICT,
        "state_conflict",
    )
    .await;
    // Nothing more can be said on a closed case.
    expect_error(
        app.post(
            &format!("/api/v1/staff/consultations/{case_id}/messages"),
            &zhang,
            json!({ "body": "补充" }),
        )
        .await,
        StatusCode::CONFLICT,
        "state_conflict",
    )
    .await;

    let list: ConsultationPage = app.get_as("/api/v1/consultations", &resident).await;
    assert_eq!(list.items[0].status, Status::Closed);
    assert_eq!(list.next_cursor, None);
}

#[tokio::test]
async fn a_resident_can_withdraw_before_the_answer_but_not_after() {
    let app = TestApp::spawn().await;
    let resident = app.resident_token("withdrawer").await;
    let zhang = app.staff_token("lawyer.zhang").await;

    let first = app
        .submit(&resident, "想咨询一下租房押金不退的问题该怎么处理")
        .await;
    let first_id = first.id;
    let offer = app.wait_for_offer(&zhang, &first_id).await;
    let withdrawn: ConsultationView = app
        .post_as(
            &format!("/api/v1/consultations/{first_id}/withdraw"),
            &resident,
            json!({}),
        )
        .await;
    assert_eq!(withdrawn.status, Status::Withdrawn);
    // Its offer is cancelled with it.
    expect_error(
        app.post(
            &format!("/api/v1/staff/offers/{}/accept", offer.id),
            &zhang,
            json!({}),
        )
        .await,
        StatusCode::CONFLICT,
        "offer_not_pending",
    )
    .await;
    let offers: OfferList = app.get_as("/api/v1/staff/offers", &zhang).await;
    assert!(offers.items.is_empty());

    let second = app
        .submit(&resident, "物业费上涨没有公示，我可以拒交吗？")
        .await;
    let second_id = second.id;
    let offer = app.wait_for_offer(&zhang, &second_id).await;
    app.accept_offer(&zhang, &offer).await;
    expect_status(
        app.post(
            &format!("/api/v1/staff/consultations/{second_id}/messages"),
            &zhang,
            json!({ "body": "不可以直接拒交，建议先书面异议。" }),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    expect_error(
        app.post(
            &format!("/api/v1/consultations/{second_id}/withdraw"),
            &resident,
            json!({}),
        )
        .await,
        StatusCode::CONFLICT,
        "state_conflict",
    )
    .await;
    // Rating is only possible once answered: the first (withdrawn) one cannot be rated.
    expect_error(
        app.post(
            &format!("/api/v1/consultations/{first_id}/rating"),
            &resident,
            json!({ "stars": 4 }),
        )
        .await,
        StatusCode::CONFLICT,
        "state_conflict",
    )
    .await;
}

#[tokio::test]
async fn pages_of_my_consultations_cover_everything_once() {
    let app = TestApp::spawn().await;
    let resident = app.resident_token("pager").await;
    let mut created = Vec::new();
    for i in 0..7 {
        let case = app
            .submit(&resident, &format!("第{i}个问题：关于小区停车位的归属问题"))
            .await;
        created.push(case.id);
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/consultations?limit=3&cursor={c}"),
            None => "/api/v1/consultations?limit=3".to_owned(),
        };
        let page: ConsultationPage = app.get_as(&path, &resident).await;
        assert!(page.items.len() <= 3);
        seen.extend(page.items.iter().map(|i| i.id));
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    created.reverse();
    assert_eq!(seen, created, "newest first, each exactly once");
}
