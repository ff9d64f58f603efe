//! `sansuo migrate` and `sansuo admin create` on an empty database, run as
//! an operator would: the real binary, an environment holding nothing but
//! `DATABASE_URL` (no JWT secret, no WeChat credentials), on the embedded
//! default and on PostgreSQL.

use sansuo_api::auth::verify_password;
use sansuo_store::Store;
use sansuo_store::sea_orm::{ConnectionTrait, Database};
use std::io::Write;
use std::process::{Command, Output, Stdio};

fn sansuo(database_url: &str, args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_sansuo"))
        .args(args)
        .env_clear()
        .env("DATABASE_URL", database_url)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the sansuo binary runs");
    let mut input = child.stdin.take().unwrap();
    if let Some(text) = stdin {
        input.write_all(text.as_bytes()).unwrap();
    }
    drop(input);
    child.wait_with_output().unwrap()
}

fn text(output: &Output) -> String {
    format!(
        "status {:?}\nstdout: {}\nstderr: {}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

async fn walk_the_bootstrap(database_url: &str) {
    let migrated = sansuo(database_url, &["migrate"], None);
    assert!(migrated.status.success(), "{}", text(&migrated));

    let create = |username: &str, stdin: Option<&str>| {
        let mut args = vec![
            "admin",
            "create",
            "--username",
            username,
            "--display-name",
            "区管理员",
            "--district",
            "虹口区",
        ];
        if stdin.is_some() {
            args.push("--password-stdin");
        }
        sansuo(database_url, &args, stdin)
    };

    let first = create("Root.Admin", Some("correct horse battery\n"));
    assert!(first.status.success(), "{}", text(&first));
    let out = String::from_utf8_lossy(&first.stdout).to_string();
    assert!(
        out.contains("`root.admin` created") && out.contains("(new)"),
        "{out}"
    );
    assert!(
        !out.contains("correct horse"),
        "a typed password is never echoed: {out}"
    );

    // The same name again: refused, nothing changes, the message says why.
    let again = create("root.admin", Some("another password here\n"));
    assert!(!again.status.success(), "{}", text(&again));
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("is taken"),
        "{}",
        text(&again)
    );

    // A short password is refused before anything is written.
    let weak = create("second.admin", Some("short\n"));
    assert!(!weak.status.success());
    assert!(
        String::from_utf8_lossy(&weak.stderr).contains("password"),
        "{}",
        text(&weak)
    );

    // No password given: one is generated and shown once, the district reused.
    let generated = create("second.admin", None);
    assert!(generated.status.success(), "{}", text(&generated));
    let out = String::from_utf8_lossy(&generated.stdout).to_string();
    assert!(out.contains("(existing)"), "{out}");
    let shown = out
        .lines()
        .find_map(|l| l.strip_prefix("password (shown once, change it after the first login): "))
        .expect("the generated password is printed")
        .trim()
        .to_owned();

    let store = Store::connect(database_url, 2).await.unwrap();
    let root = store
        .identity()
        .staff_by_username("root.admin")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(root.role, sansuo_domain::StaffRole::Admin);
    assert!(root.active);
    assert!(verify_password(
        "correct horse battery",
        &root.password_hash
    ));
    let second = store
        .identity()
        .staff_by_username("second.admin")
        .await
        .unwrap()
        .unwrap();
    assert!(verify_password(&shown, &second.password_hash));
    assert_eq!(
        root.org_unit_id, second.org_unit_id,
        "one district, reused by name"
    );
    assert!(!second.password_hash.contains(&shown));
    assert!(
        store
            .identity()
            .staff_by_username("second.admin.x")
            .await
            .unwrap()
            .is_none(),
        "the refused attempts wrote nothing"
    );
}

#[tokio::test]
async fn an_empty_sqlite_database_gets_its_first_administrator() {
    let dir = std::env::temp_dir().join(format!("sansuo-admin-cli-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.join("sansuo.db").display());
    walk_the_bootstrap(&url).await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn an_empty_postgresql_database_gets_its_first_administrator() {
    let admin_url = std::env::var("SANSUO_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let name = format!("sansuo_admin_cli_{}", uuid::Uuid::now_v7().simple());
    let admin = Database::connect(&admin_url)
        .await
        .expect("PostgreSQL answers");
    admin
        .execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await
        .unwrap();
    let url = match admin_url.rfind('/') {
        Some(slash) => format!("{}/{name}", &admin_url[..slash]),
        None => unreachable!("a database URL has a path"),
    };
    walk_the_bootstrap(&url).await;
    let _ = admin
        .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .await;
}

/// `sansuo purge --dry-run` (docs/retention.md): needs only DATABASE_URL,
/// prints its report as JSON; a bad retention period is named and nothing
/// runs.
#[test]
fn purge_dry_run_reports_and_a_bad_period_is_named() {
    let dir = std::env::temp_dir().join(format!("sansuo-purge-cli-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.join("sansuo.db").display());
    let dry = sansuo(&url, &["purge", "--dry-run"], None);
    assert!(dry.status.success(), "{}", text(&dry));
    let report: serde_json::Value = serde_json::from_slice(&dry.stdout).expect("JSON");
    assert_eq!(report["dry_run"], true, "{report}");
    assert_eq!(report["purged_cases"], 0, "{report}");
    let bad = Command::new(env!("CARGO_BIN_EXE_sansuo"))
        .args(["purge"])
        .env_clear()
        .env("DATABASE_URL", &url)
        .env("SANSUO_RETENTION_PHOTO_DAYS", "soon")
        .output()
        .unwrap();
    assert!(!bad.status.success(), "{}", text(&bad));
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("SANSUO_RETENTION_PHOTO_DAYS=`soon`"),
        "{}",
        text(&bad)
    );
    let _ = std::fs::remove_dir_all(&dir);
}
