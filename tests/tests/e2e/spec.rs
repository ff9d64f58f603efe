//! The OpenAPI document is a product: generated from the code, checked in,
//! served, and documented with a docs page that works offline.

use reqwest::StatusCode;
use sansuo_tests::TestApp;

const CHECKED_IN: &str = include_str!("../../../openapi/openapi.json");

#[test]
fn the_checked_in_spec_matches_the_code() {
    let generated = sansuo_api::openapi().to_pretty_json().unwrap();
    assert!(
        generated.trim() == CHECKED_IN.trim(),
        "openapi/openapi.json is out of date: run `cargo run -- openapi > openapi/openapi.json` and commit it"
    );
}

#[test]
fn every_operation_documents_its_errors_with_the_error_body() {
    let spec: serde_json::Value = serde_json::from_str(CHECKED_IN).unwrap();
    let mut operations = 0;
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            operations += 1;
            let responses = operation["responses"].as_object().unwrap();
            assert!(
                responses.keys().any(|s| s.starts_with('2')),
                "{method} {path} has no success response"
            );
            // Public reads that take no input have nothing to refuse.
            let refuses_nothing = ["/api/v1/categories", "/api/v1/receipts/public-key"];
            if path.starts_with("/api/v1/") && !refuses_nothing.contains(&path.as_str()) {
                let errors: Vec<_> = responses
                    .iter()
                    .filter(|(s, _)| s.starts_with('4'))
                    .collect();
                assert!(!errors.is_empty(), "{method} {path} documents no error");
                for (status, response) in errors {
                    let schema = &response["content"]["application/json"]["schema"]["$ref"];
                    assert_eq!(
                        schema, "#/components/schemas/ErrorBody",
                        "{method} {path} {status}"
                    );
                }
            }
        }
    }
    assert!(operations >= 22, "found {operations} operations");
}

#[tokio::test]
async fn the_server_serves_its_spec_and_an_offline_docs_page() {
    let app = TestApp::spawn().await;
    let served: serde_json::Value = app
        .http
        .get(app.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let checked_in: serde_json::Value = serde_json::from_str(CHECKED_IN).unwrap();
    assert!(
        served == checked_in,
        "the served spec differs from openapi/openapi.json"
    );
    let docs = app.http.get(app.url("/docs/")).send().await.unwrap();
    assert_eq!(docs.status(), StatusCode::OK);
    let html = docs.text().await.unwrap();
    assert!(html.contains("swagger-ui"), "the docs page is Swagger UI");
    // Its assets are served by us, not a CDN.
    let bundle = app
        .http
        .get(app.url("/docs/swagger-ui-bundle.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(bundle.status(), StatusCode::OK);
    assert!(!html.contains("cdn.jsdelivr") && !html.contains("unpkg.com"));
    // Swagger UI posts the document to an external validator when opened
    // under any host name but localhost, unless told not to.
    let initializer = app
        .http
        .get(app.url("/docs/swagger-initializer.js"))
        .header("host", "sansuo.district.example")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let compact: String = initializer.split_whitespace().collect();
    assert!(
        compact.contains(r#""validatorUrl":"none""#),
        "the docs page must not call an external validator: {initializer}"
    );
    // `/docs` without the slash is what people type.
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let bare = no_redirects.get(app.url("/docs")).send().await.unwrap();
    assert_eq!(bare.status(), StatusCode::PERMANENT_REDIRECT);
    assert_eq!(bare.headers()["location"], "/docs/");
}
