//! The fake checks requests like WeChat; exercised over raw HTTP so these
//! tests do not depend on the client under test.

use std::io::{Read, Write};
use std::net::TcpStream;

use std::time::Duration;

use sansuo_wechat_fake::{
    FakeWechat, GETUSERPHONENUMBER_PATH, GETWXACODEUNLIMIT_PATH, MSG_SEC_CHECK_PATH, PNG_MAGIC,
    STABLE_TOKEN_PATH, SUBSCRIBE_SEND_PATH, png_for,
};

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

/// POST a JSON body over HTTP/1.1; returns (head, body bytes).
async fn post(
    base_url: String,
    path_and_query: String,
    body: serde_json::Value,
) -> (String, Vec<u8>) {
    tokio::task::spawn_blocking(move || {
        let addr = base_url.trim_start_matches("http://");
        let mut stream = TcpStream::connect(addr).unwrap();
        let body = body.to_string();
        write!(
            stream,
            "POST {path_and_query} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut response = Vec::new();
        stream.read_to_end(&mut response).unwrap();
        let split = response
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .unwrap();
        (
            String::from_utf8(response[..split].to_vec()).unwrap(),
            response[split + 4..].to_vec(),
        )
    })
    .await
    .unwrap()
}

fn json_bytes(body: &[u8]) -> serde_json::Value {
    serde_json::from_slice(body).unwrap()
}

async fn token(fake: &FakeWechat, force: bool) -> serde_json::Value {
    let (head, body) = post(
        fake.base_url(),
        STABLE_TOKEN_PATH.to_owned(),
        serde_json::json!({
            "grant_type": "client_credential",
            "appid": FakeWechat::APP_ID,
            "secret": FakeWechat::APP_SECRET,
            "force_refresh": force,
        }),
    )
    .await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: application/json"),
        "{head}"
    );
    json_bytes(&body)
}

#[tokio::test]
async fn stable_token_checks_credentials_and_renews_like_wechat() {
    let fake = FakeWechat::start().await;
    let cases = [
        (
            serde_json::json!({"grant_type": "client_credential", "appid": "wx-other", "secret": FakeWechat::APP_SECRET}),
            40013,
        ),
        (
            serde_json::json!({"grant_type": "client_credential", "appid": FakeWechat::APP_ID, "secret": "nope"}),
            40125,
        ),
        (
            serde_json::json!({"grant_type": "authorization_code", "appid": FakeWechat::APP_ID, "secret": FakeWechat::APP_SECRET}),
            40002,
        ),
    ];
    for (body, errcode) in cases {
        let (head, reply) = post(fake.base_url(), STABLE_TOKEN_PATH.to_owned(), body).await;
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        assert_eq!(json_bytes(&reply)["errcode"], errcode);
    }

    let first = token(&fake, false).await;
    assert_eq!(first["access_token"], "fake-token-1");
    assert!((7199..=7200).contains(&first["expires_in"].as_u64().unwrap()));
    // Normal mode: the same token while more than 5 minutes remain.
    fake.age_tokens(Duration::from_secs(3600));
    let again = token(&fake, false).await;
    assert_eq!(again["access_token"], "fake-token-1");
    assert!((3599..=3600).contains(&again["expires_in"].as_u64().unwrap()));
    // In the last 5 minutes: a new token; the old one still works until expiry.
    fake.age_tokens(Duration::from_secs(3400));
    let renewed = token(&fake, false).await;
    assert_eq!(renewed["access_token"], "fake-token-2");
    assert!((7199..=7200).contains(&renewed["expires_in"].as_u64().unwrap()));
    let (_, ok) = check_content(&fake, "fake-token-1").await;
    assert_eq!(json_bytes(&ok)["errcode"], 0);
    // Forced: a new token, the previous one revoked.
    let forced = token(&fake, true).await;
    assert_eq!(forced["access_token"], "fake-token-3");
    let (_, revoked) = check_content(&fake, "fake-token-2").await;
    assert_eq!(json_bytes(&revoked)["errcode"], 40001);
    assert_eq!(fake.current_token().as_deref(), Some("fake-token-3"));
    // Shorter-lived tokens on request.
    fake.set_token_lifetime(Duration::from_secs(60));
    let short = token(&fake, true).await;
    assert_eq!(short["access_token"], "fake-token-4");
    assert!((59..=60).contains(&short["expires_in"].as_u64().unwrap()));
    assert_eq!(fake.stable_token_calls().await, 8);
    assert_eq!(fake.forced_refresh_calls().await, 2);
}

async fn check_content(fake: &FakeWechat, access_token: &str) -> (String, Vec<u8>) {
    post(
        fake.base_url(),
        format!("{MSG_SEC_CHECK_PATH}?access_token={access_token}"),
        serde_json::json!({"version": 2, "openid": "o", "scene": 2, "content": "hello"}),
    )
    .await
}

#[tokio::test]
async fn access_token_is_checked_on_every_call() {
    let fake = FakeWechat::start().await;
    let (_, missing) = post(
        fake.base_url(),
        MSG_SEC_CHECK_PATH.to_owned(),
        serde_json::json!({"version": 2, "openid": "o", "scene": 2, "content": "x"}),
    )
    .await;
    assert_eq!(json_bytes(&missing)["errcode"], 41001);
    let (_, unknown) = check_content(&fake, "made-up").await;
    assert_eq!(json_bytes(&unknown)["errcode"], 40001);

    let token = token(&fake, false).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, ok) = check_content(&fake, &token).await;
    assert_eq!(json_bytes(&ok)["result"]["suggest"], "pass");
    fake.expire_tokens();
    let (_, expired) = check_content(&fake, &token).await;
    assert_eq!(json_bytes(&expired)["errcode"], 42001);
    fake.invalidate_tokens();
    let (_, revoked) = check_content(&fake, &token).await;
    assert_eq!(json_bytes(&revoked)["errcode"], 40001);
    assert_eq!(
        fake.access_tokens_used(MSG_SEC_CHECK_PATH).await,
        [
            "",
            "made-up",
            token.as_str(),
            token.as_str(),
            token.as_str()
        ]
    );
}

#[tokio::test]
async fn scripted_failures_come_in_order_then_stop() {
    let fake = FakeWechat::start().await;
    let token = token(&fake, false).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    fake.fail_next_status(MSG_SEC_CHECK_PATH, 502, 1);
    fake.fail_next(MSG_SEC_CHECK_PATH, -1, 2);

    let (head, _) = check_content(&fake, &token).await;
    assert!(head.starts_with("HTTP/1.1 502"), "{head}");
    for _ in 0..2 {
        let (_, body) = check_content(&fake, &token).await;
        assert_eq!(json_bytes(&body)["errcode"], -1);
    }
    let (_, body) = check_content(&fake, &token).await;
    assert_eq!(json_bytes(&body)["errcode"], 0);
    // Scripted errcodes still need a valid token first.
    fake.fail_next(MSG_SEC_CHECK_PATH, 45011, 1);
    let (_, body) = check_content(&fake, "bad").await;
    assert_eq!(json_bytes(&body)["errcode"], 40001);
    let (_, body) = check_content(&fake, &token).await;
    assert_eq!(json_bytes(&body)["errcode"], 45011);
}

#[tokio::test]
async fn qrcode_is_a_png_or_a_json_error() {
    let fake = FakeWechat::start().await;
    let token = token(&fake, false).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let url = format!("{GETWXACODEUNLIMIT_PATH}?access_token={token}");

    let (head, png) = post(
        fake.base_url(),
        url.clone(),
        serde_json::json!({"scene": "c=1", "page": FakeWechat::HOME_PAGE, "width": 430}),
    )
    .await;
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: image/png"),
        "{head}"
    );
    assert!(png.starts_with(PNG_MAGIC));
    assert_eq!(png, png_for("c=1"));

    for (body, errcode) in [
        (serde_json::json!({"scene": "x".repeat(33)}), 40169),
        (serde_json::json!({"scene": "社区"}), 40097),
        (serde_json::json!({"scene": "c=1", "width": 100}), 40097),
        (
            serde_json::json!({"scene": "c=1", "page": "pages/unknown"}),
            41030,
        ),
    ] {
        let (head, reply) = post(fake.base_url(), url.clone(), body.clone()).await;
        assert!(
            head.to_ascii_lowercase()
                .contains("content-type: application/json"),
            "{head}"
        );
        assert_eq!(json_bytes(&reply)["errcode"], errcode, "{body}");
    }
    let (_, png) = post(
        fake.base_url(),
        url,
        serde_json::json!({"scene": "c=1", "page": "pages/unknown", "check_path": false}),
    )
    .await;
    assert!(png.starts_with(PNG_MAGIC));
    assert_eq!(fake.qrcode_requests().await.len(), 6);
}

#[tokio::test]
async fn subscribe_checks_limits_and_credit() {
    let fake = FakeWechat::start().await;
    let token = token(&fake, false).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let url = format!("{SUBSCRIBE_SEND_PATH}?access_token={token}");
    let send = |thing: String| {
        serde_json::json!({
            "touser": "o1", "template_id": "t1",
            "data": {"thing1": {"value": thing}},
        })
    };
    let (_, body) = post(fake.base_url(), url.clone(), send("法".repeat(21))).await;
    let reply = json_bytes(&body);
    assert_eq!(reply["errcode"], 47003);
    assert!(
        reply["errmsg"]
            .as_str()
            .unwrap()
            .contains("data.thing1.value")
    );

    fake.set_credit("o1", "t1", 1);
    let (_, body) = post(fake.base_url(), url.clone(), send("法".repeat(20))).await;
    assert_eq!(json_bytes(&body)["errcode"], 0);
    let (_, body) = post(fake.base_url(), url, send("ok".to_owned())).await;
    assert_eq!(json_bytes(&body)["errcode"], 43101);
    assert_eq!(fake.subscribe_sends().await.len(), 3);
    assert_eq!(fake.subscribe_delivered().len(), 1);
}

#[tokio::test]
async fn phone_codes_work_once() {
    let fake = FakeWechat::start().await;
    fake.set_phone_number("pc", "13800138000", "86");
    let token = token(&fake, false).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let url = format!("{GETUSERPHONENUMBER_PATH}?access_token={token}");
    let (_, body) = post(
        fake.base_url(),
        url.clone(),
        serde_json::json!({"code": "pc"}),
    )
    .await;
    let reply = json_bytes(&body);
    assert_eq!(reply["phone_info"]["purePhoneNumber"], "13800138000");
    assert_eq!(reply["phone_info"]["countryCode"], "86");
    assert_eq!(
        reply["phone_info"]["watermark"]["appid"],
        FakeWechat::APP_ID
    );
    let (_, body) = post(fake.base_url(), url, serde_json::json!({"code": "pc"})).await;
    assert_eq!(json_bytes(&body)["errcode"], 40029);
}

#[tokio::test]
async fn push_helpers() {
    // Sorted: "1700000000" < "abc" < "tok" -> sha1("1700000000abctok").
    assert_eq!(
        FakeWechat::push_signature("tok", "1700000000", "abc"),
        sha1_smol::Sha1::from("1700000000abctok")
            .digest()
            .to_string()
    );
    let event = FakeWechat::media_check_event("trace-1", "pass", 100);
    assert_eq!(event["Event"], "wxa_media_check");
    assert_eq!(event["trace_id"], "trace-1");
    assert_eq!(event["result"]["suggest"], "pass");
}
