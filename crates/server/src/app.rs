//! Start-up: connect, migrate, wire the queue, the WeChat client, the
//! background worker and the HTTP server.

use crate::config::{Config, DatabaseSettings, MetricsExposure, PhotoStoreSetting, redact_url};
use crate::metrics::MetricsState;
use actix_web::{App, HttpServer, middleware::from_fn};
use anyhow::Context;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use sansuo_api::auth::TokenIssuer;
use sansuo_api::{ApiConfig, AppState};
use sansuo_queue::{
    MemoryQueue, MemoryRateLimiter, RedisQueue, RedisRateLimiter, SharedLimiter, SharedQueue,
};
use sansuo_store::Store;
use sansuo_store::photos::DbPhotoStore;
use sansuo_vault::Pseudonymiser;
use sansuo_wechat::{MemoryTokenCache, RedisTokenCache, TokenCache, WechatClient, WechatConfig};
use sansuo_worker::{StopReport, Worker, WorkerConfig, WorkerHandle};
use secrecy::ExposeSecret;
use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

/// How long a stopping worker's jobs get to finish before their leases are
/// given back (after the HTTP server drained for up to [`DRAIN_SECS`]).
pub const WORKER_STOP_GRACE: Duration = Duration::from_secs(5);
/// How long in-flight requests get to finish after SIGTERM or SIGINT.
pub const DRAIN_SECS: u64 = 10;

pub struct Application {
    port: u16,
    server: actix_web::dev::Server,
    /// The listener of `SANSUO_METRICS_ADDR`, if set, and its port.
    metrics_server: Option<(u16, actix_web::dev::Server)>,
    worker_handle: WorkerHandle,
    pub store: Store,
    pub queue: SharedQueue,
    /// The background side, for tests that drive it step by step.
    pub worker: Worker,
}

/// Connect to the database named in the configuration and bring its schema
/// and reference data up to date.
pub async fn open_store(database: &DatabaseSettings) -> anyhow::Result<Store> {
    let store = Store::connect_with(
        &database.url,
        database.max_connections,
        database.busy_timeout,
    )
    .await
    .with_context(|| {
        format!(
            "cannot connect to the database at {}",
            redact_url(&database.url)
        )
    })?;
    store.migrate().await.context("migrating the database")?;
    store
        .catalog()
        .sync(&crate::catalog())
        .await
        .context("loading the category catalogue")?;
    for year in crate::published_calendars() {
        store
            .catalog()
            .seed_calendar_year(&year)
            .await
            .context("loading the public-holiday calendar")?;
    }
    Ok(store)
}

/// One Redis connection manager per instance (multiplexed), shared by the
/// queue and the WeChat token cache. `None` without `REDIS_URL`.
pub async fn open_redis(config: &Config) -> anyhow::Result<Option<ConnectionManager>> {
    let Some(url) = &config.redis_url else {
        return Ok(None);
    };
    let client = redis::Client::open(url.as_str())
        .with_context(|| format!("REDIS_URL {} is not a valid Redis URL", redact_url(url)))?;
    // The manager reconnects by itself when Redis restarts; a slow reply
    // fails after two seconds instead of hanging a request.
    let manager_config = ConnectionManagerConfig::new()
        .set_connection_timeout(Some(Duration::from_secs(2)))
        .set_response_timeout(Some(Duration::from_secs(2)));
    let manager = ConnectionManager::new_with_config(client, manager_config)
        .await
        .with_context(|| format!("cannot connect to Redis at {}", redact_url(url)))?;
    Ok(Some(manager))
}

fn limiter_on(redis: Option<&ConnectionManager>, config: &Config) -> SharedLimiter {
    match redis {
        Some(manager) => Arc::new(RedisRateLimiter::new(
            manager.clone(),
            config.redis_prefix.clone(),
        )),
        None => Arc::new(MemoryRateLimiter::new()),
    }
}

async fn photo_store_on(
    store: &Store,
    config: &Config,
) -> anyhow::Result<Arc<dyn sansuo_media::PhotoStore>> {
    Ok(match &config.photo_store {
        PhotoStoreSetting::Database => Arc::new(DbPhotoStore::new(store)),
        PhotoStoreSetting::Directory(dir) => Arc::new(
            sansuo_media::LocalDirStore::open(dir)
                .await
                .with_context(|| format!("cannot use {} for photos", dir.display()))?,
        ),
    })
}

fn queue_on(redis: Option<&ConnectionManager>, config: &Config) -> SharedQueue {
    match redis {
        Some(manager) => Arc::new(RedisQueue::new(
            manager.clone(),
            config.redis_prefix.clone(),
        )),
        None => Arc::new(MemoryQueue::new()),
    }
}

/// The WeChat client, sharing one access token between all instances
/// through Redis (or in process for the single embedded instance).
fn wechat_on(
    redis: Option<&ConnectionManager>,
    config: &Config,
) -> anyhow::Result<Option<WechatClient>> {
    let Some(w) = &config.wechat else {
        return Ok(None);
    };
    let cache: Arc<dyn TokenCache> = match redis {
        Some(manager) => Arc::new(RedisTokenCache::new(
            manager.clone(),
            config.redis_prefix.clone(),
        )),
        None => Arc::new(MemoryTokenCache::new()),
    };
    let client = WechatClient::with_token_cache(
        WechatConfig {
            base_url: w.base_url.clone(),
            app_id: w.app_id.clone(),
            app_secret: w.app_secret.clone(),
            timeout: w.timeout,
        },
        cache,
    )
    .map_err(|e| anyhow::anyhow!("WeChat client: {e}"))?;
    Ok(Some(client))
}

/// The keys that seal personal data: `SANSUO_DATA_KEYS`, or in demo mode
/// the key file beside the database (made on the first start).
fn data_keys(config: &Config) -> anyhow::Result<Option<Arc<sansuo_vault::KeyRing>>> {
    if let Some(keys) = &config.data_keys {
        return Ok(Some(keys.clone()));
    }
    let Some(path) = &config.demo_key_file else {
        return Ok(None);
    };
    let (ring, state) = crate::demo_key::load_or_create(path)?;
    let verb = match state {
        crate::demo_key::KeyFileState::Created => "created",
        crate::demo_key::KeyFileState::Read => "read",
    };
    tracing::info!(
        key_file = %path.display(),
        "demo data key {verb}: sealed party data of earlier demo runs opens with it; set SANSUO_DATA_KEYS outside the demo"
    );
    Ok(Some(Arc::new(ring)))
}

/// The key of tip reporters' pseudonyms and tracking tokens:
/// `SANSUO_TIP_KEY`, or in demo mode the key file beside the database.
fn tip_key(config: &Config) -> anyhow::Result<secrecy::SecretString> {
    let Some(path) = &config.tip_key_file else {
        return Ok(config.tip_key.clone());
    };
    let (key, state) = crate::demo_key::load_or_create_tip_key(path)?;
    let verb = match state {
        crate::demo_key::KeyFileState::Created => "created",
        crate::demo_key::KeyFileState::Read => "read",
    };
    tracing::info!(
        key_file = %path.display(),
        "demo tip key {verb}: tracking tokens of earlier anonymous tips work with it; set SANSUO_TIP_KEY outside the demo"
    );
    Ok(key)
}

/// The photo receipts' signing key: `SANSUO_RECEIPT_KEY`, or the key file
/// beside the database.
fn receipt_signer(config: &Config) -> anyhow::Result<sansuo_media::ReceiptSigner> {
    if let Some(key) = &config.receipt_key {
        return sansuo_media::ReceiptSigner::parse(key.expose_secret())
            .map_err(|why| anyhow::anyhow!("SANSUO_RECEIPT_KEY {why}"));
    }
    let path = config
        .receipt_key_file
        .as_ref()
        .context("SANSUO_RECEIPT_KEY is not set and there is no key file")?;
    let (signer, state) = crate::demo_key::load_or_create_receipt_key(path)?;
    let verb = match state {
        crate::demo_key::KeyFileState::Created => "created",
        crate::demo_key::KeyFileState::Read => "read",
    };
    if config.demo {
        tracing::info!(key_file = %path.display(), "receipt key {verb}");
    } else {
        tracing::warn!(
            key_file = %path.display(),
            "receipt key {verb} from a file: set SANSUO_RECEIPT_KEY so every instance signs receipts with one key"
        );
    }
    Ok(signer)
}

/// CORS from `SANSUO_CORS_ORIGINS` (none by default): only those origins
/// get the CORS headers; any other origin's request is served without them
/// (so the browser withholds the answer) rather than refused, which keeps
/// same-origin pages such as `/docs` working.
fn cors(origins: &[String]) -> actix_cors::Cors {
    let mut cors = actix_cors::Cors::default()
        .allowed_methods(["GET", "POST", "PUT", "PATCH", "DELETE"])
        .allowed_headers([
            "authorization",
            "content-type",
            "idempotency-key",
            "x-request-id",
            "x-tracking-token",
            "if-none-match",
        ])
        .expose_headers(["retry-after", "x-request-id", "etag", "location"])
        .max_age(600)
        .block_on_origin_mismatch(false);
    for origin in origins {
        cors = cors.allowed_origin(origin);
    }
    cors
}

impl Application {
    /// Everything up and listening; `run_until_stopped` serves.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let store = open_store(&config.database()).await?;
        let vault = data_keys(&config)?;
        let tip_key = tip_key(&config)?;
        let receipt_signer = receipt_signer(&config)?;
        if vault.is_none() {
            tracing::warn!(
                "SANSUO_DATA_KEYS is not set: residents cannot bind phone numbers nor book mediations (party data is sealed)"
            );
        }
        let redis = open_redis(&config).await?;
        let queue = queue_on(redis.as_ref(), &config);
        let wechat = wechat_on(redis.as_ref(), &config)?;
        let photos = photo_store_on(&store, &config).await?;
        // Routing in the request's instance (`SANSUO_INLINE_ROUTING`) begins
        // with the first offer inside the submission's own transaction.
        if config.inline_routes > 0 {
            store.offer_at_submission(config.offer_timeout, config.inline_routes);
        }
        let worker = Worker::new(
            store.clone(),
            queue.clone(),
            wechat.clone(),
            WorkerConfig {
                offer_timeout: config.offer_timeout,
                reconcile_every: config.reconcile_every,
                idle_poll: config.idle_poll,
                templates: config.templates.clone(),
                miniprogram_state: config.miniprogram_state,
                notify_max_attempts: config.notify_max_attempts,
                routers: config.routers,
                inline_routes: config.inline_routes,
                retention: Some(config.retention.clone()),
                ..WorkerConfig::default()
            },
        )
        .with_photo_store(photos.clone());
        let state = AppState {
            store: store.clone(),
            queue: queue.clone(),
            wechat,
            vault,
            tokens: Arc::new(TokenIssuer::new(
                &config.jwt_secret,
                config.access_token_ttl,
                config.refresh_token_ttl,
                config.staff_refresh_token_ttl,
            )),
            config: ApiConfig {
                demo_login: config.demo,
                push_token: config.push_token.clone(),
                public_base_url: config.public_base_url.clone(),
                map_url_template: config.map_url_template.clone(),
                trusted_proxies: config.trusted_proxies.clone(),
                write_limits: config.write_limits.clone(),
                staff_stream_max_life: config.staff_stream_max_life,
                templates: config
                    .templates
                    .iter()
                    .filter(|(e, _)| !e.is_staff())
                    .map(|(e, t)| (e.as_str().to_owned(), t.template_id.clone()))
                    .collect(),
                staff_templates: config
                    .templates
                    .iter()
                    .filter(|(e, _)| e.is_staff())
                    .map(|(e, t)| (e.as_str().to_owned(), t.template_id.clone()))
                    .collect(),
            },
            pseudonyms: Arc::new(Pseudonymiser::new(tip_key.expose_secret().as_bytes())),
            photos,
            photo_limits: sansuo_media::Limits::default(),
            receipts: Arc::new(receipt_signer),
            limiter: limiter_on(redis.as_ref(), &config),
            staff_pulse: Arc::new(sansuo_api::StaffEventPulse::new(store.clone())),
            router: Arc::new(RouteInRequest(worker.clone())),
        };
        let spec = sansuo_api::openapi();
        let listener = TcpListener::bind(config.bind)
            .with_context(|| format!("cannot listen on {}", config.bind))?;
        let port = listener.local_addr()?.port();
        let cors_origins = config.cors_origins.clone();
        // `/metrics` on the API port only when configured so (see
        // `MetricsExposure`); on a port of its own, below.
        let metrics_on_api_port = match &config.metrics {
            MetricsExposure::ApiPort { token } => Some(MetricsState::new(
                store.clone(),
                queue.clone(),
                token.clone(),
            )),
            MetricsExposure::Off => {
                tracing::info!(
                    "metrics are not served: set SANSUO_METRICS_ADDR (a port of their own) or SANSUO_METRICS_TOKEN"
                );
                None
            }
            MetricsExposure::OwnPort { .. } => None,
        };
        let server = HttpServer::new(move || {
            use sansuo_api::middleware as mw;
            // The last `wrap` is the outermost: the request's timing, request
            // id and its log line, headers, CORS, body limits, text hygiene,
            // then panics caught nearest the routes.
            App::new()
                .wrap(from_fn(mw::catch_panic))
                .wrap(from_fn(mw::input_hygiene))
                .wrap(from_fn(mw::body_limit))
                .wrap(cors(&cors_origins))
                .wrap(from_fn(mw::security_headers))
                .wrap(from_fn(mw::request_id))
                .wrap(from_fn(crate::metrics::track))
                .configure(|cfg| {
                    if let Some(metrics) = &metrics_on_api_port {
                        crate::metrics::mount(cfg, metrics.clone());
                    }
                })
                // The staff console's single-page app at `/console/`.
                .configure(sansuo_console::mount)
                .configure(|cfg| sansuo_api::mount(cfg, state.clone(), spec.clone()))
        })
        .listen(listener)?
        // SIGTERM/SIGINT: stop accepting, give in-flight requests this long,
        // then `run_until_stopped` stops the worker.
        .shutdown_timeout(DRAIN_SECS)
        .run();
        let metrics_server = match &config.metrics {
            MetricsExposure::OwnPort { addr, token } => {
                let listener = TcpListener::bind(addr)
                    .with_context(|| format!("cannot listen on SANSUO_METRICS_ADDR {addr}"))?;
                let metrics_port = listener.local_addr()?.port();
                let metrics = MetricsState::new(store.clone(), queue.clone(), token.clone());
                let server = HttpServer::new(move || {
                    App::new().configure(|cfg| crate::metrics::mount(cfg, metrics.clone()))
                })
                .workers(1)
                .listen(listener)?
                // Stopped with the API server, not by the signal itself, so
                // the instance stays observable while it drains.
                .disable_signals()
                .shutdown_timeout(1)
                .run();
                tracing::info!(port = metrics_port, "metrics listening");
                Some((metrics_port, server))
            }
            _ => None,
        };
        let worker_handle = worker.spawn();
        Ok(Self {
            port,
            server,
            metrics_server,
            worker_handle,
            store,
            queue,
            worker,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The port of `SANSUO_METRICS_ADDR`, when metrics have one.
    pub fn metrics_port(&self) -> Option<u16> {
        self.metrics_server.as_ref().map(|(port, _)| *port)
    }

    /// Serve until SIGTERM or SIGINT (or the server handle stops it), then
    /// stop gracefully: the listener closes at once, in-flight requests get
    /// [`DRAIN_SECS`] to finish (what they commit is in the outbox, relayed
    /// by this worker meanwhile or by any other instance), then the worker
    /// stops taking jobs, gets [`WORKER_STOP_GRACE`] to finish the ones it
    /// runs, and gives back the leases of any still running, so another
    /// instance takes them at once instead of after the lease.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let metrics = self.metrics_server.map(|(_, server)| {
            let handle = server.handle();
            tokio::spawn(server);
            handle
        });
        let result = self.server.await;
        tracing::info!("requests drained; stopping the worker");
        let report = self.worker_handle.stop(WORKER_STOP_GRACE).await;
        if let Some(metrics) = metrics {
            metrics.stop(true).await;
        }
        tracing::info!(
            released_leases = report.released,
            abandoned_jobs = report.aborted,
            "stopped"
        );
        result
    }

    /// Run in the background (tests); the returned handle stops it.
    pub fn spawn(self) -> RunningApplication {
        let server_handle = self.server.handle();
        let Application {
            port,
            server,
            metrics_server,
            worker_handle,
            store,
            queue,
            worker,
        } = self;
        tokio::spawn(server);
        let metrics_port = metrics_server.map(|(port, server)| {
            tokio::spawn(server);
            port
        });
        RunningApplication {
            port,
            metrics_port,
            server_handle,
            worker_handle: Some(worker_handle),
            store,
            queue,
            worker,
        }
    }
}

/// A server running in the background.
pub struct RunningApplication {
    pub port: u16,
    /// The port of `SANSUO_METRICS_ADDR`, when metrics have one.
    pub metrics_port: Option<u16>,
    server_handle: actix_web::dev::ServerHandle,
    worker_handle: Option<WorkerHandle>,
    pub store: Store,
    pub queue: SharedQueue,
    pub worker: Worker,
}

impl RunningApplication {
    /// Stop serving and stop the background tasks (a crash, as far as the
    /// rest of the system is concerned: nothing is flushed specially).
    pub async fn stop(&mut self) {
        if let Some(worker) = self.worker_handle.take() {
            worker.shutdown();
        }
        self.server_handle.stop(false).await;
    }

    /// Stop the background worker as SIGTERM does (see
    /// [`WorkerHandle::stop`]); the API keeps serving.
    pub async fn stop_worker(&mut self, grace: Duration) -> Option<StopReport> {
        match self.worker_handle.take() {
            Some(worker) => Some(worker.stop(grace).await),
            None => None,
        }
    }

    /// Start the background worker again after [`Self::stop_worker`].
    pub fn start_worker(&mut self) {
        if self.worker_handle.is_none() {
            self.worker_handle = Some(self.worker.spawn());
        }
    }
}

/// The api's [`sansuo_api::RouteSoon`] is the worker's: a new case is
/// routed in the instance that stored it.
struct RouteInRequest(Worker);

impl sansuo_api::RouteSoon for RouteInRequest {
    fn route_soon(&self, case: sansuo_domain::CaseId, request_id: Option<String>) {
        self.0.route_soon(case, request_id);
    }
}
