//! `sansuo backup` / `sansuo restore` on the embedded default (issue #14,
//! item 8): back up a running demo, destroy its data directory, restore, and
//! the walk goes on: an anonymous tipper's tracking token still finds the
//! tip and its photo, and an accepted consultation is still answered.

use reqwest::StatusCode;
use sansuo_server::backup::{self, EmbeddedData, MANIFEST, Manifest};
use sansuo_server::config::PhotoStoreSetting;
use sansuo_tests::views::{ConsultationView, TipReceipt, TipView};
use sansuo_tests::{Backend, TestApp, TestOptions, expect_json, expect_status};
use serde_json::json;

const TRACKING: &str = "X-Tracking-Token";

fn data_of(app: &TestApp) -> EmbeddedData {
    let env = app.server_env();
    let url = &env["DATABASE_URL"];
    let photos =
        PhotoStoreSetting::read(env.get("SANSUO_PHOTO_STORE").map(String::as_str), url).unwrap();
    EmbeddedData::from_settings(url, &photos).unwrap()
}

async fn tracked(app: &TestApp, token: &str) -> reqwest::Response {
    app.http
        .get(app.url("/api/v1/tips/tracked"))
        .header(TRACKING, token)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_backed_up_demo_is_destroyed_restored_and_the_walk_goes_on() {
    let root = std::env::temp_dir().join(format!("sansuo-backup-{}", uuid::Uuid::now_v7()));
    let data_dir = root.join("data");
    let backup_dir = root.join("backup");
    // The demo as it starts with nothing set: its data key and its tip key
    // in files beside the SQLite database.
    let options = TestOptions {
        backend: Backend::Embedded,
        data_keys: false,
        tip_key: false,
        sqlite_dir: Some(data_dir.clone()),
        ..TestOptions::default()
    };
    let mut first = TestApp::spawn_with(options.clone()).await;
    let data = data_of(&first);
    assert!(
        data.key_files.iter().all(|k| k.is_file()),
        "the demo keeps both keys in files: {:?}",
        data.key_files
    );

    // An anonymous tip with a photo; its tracking token is all its reporter keeps.
    let resident = first.resident_token("backup").await;
    let tip = json!({
        "community_id": first.demo.community_a.as_uuid(),
        "category_code": "AQ01",
        "description": "3号楼东侧消防通道被电动车和杂物堵死了，晚上有人在楼道充电",
        "location": {"lat": 31.2646, "lng": 121.5052, "address": "3号楼东侧"},
        "anonymous": true,
    });
    let receipt: TipReceipt = expect_json(
        first
            .post_tip_with_photo(&resident, &tip, crate::tips::jpeg_with_gps())
            .await,
        StatusCode::CREATED,
    )
    .await;
    let token = receipt
        .tracking_token
        .clone()
        .expect("an anonymous tip's token");
    let seen: TipView = expect_json(tracked(&first, &token).await, StatusCode::OK).await;
    let photo_id = seen.photos[0].id;
    let photo_path = format!("/api/v1/tips/tracked/photos/{photo_id}");
    let photo = first
        .http
        .get(first.url(&photo_path))
        .header(TRACKING, &token)
        .send()
        .await
        .unwrap();
    assert_eq!(photo.status(), StatusCode::OK);
    let photo = photo.bytes().await.unwrap();

    // A consultation accepted by its lawyer, not yet answered.
    let question = first
        .submit(
            &resident,
            "楼上邻居装修噪音每天持续到晚上十点，我可以怎么维权？",
        )
        .await;
    let zhang = first.staff_token("lawyer.zhang").await;
    let offer = first.wait_for_offer(&zhang, &question.id).await;
    first.accept_offer(&zhang, &offer).await;

    // Backed up while it runs.
    let manifest = backup::backup(&data, &backup_dir).await.unwrap();
    let names: Vec<&str> = manifest.files.iter().map(|f| f.path.as_str()).collect();
    assert!(names.contains(&"sansuo.db"), "{names:?}");
    assert!(
        names.contains(&"keys/sansuo.key") && names.contains(&"keys/sansuo.tip-key"),
        "{names:?}"
    );
    assert!(names.iter().any(|n| n.starts_with("photos/")), "{names:?}");
    let written: Manifest =
        serde_json::from_str(&std::fs::read_to_string(backup_dir.join(MANIFEST)).unwrap()).unwrap();
    assert_eq!(written, manifest);
    assert!(
        written
            .files
            .iter()
            .all(|f| f.sha256.len() == 64 && f.bytes > 0),
        "{written:?}"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&backup_dir), 0o700);
        assert_eq!(mode(&backup_dir.join("keys/sansuo.tip-key")), 0o600);
    }
    // A second backup into the same directory is refused.
    let again = backup::backup(&data, &backup_dir)
        .await
        .unwrap_err()
        .to_string();
    assert!(again.contains("not empty"), "{again}");
    // A restore over the running instance's data is refused without --force.
    let over = backup::restore(&data, &backup_dir, false)
        .unwrap_err()
        .to_string();
    assert!(over.contains("--force"), "{over}");

    // The server goes, and its whole data directory with it.
    first.app.stop().await;
    drop(first);
    std::fs::remove_dir_all(&data_dir).unwrap();

    // A damaged backup is refused before anything is written.
    let tip_key_copy = backup_dir.join("keys/sansuo.tip-key");
    let original_key = std::fs::read(&tip_key_copy).unwrap();
    std::fs::write(
        &tip_key_copy,
        b"0000000000000000000000000000000000000000000000000000000000000000\n",
    )
    .unwrap();
    let damaged = backup::restore(&data, &backup_dir, false)
        .unwrap_err()
        .to_string();
    assert!(damaged.contains("keys/sansuo.tip-key"), "{damaged}");
    assert!(
        !data.database.exists(),
        "nothing restored from a damaged backup"
    );
    std::fs::write(&tip_key_copy, &original_key).unwrap();

    backup::restore(&data, &backup_dir, false).unwrap();
    let second = TestApp::spawn_with(options).await;

    // The anonymous tipper's token still finds the tip and its photo.
    let seen: TipView = expect_json(tracked(&second, &token).await, StatusCode::OK).await;
    assert_eq!(seen.id, receipt.tip.id);
    let served = second
        .http
        .get(second.url(&photo_path))
        .header(TRACKING, &token)
        .send()
        .await
        .unwrap();
    assert_eq!(served.status(), StatusCode::OK);
    assert_eq!(served.bytes().await.unwrap(), photo);

    // The lawyer answers the consultation accepted before the backup.
    let zhang = second.staff_token("lawyer.zhang").await;
    let answered: ConsultationView = expect_json(
        second
            .post(
                &format!("/api/v1/staff/consultations/{}/messages", question.id),
                &zhang,
                json!({"body": "根据《民法典》第二百九十四条，可先与物业沟通，再申请居委调解。"}),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(answered.id, question.id);
    expect_status(tracked(&second, &token).await, StatusCode::OK).await;
    drop(second);
    std::fs::remove_dir_all(&root).unwrap();
}
