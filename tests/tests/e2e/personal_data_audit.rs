//! Audit of personal data (issue 18, item 5): every showing of unmasked
//! personal data to staff writes one row (who, what, when, through which
//! operation) before the data leaves; masked views write none; the rows
//! never copy the data; administrators list and export their subtree's
//! rows; a resident reads who saw theirs; and a row that cannot be written
//! withholds the data (503 `audit_unavailable`).

use reqwest::StatusCode;
use sansuo_store::entity::{case, personal_data_view};
use sansuo_store::sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use sansuo_tests::views::{ConsultationView, IntakeReceipt, MediationView, StaffCaseView};
use sansuo_tests::world::StreetB;
use sansuo_tests::{TestApp, eventually, expect_error, expect_json, expect_status};
use serde_json::{Value, json};
use uuid::Uuid;

const APPLICANT_NAME: &str = "王小明";
const APPLICANT_PHONE: &str = "13812341234";
const RESPONDENT_NAME: &str = "赵大力";
const RESPONDENT_PHONE: &str = "13912345678";
const INTAKE_NAME: &str = "李大爷";
const INTAKE_PHONE: &str = "13700001111";

const SECRETS: [&str; 6] = [
    APPLICANT_NAME,
    APPLICANT_PHONE,
    RESPONDENT_NAME,
    RESPONDENT_PHONE,
    INTAKE_NAME,
    INTAKE_PHONE,
];

async fn apply(app: &TestApp, resident: &str) -> MediationView {
    let body = json!({
        "community_id": app.demo.community_a.as_uuid(),
        "category_code": "LJ02",
        "facts": "楼上卫生间漏水三个月，多次沟通无果",
        "claims": "请对方修好漏水并赔偿天花板维修费",
        "parties": [
            {"role": "applicant", "name": APPLICANT_NAME, "contact": APPLICANT_PHONE},
            {"role": "respondent", "name": RESPONDENT_NAME, "contact": RESPONDENT_PHONE},
        ],
        "preferred_times": [{"from": "2026-12-01T01:00:00Z", "to": "2026-12-01T04:00:00Z"}],
        "private": true,
    });
    expect_json(
        app.post("/api/v1/mediations", resident, body).await,
        StatusCode::CREATED,
    )
    .await
}

async fn wait_offered(app: &TestApp, mediator: &str, id: Uuid) {
    let path = format!("/api/v1/staff/mediations/{id}");
    eventually("the mediation to be offered", || async {
        (app.get(&path, mediator).await.status() == StatusCode::OK).then_some(())
    })
    .await;
}

/// The case's audit rows, oldest first.
async fn rows_of(app: &TestApp, case_id: Uuid) -> Vec<personal_data_view::Model> {
    personal_data_view::Entity::find()
        .filter(personal_data_view::Column::CaseId.eq(case_id))
        .order_by_asc(personal_data_view::Column::Id)
        .all(app.app.store.db())
        .await
        .unwrap()
}

async fn resident_of(app: &TestApp, case_id: Uuid) -> Option<Uuid> {
    case::Entity::find_by_id(case_id)
        .one(app.app.store.db())
        .await
        .unwrap()
        .unwrap()
        .resident_id
}

/// No column of any row holds a name or a number it audits.
fn assert_no_personal_data(rows: &[personal_data_view::Model]) {
    for row in rows {
        let text = format!("{row:?}");
        for secret in SECRETS {
            assert!(!text.contains(secret), "an audit row copies personal data");
        }
    }
}

/// Expect exactly one new row since `before` rows, and check it.
fn one_new<'a>(
    rows: &'a [personal_data_view::Model],
    before: usize,
    staff: Uuid,
    role: &str,
    what: &str,
    operation: &str,
) -> &'a personal_data_view::Model {
    assert_eq!(rows.len(), before + 1, "exactly one row for `{operation}`");
    let row = &rows[before];
    assert_eq!(row.staff_id, staff);
    assert_eq!(row.role, role);
    assert_eq!(row.what, what);
    assert_eq!(row.operation, operation);
    assert!(!row.request_id.is_empty());
    row
}

#[tokio::test]
async fn the_mediators_opened_views_are_audited_once_and_masked_views_not_at_all() {
    let app = TestApp::spawn().await;
    let resident = app.resident_token("audit-ceiling").await;
    let id = apply(&app, &resident).await.id;
    let resident_id = resident_of(&app, id)
        .await
        .expect("the applicant's account");
    let chen = app.staff_token("mediator.chen").await;
    let chen_id = app.demo.account("mediator.chen").id.as_uuid();
    let coordinator = app.staff_token("coordinator.sun").await;
    let path = format!("/api/v1/staff/mediations/{id}");

    // Offered (masked): nothing to audit.
    wait_offered(&app, &chen, id).await;
    let offered: MediationView = app.get_as(&path, &chen).await;
    assert_eq!(offered.parties[1].name, "赵**");
    assert!(rows_of(&app, id).await.is_empty());

    // Accepting opens the parties: one row, by the accept operation.
    let accepted: MediationView = app
        .post_as(&format!("{path}/accept"), &chen, json!({}))
        .await;
    assert_eq!(accepted.parties[1].name, RESPONDENT_NAME);
    let rows = rows_of(&app, id).await;
    let row = one_new(
        &rows,
        0,
        chen_id,
        "mediator",
        "party_contact",
        "POST /api/v1/staff/mediations/{id}/accept",
    );
    assert_eq!(row.subject_resident_id, Some(resident_id));
    assert_eq!(row.community_id, app.demo.community_a.as_uuid());
    assert_eq!(row.org_unit_id, app.demo.community_a.as_uuid());

    // The owner's look at the case.
    let _: MediationView = app.get_as(&path, &chen).await;
    let rows = rows_of(&app, id).await;
    one_new(
        &rows,
        1,
        chen_id,
        "mediator",
        "party_contact",
        "GET /api/v1/staff/mediations/{id}",
    );

    // A message by the owner answers with the opened view: audited too.
    let response = app
        .post(
            &format!("{path}/messages"),
            &chen,
            json!({"body": "请双方本周内告知方便的时间"}),
        )
        .await;
    expect_status(response, StatusCode::CREATED).await;
    let rows = rows_of(&app, id).await;
    one_new(
        &rows,
        2,
        chen_id,
        "mediator",
        "party_contact",
        "POST /api/v1/staff/mediations/{id}/messages",
    );

    // The case file, as the archive copy.
    let file = expect_status(
        app.get(&format!("{path}/case-file"), &chen).await,
        StatusCode::OK,
    )
    .await;
    assert!(file.to_string().contains(RESPONDENT_PHONE));
    let rows = rows_of(&app, id).await;
    one_new(
        &rows,
        3,
        chen_id,
        "mediator",
        "case_file_parties",
        "GET /api/v1/staff/mediations/{id}/case-file",
    );

    // The coordinator reads masked, the case and its file: no rows.
    let supervised = expect_status(app.get(&path, &coordinator).await, StatusCode::OK).await;
    assert!(!supervised.to_string().contains(RESPONDENT_PHONE));
    let file = expect_status(
        app.get(&format!("{path}/case-file"), &coordinator).await,
        StatusCode::OK,
    )
    .await;
    assert!(!file.to_string().contains(RESPONDENT_PHONE));
    // The applicant's own (masked) view: no row either.
    expect_status(
        app.get(&format!("/api/v1/mediations/{id}"), &resident)
            .await,
        StatusCode::OK,
    )
    .await;
    let rows = rows_of(&app, id).await;
    assert_eq!(rows.len(), 4);
    assert_no_personal_data(&rows);

    // The resident reads who saw their data, in Chinese.
    let mine = expect_status(
        app.get("/api/v1/me/data-views", &resident).await,
        StatusCode::OK,
    )
    .await;
    let items = mine["items"].as_array().unwrap();
    assert_eq!(items.len(), 4);
    assert_eq!(items[0]["what"], "卷宗中的当事人信息");
    assert_eq!(items[0]["role"], "调解员");
    assert_eq!(items[0]["case_id"], json!(id));
    assert_eq!(
        items[0]["staff_name"],
        json!(app.demo.account("mediator.chen").display_name)
    );
    assert!(items[0]["unit_name"].is_string());
    assert!(!mine.to_string().contains(RESPONDENT_PHONE));
    // Paged by cursor.
    let first = expect_status(
        app.get("/api/v1/me/data-views?limit=3", &resident).await,
        StatusCode::OK,
    )
    .await;
    let cursor = first["next_cursor"].as_str().expect("a second page");
    let second = expect_status(
        app.get(
            &format!("/api/v1/me/data-views?limit=3&cursor={cursor}"),
            &resident,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(second["items"].as_array().unwrap().len(), 1);
    assert!(second["next_cursor"].is_null());

    // Another resident sees none of it.
    let other = app.resident_token("audit-someone-else").await;
    let theirs = expect_status(
        app.get("/api/v1/me/data-views", &other).await,
        StatusCode::OK,
    )
    .await;
    assert!(theirs["items"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn accepting_the_offer_from_the_offer_list_is_audited() {
    let app = TestApp::spawn().await;
    let resident = app.resident_token("audit-offer").await;
    let id = apply(&app, &resident).await.id;
    let chen = app.staff_token("mediator.chen").await;
    let offer = app.wait_for_offer(&chen, &id).await;
    assert!(rows_of(&app, id).await.is_empty());
    let case: StaffCaseView = app.accept_offer(&chen, &offer).await;
    assert!(
        serde_json::to_string(&case)
            .unwrap()
            .contains(RESPONDENT_PHONE)
    );
    let rows = rows_of(&app, id).await;
    one_new(
        &rows,
        0,
        app.demo.account("mediator.chen").id.as_uuid(),
        "mediator",
        "party_contact",
        "POST /api/v1/staff/offers/{id}/accept",
    );
    assert_no_personal_data(&rows);
}

#[tokio::test]
async fn an_in_person_residents_phone_is_audited_for_the_owner_only() {
    let app = TestApp::spawn().await;
    let chen = app.staff_token("mediator.chen").await;
    let zhang = app.staff_token("lawyer.zhang").await;
    let coordinator = app.staff_token("coordinator.sun").await;
    let receipt: IntakeReceipt = expect_json(
        app.post(
            "/api/v1/staff/intake/consultations",
            &chen,
            json!({
                "community_id": app.demo.community_a.as_uuid(),
                "category_code": "LJ01",
                "question": "老人来居委会说儿子不给赡养费，想知道怎么办",
                "resident": {"name": INTAKE_NAME, "phone": INTAKE_PHONE},
            }),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let id = receipt.case_id;
    // The filer's receipt is masked: no row.
    assert!(rows_of(&app, id).await.is_empty());
    let offer = app.wait_for_offer(&zhang, &id).await;
    let _: StaffCaseView = app.accept_offer(&zhang, &offer).await;
    let before = rows_of(&app, id).await.len();
    let path = format!("/api/v1/staff/consultations/{id}");
    let owned: ConsultationView = app.get_as(&path, &zhang).await;
    assert_eq!(owned.intake.unwrap().resident_phone, INTAKE_PHONE);
    let rows = rows_of(&app, id).await;
    let row = one_new(
        &rows,
        before,
        app.demo.account("lawyer.zhang").id.as_uuid(),
        "lawyer",
        "intake_resident",
        "GET /api/v1/staff/consultations/{id}",
    );
    // Filed in person: no resident account is named.
    assert_eq!(row.subject_resident_id, None);
    let supervised: ConsultationView = app.get_as(&path, &coordinator).await;
    assert_eq!(supervised.intake.unwrap().resident_phone, "137****1111");
    let rows = rows_of(&app, id).await;
    assert_eq!(rows.len(), before + 1);
    assert_no_personal_data(&rows);
}

#[tokio::test]
async fn a_mediation_filed_in_person_audits_parties_and_intake_in_one_go() {
    let app = TestApp::spawn().await;
    let chen = app.staff_token("mediator.chen").await;
    let receipt: IntakeReceipt = expect_json(
        app.post(
            "/api/v1/staff/intake/mediations",
            &chen,
            json!({
                "community_id": app.demo.community_a.as_uuid(),
                "category_code": "LJ02",
                "facts": "楼上卫生间漏水三个月，老人不会用手机，到居委会求助",
                "claims": "请对方修好漏水",
                "parties": [
                    {"role": "applicant", "name": INTAKE_NAME, "contact": INTAKE_PHONE},
                    {"role": "respondent", "name": RESPONDENT_NAME},
                ],
                "resident": {"name": INTAKE_NAME, "phone": INTAKE_PHONE},
            }),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let id = receipt.case_id;
    assert!(rows_of(&app, id).await.is_empty());
    wait_offered(&app, &chen, id).await;
    let path = format!("/api/v1/staff/mediations/{id}");
    let _: MediationView = app
        .post_as(&format!("{path}/accept"), &chen, json!({}))
        .await;
    let before = rows_of(&app, id).await.len();
    assert_eq!(before, 2, "accepting opened parties and intake");
    let view: MediationView = app.get_as(&path, &chen).await;
    assert_eq!(view.intake.unwrap().resident_phone, INTAKE_PHONE);
    let rows = rows_of(&app, id).await;
    assert_eq!(rows.len(), before + 2);
    let mut kinds: Vec<&str> = rows[before..].iter().map(|r| r.what.as_str()).collect();
    kinds.sort();
    assert_eq!(kinds, ["intake_resident", "party_contact"]);
    // One request: one request id on both.
    assert_eq!(rows[before].request_id, rows[before + 1].request_id);
    assert_no_personal_data(&rows);
}

#[tokio::test]
async fn administrators_list_and_export_their_subtree_only() {
    let app = TestApp::spawn().await;
    StreetB::build(&app).await;
    let resident = app.resident_token("audit-admin").await;
    let id = apply(&app, &resident).await.id;
    let resident_id = resident_of(&app, id).await.unwrap();
    let chen = app.staff_token("mediator.chen").await;
    let chen_id = app.demo.account("mediator.chen").id.as_uuid();
    wait_offered(&app, &chen, id).await;
    let path = format!("/api/v1/staff/mediations/{id}");
    let _: MediationView = app
        .post_as(&format!("{path}/accept"), &chen, json!({}))
        .await;
    for _ in 0..2 {
        let _: MediationView = app.get_as(&path, &chen).await;
    }

    let admin = app.staff_token("admin").await;
    let list = expect_status(
        app.get(
            &format!("/api/v1/admin/personal-data-views?case_id={id}"),
            &admin,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 3);
    assert_eq!(items[0]["operation"], "GET /api/v1/staff/mediations/{id}");
    assert_eq!(
        items[2]["operation"],
        "POST /api/v1/staff/mediations/{id}/accept"
    );
    assert_eq!(items[0]["staff_id"], json!(chen_id));
    assert_eq!(items[0]["resident_id"], json!(resident_id));
    assert_eq!(items[0]["role_label"], "调解员");
    // Filters: by staff, by resident, by time.
    let by = |query: String| {
        let admin = admin.clone();
        let app = &app;
        async move {
            let page = expect_status(
                app.get(
                    &format!("/api/v1/admin/personal-data-views?{query}"),
                    &admin,
                )
                .await,
                StatusCode::OK,
            )
            .await;
            page["items"].as_array().unwrap().len()
        }
    };
    assert_eq!(by(format!("staff_id={chen_id}")).await, 3);
    assert_eq!(by(format!("resident_id={resident_id}")).await, 3);
    assert_eq!(by(format!("resident_id={}", Uuid::now_v7())).await, 0);
    assert_eq!(by("from=2099-01-01T00:00:00Z".into()).await, 0);
    assert_eq!(by("to=2099-01-01T00:00:00Z".into()).await, 3);
    // Paged.
    let first = expect_status(
        app.get("/api/v1/admin/personal-data-views?limit=2", &admin)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(first["items"].as_array().unwrap().len(), 2);
    let cursor = first["next_cursor"].as_str().unwrap();
    assert_eq!(by(format!("limit=2&cursor={cursor}")).await, 1);
    expect_error(
        app.get("/api/v1/admin/personal-data-views?format=xml", &admin)
            .await,
        StatusCode::BAD_REQUEST,
        "bad_parameter",
    )
    .await;

    // Another street's coordinator sees none of street A's rows.
    let other = StreetB::token(&app, StreetB::COORDINATOR).await;
    let theirs = expect_status(
        app.get("/api/v1/admin/personal-data-views", &other).await,
        StatusCode::OK,
    )
    .await;
    assert!(theirs["items"].as_array().unwrap().is_empty());
    let response = app
        .get(
            &format!("/api/v1/admin/personal-data-views?case_id={id}&format=csv"),
            &other,
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let theirs = response.text().await.unwrap();
    assert_eq!(theirs.lines().count(), 1, "the header only");
    // Staff who are not coordinators or administrators: 403.
    expect_error(
        app.get("/api/v1/admin/personal-data-views", &chen).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;

    // The CSV export: BOM, Chinese headers, the JSON list's rows in order.
    let response = app
        .get(
            &format!("/api/v1/admin/personal-data-views?case_id={id}&format=csv"),
            &admin,
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let csv = response.text().await.unwrap();
    let csv = csv.strip_prefix('\u{feff}').expect("a UTF-8 BOM");
    let mut lines = csv.split("\r\n").filter(|l| !l.is_empty());
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    assert_eq!(header[0], "记录编号");
    assert!(header.contains(&"查阅内容"));
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), items.len());
    for (row, item) in rows.iter().zip(items) {
        assert_eq!(row.len(), header.len());
        assert_eq!(row[0], item["id"].as_str().unwrap());
        let at: chrono::DateTime<chrono::Utc> = row[2].parse().unwrap();
        let json_at: chrono::DateTime<chrono::Utc> =
            item["viewed_at"].as_str().unwrap().parse().unwrap();
        assert_eq!(at, json_at);
        assert_eq!(row[3], item["staff_id"].as_str().unwrap());
        assert_eq!(row[5], "调解员");
        assert_eq!(row[8], item["operation"].as_str().unwrap());
        assert_eq!(row[10], id.to_string());
        assert_eq!(row[12], resident_id.to_string());
        assert_eq!(row[13], "当事人姓名及联系方式");
        assert_eq!(row[14], "party_contact");
    }
    for secret in SECRETS {
        assert!(!csv.contains(secret));
    }
}

#[tokio::test]
async fn an_audit_that_cannot_be_written_withholds_the_data() {
    let app = TestApp::spawn().await;
    let resident = app.resident_token("audit-fail").await;
    let id = apply(&app, &resident).await.id;
    let chen = app.staff_token("mediator.chen").await;
    let coordinator = app.staff_token("coordinator.sun").await;
    wait_offered(&app, &chen, id).await;
    let path = format!("/api/v1/staff/mediations/{id}");
    let _: MediationView = app
        .post_as(&format!("{path}/accept"), &chen, json!({}))
        .await;

    app.app
        .store
        .db()
        .execute_unprepared("ALTER TABLE personal_data_views RENAME TO personal_data_views_gone")
        .await
        .unwrap();
    for url in [path.clone(), format!("{path}/case-file")] {
        let response = app.get(&url, &chen).await;
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        let body = response.text().await.unwrap();
        let parsed: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(parsed["error"]["code"], "audit_unavailable");
        for secret in SECRETS {
            assert!(!body.contains(secret), "withheld data leaked in the error");
        }
    }
    // A masked view needs no audit and still answers.
    let supervised = expect_status(app.get(&path, &coordinator).await, StatusCode::OK).await;
    assert!(!supervised.to_string().contains(RESPONDENT_PHONE));
}

#[tokio::test]
async fn the_audit_is_written_and_read_on_sqlite_too() {
    let app = TestApp::spawn_embedded().await;
    let resident = app.resident_token("audit-sqlite").await;
    let id = apply(&app, &resident).await.id;
    let chen = app.staff_token("mediator.chen").await;
    wait_offered(&app, &chen, id).await;
    let path = format!("/api/v1/staff/mediations/{id}");
    let _: MediationView = app
        .post_as(&format!("{path}/accept"), &chen, json!({}))
        .await;
    let _: MediationView = app.get_as(&path, &chen).await;
    let rows = rows_of(&app, id).await;
    assert_eq!(rows.len(), 2);
    assert_no_personal_data(&rows);
    let admin = app.staff_token("admin").await;
    let list = expect_status(
        app.get(
            &format!("/api/v1/admin/personal-data-views?case_id={id}&limit=1"),
            &admin,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        list["items"][0]["operation"],
        "GET /api/v1/staff/mediations/{id}"
    );
    let cursor = list["next_cursor"].as_str().unwrap();
    let rest = expect_status(
        app.get(
            &format!("/api/v1/admin/personal-data-views?case_id={id}&cursor={cursor}"),
            &admin,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(rest["items"].as_array().unwrap().len(), 1);
    let mine = expect_status(
        app.get("/api/v1/me/data-views", &resident).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(mine["items"].as_array().unwrap().len(), 2);
}
