//! The whole consultation walk of a resident and a lawyer.

use reqwest::StatusCode;
use sansuo_tests::{TestApp, expect_error, expect_status};
use serde_json::json;

#[tokio::test]
async fn a_resident_asks_the_signed_lawyer_answers_and_the_resident_rates() {
    let app = TestApp::spawn().await;

    // Scan the QR code: the community card names the signed lawyer.
    let card = expect_status(
        app.http
            .get(app.url("/api/v1/communities/by-scene/hk-jjq"))
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(card["name"], "蒋家桥居委");
    assert_eq!(card["street"], "欧阳路街道");
    assert_eq!(card["police_station"], "欧阳路派出所");
    assert_eq!(card["signed_lawyer"]["display_name"], "张律师");
    assert!(
        card["services"]
            .as_array()
            .unwrap()
            .contains(&json!("consultation"))
    );

    let categories = expect_status(
        app.http
            .get(app.url("/api/v1/categories"))
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert!(
        categories["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["code"] == "LJ01" && c["parent_code"] == "LJ")
    );

    let resident = app.resident_token("walker").await;
    let created = app
        .submit(
            &resident,
            "楼上邻居装修噪音每天持续到晚上十点，我可以怎么维权？",
        )
        .await;
    let case_id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(created["status"], "submitted");
    assert_eq!(created["history"][0]["action"], "submit");

    // Routed through the outbox and Redis to the signed lawyer.
    let zhang = app.staff_token("lawyer.zhang").await;
    let offer = app.wait_for_offer(&zhang, &case_id).await;
    assert_eq!(offer["consultation"]["status"], "offered");
    let offer_id = offer["id"].as_str().unwrap();

    let accepted = expect_status(
        app.post(
            &format!("/api/v1/staff/offers/{offer_id}/accept"),
            &zhang,
            json!({}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(accepted["status"], "assigned");
    assert_eq!(accepted["lawyer"]["display_name"], "张律师");
    let mine = expect_status(
        app.get("/api/v1/staff/consultations", &zhang).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(mine["items"][0]["id"], case_id.as_str());

    // An internal note, then the public answer.
    let note = json!({ "body": "居民情绪较急，先电话安抚", "visibility": "internal" });
    let noted = expect_status(
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
        noted["status"], "assigned",
        "an internal note is not an answer"
    );
    let reply = json!({ "body": "根据《民法典》第二百九十四条，可先与物业沟通，再申请居委调解。" });
    let answered = expect_status(
        app.post(
            &format!("/api/v1/staff/consultations/{case_id}/messages"),
            &zhang,
            reply,
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(answered["status"], "answered");
    assert_eq!(
        answered["messages"].as_array().unwrap().len(),
        2,
        "staff see the note and the reply"
    );

    // The resident reads the answer, not the note, and no routing internals.
    let seen = expect_status(
        app.get(&format!("/api/v1/consultations/{case_id}"), &resident)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(seen["status"], "answered");
    let messages = seen["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0]["author"], "lawyer");
    assert_eq!(messages[0]["author_name"], "张律师");
    assert!(
        !seen.to_string().contains("先电话安抚"),
        "internal note leaked: {seen}"
    );
    let actions: Vec<&str> = seen["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["submit", "accept", "reply"]);

    // Staff history has everything, with who did what.
    let staff_view = expect_status(
        app.get(&format!("/api/v1/staff/consultations/{case_id}"), &zhang)
            .await,
        StatusCode::OK,
    )
    .await;
    let actions: Vec<&str> = staff_view["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["submit", "offer", "accept", "note", "reply"]);
    assert_eq!(staff_view["history"][1]["actor"], "system");

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
    let resolved = expect_status(
        app.post(
            &format!("/api/v1/staff/consultations/{case_id}/resolve"),
            &zhang,
            json!({}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(resolved["status"], "resolved");

    // The resident rates the answer; that closes it, once.
    let rated = expect_status(
        app.post(
            &format!("/api/v1/consultations/{case_id}/rating"),
            &resident,
            json!({ "stars": 5, "comment": "很专业" }),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(rated["status"], "closed");
    assert_eq!(rated["rating"]["stars"], 5);
    assert_eq!(rated["rating"]["comment"], "很专业");
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

    let list = expect_status(
        app.get("/api/v1/consultations", &resident).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(list["items"][0]["status"], "closed");
    assert_eq!(list["next_cursor"], serde_json::Value::Null);
}

#[tokio::test]
async fn a_resident_can_withdraw_before_the_answer_but_not_after() {
    let app = TestApp::spawn().await;
    let resident = app.resident_token("withdrawer").await;
    let zhang = app.staff_token("lawyer.zhang").await;

    let first = app
        .submit(&resident, "想咨询一下租房押金不退的问题该怎么处理")
        .await;
    let first_id = first["id"].as_str().unwrap();
    let offer = app.wait_for_offer(&zhang, first_id).await;
    let withdrawn = expect_status(
        app.post(
            &format!("/api/v1/consultations/{first_id}/withdraw"),
            &resident,
            json!({}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(withdrawn["status"], "withdrawn");
    // Its offer is cancelled with it.
    expect_error(
        app.post(
            &format!(
                "/api/v1/staff/offers/{}/accept",
                offer["id"].as_str().unwrap()
            ),
            &zhang,
            json!({}),
        )
        .await,
        StatusCode::CONFLICT,
        "offer_not_pending",
    )
    .await;
    let offers = expect_status(
        app.get("/api/v1/staff/offers", &zhang).await,
        StatusCode::OK,
    )
    .await;
    assert!(offers["items"].as_array().unwrap().is_empty());

    let second = app
        .submit(&resident, "物业费上涨没有公示，我可以拒交吗？")
        .await;
    let second_id = second["id"].as_str().unwrap();
    let offer = app.wait_for_offer(&zhang, second_id).await;
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
        created.push(case["id"].as_str().unwrap().to_owned());
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/consultations?limit=3&cursor={c}"),
            None => "/api/v1/consultations?limit=3".to_owned(),
        };
        let page = expect_status(app.get(&path, &resident).await, StatusCode::OK).await;
        let items = page["items"].as_array().unwrap();
        assert!(items.len() <= 3);
        seen.extend(items.iter().map(|i| i["id"].as_str().unwrap().to_owned()));
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    created.reverse();
    assert_eq!(seen, created, "newest first, each exactly once");
}
