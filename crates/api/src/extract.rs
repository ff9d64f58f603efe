//! Extractors: the edge where raw requests become typed values. Body,
//! path and query failures are turned into `ApiError`s with stable codes
//! here, so no handler ever sees a malformed request.
use crate::error::ErrorCode;

use crate::ApiError;
use crate::auth::{Principal, TokenIssuer, Verified};
use crate::middleware::RequestId;
use crate::state::AppState;
use actix_web::error::{JsonPayloadError, PathError, QueryPayloadError};
use actix_web::{FromRequest, HttpMessage, HttpRequest, dev::Payload, web};
use sansuo_domain::lang::Lang;
use sansuo_domain::{OrgUnitId, ResidentId, StaffId, StaffRole};
use std::future::{Future, Ready, ready};

pub fn json_config() -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(crate::MAX_JSON_BODY)
        .error_handler(|err, _req| json_error(err).into())
}

fn json_error(err: JsonPayloadError) -> ApiError {
    match err {
        JsonPayloadError::OverflowKnownLength { .. } | JsonPayloadError::Overflow { .. } => {
            ApiError::new(
                ErrorCode::BodyTooLarge,
                format!("the body is larger than {} bytes", crate::MAX_JSON_BODY),
            )
        }
        // Cut off while streaming by `middleware::body_limit`.
        JsonPayloadError::Payload(actix_web::error::PayloadError::Overflow) => {
            crate::middleware::body_too_large()
        }
        JsonPayloadError::ContentType => ErrorCode::UnsupportedMediaType.into(),
        JsonPayloadError::Deserialize(e) => json_body_error(e),
        other => ApiError::malformed_json(other.to_string()),
    }
}

/// A JSON body that serde refused: the wrong shape (422 `invalid_body`) or
/// not JSON at all (400 `malformed_json`); serde names line and column.
pub(crate) fn json_body_error(e: serde_json::Error) -> ApiError {
    if e.is_data() {
        ApiError::invalid_body(e.to_string())
    } else {
        ApiError::malformed_json(format!("the body is not valid JSON: {e}"))
    }
}

pub fn path_config() -> web::PathConfig {
    web::PathConfig::default().error_handler(|err: PathError, req| {
        // `GET /tips/with-photos` reaches `GET /tips/{id}`, but the literal
        // path is its own resource, which takes only POST: 405, not 400.
        match crate::handlers::KnownPaths::method_not_allowed(req) {
            Some(allow) => actix_web::error::InternalError::from_response(
                err,
                crate::handlers::method_not_allowed(req, &allow),
            )
            .into(),
            None => ApiError::bad_parameter(format!("bad path parameter: {err}")).into(),
        }
    })
}

pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|err: QueryPayloadError, _req| {
        ApiError::bad_parameter(format!("bad query parameter: {err}")).into()
    })
}

fn state(req: &HttpRequest) -> Result<&AppState, ApiError> {
    req.app_data::<web::Data<AppState>>()
        .map(|d| d.get_ref())
        .ok_or_else(|| ApiError::internal("application state missing"))
}

/// Whether the request carries a validly signed administrator's token
/// (the session is checked later, by `middleware::authenticate`). Cheap
/// and synchronous: the body limits ask it before reading a byte.
pub(crate) fn bears_administrator_token(req: &HttpRequest) -> bool {
    matches!(
        verified(req).map(|v| v.principal),
        Ok(Principal::Staff {
            role: StaffRole::Admin,
            ..
        })
    )
}

fn verified(req: &HttpRequest) -> Result<Verified, ApiError> {
    let header = req
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)
        .ok_or_else(|| ApiError::unauthenticated("send `Authorization: Bearer <access token>`"))?;
    let token = header
        .to_str()
        .ok()
        .and_then(|h| h.strip_prefix("Bearer "))
        .ok_or_else(|| {
            ApiError::unauthenticated("the Authorization header must be `Bearer <access token>`")
        })?;
    let tokens: &TokenIssuer = &state(req)?.tokens;
    tokens.verify(token.trim()).map_err(|e| match e {
        crate::auth::TokenError::Expired => ApiError::new(
            ErrorCode::TokenExpired,
            "the access token has expired; refresh it",
        ),
        crate::auth::TokenError::Invalid => {
            ApiError::unauthenticated("the access token is not valid")
        }
    })
}

/// Whether a verified token's session still stands. A resident's holds
/// until the account is deleted (at once through the instance that deleted
/// it, within a second on the others). A
/// staff member's holds while the account is active, its epoch is the
/// token's (a deactivation, password change or new role or unit moved it
/// on), it has the token's role and unit, and it is not a demo account on a
/// server outside the demo. Each instance reads the deleted residents, and
/// each staff account, at most once a second (`Store::resident_session`,
/// `Store::staff_session`).
async fn session_stands(state: &AppState, verified: Verified) -> Result<(), ApiError> {
    let (id, role, scope) = match verified.principal {
        Principal::Staff { id, role, scope } => (id, role, scope),
        Principal::Resident(id) => {
            return if state.store.identity().resident_session(id).await? {
                Ok(())
            } else {
                Err(ErrorCode::SessionEnded.into())
            };
        }
    };
    match state.store.identity().staff_session(id).await? {
        Some(s)
            if s.active
                && s.epoch == verified.epoch
                && s.role == role
                && s.scope == scope
                && (!s.demo || state.config.demo_login) =>
        {
            Ok(())
        }
        _ => Err(ErrorCode::SessionEnded.into()),
    }
}

/// What [`crate::middleware::authenticate`] found for a request: the
/// principal of a valid token whose session stands, or the 401 (or the
/// store's failure) it met. Kept in the request's extensions, where the
/// role extractors read it without waiting.
#[derive(Clone)]
pub(crate) struct Authentication(Result<Principal, ApiError>);

/// The asynchronous half of authentication, once per request: decode the
/// bearer token and check its session. The future owns what it needs, so
/// the middleware can hand the request on after it.
pub(crate) fn authentication(req: &HttpRequest) -> impl Future<Output = Authentication> + 'static {
    let verified = verified(req);
    let state = req.app_data::<web::Data<AppState>>().cloned();
    async move {
        let checked = async {
            let verified = verified?;
            let state = state.ok_or_else(|| ApiError::internal("application state missing"))?;
            session_stands(&state, verified).await?;
            Ok(verified.principal)
        };
        Authentication(checked.await)
    }
}

/// The caller's principal as the middleware found it, handed to `accept`
/// (which says whether this extractor takes it). Synchronous: a role
/// extractor answers 401/403 on its first poll, before any body, path or
/// query extractor of the same handler can answer 400/422.
pub(crate) fn authenticated<T>(
    req: &HttpRequest,
    accept: impl FnOnce(Principal) -> Result<T, ApiError>,
) -> Result<T, ApiError> {
    let found = req
        .extensions()
        .get::<Authentication>()
        .map(|found| found.0.clone());
    match found {
        Some(principal) => principal.and_then(|p| {
            crate::audit::note_request(req, &p);
            accept(p)
        }),
        None => Err(ApiError::internal(
            "no authentication for this request: `middleware::authenticate` is not wrapped on its scope",
        )),
    }
}

type AuthFuture<T> = Ready<Result<T, ApiError>>;

/// A request by a logged-in resident.
pub struct ResidentAuth(pub ResidentId);

impl FromRequest for ResidentAuth {
    type Error = ApiError;
    type Future = AuthFuture<Self>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(authenticated(req, |p| match p {
            Principal::Resident(id) => Ok(ResidentAuth(id)),
            Principal::Staff { .. } => Err(ApiError::forbidden("this endpoint is for residents")),
        }))
    }
}

/// An extractor for the staff members of one role: `$name { id, scope }`,
/// 403 with `$who` named for anyone else.
macro_rules! role_auth {
    ($(#[$doc:meta])* $name:ident, $role:ident, $who:literal) => {
        $(#[$doc])*
        pub struct $name {
            pub id: StaffId,
            pub scope: OrgUnitId,
        }

        impl $name {
            pub fn principal(&self) -> Principal {
                Principal::Staff {
                    id: self.id,
                    role: StaffRole::$role,
                    scope: self.scope,
                }
            }
        }

        impl FromRequest for $name {
            type Error = ApiError;
            type Future = AuthFuture<Self>;

            fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
                ready(authenticated(req, |p| match p {
                    Principal::Staff {
                        id,
                        role: StaffRole::$role,
                        scope,
                    } => Ok($name { id, scope }),
                    _ => Err(ApiError::forbidden(concat!("this endpoint is for ", $who))),
                }))
            }
        }
    };
}

role_auth!(
    /// A request by a logged-in lawyer.
    LawyerAuth,
    Lawyer,
    "lawyers"
);
role_auth!(
    /// A request by a logged-in mediator.
    MediatorAuth,
    Mediator,
    "mediators"
);
role_auth!(
    /// A request by a logged-in community police officer.
    OfficerAuth,
    Officer,
    "officers"
);

/// A logged-in coordinator (not an administrator), as [`CaseReader`] finds one.
pub struct CoordinatorAuth {
    pub id: StaffId,
    pub scope: OrgUnitId,
}

/// Who reads a case's staff view of one service: its handler role `H`
/// (`LawyerAuth`, `MediatorAuth`, `OfficerAuth`: the cases they own or are
/// offered, as the handler checks), or a coordinator or administrator, who
/// supervises and so reads every case in their subtree (a district
/// administrator: the district): full thread and history, personal data
/// masked as for any non-owner. Reading is not owning: handlers that act on
/// a case take `H` itself, never this. Anyone else gets `H`'s 403.
pub enum CaseReader<H> {
    Handler(H),
    Coordinator(CoordinatorAuth),
}

impl<H> FromRequest for CaseReader<H>
where
    H: FromRequest<Error = ApiError, Future = AuthFuture<H>>,
{
    type Error = ApiError;
    type Future = AuthFuture<Self>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let coordinator = authenticated(req, |p| match p {
            Principal::Staff {
                id,
                role: StaffRole::Coordinator | StaffRole::Admin,
                scope,
            } => Ok(Some(CoordinatorAuth { id, scope })),
            _ => Ok(None),
        });
        ready(match coordinator {
            Err(e) => Err(e),
            Ok(Some(coordinator)) => Ok(CaseReader::Coordinator(coordinator)),
            Ok(None) => H::from_request(req, payload)
                .into_inner()
                .map(CaseReader::Handler),
        })
    }
}

/// A staff member the routing engine offers cases to (lawyers, mediators,
/// officers: `domain::dispatch::is_offered_cases`). Which cases, of which
/// service, is the ladders' business, not this extractor's.
pub struct CaseHandlerAuth {
    pub id: StaffId,
    pub role: StaffRole,
    pub scope: OrgUnitId,
}

impl CaseHandlerAuth {
    pub fn principal(&self) -> Principal {
        Principal::Staff {
            id: self.id,
            role: self.role,
            scope: self.scope,
        }
    }
}

impl FromRequest for CaseHandlerAuth {
    type Error = ApiError;
    type Future = AuthFuture<Self>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(authenticated(req, |p| match p {
            Principal::Staff { id, role, scope }
                if sansuo_domain::dispatch::is_offered_cases(role) =>
            {
                Ok(CaseHandlerAuth { id, role, scope })
            }
            _ => Err(ApiError::forbidden(
                "this endpoint is for staff who handle cases (lawyers, mediators, officers)",
            )),
        }))
    }
}

/// A mediator or a coordinator: who may file a case for a resident who came
/// in person (代办), within their own subtree.
pub struct IntakeAuth {
    pub id: StaffId,
    pub role: StaffRole,
    pub scope: OrgUnitId,
}

impl IntakeAuth {
    pub fn principal(&self) -> Principal {
        Principal::Staff {
            id: self.id,
            role: self.role,
            scope: self.scope,
        }
    }
}

impl FromRequest for IntakeAuth {
    type Error = ApiError;
    type Future = AuthFuture<Self>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(authenticated(req, |p| match p {
            Principal::Staff {
                id,
                role: role @ (StaffRole::Mediator | StaffRole::Coordinator),
                scope,
            } => Ok(IntakeAuth { id, role, scope }),
            _ => Err(ApiError::forbidden(
                "this endpoint is for mediators and coordinators",
            )),
        }))
    }
}

/// Any logged-in staff member.
pub struct StaffAuth {
    pub id: StaffId,
}

impl FromRequest for StaffAuth {
    type Error = ApiError;
    type Future = AuthFuture<Self>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(authenticated(req, |p| match p {
            Principal::Staff { id, .. } => Ok(StaffAuth { id }),
            Principal::Resident(_) => Err(ApiError::forbidden("this endpoint is for staff")),
        }))
    }
}

/// The language the client asked for resident-facing words in
/// (`Accept-Language`; Chinese unless English is preferred).
#[derive(Debug, Clone, Copy, Default)]
pub struct ClientLang(pub Lang);

impl FromRequest for ClientLang {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let header = req
            .headers()
            .get(actix_web::http::header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok());
        ready(Ok(ClientLang(Lang::from_accept_language(header))))
    }
}

impl FromRequest for RequestId {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        // Set by the request-id middleware; absent only in handler unit tests.
        ready(Ok(req
            .extensions()
            .get::<RequestId>()
            .cloned()
            .unwrap_or_else(RequestId::generate)))
    }
}

/// A coordinator or administrator, acting within the subtree of `scope`.
pub struct AdminAuth {
    pub id: StaffId,
    pub role: StaffRole,
    pub scope: OrgUnitId,
}

impl AdminAuth {
    pub fn principal(&self) -> Principal {
        Principal::Staff {
            id: self.id,
            role: self.role,
            scope: self.scope,
        }
    }
}

impl FromRequest for AdminAuth {
    type Error = ApiError;
    type Future = AuthFuture<Self>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(authenticated(req, |p| match p {
            Principal::Staff {
                id,
                role: role @ (StaffRole::Coordinator | StaffRole::Admin),
                scope,
            } => Ok(AdminAuth { id, role, scope }),
            _ => Err(ApiError::forbidden(
                "this endpoint is for coordinators and administrators",
            )),
        }))
    }
}

/// The header a client names a retry with.
pub const IDEMPOTENCY_HEADER: &str = "Idempotency-Key";

/// The optional `Idempotency-Key` header, parsed once: absent is `None`;
/// anything but 8 to 128 visible ASCII characters is 422
/// `validation_failed` (the spec documents the same pattern).
pub struct Idempotency(pub Option<sansuo_domain::values::IdempotencyKey>);

impl Idempotency {
    /// The key with the request's meaning hashed (SHA-256 of the body's
    /// canonical JSON): the same key with a different body is refused later
    /// as `idempotency_key_reused`.
    pub fn with_body<T: serde::Serialize>(
        self,
        body: &T,
    ) -> Result<Option<(sansuo_domain::values::IdempotencyKey, String)>, ApiError> {
        use sha2::{Digest, Sha256};
        match self.0 {
            None => Ok(None),
            Some(key) => {
                let canonical = serde_json::to_vec(body).map_err(ApiError::internal)?;
                Ok(Some((key, hex::encode(Sha256::digest(canonical)))))
            }
        }
    }
}

impl FromRequest for Idempotency {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(match req.headers().get(IDEMPOTENCY_HEADER) {
            None => Ok(Idempotency(None)),
            Some(value) => {
                sansuo_domain::values::IdempotencyKey::parse(value.to_str().unwrap_or(""))
                    .map(|key| Idempotency(Some(key)))
                    .map_err(ApiError::from)
            }
        })
    }
}

/// An administrator (not a coordinator): district-wide settings such as the
/// calendar, workflows and Open311 keys. 403 `forbidden` for everyone else.
pub struct AdministratorAuth {
    pub id: StaffId,
    /// The administrator's district (or the unit they administer).
    pub scope: OrgUnitId,
}

impl FromRequest for AdministratorAuth {
    type Error = ApiError;
    type Future = AuthFuture<Self>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(authenticated(req, |p| match p {
            Principal::Staff {
                id,
                role: StaffRole::Admin,
                scope,
            } => Ok(AdministratorAuth { id, scope }),
            _ => Err(ApiError::forbidden("this endpoint is for administrators")),
        }))
    }
}

/// A resident's write, counted against its action's policy
/// (`domain::limits`, overridable by `SANSUO_RATE_LIMITS`) before the
/// handler runs: over it, 429 `rate_limited` with `Retry-After` and a
/// message in Chinese. Every resident write takes this instead of
/// [`ResidentAuth`] (a source test, `write_limits`, fails on one that
/// does not). The count is kept under a keyed pseudonym of the resident,
/// so the limiter's store holds no resident ids.
pub struct ResidentWrite<A>(pub ResidentId, std::marker::PhantomData<A>);

/// The action a [`ResidentWrite`] counts against.
pub trait WriteAction {
    const ACTION: sansuo_domain::limits::ResidentAction;
}

/// Marker types, one per [`sansuo_domain::limits::ResidentAction`].
pub mod write {
    use super::WriteAction;
    use sansuo_domain::limits::ResidentAction;

    macro_rules! markers {
        ($($marker:ident),* $(,)?) => {
            $(
                pub enum $marker {}
                impl WriteAction for $marker {
                    const ACTION: ResidentAction = ResidentAction::$marker;
                }
            )*
        };
    }

    markers!(
        AskQuestion,
        ConsultationMessage,
        ChangeCase,
        RateService,
        BookMediation,
        AnswerMediation,
        MediationMessage,
        TipFollowUp,
        TipPhotos,
        MeToo,
        BindPhone,
        Subscribe,
        Urge,
        DeleteAccount,
    );
}

/// Count one write of `action` by `resident`; over the policy, 429.
pub(crate) async fn within_write_limit(
    state: &AppState,
    action: sansuo_domain::limits::ResidentAction,
    resident: ResidentId,
) -> Result<(), ApiError> {
    use sansuo_queue::RateDecision;
    let policy = state.config.write_limits.policy(action);
    let who = state
        .pseudonyms
        .pseudonym("rate-limit", resident.to_string().as_bytes());
    let key = format!("write:{}:{who}", action.name());
    let window = std::time::Duration::from_secs(policy.window_seconds);
    match state.limiter.hit(&key, policy.max, window).await {
        Ok(RateDecision::Allowed { .. }) => Ok(()),
        Ok(RateDecision::Limited { retry_after }) => {
            let seconds = retry_after.as_secs().max(1);
            Err(ApiError::rate_limited(
                ErrorCode::RateLimited,
                format!("操作太频繁了，请 {seconds} 秒后再试。"),
                seconds,
            ))
        }
        Err(e) => {
            // As for tips: a Redis restart must not stop residents.
            tracing::warn!(error = %e, "rate limiter unavailable; letting the request through");
            Ok(())
        }
    }
}

impl<A: WriteAction + 'static> FromRequest for ResidentWrite<A> {
    type Error = ApiError;
    type Future = futures::future::LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let resident = authenticated(req, |p| match p {
            Principal::Resident(id) => Ok(id),
            Principal::Staff { .. } => Err(ApiError::forbidden("this endpoint is for residents")),
        });
        let state = req.app_data::<web::Data<AppState>>().cloned();
        // A wrong role or no session is answered on the first poll; only
        // the count waits.
        Box::pin(async move {
            let resident = resident?;
            let state = state.ok_or_else(|| ApiError::internal("application state missing"))?;
            within_write_limit(&state, A::ACTION, resident).await?;
            Ok(ResidentWrite(resident, std::marker::PhantomData))
        })
    }
}
