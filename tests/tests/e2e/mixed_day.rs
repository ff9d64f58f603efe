//! One mixed day of the work-order practice, seen from every side (issue
//! #15's "done means"): a consultation converted into a mediation with the
//! resident's consent, a tip reopened by its reporter, the mediation gone
//! overdue and urged by the street's coordinator, and an extension asked
//! for and granted. The test checks what each resident was sent, what each
//! staff stream carried and what the coordinator's views show, and prints
//! the whole day (`--no-capture`) as a transcript.

use crate::notify_walks::{
    acknowledge, report, resident_events, sent_to, step, subscribe, templates,
};
use crate::staff_events::{Stream, as_uuid, spawn_with};
use crate::tips::officer_on_duty;
use chrono::{Duration, Utc};
use reqwest::StatusCode;
use sansuo_tests::views::{ConsultationView, StaffCaseView};
use sansuo_tests::{TestApp, TestOptions, eventually, expect_json, expect_status};
use serde_json::{Value, json};
use std::time::Duration as Wait;

/// Every event a stream carries until it has been quiet for a moment.
async fn drain(stream: &mut Stream) -> Vec<(String, Value)> {
    let mut seen = Vec::new();
    while let Some(event) = stream.next_event(Wait::from_millis(1500)).await {
        seen.push((event.kind, event.data));
    }
    seen
}

fn kinds(events: &[(String, Value)]) -> Vec<&str> {
    events.iter().map(|(k, _)| k.as_str()).collect()
}

/// The status words sent to this resident, in order.
async fn statuses(app: &TestApp, openid: &str, expected: usize) -> Vec<String> {
    eventually(&format!("{expected} messages to {openid}"), || async {
        let sent = sent_to(app, openid);
        (sent.len() >= expected).then(|| {
            sent.iter()
                .map(|m| m["data"]["phrase2"]["value"].as_str().unwrap().to_owned())
                .collect()
        })
    })
    .await
}

#[tokio::test]
async fn one_mixed_day_seen_from_every_side() {
    let app = spawn_with(TestOptions {
        env: vec![("SANSUO_WECHAT_TEMPLATES", templates())],
        ..TestOptions::default()
    })
    .await;
    officer_on_duty(&app).await;
    let zhang = app.staff_token("lawyer.zhang").await;
    let chen = app.staff_token("mediator.chen").await;
    let liu = app.staff_token("officer.liu").await;
    let sun = app.staff_token("coordinator.sun").await;
    let mut streams = [
        (
            "lawyer.zhang",
            Stream::open(&app.base_url, &zhang, None).await,
        ),
        (
            "mediator.chen",
            Stream::open(&app.base_url, &chen, None).await,
        ),
        ("officer.liu", Stream::open(&app.base_url, &liu, None).await),
        (
            "coordinator.sun",
            Stream::open(&app.base_url, &sun, None).await,
        ),
    ];
    let wang = app.resident_token("mixed-wang").await;
    let li = app.resident_token("mixed-li").await;
    for resident in [&wang, &li] {
        subscribe(&app, resident, &resident_events()).await;
    }

    // 09:00 王 asks about a leak; 张律师 takes it and proposes mediation.
    let consultation = app
        .submit(&wang, "楼上漏水三个月，物业不管，能怎么办？")
        .await
        .id;
    let offer = app.wait_for_offer(&zhang, &consultation).await;
    let _: StaffCaseView = app.accept_offer(&zhang, &offer).await;
    // Told before the proposal is made: two notices queued in the same
    // instant are sent in either order.
    statuses(&app, "openid-mixed-wang", 1).await;
    expect_status(
        app.post(
            &format!("/api/v1/staff/consultations/{consultation}/convert"),
            &zhang,
            json!({
                "to": "mediation",
                "category_code": "LJ02",
                "facts": "楼上卫生间漏水三个月，多次沟通无果，属于邻里纠纷",
                "claims": "请对方修好漏水并赔偿天花板维修费",
                "parties": [
                    {"role": "applicant", "name": "王小明", "contact": "13812341234"},
                    {"role": "respondent", "name": "赵大力", "contact": "13987655678"},
                ],
            }),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    // 王 consents; 陈调解员 takes the new mediation.
    let converted: ConsultationView = expect_json(
        app.post(
            &format!("/api/v1/consultations/{consultation}/conversion/accept"),
            &wang,
            json!({}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let mediation = converted.converted_to.expect("the mediation").id;
    eventually("the mediation offered to 陈调解员", || async {
        (app.get(&format!("/api/v1/staff/mediations/{mediation}"), &chen)
            .await
            .status()
            == StatusCode::OK)
            .then_some(())
    })
    .await;
    expect_status(
        app.post(
            &format!("/api/v1/staff/mediations/{mediation}/accept"),
            &chen,
            json!({}),
        )
        .await,
        StatusCode::OK,
    )
    .await;

    // 10:00 李 reports a blocked fire lane; 刘警官 handles and closes it;
    // that evening 李 writes again and the tip is reopened.
    let tip = report(&app, &li, false).await.tip.id;
    acknowledge(&app, &liu, tip).await;
    step(
        &app,
        &liu,
        tip,
        "triage",
        json!({"verdict": "valid", "note": "已核实"}),
    )
    .await;
    step(&app, &liu, tip, "verify", json!({})).await;
    step(&app, &liu, tip, "action", json!({"note": "已清理通道"})).await;
    step(
        &app,
        &liu,
        tip,
        "close",
        json!({"note": "通道已清理，感谢您的举报"}),
    )
    .await;
    expect_status(
        app.post(
            &format!("/api/v1/tips/{tip}/follow-ups"),
            &li,
            json!({"body": "今晚又堵上了，电动车还在充电"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;

    // Weeks later the mediation has passed its targets: the coordinator
    // sees it overdue and urges it; 陈调解员 asks for more time, granted.
    app.app
        .worker
        .check_sla(mediation.into(), Utc::now() + Duration::days(30))
        .await
        .unwrap();
    let overdue: Value = eventually("the mediation in the overdue view", || async {
        let page: Value = app.get_as("/api/v1/admin/cases/overdue", &sun).await;
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["case_id"].as_str() == Some(&mediation.to_string()))
            .cloned()
    })
    .await;
    expect_status(
        app.post(
            &format!("/api/v1/admin/cases/{mediation}/urge"),
            &sun,
            json!({"note": "当事人多次来电，请尽快安排调解"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let asked = expect_status(
        app.post(
            &format!("/api/v1/staff/mediations/{mediation}/extension"),
            &chen,
            json!({"reason": "被申请人出差，需等其返回后调解", "extra_hours": 16}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let extension = as_uuid(&asked["id"]);
    expect_status(
        app.post(
            &format!("/api/v1/admin/extensions/{extension}/grant"),
            &sun,
            json!({"note": "同意延期"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;

    // What each resident was sent.
    let to_wang = statuses(&app, "openid-mixed-wang", 3).await;
    let to_li = statuses(&app, "openid-mixed-li", 4).await;
    // What each staff stream carried.
    let mut carried = Vec::new();
    for (who, stream) in streams.iter_mut() {
        carried.push((*who, drain(stream).await));
    }
    // What the coordinator's views show.
    let staff_view: Value = app
        .get_as(&format!("/api/v1/staff/mediations/{mediation}"), &sun)
        .await;
    let pending: Value = app.get_as("/api/v1/admin/extensions", &sun).await;

    println!("== One mixed day ==");
    println!("王 (consultation {consultation} → mediation {mediation}) was sent: {to_wang:?}");
    println!("李 (tip {tip}) was sent: {to_li:?}");
    for (who, events) in &carried {
        println!("{who}'s stream: {:?}", kinds(events));
    }
    println!(
        "coordinator.sun, overdue view: {} {} breaches {}",
        overdue["service"],
        overdue["case_id"],
        overdue["breaches"].as_array().map_or(0, Vec::len)
    );
    println!(
        "coordinator.sun, the mediation's work order: {}",
        staff_view["work_order"]
    );
    println!("coordinator.sun, extensions waiting: {}", pending["items"]);

    assert_eq!(to_wang, ["律师已受理", "建议转调解", "调解已受理"]);
    assert_eq!(
        to_li,
        ["民警已签收", "已受理核查", "线索已办结", "已重新办理"]
    );
    let stream_of = |who: &str| {
        carried
            .iter()
            .find(|(w, _)| *w == who)
            .map(|(_, e)| kinds(e))
            .unwrap()
    };
    assert_eq!(stream_of("lawyer.zhang"), ["offer", "conversion_answered"]);
    assert_eq!(stream_of("mediator.chen"), ["offer", "urge", "extension"]);
    // The reopened tip is routed again: the officer on duty is offered it.
    assert_eq!(stream_of("officer.liu"), ["offer", "follow_up", "offer"]);
    let sun_saw = stream_of("coordinator.sun");
    assert!(sun_saw.contains(&"overdue"), "{sun_saw:?}");
    assert!(sun_saw.contains(&"extension_requested"), "{sun_saw:?}");
    assert!(
        sun_saw
            .iter()
            .all(|k| ["overdue", "extension_requested"].contains(k)),
        "{sun_saw:?}"
    );
    assert_eq!(
        staff_view["work_order"]["extensions"][0]["status"],
        "granted"
    );
    assert_eq!(staff_view["urge_count"], 1);
    assert!(pending["items"].as_array().unwrap().is_empty());
}
