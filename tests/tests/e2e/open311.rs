//! Open311 GeoReport v2 over tips, against the specification's examples
//! (<http://wiki.open311.org/GeoReport_v2>): the documents in both formats
//! (XML root elements, field names, ids as strings, one-element lists),
//! filing with an administrator-issued key (form-encoded and multipart
//! with a photo), the public reading (only public categories, no free text,
//! no address, coarse location), and every error as `{code, description}`.

use crate::tips::{jpeg_with_gps, officer_on_duty};
use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use sansuo_tests::views::{IssuedOpen311Key, Open311KeyList, TipReceipt, TipView};
use sansuo_tests::{TestApp, eventually, expect_error, expect_json, expect_status, read_as};
use serde_json::{Value, json};

/// Hongkou, near 蒋家桥 (WGS-84).
const LAT: f64 = 31.264_63;
const LNG: f64 = 121.505_24;
const STATION: &str = "欧阳路派出所";

/// An XML document as (root name, its children as (name, leaf fields)).
type Leaves = Vec<(String, String)>;

fn parse_xml(text: &str) -> (String, Vec<(String, Leaves)>) {
    assert!(
        text.starts_with(r#"<?xml version="1.0" encoding="utf-8"?>"#),
        "an XML declaration: {text}"
    );
    let doc = roxmltree::Document::parse(text).unwrap_or_else(|e| panic!("{e}: {text}"));
    let root = doc.root_element();
    let children = root
        .children()
        .filter(|n| n.is_element())
        .map(|child| {
            let leaves = child
                .children()
                .filter(|n| n.is_element())
                .map(|leaf| {
                    (
                        leaf.tag_name().name().to_owned(),
                        leaf.text().unwrap_or("").to_owned(),
                    )
                })
                .collect();
            (child.tag_name().name().to_owned(), leaves)
        })
        .collect();
    (root.tag_name().name().to_owned(), children)
}

fn field<'a>(leaves: &'a Leaves, name: &str) -> &'a str {
    leaves
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or_else(|| panic!("no <{name}> in {leaves:?}"))
}

fn names(leaves: &Leaves) -> Vec<&str> {
    leaves.iter().map(|(n, _)| n.as_str()).collect()
}

async fn get_raw(app: &TestApp, path: &str) -> (StatusCode, String, String) {
    let response = app.http.get(app.url(path)).send().await.unwrap();
    let status = response.status();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, content_type, response.text().await.unwrap())
}

async fn get_json(app: &TestApp, path: &str, status: StatusCode) -> Value {
    let (got, content_type, text) = get_raw(app, path).await;
    assert_eq!(got, status, "{path}: {text}");
    assert_eq!(content_type, "application/json; charset=utf-8", "{path}");
    serde_json::from_str(&text).unwrap()
}

async fn get_xml(app: &TestApp, path: &str, status: StatusCode) -> (String, Vec<(String, Leaves)>) {
    let (got, content_type, text) = get_raw(app, path).await;
    assert_eq!(got, status, "{path}: {text}");
    assert_eq!(content_type, "text/xml; charset=utf-8", "{path}");
    parse_xml(&text)
}

/// The specification's error list, in JSON: every entry `{code, description}`.
fn assert_errors(body: &Value, code: u16, mentions: &str) {
    let errors = body.as_array().unwrap_or_else(|| panic!("a list: {body}"));
    assert!(!errors.is_empty());
    for error in errors {
        assert_eq!(error["code"], code, "{body}");
        assert!(error["description"].is_string(), "{body}");
    }
    assert!(
        errors
            .iter()
            .any(|e| e["description"].as_str().unwrap().contains(mentions)),
        "an error mentions {mentions:?}: {body}"
    );
}

async fn issue_key(app: &TestApp, admin: &str, name: &str) -> (String, String) {
    let issued: IssuedOpen311Key = expect_json(
        app.post("/api/v1/admin/open311-keys", admin, json!({"name": name}))
            .await,
        StatusCode::CREATED,
    )
    .await;
    let key = issued.api_key;
    assert!(key.len() >= 43, "32+ random bytes: {key}");
    assert!(
        key.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'),
        "URL-safe: {key}"
    );
    (issued.id.to_string(), key)
}

async fn post_form(app: &TestApp, extension: &str, fields: &[(&str, &str)]) -> reqwest::Response {
    app.http
        .post(app.url(&format!("/open311/v2/requests.{extension}")))
        .form(fields)
        .send()
        .await
        .unwrap()
}

fn filing<'a>(key: &'a str, code: &'a str, lat: &'a str, lng: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("api_key", key),
        ("service_code", code),
        ("lat", lat),
        ("long", lng),
        ("address_string", "3号楼东侧消防通道"),
        ("description", "消防通道被杂物堵死，电动车在楼道充电"),
        ("attribute[community]", "hk-jjq"),
        ("attribute[ongoing]", "yes"),
        // Accepted, never stored: an Open311 tip is anonymous.
        ("first_name", "Xiaoming"),
        ("last_name", "Wangfamily"),
        ("email", "wxm-open311@example.com"),
        ("phone", "13911112222"),
        ("device_id", "device-open311-abc"),
    ]
}

#[tokio::test]
async fn discovery_services_and_definitions_read_like_the_specification() {
    let app = TestApp::spawn().await;

    // Discovery.
    let (root, children) = get_xml(&app, "/open311/v2/discovery.xml", StatusCode::OK).await;
    assert_eq!(root, "discovery");
    let top: Vec<&str> = children.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(top, ["changeset", "contact", "key_service", "endpoints"]);
    let doc = get_json(&app, "/open311/v2/discovery.json", StatusCode::OK).await;
    let endpoint = &doc["endpoints"][0];
    assert_eq!(
        endpoint["specification"],
        "http://wiki.open311.org/GeoReport_v2"
    );
    assert_eq!(endpoint["url"], app.url("/open311/v2"));
    assert_eq!(endpoint["type"], "production");
    assert_eq!(endpoint["formats"], json!(["text/xml", "application/json"]));

    // Services: tip sub-categories, no emergencies, no parents.
    let services = get_json(&app, "/open311/v2/services.json", StatusCode::OK).await;
    let services = services.as_array().unwrap();
    let codes: Vec<&str> = services
        .iter()
        .map(|s| s["service_code"].as_str().unwrap())
        .collect();
    for listed in ["AQ01", "AQ02", "ZA05", "ZP01", "LJ01"] {
        assert!(codes.contains(&listed), "{listed} in {codes:?}");
    }
    for absent in ["AQ", "AQ10", "ZA08", "JB08", "ZP08", "HY01", "QT02"] {
        assert!(!codes.contains(&absent), "{absent} not in {codes:?}");
    }
    let fire = services
        .iter()
        .find(|s| s["service_code"] == "AQ01")
        .unwrap();
    assert_eq!(
        fire,
        &json!({
            "service_code": "AQ01",
            "service_name": "Fire hazards",
            "description": "消防隐患",
            "metadata": true,
            "type": "realtime",
            "keywords": null,
            "group": "Hazards, illegal activity, abandoned cars",
        })
    );
    let (root, children) = get_xml(&app, "/open311/v2/services.xml", StatusCode::OK).await;
    assert_eq!(root, "services");
    assert_eq!(children.len(), services.len());
    let (element, fire) = children
        .iter()
        .find(|(_, leaves)| field(leaves, "service_code") == "AQ01")
        .unwrap();
    assert_eq!(element, "service");
    assert_eq!(
        names(fire),
        [
            "service_code",
            "service_name",
            "description",
            "metadata",
            "type",
            "keywords",
            "group"
        ]
    );
    assert_eq!(
        (
            field(fire, "metadata"),
            field(fire, "type"),
            field(fire, "keywords")
        ),
        ("true", "realtime", "")
    );

    // A definition: the community (by QR scene) and "still going on?".
    let definition = get_json(&app, "/open311/v2/services/AQ01.json", StatusCode::OK).await;
    assert_eq!(definition["service_code"], "AQ01");
    let community = &definition["attributes"][0];
    assert_eq!(
        (
            &community["variable"],
            &community["code"],
            &community["datatype"],
            &community["required"],
            &community["order"]
        ),
        (
            &json!(true),
            &json!("community"),
            &json!("singlevaluelist"),
            &json!(true),
            &json!(1)
        )
    );
    let values = community["values"].as_array().unwrap();
    assert!(values.contains(&json!({"key": "hk-jjq", "name": "蒋家桥居委"})));
    assert!(values.contains(&json!({"key": "hk-sq", "name": "商丘居委"})));
    let ongoing = &definition["attributes"][1];
    assert_eq!(
        (&ongoing["code"], &ongoing["required"]),
        (&json!("ongoing"), &json!(false))
    );
    assert_eq!(
        ongoing["values"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["key"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["yes", "no"]
    );
    let (root, children) = get_xml(&app, "/open311/v2/services/AQ01.xml", StatusCode::OK).await;
    assert_eq!(root, "service_definition");
    assert_eq!(
        children.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(),
        ["service_code", "attributes"]
    );
    let text = get_raw(&app, "/open311/v2/services/AQ01.xml").await.2;
    let doc = roxmltree::Document::parse(&text).unwrap();
    let attributes: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("attribute"))
        .collect();
    assert_eq!(attributes.len(), 2);
    let first: Vec<&str> = attributes[0]
        .children()
        .filter(|n| n.is_element())
        .map(|n| n.tag_name().name())
        .collect();
    assert_eq!(
        first,
        [
            "variable",
            "code",
            "datatype",
            "required",
            "datatype_description",
            "order",
            "description",
            "values"
        ]
    );
    let keys: Vec<&str> = attributes[0]
        .descendants()
        .filter(|n| n.has_tag_name("key"))
        .filter_map(|n| n.text())
        .collect();
    assert!(
        keys.contains(&"hk-jjq") && keys.contains(&"hk-sq"),
        "{keys:?}"
    );

    // Unknown services (an emergency is none) and formats.
    for path in [
        "/open311/v2/services/NOPE1.json",
        "/open311/v2/services/AQ10.json",
    ] {
        let body = get_json(&app, path, StatusCode::NOT_FOUND).await;
        assert_errors(&body, 404, "service_code");
    }
    let (root, errors) = get_xml(
        &app,
        "/open311/v2/services/NOPE1.xml",
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_eq!(root, "errors");
    assert_eq!(errors[0].0, "error");
    assert_eq!(names(&errors[0].1), ["code", "description"]);
    assert_eq!(field(&errors[0].1, "code"), "404");
    for path in [
        "/open311/v2/discovery.yaml",
        "/open311/v2/services.csv",
        "/open311/v2/services/AQ01.html",
        "/open311/v2/services/AQ01",
        "/open311/v2/discovery",
        "/open311/v2/nothing.json",
    ] {
        let (root, errors) = get_xml(&app, path, StatusCode::NOT_FOUND).await;
        assert_eq!(root, "errors", "{path}");
        assert_eq!(field(&errors[0].1, "code"), "404", "{path}");
    }
}

#[tokio::test]
async fn a_client_files_a_request_which_the_officer_on_duty_triages_and_anyone_reads_back() {
    let app = TestApp::spawn().await;
    officer_on_duty(&app).await;
    let admin = app.staff_token("admin").await;
    let officer = app.staff_token("officer.liu").await;
    let (_, key) = issue_key(&app, &admin, "区城运中心大屏").await;

    // Form-encoded, JSON answer: a one-element list with the id as a string.
    let (lat, lng) = (LAT.to_string(), LNG.to_string());
    let receipt = expect_status(
        post_form(&app, "json", &filing(&key, "AQ01", &lat, &lng)).await,
        StatusCode::CREATED,
    )
    .await;
    let receipt = receipt.as_array().unwrap();
    assert_eq!(receipt.len(), 1);
    let id = receipt[0]["service_request_id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(receipt[0].get("token").is_none());
    let notice = receipt[0]["service_notice"].as_str().unwrap();
    assert!(
        notice.contains(STATION) && notice.contains("值班民警") && notice.contains("110"),
        "{notice}"
    );

    // The same engine: offered to the officer on duty, who sees an
    // anonymous Open311 tip with the client's text, and nothing personal.
    let path = format!("/api/v1/staff/tips/{id}");
    eventually("the Open311 tip to be offered to the officer", || async {
        (app.get(&path, &officer).await.status() == StatusCode::OK).then_some(())
    })
    .await;
    let view: TipView = app.get_as(&path, &officer).await;
    assert_eq!(view.staff.as_ref().unwrap().channel, "open311");
    assert!(view.anonymous);
    assert_eq!(view.category_code, "AQ01");
    assert_eq!(view.community_id, app.demo.community_a.as_uuid());
    let description = view.description.as_str();
    assert!(
        description.starts_with("消防通道被杂物堵死"),
        "{description}"
    );
    assert!(description.contains("still going on"), "{description}");
    let location = view.location.as_ref().unwrap();
    assert_eq!(location.address.as_deref(), Some("3号楼东侧消防通道"));
    assert_eq!(location.datum_sent, "wgs84");
    assert!((location.lat - LAT).abs() < 1e-9);
    let db = app.app.store.db();
    for needle in [
        "Xiaoming",
        "Wangfamily",
        "wxm-open311",
        "13911112222",
        "device-open311",
    ] {
        use sea_orm::{ConnectionTrait, Statement};
        let sql = format!("SELECT count(*) AS n FROM tips t WHERE t::text LIKE '%{needle}%'");
        let n: i64 = db
            .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
            .await
            .unwrap()
            .unwrap()
            .try_get("", "n")
            .unwrap();
        assert_eq!(n, 0, "{needle} was stored");
        let sql =
            format!("SELECT count(*) AS n FROM case_events t WHERE t::text LIKE '%{needle}%'");
        let n: i64 = db
            .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
            .await
            .unwrap()
            .unwrap()
            .try_get("", "n")
            .unwrap();
        assert_eq!(n, 0, "{needle} was stored");
    }

    // Read back by id, JSON: the public fields only.
    let one = get_json(
        &app,
        &format!("/open311/v2/requests/{id}.json"),
        StatusCode::OK,
    )
    .await;
    let one = one.as_array().unwrap();
    assert_eq!(one.len(), 1, "a single request is a one-element list");
    let request = &one[0];
    let requested = request["requested_datetime"].as_str().unwrap().to_owned();
    assert!(requested.ends_with("+08:00"), "{requested}");
    assert!(
        request["updated_datetime"]
            .as_str()
            .unwrap()
            .ends_with("+08:00")
    );
    assert_eq!(
        request,
        &json!({
            "service_request_id": id,
            "status": "open",
            "status_notes": request["status_notes"],
            "service_name": "Fire hazards",
            "service_code": "AQ01",
            "description": null,
            "agency_responsible": STATION,
            "service_notice": null,
            "requested_datetime": requested,
            "updated_datetime": request["updated_datetime"],
            "expected_datetime": null,
            "address": null,
            "address_id": null,
            "zipcode": null,
            "lat": 31.265,
            "long": 121.505,
            "media_url": null,
        })
    );
    assert!(request["status_notes"].is_string());

    // ... and in XML, and in the list (both formats).
    let (root, requests) = get_xml(
        &app,
        &format!("/open311/v2/requests/{id}.xml"),
        StatusCode::OK,
    )
    .await;
    assert_eq!(root, "service_requests");
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].0, "request");
    let leaves = &requests[0].1;
    assert_eq!(
        names(leaves),
        [
            "service_request_id",
            "status",
            "status_notes",
            "service_name",
            "service_code",
            "description",
            "agency_responsible",
            "service_notice",
            "requested_datetime",
            "updated_datetime",
            "expected_datetime",
            "address",
            "address_id",
            "zipcode",
            "lat",
            "long",
            "media_url"
        ]
    );
    assert_eq!(
        (
            field(leaves, "service_request_id"),
            field(leaves, "status"),
            field(leaves, "description"),
            field(leaves, "address"),
            field(leaves, "lat"),
            field(leaves, "long"),
            field(leaves, "requested_datetime"),
        ),
        (
            id.as_str(),
            "open",
            "",
            "",
            "31.265",
            "121.505",
            requested.as_str()
        )
    );
    let list = get_json(&app, "/open311/v2/requests.json", StatusCode::OK).await;
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .any(|r| r["service_request_id"] == id.as_str())
    );
    let (root, list) = get_xml(&app, "/open311/v2/requests.xml?status=open", StatusCode::OK).await;
    assert_eq!(root, "service_requests");
    assert!(
        list.iter()
            .any(|(_, r)| field(r, "service_request_id") == id)
    );
    let by_id = get_json(
        &app,
        &format!("/open311/v2/requests.json?service_request_id={id},not-an-id&status=bogus"),
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        by_id.as_array().unwrap().len(),
        1,
        "the ids override the rest"
    );

    // A token equal to an id we issued resolves to it; anything else is 404.
    let token = get_json(
        &app,
        &format!("/open311/v2/tokens/{id}.json"),
        StatusCode::OK,
    )
    .await;
    assert_eq!(token, json!([{"service_request_id": id, "token": id}]));
    let (root, _) = get_xml(
        &app,
        &format!("/open311/v2/tokens/{id}.xml"),
        StatusCode::OK,
    )
    .await;
    assert_eq!(root, "service_requests");
    let body = get_json(
        &app,
        "/open311/v2/tokens/no-such-token.json",
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_errors(&body, 404, "token");

    // The officer finds nothing in it: the public reading says closed, in
    // plain words, never the officer's own note.
    expect_status(
        app.post(&format!("{path}/acknowledge"), &officer, json!({}))
            .await,
        StatusCode::OK,
    )
    .await;
    expect_status(
        app.post(
            &format!("{path}/triage"),
            &officer,
            json!({"verdict": "unfounded", "note": "现场核查无堵塞（内部备注）"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let closed = get_json(
        &app,
        &format!("/open311/v2/requests/{id}.json"),
        StatusCode::OK,
    )
    .await;
    assert_eq!(closed[0]["status"], "closed");
    // In Chinese; in English for a client that prefers it.
    assert_eq!(closed[0]["status_notes"], "经核查，未发现相关情况。");
    let english: Value = app
        .http
        .get(app.url(&format!("/open311/v2/requests/{id}.json")))
        .header("Accept-Language", "en-GB,en;q=0.9,zh;q=0.5")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        english[0]["status_notes"],
        "Checked: no grounds were found."
    );
    let listed_in_chinese: Value = app
        .http
        .get(app.url("/open311/v2/requests.json?status=closed"))
        .header("Accept-Language", "zh-CN,zh;q=0.9,en;q=0.8")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mine = listed_in_chinese
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["service_request_id"] == id.as_str())
        .unwrap();
    assert_eq!(mine["status_notes"], "经核查，未发现相关情况。");
    let open = get_json(
        &app,
        "/open311/v2/requests.json?status=open",
        StatusCode::OK,
    )
    .await;
    assert!(
        open.as_array()
            .unwrap()
            .iter()
            .all(|r| r["service_request_id"] != id.as_str())
    );
    let closed = get_json(
        &app,
        "/open311/v2/requests.json?status=closed",
        StatusCode::OK,
    )
    .await;
    assert!(
        closed
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["service_request_id"] == id.as_str())
    );

    // Multipart with a `media` photo, XML answer: the photo is on the tip,
    // stripped of its metadata.
    let mut form = Form::new();
    for (name, value) in filing(&key, "ZA05", &lat, &lng) {
        form = form.text(name.to_owned(), value.to_owned());
    }
    form = form.part(
        "media",
        Part::bytes(jpeg_with_gps())
            .file_name("photo.jpg")
            .mime_str("image/jpeg")
            .unwrap(),
    );
    let response = app
        .http
        .post(app.url("/open311/v2/requests.xml"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let (root, receipt) = parse_xml(&response.text().await.unwrap());
    assert_eq!(root, "service_requests");
    assert_eq!(receipt.len(), 1);
    assert_eq!(
        names(&receipt[0].1),
        ["service_request_id", "service_notice", "account_id"]
    );
    let second = field(&receipt[0].1, "service_request_id").to_owned();
    let path = format!("/api/v1/staff/tips/{second}");
    eventually("the second tip to be offered", || async {
        (app.get(&path, &officer).await.status() == StatusCode::OK).then_some(())
    })
    .await;
    let view: TipView = app.get_as(&path, &officer).await;
    let photos = &view.photos;
    assert_eq!(photos.len(), 1);
    assert_eq!(photos[0].content_type, "image/jpeg");
    let photo = app
        .get(&format!("{path}/photos/{}", photos[0].id), &officer)
        .await;
    assert_eq!(photo.status(), StatusCode::OK);
    let stored = photo.bytes().await.unwrap();
    let text = String::from_utf8_lossy(&stored);
    assert!(!text.contains("GPS") && !text.contains("Wang"), "stripped");
    // Photos are evidence: never a public media_url.
    let public = get_json(
        &app,
        &format!("/open311/v2/requests/{second}.json"),
        StatusCode::OK,
    )
    .await;
    assert_eq!(public[0]["media_url"], Value::Null);
    assert_eq!(public[0]["service_name"], "Night-time noise");
}

#[tokio::test]
async fn every_error_is_the_specifications_list_with_400_403_or_404() {
    let app = TestApp::spawn().await;
    let admin = app.staff_token("admin").await;
    let coordinator = app.staff_token("coordinator.sun").await;
    let (key_id, key) = issue_key(&app, &admin, "测试客户端").await;
    let (lat, lng) = (LAT.to_string(), LNG.to_string());
    let good = filing(&key, "AQ02", &lat, &lng);
    let without = |name: &str| -> Vec<(&str, &str)> {
        good.iter().copied().filter(|(n, _)| *n != name).collect()
    };
    let with = |name: &'static str, value: &'static str| -> Vec<(&str, &str)> {
        let mut fields: Vec<(&str, &str)> =
            good.iter().copied().filter(|(n, _)| *n != name).collect();
        fields.push((name, value));
        fields
    };
    let expect = |status: StatusCode, code: u16, mentions: &'static str| {
        move |response: reqwest::Response| async move {
            let body = expect_status(response, status).await;
            assert_errors(&body, code, mentions);
        }
    };

    // The key: missing, unknown, revoked → 403.
    expect(StatusCode::FORBIDDEN, 403, "api_key")(
        post_form(&app, "json", &without("api_key")).await,
    )
    .await;
    expect(StatusCode::FORBIDDEN, 403, "api_key")(
        post_form(&app, "json", &with("api_key", "not-a-key-we-issued")).await,
    )
    .await;
    // The service: unknown → 404; an emergency → 400 "call 110", nothing kept.
    expect(StatusCode::NOT_FOUND, 404, "service_code")(
        post_form(&app, "json", &with("service_code", "XX99")).await,
    )
    .await;
    expect(StatusCode::NOT_FOUND, 404, "service_code")(
        post_form(&app, "json", &with("service_code", "AQ")).await,
    )
    .await;
    expect(StatusCode::BAD_REQUEST, 400, "110")(
        post_form(&app, "json", &with("service_code", "AQ10")).await,
    )
    .await;
    // Arguments → 400.
    let no_place: Vec<(&str, &str)> = good
        .iter()
        .copied()
        .filter(|(n, _)| !matches!(*n, "lat" | "long" | "address_string"))
        .collect();
    expect(StatusCode::BAD_REQUEST, 400, "location")(post_form(&app, "json", &no_place).await)
        .await;
    expect(StatusCode::BAD_REQUEST, 400, "lat")(
        post_form(&app, "json", &with("lat", "95.5")).await,
    )
    .await;
    expect(StatusCode::BAD_REQUEST, 400, "lat")(
        post_form(&app, "json", &with("lat", "north")).await,
    )
    .await;
    expect(StatusCode::BAD_REQUEST, 400, "attribute[community]")(
        post_form(&app, "json", &without("attribute[community]")).await,
    )
    .await;
    expect(StatusCode::BAD_REQUEST, 400, "attribute[community]")(
        post_form(&app, "json", &with("attribute[community]", "nowhere")).await,
    )
    .await;
    // The same in XML: `<errors><error><code/><description/></error></errors>`.
    let response = post_form(&app, "xml", &without("attribute[community]")).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        response.headers()["content-type"],
        "text/xml; charset=utf-8"
    );
    let (root, errors) = parse_xml(&response.text().await.unwrap());
    assert_eq!(root, "errors");
    assert_eq!(
        (errors[0].0.as_str(), field(&errors[0].1, "code")),
        ("error", "400")
    );
    // An unknown format: 404, in XML.
    let response = post_form(&app, "yaml", &good).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let (root, _) = parse_xml(&response.text().await.unwrap());
    assert_eq!(root, "errors");
    // Nothing of all that was filed.
    let listed = get_json(&app, "/open311/v2/requests.json", StatusCode::OK).await;
    assert_eq!(listed, json!([]));

    // Reading: unknown request 404, bad filters 400.
    for path in [
        "/open311/v2/requests/0193a0a0-0000-7000-8000-000000000000.json",
        "/open311/v2/requests/not-a-request.json",
    ] {
        let body = get_json(&app, path, StatusCode::NOT_FOUND).await;
        assert_errors(&body, 404, "service_request_id");
    }
    let body = get_json(
        &app,
        "/open311/v2/requests.json?start_date=yesterday",
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_errors(&body, 400, "start_date");
    let body = get_json(
        &app,
        "/open311/v2/requests.json?start_date=2026-01-01",
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_errors(&body, 400, "start_date");
    let body = get_json(
        &app,
        "/open311/v2/requests.json?status=pending",
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_errors(&body, 400, "status");
    let (root, _) = get_xml(
        &app,
        "/open311/v2/requests.xml?page_size=1000",
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(root, "errors");

    // Keys are the administrators' alone; listing never shows a key.
    expect_error(
        app.post(
            "/api/v1/admin/open311-keys",
            &coordinator,
            json!({"name": "x"}),
        )
        .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    expect_error(
        app.get("/api/v1/admin/open311-keys", &coordinator).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    let revoke = |token: &str, id: &str| {
        app.http
            .delete(app.url(&format!("/api/v1/admin/open311-keys/{id}")))
            .bearer_auth(token.to_owned())
            .send()
    };
    expect_error(
        revoke(&coordinator, &key_id).await.unwrap(),
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    expect_error(
        app.post("/api/v1/admin/open311-keys", &admin, json!({"name": "  "}))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    // Raw as well: the key itself must be nowhere on the wire.
    let keys_raw = expect_status(
        app.get("/api/v1/admin/open311-keys", &admin).await,
        StatusCode::OK,
    )
    .await;
    let keys: Open311KeyList = read_as(&keys_raw);
    assert_eq!(keys.items.len(), 1);
    let listed = &keys.items[0];
    assert_eq!(
        (
            listed.id.to_string(),
            listed.name.as_str(),
            listed.revoked_at
        ),
        (key_id.clone(), "测试客户端", None)
    );
    assert!(keys_raw["items"][0].get("api_key").is_none() && !keys_raw.to_string().contains(&key));
    // The key works until revoked; then 403.
    expect_status(post_form(&app, "json", &good).await, StatusCode::CREATED).await;
    expect_status(
        revoke(&admin, &key_id).await.unwrap(),
        StatusCode::NO_CONTENT,
    )
    .await;
    expect_status(
        revoke(&admin, &key_id).await.unwrap(),
        StatusCode::NO_CONTENT,
    )
    .await;
    expect_error(
        revoke(&admin, &uuid::Uuid::now_v7().to_string())
            .await
            .unwrap(),
        StatusCode::NOT_FOUND,
        "open311_key_not_found",
    )
    .await;
    expect(StatusCode::FORBIDDEN, 403, "api_key")(post_form(&app, "json", &good).await).await;
    let keys: Open311KeyList = app.get_as("/api/v1/admin/open311-keys", &admin).await;
    assert!(keys.items[0].revoked_at.is_some());
}

#[tokio::test]
async fn only_tips_of_public_categories_are_read_and_never_their_text_or_address() {
    let app = TestApp::spawn().await;
    let resident = app.resident_token("neighbour").await;
    let report = |category: &'static str, anonymous: bool| {
        let body = json!({
            "community_id": app.demo.community_b.as_uuid(),
            "category_code": category,
            "description": "有人冒充公检法打电话让我转账，号码是13800001111",
            "location": {"lat": LAT, "lng": LNG, "address": "商丘路 12 弄 3 号 502 室"},
            "anonymous": anonymous,
        });
        let resident = resident.clone();
        let app = &app;
        async move {
            let receipt: TipReceipt = expect_json(
                app.post("/api/v1/tips", &resident, body).await,
                StatusCode::CREATED,
            )
            .await;
            receipt.tip.id.to_string()
        }
    };
    let fraud = report("ZP01", false).await;
    let rental = report("AQ03", true).await;
    let drugs = report("AQ09", true).await;

    let list = get_json(&app, "/open311/v2/requests.json", StatusCode::OK).await;
    let ids: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["service_request_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [rental.as_str()], "only the public category's tip");
    let text = list.to_string();
    for secret in ["13800001111", "冒充", "502", "商丘路"] {
        assert!(!text.contains(secret), "{secret} in {text}");
    }
    let rental_view = &list[0];
    assert_eq!(
        (
            &rental_view["description"],
            &rental_view["address"],
            &rental_view["service_code"],
            &rental_view["service_name"],
        ),
        (
            &Value::Null,
            &Value::Null,
            &json!("AQ03"),
            &json!("Overcrowded rentals")
        )
    );
    for hidden in [&fraud, &drugs] {
        let body = get_json(
            &app,
            &format!("/open311/v2/requests/{hidden}.json"),
            StatusCode::NOT_FOUND,
        )
        .await;
        assert_errors(&body, 404, "service_request_id");
        let by_id = get_json(
            &app,
            &format!("/open311/v2/requests.json?service_request_id={hidden}"),
            StatusCode::OK,
        )
        .await;
        assert_eq!(by_id, json!([]));
        // Not issued through Open311: no token either.
        get_json(
            &app,
            &format!("/open311/v2/tokens/{hidden}.json"),
            StatusCode::NOT_FOUND,
        )
        .await;
    }
    let filtered = get_json(
        &app,
        "/open311/v2/requests.json?service_code=ZP01,AQ09",
        StatusCode::OK,
    )
    .await;
    assert_eq!(filtered, json!([]));
    let filtered = get_json(
        &app,
        "/open311/v2/requests.json?service_code=AQ03&status=open",
        StatusCode::OK,
    )
    .await;
    assert_eq!(filtered.as_array().unwrap().len(), 1);

    // Date window: in the past only, and pages.
    let past = get_json(
        &app,
        "/open311/v2/requests.json?start_date=2020-01-01T00:00:00Z&end_date=2020-02-01T00:00:00%2B08:00",
        StatusCode::OK,
    )
    .await;
    assert_eq!(past, json!([]));
    let page_two = get_json(
        &app,
        "/open311/v2/requests.json?page=2&page_size=1",
        StatusCode::OK,
    )
    .await;
    assert_eq!(page_two, json!([]));
}
