//! Configuration from the environment, validated once at start-up. Every
//! problem is reported (not just the first), each with the variable's name
//! and what to do about it.

use sansuo_domain::notify::{NotificationEvent, TemplateSettings};
use sansuo_vault::KeyRing;
use sansuo_wechat::MiniprogramState;
use secrecy::{ExposeSecret, SecretString};
use std::collections::BTreeMap;
use std::collections::HashMap;
use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// The embedded default: a SQLite file in the working directory.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://sansuo.db?mode=rwc";
pub const DEFAULT_WECHAT_BASE_URL: &str = "https://api.weixin.qq.com";
/// The placeholder in `deploy/sansuo.env.example`; refused outside demo mode.
pub const EXAMPLE_JWT_SECRET: &str = "change-me-to-at-least-32-random-bytes";
/// The placeholder of `SANSUO_TIP_KEY` in the example; refused everywhere.
pub const EXAMPLE_TIP_KEY: &str = "REPLACE-WITH-openssl-rand-hex-32";
/// `SANSUO_DB_BUSY_TIMEOUT_MS` unless set: as the store's own default.
pub const DEFAULT_BUSY_TIMEOUT_MS: u64 = sansuo_store::DEFAULT_BUSY_TIMEOUT.as_millis() as u64;
const MIN_JWT_SECRET_BYTES: usize = 32;
const MIN_METRICS_TOKEN_BYTES: usize = 16;

#[derive(Clone)]
pub struct WechatSettings {
    pub base_url: String,
    pub app_id: String,
    pub app_secret: SecretString,
    pub timeout: Duration,
}

#[derive(Clone)]
pub struct Config {
    /// How long each kind of record is kept (`SANSUO_RETENTION_*_DAYS`,
    /// docs/retention.md); the worker purges what is past it hourly.
    pub retention: sansuo_domain::retention::RetentionPolicy,
    pub bind: SocketAddr,
    pub database_url: String,
    pub database_max_connections: u32,
    /// `SANSUO_DB_BUSY_TIMEOUT_MS`: how long a SQLite write waits for the
    /// write lock before answering 503 `database_busy`.
    pub database_busy_timeout: Duration,
    /// `None`: the in-process queue (embedded default, one instance only).
    pub redis_url: Option<String>,
    /// Every Redis key starts with this, so environments can share a server.
    pub redis_prefix: String,
    pub jwt_secret: SecretString,
    pub access_token_ttl: chrono::Duration,
    /// A resident's refresh token (`SANSUO_REFRESH_TOKEN_TTL_SECS`, 30 days).
    pub refresh_token_ttl: chrono::Duration,
    /// A staff member's (`SANSUO_STAFF_REFRESH_TOKEN_TTL_SECS`, 12 hours):
    /// a staff session reaches many residents' data, often from a shared
    /// office computer, so it lasts a working day, not a month.
    pub staff_refresh_token_ttl: chrono::Duration,
    /// Reverse proxies whose `X-Forwarded-For` is believed
    /// (`SANSUO_TRUSTED_PROXIES`: addresses or CIDR networks, comma-separated).
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// `None` when not configured (demo mode only).
    pub wechat: Option<WechatSettings>,
    /// Seals personal data at rest (`SANSUO_DATA_KEYS`). `None`: phone
    /// binding and mediation bookings are refused, unless a demo key file
    /// stands in (below).
    pub data_keys: Option<Arc<KeyRing>>,
    /// `--demo` without `SANSUO_DATA_KEYS`: the key file beside the SQLite
    /// database, created at start if absent (`demo_key`), so sealed demo data
    /// survives a restart.
    pub demo_key_file: Option<std::path::PathBuf>,
    /// Subscribe-message template per event (`SANSUO_WECHAT_TEMPLATES`).
    pub templates: BTreeMap<NotificationEvent, TemplateSettings>,
    pub miniprogram_state: MiniprogramState,
    /// Sends of one subscribe message before it is given up (dead letter).
    pub notify_max_attempts: i32,
    /// Concurrent router tasks per instance.
    pub routers: usize,
    /// New cases routed at once in the requests that stored them
    /// (`SANSUO_INLINE_ROUTING`); 0: all through the routers. Above 0, a
    /// new case whose first handler is free is offered in the
    /// submission's own transaction (in as many submissions at once), and
    /// the rest routed right after it.
    pub inline_routes: usize,
    /// The token WeChat signs its message pushes with.
    pub push_token: Option<SecretString>,
    /// Where WeChat can fetch this deployment over the internet
    /// (`SANSUO_PUBLIC_BASE_URL`, e.g. `https://sansuo.example.gov.cn`): the
    /// asynchronous photo check sends WeChat a signed link under it.
    /// Unset: photos are not sent for the check.
    pub public_base_url: Option<String>,
    /// The district's map provider (`SANSUO_MAP_URL_TEMPLATE`): an https
    /// link with `{lat}` and `{lng}`, which the console fills with a tip's
    /// coordinates. Unset: no map link (the demo uses [`DEMO_MAP_URL_TEMPLATE`]).
    pub map_url_template: Option<String>,
    pub offer_timeout: chrono::Duration,
    /// The longest one staff event stream stays open
    /// (`SANSUO_STAFF_STREAM_MAX_SECS`); the client then reconnects with
    /// `Last-Event-ID` and loses nothing.
    pub staff_stream_max_life: Duration,
    pub reconcile_every: Duration,
    /// Longest sleep of an idle relay or router (`SANSUO_IDLE_POLL_MS`);
    /// work committed in this instance wakes them at once.
    pub idle_poll: Duration,
    pub demo: bool,
    /// Keys the pseudonyms of tip reporters and their tracking tokens
    /// (`SANSUO_TIP_KEY`; required in production; in the demo without it,
    /// read from `tip_key_file`, and empty here).
    pub tip_key: SecretString,
    /// `--demo` without `SANSUO_TIP_KEY`: the key file beside the SQLite
    /// database (`sansuo.tip-key`, mode 0600, made on the first start), so
    /// anonymous tippers' tracking tokens outlive a restart and a restore
    /// from `sansuo backup`.
    pub tip_key_file: Option<std::path::PathBuf>,
    /// Signs photo receipts (`SANSUO_RECEIPT_KEY`: a PKCS#8 PEM Ed25519
    /// private key, or its 32-byte seed in base64; checked here).
    pub receipt_key: Option<SecretString>,
    /// Without `SANSUO_RECEIPT_KEY`: the key file beside the SQLite
    /// database (`sansuo.receipt-key`, made on the first start), so receipts
    /// stay verifiable across restarts and restores.
    pub receipt_key_file: Option<std::path::PathBuf>,
    pub photo_store: PhotoStoreSetting,
    /// Browser origins allowed to call the API across origins
    /// (`SANSUO_CORS_ORIGINS`, comma-separated; none by default).
    pub cors_origins: Vec<String>,
    /// Per-action overrides of the resident write limits
    /// (`SANSUO_RATE_LIMITS`; the defaults are `domain::limits`).
    pub write_limits: sansuo_domain::limits::WritePolicies,
    /// Who may read `/metrics`, and where (`SANSUO_METRICS_ADDR`,
    /// `SANSUO_METRICS_TOKEN`).
    pub metrics: MetricsExposure,
}

/// Where the Prometheus metrics are served. They hold no personal data, but
/// they show the district's workload, so production never serves them to
/// anyone who asks on the public port.
#[derive(Clone)]
pub enum MetricsExposure {
    /// Production without either setting: not served (a start-up line says
    /// how to turn them on).
    Off,
    /// `/metrics` on the API port: in the demo without a token, or with
    /// `SANSUO_METRICS_TOKEN` (a bearer token the scraper sends).
    ApiPort { token: Option<SecretString> },
    /// `SANSUO_METRICS_ADDR`: a listener of its own that serves only
    /// `/metrics` (a port the load balancer does not forward, reachable as
    /// the network policy allows), with the token too if one is set.
    OwnPort {
        addr: SocketAddr,
        token: Option<SecretString>,
    },
}

impl MetricsExposure {
    fn read(
        addr: Option<String>,
        token: Option<String>,
        bind: SocketAddr,
        demo: bool,
        problems: &mut Vec<String>,
    ) -> Self {
        let token = token.and_then(|token| {
            if token.len() < MIN_METRICS_TOKEN_BYTES || token.chars().any(char::is_whitespace) {
                problems.push(format!(
                    "SANSUO_METRICS_TOKEN must be at least {MIN_METRICS_TOKEN_BYTES} bytes without spaces (e.g. `openssl rand -hex 32`)"
                ));
                None
            } else {
                Some(SecretString::from(token))
            }
        });
        match addr {
            Some(raw) => match raw.parse::<SocketAddr>() {
                Ok(addr) if addr.port() != 0 && addr.port() == bind.port() => {
                    problems.push(format!(
                        "SANSUO_METRICS_ADDR=`{raw}` must use another port than SANSUO_BIND ({bind})"
                    ));
                    MetricsExposure::Off
                }
                Ok(addr) => MetricsExposure::OwnPort { addr, token },
                Err(_) => {
                    problems.push(format!(
                        "SANSUO_METRICS_ADDR=`{raw}` must be an address like 0.0.0.0:9090"
                    ));
                    MetricsExposure::Off
                }
            },
            None if token.is_some() || demo => MetricsExposure::ApiPort { token },
            None => MetricsExposure::Off,
        }
    }
}

impl fmt::Debug for MetricsExposure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MetricsExposure::Off => f.write_str("off"),
            MetricsExposure::ApiPort { token } => {
                write!(f, "api port (token: {})", token.is_some())
            }
            MetricsExposure::OwnPort { addr, token } => {
                write!(f, "{addr} (token: {})", token.is_some())
            }
        }
    }
}

/// Where tip photos' bytes live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PhotoStoreSetting {
    /// A table of the database: every instance serves every photo.
    Database,
    /// A local directory (the embedded default; one instance).
    Directory(std::path::PathBuf),
}

impl PhotoStoreSetting {
    /// `SANSUO_PHOTO_STORE` (`database` or `dir:<path>`); unset, a
    /// directory beside the embedded default and the database otherwise.
    pub fn read(value: Option<&str>, database_url: &str) -> Result<Self, String> {
        match value {
            Some("database") => Ok(PhotoStoreSetting::Database),
            Some(dir) if dir.starts_with("dir:") && dir.len() > 4 => {
                Ok(PhotoStoreSetting::Directory(dir[4..].into()))
            }
            None if database_url.starts_with("sqlite:") => {
                Ok(PhotoStoreSetting::Directory("sansuo-photos".into()))
            }
            None => Ok(PhotoStoreSetting::Database),
            Some(other) => Err(format!(
                "SANSUO_PHOTO_STORE=`{other}` must be `database` or `dir:<path>`"
            )),
        }
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Secrets and URLs with passwords stay out of logs.
        f.debug_struct("Config")
            .field("bind", &self.bind)
            .field("database", &redact_url(&self.database_url))
            .field("redis", &self.redis_url.as_deref().map(redact_url))
            .field("redis_prefix", &self.redis_prefix)
            .field("wechat_configured", &self.wechat.is_some())
            .field("offer_timeout_secs", &self.offer_timeout.num_seconds())
            .field("data_keys", &self.data_keys)
            .field("demo_key_file", &self.demo_key_file)
            .field("tip_key_file", &self.tip_key_file)
            .field("receipt_key_file", &self.receipt_key_file)
            .field("demo", &self.demo)
            .field("metrics", &self.metrics)
            .finish()
    }
}

/// `postgres://user:pw@host/db` → `postgres://host/db`.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            format!("{}://{}", &url[..scheme], &url[at + 1..])
        }
        _ => url.to_owned(),
    }
}

/// Everything wrong with the environment, one line per problem.
#[derive(Debug)]
pub struct ConfigErrors(pub Vec<String>);

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "the configuration is not usable:")?;
        for problem in &self.0 {
            writeln!(f, "  - {problem}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

/// What `migrate` and `admin create` need: the database and nothing else,
/// so a district can migrate and create its first administrator before any
/// secret or WeChat credential exists.
#[derive(Clone)]
pub struct DatabaseSettings {
    pub url: String,
    pub max_connections: u32,
    /// SQLite only: how long a write waits for the one write lock.
    pub busy_timeout: Duration,
}

impl fmt::Debug for DatabaseSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DatabaseSettings")
            .field("url", &redact_url(&self.url))
            .field("max_connections", &self.max_connections)
            .field("busy_timeout", &self.busy_timeout)
            .finish()
    }
}

impl DatabaseSettings {
    pub fn from_env() -> Result<Self, ConfigErrors> {
        Self::from_vars(&std::env::vars().collect())
    }

    pub fn from_vars(vars: &HashMap<String, String>) -> Result<Self, ConfigErrors> {
        let mut problems = Vec::new();
        let settings = Self::read(vars, &mut problems);
        if problems.is_empty() {
            Ok(settings)
        } else {
            Err(ConfigErrors(problems))
        }
    }

    fn read(vars: &HashMap<String, String>, problems: &mut Vec<String>) -> Self {
        let max_connections =
            read_number(vars, problems, "SANSUO_DB_MAX_CONNECTIONS", 20, 1, 500) as u32;
        let busy_timeout = Duration::from_millis(read_number(
            vars,
            problems,
            "SANSUO_DB_BUSY_TIMEOUT_MS",
            DEFAULT_BUSY_TIMEOUT_MS,
            0,
            60_000,
        ));
        let url = read_var(vars, "DATABASE_URL").unwrap_or_else(|| DEFAULT_DATABASE_URL.into());
        if !(url.starts_with("postgres://")
            || url.starts_with("postgresql://")
            || url.starts_with("sqlite:"))
        {
            problems.push(format!(
                "DATABASE_URL=`{}` must start with postgres:// (production) or sqlite: (embedded)",
                redact_url(&url)
            ));
        }
        DatabaseSettings {
            url,
            max_connections,
            busy_timeout,
        }
    }
}

/// The retention periods (`SANSUO_RETENTION_*_DAYS`, docs/retention.md):
/// each bad value is named; the defaults for what is unset.
pub fn read_retention(
    vars: &HashMap<String, String>,
    problems: &mut Vec<String>,
) -> sansuo_domain::retention::RetentionPolicy {
    sansuo_domain::retention::RetentionPolicy::read(|name| read_var(vars, name)).unwrap_or_else(
        |found| {
            problems.extend(found);
            Default::default()
        },
    )
}

/// A variable's trimmed value; empty counts as unset.
fn read_var(vars: &HashMap<String, String>, name: &str) -> Option<String> {
    vars.get(name)
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

/// A whole number in `min..=max`, or the default with the problem named.
fn read_number(
    vars: &HashMap<String, String>,
    problems: &mut Vec<String>,
    name: &str,
    default: u64,
    min: u64,
    max: u64,
) -> u64 {
    match read_var(vars, name) {
        None => default,
        Some(raw) => match raw.parse::<u64>() {
            Ok(n) if (min..=max).contains(&n) => n,
            _ => {
                problems.push(format!(
                    "{name}=`{raw}` must be a whole number from {min} to {max}"
                ));
                default
            }
        },
    }
}

impl Config {
    pub fn from_env(demo: bool) -> Result<Self, ConfigErrors> {
        Self::from_vars(&std::env::vars().collect(), demo)
    }

    pub fn from_vars(vars: &HashMap<String, String>, demo: bool) -> Result<Self, ConfigErrors> {
        let mut problems = Vec::new();
        let database = DatabaseSettings::read(vars, &mut problems);
        let get = |name: &str| read_var(vars, name);
        let mut number = |name: &str, default: u64, min: u64, max: u64| -> u64 {
            read_number(vars, &mut problems, name, default, min, max)
        };
        let access_secs = number("SANSUO_ACCESS_TOKEN_TTL_SECS", 15 * 60, 60, 24 * 3600);
        let refresh_secs = number(
            "SANSUO_REFRESH_TOKEN_TTL_SECS",
            30 * 24 * 3600,
            3600,
            365 * 24 * 3600,
        );
        let staff_refresh_secs = number(
            "SANSUO_STAFF_REFRESH_TOKEN_TTL_SECS",
            12 * 3600,
            600,
            7 * 24 * 3600,
        );
        let offer_secs = number("SANSUO_OFFER_TIMEOUT_SECS", 30 * 60, 1, 7 * 24 * 3600);
        let reconcile_secs = number("SANSUO_RECONCILE_SECS", 10, 1, 3600);
        let stream_secs = number("SANSUO_STAFF_STREAM_MAX_SECS", 600, 1, 24 * 3600);
        let wechat_timeout_ms = number("SANSUO_WECHAT_TIMEOUT_MS", 5000, 100, 60_000);
        let notify_max_attempts = number("SANSUO_NOTIFY_MAX_ATTEMPTS", 5, 1, 20) as i32;
        let routers = number("SANSUO_ROUTERS", 4, 1, 64) as usize;
        let inline_routes = number("SANSUO_INLINE_ROUTING", 8, 0, 64) as usize;
        let idle_poll_ms = number("SANSUO_IDLE_POLL_MS", 200, 10, 3_600_000);

        let bind = get("SANSUO_BIND").unwrap_or_else(|| "127.0.0.1:8080".into());
        let bind = bind.parse().unwrap_or_else(|_| {
            problems.push(format!(
                "SANSUO_BIND=`{bind}` must be an address like 0.0.0.0:8080"
            ));
            SocketAddr::from(([127, 0, 0, 1], 8080))
        });

        let DatabaseSettings {
            url: database_url,
            max_connections: database_max_connections,
            busy_timeout: database_busy_timeout,
        } = database;
        let redis_url = get("REDIS_URL");
        if let Some(url) = &redis_url
            && !(url.starts_with("redis://") || url.starts_with("rediss://"))
        {
            problems.push(format!(
                "REDIS_URL=`{}` must start with redis:// or rediss://",
                redact_url(url)
            ));
        }
        let redis_prefix = get("SANSUO_REDIS_PREFIX").unwrap_or_else(|| "sansuo:".into());

        let jwt_secret = match get("SANSUO_JWT_SECRET") {
            Some(secret) if secret == EXAMPLE_JWT_SECRET && !demo => {
                problems.push("SANSUO_JWT_SECRET is still the example value; set a long random secret (e.g. `openssl rand -hex 32`)".into());
                SecretString::from(secret)
            }
            Some(secret) if secret.len() < MIN_JWT_SECRET_BYTES && !demo => {
                problems.push(format!("SANSUO_JWT_SECRET must be at least {MIN_JWT_SECRET_BYTES} bytes (e.g. `openssl rand -hex 32`)"));
                SecretString::from(secret)
            }
            Some(secret) => SecretString::from(secret),
            None if demo => {
                // Demo mode: a fresh random secret; tokens die with the process.
                SecretString::from(hex_random())
            }
            None => {
                problems.push("SANSUO_JWT_SECRET is not set; set a long random secret (e.g. `openssl rand -hex 32`), or run with --demo".into());
                SecretString::from(String::new())
            }
        };

        let wechat = match (get("SANSUO_WECHAT_APP_ID"), get("SANSUO_WECHAT_APP_SECRET")) {
            (Some(app_id), Some(secret)) => Some(WechatSettings {
                base_url: get("SANSUO_WECHAT_BASE_URL")
                    .unwrap_or_else(|| DEFAULT_WECHAT_BASE_URL.into()),
                app_id,
                app_secret: SecretString::from(secret),
                timeout: Duration::from_millis(wechat_timeout_ms),
            }),
            (None, None) if demo => None,
            (app_id, secret) => {
                if app_id.is_none() {
                    problems.push("SANSUO_WECHAT_APP_ID is not set: the mini-program's AppID (wx...), needed for resident login".into());
                }
                if secret.is_none() {
                    problems.push("SANSUO_WECHAT_APP_SECRET is not set: the mini-program's AppSecret, needed for resident login".into());
                }
                None
            }
        };

        let data_keys = match get("SANSUO_DATA_KEYS") {
            Some(spec) => match KeyRing::parse(&spec) {
                Ok(ring) => Some(Arc::new(ring)),
                Err(e) => {
                    problems.push(format!(
                        "SANSUO_DATA_KEYS is not usable ({e}); write id:base64(32 random bytes), e.g. `k1:$(openssl rand -base64 32)`"
                    ));
                    None
                }
            },
            None => None,
        };
        let demo_key_file =
            (demo && data_keys.is_none()).then(|| crate::demo_key::key_file_beside(&database_url));

        let templates = match get("SANSUO_WECHAT_TEMPLATES") {
            None => BTreeMap::new(),
            Some(json) => serde_json::from_str(&json).unwrap_or_else(|e| {
                problems.push(format!(
                    "SANSUO_WECHAT_TEMPLATES is not valid ({e}); expected {{\"consultation_accepted\": {{\"template_id\", \"page\", \"fields\": {{\"thing1\": \"category\"}}}}}}"
                ));
                BTreeMap::new()
            }),
        };
        let miniprogram_state = match get("SANSUO_WECHAT_MINIPROGRAM_STATE").as_deref() {
            None | Some("formal") => MiniprogramState::Formal,
            Some("trial") => MiniprogramState::Trial,
            Some("developer") => MiniprogramState::Developer,
            Some(other) => {
                problems.push(format!(
                    "SANSUO_WECHAT_MINIPROGRAM_STATE=`{other}` must be formal, trial or developer"
                ));
                MiniprogramState::Formal
            }
        };

        let tip_key = match get("SANSUO_TIP_KEY") {
            Some(key) if key == EXAMPLE_TIP_KEY => {
                problems.push("SANSUO_TIP_KEY is still the example value; set a long random key (e.g. `openssl rand -hex 32`)".into());
                SecretString::from(key)
            }
            Some(key) if key.len() < MIN_JWT_SECRET_BYTES => {
                problems.push(format!("SANSUO_TIP_KEY must be at least {MIN_JWT_SECRET_BYTES} bytes (e.g. `openssl rand -hex 32`); changing it invalidates anonymous tippers' tracking tokens"));
                SecretString::from(key)
            }
            Some(key) => SecretString::from(key),
            // Never derived from another secret: whoever holds the JWT
            // secret must not be able to recompute reporter pseudonyms.
            // The demo keeps a random key in a file beside its database
            // (`tip_key_file`, read at start).
            None if demo => SecretString::from(String::new()),
            None => {
                problems.push("SANSUO_TIP_KEY is not set; set a long random key of its own (e.g. `openssl rand -hex 32`), never a copy of another secret, or run with --demo".into());
                SecretString::from(String::new())
            }
        };
        if !demo
            && !tip_key.expose_secret().is_empty()
            && tip_key.expose_secret() == jwt_secret.expose_secret()
        {
            problems.push("SANSUO_TIP_KEY must differ from SANSUO_JWT_SECRET: a key of its own, so the JWT secret cannot link anonymous tips".into());
        }
        let receipt_key = get("SANSUO_RECEIPT_KEY").map(|key| {
            if let Err(why) = sansuo_media::ReceiptSigner::parse(&key) {
                problems.push(format!("SANSUO_RECEIPT_KEY {why}"));
            }
            SecretString::from(key)
        });
        let receipt_key_file = receipt_key.is_none().then(|| {
            crate::demo_key::file_beside(&database_url, crate::demo_key::RECEIPT_KEY_FILE)
        });
        let tip_key_file = (demo && get("SANSUO_TIP_KEY").is_none())
            .then(|| crate::demo_key::file_beside(&database_url, crate::demo_key::TIP_KEY_FILE));
        let mut trusted_proxies = Vec::new();
        for part in get("SANSUO_TRUSTED_PROXIES")
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
        {
            let parsed = part
                .parse::<ipnet::IpNet>()
                .or_else(|_| part.parse::<std::net::IpAddr>().map(ipnet::IpNet::from));
            match parsed {
                Ok(net) => trusted_proxies.push(net),
                Err(_) => problems.push(format!(
                    "SANSUO_TRUSTED_PROXIES: `{part}` is not an address or a network like 10.0.0.0/8"
                )),
            }
        }
        let photo_store =
            PhotoStoreSetting::read(get("SANSUO_PHOTO_STORE").as_deref(), &database_url)
                .unwrap_or_else(|problem| {
                    problems.push(problem);
                    PhotoStoreSetting::Database
                });

        let cors_origins = read_origins(get("SANSUO_CORS_ORIGINS"), &mut problems);
        let write_limits = match get("SANSUO_RATE_LIMITS") {
            None => Default::default(),
            Some(spec) => sansuo_domain::limits::WritePolicies::parse(&spec).unwrap_or_else(|e| {
                problems.push(format!("SANSUO_RATE_LIMITS: {e}"));
                Default::default()
            }),
        };

        let metrics = MetricsExposure::read(
            get("SANSUO_METRICS_ADDR"),
            get("SANSUO_METRICS_TOKEN"),
            bind,
            demo,
            &mut problems,
        );

        let retention = read_retention(vars, &mut problems);
        let map_url_template = match get("SANSUO_MAP_URL_TEMPLATE") {
            Some(raw) => read_map_url_template(&raw)
                .map(Some)
                .unwrap_or_else(|problem| {
                    problems.push(problem);
                    None
                }),
            None if demo => Some(DEMO_MAP_URL_TEMPLATE.to_owned()),
            None => None,
        };

        if !problems.is_empty() {
            return Err(ConfigErrors(problems));
        }
        Ok(Config {
            bind,
            database_url,
            database_max_connections,
            database_busy_timeout,
            redis_url,
            redis_prefix,
            jwt_secret,
            access_token_ttl: chrono::Duration::seconds(access_secs as i64),
            refresh_token_ttl: chrono::Duration::seconds(refresh_secs as i64),
            staff_refresh_token_ttl: chrono::Duration::seconds(staff_refresh_secs as i64),
            trusted_proxies,
            wechat,
            offer_timeout: chrono::Duration::seconds(offer_secs as i64),
            staff_stream_max_life: Duration::from_secs(stream_secs),
            reconcile_every: Duration::from_secs(reconcile_secs),
            idle_poll: Duration::from_millis(idle_poll_ms),
            data_keys,
            demo_key_file,
            templates,
            miniprogram_state,
            notify_max_attempts,
            routers,
            inline_routes,
            push_token: get("SANSUO_WECHAT_PUSH_TOKEN").map(SecretString::from),
            public_base_url: get("SANSUO_PUBLIC_BASE_URL")
                .map(|u| u.trim_end_matches('/').to_owned())
                .filter(|u| !u.is_empty()),
            map_url_template,
            demo,
            tip_key,
            tip_key_file,
            receipt_key,
            receipt_key_file,
            photo_store,
            cors_origins,
            write_limits,
            metrics,
            retention,
        })
    }

    pub fn database(&self) -> DatabaseSettings {
        DatabaseSettings {
            url: self.database_url.clone(),
            max_connections: self.database_max_connections,
            busy_timeout: self.database_busy_timeout,
        }
    }

    pub fn jwt_secret_len(&self) -> usize {
        self.jwt_secret.expose_secret().len()
    }
}

/// The map link the demo shows when `SANSUO_MAP_URL_TEMPLATE` is unset, so
/// a tip's location can be tried out (Amap's public marker page; WGS-84, as
/// the mini-program reports locations).
pub const DEMO_MAP_URL_TEMPLATE: &str =
    "https://uri.amap.com/marker?position={lng},{lat}&coordinate=wgs84&callnative=0";

/// `SANSUO_MAP_URL_TEMPLATE`: an https URL naming `{lat}` and `{lng}`
/// (a template without them would link every tip to the same place; a
/// plain-http or script URL would open the console to downgrade or
/// injection). Blank reads as unset.
fn read_map_url_template(template: &str) -> Result<String, String> {
    let host = template.strip_prefix("https://").unwrap_or_default();
    let host_end = host.find(['/', '?', '#']).unwrap_or(host.len());
    let well_formed = !host[..host_end].is_empty()
        && !template
            .chars()
            .any(|c| c.is_whitespace() || c == '"' || c == '<' || c == '>')
        && template.contains("{lat}")
        && template.contains("{lng}");
    if well_formed {
        Ok(template.to_owned())
    } else {
        Err(format!(
            "SANSUO_MAP_URL_TEMPLATE: `{template}` is not a map link; write an https URL with {{lat}} and {{lng}} where the coordinates go (e.g. {DEMO_MAP_URL_TEMPLATE})"
        ))
    }
}

/// `SANSUO_CORS_ORIGINS`: `https://console.example.org,http://localhost:5173`.
/// Each must be an origin (scheme `http`/`https`, a host, an optional port;
/// no path, no `*`): a wildcard would hand residents' data to any page.
fn read_origins(raw: Option<String>, problems: &mut Vec<String>) -> Vec<String> {
    let Some(raw) = raw else {
        return Vec::new();
    };
    let mut origins = Vec::new();
    for origin in raw.split(',').map(str::trim).filter(|o| !o.is_empty()) {
        let rest = origin
            .strip_prefix("https://")
            .or_else(|| origin.strip_prefix("http://"));
        let ok = rest.is_some_and(|host| {
            !host.is_empty()
                && host
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-.:[]".contains(c))
        });
        if ok {
            origins.push(origin.to_owned());
        } else {
            problems.push(format!(
                "SANSUO_CORS_ORIGINS: `{origin}` is not an origin; write scheme://host[:port] (e.g. https://console.example.org), comma-separated, no paths and no `*`"
            ));
        }
    }
    origins
}

pub(crate) fn hex_random() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_map_link_is_https_with_both_coordinates_and_the_demo_has_one() {
        let template = "https://maps.example.cn/m?lat={lat}&lng={lng}";
        let config =
            Config::from_vars(&vars(&[("SANSUO_MAP_URL_TEMPLATE", template)]), true).unwrap();
        assert_eq!(config.map_url_template.as_deref(), Some(template));
        assert_eq!(
            Config::from_vars(&vars(&[]), true)
                .unwrap()
                .map_url_template
                .as_deref(),
            Some(DEMO_MAP_URL_TEMPLATE)
        );
        for bad in [
            "http://maps.example.cn/m?lat={lat}&lng={lng}",
            "https://maps.example.cn/m?lat={lat}",
            "https://maps.example.cn/m?lng={lng}",
            "https:///m?lat={lat}&lng={lng}",
            "javascript:alert({lat},{lng})",
            "https://maps.example.cn/m?q=\"{lat}\"&lng={lng}",
        ] {
            let err = Config::from_vars(&vars(&[("SANSUO_MAP_URL_TEMPLATE", bad)]), true)
                .err()
                .unwrap_or_else(|| panic!("{bad} accepted"));
            assert!(err.to_string().contains("SANSUO_MAP_URL_TEMPLATE"), "{err}");
        }
    }

    #[test]
    fn cors_origins_are_origins() {
        let config = Config::from_vars(
            &vars(&[(
                "SANSUO_CORS_ORIGINS",
                "https://console.example.org, http://localhost:5173",
            )]),
            true,
        )
        .unwrap();
        assert_eq!(
            config.cors_origins,
            ["https://console.example.org", "http://localhost:5173"]
        );
        assert!(
            Config::from_vars(&vars(&[]), true)
                .unwrap()
                .cors_origins
                .is_empty()
        );
        for bad in ["*", "https://x.org/path", "console.example.org", "https://"] {
            let err = Config::from_vars(&vars(&[("SANSUO_CORS_ORIGINS", bad)]), true)
                .unwrap_err()
                .to_string();
            assert!(
                err.contains("SANSUO_CORS_ORIGINS") && err.contains(bad),
                "{err}"
            );
        }
    }

    fn vars(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn retention_periods_default_and_each_bad_one_is_named() {
        use sansuo_domain::retention::{RecordKind, RetentionPolicy};
        let config = Config::from_vars(&vars(&[]), true).unwrap();
        assert_eq!(config.retention, RetentionPolicy::default());
        let config =
            Config::from_vars(&vars(&[("SANSUO_RETENTION_NOTIFICATION_DAYS", "30")]), true)
                .unwrap();
        assert_eq!(config.retention.days(RecordKind::Notifications), 30);
        let err = Config::from_vars(
            &vars(&[
                ("SANSUO_RETENTION_CASE_DAYS", "forever"),
                ("SANSUO_RETENTION_PHOTO_DAYS", "0"),
            ]),
            true,
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("SANSUO_RETENTION_CASE_DAYS=`forever`"),
            "{err}"
        );
        assert!(err.contains("SANSUO_RETENTION_PHOTO_DAYS=`0`"), "{err}");
    }

    #[test]
    fn demo_mode_runs_with_nothing_configured() {
        let config = Config::from_vars(&vars(&[]), true).unwrap();
        assert_eq!(config.database_url, DEFAULT_DATABASE_URL);
        assert!(config.redis_url.is_none());
        assert!(config.wechat.is_none());
        assert!(config.jwt_secret_len() >= 32);
        assert!(config.data_keys.is_none());
        assert_eq!(
            config.demo_key_file,
            Some(std::path::PathBuf::from("sansuo.key")),
            "the demo keeps its data key beside its SQLite file"
        );
        assert_eq!(
            config.tip_key_file,
            Some(std::path::PathBuf::from("sansuo.tip-key")),
            "and its tip key: tracking tokens outlive a restart and a restore"
        );
    }

    #[test]
    fn data_keys_are_parsed_and_bad_ones_named() {
        let key = "k1:BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=";
        let config = Config::from_vars(&vars(&[("SANSUO_DATA_KEYS", key)]), true).unwrap();
        assert!(format!("{config:?}").contains("k1"));
        assert_eq!(
            config.demo_key_file, None,
            "configured keys win over the demo file"
        );
        assert!(
            !format!("{config:?}").contains("BwcH"),
            "keys never appear in Debug"
        );
        let err = Config::from_vars(&vars(&[("SANSUO_DATA_KEYS", "k1:short")]), true).unwrap_err();
        assert!(err.to_string().contains("SANSUO_DATA_KEYS"), "{err}");
        // Outside demo mode a missing key disables phone binding, it does not stop the server.
        let wx = [
            ("SANSUO_WECHAT_APP_ID", "wx1"),
            ("SANSUO_WECHAT_APP_SECRET", "s"),
            ("SANSUO_JWT_SECRET", "0123456789abcdef0123456789abcdef"),
            ("SANSUO_TIP_KEY", "fedcba9876543210fedcba9876543210"),
        ];
        assert!(
            Config::from_vars(&vars(&wx), false)
                .unwrap()
                .data_keys
                .is_none()
        );
    }

    #[test]
    fn production_refuses_missing_secrets_and_names_each() {
        let err = Config::from_vars(&vars(&[]), false).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("SANSUO_JWT_SECRET is not set"), "{text}");
        assert!(text.contains("SANSUO_WECHAT_APP_ID is not set"), "{text}");
        assert!(
            text.contains("SANSUO_WECHAT_APP_SECRET is not set"),
            "{text}"
        );
        assert!(text.contains("SANSUO_TIP_KEY is not set"), "{text}");
        assert_eq!(err.0.len(), 4);
    }

    #[test]
    fn production_refuses_the_example_and_short_secrets() {
        let wx = [
            ("SANSUO_WECHAT_APP_ID", "wx1"),
            ("SANSUO_WECHAT_APP_SECRET", "s"),
        ];
        let mut example = vars(&wx);
        example.insert("SANSUO_JWT_SECRET".into(), EXAMPLE_JWT_SECRET.into());
        assert!(
            Config::from_vars(&example, false)
                .unwrap_err()
                .to_string()
                .contains("example value")
        );
        let mut short = vars(&wx);
        short.insert("SANSUO_JWT_SECRET".into(), "short".into());
        assert!(
            Config::from_vars(&short, false)
                .unwrap_err()
                .to_string()
                .contains("at least 32 bytes")
        );
        let mut good = vars(&wx);
        good.insert("SANSUO_JWT_SECRET".into(), "x".repeat(40));
        let err = Config::from_vars(&good, false).unwrap_err().to_string();
        assert!(err.contains("SANSUO_TIP_KEY is not set"), "{err}");
        // Never a copy of the JWT secret.
        good.insert("SANSUO_TIP_KEY".into(), "x".repeat(40));
        let err = Config::from_vars(&good, false).unwrap_err().to_string();
        assert!(err.contains("must differ from SANSUO_JWT_SECRET"), "{err}");
        good.insert("SANSUO_TIP_KEY".into(), "t".repeat(40));
        assert!(Config::from_vars(&good, false).is_ok());
        let mut example_tip_key = good.clone();
        example_tip_key.insert("SANSUO_TIP_KEY".into(), EXAMPLE_TIP_KEY.into());
        assert!(
            Config::from_vars(&example_tip_key, false)
                .unwrap_err()
                .to_string()
                .contains("SANSUO_TIP_KEY is still the example value")
        );
    }

    /// Copying `deploy/sansuo.env.example` without replacing its
    /// placeholders must not start a server with known secrets.
    #[test]
    fn the_example_file_is_refused_until_its_placeholders_are_replaced() {
        let example = include_str!("../../../deploy/sansuo.env.example");
        let vars: HashMap<String, String> = example
            .lines()
            .filter(|line| !line.trim_start().starts_with('#'))
            .filter_map(|line| line.split_once('='))
            .map(|(k, v)| (k.trim().to_owned(), v.to_owned()))
            .collect();
        for name in [
            "SANSUO_TIP_KEY",
            "SANSUO_PHOTO_STORE",
            "SANSUO_DATA_KEYS",
            "SANSUO_RECEIPT_KEY",
        ] {
            assert!(
                vars.contains_key(name),
                "{name} is missing from the example"
            );
        }
        let text = Config::from_vars(&vars, false).unwrap_err().to_string();
        for name in [
            "SANSUO_JWT_SECRET",
            "SANSUO_TIP_KEY",
            "SANSUO_DATA_KEYS",
            "SANSUO_RECEIPT_KEY",
        ] {
            assert!(text.contains(name), "{name} not refused: {text}");
        }
    }

    #[test]
    fn a_receipt_key_is_checked_at_start_and_a_bad_one_named_without_echo() {
        let err = Config::from_vars(&vars(&[("SANSUO_RECEIPT_KEY", "not-a-key-at-all")]), true)
            .unwrap_err()
            .to_string();
        assert!(err.contains("SANSUO_RECEIPT_KEY"), "{err}");
        assert!(!err.contains("not-a-key-at-all"), "{err}");
        let pem = sansuo_media::ReceiptSigner::new_pem([3; 32]);
        let config =
            Config::from_vars(&vars(&[("SANSUO_RECEIPT_KEY", pem.as_str())]), true).unwrap();
        assert!(config.receipt_key.is_some() && config.receipt_key_file.is_none());
        let config = Config::from_vars(&vars(&[]), true).unwrap();
        assert_eq!(
            config.receipt_key_file,
            Some(std::path::PathBuf::from("sansuo.receipt-key"))
        );
    }

    #[test]
    fn trusted_proxies_are_addresses_or_networks_and_a_bad_one_is_named() {
        let config = Config::from_vars(
            &vars(&[("SANSUO_TRUSTED_PROXIES", "10.0.0.0/8, 127.0.0.1,::1")]),
            true,
        )
        .unwrap();
        let shown: Vec<String> = config
            .trusted_proxies
            .iter()
            .map(|n| n.to_string())
            .collect();
        assert_eq!(shown, ["10.0.0.0/8", "127.0.0.1/32", "::1/128"]);
        assert_eq!(config.staff_refresh_token_ttl, chrono::Duration::hours(12));
        let err = Config::from_vars(
            &vars(&[("SANSUO_TRUSTED_PROXIES", "10.0.0.0/8,proxy")]),
            true,
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("SANSUO_TRUSTED_PROXIES: `proxy`"), "{err}");
    }

    #[test]
    fn metrics_are_off_in_production_unless_a_port_or_token_is_set_and_bad_ones_are_named() {
        let mut vars = vars(&[
            ("SANSUO_WECHAT_APP_ID", "wx1"),
            ("SANSUO_WECHAT_APP_SECRET", "s"),
            ("SANSUO_JWT_SECRET", "0123456789abcdef0123456789abcdef"),
            ("SANSUO_TIP_KEY", "fedcba9876543210fedcba9876543210"),
        ]);
        let config = Config::from_vars(&vars, false).unwrap();
        assert!(matches!(config.metrics, MetricsExposure::Off));
        let demo = Config::from_vars(&HashMap::new(), true).unwrap();
        assert!(matches!(
            demo.metrics,
            MetricsExposure::ApiPort { token: None }
        ));

        vars.insert("SANSUO_METRICS_TOKEN".into(), "0123456789abcdef0123".into());
        let config = Config::from_vars(&vars, false).unwrap();
        assert!(matches!(
            config.metrics,
            MetricsExposure::ApiPort { token: Some(_) }
        ));
        assert!(
            !format!("{config:?}").contains("0123456789abcdef0123"),
            "the token stays out of logs"
        );
        vars.insert("SANSUO_METRICS_ADDR".into(), "127.0.0.1:9090".into());
        let config = Config::from_vars(&vars, false).unwrap();
        assert!(matches!(
            config.metrics,
            MetricsExposure::OwnPort { token: Some(_), .. }
        ));

        vars.insert("SANSUO_METRICS_TOKEN".into(), "short".into());
        vars.insert("SANSUO_METRICS_ADDR".into(), "nine-oh-nine-oh".into());
        let errors = Config::from_vars(&vars, false).unwrap_err().to_string();
        assert!(
            errors.contains("SANSUO_METRICS_TOKEN must be at least 16 bytes"),
            "{errors}"
        );
        assert!(
            errors.contains("SANSUO_METRICS_ADDR=`nine-oh-nine-oh`"),
            "{errors}"
        );
        vars.remove("SANSUO_METRICS_TOKEN");
        vars.insert("SANSUO_BIND".into(), "0.0.0.0:8080".into());
        vars.insert("SANSUO_METRICS_ADDR".into(), "0.0.0.0:8080".into());
        let errors = Config::from_vars(&vars, false).unwrap_err().to_string();
        assert!(
            errors.contains("must use another port than SANSUO_BIND"),
            "{errors}"
        );
    }

    #[test]
    fn bad_values_are_reported_together() {
        let err = Config::from_vars(
            &vars(&[
                ("SANSUO_BIND", "nowhere"),
                ("DATABASE_URL", "mysql://x"),
                ("REDIS_URL", "http://x"),
                ("SANSUO_OFFER_TIMEOUT_SECS", "soon"),
            ]),
            true,
        )
        .unwrap_err();
        assert_eq!(err.0.len(), 4, "{err}");
    }

    #[test]
    fn the_database_alone_needs_no_secret_or_wechat_credential() {
        let settings = DatabaseSettings::from_vars(&vars(&[(
            "DATABASE_URL",
            "postgres://u:hunter2@db/sansuo",
        )]))
        .unwrap();
        assert_eq!(settings.max_connections, 20);
        assert!(!format!("{settings:?}").contains("hunter2"));
        let err = DatabaseSettings::from_vars(&vars(&[
            ("DATABASE_URL", "mysql://x"),
            ("SANSUO_DB_MAX_CONNECTIONS", "0"),
        ]))
        .unwrap_err();
        assert_eq!(err.0.len(), 2, "{err}");
        assert!(
            err.0.iter().any(|p| p.starts_with("DATABASE_URL=")),
            "{err}"
        );
        assert!(
            err.0
                .iter()
                .any(|p| p.starts_with("SANSUO_DB_MAX_CONNECTIONS=")),
            "{err}"
        );
    }

    #[test]
    fn the_sqlite_busy_timeout_is_a_setting_checked_at_start_up() {
        let default = DatabaseSettings::from_vars(&vars(&[])).unwrap();
        assert_eq!(
            default.busy_timeout,
            Duration::from_millis(DEFAULT_BUSY_TIMEOUT_MS)
        );
        let set =
            DatabaseSettings::from_vars(&vars(&[("SANSUO_DB_BUSY_TIMEOUT_MS", "250")])).unwrap();
        assert_eq!(set.busy_timeout, Duration::from_millis(250));
        for bad in ["soon", "-1", "60001", "1.5"] {
            let err = DatabaseSettings::from_vars(&vars(&[("SANSUO_DB_BUSY_TIMEOUT_MS", bad)]))
                .unwrap_err();
            assert_eq!(err.0.len(), 1, "{err}");
            assert!(
                err.0[0].starts_with(&format!("SANSUO_DB_BUSY_TIMEOUT_MS=`{bad}`")),
                "{err}"
            );
        }
    }

    #[test]
    fn urls_are_redacted_in_debug_output() {
        assert_eq!(
            redact_url("postgres://u:pw@db:5432/x"),
            "postgres://db:5432/x"
        );
        let mut v = vars(&[("DATABASE_URL", "postgres://u:hunter2@db/x")]);
        v.insert("SANSUO_JWT_SECRET".into(), "y".repeat(40));
        let config = Config::from_vars(&v, true).unwrap();
        let debug = format!("{config:?}");
        assert!(
            !debug.contains("hunter2") && !debug.contains(&"y".repeat(40)),
            "{debug}"
        );
    }
}
