//! The fake checks requests like WeChat; exercised over raw HTTP so these
//! tests do not depend on the client under test.

use std::io::{Read, Write};
use std::net::TcpStream;

use sansuo_wechat_fake::FakeWechat;

/// GET `path_and_query` over HTTP/1.1; returns (head, body).
async fn get(base_url: String, path_and_query: String) -> (String, String) {
    tokio::task::spawn_blocking(move || {
        let addr = base_url.trim_start_matches("http://");
        let mut stream = TcpStream::connect(addr).unwrap();
        write!(
            stream,
            "GET {path_and_query} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        let (head, body) = response.split_once("\r\n\r\n").unwrap();
        (head.to_owned(), body.to_owned())
    })
    .await
    .unwrap()
}

fn query(appid: &str, secret: &str, code: &str, grant_type: &str) -> String {
    format!(
        "/sns/jscode2session?appid={appid}&secret={secret}&js_code={code}&grant_type={grant_type}"
    )
}

fn json(body: &str) -> serde_json::Value {
    serde_json::from_str(body).unwrap()
}

#[tokio::test]
async fn checks_credentials_grant_type_and_code() {
    let fake = FakeWechat::start().await;
    fake.accept_code("good", "openid-1").await;
    let (id, secret) = (FakeWechat::APP_ID, FakeWechat::APP_SECRET);

    let (head, body) = get(
        fake.base_url(),
        query(id, secret, "good", "authorization_code"),
    )
    .await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: text/plain"),
        "{head}"
    );
    let body = json(&body);
    assert_eq!(body["openid"], "openid-1");
    assert_eq!(body["session_key"].as_str().unwrap().len(), 24);
    assert!(body.get("unionid").is_none());
    assert!(body.get("errcode").is_none());

    let cases = [
        (
            query("wx-other", secret, "good", "authorization_code"),
            40013,
        ),
        (query(id, "wrong", "good", "authorization_code"), 40125),
        (query(id, secret, "good", "client_credential"), 40002),
        (query(id, secret, "", "authorization_code"), 41008),
        (query(id, secret, "unknown", "authorization_code"), 40029),
    ];
    for (q, errcode) in cases {
        let (head, body) = get(fake.base_url(), q.clone()).await;
        assert!(head.starts_with("HTTP/1.1 200"), "{q}: {head}");
        assert_eq!(json(&body)["errcode"], errcode, "{q}");
    }
    assert_eq!(fake.code2session_calls().await, 6);
}

#[tokio::test]
async fn fail_code_and_single_use_codes() {
    let fake = FakeWechat::start().await;
    fake.fail_code("busy", -1).await;
    fake.accept_code_once("once", "openid-2").await;
    let (id, secret) = (FakeWechat::APP_ID, FakeWechat::APP_SECRET);

    let (_, body) = get(
        fake.base_url(),
        query(id, secret, "busy", "authorization_code"),
    )
    .await;
    assert_eq!(json(&body)["errcode"], -1);

    let (_, first) = get(
        fake.base_url(),
        query(id, secret, "once", "authorization_code"),
    )
    .await;
    assert_eq!(json(&first)["openid"], "openid-2");
    let (_, second) = get(
        fake.base_url(),
        query(id, secret, "once", "authorization_code"),
    )
    .await;
    assert_eq!(json(&second)["errcode"], 40163);
}

#[tokio::test]
async fn session_keys_differ_between_calls() {
    let fake = FakeWechat::start().await;
    fake.accept_code("c", "o").await;
    let q = query(
        FakeWechat::APP_ID,
        FakeWechat::APP_SECRET,
        "c",
        "authorization_code",
    );
    let (_, a) = get(fake.base_url(), q.clone()).await;
    let (_, b) = get(fake.base_url(), q).await;
    assert_ne!(json(&a)["session_key"], json(&b)["session_key"]);
}
