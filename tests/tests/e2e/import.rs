//! Bulk import of a district (issue #14, item 2): a real district's file
//! in one call, checked whole, written whole or not at all, refused the
//! second time, and its body limit kept from anyone but an administrator.

use reqwest::StatusCode;
use sansuo_tests::views::{ConsultationView, OrgUnitList, TokenResponse};
use sansuo_tests::{TestApp, expect_error, expect_json};
use serde_json::{Value, json};
use uuid::Uuid;

/// 9 streets of 22 communities (198), a police station, a judicial office
/// and a law firm per street, a room per community, and 700 staff: the
/// k-th lawyer (`{prefix}.{4k:04}`) is community k's signed lawyer; every
/// tenth has a given password (`initial-password-NNNN`), the others
/// `generate`, as a district would send it.
fn district(prefix: &str, streets: usize, per_street: usize, staff: usize) -> Value {
    let mut units = Vec::new();
    let mut firms = Vec::new();
    let mut rooms = Vec::new();
    for s in 0..streets {
        units.push(json!({"key": format!("street-{s}"), "kind": "street", "name": format!("{prefix}第{s}街道")}));
        units.push(json!({"key": format!("station-{s}"), "kind": "police_station", "name": format!("{prefix}第{s}派出所")}));
        units.push(json!({"key": format!("office-{s}"), "kind": "judicial_office", "parent": format!("street-{s}"), "name": format!("{prefix}第{s}司法所")}));
        firms.push(json!({"key": format!("firm-{s}"), "name": format!("{prefix}第{s}律师事务所"), "serves": [format!("street-{s}")]}));
    }
    for c in 0..streets * per_street {
        let s = c / per_street;
        units.push(json!({
            "key": format!("community-{c}"), "kind": "community", "name": format!("{prefix}第{c}居委"),
            "parent": format!("street-{s}"), "station": format!("station-{s}"),
            "scene": format!("{prefix}-{c:03}"), "office_hours": "周一至周五 09:00–17:00",
        }));
        rooms.push(json!({"unit": format!("community-{c}"), "name": format!("第{c}调解室")}));
    }
    let communities = streets * per_street;
    let roles = ["lawyer", "mediator", "officer", "coordinator"];
    let people: Vec<Value> = (0..staff)
        .map(|p| {
            let role = roles[p % 4];
            let lawyer = p / 4;
            let home = match role {
                "officer" => format!("station-{}", p % streets),
                "coordinator" => format!("street-{}", p % streets),
                "lawyer" => format!("street-{}", (lawyer % communities) / per_street),
                _ => format!("community-{}", p % communities),
            };
            let password = if p % 10 == 0 {
                format!("initial-password-{p:04}")
            } else {
                "generate".into()
            };
            let mut entry = json!({
                "username": format!("{prefix}.{p:04}"), "display_name": format!("职员{p}"),
                "role": role, "unit": home, "password": password,
            });
            if role == "lawyer" {
                entry["firm"] = json!(format!("firm-{}", (lawyer % communities) / per_street));
                if lawyer < communities {
                    entry["signs"] = json!([format!("community-{lawyer}")]);
                }
            }
            entry
        })
        .collect();
    json!({"units": units, "firms": firms, "rooms": rooms, "staff": people})
}

async fn import(app: &TestApp, token: &str, query: &str, body: &Value) -> reqwest::Response {
    app.http
        .post(app.url(&format!("/api/v1/admin/import{query}")))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .unwrap()
}

async fn login(app: &TestApp, username: &str, password: &str) -> reqwest::Response {
    app.http
        .post(app.url("/api/v1/auth/staff"))
        .json(&json!({ "username": username, "password": password }))
        .send()
        .await
        .unwrap()
}

/// The units directly under the administrator's district: an import adds
/// its streets and police stations there (and everything else below them).
async fn unit_count(app: &TestApp, admin: &str) -> usize {
    let page: OrgUnitList = app.get_as("/api/v1/admin/org-units", admin).await;
    page.items.len()
}

#[tokio::test]
async fn a_district_of_198_communities_and_700_staff_imports_whole_and_its_signed_lawyer_is_offered()
 {
    let app = TestApp::spawn().await;
    let admin = app.staff_token("admin").await;
    let file = district("imp", 9, 22, 700);
    let units_before = unit_count(&app, &admin).await;

    // A dry run counts and writes nothing.
    let dry: Value = expect_json(
        import(&app, &admin, "?dry_run=true", &file).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        dry["counts"],
        json!({"units": 225, "firms": 9, "rooms": 198, "staff": 700, "signings": 175})
    );
    assert_eq!(unit_count(&app, &admin).await, units_before);

    let response = import(&app, &admin, "", &file).await;
    assert_eq!(response.headers()["cache-control"], "no-store");
    let made: Value = expect_json(response, StatusCode::CREATED).await;
    assert_eq!(made["counts"], dry["counts"]);
    assert_eq!(unit_count(&app, &admin).await, units_before + 18);
    let staff = made["staff"].as_array().unwrap();
    assert_eq!(staff.len(), 700);
    // Generated passwords for those that asked, and they log in.
    for (p, person) in staff.iter().enumerate() {
        assert_eq!(person["username"], format!("imp.{p:04}"));
        assert_eq!(
            person["generated_password"].is_string(),
            p % 10 != 0,
            "{person}"
        );
    }
    let generated = staff[3]["generated_password"].as_str().unwrap();
    expect_json::<TokenResponse>(login(&app, "imp.0003", generated).await, StatusCode::OK).await;

    // Community #150's consultation is offered to its signed lawyer, the
    // 150th lawyer (imp.0600), who accepts and answers it.
    let community: Uuid = made["units"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["key"] == "community-150")
        .map(|u| u["id"].as_str().unwrap().parse().unwrap())
        .unwrap();
    let resident = app.resident_token("import-150").await;
    let case: ConsultationView = expect_json(
        app.http
            .post(app.url("/api/v1/consultations"))
            .bearer_auth(&resident)
            .header("Idempotency-Key", Uuid::now_v7().to_string())
            .json(&json!({"community_id": community, "category_code": "LJ01",
                          "question": "导入测试：邻居占用楼道堆放杂物怎么办？"}))
            .send()
            .await
            .unwrap(),
        StatusCode::CREATED,
    )
    .await;
    let lawyer: TokenResponse = expect_json(
        login(&app, "imp.0600", "initial-password-0600").await,
        StatusCode::OK,
    )
    .await;
    let offer = app.wait_for_offer(&lawyer.access_token, &case.id).await;
    app.accept_offer(&lawyer.access_token, &offer).await;
    let answer = app
        .post(
            &format!("/api/v1/staff/consultations/{}/messages", case.id),
            &lawyer.access_token,
            json!({"body": "您好，可以先与邻居协商，协商不成可请居委会调解。"}),
        )
        .await;
    assert!(answer.status().is_success(), "{}", answer.status());
    let status: Value = app
        .get_as(&format!("/api/v1/consultations/{}", case.id), &resident)
        .await;
    assert_eq!(status["status"], "answered", "{status}");

    // The same file again: refused, every collision listed (up to 100),
    // nothing written.
    let again = expect_error(
        import(&app, &admin, "", &file).await,
        StatusCode::CONFLICT,
        "import_conflict",
    )
    .await;
    let again: Value = serde_json::to_value(&again).unwrap();
    let problems = again["error"]["problems"].as_array().unwrap();
    assert_eq!(problems.len(), 100);
    assert_eq!(problems[0]["at"], "units[0].name");
    assert!(
        problems.iter().any(|p| p["at"] == "units[27].scene"),
        "{problems:?}"
    );
    assert_eq!(unit_count(&app, &admin).await, units_before + 18);
}

#[tokio::test]
async fn three_bad_entries_are_all_listed_and_nothing_is_written() {
    let app = TestApp::spawn().await;
    let admin = app.staff_token("admin").await;
    let mut file = district("bad", 2, 3, 24);
    file["units"][7]["parent"] = json!("street-9");
    file["staff"][5]["role"] = json!("chief");
    file["staff"][8]["signs"] = json!(["community-0"]); // lawyer 2 signs lawyer 0's
    let units_before = unit_count(&app, &admin).await;

    let error = expect_error(
        import(&app, &admin, "", &file).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    let error: Value = serde_json::to_value(&error).unwrap();
    let at: Vec<&str> = error["error"]["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["at"].as_str().unwrap())
        .collect();
    assert_eq!(
        at,
        ["units[7].parent", "staff[5].role", "staff[8].signs[0]"]
    );
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("3 problem(s): units[7].parent: unknown key")
    );
    assert_eq!(unit_count(&app, &admin).await, units_before);
    expect_error(
        login(&app, "bad.0000", "initial-password-0000").await,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    )
    .await;

    // Not JSON at all: serde's line and column.
    let response = app
        .http
        .post(app.url("/api/v1/admin/import"))
        .bearer_auth(&admin)
        .header("Content-Type", "application/json")
        .body("{\"units\": [\n  {\"key\": }\n]}")
        .send()
        .await
        .unwrap();
    let error = expect_error(response, StatusCode::BAD_REQUEST, "malformed_json").await;
    assert!(
        error.error.message.contains("line 2"),
        "{}",
        error.error.message
    );
}

#[tokio::test]
async fn only_a_district_administrator_imports_and_only_they_may_send_a_large_body() {
    let app = TestApp::spawn().await;
    let admin = app.staff_token("admin").await;
    let coordinator = app.staff_token("coordinator.sun").await;
    let resident = app.resident_token("import-limits").await;
    let small = district("lim", 1, 2, 8);

    expect_error(
        import(&app, &coordinator, "", &small).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    expect_error(
        import(&app, &resident, "", &small).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    expect_error(
        import(&app, "", "", &small).await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    )
    .await;

    // 600 KB: over the ordinary JSON limit, under the import's. Refused
    // for everyone but an administrator, unread.
    let padding = "x".repeat(600 * 1024);
    let big = json!({"units": [], "staff": [], "rooms": [], "firms": [{"key": "f", "name": "律所", "serves": [padding]}]});
    for token in ["", "not-a-token", resident.as_str(), coordinator.as_str()] {
        expect_error(
            import(&app, token, "", &big).await,
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
        )
        .await;
    }
    // The administrator's is read and checked (the padding is no street).
    expect_error(
        import(&app, &admin, "", &big).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    // Over 1 MiB: too large for anyone.
    let huge =
        json!({"firms": [{"key": "f", "name": "律所", "serves": ["x".repeat(1100 * 1024)]}]});
    expect_error(
        import(&app, &admin, "", &huge).await,
        StatusCode::PAYLOAD_TOO_LARGE,
        "body_too_large",
    )
    .await;

    // Form-encoded: 415.
    let response = app
        .http
        .post(app.url("/api/v1/admin/import"))
        .bearer_auth(&admin)
        .header("Content-Type", "text/csv")
        .body("key,kind,name\n")
        .send()
        .await
        .unwrap();
    expect_error(
        response,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    )
    .await;
}

#[tokio::test]
async fn the_embedded_default_imports_in_one_transaction_too() {
    let app = TestApp::spawn_embedded().await;
    let admin = app.staff_token("admin").await;
    let file = district("emb", 2, 5, 40);
    let made: Value = expect_json(import(&app, &admin, "", &file).await, StatusCode::CREATED).await;
    assert_eq!(
        made["counts"],
        json!({"units": 16, "firms": 2, "rooms": 10, "staff": 40, "signings": 10})
    );
    expect_json::<TokenResponse>(
        login(&app, "emb.0010", "initial-password-0010").await,
        StatusCode::OK,
    )
    .await;
    // A file half of which collides writes none of its other half.
    let mut second = district("emb", 2, 5, 40);
    for (s, unit) in second["units"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .enumerate()
    {
        if unit["kind"] == "street" || unit["kind"] == "police_station" {
            unit["name"] = json!(format!("另一{s}"));
        }
    }
    let before = unit_count(&app, &admin).await;
    expect_error(
        import(&app, &admin, "", &second).await,
        StatusCode::CONFLICT,
        "import_conflict",
    )
    .await;
    assert_eq!(unit_count(&app, &admin).await, before);
}
