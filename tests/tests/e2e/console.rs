//! The staff console (issue 17) as the binary serves it: `/console/` and a
//! deep link of the app's router answer `index.html` with the HTML
//! Content-Security-Policy and `no-store`; a hashed asset is cached for a
//! year; a missing asset is a 404, not the app. (The console's own flows
//! are tested in a browser by scripts/console-e2e.sh.)

use reqwest::StatusCode;
use reqwest::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE};
use sansuo_tests::TestApp;

fn header(response: &reqwest::Response, name: reqwest::header::HeaderName) -> &str {
    response
        .headers()
        .get(&name)
        .unwrap_or_else(|| panic!("no {name} header"))
        .to_str()
        .unwrap()
}

async fn index(app: &TestApp, path: &str) -> String {
    let response = app.http.get(app.url(path)).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK, "{path}");
    assert!(
        header(&response, CONTENT_TYPE).starts_with("text/html"),
        "{path}"
    );
    assert_eq!(
        header(&response, CONTENT_SECURITY_POLICY),
        sansuo_api::middleware::HTML_CSP,
        "{path}"
    );
    assert_eq!(header(&response, CACHE_CONTROL), "no-store", "{path}");
    let body = response.text().await.unwrap();
    assert!(body.contains("<div id=\"app\">"), "{path}: {body}");
    body
}

#[tokio::test]
async fn the_console_is_served_with_its_headers() {
    let app = TestApp::spawn_embedded().await;

    let body = index(&app, "/console/").await;
    // A deep link (the router's path) is the same page; so is `/console`
    // after its redirect.
    assert_eq!(
        index(&app, "/console/tips/0190d6c0-0000-7000-8000-000000000000").await,
        body
    );
    assert_eq!(index(&app, "/console/login").await, body);
    assert_eq!(index(&app, "/console").await, body);

    // No inline script: the CSP would refuse it.
    for tag in body.split("<script").skip(1) {
        let open = tag.split('>').next().unwrap();
        assert!(
            open.contains("src=\"/console/assets/"),
            "an inline script: {open}"
        );
    }

    // The entry script, by its hashed name: cached for a year.
    let script = body
        .split("src=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the entry script");
    let response = app.http.get(app.url(script)).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        header(&response, CACHE_CONTROL),
        "public, max-age=31536000, immutable"
    );
    assert!(header(&response, CONTENT_TYPE).contains("javascript"));
    assert_eq!(
        header(&response, "x-content-type-options".parse().unwrap()),
        "nosniff"
    );

    // A missing asset is a 404, never the app.
    let response = app
        .http
        .get(app.url("/console/assets/nothing-here.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);

    // The API is untouched.
    let response = app.http.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}

/// The likely duplicates the console shows beside a tip
/// (`GET /staff/tips/{id}/similar`): other open tips of its category
/// within 500 m, never itself nor another category; none for a tip
/// without a location; staff only.
#[tokio::test]
async fn a_tip_lists_its_likely_duplicates() {
    use serde_json::{Value, json};
    let app = TestApp::spawn_embedded().await;
    let first = app.resident_token("console-dup-a").await;
    let second = app.resident_token("console-dup-b").await;
    let community = app.demo.community_a.as_uuid();
    let here = json!({"lat": 31.2646, "lng": 121.5052, "address": "3号楼东侧"});
    let report = |token: String, category: &'static str, location: Value| {
        let app = &app;
        async move {
            let response = app
                .http
                .post(app.url("/api/v1/tips"))
                .bearer_auth(&token)
                .header("Idempotency-Key", uuid::Uuid::now_v7().to_string())
                .json(&json!({
                    "community_id": community,
                    "category_code": category,
                    "description": "3号楼东侧消防通道被电动车和杂物堵死了",
                    "location": location,
                }))
                .send()
                .await
                .unwrap();
            let receipt: Value = sansuo_tests::expect_json(response, StatusCode::CREATED).await;
            receipt["tip"]["id"].as_str().unwrap().to_owned()
        }
    };
    let earlier = report(first.clone(), "AQ01", here.clone()).await;
    let other_category = report(first.clone(), "AQ02", here.clone()).await;
    let later = report(second.clone(), "AQ01", here.clone()).await;
    let nowhere = report(second.clone(), "AQ01", Value::Null).await;

    let admin = app.staff_token("admin").await;
    let similar: Vec<Value> = app
        .get_as(&format!("/api/v1/staff/tips/{later}/similar"), &admin)
        .await;
    let ids: Vec<&str> = similar.iter().map(|s| s["id"].as_str().unwrap()).collect();
    assert_eq!(ids, vec![earlier.as_str()], "{similar:?}");
    assert!(!ids.contains(&other_category.as_str()));
    assert_eq!(similar[0]["category_code"], "AQ01");

    let none: Vec<Value> = app
        .get_as(&format!("/api/v1/staff/tips/{nowhere}/similar"), &admin)
        .await;
    assert!(none.is_empty(), "{none:?}");

    // Residents have no staff view of tips.
    let response = app
        .get(&format!("/api/v1/staff/tips/{later}/similar"), &first)
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
}
