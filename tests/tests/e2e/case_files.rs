//! Issue #18 item 1: a case file (卷宗) for every service, in Chinese and
//! Beijing time, numbered once per unit, year and service, as JSON, HTML
//! and PDF; the handler and the coordinators of the subtree may export it,
//! nobody else learns that the case exists; an anonymous tip's file holds
//! nothing of its reporter.

use crate::tips::{jpeg_with_gps, officer_on_duty};
use chrono::{Datelike, Duration, Utc};
use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use sansuo_tests::views::{CaseFile, MediationView, PhotoReceipts, ResidentView, TipReceipt};
use sansuo_tests::world::StreetB;
use sansuo_tests::{TestApp, eventually, expect_error, expect_json, expect_status};
use sea_orm::{ConnectionTrait, Statement};
use serde_json::json;
use uuid::Uuid;

/// The Beijing year now (a case registered today is numbered in it).
fn year() -> i32 {
    (Utc::now() + Duration::hours(8)).year()
}

/// The name of the unit that numbers community A's cases by default: its
/// street.
async fn street_name(app: &TestApp) -> String {
    let community = app
        .app
        .store
        .org()
        .unit(app.demo.community_a)
        .await
        .unwrap()
        .unwrap();
    app.app
        .store
        .org()
        .unit(community.parent_id.unwrap().into())
        .await
        .unwrap()
        .unwrap()
        .name
}

async fn category_name(app: &TestApp, code: &str) -> String {
    app.app
        .store
        .catalog()
        .any_category(code)
        .await
        .unwrap()
        .unwrap()
        .name_zh
}

/// The file in all three formats, for one reader: the JSON, the page and
/// the PDF's bytes.
async fn all_formats(app: &TestApp, path: &str, token: &str) -> (CaseFile, String, Vec<u8>) {
    let file: CaseFile = expect_json(app.get(path, token).await, StatusCode::OK).await;
    let page = app.get(&format!("{path}?format=html"), token).await;
    assert_eq!(page.status(), StatusCode::OK);
    assert!(
        page.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let html = page.text().await.unwrap();
    let pdf = app.get(&format!("{path}?format=pdf"), token).await;
    assert_eq!(pdf.status(), StatusCode::OK);
    assert_eq!(pdf.headers()["content-type"], "application/pdf");
    let pdf = pdf.bytes().await.unwrap().to_vec();
    assert_pdf(&pdf);
    eprintln!("{path}: PDF of {} bytes", pdf.len());
    // For looking at the files by hand (the closing note's screenshots).
    if let Some(dir) = std::env::var_os("SANSUO_CASE_FILE_DUMP") {
        let name = format!("{}-{}.pdf", file.service, file.case_id);
        std::fs::write(std::path::Path::new(&dir).join(name), &pdf).unwrap();
    }
    (file, html, pdf)
}

/// A PDF with the CJK font embedded (subset: far smaller than the 5 MiB
/// font) and a ToUnicode map, so its Chinese text can be searched.
fn assert_pdf(pdf: &[u8]) {
    assert!(pdf.starts_with(b"%PDF"), "not a PDF");
    let text = String::from_utf8_lossy(pdf);
    assert!(text.contains("FontFile2"), "the font is embedded");
    assert!(text.contains("WenQuanYi"), "the CJK font");
    assert!(text.contains("ToUnicode"), "searchable text");
    assert!(
        pdf.len() < 1_000_000,
        "the font is subset: {} bytes",
        pdf.len()
    );
}

/// Who may not have the file: a resident (403), nobody (401), street B's
/// coordinator (404 with the service's code).
async fn outsiders_refused(app: &TestApp, path: &str, not_found: &str) {
    let resident = app.resident_token("curious").await;
    expect_error(
        app.get(path, &resident).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    let anonymous = app.http.get(app.url(path)).send().await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    StreetB::build(app).await;
    let coordinator_b = StreetB::token(app, StreetB::COORDINATOR).await;
    for format in ["", "?format=pdf"] {
        expect_error(
            app.get(&format!("{path}{format}"), &coordinator_b).await,
            StatusCode::NOT_FOUND,
            not_found,
        )
        .await;
    }
}

#[tokio::test]
async fn a_mediation_file_is_numbered_in_chinese_and_beijing_time() {
    let app = TestApp::spawn().await;
    let resident = app.resident_token("filed").await;
    let chen = app.staff_token("mediator.chen").await;
    let sun = app.staff_token("coordinator.sun").await;
    let applied: MediationView = expect_json(
        app.post(
            "/api/v1/mediations",
            &resident,
            json!({
                "community_id": app.demo.community_a.as_uuid(),
                "category_code": "LJ02",
                "facts": "楼上卫生间漏水，我家天花板发霉",
                "claims": "请对方修好漏水并赔偿维修费",
                "parties": [
                    {"role": "applicant", "name": "王小明", "contact": "13812341234"},
                    {"role": "respondent", "name": "赵大力", "contact": "13912345678"},
                ],
                "preferred_times": [],
            }),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let base = format!("/api/v1/staff/mediations/{}", applied.id);
    eventually("the mediation to be offered", || async {
        (app.get(&base, &chen).await.status() == StatusCode::OK).then_some(())
    })
    .await;
    // Offered, not yet accepted: holding an offer gives no archive copy.
    let path = format!("{base}/case-file");
    expect_error(
        app.get(&path, &chen).await,
        StatusCode::NOT_FOUND,
        "mediation_not_found",
    )
    .await;
    expect_status(
        app.post(&format!("{base}/accept"), &chen, json!({})).await,
        StatusCode::OK,
    )
    .await;
    let room = crate::mediation::room(&app, "蒋家桥居委调解室").await;
    // 09:00–10:30 in Beijing.
    let booked: MediationView = expect_json(
        app.post(
            &format!("{base}/sessions"),
            &chen,
            json!({"room_id": room, "starts_at": "2027-12-07T01:00:00Z", "ends_at": "2027-12-07T02:30:00Z"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let session = booked.sessions[0].id;
    let booked_page = app
        .get(&format!("{path}?format=html"), &chen)
        .await
        .text()
        .await
        .unwrap();
    assert!(
        booked_page.contains("2027年12月07日 09:00 至 10:30"),
        "a 09:00 Beijing session prints 09:00: {booked_page}"
    );
    assert!(
        !booked_page.contains("T01:00:00"),
        "no UTC time in the page"
    );
    app.begin_session(session).await;
    expect_status(
        app.post(
            &format!("{base}/sessions/{session}/held"),
            &chen,
            json!({"attendees": "申请人、被申请人", "minutes": "双方同意先修漏水"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;

    let (file, html, _pdf) = all_formats(&app, &path, &chen).await;
    let street = street_name(&app).await;
    let category = category_name(&app, "LJ02").await;
    assert_eq!(file.number, format!("〔{}〕{street}调字第1号", year()));
    assert_eq!(file.service_name, "人民调解");
    assert_eq!(file.title, "人民调解卷宗");
    assert_eq!(file.category_name, category);
    assert_eq!(file.status_name, "已调解");
    assert!(file.handler.is_some());
    assert!(file.parties_unmasked);
    assert_eq!(file.parties[0].role_name, "申请人");
    assert_eq!(file.parties[0].contact.as_deref(), Some("13812341234"));
    assert!(
        file.events.iter().any(|e| e.label == "安排调解"),
        "{:?}",
        file.events
    );
    for needle in [
        file.number.as_str(),
        category.as_str(),
        "已调解",
        "申请人",
        "双方同意先修漏水",
        "人民调解",
    ] {
        assert!(html.contains(needle), "{needle} in the page");
    }
    assert!(!html.contains("LJ02"), "the category by name");
    assert!(
        !html.contains(&applied.id.to_string()),
        "a number, not a UUID"
    );
    // The number is kept: the same on every later copy.
    let again: CaseFile = app.get_as(&path, &chen).await;
    assert_eq!(again.number, file.number);

    // The street's coordinator exports it, parties masked.
    let (supervised, html, _) = all_formats(&app, &path, &sun).await;
    assert_eq!(supervised.number, file.number);
    assert!(!supervised.parties_unmasked);
    let text = serde_json::to_string(&supervised).unwrap();
    assert!(!text.contains("13812341234") && !text.contains("王小明"));
    assert!(!html.contains("13812341234") && html.contains("138****1234"));
    expect_error(
        app.get(&format!("{path}?format=docx"), &chen).await,
        StatusCode::BAD_REQUEST,
        "bad_parameter",
    )
    .await;
    outsiders_refused(&app, &path, "mediation_not_found").await;
}

#[tokio::test]
async fn a_consultation_file_for_its_lawyer_and_the_streets_coordinator() {
    let app = TestApp::spawn().await;
    let resident = app.resident_token("asker").await;
    let zhang = app.staff_token("lawyer.zhang").await;
    let sun = app.staff_token("coordinator.sun").await;
    let id = app
        .submit(&resident, "房东不退押金，说墙面有污渍要扣钱，合理吗？")
        .await
        .id;
    let path = format!("/api/v1/staff/consultations/{id}/case-file");
    let offer = app.wait_for_offer(&zhang, &id).await;
    // An offer is not handling it.
    expect_error(
        app.get(&path, &zhang).await,
        StatusCode::NOT_FOUND,
        "consultation_not_found",
    )
    .await;
    app.accept_offer(&zhang, &offer).await;
    expect_status(
        app.post(
            &format!("/api/v1/staff/consultations/{id}/messages"),
            &zhang,
            json!({"body": "押金只能扣除实际损失，请保留入住时的照片"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;

    let (file, html, _) = all_formats(&app, &path, &zhang).await;
    let street = street_name(&app).await;
    assert_eq!(file.number, format!("〔{}〕{street}询字第1号", year()));
    assert_eq!(file.service_name, "法律咨询");
    assert_eq!(file.status_name, "律师已答复");
    assert_eq!(file.category_name, category_name(&app, "LJ01").await);
    for needle in [
        "法律咨询卷宗",
        "房东不退押金",
        "押金只能扣除实际损失",
        "律师已答复",
        "签收受理",
        file.category_name.as_str(),
    ] {
        assert!(html.contains(needle), "{needle} in the page");
    }
    let (supervised, _, _) = all_formats(&app, &path, &sun).await;
    assert_eq!(supervised.number, file.number);
    outsiders_refused(&app, &path, "consultation_not_found").await;
}

#[tokio::test]
async fn an_anonymous_tips_file_lists_its_photos_and_nothing_of_its_reporter() {
    let app = TestApp::spawn().await;
    officer_on_duty(&app).await;
    let reporter = app.resident_token("whistle").await;
    let officer = app.staff_token("officer.liu").await;
    let sun = app.staff_token("coordinator.sun").await;
    app.wechat
        .set_phone_number("phone-code-w", "13700001111", "86");
    let me: ResidentView = app
        .post_as(
            "/api/v1/me/phone",
            &reporter,
            json!({"code": "phone-code-w"}),
        )
        .await;
    let receipt: TipReceipt = expect_json(
        app.post(
            "/api/v1/tips",
            &reporter,
            json!({
                "community_id": app.demo.community_a.as_uuid(),
                "category_code": "ZP01",
                "description": "3号楼东侧消防通道被电动车堵死了",
                "location": {"lat": 31.2646, "lng": 121.5052, "address": "3号楼东侧"},
                "anonymous": true,
            }),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let id = receipt.tip.id;
    let token = receipt.tracking_token.unwrap();
    let photos: PhotoReceipts = expect_json(
        app.http
            .post(app.url("/api/v1/tips/tracked/photos"))
            .header("X-Tracking-Token", &token)
            .multipart(Form::new().part("photo", Part::bytes(jpeg_with_gps()).file_name("p.jpg")))
            .send()
            .await
            .unwrap(),
        StatusCode::CREATED,
    )
    .await;
    let sha = photos.receipts[0].sha256.clone();
    let base = format!("/api/v1/staff/tips/{id}");
    eventually("the tip to be offered", || async {
        (app.get(&base, &officer).await.status() == StatusCode::OK).then_some(())
    })
    .await;
    let path = format!("{base}/case-file");
    expect_error(
        app.get(&path, &officer).await,
        StatusCode::NOT_FOUND,
        "tip_not_found",
    )
    .await;
    expect_status(
        app.post(&format!("{base}/acknowledge"), &officer, json!({}))
            .await,
        StatusCode::OK,
    )
    .await;

    let (file, html, _) = all_formats(&app, &path, &officer).await;
    let street = street_name(&app).await;
    assert_eq!(file.number, format!("〔{}〕{street}线字第1号", year()));
    assert_eq!(file.status_name, "已签收");
    assert!(html.contains(&sha), "the photo's SHA-256");
    assert!(html.contains("匿名举报") && html.contains("消防通道"));
    assert!(html.contains(&file.category_name) && !html.contains("ZP01"));
    let (supervised, coordinator_html, _) = all_formats(&app, &path, &sun).await;
    assert_eq!(supervised.number, file.number);

    // Nothing of the reporter: not their id, openid, phone, or any
    // pseudonym screening knows them by.
    let db = app.app.store.db();
    let pseudonyms: Vec<String> = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT reporter_key FROM tip_screening",
        ))
        .await
        .unwrap()
        .into_iter()
        .map(|row| row.try_get::<String>("", "reporter_key").unwrap())
        .collect();
    assert!(!pseudonyms.is_empty());
    let json_text = serde_json::to_string(&file).unwrap();
    let mut needles = vec![
        me.id.to_string(),
        "openid-whistle".to_owned(),
        "13700001111".to_owned(),
        "137****1111".to_owned(),
        token.clone(),
    ];
    needles.extend(pseudonyms);
    for text in [&json_text, &html, &coordinator_html] {
        for needle in &needles {
            assert!(!text.contains(needle.as_str()), "{needle} in the file");
        }
    }
    outsiders_refused(&app, &path, "tip_not_found").await;
}

/// Concurrent first requests: every case gets its own number, the two
/// requests for one case agree, and the sequence has no gap. A unit's own
/// pattern is used from then on; a bad one is refused.
#[tokio::test]
async fn numbers_are_unique_under_parallel_first_requests_and_follow_the_units_pattern() {
    numbering(TestApp::spawn().await).await;
}

/// The same on the embedded default (SQLite, one writer at a time).
#[tokio::test]
async fn numbers_are_unique_under_parallel_first_requests_on_sqlite() {
    numbering(TestApp::spawn_embedded().await).await;
}

async fn numbering(app: TestApp) {
    let admin = app.staff_token("admin").await;
    let sun = app.staff_token("coordinator.sun").await;
    let community = app
        .app
        .store
        .org()
        .unit(app.demo.community_a)
        .await
        .unwrap()
        .unwrap();
    let street = community.parent_id.unwrap();
    let unit_path = format!("/api/v1/admin/org-units/{street}");
    for bad in ["第号", "{n}{n}", "{n}{street}"] {
        expect_error(
            app.patch(&unit_path, &admin, json!({"case_number_pattern": bad}))
                .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
    }
    let unit = expect_status(
        app.patch(
            &unit_path,
            &admin,
            json!({"case_number_pattern": "虹{kind}〔{year}〕{n}号"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(unit["case_number_pattern"], "虹{kind}〔{year}〕{n}号");

    let mut ids: Vec<Uuid> = Vec::new();
    for i in 0..8 {
        let resident = app.resident_token(&format!("numbered-{i}")).await;
        ids.push(
            app.submit(&resident, "邻居装修噪音太大，可以投诉吗？")
                .await
                .id,
        );
    }
    let requests = ids.iter().flat_map(|id| {
        let path = format!("/api/v1/staff/consultations/{id}/case-file");
        let sun = sun.clone();
        let app = &app;
        [0, 1].map(move |_| {
            let path = path.clone();
            let sun = sun.clone();
            async move {
                let file: CaseFile = app.get_as(&path, &sun).await;
                (file.case_id, file.number)
            }
        })
    });
    let numbered = futures::future::join_all(requests).await;
    let mut by_case = std::collections::HashMap::new();
    for (case, number) in &numbered {
        let first = by_case.entry(*case).or_insert_with(|| number.clone());
        assert_eq!(first, number, "two first requests for one case agree");
    }
    let mut numbers: Vec<String> = by_case.into_values().collect();
    numbers.sort();
    let mut expected: Vec<String> = (1..=8)
        .map(|n| format!("虹询〔{}〕{n}号", year()))
        .collect();
    expected.sort();
    assert_eq!(numbers, expected);

    // Clearing the pattern changes no number already given.
    expect_status(
        app.patch(&unit_path, &admin, json!({"case_number_pattern": ""}))
            .await,
        StatusCode::OK,
    )
    .await;
    let kept: CaseFile = app
        .get_as(
            &format!("/api/v1/staff/consultations/{}/case-file", ids[0]),
            &sun,
        )
        .await;
    assert!(kept.number.starts_with("虹询"), "{}", kept.number);
}
