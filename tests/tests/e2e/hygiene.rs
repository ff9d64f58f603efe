//! Input hygiene and response headers, on PostgreSQL (where a U+0000 in
//! text was a 500): every string of every operation's JSON request schema,
//! read from the checked-in OpenAPI document, carries a U+0000 in turn;
//! lone surrogates, path and query text, multipart and Open311 form text
//! too. And the headers personal data needs: `no-store`, `nosniff`, a CSP
//! on HTML, CORS only for configured origins.

use reqwest::StatusCode;
use sansuo_tests::{TestApp, TestOptions, expect_error, expect_json};
use serde_json::{Map, Value, json};

pub(crate) fn spec() -> Value {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../openapi/openapi.json"
    ))
    .expect("the checked-in OpenAPI document");
    serde_json::from_str(&text).unwrap()
}

/// Follow a `$ref` into `components/schemas`.
fn resolve<'a>(spec: &'a Value, schema: &'a Value) -> &'a Value {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(reference) => {
            let name = reference.rsplit('/').next().unwrap();
            resolve(spec, &spec["components"]["schemas"][name])
        }
        None => schema,
    }
}

/// A value for `schema` in which the string at position `target` (counting
/// strings in document order) holds a U+0000; `counter` counts them.
pub(crate) fn instance(spec: &Value, schema: &Value, target: usize, counter: &mut usize) -> Value {
    let schema = resolve(spec, schema);
    for combinator in ["allOf", "oneOf", "anyOf"] {
        if let Some(options) = schema.get(combinator).and_then(Value::as_array) {
            if combinator == "allOf" {
                let mut merged = Map::new();
                for part in options {
                    if let Value::Object(fields) = instance(spec, part, target, counter) {
                        merged.extend(fields);
                    }
                }
                return Value::Object(merged);
            }
            let first = options
                .iter()
                .find(|o| resolve(spec, o).get("type") != Some(&json!("null")))
                .unwrap_or(&options[0]);
            return instance(spec, first, target, counter);
        }
    }
    let kind = match schema.get("type") {
        Some(Value::Array(kinds)) => kinds
            .iter()
            .find(|k| *k != "null")
            .and_then(Value::as_str)
            .unwrap_or("null"),
        Some(Value::String(kind)) => kind.as_str(),
        _ if schema.get("properties").is_some() => "object",
        _ => "string",
    };
    match kind {
        "object" => {
            let mut fields = Map::new();
            if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
                for (name, property) in properties {
                    fields.insert(name.clone(), instance(spec, property, target, counter));
                }
            }
            Value::Object(fields)
        }
        "array" => json!([instance(spec, &schema["items"], target, counter)]),
        "integer" => json!(1),
        "number" => json!(1.5),
        "boolean" => json!(true),
        "null" => Value::Null,
        _ => {
            let position = *counter;
            *counter += 1;
            let plain = match (
                schema.get("enum"),
                schema.get("format").and_then(Value::as_str),
            ) {
                (Some(Value::Array(values)), _) if !values.is_empty() => values[0].clone(),
                (_, Some("uuid")) => json!(uuid::Uuid::now_v7()),
                (_, Some("date-time")) => json!("2026-12-01T10:00:00+08:00"),
                (_, Some("date")) => json!("2026-12-01"),
                _ => json!("一段正常的文字内容"),
            };
            if position == target {
                json!(format!("{}\u{0}尾", plain.as_str().unwrap_or("x")))
            } else {
                plain
            }
        }
    }
}

/// Every JSON request body of the spec: (method, path, schema).
fn json_operations(spec: &Value) -> Vec<(String, String, Value)> {
    let mut out = Vec::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            if let Some(schema) = operation.pointer("/requestBody/content/application~1json/schema")
            {
                out.push((method.clone(), path.clone(), schema.clone()));
            }
        }
    }
    out
}

fn concrete(path: &str) -> String {
    let mut out = String::new();
    let mut rest = path;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let close = rest[open..].find('}').unwrap() + open;
        let name = &rest[open + 1..close];
        out.push_str(&match name {
            "name" => "tip_on_duty".to_owned(),
            "day" => "2026-12-01".to_owned(),
            "format" => "json".to_owned(),
            _ => uuid::Uuid::now_v7().to_string(),
        });
        rest = &rest[close + 1..];
    }
    out.push_str(rest);
    out
}

#[tokio::test]
async fn a_nul_in_any_string_of_any_request_body_is_422_never_5xx() {
    let app = TestApp::spawn().await;
    let resident = app.resident_token("nul-fuzzer").await;
    let admin = app.staff_token("admin").await;
    let spec = spec();
    let operations = json_operations(&spec);
    assert!(operations.len() > 40, "{} operations", operations.len());
    let mut requests = 0;
    for (method, path, schema) in &operations {
        let mut strings = 0;
        instance(&spec, schema, usize::MAX, &mut strings);
        let token = if path.contains("/admin/") || path.contains("/staff/") {
            &admin
        } else {
            &resident
        };
        for target in 0..strings {
            let body = instance(&spec, schema, target, &mut 0);
            let url = app.url(&concrete(path));
            let request = match method.as_str() {
                "post" => app.http.post(url),
                "put" => app.http.put(url),
                "patch" => app.http.patch(url),
                other => panic!("{other} {path}"),
            };
            let response = request.bearer_auth(token).json(&body).send().await.unwrap();
            let status = response.status();
            let text = response.text().await.unwrap();
            assert!(
                status == StatusCode::UNPROCESSABLE_ENTITY && text.contains("invalid_text"),
                "{method} {path} with U+0000 in string #{target} of {body}: {status} {text}"
            );
            requests += 1;
        }
    }
    println!(
        "{} operations with JSON bodies, {requests} requests with a U+0000, all 422 invalid_text",
        operations.len()
    );
    assert!(requests > operations.len());
}

#[tokio::test]
async fn lone_surrogates_nul_in_paths_queries_and_forms_are_refused_without_5xx() {
    let app = TestApp::spawn().await;
    // The unauthenticated logins: a 500 on PostgreSQL before.
    for (path, body) in [
        (
            "/api/v1/auth/staff",
            r#"{"username":"admin\u0000","password":"x"}"#,
        ),
        ("/api/v1/auth/demo", r#"{"name":"小\u0000明"}"#),
        (
            "/api/v1/auth/staff",
            r#"{"username":"\ud800","password":"x"}"#,
        ),
        ("/api/v1/auth/demo", r#"{"name":"\udc00"}"#),
        ("/api/v1/auth/demo", r#"{"name":"\ud800A"}"#),
    ] {
        let response = app
            .http
            .post(app.url(path))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        expect_error(response, StatusCode::UNPROCESSABLE_ENTITY, "invalid_text").await;
    }
    // A surrogate pair is text.
    let response = app
        .http
        .post(app.url("/api/v1/auth/demo"))
        .header("content-type", "application/json")
        .body(r#"{"name":"\ud83d\ude00"}"#)
        .send()
        .await
        .unwrap();
    assert_ne!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);

    let admin = app.staff_token("admin").await;
    for path in [
        "/api/v1/admin/workflows/tip%00on_duty",
        "/api/v1/admin/staff?q=%00",
        "/api/v1/communities/by-scene/a%00b",
    ] {
        let response = app.get(path, &admin).await;
        expect_error(response, StatusCode::UNPROCESSABLE_ENTITY, "invalid_text").await;
    }

    // Multipart: the `tip` field's JSON with an escaped U+0000.
    let resident = app.resident_token("nul-multipart").await;
    let tip = json!({
        "community_id": app.demo.community_a.as_uuid(),
        "category_code": "ZA01",
        "description": "楼道里堆满了杂物\u{0}挡住了消防通道",
        "anonymous": false,
    });
    let form = reqwest::multipart::Form::new().text("tip", tip.to_string());
    let response = app
        .http
        .post(app.url("/api/v1/tips/with-photos"))
        .bearer_auth(&resident)
        .multipart(form)
        .send()
        .await
        .unwrap();
    expect_error(response, StatusCode::UNPROCESSABLE_ENTITY, "invalid_text").await;

    // A number past any real bound: refused, not a panic.
    let response = app
        .put(
            "/api/v1/admin/workflows/tip_on_duty",
            &admin,
            json!({
                "sla": {"accept_minutes": 10, "first_response_minutes": 10, "resolution_minutes": 10},
                "ladder": [{"role": "officer", "level": "station", "timeout_minutes": i64::MAX, "priority_boost": 0}],
            }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // Open311's form: its own 400, never a 500.
    let issued: Value = expect_json(
        app.post(
            "/api/v1/admin/open311-keys",
            &admin,
            json!({"name": "nul client"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let key = issued["api_key"].as_str().unwrap();
    let response = app
        .http
        .post(app.url("/open311/v2/requests.json"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "api_key={key}&service_code=ZA01&description=a%00b&lat=31.2&long=121.5"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn personal_data_is_not_cached_nothing_is_sniffed_html_has_a_csp() {
    let app = TestApp::spawn().await;
    let resident = app.resident_token("headers").await;
    let header = |response: &reqwest::Response, name: &str| {
        response
            .headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
    };
    for path in ["/api/v1/me", "/api/v1/consultations", "/api/v1/tips"] {
        let response = app.get(path, &resident).await;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        assert_eq!(
            header(&response, "cache-control").as_deref(),
            Some("no-store"),
            "{path}"
        );
        assert_eq!(
            header(&response, "x-content-type-options").as_deref(),
            Some("nosniff"),
            "{path}"
        );
    }
    // Errors too, and what is not the JSON API.
    for (path, status) in [
        ("/api/v1/me", StatusCode::UNAUTHORIZED),
        ("/api/v1/nothing-here", StatusCode::NOT_FOUND),
        ("/healthz", StatusCode::OK),
        ("/api/v1/openapi.json", StatusCode::OK),
    ] {
        let response = app.http.get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status(), status, "{path}");
        assert_eq!(
            header(&response, "x-content-type-options").as_deref(),
            Some("nosniff"),
            "{path}"
        );
        if path.starts_with("/api/v1/me") {
            assert_eq!(
                header(&response, "cache-control").as_deref(),
                Some("no-store")
            );
        }
    }
    // A handler's own policy stands (the public category list).
    let response = app
        .http
        .get(app.url("/api/v1/categories"))
        .send()
        .await
        .unwrap();
    assert!(
        header(&response, "cache-control")
            .unwrap()
            .starts_with("public")
    );

    // HTML: the docs page.
    let response = app.http.get(app.url("/docs/")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        header(&response, "content-type")
            .unwrap()
            .starts_with("text/html")
    );
    let csp = header(&response, "content-security-policy").expect("a CSP on the docs page");
    assert!(
        csp.contains("default-src 'self'") && csp.contains("frame-ancestors 'none'"),
        "{csp}"
    );
    assert_eq!(
        header(&response, "x-content-type-options").as_deref(),
        Some("nosniff")
    );
}

#[tokio::test]
async fn cors_answers_only_the_configured_origins() {
    let console = "https://console.example.org";
    let app = TestApp::spawn_with(TestOptions {
        env: vec![("SANSUO_CORS_ORIGINS", console.to_owned())],
        ..TestOptions::default()
    })
    .await;
    let preflight = |origin: &'static str| {
        app.http
            .request(reqwest::Method::OPTIONS, app.url("/api/v1/consultations"))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "authorization, content-type",
            )
            .send()
    };
    let allowed = preflight(console).await.unwrap();
    assert!(allowed.status().is_success(), "{}", allowed.status());
    assert_eq!(
        allowed
            .headers()
            .get("access-control-allow-origin")
            .unwrap(),
        console
    );
    let stranger = preflight("https://evil.example").await.unwrap();
    assert!(
        stranger
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );

    let resident = app.resident_token("cors").await;
    let get = |origin: &'static str| {
        app.http
            .get(app.url("/api/v1/me"))
            .bearer_auth(&resident)
            .header("origin", origin)
            .send()
    };
    let response = get(console).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response
            .headers()
            .get("access-control-allow-origin")
            .unwrap(),
        console
    );
    // Another origin is served without CORS headers: the browser withholds it.
    let response = get("https://evil.example").await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );

    // Without configuration, no origin at all.
    let plain = TestApp::spawn().await;
    let response = plain
        .http
        .get(plain.url("/api/v1/categories"))
        .header("origin", console)
        .send()
        .await
        .unwrap();
    assert!(
        response
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
}
