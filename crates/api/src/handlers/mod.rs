use crate::error::ErrorCode;
pub mod admin;
pub mod auth;
pub mod canned_replies;
pub mod categories;
pub mod communities;
pub mod consultations;
pub mod extensions;
pub mod health;
pub mod intake;
pub mod mediations;
pub mod open311;
pub mod receipts;
pub mod residents;
pub mod staff;
pub mod supervision;
pub mod tips;
pub mod urges;
pub mod wechat;

use crate::ApiError;
use crate::middleware::RequestId;
use sansuo_domain::Actor;
use sansuo_store::consultations::Context;

/// The methods every documented path answers, read from the OpenAPI
/// document generated from the route table (so `Allow` lists the path's
/// real methods, and cannot drift from them).
pub struct KnownPaths(Vec<KnownPath>);

struct KnownPath {
    def: actix_web::dev::ResourceDef,
    /// No `{parameter}`: `/tips/tracked` rather than `/tips/{id}`.
    literal: bool,
    methods: Vec<&'static str>,
}

impl KnownPaths {
    pub fn from_spec(spec: &utoipa::openapi::OpenApi) -> Self {
        let paths = spec
            .paths
            .paths
            .iter()
            .map(|(path, item)| {
                let methods = [
                    ("GET", item.get.is_some()),
                    ("PUT", item.put.is_some()),
                    ("POST", item.post.is_some()),
                    ("DELETE", item.delete.is_some()),
                    ("OPTIONS", item.options.is_some()),
                    ("HEAD", item.head.is_some()),
                    ("PATCH", item.patch.is_some()),
                    ("TRACE", item.trace.is_some()),
                ];
                let methods = methods
                    .into_iter()
                    .filter_map(|(m, present)| present.then_some(m))
                    .collect();
                KnownPath {
                    def: actix_web::dev::ResourceDef::new(path.as_str()),
                    literal: !path.contains('{'),
                    methods,
                }
            })
            .collect();
        KnownPaths(paths)
    }

    /// The methods documented for `path`, in a fixed order. A literal path
    /// is its own resource (`/tips/with-photos` is not the tip `{id}`);
    /// otherwise every template that matches counts.
    pub fn allowed(&self, path: &str) -> Vec<&'static str> {
        let matching: Vec<&KnownPath> = self.0.iter().filter(|k| k.def.is_match(path)).collect();
        let literal = matching.iter().any(|k| k.literal);
        let mut methods: Vec<&'static str> = matching
            .into_iter()
            .filter(|k| k.literal || !literal)
            .flat_map(|k| k.methods.iter().copied())
            .collect();
        methods.sort_unstable();
        methods.dedup();
        methods
    }

    /// `Some(Allow value)` when `req` names a known path with another method.
    pub fn method_not_allowed(req: &actix_web::HttpRequest) -> Option<String> {
        let known = req.app_data::<actix_web::web::Data<KnownPaths>>()?;
        let allowed = known.allowed(req.path());
        (!allowed.is_empty() && !allowed.contains(&req.method().as_str()))
            .then(|| allowed.join(", "))
    }
}

/// 405 for `req`, naming the methods its path takes in `Allow`, in the
/// JSON error shape.
pub(crate) fn method_not_allowed(
    req: &actix_web::HttpRequest,
    allow: &str,
) -> actix_web::HttpResponse {
    use actix_web::ResponseError;
    let mut response = ApiError::new(
        ErrorCode::MethodNotAllowed,
        format!(
            "{} does not take {}; it takes {allow}",
            req.path(),
            req.method()
        ),
    )
    .error_response();
    if let Ok(value) = actix_web::http::header::HeaderValue::from_str(allow) {
        response
            .headers_mut()
            .insert(actix_web::http::header::ALLOW, value);
    }
    response
}

/// What no route answered: 405 with `Allow` for a known path and another
/// method, else 404; both in the same JSON error shape as everything else.
pub async fn not_found(req: actix_web::HttpRequest) -> actix_web::HttpResponse {
    use actix_web::ResponseError;
    match KnownPaths::method_not_allowed(&req) {
        Some(allow) => method_not_allowed(&req, &allow),
        None => ApiError::from(ErrorCode::RouteNotFound).error_response(),
    }
}

/// The history context of a change made by `actor` in this request.
pub fn context<'a>(actor: impl Into<Actor>, request_id: &'a RequestId) -> Context<'a> {
    Context {
        actor: actor.into(),
        request_id: Some(request_id.as_str()),
        now: chrono::Utc::now(),
    }
}

/// The catalogue's one rule, "does this category take this service?"
/// (`catalog::admits`), on a stored category, answered the same way for
/// every service: unknown 404 `category_not_found`, urgent 422
/// `emergency_call_110`, not taking it 422 `category_not_offered`.
pub(crate) fn admit_category(
    category: Option<sansuo_store::records::CategoryRecord>,
    service: sansuo_domain::catalog::Service,
) -> Result<sansuo_store::records::CategoryRecord, ApiError> {
    use crate::error::ErrorCode;
    use sansuo_domain::catalog::{CategoryRefusal, CategoryTerms, admits};
    let terms = category.as_ref().map(|c| CategoryTerms {
        urgent: c.urgent,
        services: &c.services,
    });
    match admits(terms, service) {
        Ok(()) => category.ok_or_else(|| ErrorCode::CategoryNotFound.into()),
        Err(refusal) => Err(match refusal {
            CategoryRefusal::Unknown => ErrorCode::CategoryNotFound.into(),
            CategoryRefusal::Emergency => ErrorCode::EmergencyCall110.into(),
            CategoryRefusal::NotOffered => ApiError::new(
                ErrorCode::CategoryNotOffered,
                format!("this category does not take {service}s; see GET /api/v1/categories"),
            ),
        }),
    }
}

/// The first offer of the case this request is about to store, made in
/// its own transaction (`Routing::first_offer`; issue 16). A snapshot that
/// cannot be read is no failure of the submission: the router routes it.
pub(crate) async fn first_offer(
    state: &crate::AppState,
    community: sansuo_domain::OrgUnitId,
    category: &str,
    service: sansuo_domain::catalog::Service,
) -> Option<sansuo_store::routing::FirstOffer> {
    let now = chrono::Utc::now();
    let routing = state.store.routing();
    match routing.first_offer(community, category, service, now).await {
        Ok(found) => found,
        Err(err) => {
            tracing::debug!(error = %err, "no first offer in the submission; the router routes it");
            None
        }
    }
}

/// A new case was stored by this request and not offered in its own
/// transaction: route it now, in this instance (a replayed submission was
/// routed when it was first stored).
pub(crate) fn route_new_case(
    state: &crate::AppState,
    submission: &sansuo_store::consultations::Submission,
    request_id: Option<&str>,
) {
    if let sansuo_store::consultations::Submission::Created(id) = submission {
        route_case_soon(state, *id, request_id);
    }
}

/// A case this request created (filed in person, converted): route it now,
/// in this instance (see [`crate::RouteSoon`]).
pub(crate) fn route_case_soon(
    state: &crate::AppState,
    id: sansuo_domain::CaseId,
    request_id: Option<&str>,
) {
    state.router.route_soon(id, request_id.map(str::to_owned));
}

/// Read back what a submission has just committed, for its answer. If that
/// read fails (the database restarting right after the commit), the
/// submission is stored all the same: the answer says so (503
/// `submission_stored`, with `message` telling the resident what to do and
/// `location` where the case can be read) instead of a 500 that reads as
/// "lost" and makes people submit twice.
pub(crate) async fn read_back<T>(
    id: sansuo_domain::CaseId,
    location: Option<String>,
    message: &str,
    read: impl std::future::Future<Output = Result<T, ApiError>>,
) -> Result<T, ApiError> {
    read.await.map_err(|err| {
        tracing::warn!(case_id = %id, error = %err, "submission stored, but reading it back failed");
        ApiError::submission_stored(message, location)
    })
}
