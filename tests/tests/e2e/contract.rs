//! The HTTP contract: the error codes (one table, snapshot-tested), the
//! generated OpenAPI document (every status an operation can give is
//! documented with the error body, every reference resolves, every code a
//! description names exists with that status), and 405 with `Allow`.

use reqwest::StatusCode;
use sansuo_api::{ApiError, ErrorCode};
use sansuo_tests::TestApp;
use serde_json::{Value, json};

const SNAPSHOT: &str = "tests/e2e/snapshots/error_codes.json";

/// One line per code: its status and the body it is answered with by
/// default. A change here is a change of the public contract: review it,
/// then regenerate with `UPDATE_SNAPSHOTS=1`.
#[test]
fn the_error_codes_match_their_snapshot() {
    let table: Vec<Value> = ErrorCode::ALL
        .iter()
        .map(|&code| {
            let body = serde_json::to_value(ApiError::from(code).body()).unwrap();
            assert_eq!(body["error"]["code"], code.as_str());
            assert!(
                body["error"]["message"]
                    .as_str()
                    .is_some_and(|m| !m.is_empty())
            );
            json!({"code": code.as_str(), "status": code.status().as_u16(), "body": body})
        })
        .collect();
    let generated = serde_json::to_string_pretty(&table).unwrap() + "\n";
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(SNAPSHOT);
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        generated == checked_in,
        "{SNAPSHOT} is out of date: review the change, then run with UPDATE_SNAPSHOTS=1"
    );
}

#[test]
fn an_internal_error_never_shows_its_cause() {
    let body = serde_json::to_value(ApiError::internal("db password=hunter2").body()).unwrap();
    assert_eq!(body["error"]["code"], "internal_error");
    assert!(!body.to_string().contains("hunter2"));
}

fn spec() -> Value {
    serde_json::from_str(&sansuo_api::openapi().to_pretty_json().unwrap()).unwrap()
}

fn operations(spec: &Value) -> Vec<(String, String, Value)> {
    let mut out = Vec::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            out.push((method.to_uppercase(), path.clone(), operation.clone()));
        }
    }
    out
}

/// Every `$ref` in the document names something the document has.
#[test]
fn every_reference_resolves() {
    fn walk(node: &Value, spec: &Value, missing: &mut Vec<String>) {
        match node {
            Value::Object(map) => {
                if let Some(Value::String(target)) = map.get("$ref") {
                    let pointer = target.trim_start_matches('#');
                    if spec.pointer(pointer).is_none() {
                        missing.push(target.clone());
                    }
                }
                map.values().for_each(|v| walk(v, spec, missing));
            }
            Value::Array(items) => items.iter().for_each(|v| walk(v, spec, missing)),
            _ => {}
        }
    }
    let spec = spec();
    let mut missing = Vec::new();
    walk(&spec, &spec, &mut missing);
    assert!(missing.is_empty(), "unresolved references: {missing:?}");
}

/// The statuses an operation can give by its shape are documented, each
/// error with the error body, and every code a description names is a real
/// code of that status.
#[test]
fn every_operation_documents_the_statuses_its_shape_can_give() {
    let spec = spec();
    let mut problems = Vec::new();
    for (method, path, operation) in operations(&spec) {
        if path.starts_with("/open311/") {
            continue; // Open311's own error format, documented by hand.
        }
        let responses = operation["responses"].as_object().unwrap();
        let params: Vec<&Value> = operation["parameters"]
            .as_array()
            .map(|a| a.iter().collect())
            .unwrap_or_default();
        let has_param = |place: &str| params.iter().any(|p| p["in"] == place);
        let body = &operation["requestBody"]["content"];
        let json_body = body.get("application/json").is_some();
        let multipart = body.get("multipart/form-data").is_some();
        let secured = operation["security"]
            .as_array()
            .is_some_and(|s| !s.is_empty());
        let idempotent = params
            .iter()
            .any(|p| p["in"] == "header" && p["name"] == "Idempotency-Key");
        let mut expected = Vec::new();
        if has_param("path") || has_param("query") || json_body || multipart {
            expected.push("400");
        }
        if secured {
            expected.extend(["401", "403"]);
        }
        if json_body || multipart {
            expected.extend(["413", "422"]);
        }
        if json_body {
            expected.push("415");
        }
        if idempotent {
            expected.push("422");
        }
        for status in expected {
            if !responses.contains_key(status) {
                problems.push(format!("{method} {path}: {status} not documented"));
            }
        }
        for (status, response) in responses {
            let Ok(code) = status.parse::<u16>() else {
                continue;
            };
            if code < 400 {
                continue;
            }
            // `/readyz` answers 503 with its readiness report, on purpose.
            if path.starts_with("/api/v1/")
                && response["content"]["application/json"]["schema"]["$ref"]
                    != "#/components/schemas/ErrorBody"
            {
                problems.push(format!("{method} {path}: {status} without the error body"));
            }
            // Every `code` named in backticks must be one of ours, of this status.
            let description = response["description"].as_str().unwrap_or_default();
            for named in description.split('`').skip(1).step_by(2) {
                match ErrorCode::ALL.iter().find(|c| c.as_str() == named) {
                    Some(c) if c.status().as_u16() == code => {}
                    Some(c) => problems.push(format!(
                        "{method} {path}: {status} names `{named}`, which is {}",
                        c.status().as_u16()
                    )),
                    None => {} // a field's name, not a code
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[tokio::test]
async fn a_wrong_method_on_a_known_path_is_405_with_allow() {
    let app = TestApp::spawn().await;
    let response = app
        .http
        .delete(app.url("/api/v1/categories"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(response.headers()["allow"], "GET");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "method_not_allowed");

    // A path with a parameter, answered by two routes' methods.
    let id = uuid::Uuid::now_v7();
    let response = app
        .http
        .put(app.url(&format!("/api/v1/consultations/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(response.headers()["allow"], "GET");

    // Open311 answers in its own format, with the same Allow.
    let response = app
        .http
        .delete(app.url("/open311/v2/services.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(response.headers()["allow"], "GET");

    // An unknown path is still 404.
    let response = app
        .http
        .get(app.url("/api/v1/nowhere"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "route_not_found");
}
