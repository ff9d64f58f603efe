//! SIGTERM to a real `sansuo serve` process in the middle of a burst of
//! submissions: it exits 0, every submission it acknowledged exists, it
//! leaves no job leased, and a second instance routes every one of them.
//!
//! The process is the binary itself (`CARGO_BIN_EXE_sansuo`), configured
//! like the end-to-end harness's server (`TestApp::server_env`), which is
//! the second instance: same database, Redis prefix, secrets and fake
//! WeChat.

use futures::StreamExt;
use reqwest::StatusCode;
use sansuo_tests::views::{ConsultationStatusView, ConsultationView};
use sansuo_tests::{TestApp, eventually_within};
use sansuo_worker::{REBUILD_QUEUE, ROUTING_QUEUE};
use serde_json::json;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use uuid::Uuid;

const BURST: usize = 60;
/// SIGTERM once this many submissions were acknowledged.
const TERM_AFTER: usize = 15;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigterm_mid_burst_loses_nothing_and_leaves_no_lease() {
    let mut app = TestApp::spawn().await;
    // The in-process instance serves reads but runs no worker until the
    // process is gone: what the queue holds then is the process's doing.
    app.app.stop_worker(Duration::from_secs(1)).await;

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let base = format!("http://127.0.0.1:{port}");
    let log_path = std::env::temp_dir().join(format!("sansuo-sigterm-{}.log", Uuid::now_v7()));
    let log = std::fs::File::create(&log_path).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_sansuo"))
        .arg("serve")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(app.server_env())
        .env("SANSUO_BIND", format!("127.0.0.1:{port}"))
        .env("RUST_LOG", "info,sqlx=warn,sea_orm=warn")
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .expect("the sansuo binary starts");
    let pid = child.id();
    let show_log = || std::fs::read_to_string(&log_path).unwrap_or_default();
    eventually_within(120, "the process to be ready", || async {
        let ready = app.http.get(format!("{base}/readyz")).send().await.ok()?;
        (ready.status() == StatusCode::OK).then_some(())
    })
    .await;

    let resident = app.resident_token("burst").await;
    let acknowledged = Arc::new(AtomicUsize::new(0));
    let community = app.demo.community_a.as_uuid();
    let submit = |n: usize| {
        let http = app.http.clone();
        let base = base.clone();
        let resident = resident.clone();
        let acknowledged = acknowledged.clone();
        async move {
            let response = http
                .post(format!("{base}/api/v1/consultations"))
                .bearer_auth(&resident)
                .header("Idempotency-Key", Uuid::now_v7().to_string())
                .json(&json!({
                    "community_id": community,
                    "category_code": "LJ01",
                    "question": format!("第 {n} 个问题：邻居装修噪音扰民怎么办？"),
                }))
                .send()
                .await
                .ok()?;
            if response.status() != StatusCode::CREATED {
                return None;
            }
            let case: ConsultationView = response.json().await.ok()?;
            if acknowledged.fetch_add(1, Ordering::SeqCst) + 1 == TERM_AFTER {
                let sent = Command::new("kill")
                    .args(["-TERM", &pid.to_string()])
                    .status()
                    .expect("kill runs");
                assert!(sent.success());
            }
            Some(case.id)
        }
    };
    let ids: Vec<Uuid> = futures::stream::iter(0..BURST)
        .map(submit)
        .buffer_unordered(4)
        .filter_map(|id| async move { id })
        .collect()
        .await;
    let status = tokio::task::spawn_blocking(move || child.wait())
        .await
        .unwrap()
        .unwrap();
    let log = show_log();
    let _ = std::fs::remove_file(&log_path);
    assert!(status.success(), "exit {status:?}; log:\n{log}");
    assert!(
        ids.len() >= TERM_AFTER,
        "{} acknowledged; log:\n{log}",
        ids.len()
    );
    assert!(
        ids.len() < BURST,
        "the process stopped accepting mid-burst (all {BURST} were acknowledged); log:\n{log}"
    );
    assert!(log.contains("requests drained"), "{log}");
    eprintln!(
        "acknowledged {} of {BURST}; the process said:\n{}",
        ids.len(),
        log.lines()
            .filter(|l| l.contains("drained") || l.contains("stopped"))
            .collect::<Vec<_>>()
            .join("\n")
    );

    // No job leased: whatever the process had taken it finished or gave back.
    for queue in [ROUTING_QUEUE, REBUILD_QUEUE] {
        let stats = app.app.queue.stats(queue).await.unwrap();
        assert_eq!(stats.leased, 0, "{queue}: {stats:?}; log:\n{log}");
    }
    // Every acknowledged submission exists, and the other instance routes
    // every one (well within the 30 s a left lease would hold a job).
    app.app.start_worker();
    for id in &ids {
        let response = app
            .get(&format!("/api/v1/consultations/{id}"), &resident)
            .await;
        assert_eq!(
            response.status(),
            StatusCode::OK,
            "acknowledged {id} is lost"
        );
    }
    eventually_within(20, "every acknowledged case to be routed", || async {
        for id in &ids {
            if app.status_of(&resident, id).await == ConsultationStatusView::Submitted {
                return None;
            }
        }
        Some(())
    })
    .await;
}
