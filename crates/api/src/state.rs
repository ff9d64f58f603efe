use crate::auth::TokenIssuer;
use sansuo_queue::SharedQueue;
use sansuo_store::Store;
use sansuo_wechat::WechatClient;
use std::sync::Arc;

/// Settings the handlers need, already validated by the server's config.
#[derive(Debug, Clone)]
pub struct ApiConfig {
    /// `POST /auth/demo` logs residents in without WeChat (demo mode only).
    pub demo_login: bool,
    /// Subscribe-message templates by event name, for the mini-program to
    /// ask residents' permission (`wx.requestSubscribeMessage`).
    pub templates: Vec<(String, String)>,
    /// Staff subscribe-message templates by event name, for the
    /// mini-program to ask staff members' permission.
    pub staff_templates: Vec<(String, String)>,
    /// The message-push token set in the mini-program's admin console.
    pub push_token: Option<secrecy::SecretString>,
    /// Where WeChat fetches a photo for its asynchronous check
    /// (`SANSUO_PUBLIC_BASE_URL`); `None`: photos are not sent.
    pub public_base_url: Option<String>,
    /// The district's map link with `{lat}` and `{lng}`
    /// (`SANSUO_MAP_URL_TEMPLATE`, validated at start-up); `None`: no link.
    pub map_url_template: Option<String>,
    /// Reverse proxies whose `X-Forwarded-For` names the client
    /// (`SANSUO_TRUSTED_PROXIES`); empty: the peer address is the client.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// How often a resident may write, per action (`SANSUO_RATE_LIMITS`).
    pub write_limits: sansuo_domain::limits::WritePolicies,
    /// The longest one staff event stream stays open
    /// (`SANSUO_STAFF_STREAM_MAX_SECS`).
    pub staff_stream_max_life: std::time::Duration,
}

/// Routes a case this instance just stored without waiting for the
/// outbox's trip through the queue (the worker's `route_soon`; the server
/// wires it). Returns at once; the outbox stays the safety net, so an
/// implementation may skip any case.
pub trait RouteSoon: Send + Sync {
    fn route_soon(&self, case: sansuo_domain::CaseId, request_id: Option<String>);
}

/// Shared by every handler; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub queue: SharedQueue,
    /// `None` when no WeChat credentials are configured (demo mode).
    pub wechat: Option<WechatClient>,
    pub tokens: Arc<TokenIssuer>,
    /// Seals personal data at rest (phone numbers); `None` when no data
    /// keys are configured, and then nothing personal is accepted.
    pub vault: Option<Arc<sansuo_vault::KeyRing>>,
    pub config: ApiConfig,
    /// Keyed hashes of tip reporters and their tracking tokens.
    pub pseudonyms: Arc<sansuo_vault::Pseudonymiser>,
    /// Where tip photos' bytes live.
    pub photos: Arc<dyn sansuo_media::PhotoStore>,
    pub photo_limits: sansuo_media::Limits,
    /// Signs photo receipts; its public key is published.
    pub receipts: Arc<sansuo_media::ReceiptSigner>,
    /// Submission limits shared by every instance (Redis) or in-process.
    pub limiter: sansuo_queue::SharedLimiter,
    /// Whether anyone was told anything lately, read once per instance
    /// for all its staff event streams.
    pub staff_pulse: Arc<crate::staff_stream::StaffEventPulse>,
    /// Routes new cases in the request's instance (see [`RouteSoon`]).
    pub router: Arc<dyn RouteSoon>,
}
