//! The fake WeChat as a process, so the README's production walk can be
//! tried on loopback where WeChat is unreachable:
//!
//! ```sh
//! sansuo-wechat-fake --accept walk-code=o-walk-resident
//! # prints: base_url http://127.0.0.1:PORT  (for SANSUO_WECHAT_BASE_URL)
//! ```
//!
//! It accepts the app id `wx-test-app` with the secret `test-app-secret`,
//! each `--accept CODE=OPENID` as a `wx.login()` code (usable any number of
//! times), and runs until interrupted or terminated. Never point a
//! production server at it.

use sansuo_wechat_fake::FakeWechat;

#[tokio::main]
async fn main() {
    let mut accepted = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let pair = match arg.as_str() {
            "--accept" => args.next(),
            _ => None,
        };
        match pair.as_deref().and_then(|p| p.split_once('=')) {
            Some((code, openid)) if !code.is_empty() && !openid.is_empty() => {
                accepted.push((code.to_owned(), openid.to_owned()));
            }
            _ => {
                eprintln!("usage: sansuo-wechat-fake [--accept CODE=OPENID]...");
                std::process::exit(2);
            }
        }
    }
    let fake = FakeWechat::start().await;
    for (code, openid) in &accepted {
        fake.accept_code(code, openid).await;
    }
    println!("base_url {}", fake.base_url());
    println!("app_id {}", FakeWechat::APP_ID);
    println!("app_secret {}", FakeWechat::APP_SECRET);

    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("a SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate.recv() => {}
    }
}
