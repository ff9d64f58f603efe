//! The authorization matrix (issue #13, item 8), generated from the
//! checked-in OpenAPI document: every operation × every identity × {own,
//! other} ids, judged against the allow-set written as data in
//! `matrix_allow.json`. An operation without a row fails
//! [`every_operation_has_a_row_and_every_row_an_operation`].
//!
//! The identities: no token; a resident and another resident; each staff
//! role of street A (administrator, coordinator, lawyer, mediator,
//! officer); and street B's coordinator. The ids come from two worlds:
//! street A (the demo district's street, the resident's cases, handled by
//! the demo staff) and street B (built through the admin API, the other
//! resident's cases). A caller's own world is A, but the other resident's
//! and street B's coordinator's is B; the district administrator owns both.
//!
//! The verdicts: a 5xx is always a violation. A public operation is
//! allowed to all. Otherwise a caller whose role is not allowed must get
//! 401, 403 or 404 (denied). An allowed caller naming the other world's
//! ids must get 404, as if they did not exist (403 would confirm them,
//! anything else acted on them). An allowed caller with its own ids must
//! not get 401 or 403 (the allow-set would be wrong); a 404 there is
//! counted as denied and listed (a fixture that is not theirs), not a
//! violation.

use reqwest::{Method, StatusCode};
use sansuo_tests::views::{MediationView, StaffList};
use sansuo_tests::world::StreetB;
use sansuo_tests::{TestApp, expect_json, expect_status};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};
use uuid::Uuid;

const SPEC: &str = include_str!("../../../openapi/openapi.json");
const ALLOW: &str = include_str!("matrix_allow.json");

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Role {
    Resident,
    Administrator,
    Coordinator,
    Lawyer,
    Mediator,
    Officer,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Row {
    #[serde(default)]
    public: bool,
    #[serde(default)]
    allow: BTreeSet<Role>,
    #[serde(default)]
    global: bool,
    #[serde(default)]
    params: BTreeMap<String, String>,
    query: Option<String>,
    body: Option<Value>,
    /// Why the row says what it says, where that is not obvious.
    #[allow(dead_code)]
    why: Option<String>,
}

/// `"METHOD /path"` of every operation in the document.
fn operations() -> BTreeSet<String> {
    let spec: Value = serde_json::from_str(SPEC).unwrap();
    let mut ops = BTreeSet::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            if ["get", "post", "put", "patch", "delete"].contains(&method.as_str()) {
                ops.insert(format!("{} {path}", method.to_uppercase()));
            }
        }
    }
    ops
}

fn rows() -> BTreeMap<String, Row> {
    let raw: BTreeMap<String, Value> = serde_json::from_str(ALLOW).unwrap();
    raw.into_iter()
        .filter(|(key, _)| !key.starts_with('_'))
        .map(|(key, row)| {
            let row = serde_json::from_value(row)
                .unwrap_or_else(|e| panic!("matrix_allow.json, row {key}: {e}"));
            (key, row)
        })
        .collect()
}

#[test]
fn every_operation_has_a_row_and_every_row_an_operation() {
    let ops = operations();
    let rows = rows();
    let keys: BTreeSet<String> = rows.keys().cloned().collect();
    let missing: Vec<_> = ops.difference(&keys).collect();
    let stale: Vec<_> = keys.difference(&ops).collect();
    assert!(
        missing.is_empty(),
        "operations without a row in matrix_allow.json (who may call them?): {missing:#?}"
    );
    assert!(
        stale.is_empty(),
        "rows of matrix_allow.json for no operation: {stale:#?}"
    );
    for (key, row) in &rows {
        assert!(
            row.public == row.allow.is_empty(),
            "{key}: either public or an allow list"
        );
        for param in key.split('{').skip(1) {
            let name = param.split('}').next().unwrap();
            assert!(
                row.params.contains_key(name),
                "{key}: no value for {{{name}}}"
            );
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Home {
    A,
    B,
    Both,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum WorldName {
    A,
    B,
}

struct Identity {
    name: &'static str,
    role: Option<Role>,
    token: Option<String>,
    home: Home,
}

/// One world's ids, by the names the allow data uses (`$name`).
type World = BTreeMap<&'static str, String>;

async fn poll(seconds: u64, mut probe: impl AsyncFnMut() -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    while Instant::now() < deadline {
        if probe().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

fn mediation_body(community: &str, facts: &str) -> Value {
    json!({
        "community_id": community,
        "category_code": "LJ02",
        "facts": facts,
        "claims": "请对方修好漏水并赔偿天花板维修费",
        "parties": [
            {"role": "applicant", "name": "王小明", "contact": "13812341234"},
            {"role": "respondent", "name": "赵大力", "contact": "13912345678"},
        ],
        "preferred_times": [{"from": "2026-12-01T01:00:00Z", "to": "2026-12-01T04:00:00Z"}],
        "private": true,
    })
}

fn tip_body(community: &str) -> Value {
    json!({
        "community_id": community,
        "category_code": "ZP01",
        "description": "3号楼东侧消防通道被电动车和杂物堵死了，晚上有人在楼道充电",
        "location": {"lat": 31.2646, "lng": 121.5052, "address": "3号楼东侧"},
        "anonymous": false,
    })
}

async fn created_id(app: &TestApp, path: &str, token: &str, body: Value, pointer: &str) -> String {
    let body: Value = expect_json(app.post(path, token, body).await, StatusCode::CREATED).await;
    body.pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("{path}: no {pointer} in {body}"))
        .to_owned()
}

/// A mediation of this world, its handler's session (booked in `room`),
/// when the mediator was offered it in time.
async fn mediation(
    app: &TestApp,
    resident: &str,
    community: &str,
    mediator: &str,
    room: &str,
) -> (String, Option<String>) {
    let id = created_id(
        app,
        "/api/v1/mediations",
        resident,
        mediation_body(
            community,
            "楼上卫生间漏水，我家天花板发霉，多次沟通没有结果",
        ),
        "/id",
    )
    .await;
    let path = format!("/api/v1/staff/mediations/{id}");
    let offered = poll(10, async || {
        app.get(&path, mediator).await.status() == StatusCode::OK
    })
    .await;
    if !offered {
        return (id, None);
    }
    expect_status(
        app.post(&format!("{path}/accept"), mediator, json!({}))
            .await,
        StatusCode::OK,
    )
    .await;
    let booked: MediationView = expect_json(
        app.post(
            &format!("{path}/sessions"),
            mediator,
            json!({"room_id": room, "starts_at": "2027-12-08T01:00:00Z", "ends_at": "2027-12-08T02:00:00Z"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    (id, Some(booked.sessions[0].id.to_string()))
}

/// Two tips of this world, the first with a photo and acknowledged by
/// `officer` when it was offered to them in time.
async fn tips(
    app: &TestApp,
    resident: &str,
    community: &str,
    officer: &str,
) -> (String, String, String) {
    let tip = created_id(
        app,
        "/api/v1/tips",
        resident,
        tip_body(community),
        "/tip/id",
    )
    .await;
    let tip2 = created_id(
        app,
        "/api/v1/tips",
        resident,
        tip_body(community),
        "/tip/id",
    )
    .await;
    let form = reqwest::multipart::Form::new().part(
        "photo",
        reqwest::multipart::Part::bytes(super::tips::jpeg_with_gps()).file_name("p.jpg"),
    );
    let receipts: Value = expect_json(
        app.http
            .post(app.url(&format!("/api/v1/tips/{tip}/photos")))
            .bearer_auth(resident)
            .multipart(form)
            .send()
            .await
            .unwrap(),
        StatusCode::CREATED,
    )
    .await;
    let photo = receipts["receipts"][0]["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/staff/tips/{tip}");
    if poll(10, async || {
        app.get(&path, officer).await.status() == StatusCode::OK
    })
    .await
    {
        expect_status(
            app.post(&format!("{path}/acknowledge"), officer, json!({}))
                .await,
            StatusCode::OK,
        )
        .await;
    }
    (tip, tip2, photo)
}

async fn world_a(app: &TestApp, resident: &str, admin: &str) -> World {
    let demo = &app.demo;
    let staff: StaffList = app
        .get_as(
            &format!("/api/v1/admin/staff?org_unit_id={}", demo.street.as_uuid()),
            admin,
        )
        .await;
    let firm = staff
        .items
        .iter()
        .find_map(|s| s.law_firm_id)
        .expect("the demo firm");
    let community = demo.community_a.as_uuid().to_string();
    let rooms: Value = app
        .get_as(
            &format!("/api/v1/admin/rooms?org_unit_id={community}"),
            admin,
        )
        .await;
    let room = rooms["items"][0]["id"].as_str().unwrap().to_owned();
    let now = chrono::Utc::now();
    let shifts: Value = app
        .get_as(
            &format!(
                "/api/v1/admin/duty-shifts?org_unit_id={}&from={}&to={}",
                demo.police_station.as_uuid(),
                (now - chrono::Duration::days(1)).format("%Y-%m-%dT%H:%M:%SZ"),
                (now + chrono::Duration::days(1)).format("%Y-%m-%dT%H:%M:%SZ"),
            ),
            admin,
        )
        .await;
    let shift = shifts["items"][0]["id"].as_str().unwrap().to_owned();

    let zhang = app.staff_token("lawyer.zhang").await;
    let chen = app.staff_token("mediator.chen").await;
    let liu = app.staff_token("officer.liu").await;
    let owned = app
        .submit(resident, "授权矩阵：邻居占用公共走道堆放杂物怎么办？")
        .await;
    let offer = app.wait_for_offer(&zhang, &owned.id).await;
    app.accept_offer(&zhang, &offer).await;
    let pending = app
        .submit(resident, "授权矩阵：物业费上涨没有公示合法吗？")
        .await;
    let offer = app.wait_for_offer(&zhang, &pending.id).await;
    let (mediation, session) = mediation(app, resident, &community, &chen, &room).await;
    let (tip, tip2, photo) = tips(app, resident, &community, &liu).await;

    let id = |name: &str| demo.account(name).id.as_uuid().to_string();
    World::from([
        ("community", community.clone()),
        ("street", demo.street.as_uuid().to_string()),
        ("station", demo.police_station.as_uuid().to_string()),
        ("firm", firm.to_string()),
        ("room", room),
        ("shift", shift),
        ("lawyer", id("lawyer.zhang")),
        ("mediator", id("mediator.chen")),
        ("officer", id("officer.liu")),
        ("consultation", owned.id.to_string()),
        ("offer", offer.id.to_string()),
        ("mediation", mediation),
        (
            "session",
            session.expect("mediator.chen is offered the mediation"),
        ),
        ("tip", tip),
        ("tip2", tip2),
        ("photo", photo),
    ])
}

async fn world_b(app: &TestApp, b: &StreetB, resident: &str) -> World {
    let community = b.community.to_string();
    let mediator = StreetB::token(app, StreetB::MEDIATOR).await;
    let officer = StreetB::token(app, StreetB::OFFICER).await;
    let consultation = created_id(
        app,
        "/api/v1/consultations",
        resident,
        json!({"community_id": community, "category_code": "LJ01", "question": "授权矩阵：楼下饭店油烟太大怎么办？"}),
        "/id",
    )
    .await;
    let (mediation, session) =
        mediation(app, resident, &community, &mediator, &b.room.to_string()).await;
    let (tip, tip2, photo) = tips(app, resident, &community, &officer).await;
    World::from([
        ("community", community.clone()),
        ("street", b.street.to_string()),
        ("station", b.station.to_string()),
        // Street B has no firm of its own: an id that exists nowhere.
        ("firm", Uuid::now_v7().to_string()),
        ("room", b.room.to_string()),
        ("shift", b.shift.to_string()),
        ("lawyer", b.lawyer.to_string()),
        ("mediator", b.mediator.to_string()),
        ("officer", b.officer.to_string()),
        ("consultation", consultation),
        ("offer", Uuid::now_v7().to_string()),
        ("mediation", mediation),
        (
            "session",
            session.unwrap_or_else(|| Uuid::now_v7().to_string()),
        ),
        ("tip", tip),
        ("tip2", tip2),
        ("photo", photo),
    ])
}

/// `$name` → this world's id; `$random` a fresh id of nothing; `$fresh`
/// a fresh username.
fn fill(text: &str, world: &World, counter: &mut u32) -> String {
    let Some(name) = text.strip_prefix('$') else {
        return text.to_owned();
    };
    match name {
        "random" => Uuid::now_v7().to_string(),
        "fresh" => {
            *counter += 1;
            format!("matrix.{counter}")
        }
        _ => world
            .get(name)
            .unwrap_or_else(|| panic!("no ${name} in the matrix worlds"))
            .clone(),
    }
}

fn fill_value(value: &Value, world: &World, counter: &mut u32) -> Value {
    match value {
        Value::String(s) => Value::String(fill(s, world, counter)),
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|v| fill_value(v, world, counter))
                .collect(),
        ),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), fill_value(v, world, counter)))
                .collect(),
        ),
        other => other.clone(),
    }
}

fn names_ids(row: &Row) -> bool {
    let scoped = |s: &str| s.starts_with('$') && s != "$random" && s != "$fresh";
    let in_value = |v: &Value| {
        fn walk(v: &Value, scoped: &dyn Fn(&str) -> bool) -> bool {
            match v {
                Value::String(s) => scoped(s),
                Value::Array(items) => items.iter().any(|i| walk(i, scoped)),
                Value::Object(map) => map.values().any(|i| walk(i, scoped)),
                _ => false,
            }
        }
        walk(v, &scoped)
    };
    !row.global
        && (row.params.values().any(|p| scoped(p))
            || row.query.as_deref().is_some_and(|q| {
                q.split('&')
                    .any(|kv| kv.split('=').nth(1).is_some_and(scoped))
            })
            || row.body.as_ref().is_some_and(in_value))
}

#[derive(Default)]
struct Tally {
    requests: u32,
    allowed: u32,
    denied: u32,
    violations: Vec<String>,
    own_not_found: Vec<String>,
}

#[tokio::test]
async fn the_authorization_matrix() {
    let app = TestApp::spawn().await;
    let b = StreetB::build(&app).await;
    let admin = app.staff_token("admin").await;
    let resident_a = app.resident_token("matrix-a").await;
    let resident_b = app.resident_token("matrix-b").await;
    let a = world_a(&app, &resident_a, &admin).await;
    let b_world = world_b(&app, &b, &resident_b).await;
    let identities = vec![
        Identity {
            name: "no token",
            role: None,
            token: None,
            home: Home::A,
        },
        Identity {
            name: "resident",
            role: Some(Role::Resident),
            token: Some(resident_a),
            home: Home::A,
        },
        Identity {
            name: "another resident",
            role: Some(Role::Resident),
            token: Some(resident_b),
            home: Home::B,
        },
        Identity {
            name: "administrator",
            role: Some(Role::Administrator),
            token: Some(admin),
            home: Home::Both,
        },
        Identity {
            name: "coordinator",
            role: Some(Role::Coordinator),
            token: Some(app.staff_token("coordinator.sun").await),
            home: Home::A,
        },
        Identity {
            name: "lawyer",
            role: Some(Role::Lawyer),
            token: Some(app.staff_token("lawyer.zhang").await),
            home: Home::A,
        },
        Identity {
            name: "mediator",
            role: Some(Role::Mediator),
            token: Some(app.staff_token("mediator.chen").await),
            home: Home::A,
        },
        Identity {
            name: "officer",
            role: Some(Role::Officer),
            token: Some(app.staff_token("officer.liu").await),
            home: Home::A,
        },
        Identity {
            name: "staff of another street",
            role: Some(Role::Coordinator),
            token: Some(StreetB::token(&app, StreetB::COORDINATOR).await),
            home: Home::B,
        },
    ];

    let rows = rows();
    // Reads first, deletions last, so that what one call changes disturbs
    // as few of the others as possible.
    let mut keys: Vec<&String> = rows.keys().collect();
    keys.sort_by_key(|k| match k.split(' ').next().unwrap() {
        "GET" => 0,
        "DELETE" => 2,
        _ => 1,
    });
    let mut tally = Tally::default();
    let mut counter = 0;
    for key in keys {
        let row = &rows[key];
        let (method, path) = key.split_once(' ').unwrap();
        let method: Method = method.parse().unwrap();
        let with_ids = names_ids(row);
        // Denied callers first, then the other world's ids, then one's own.
        let mut plan = Vec::new();
        for identity in &identities {
            let allowed = row.public || identity.role.is_some_and(|r| row.allow.contains(&r));
            let (own, other) = match identity.home {
                Home::B => (WorldName::B, WorldName::A),
                _ => (WorldName::A, WorldName::B),
            };
            let order = if allowed { 1 } else { 0 };
            if with_ids {
                plan.push((order, identity, other, allowed));
            }
            plan.push((order + 1, identity, own, allowed));
        }
        plan.sort_by_key(|p| p.0);
        for (_, identity, world_name, allowed) in plan {
            let world = match world_name {
                WorldName::A => &a,
                WorldName::B => &b_world,
            };
            let mut url = path.to_owned();
            for (name, value) in &row.params {
                url = url.replace(&format!("{{{name}}}"), &fill(value, world, &mut counter));
            }
            if let Some(query) = &row.query {
                let filled: Vec<String> = query
                    .split('&')
                    .map(|kv| match kv.split_once('=') {
                        Some((k, v)) => format!("{k}={}", fill(v, world, &mut counter)),
                        None => kv.to_owned(),
                    })
                    .collect();
                url = format!("{url}?{}", filled.join("&"));
            }
            let mut request = app.http.request(method.clone(), app.url(&url));
            if let Some(token) = &identity.token {
                request = request.bearer_auth(token);
            }
            if method == Method::POST {
                request = request.header("Idempotency-Key", Uuid::now_v7().to_string());
            }
            if let Some(body) = &row.body {
                request = request.json(&fill_value(body, world, &mut counter));
            }
            let response = request.send().await.unwrap();
            let status = response.status();
            let text = response.text().await.unwrap_or_default();
            let code = serde_json::from_str::<Value>(&text)
                .ok()
                .and_then(|b| b.pointer("/error/code").cloned())
                .map(|c| format!(" {c}"))
                .unwrap_or_default();
            tally.requests += 1;
            let other_world = with_ids
                && identity.home != Home::Both
                && (world_name == WorldName::A) != (identity.home == Home::A);
            let ids = match (with_ids, other_world, identity.home) {
                (false, _, _) => "no",
                (true, true, _) => "other",
                (true, false, Home::Both) if world_name == WorldName::B => "own (street B's)",
                (true, false, _) => "own",
            };
            let what = format!("{key} as {} with {ids} ids → {status}{code}", identity.name);
            let denial = [
                StatusCode::UNAUTHORIZED,
                StatusCode::FORBIDDEN,
                StatusCode::NOT_FOUND,
            ]
            .contains(&status);
            if status.is_server_error() {
                tally.violations.push(what);
            } else if row.public {
                tally.allowed += 1;
            } else if !allowed {
                if denial {
                    tally.denied += 1;
                } else {
                    tally.violations.push(format!("{what} (not allowed)"));
                }
            } else if other_world {
                if status == StatusCode::NOT_FOUND {
                    tally.denied += 1;
                } else {
                    tally
                        .violations
                        .push(format!("{what} (another's ids must be 404)"));
                }
            } else if status == StatusCode::NOT_FOUND {
                tally.denied += 1;
                tally.own_not_found.push(what);
            } else if denial {
                tally
                    .violations
                    .push(format!("{what} (allowed, yet refused)"));
            } else {
                tally.allowed += 1;
            }
        }
    }
    println!(
        "authorization matrix: {} operations × {} identities × {{own, other}} ids: {} requests, {} allowed, {} denied, {} violations",
        rows.len(),
        identities.len(),
        tally.requests,
        tally.allowed,
        tally.denied,
        tally.violations.len()
    );
    println!(
        "own ids answered 404 (not that caller's case): {}",
        tally.own_not_found.len()
    );
    for line in &tally.own_not_found {
        println!("  {line}");
    }
    assert!(
        tally.violations.is_empty(),
        "{} violations:\n{}",
        tally.violations.len(),
        tally.violations.join("\n")
    );
}
