//! The end-to-end test harness: [`TestApp::spawn`] starts the real server
//! (the same `Application` the binary runs) on port 0 against a fresh
//! PostgreSQL database and its own Redis key prefix, with a fake WeChat
//! server, and seeds the demo district. Tests talk to it over HTTP only,
//! except where they check the database directly.
//!
//! PostgreSQL and Redis are found at `SANSUO_TEST_DATABASE_URL`
//! (default `postgres://postgres@127.0.0.1:5432/postgres`, used to create
//! and drop the per-test databases) and `SANSUO_TEST_REDIS_URL` (default
//! `redis://127.0.0.1:6379`).

use reqwest::{Response, StatusCode};
use sansuo_api::ErrorBody;
use sansuo_api::views::{
    ConsultationStatusView, ConsultationView, OfferList, OfferView, StaffCaseView, TokenResponse,
};
use sansuo_server::app::RunningApplication;
use sansuo_server::seed::{DemoDistrict, seed_demo, seed_fixture};
use sansuo_server::{Application, Config};
use sansuo_wechat_fake::FakeWechat;
use sea_orm::{ConnectionTrait, Database};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::future::Future;
use std::time::{Duration, Instant};
use uuid::Uuid;

/// The API's response types, to read bodies as what the server wrote.
pub use sansuo_api::views;
pub use sansuo_server::seed::DEMO_PASSWORD;

/// A second street, built through the admin API, for scope tests.
pub mod world;

/// The data key of every test server (base64 of 32 bytes of 0x07).
pub const TEST_DATA_KEY: &str = "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=";

/// A fresh, empty PostgreSQL database; returns its URL and name.
pub async fn create_database() -> (String, String) {
    let database = format!("sansuo_test_{}", Uuid::now_v7().simple());
    let admin = Database::connect(admin_database_url())
        .await
        .expect("PostgreSQL is reachable (see .ci/run)");
    admin
        .execute_unprepared(&format!("CREATE DATABASE \"{database}\""))
        .await
        .expect("create test database");
    admin.close().await.ok();
    (replace_database(&admin_database_url(), &database), database)
}

pub async fn drop_database(database: &str) {
    if let Ok(admin) = Database::connect(admin_database_url()).await {
        let _ = admin
            .execute_unprepared(&format!(
                "DROP DATABASE IF EXISTS \"{database}\" WITH (FORCE)"
            ))
            .await;
        let _ = admin.close().await;
    }
}

pub fn admin_database_url() -> String {
    std::env::var("SANSUO_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

pub fn redis_url() -> String {
    std::env::var("SANSUO_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// PostgreSQL + Redis: production.
    Production,
    /// SQLite file + in-process queue: the embedded default.
    Embedded,
}

#[derive(Debug, Clone)]
pub struct TestOptions {
    pub backend: Backend,
    pub offer_timeout_secs: u64,
    pub reconcile_secs: u64,
    /// A Redis of the test's own (see [`PrivateRedis`]) instead of the shared one.
    pub redis_url: Option<String>,
    /// Configure WeChat credentials (pointing at the fake). Without them the
    /// server runs as the demo does (`--demo`): no WeChat calls at all.
    pub wechat: bool,
    /// Further configuration, as environment variables.
    pub env: Vec<(&'static str, String)>,
    /// Set `SANSUO_DATA_KEYS` (a fixed test key). Without it a demo-mode
    /// server keeps its key in a file beside its database.
    pub data_keys: bool,
    /// Set `SANSUO_TIP_KEY` (a fresh random key). Without it a demo-mode
    /// server keeps its tip key in a file beside its database.
    pub tip_key: bool,
    /// Embedded backend: use this directory for the SQLite file and keep it
    /// when the test app is dropped (to start a second server on the same
    /// data); the test removes it. A fresh temporary directory otherwise.
    pub sqlite_dir: Option<std::path::PathBuf>,
}

impl Default for TestOptions {
    fn default() -> Self {
        Self {
            backend: Backend::Production,
            offer_timeout_secs: 600,
            reconcile_secs: 3600,
            redis_url: None,
            wechat: true,
            env: Vec::new(),
            data_keys: true,
            tip_key: true,
            sqlite_dir: None,
        }
    }
}

/// A Redis server of one test's own, on a free port, so the test can stop
/// and restart it (the shared one must stay up for the other tests). Like
/// production Redis it keeps nothing on disk: a restart loses everything.
pub struct PrivateRedis {
    port: u16,
    child: Option<std::process::Child>,
}

impl PrivateRedis {
    pub async fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut redis = PrivateRedis { port, child: None };
        redis.restart().await;
        redis
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// SIGSTOP: the server keeps its connections open and answers nothing,
    /// as a Redis host that hangs (or whose network drops packets) does.
    pub fn freeze(&self) {
        self.signal("-STOP");
    }

    /// SIGCONT after [`PrivateRedis::freeze`].
    pub fn thaw(&self) {
        self.signal("-CONT");
    }

    fn signal(&self, signal: &str) {
        let child = self.child.as_ref().expect("the private Redis is running");
        let status = std::process::Command::new("kill")
            .args([signal, &child.id().to_string()])
            .status()
            .expect("kill(1)");
        assert!(status.success(), "kill {signal} {}", child.id());
    }

    /// Start it again on the same port, empty.
    pub async fn restart(&mut self) {
        self.stop();
        let child = std::process::Command::new("redis-server")
            .args([
                "--port",
                &self.port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("redis-server is installed (see .ci/run)");
        self.child = Some(child);
        let client = redis::Client::open(self.url()).unwrap();
        eventually("the private Redis to answer", || async {
            let mut conn = client.get_multiplexed_async_connection().await.ok()?;
            redis::cmd("PING")
                .query_async::<String>(&mut conn)
                .await
                .ok()
        })
        .await;
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Where this test's data lives; removed when the test ends.
enum Sandbox {
    Postgres { database: String },
    Sqlite { dir: std::path::PathBuf },
}

pub struct TestApp {
    pub base_url: String,
    pub http: reqwest::Client,
    pub app: RunningApplication,
    pub wechat: FakeWechat,
    pub demo: DemoDistrict,
    /// The Redis key prefix of this test (production backend).
    pub redis_prefix: String,
    sandbox: Sandbox,
    config: Config,
    vars: HashMap<String, String>,
}

impl TestApp {
    /// Production stack: PostgreSQL + Redis.
    pub async fn spawn() -> Self {
        Self::spawn_with(TestOptions::default()).await
    }

    pub async fn spawn_with(options: TestOptions) -> Self {
        let wechat = FakeWechat::start().await;
        let test_id = Uuid::now_v7().simple().to_string();
        let redis_prefix = format!("test:{test_id}:");
        let (sandbox, database_url, redis, photo_dir) = match options.backend {
            Backend::Production => {
                let (url, database) = create_database().await;
                (
                    Sandbox::Postgres { database },
                    url,
                    Some(options.redis_url.clone().unwrap_or_else(redis_url)),
                    None,
                )
            }
            Backend::Embedded => {
                let (dir, sandbox_dir) = match &options.sqlite_dir {
                    // Kept: the test starts another server on it, then removes it.
                    Some(dir) => (dir.clone(), std::path::PathBuf::new()),
                    None => {
                        let dir = std::env::temp_dir().join(format!("sansuo-test-{test_id}"));
                        (dir.clone(), dir)
                    }
                };
                std::fs::create_dir_all(&dir).expect("temp dir");
                let url = format!("sqlite://{}?mode=rwc", dir.join("sansuo.db").display());
                // The embedded default keeps photos in ./sansuo-photos; a
                // test keeps them in its own directory, removed with it.
                let photos = format!("dir:{}", dir.join("photos").display());
                (
                    Sandbox::Sqlite { dir: sandbox_dir },
                    url,
                    None,
                    Some(photos),
                )
            }
        };
        let mut vars: HashMap<String, String> = HashMap::from([
            ("SANSUO_BIND".into(), "127.0.0.1:0".into()),
            ("DATABASE_URL".into(), database_url),
            ("SANSUO_DB_MAX_CONNECTIONS".into(), "10".into()),
            ("SANSUO_REDIS_PREFIX".into(), redis_prefix.clone()),
            (
                "SANSUO_JWT_SECRET".into(),
                format!("test-secret-{}", Uuid::now_v7()),
            ),
            (
                "SANSUO_TIP_KEY".into(),
                format!("test-tip-key-{}", Uuid::new_v4()),
            ),
            ("SANSUO_WECHAT_APP_ID".into(), FakeWechat::APP_ID.into()),
            (
                "SANSUO_WECHAT_APP_SECRET".into(),
                FakeWechat::APP_SECRET.into(),
            ),
            ("SANSUO_WECHAT_BASE_URL".into(), wechat.base_url()),
            ("SANSUO_WECHAT_TIMEOUT_MS".into(), "2000".into()),
            (
                "SANSUO_OFFER_TIMEOUT_SECS".into(),
                options.offer_timeout_secs.to_string(),
            ),
            (
                "SANSUO_RECONCILE_SECS".into(),
                options.reconcile_secs.to_string(),
            ),
            ("SANSUO_DATA_KEYS".into(), format!("k1:{TEST_DATA_KEY}")),
            // Engine tests submit a few dozen consultations from one
            // resident; the write limits' own tests set this to "" (the
            // defaults of `domain::limits`).
            ("SANSUO_RATE_LIMITS".into(), "ask_question=1000/3600".into()),
            // Tests that call every operation (the matrix, the contract)
            // read each answer whole: a staff event stream ends after a
            // second. The stream's own tests set it longer.
            ("SANSUO_STAFF_STREAM_MAX_SECS".into(), "1".into()),
        ]);
        if let Some(redis) = redis {
            vars.insert("REDIS_URL".into(), redis);
            // Production sets its receipt key; without it the server would
            // keep one in a file in the working directory.
            let mut seed = Uuid::new_v4().as_bytes().to_vec();
            seed.extend_from_slice(Uuid::new_v4().as_bytes());
            vars.insert(
                "SANSUO_RECEIPT_KEY".into(),
                base64::Engine::encode(&base64::engine::general_purpose::STANDARD, seed),
            );
        }
        if let Some(photos) = photo_dir {
            vars.insert("SANSUO_PHOTO_STORE".into(), photos);
        }
        if !options.data_keys {
            vars.remove("SANSUO_DATA_KEYS");
        }
        if !options.tip_key {
            vars.remove("SANSUO_TIP_KEY");
        }
        for (name, value) in &options.env {
            vars.insert((*name).to_owned(), value.clone());
        }
        if !options.wechat {
            for name in [
                "SANSUO_WECHAT_APP_ID",
                "SANSUO_WECHAT_APP_SECRET",
                "SANSUO_WECHAT_BASE_URL",
            ] {
                vars.remove(name);
            }
        }
        let demo_login = options.backend == Backend::Embedded || !options.wechat;
        let config = Config::from_vars(&vars, demo_login).expect("test configuration is valid");
        let application = Application::build(config.clone())
            .await
            .expect("the application starts");
        // A demo-mode server gets the demo (its accounts marked as the
        // demo's); a production-mode one the same district as a fixture.
        let demo = if demo_login {
            seed_demo(&application.store, false).await
        } else {
            seed_fixture(&application.store).await
        }
        .expect("seed the demo district");
        let app = application.spawn();
        let base_url = format!("http://127.0.0.1:{}", app.port);
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap();
        TestApp {
            base_url,
            http,
            app,
            wechat,
            demo,
            redis_prefix,
            sandbox,
            config,
            vars,
        }
    }

    pub async fn spawn_embedded() -> Self {
        Self::spawn_with(TestOptions {
            backend: Backend::Embedded,
            ..TestOptions::default()
        })
        .await
    }

    /// Another server instance on the same database and Redis (several
    /// instances behind a load balancer). It shares this test's sandbox.
    pub async fn spawn_sibling(&self) -> RunningApplication {
        let mut config = self.config.clone();
        config.bind = "127.0.0.1:0".parse().unwrap();
        Application::build(config)
            .await
            .expect("sibling starts")
            .spawn()
    }

    /// The environment this server was configured from: another instance
    /// started as a process (`sansuo serve`) with it shares this test's
    /// database, Redis prefix, secrets and fake WeChat.
    pub fn server_env(&self) -> HashMap<String, String> {
        self.vars.clone()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base_url, path)
    }

    /// Log a resident in through the fake WeChat server.
    pub async fn resident_token(&self, name: &str) -> String {
        let code = format!("code-{name}-{}", Uuid::now_v7().simple());
        self.wechat
            .accept_code(&code, &format!("openid-{name}"))
            .await;
        let response = self
            .http
            .post(self.url("/api/v1/auth/wechat"))
            .json(&json!({ "code": code }))
            .send()
            .await
            .unwrap();
        expect_json::<TokenResponse>(response, StatusCode::OK)
            .await
            .access_token
    }

    pub async fn staff_token(&self, username: &str) -> String {
        let response = self
            .http
            .post(self.url("/api/v1/auth/staff"))
            .json(&json!({ "username": username, "password": DEMO_PASSWORD }))
            .send()
            .await
            .unwrap();
        expect_json::<TokenResponse>(response, StatusCode::OK)
            .await
            .access_token
    }

    pub async fn get(&self, path: &str, token: &str) -> Response {
        self.http
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> Response {
        self.http
            .post(self.url(path))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    pub async fn put(&self, path: &str, token: &str, body: Value) -> Response {
        self.http
            .put(self.url(path))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    pub async fn patch(&self, path: &str, token: &str, body: Value) -> Response {
        self.http
            .patch(self.url(path))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    pub async fn delete(&self, path: &str, token: &str) -> Response {
        self.http
            .delete(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }

    /// GET `path`, expect 200 and read the body as `T`.
    pub async fn get_as<T: DeserializeOwned>(&self, path: &str, token: &str) -> T {
        expect_json(self.get(path, token).await, StatusCode::OK).await
    }

    /// POST `body` to `path`, expect 200 and read the answer as `T`.
    pub async fn post_as<T: DeserializeOwned>(&self, path: &str, token: &str, body: Value) -> T {
        expect_json(self.post(path, token, body).await, StatusCode::OK).await
    }

    /// Submit a consultation to community A (signed lawyer: lawyer.zhang).
    pub async fn submit(&self, resident: &str, question: &str) -> ConsultationView {
        let body = json!({ "community_id": self.demo.community_a.as_uuid(), "category_code": "LJ01", "question": question });
        let response = self
            .http
            .post(self.url("/api/v1/consultations"))
            .bearer_auth(resident)
            .header("Idempotency-Key", Uuid::now_v7().to_string())
            .json(&body)
            .send()
            .await
            .unwrap();
        expect_json(response, StatusCode::CREATED).await
    }

    /// Post a tip (its JSON body) with one photo to `/tips/with-photos`, as
    /// the mini-program sends it: one multipart request.
    pub async fn post_tip_with_photo(
        &self,
        resident: &str,
        tip: &serde_json::Value,
        photo: Vec<u8>,
    ) -> reqwest::Response {
        let form = reqwest::multipart::Form::new()
            .text("tip", tip.to_string())
            .part(
                "photo",
                reqwest::multipart::Part::bytes(photo).file_name("p.jpg"),
            );
        self.http
            .post(self.url("/api/v1/tips/with-photos"))
            .bearer_auth(resident)
            .multipart(form)
            .send()
            .await
            .unwrap()
    }

    /// The pending offer for `case_id` shown to this lawyer, waiting for the router.
    pub async fn wait_for_offer(&self, lawyer: &str, case_id: &Uuid) -> OfferView {
        eventually("an offer to appear", || async {
            let offers: OfferList = self.get_as("/api/v1/staff/offers", lawyer).await;
            offers.items.into_iter().find(|o| o.case_id == *case_id)
        })
        .await
    }

    /// Accept an offer as `lawyer`; returns the case as the lawyer now sees it.
    pub async fn accept_offer(&self, lawyer: &str, offer: &OfferView) -> StaffCaseView {
        let path = format!("/api/v1/staff/offers/{}/accept", offer.id);
        self.post_as(&path, lawyer, json!({})).await
    }

    /// Set a staff member's presence through the API (`available`, `away`, `off_duty`).
    pub async fn set_presence(&self, username: &str, presence: &str) {
        let token = self.staff_token(username).await;
        let response = self
            .http
            .put(self.url("/api/v1/staff/me/presence"))
            .bearer_auth(&token)
            .json(&json!({ "presence": presence }))
            .send()
            .await
            .unwrap();
        expect_status(response, StatusCode::OK).await;
    }

    /// Everyone in the street's lawyer pool but zhang (community A's signed
    /// lawyer) steps away: cases that reach the pool wait there to be
    /// claimed instead of being offered to one of them.
    pub async fn pool_lawyers_away(&self) {
        for lawyer in ["lawyer.li", "lawyer.wang", "lawyer.zhao"] {
            self.set_presence(lawyer, "away").await;
        }
    }

    /// The status of a case as its resident sees it.
    pub async fn status_of(&self, resident: &str, case_id: &Uuid) -> ConsultationStatusView {
        self.get_as::<ConsultationView>(&format!("/api/v1/consultations/{case_id}"), resident)
            .await
            .status
    }

    pub async fn wait_for_status(
        &self,
        resident: &str,
        case_id: &Uuid,
        status: ConsultationStatusView,
    ) {
        eventually(&format!("case {case_id} to become {status:?}"), || async {
            (self.status_of(resident, case_id).await == status).then_some(())
        })
        .await
    }

    /// Every staff member's load counter (`staff.load`) equals what it
    /// stands for, counted: owned cases not finished plus pending offers.
    /// One statement, so one snapshot: the counter changes in the same
    /// transactions as what it counts, so they agree at any moment, even
    /// with the router still at work.
    pub async fn assert_staff_loads_counted(&self) {
        let db = self.app.store.db();
        let finished = sansuo_domain::work_order::FINISHED_STATUSES
            .map(|s| format!("'{s}'"))
            .join(", ");
        let sql = format!(
            "SELECT s.username, CAST(s.load AS BIGINT) AS load, \
               (SELECT COUNT(*) FROM cases c WHERE c.owner_staff_id = s.id \
                  AND c.status NOT IN ({finished})) \
             + (SELECT COUNT(*) FROM offers o WHERE o.staff_id = s.id \
                  AND o.status = 'pending') AS counted \
             FROM staff s"
        );
        let rows = db
            .query_all_raw(sea_orm::Statement::from_string(
                db.get_database_backend(),
                sql,
            ))
            .await
            .unwrap();
        assert!(!rows.is_empty(), "no staff to check");
        let wrong: Vec<(String, i64, i64)> = rows
            .iter()
            .map(|r| {
                (
                    r.try_get::<String>("", "username").unwrap(),
                    r.try_get::<i64>("", "load").unwrap(),
                    r.try_get::<i64>("", "counted").unwrap(),
                )
            })
            .filter(|(_, load, counted)| load != counted)
            .collect();
        assert!(
            wrong.is_empty(),
            "load counters (username, counter, counted): {wrong:?}"
        );
    }

    /// Delete every Redis key of this test: Redis losing its data, as far
    /// as this test can see (the server is shared, so no FLUSHALL).
    pub async fn lose_redis_data(&self) {
        delete_redis_prefix(&self.redis_prefix).await;
    }

    /// Let the clock reach a booked session: it is moved to have begun an
    /// hour ago (a session is recorded as held only once it has begun, and
    /// booked only ahead, so a test cannot book one that has begun). Its
    /// booked half hours stay where they were.
    pub async fn begin_session(&self, session: Uuid) {
        use sansuo_store::entity::mediation_session;
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
        let now = chrono::Utc::now();
        let starts_at = now - chrono::Duration::hours(1);
        let ends_at = now + chrono::Duration::minutes(1);
        let moved = mediation_session::Entity::update_many()
            .col_expr(mediation_session::Column::StartsAt, Expr::value(starts_at))
            .col_expr(mediation_session::Column::EndsAt, Expr::value(ends_at))
            .filter(mediation_session::Column::Id.eq(session))
            .exec(self.app.store.db())
            .await
            .expect("move the session");
        assert_eq!(moved.rows_affected, 1, "no session {session}");
    }

    /// Let the clock run past a case's response targets: it is moved to
    /// have been submitted `days` ago (business time counts from there).
    pub async fn backdate_case(&self, case_id: Uuid, days: i64) {
        use sansuo_store::entity::case;
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
        let created_at = chrono::Utc::now() - chrono::Duration::days(days);
        let moved = case::Entity::update_many()
            .col_expr(case::Column::CreatedAt, Expr::value(created_at))
            .filter(case::Column::Id.eq(case_id))
            .exec(self.app.store.db())
            .await
            .expect("backdate the case");
        assert_eq!(moved.rows_affected, 1, "no case {case_id}");
    }
}

/// Poll `probe` until it yields a value; fail after ten seconds.
pub async fn eventually<T, F, Fut>(what: &str, probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    eventually_within(10, what, probe).await
}

/// Poll `probe` until it yields a value; fail after `seconds`.
pub async fn eventually_within<T, F, Fut>(seconds: u64, what: &str, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + Duration::from_secs(seconds);
    loop {
        if let Some(value) = probe().await {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// Assert the status and return the JSON body (or Null for an empty one).
pub async fn expect_status(response: Response, status: StatusCode) -> Value {
    let got = response.status();
    let text = response.text().await.unwrap();
    assert_eq!(got, status, "unexpected status; body: {text}");
    if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    }
}

/// `/readyz` answered 200: its verdicts on the database, the queue and
/// routing, without the `calendar` detail (a warning that depends on today's
/// date, checked by the calendar tests).
pub async fn readiness_verdicts(response: Response) -> Value {
    let mut ready = expect_status(response, StatusCode::OK).await;
    if let Some(fields) = ready.as_object_mut() {
        fields.remove("calendar");
    }
    ready
}

/// Assert the status and read the body as `T` (one of [`views`]); a body
/// that is not a `T` fails the test with the body in the message.
pub async fn expect_json<T: DeserializeOwned>(response: Response, status: StatusCode) -> T {
    let got = response.status();
    let text = response.text().await.unwrap();
    assert_eq!(got, status, "unexpected status; body: {text}");
    serde_json::from_str(&text).unwrap_or_else(|e| {
        panic!(
            "body is not a {}: {e}; body: {text}",
            std::any::type_name::<T>()
        )
    })
}

/// Read a body already fetched as JSON as `T`: for a test that checks the
/// wire format (a field absent, an exact shape) and reads the rest typed.
pub fn read_as<T: DeserializeOwned>(body: &Value) -> T {
    serde_json::from_value(body.clone()).unwrap_or_else(|e| {
        panic!(
            "body is not a {}: {e}; body: {body}",
            std::any::type_name::<T>()
        )
    })
}

/// Assert an error response: status and stable code; returns the typed body.
pub async fn expect_error(response: Response, status: StatusCode, code: &str) -> ErrorBody {
    let body: ErrorBody = expect_json(response, status).await;
    // Compared as serialised, so the check holds whether the code is a
    // string or an enum that serialises to one.
    assert_eq!(
        serde_json::to_value(&body.error.code).unwrap(),
        code,
        "error body: {body:?}"
    );
    assert!(
        !body.error.message.is_empty(),
        "error has a message: {body:?}"
    );
    body
}

fn replace_database(url: &str, database: &str) -> String {
    let (base, _) = url.rsplit_once('/').expect("database URL ends in /<db>");
    format!("{base}/{database}")
}

async fn delete_redis_prefix(prefix: &str) {
    let client = redis::Client::open(redis_url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{prefix}*"))
        .query_async(&mut conn)
        .await
        .unwrap_or_default();
    if !keys.is_empty() {
        let _: () = redis::cmd("DEL")
            .arg(keys)
            .query_async(&mut conn)
            .await
            .unwrap();
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        let sandbox = std::mem::replace(
            &mut self.sandbox,
            Sandbox::Sqlite {
                dir: std::path::PathBuf::new(),
            },
        );
        let prefix = self.redis_prefix.clone();
        // Drop runs inside the test's runtime; clean up on a thread of our own.
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                match sandbox {
                    Sandbox::Postgres { database } => {
                        drop_database(&database).await;
                        delete_redis_prefix(&prefix).await;
                    }
                    // An empty path: a kept directory, the test's to remove.
                    Sandbox::Sqlite { dir } if dir.as_os_str().is_empty() => {}
                    Sandbox::Sqlite { dir } => {
                        let _ = std::fs::remove_dir_all(dir);
                    }
                }
            });
        })
        .join()
        .ok();
    }
}
